-- A bad request is refused with its SQLSTATE and constraint, and writes nothing.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(10);

insert into auth.users (id, email) values ('b0000000-0000-4000-8000-000000000001', 'm@test.example');
insert into public.organisations (id, slug, name) values ('a0000000-0000-4000-8000-00000000000a', 'org-a', 'A');
insert into public.organisation_members values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member');
select set_config('request.jwt.claims', '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;

select throws_ok($$ insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-06-01', '2025-05-31') $$,
  '23514', 'new row for relation "bufdir_export_audit" violates check constraint "bufdir_export_audit_period_order_check"',
  'a period that ends before it starts');
select throws_ok($$ insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', '2024-01-01', '2025-01-01') $$,
  '23514', 'new row for relation "bufdir_export_audit" violates check constraint "bufdir_export_audit_period_length_check"',
  'a period longer than 366 days');
select throws_ok($$ insert into bufdir_export_audit (organisation_id, period_start, period_end, format)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31', 'pdf') $$,
  '22P02', null, 'an unknown format');
select throws_ok($$ insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-0000000000ff', '2025-01-01', '2025-12-31') $$,
  '23503', 'organisation a0000000-0000-4000-8000-0000000000ff does not exist', 'an unknown organisation');
select throws_ok($$ insert into bufdir_export_audit (organisation_id, period_start, period_end, status)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31', 'completed') $$,
  'XB004', 'a new export starts as initialised; status is set by the runner, not by the client',
  'a client setting the status');
select throws_ok($$ insert into bufdir_export_audit (organisation_id, period_start, period_end, download_url)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31', 'https://evil.example/') $$,
  'XB004', 'download_url is set by the runner, not by the client', 'a client setting the download URL');
select throws_ok($$ insert into bufdir_export_audit (organisation_id, period_start, period_end, runner_id)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31', 'me') $$,
  'XB004', null, 'a client setting the runner');
reset role;

select set_config('request.jwt.claims', '{"role": "service_role"}', true);
set local role service_role;
select throws_ok($$ insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end, error_code)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31', 'internal') $$,
  'XB004', null, 'service_role cannot set a runner column either');
select throws_ok($$ insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31') $$,
  '23502', null, 'service_role must name the requesting user');
reset role;

select is_empty($$ select 1 from bufdir_export_audit $$, 'no refused request left a row');

select * from finish();
rollback;
