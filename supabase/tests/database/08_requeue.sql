-- An in-progress export goes back to initialised only once its lease has
-- expired (XB005); the reaper re-queues such exports, or fails them as
-- runner_lost once their attempts are used up, and leaves live ones alone.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
-- More unfinished exports of one requester than a project allows (3): the
-- limit is raised for this file only (it rolls back with it).
update bufdir_private.export_limits set max_unfinished_per_requester = 100;
select plan(14);

-- Where postgres is no superuser (a hosted project), it may still give itself
-- the runner role for this transaction.
grant bufdir_export_runner to current_user;

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'requeue-member@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-00000000000a', 'test-requeue', 'Requeue');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
select ('e0000000-0000-4000-8000-00000000000' || n)::uuid, 'a0000000-0000-4000-8000-00000000000a',
       'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31'
from generate_series(1, 5) n;
update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
  lease_expires_at = now() + interval '5 minutes'
where organisation_id = 'a0000000-0000-4000-8000-00000000000a';
update bufdir_export_audit set status = 'mapping_columns'
where organisation_id = 'a0000000-0000-4000-8000-00000000000a';

-- by hand ------------------------------------------------------------------------

select throws_ok($$ update bufdir_export_audit set status = 'initialised', runner_id = null,
                      lease_expires_at = null where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB005', null, 'no re-queue while the lease runs');
set local role service_role;
select throws_ok($$ update bufdir_export_audit set status = 'initialised'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB005', null, 'not by service_role either');
reset role;
select throws_ok($$ update bufdir_export_audit set status = 'initialised',
                      lease_expires_at = now() - interval '1 second'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB005', null, 'nor by expiring the lease in the same update');

update bufdir_export_audit set lease_expires_at = now() - interval '1 second'
where id = 'e0000000-0000-4000-8000-000000000001';
select lives_ok($$ update bufdir_export_audit set status = 'initialised', runner_id = null,
                     lease_expires_at = null where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'a re-queue once the lease has expired');
select results_eq(
  $$ select from_status::text, to_status::text from bufdir_export_audit_events
     where export_id = 'e0000000-0000-4000-8000-000000000001' order by id desc limit 1 $$,
  $$ values ('mapping_columns'::text, 'initialised'::text) $$,
  'the re-queue is an event like any other change');
select lives_ok($$ update bufdir_export_audit set status = 'querying_activities', runner_id = 'r2',
                     attempts = attempts + 1, lease_expires_at = now() + interval '5 minutes'
                   where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'and the export can be claimed again');

-- the reaper -----------------------------------------------------------------------

-- 02: expired, attempts left; 03: expired, out of attempts; 04: alive;
-- 05: expired while storing its file, attempts left
update bufdir_export_audit set status = 'generating_file'
where id = 'e0000000-0000-4000-8000-000000000005';
update bufdir_export_audit set status = 'storing_file', attempts = 2, rows_done = 5, rows_total = 9
where id = 'e0000000-0000-4000-8000-000000000005';
update bufdir_export_audit set lease_expires_at = now() - interval '1 second'
where id in ('e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000003',
             'e0000000-0000-4000-8000-000000000005');
update bufdir_export_audit set attempts = 3 where id = 'e0000000-0000-4000-8000-000000000003';

-- The reaper runs as the runner role; what it returns is kept for the tests.
create temp table reaped (export_id uuid, from_status text, to_status text) on commit drop;
grant insert, select on reaped to public;
set local role bufdir_export_runner;
insert into reaped select export_id, from_status, to_status from bufdir_private.reap_bufdir_exports(3);
reset role;

select results_eq(
  $$ select export_id, from_status, to_status from reaped
     where export_id in ('e0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000002',
                         'e0000000-0000-4000-8000-000000000003', 'e0000000-0000-4000-8000-000000000004',
                         'e0000000-0000-4000-8000-000000000005')
     order by export_id $$,
  $$ values ('e0000000-0000-4000-8000-000000000002'::uuid, 'mapping_columns'::text, 'initialised'::text),
            ('e0000000-0000-4000-8000-000000000003'::uuid, 'mapping_columns', 'failed'),
            ('e0000000-0000-4000-8000-000000000005'::uuid, 'storing_file', 'initialised') $$,
  'the reaper re-queues the expired exports with attempts left and gives up on the other'
);
select results_eq(
  $$ select status::text, error_code, error_message, runner_id from bufdir_export_audit
     where id = 'e0000000-0000-4000-8000-000000000003' $$,
  $$ values ('failed'::text, 'runner_lost'::text,
             'the runner stopped renewing its lease 3 times'::text, 'r'::text) $$,
  'out of attempts: failed as runner_lost, the last runner kept'
);
select results_eq(
  $$ select id, status::text, runner_id, lease_expires_at, rows_done, rows_total, error_code, attempts
     from bufdir_export_audit
     where id in ('e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000005')
     order by id $$,
  $$ values ('e0000000-0000-4000-8000-000000000002'::uuid, 'initialised'::text, null::text,
             null::timestamptz, null::bigint, null::bigint, null::text, 1),
            ('e0000000-0000-4000-8000-000000000005'::uuid, 'initialised', null, null, null, null, null, 2) $$,
  'attempts left: waiting again, with no runner, lease or progress, attempts kept'
);
select results_eq(
  $$ select status::text, runner_id, lease_expires_at > now() from bufdir_export_audit
     where id = 'e0000000-0000-4000-8000-000000000004' $$,
  $$ values ('mapping_columns'::text, 'r'::text, true) $$,
  'an export with a live lease is left alone');
select results_eq(
  $$ select export_id, to_status::text, actor from bufdir_export_audit_events
     where export_id in ('e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000003')
       and from_status = 'mapping_columns'
     order by export_id $$,
  $$ values ('e0000000-0000-4000-8000-000000000002'::uuid, 'initialised'::text, 'role:bufdir_export_runner'::text),
            ('e0000000-0000-4000-8000-000000000003'::uuid, 'failed', 'role:bufdir_export_runner') $$,
  'each reaped export has its event'
);
select is_empty(
  $$ select 1 from bufdir_private.reap_bufdir_exports(3) r
     where r.export_id::text like 'e0000000-0000-4000-8000-00000000000_' $$,
  'a second pass finds nothing more to do');
select throws_ok($$ select * from bufdir_private.reap_bufdir_exports(0) $$,
  '22023', 'max attempts must be at least 1, not 0', 'max attempts below one is refused');

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$ select * from bufdir_private.reap_bufdir_exports(3) $$,
  '42501', null, 'a signed-in user cannot run the reaper');
reset role;
select set_config('request.jwt.claims', '', true);

select * from finish();
rollback;
