-- One event per status change, written by the trigger, naming its actor.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(6);

insert into auth.users (id, email) values ('b0000000-0000-4000-8000-000000000001', 'm@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-000000000001', 'test-org', 'Test');
insert into public.organisation_members values
  ('a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'member');

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
insert into public.bufdir_export_audit (id, organisation_id, period_start, period_end)
  values ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001',
          '2025-01-01', '2025-12-31');
reset role;
select set_config('request.jwt.claims', '', true);

select results_eq(
  $$ select from_status::text, to_status::text, actor from bufdir_export_audit_events $$,
  $$ values (null::text, 'initialised'::text, 'user:b0000000-0000-4000-8000-000000000001'::text) $$,
  'the insert is the first event, by the signed-in user'
);

select set_config('bufdir_export.runner_id', 'runner-1', true);
set local role bufdir_export_runner;
update bufdir_export_audit set status = 'querying_activities', runner_id = 'runner-1', attempts = 1,
  lease_expires_at = now() + interval '5 minutes';
update bufdir_export_audit set rows_total = 10, rows_done = 3;
reset role;
select set_config('bufdir_export.runner_id', '', true);

select is((select count(*)::int from bufdir_export_audit_events), 2,
  'a progress update without a status change writes no event');
select results_eq(
  $$ select actor, detail->>'db_role' from bufdir_export_audit_events where to_status = 'querying_activities' $$,
  $$ values ('runner:runner-1'::text, 'bufdir_export_runner'::text) $$,
  'the claim is by the runner, through the runner role'
);

set local role service_role;
update bufdir_export_audit set status = 'failed', error_code = 'internal';
reset role;
select results_eq(
  $$ select from_status::text, to_status::text, actor, detail->>'error_code'
     from bufdir_export_audit_events where to_status = 'failed' $$,
  $$ values ('querying_activities'::text, 'failed'::text, 'role:service_role'::text, 'internal'::text) $$,
  'a service_role change names the role and carries the error code'
);
select is((select count(*)::int from bufdir_export_audit_events), 3, 'three changes, three events');
select is_empty(
  $$ select 1 from information_schema.role_table_grants
     where table_schema = 'public' and table_name = 'bufdir_export_audit_events'
       and privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
       and grantee in ('anon', 'authenticated', 'service_role', 'bufdir_export_runner') $$,
  'no client role may write events: only the trigger does'
);

select * from finish();
rollback;
