-- The requester cancels their own unfinished export, and nobody else does.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(7);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'member@test.example'),
  ('b0000000-0000-4000-8000-000000000003', 'admin@test.example');
insert into public.organisations (id, slug, name) values ('a0000000-0000-4000-8000-00000000000a', 'org-a', 'A');
insert into public.organisation_members values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000003', 'admin');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
select ('e0000000-0000-4000-8000-00000000000' || n)::uuid, 'a0000000-0000-4000-8000-00000000000a',
       'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31'
from generate_series(1, 2) n;
update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
  lease_expires_at = now() + interval '5 minutes' where id = 'e0000000-0000-4000-8000-000000000002';

select set_config('request.jwt.claims', '{"sub": "b0000000-0000-4000-8000-000000000003", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$ select cancel_bufdir_export('e0000000-0000-4000-8000-000000000001') $$,
  'XB007', null, 'not even the organisation''s admin cancels another user''s export');
reset role;

select set_config('request.jwt.claims', '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$ update bufdir_export_audit set status = 'cancelled' $$,
  '42501', null, 'a user never updates the table directly');
select is((select status::text from cancel_bufdir_export('e0000000-0000-4000-8000-000000000001')),
  'cancelled', 'the requester cancels a waiting export');
select is((select status::text from cancel_bufdir_export('e0000000-0000-4000-8000-000000000002')),
  'cancelled', 'and one a runner is working on');
select throws_ok($$ select cancel_bufdir_export('e0000000-0000-4000-8000-000000000001') $$,
  'XB003', null, 'but not one that has already ended');
select throws_ok($$ select cancel_bufdir_export(gen_random_uuid()) $$,
  'XB007', null, 'an unknown export is not found');
select results_eq(
  $$ select from_status::text, actor from bufdir_export_audit_events where to_status = 'cancelled' order by from_status $$,
  $$ values ('initialised'::text, 'user:b0000000-0000-4000-8000-000000000001'::text),
            ('querying_activities', 'user:b0000000-0000-4000-8000-000000000001') $$,
  'each cancellation is an event by the requester'
);
reset role;

select * from finish();
rollback;
