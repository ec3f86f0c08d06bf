-- Audit records and events are never deleted or truncated, events never
-- updated, for every role; the triggers fire even in replica mode.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(12);

insert into auth.users (id, email) values ('b0000000-0000-4000-8000-000000000001', 'm@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-000000000001', 'test-org', 'Test');
insert into public.organisation_members values
  ('a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'member');
insert into public.bufdir_export_audit (organisation_id, requested_by, period_start, period_end)
  values ('a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001',
          '2025-01-01', '2025-12-31');

select throws_ok('delete from bufdir_export_audit', 'XB006', null, 'postgres cannot delete an audit record');
select throws_ok('truncate bufdir_export_audit cascade', 'XB006', null, 'postgres cannot truncate audit records');
select throws_ok('delete from bufdir_export_audit_events', 'XB006', null, 'postgres cannot delete an event');
select throws_ok('truncate bufdir_export_audit_events', 'XB006', null, 'postgres cannot truncate events');
select throws_ok($$ update bufdir_export_audit_events set actor = 'someone else' $$,
  'XB006', null, 'postgres cannot rewrite an event');

set local session_replication_role = replica;
select throws_ok('delete from bufdir_export_audit', 'XB006', null,
  'nor with session_replication_role = replica');
set local session_replication_role = origin;

set local role service_role;
select throws_ok('delete from bufdir_export_audit', '42501', null, 'service_role holds no delete privilege');
select throws_ok('truncate bufdir_export_audit_events', '42501', null, 'service_role holds no truncate privilege');
reset role;

-- Even where a project grants everything, the triggers hold.
grant all on bufdir_export_audit, bufdir_export_audit_events to service_role;
create policy test_delete_all on bufdir_export_audit for delete using (true);
set local role service_role;
select throws_ok('delete from bufdir_export_audit', 'XB006', null,
  'service_role with every privilege still cannot delete');
select throws_ok('truncate bufdir_export_audit cascade', 'XB006', null,
  'service_role with every privilege still cannot truncate');
reset role;

select is((select count(*)::int from bufdir_export_audit), 1, 'the audit record is still there');
select is((select count(*)::int from bufdir_export_audit_events), 1, 'its event is still there');

select * from finish();
rollback;
