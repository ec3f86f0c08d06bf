-- Audit records and events are never deleted or truncated, and events never
-- updated, whoever asks; the triggers fire in replica mode too.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(27);

-- Where postgres is no superuser (a hosted project), it may still give itself
-- the runner role for this transaction.
grant bufdir_export_runner to current_user;

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'append-only-member@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-00000000000a', 'test-append-only', 'Append only');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
values ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
        'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31'),
       ('e0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a',
        'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31');
update bufdir_export_audit set status = 'failed', error_code = 'internal'
where id = 'e0000000-0000-4000-8000-000000000002';

-- postgres -------------------------------------------------------------------

select throws_ok($$ delete from bufdir_export_audit where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB006', 'public.bufdir_export_audit is an audit log: DELETE is not allowed',
  'postgres cannot delete an audit record');
select throws_ok($$ delete from bufdir_export_audit where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'XB006', null, 'nor a finished one');
select throws_ok('truncate bufdir_export_audit cascade',
  'XB006', 'public.bufdir_export_audit is an audit log: TRUNCATE is not allowed',
  'postgres cannot truncate audit records');
select throws_ok($$ delete from bufdir_export_audit_events
                    where export_id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB006', 'public.bufdir_export_audit_events is an audit log: DELETE is not allowed',
  'postgres cannot delete an event');
select throws_ok('truncate bufdir_export_audit_events',
  'XB006', 'public.bufdir_export_audit_events is an audit log: TRUNCATE is not allowed',
  'postgres cannot truncate events');
select throws_ok($$ update bufdir_export_audit_events set actor = 'someone else'
                    where export_id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB006', 'public.bufdir_export_audit_events is an audit log: UPDATE is not allowed',
  'postgres cannot rewrite an event');
select throws_ok($$ insert into bufdir_export_audit_events
                      (export_id, organisation_id, to_status, actor, hash)
                    select export_id, organisation_id, 'cancelled', 'user:forger', repeat('0', 64)
                    from bufdir_export_audit_events limit 1 $$,
  'XB006', 'public.bufdir_export_audit_events is written by the audit trigger only: INSERT is not allowed',
  'postgres cannot write an event of its own');
select throws_ok($$ update bufdir_private.audit_chain_heads set hash = repeat('0', 64) $$,
  'XB006', 'bufdir_private.audit_chain_heads is written by the audit trigger only: UPDATE is not allowed',
  'postgres cannot move a chain head');
select throws_ok('delete from bufdir_private.audit_chain_heads',
  'XB006', 'bufdir_private.audit_chain_heads is an audit log: DELETE is not allowed',
  'postgres cannot delete a chain head');

-- replica mode, where ordinary triggers stay silent (set where this role may)
select set_config('session_replication_role', 'replica', true)
where has_parameter_privilege('session_replication_role', 'set');
select throws_ok($$ delete from bufdir_export_audit where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB006', null,
  'delete of an audit record refused with session_replication_role = '
    || current_setting('session_replication_role'));
select throws_ok($$ delete from bufdir_export_audit_events
                    where export_id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB006', null,
  'delete of an event refused with session_replication_role = '
    || current_setting('session_replication_role'));
select throws_ok($$ update bufdir_export_audit_events set detail = '{}'
                    where export_id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB006', null,
  'update of an event refused with session_replication_role = '
    || current_setting('session_replication_role'));
select set_config('session_replication_role', 'origin', true)
where has_parameter_privilege('session_replication_role', 'set');

-- service_role holds no privilege to delete or truncate ------------------------

set local role service_role;
select throws_ok('delete from bufdir_export_audit', '42501', null,
  'service_role holds no delete privilege on audit records');
select throws_ok('truncate bufdir_export_audit cascade', '42501', null,
  'service_role holds no truncate privilege on audit records');
select throws_ok('delete from bufdir_export_audit_events', '42501', null,
  'service_role holds no delete privilege on events');
select throws_ok($$ update bufdir_export_audit_events set actor = 'x' $$, '42501', null,
  'service_role holds no update privilege on events');
reset role;

-- the runner and a signed-in user hold none either ------------------------------

select throws_ok($$ set local role bufdir_export_runner; delete from bufdir_export_audit $$,
  '42501', null, 'the runner cannot delete an audit record');
select throws_ok($$ set local role bufdir_export_runner; truncate bufdir_export_audit_events $$,
  '42501', null, 'the runner cannot truncate events');
select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok('delete from bufdir_export_audit', '42501', null,
  'a signed-in user cannot delete their export');
select throws_ok('delete from bufdir_export_audit_events', '42501', null,
  'nor its events');
select throws_ok($$ insert into bufdir_export_audit_events (export_id, to_status, actor)
                    values ('e0000000-0000-4000-8000-000000000001', 'completed', 'forged') $$,
  '42501', null, 'nor write an event of their own');
reset role;
select set_config('request.jwt.claims', '', true);

-- a project that grants everything still cannot ---------------------------------

grant all on bufdir_export_audit, bufdir_export_audit_events, bufdir_export_file_deletions,
  bufdir_export_config_versions to service_role;
create policy test_delete_all on bufdir_export_audit for delete using (true);
set local role service_role;
select throws_ok('delete from bufdir_export_audit', 'XB006', null,
  'service_role with every privilege still cannot delete an audit record');
select throws_ok('truncate bufdir_export_audit cascade', 'XB006', null,
  'nor truncate audit records');
select throws_ok('delete from bufdir_export_audit_events', 'XB006', null,
  'nor delete an event');
select throws_ok($$ update bufdir_export_audit_events set actor = 'x' $$, 'XB006', null,
  'nor rewrite an event');
reset role;

-- everything is still there ------------------------------------------------------

select is(
  (select count(*)::int from bufdir_export_audit
   where organisation_id = 'a0000000-0000-4000-8000-00000000000a'),
  2, 'both audit records are still there');
select results_eq(
  $$ select export_id, from_status::text, to_status::text, actor = 'role:' || session_user
     from bufdir_export_audit_events
     where export_id in ('e0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000002')
     order by id $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid, null::text, 'initialised'::text, true),
            ('e0000000-0000-4000-8000-000000000002'::uuid, null, 'initialised', true),
            ('e0000000-0000-4000-8000-000000000002'::uuid, 'initialised', 'failed', true) $$,
  'and their events, unchanged');

select * from finish();
rollback;
