-- Who may ask for an export, and who sees it and its events.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(22);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'rls-member-a@test.example'),
  ('b0000000-0000-4000-8000-000000000002', 'rls-member2-a@test.example'),
  ('b0000000-0000-4000-8000-000000000003', 'rls-admin-a@test.example'),
  ('b0000000-0000-4000-8000-000000000004', 'rls-admin-b@test.example'),
  ('b0000000-0000-4000-8000-000000000005', 'rls-outsider@test.example'),
  ('b0000000-0000-4000-8000-000000000006', 'rls-coordinator-a@test.example');
insert into public.organisations (id, slug, name) values
  ('a0000000-0000-4000-8000-00000000000a', 'test-rls-a', 'RLS A'),
  ('a0000000-0000-4000-8000-00000000000b', 'test-rls-b', 'RLS B');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000002', 'member'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000003', 'admin'),
  ('a0000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-000000000004', 'admin'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000006', 'coordinator');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end) values
  ('e0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a',
   'b0000000-0000-4000-8000-000000000002', '2025-01-01', '2025-12-31'),
  ('e0000000-0000-4000-8000-00000000000b', 'a0000000-0000-4000-8000-00000000000b',
   'b0000000-0000-4000-8000-000000000004', '2025-01-01', '2025-12-31');
update bufdir_export_audit set status = 'failed', error_code = 'internal'
where id = 'e0000000-0000-4000-8000-00000000000b';

-- a plain member of A -----------------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select lives_ok($$
  insert into bufdir_export_audit (id, organisation_id, period_start, period_end)
  values ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
          '2025-01-01', '2025-12-31') $$,
  'a member requests an export for their organisation');
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000b', '2025-01-01', '2025-12-31') $$,
  '42501', null, 'but not for another organisation');
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000002',
          '2025-01-01', '2025-12-31') $$,
  '42501', 'new row violates row-level security policy for table "bufdir_export_audit"',
  'and never in a colleague''s name');
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000005',
          '2025-01-01', '2025-12-31') $$,
  '42501', 'new row violates row-level security policy for table "bufdir_export_audit"',
  'forging a non-member gives the same error: no membership oracle');
select results_eq($$ select id, requested_by from bufdir_export_audit $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid, 'b0000000-0000-4000-8000-000000000001'::uuid) $$,
  'a member sees only their own export, requested in their name');
select results_eq($$ select export_id, to_status::text from bufdir_export_audit_events $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid, 'initialised'::text) $$,
  'and only its events');
reset role;

-- a coordinator of A, not an admin -------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000006", "role": "authenticated"}', true);
set local role authenticated;
select is_empty($$ select id from bufdir_export_audit $$,
  'a coordinator sees no one else''s exports');
select is_empty($$ select id from bufdir_export_audit_events $$, 'nor their events');
reset role;

-- the admin of A -------------------------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000003", "role": "authenticated"}', true);
set local role authenticated;
select results_eq($$ select id from bufdir_export_audit order by id $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid), ('e0000000-0000-4000-8000-000000000002'::uuid) $$,
  'an admin sees every export of their organisation, whoever asked');
select is_empty(
  $$ select id from bufdir_export_audit where organisation_id <> 'a0000000-0000-4000-8000-00000000000a' $$,
  'and none of another organisation');
select results_eq($$ select distinct export_id from bufdir_export_audit_events order by export_id $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid), ('e0000000-0000-4000-8000-000000000002'::uuid) $$,
  'the admin sees the events of exactly those exports');
reset role;

-- the admin of B -------------------------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000004", "role": "authenticated"}', true);
set local role authenticated;
select results_eq($$ select id from bufdir_export_audit $$,
  $$ values ('e0000000-0000-4000-8000-00000000000b'::uuid) $$,
  'the admin of B sees B''s export only');
select results_eq(
  $$ select export_id, from_status::text, to_status::text from bufdir_export_audit_events order by id $$,
  $$ values ('e0000000-0000-4000-8000-00000000000b'::uuid, null::text, 'initialised'::text),
            ('e0000000-0000-4000-8000-00000000000b'::uuid, 'initialised', 'failed') $$,
  'and its events only');
reset role;

-- a signed-in user of no organisation ----------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000005", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31') $$,
  '42501', null, 'a non-member cannot request');
select is_empty($$ select id from bufdir_export_audit $$, 'a non-member sees no export');
select is_empty($$ select id from bufdir_export_audit_events $$, 'and no event');
reset role;

-- anon -----------------------------------------------------------------------------

select set_config('request.jwt.claims', '{"role": "anon"}', true);
set local role anon;
-- anon may select the ids (Realtime checks each change by its id as the
-- subscriber's role), and no policy shows it a row.
select is_empty($$ select id from bufdir_export_audit $$, 'anon sees no export');
select is_empty($$ select id from bufdir_export_audit_events $$, 'and no event');
select throws_ok($$ select status from bufdir_export_audit $$, '42501', null,
  'anon cannot read any other column of an export');
select throws_ok($$ select export_id from bufdir_export_audit_events $$, '42501', null,
  'nor of an event');
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001',
          '2025-01-01', '2025-12-31') $$,
  '42501', null, 'anon cannot request');
reset role;
select set_config('request.jwt.claims', '', true);

select is(
  (select count(*)::int from bufdir_export_audit
   where organisation_id in ('a0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000b')),
  3, 'only the member''s own request was written');

select * from finish();
rollback;
