-- The requester cancels their own unfinished export through
-- public.cancel_bufdir_export(), and so does an admin of its organisation;
-- nobody else does.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
-- More unfinished exports of one requester than a project allows (3): the
-- limit is raised for this file only (it rolls back with it).
update bufdir_private.export_limits set max_unfinished_per_requester = 100;
select plan(17);

-- Where postgres is no superuser (a hosted project), it may still give itself
-- the runner role for this transaction.
grant bufdir_export_runner to current_user;

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'cancel-member@test.example'),
  ('b0000000-0000-4000-8000-000000000003', 'cancel-admin@test.example'),
  ('b0000000-0000-4000-8000-000000000004', 'cancel-coordinator@test.example'),
  ('b0000000-0000-4000-8000-000000000005', 'cancel-other-admin@test.example');
insert into public.organisations (id, slug, name) values
  ('a0000000-0000-4000-8000-00000000000a', 'test-cancel', 'Cancel'),
  ('a0000000-0000-4000-8000-00000000000b', 'test-cancel-other', 'Cancel other');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000003', 'admin'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000004', 'coordinator'),
  ('a0000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-000000000005', 'admin');

-- 01 initialised, 02 held by runner r, 03 completed, 04 failed, 05 initialised:
-- all the member's
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
select ('e0000000-0000-4000-8000-00000000000' || n)::uuid, 'a0000000-0000-4000-8000-00000000000a',
       'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31'
from generate_series(1, 5) n;
update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
  lease_expires_at = now() + interval '5 minutes'
where id in ('e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000003');
update bufdir_export_audit set status = 'mapping_columns'
where id in ('e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000003');
update bufdir_export_audit set status = 'generating_file'
where id = 'e0000000-0000-4000-8000-000000000003';
update bufdir_export_audit set status = 'storing_file'
where id = 'e0000000-0000-4000-8000-000000000003';
update bufdir_export_audit set status = 'completed', row_count = 1, file_size_bytes = 10,
  file_path = 'p', file_sha256 = repeat('ab', 32), download_url = 'u', download_url_expires_at = now() + interval '1 day'
where id = 'e0000000-0000-4000-8000-000000000003';
update bufdir_export_audit set status = 'failed', error_code = 'internal'
where id = 'e0000000-0000-4000-8000-000000000004';

-- nobody but the requester and the organisation's admins -------------------------

set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000004", "role": "authenticated"}', true);
select throws_ok($$ select cancel_bufdir_export('e0000000-0000-4000-8000-000000000005') $$,
  'XB007', 'export e0000000-0000-4000-8000-000000000005 not found among the exports you may cancel',
  'a coordinator does not cancel another user''s export');
select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000005", "role": "authenticated"}', true);
select throws_ok($$ select cancel_bufdir_export('e0000000-0000-4000-8000-000000000005') $$,
  'XB007', null, 'nor does the admin of another organisation');
select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000003", "role": "authenticated"}', true);
select is((select status::text from cancel_bufdir_export('e0000000-0000-4000-8000-000000000005')),
  'cancelled', 'the organisation''s admin cancels any of its unfinished exports');
reset role;
select is(
  (select actor from bufdir_export_audit_events
   where export_id = 'e0000000-0000-4000-8000-000000000005' and to_status = 'cancelled'),
  'user:b0000000-0000-4000-8000-000000000003', 'and the event names the admin');

select set_config('request.jwt.claims', '{"role": "anon"}', true);
set local role anon;
select throws_ok($$ select cancel_bufdir_export('e0000000-0000-4000-8000-000000000001') $$,
  '42501', null, 'anon cannot call cancel_bufdir_export');
reset role;

-- the requester -----------------------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$ update bufdir_export_audit set status = 'cancelled'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  '42501', null, 'a user never updates the table directly');
select throws_ok($$ delete from bufdir_export_audit where id = 'e0000000-0000-4000-8000-000000000001' $$,
  '42501', null, 'nor deletes from it');
select is((select status::text from cancel_bufdir_export('e0000000-0000-4000-8000-000000000001')),
  'cancelled', 'the requester cancels a waiting export');
select is((select status::text from cancel_bufdir_export('e0000000-0000-4000-8000-000000000002')),
  'cancelled', 'and one a runner is working on');
select throws_ok($$ select cancel_bufdir_export('e0000000-0000-4000-8000-000000000001') $$,
  'XB003', 'export e0000000-0000-4000-8000-000000000001 is already cancelled: only an unfinished export can be cancelled',
  'but not one already cancelled');
select throws_ok($$ select cancel_bufdir_export('e0000000-0000-4000-8000-000000000003') $$,
  'XB003', null, 'nor a completed one');
select throws_ok($$ select cancel_bufdir_export('e0000000-0000-4000-8000-000000000004') $$,
  'XB003', null, 'nor a failed one');
select throws_ok($$ select cancel_bufdir_export('e0000000-0000-4000-8000-0000000000ff') $$,
  'XB007', null, 'an unknown export is not found');
select results_eq(
  $$ select export_id, from_status::text, actor from bufdir_export_audit_events
     where to_status = 'cancelled' and export_id <> 'e0000000-0000-4000-8000-000000000005'
     order by export_id $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid, 'initialised'::text,
             'user:b0000000-0000-4000-8000-000000000001'::text),
            ('e0000000-0000-4000-8000-000000000002'::uuid, 'mapping_columns',
             'user:b0000000-0000-4000-8000-000000000001') $$,
  'each cancellation is one event, by the requester'
);
reset role;
select set_config('request.jwt.claims', '', true);

-- as the database sees it -------------------------------------------------------

select results_eq(
  $$ select id, status::text, completed_at is not null from bufdir_export_audit
     where organisation_id = 'a0000000-0000-4000-8000-00000000000a' order by id $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid, 'cancelled'::text, true),
            ('e0000000-0000-4000-8000-000000000002'::uuid, 'cancelled', true),
            ('e0000000-0000-4000-8000-000000000003'::uuid, 'completed', true),
            ('e0000000-0000-4000-8000-000000000004'::uuid, 'failed', true),
            ('e0000000-0000-4000-8000-000000000005'::uuid, 'cancelled', true) $$,
  'three cancelled, the finished ones untouched'
);
select is(
  (select count(*)::int from bufdir_export_audit_events
   where export_id = 'e0000000-0000-4000-8000-000000000001'),
  2, 'the refused second cancel wrote no event');

-- the runner that held export 02 has lost it
select throws_ok($$
  set local role bufdir_export_runner;
  select bufdir_private.advance_bufdir_export(
    'e0000000-0000-4000-8000-000000000002', 'r', 1, 'mapping_columns', 'generating_file', 60) $$,
  'XB008', null, 'the runner that held a cancelled export can no longer move it');

select * from finish();
rollback;
