-- Who may ask for an export, and who sees it.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(10);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'member-a@test.example'),
  ('b0000000-0000-4000-8000-000000000002', 'member2-a@test.example'),
  ('b0000000-0000-4000-8000-000000000003', 'admin-a@test.example'),
  ('b0000000-0000-4000-8000-000000000004', 'admin-b@test.example'),
  ('b0000000-0000-4000-8000-000000000005', 'outsider@test.example');
insert into public.organisations (id, slug, name) values
  ('a0000000-0000-4000-8000-00000000000a', 'org-a', 'A'),
  ('a0000000-0000-4000-8000-00000000000b', 'org-b', 'B');
insert into public.organisation_members values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000002', 'member'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000003', 'admin'),
  ('a0000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-000000000004', 'admin');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end) values
  ('e0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a',
   'b0000000-0000-4000-8000-000000000002', '2025-01-01', '2025-12-31'),
  ('e0000000-0000-4000-8000-00000000000b', 'a0000000-0000-4000-8000-00000000000b',
   'b0000000-0000-4000-8000-000000000004', '2025-01-01', '2025-12-31');

-- a plain member of A
select set_config('request.jwt.claims', '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select lives_ok($$
  insert into bufdir_export_audit (id, organisation_id, period_start, period_end)
  values ('e0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31')
$$, 'a member requests an export for their organisation');
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000b', '2025-01-01', '2025-12-31')
$$, '42501', null, 'but not for another organisation');
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000002', '2025-01-01', '2025-12-31')
$$, '42501', 'new row violates row-level security policy for table "bufdir_export_audit"',
  'and never in a colleague''s name');
select results_eq($$ select id from bufdir_export_audit $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid) $$, 'a member sees only their own export');
select results_eq($$ select distinct export_id from bufdir_export_audit_events $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid) $$, 'and only its events');
reset role;

-- the admin of A
select set_config('request.jwt.claims', '{"sub": "b0000000-0000-4000-8000-000000000003", "role": "authenticated"}', true);
set local role authenticated;
select results_eq($$ select id from bufdir_export_audit order by id $$,
  $$ values ('e0000000-0000-4000-8000-000000000001'::uuid), ('e0000000-0000-4000-8000-000000000002'::uuid) $$,
  'an admin sees every export of their organisation, and none of another');
reset role;

-- a signed-in user of no organisation
select set_config('request.jwt.claims', '{"sub": "b0000000-0000-4000-8000-000000000005", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31')
$$, '42501', null, 'a non-member cannot request');
select is_empty($$ select id from bufdir_export_audit $$, 'a non-member sees nothing');
reset role;

-- anon
select set_config('request.jwt.claims', '{"role": "anon"}', true);
set local role anon;
select throws_ok($$ select id from bufdir_export_audit $$, '42501', null, 'anon cannot read exports');
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31')
$$, '42501', null, 'anon cannot request');
reset role;

select * from finish();
rollback;
