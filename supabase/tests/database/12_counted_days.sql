-- The activity days an export counted: the runner records them when it
-- completes the export (0 for an empty period); a client can never set them.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(8);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-0000000000c1', 'counted-member@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-0000000000c0', 'test-counted', 'Counted');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-0000000000c0', 'b0000000-0000-4000-8000-0000000000c1', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
select ('e0000000-0000-4000-8000-0000000000c' || n)::uuid, 'a0000000-0000-4000-8000-0000000000c0',
       'b0000000-0000-4000-8000-0000000000c1', '2025-01-01', '2025-12-31'
from generate_series(1, 3) n;

-- a client -------------------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-0000000000c1", "role": "authenticated"}', true);
select throws_ok($$ insert into public.bufdir_export_audit
                      (organisation_id, period_start, period_end, counted_days)
                    values ('a0000000-0000-4000-8000-0000000000c0', '2025-01-01', '2025-12-31', 3) $$,
  'XB004', 'counted_days is set by the runner, not by the client',
  'a client cannot set the counted days');
reset role;

-- the runner's functions ------------------------------------------------------------

select ok((select count(*) = 3 from (
    select bufdir_private.claim_bufdir_export('counting-runner', 60) from generate_series(1, 3)
  ) claimed), 'the runner claims the three');
select bufdir_private.advance_bufdir_export(('e0000000-0000-4000-8000-0000000000c' || n)::uuid,
         'counting-runner', 1, s.f::bufdir_export_status, s.t::bufdir_export_status, 60)
from generate_series(1, 2) n,
     (values ('querying_activities', 'mapping_columns'), ('mapping_columns', 'generating_file'),
             ('generating_file', 'storing_file')) as s(f, t)
order by n;

select results_eq(
  $$ select status::text, row_count, counted_days from bufdir_private.complete_bufdir_export(
       'e0000000-0000-4000-8000-0000000000c1', 'counting-runner', 1, 10, 2048,
       'a0000000-0000-4000-8000-0000000000c0/e0000000-0000-4000-8000-0000000000c1/r.xlsx',
       'https://files.example/r.xlsx', now() + interval '1 day', 7, repeat('ab', 32)) $$,
  $$ values ('completed'::text, 10::bigint, 7::bigint) $$,
  'completing records the counted days beside the rows');
select is(
  (select count(*)::int from pg_proc
   where proname = 'complete_bufdir_export' and pronamespace = 'bufdir_private'::regnamespace),
  1, 'one complete function, which takes the count');
select results_eq(
  $$ select status::text, row_count, counted_days from bufdir_private.complete_empty_bufdir_export(
       'e0000000-0000-4000-8000-0000000000c3', 'counting-runner', 1) $$,
  $$ values ('completed_empty'::text, 0::bigint, 0::bigint) $$,
  'an empty period counts no days');

select throws_ok($$ update public.bufdir_export_audit set counted_days = 8
                    where id = 'e0000000-0000-4000-8000-0000000000c1' $$,
  'XB003', null, 'the count of a completed export never changes');
select col_type_is('public', 'bufdir_export_audit', 'counted_days', 'bigint',
  'counted_days is a bigint');
select col_has_check('public', 'bufdir_export_audit', 'counted_days',
  'counted_days has its check (never negative)');

select * from finish();
rollback;
