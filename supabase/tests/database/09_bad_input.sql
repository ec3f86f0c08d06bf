-- A bad request is refused with its SQLSTATE (and constraint or message), and
-- writes nothing: after each refusal the number of exports is unchanged.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(30);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'bad-input-member@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-00000000000a', 'test-bad-input', 'Bad input');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member');

create temp table baseline on commit drop as
  select count(*)::int as n from bufdir_export_audit;
grant select on baseline to public;

-- as a signed-in member ----------------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-06-01', '2025-05-31') $$,
  '23514', 'new row for relation "bufdir_export_audit" violates check constraint "bufdir_export_audit_period_order_check"',
  'a period that ends before it starts (bufdir_export_audit_period_order_check)');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'a period that ends before it starts (bufdir_export_audit_period_order_check): no row written');

set local role authenticated;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', '2024-01-01', '2025-01-01') $$,
  '23514', 'new row for relation "bufdir_export_audit" violates check constraint "bufdir_export_audit_period_length_check"',
  'a period of more than 366 days (bufdir_export_audit_period_length_check)');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'a period of more than 366 days (bufdir_export_audit_period_length_check): no row written');

set local role authenticated;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-0000000000ff', '2025-01-01', '2025-12-31') $$,
  '23503', 'organisation a0000000-0000-4000-8000-0000000000ff does not exist',
  'an unknown organisation');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'an unknown organisation: no row written');

set local role authenticated;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end, format)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31', 'pdf') $$,
  '22P02', null,
  'an unknown format');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'an unknown format: no row written');

set local role authenticated;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end, status)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31', 'completed') $$,
  'XB004', 'a new export starts as initialised; status is set by the runner, not by the client',
  'a client setting the status');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'a client setting the status: no row written');

set local role authenticated;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end, download_url)
  values ('a0000000-0000-4000-8000-00000000000a',
          '2025-01-01', '2025-12-31', 'https://evil.test.example/') $$,
  'XB004', 'download_url is set by the runner, not by the client',
  'a client setting the download URL');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'a client setting the download URL: no row written');

set local role authenticated;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end, runner_id)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31', 'me') $$,
  'XB004', 'runner_id is set by the runner, not by the client',
  'a client setting the runner');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'a client setting the runner: no row written');

-- as service_role, without claims ----------------------------------------------

select set_config('request.jwt.claims', '', true);

set local role service_role;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end, status)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001',
          '2025-01-01', '2025-12-31', 'querying_activities') $$,
  'XB004', null,
  'service_role setting the status');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'service_role setting the status: no row written');

set local role service_role;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end, download_url)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001',
          '2025-01-01', '2025-12-31', 'https://files.test.example/x') $$,
  'XB004', null,
  'service_role setting the download URL');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'service_role setting the download URL: no row written');

set local role service_role;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end, runner_id)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001',
          '2025-01-01', '2025-12-31', 'r') $$,
  'XB004', null,
  'service_role setting the runner');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'service_role setting the runner: no row written');

set local role service_role;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end, error_code)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001',
          '2025-01-01', '2025-12-31', 'internal') $$,
  'XB004', null,
  'service_role setting an error code');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'service_role setting an error code: no row written');

set local role service_role;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end, attempts)
  values ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001',
          '2025-01-01', '2025-12-31', 1) $$,
  'XB004', 'attempts is set by the runner, not by the client',
  'service_role setting the attempts');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'service_role setting the attempts: no row written');

set local role service_role;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, requested_by, period_start, period_end)
  values ('a0000000-0000-4000-8000-0000000000ff', 'b0000000-0000-4000-8000-000000000001',
          '2025-01-01', '2025-12-31') $$,
  '23503', null,
  'service_role naming an unknown organisation');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'service_role naming an unknown organisation: no row written');

set local role service_role;
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-00000000000a', '2025-01-01', '2025-12-31') $$,
  '23502', 'requested_by is required: sign in, or name the requesting user',
  'service_role without a signed-in user must name the requester');
reset role;
select is((select count(*)::int from bufdir_export_audit), (select n from baseline),
  'service_role without a signed-in user must name the requester: no row written');

-- the longest period there is: a leap year, 366 days ------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select lives_ok($$ insert into bufdir_export_audit (organisation_id, period_start, period_end)
                   values ('a0000000-0000-4000-8000-00000000000a', '2024-01-01', '2024-12-31') $$,
  'a whole leap year, 366 days, is one period');
reset role;
select set_config('request.jwt.claims', '', true);
select is((select count(*)::int from bufdir_export_audit), (select n + 1 from baseline),
  'and it is the only row written');

select * from finish();
rollback;
