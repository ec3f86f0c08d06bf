-- A requester has at most a few unfinished exports at once (XB010); the
-- limit is one row in bufdir_private.export_limits, 3 unless changed.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(9);

select col_default_is('bufdir_private', 'export_limits', 'max_unfinished_per_requester', 3,
  'the migration''s limit is 3 unfinished exports per requester');
update bufdir_private.export_limits set max_unfinished_per_requester = 3;

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-0000000000d1', 'limited@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-0000000000d0', 'test-limits', 'Limits');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-0000000000d0', 'b0000000-0000-4000-8000-0000000000d1', 'member');

set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-0000000000d1", "role": "authenticated"}', true);
select lives_ok($$
  insert into bufdir_export_audit (id, organisation_id, period_start, period_end)
  select ('e0000000-0000-4000-8000-0000000000d' || n)::uuid,
         'a0000000-0000-4000-8000-0000000000d0', '2025-01-01', '2025-12-31'
  from generate_series(1, 3) n $$,
  'three unfinished exports are allowed');
select throws_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-0000000000d0', '2025-01-01', '2025-12-31') $$,
  'XB010', 'user b0000000-0000-4000-8000-0000000000d1 already has 3 unfinished exports, and at most 3 may wait or run at once',
  'a fourth is refused with XB010, naming the count and the limit');
select is((select status::text from cancel_bufdir_export('e0000000-0000-4000-8000-0000000000d1')),
  'cancelled', 'cancelling one');
select lives_ok($$
  insert into bufdir_export_audit (organisation_id, period_start, period_end)
  values ('a0000000-0000-4000-8000-0000000000d0', '2025-01-01', '2025-12-31') $$,
  'makes room for another: an ended export does not count');
select throws_ok($$ select * from bufdir_private.export_limits $$, '42501', null,
  'a signed-in user cannot read the limits');
select throws_ok($$ update bufdir_private.export_limits set max_unfinished_per_requester = 100 $$,
  '42501', null, 'nor change them');
reset role;

select throws_ok($$ insert into bufdir_private.export_limits (id) values (true) $$,
  '23505', null, 'there is one row of limits');
select throws_ok($$ update bufdir_private.export_limits set max_unfinished_per_requester = 0 $$,
  '23514', null, 'and the limit is at least 1');

select * from finish();
rollback;
