-- One event per status change, written by the trigger, naming its actor:
-- user:<auth.uid()>, else runner:<bufdir_export.runner_id>, else role:<role>.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(14);

-- Where postgres is no superuser (a hosted project), it may still give itself
-- the runner role for this transaction.
grant bufdir_export_runner to current_user;

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'events-member@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-00000000000a', 'test-events', 'Events');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member');

-- export 01: asked for by a signed-in user -----------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
insert into public.bufdir_export_audit (id, organisation_id, period_start, period_end)
  values ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
          '2025-01-01', '2025-12-31');
reset role;
select set_config('request.jwt.claims', '', true);

select results_eq(
  $$ select from_status::text, to_status::text, actor, detail->>'db_role'
     from bufdir_export_audit_events where export_id = 'e0000000-0000-4000-8000-000000000001' $$,
  $$ values (null::text, 'initialised'::text, 'user:b0000000-0000-4000-8000-000000000001'::text,
             'authenticated'::text) $$,
  'the insert is exactly one event: from nothing to initialised, by the signed-in user'
);

-- a runner claims it and records progress, through the runner role
select set_config('bufdir_export.runner_id', 'r-1', true);
set local role bufdir_export_runner;
update bufdir_export_audit set status = 'querying_activities', runner_id = 'r-1', attempts = 1,
  lease_expires_at = now() + interval '5 minutes'
where id = 'e0000000-0000-4000-8000-000000000001';
update bufdir_export_audit set rows_total = 10, rows_done = 3,
  lease_expires_at = now() + interval '10 minutes'
where id = 'e0000000-0000-4000-8000-000000000001';
reset role;

select is(
  (select count(*)::int from bufdir_export_audit_events
   where export_id = 'e0000000-0000-4000-8000-000000000001'),
  2, 'the claim wrote one event; progress and a lease renewal wrote none');
select is(
  (select detail from bufdir_export_audit_events
   where export_id = 'e0000000-0000-4000-8000-000000000001' and to_status = 'querying_activities'),
  '{"db_role": "bufdir_export_runner", "runner_id": "r-1", "attempts": 1}'::jsonb,
  'the claim''s detail names the database role, the runner and the attempt');

set local role bufdir_export_runner;
update bufdir_export_audit set status = 'mapping_columns'
where id = 'e0000000-0000-4000-8000-000000000001';
update bufdir_export_audit set status = 'generating_file'
where id = 'e0000000-0000-4000-8000-000000000001';
update bufdir_export_audit set rows_done = 10 where id = 'e0000000-0000-4000-8000-000000000001';
update bufdir_export_audit set status = 'storing_file'
where id = 'e0000000-0000-4000-8000-000000000001';
update bufdir_export_audit set status = 'completed', row_count = 10, file_size_bytes = 2048,
  file_path = 'a0000000-0000-4000-8000-00000000000a/e0000000-0000-4000-8000-000000000001/r.xlsx',
  file_sha256 = repeat('ab', 32), download_url = 'https://files.test.example/r.xlsx',
  download_url_expires_at = now() + interval '1 day'
where id = 'e0000000-0000-4000-8000-000000000001';
reset role;
select set_config('bufdir_export.runner_id', '', true);

select results_eq(
  $$ select from_status::text, to_status::text, actor, detail->>'db_role'
     from bufdir_export_audit_events where export_id = 'e0000000-0000-4000-8000-000000000001'
     order by id $$,
  $$ values
     (null::text, 'initialised'::text, 'user:b0000000-0000-4000-8000-000000000001'::text, 'authenticated'::text),
     ('initialised', 'querying_activities', 'runner:r-1', 'bufdir_export_runner'),
     ('querying_activities', 'mapping_columns', 'runner:r-1', 'bufdir_export_runner'),
     ('mapping_columns', 'generating_file', 'runner:r-1', 'bufdir_export_runner'),
     ('generating_file', 'storing_file', 'runner:r-1', 'bufdir_export_runner'),
     ('storing_file', 'completed', 'runner:r-1', 'bufdir_export_runner') $$,
  'each status change is exactly one event, with its from and to, by the runner'
);
select is(
  (select count(*)::int from bufdir_export_audit_events e
   join bufdir_export_audit_events n on n.export_id = e.export_id and n.id > e.id
   where e.export_id = 'e0000000-0000-4000-8000-000000000001' and n.occurred_at < e.occurred_at),
  0, 'events are in the order they occurred');

-- export 02: service_role without claims ---------------------------------------

set local role service_role;
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
  values ('e0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a',
          'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-06-30');
update bufdir_export_audit set status = 'failed', error_code = 'internal', error_message = 'x'
where id = 'e0000000-0000-4000-8000-000000000002';
reset role;

select results_eq(
  $$ select from_status::text, to_status::text, actor, detail
     from bufdir_export_audit_events where export_id = 'e0000000-0000-4000-8000-000000000002'
     order by id $$,
  $$ values
     (null::text, 'initialised'::text, 'role:service_role'::text,
      '{"db_role": "service_role", "attempts": 0, "row": {"format": "xlsx",
        "period_end": "2025-06-30", "period_start": "2025-01-01",
        "requested_by": "b0000000-0000-4000-8000-000000000001",
        "organisation_id": "a0000000-0000-4000-8000-00000000000a",
        "include_attachments": false}}'::jsonb),
     ('initialised', 'failed', 'role:service_role',
      '{"db_role": "service_role", "attempts": 0, "error_code": "internal",
        "row": {"error_code": "internal", "error_message": "x"}}') $$,
  'service_role without claims is role:service_role; the request and a failure are pinned'
);

-- export 03: postgres, and the runner's functions ------------------------------

insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
  values ('e0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-00000000000a',
          'b0000000-0000-4000-8000-000000000001', '2024-01-01', '2024-12-31');
select is(
  (select actor = 'role:' || session_user from bufdir_export_audit_events
   where export_id = 'e0000000-0000-4000-8000-000000000003'),
  true, 'without claims or a runner id, the actor is the database role');

select set_config('bufdir_export.runner_id', 'r-2', true);
update bufdir_export_audit set status = 'querying_activities', runner_id = 'r-2', attempts = 1,
  lease_expires_at = now() + interval '5 minutes'
where id = 'e0000000-0000-4000-8000-000000000003';
select set_config('bufdir_export.runner_id', '', true);
select is(
  (select actor = 'runner:r-2' and detail->>'db_role' = session_user from bufdir_export_audit_events
   where export_id = 'e0000000-0000-4000-8000-000000000003' and to_status = 'querying_activities'),
  true, 'a runner announced for the transaction is the actor, whatever the database role');

select throws_ok($$
  set local role bufdir_export_runner;
  select bufdir_private.advance_bufdir_export(
    'e0000000-0000-4000-8000-000000000003', 'r-3', 1, 'querying_activities', 'mapping_columns', 60) $$,
  'XB008', null, 'a runner that does not hold the export cannot move it');
select lives_ok($$
  set local role bufdir_export_runner;
  select bufdir_private.advance_bufdir_export(
    'e0000000-0000-4000-8000-000000000003', 'r-2', 1, 'querying_activities', 'mapping_columns', 60);
  reset role $$,
  'the holder moves it through bufdir_private.advance_bufdir_export');
select results_eq(
  $$ select from_status::text, to_status::text, actor, detail->>'db_role'
     from bufdir_export_audit_events
     where export_id = 'e0000000-0000-4000-8000-000000000003' and to_status = 'mapping_columns' $$,
  $$ values ('querying_activities'::text, 'mapping_columns'::text, 'runner:r-2'::text,
             'bufdir_export_runner'::text) $$,
  'the runner''s functions announce the runner for the event'
);

-- a signed-in user comes first, even where a runner id is set
select set_config('bufdir_export.runner_id', 'r-9', true);
select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select cancel_bufdir_export('e0000000-0000-4000-8000-000000000003') is not null as cancelled;
reset role;
select set_config('request.jwt.claims', '', true);
select set_config('bufdir_export.runner_id', '', true);
select results_eq(
  $$ select from_status::text, actor, detail->>'db_role' from bufdir_export_audit_events
     where export_id = 'e0000000-0000-4000-8000-000000000003' and to_status = 'cancelled' $$,
  $$ values ('mapping_columns'::text, 'user:b0000000-0000-4000-8000-000000000001'::text,
             'authenticated'::text) $$,
  'the signed-in user is the actor of their cancellation'
);

select is(
  (select count(*)::int from bufdir_export_audit_events
   where export_id in ('e0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000002',
                       'e0000000-0000-4000-8000-000000000003')),
  6 + 2 + 4, 'three inserts and nine status changes, twelve events');
select is_empty(
  $$ select 1 from information_schema.role_table_grants
     where table_schema = 'public' and table_name = 'bufdir_export_audit_events'
       and privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
       and grantee in ('anon', 'authenticated', 'service_role', 'bufdir_export_runner') $$,
  'no client role may write events: only the trigger does'
);

select * from finish();
rollback;
