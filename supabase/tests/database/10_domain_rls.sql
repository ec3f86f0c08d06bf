-- The domain tables: members read their organisation, activities are private
-- to their recorder unless you coordinate, the runner never reads a note.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(9);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'member@test.example'),
  ('b0000000-0000-4000-8000-000000000002', 'coordinator@test.example'),
  ('b0000000-0000-4000-8000-000000000004', 'member-b@test.example');
insert into public.organisations (id, slug, name) values
  ('a0000000-0000-4000-8000-00000000000a', 'org-a', 'A'),
  ('a0000000-0000-4000-8000-00000000000b', 'org-b', 'B');
insert into public.organisation_members values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000002', 'coordinator'),
  ('a0000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-000000000004', 'member');
insert into public.local_chapters (id, organisation_id, name, county_code, municipality_number) values
  ('c0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'A Oslo', '03', '0301'),
  ('c0000000-0000-4000-8000-00000000000b', 'a0000000-0000-4000-8000-00000000000b', 'B Bergen', '46', '4601');
insert into public.activity_types (id, organisation_id, code, name) values
  ('d0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'samtalegruppe', 'Samtalegruppe'),
  ('d0000000-0000-4000-8000-00000000000b', 'a0000000-0000-4000-8000-00000000000b', 'samtalegruppe', 'Samtalegruppe');
insert into public.activities (id, organisation_id, chapter_id, peer_mentor_id, activity_type_id,
  activity_date, duration_minutes, participant_count, contact_method, note, recorded_by) values
  ('f0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000a',
   gen_random_uuid(), 'd0000000-0000-4000-8000-00000000000a', '2025-03-01', 60, 4, 'in_person', 'privat', 'b0000000-0000-4000-8000-000000000001'),
  ('f0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000a',
   gen_random_uuid(), 'd0000000-0000-4000-8000-00000000000a', '2025-03-02', 60, 4, 'in_person', null, 'b0000000-0000-4000-8000-000000000002'),
  ('f0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-00000000000b', 'c0000000-0000-4000-8000-00000000000b',
   gen_random_uuid(), 'd0000000-0000-4000-8000-00000000000b', '2025-03-03', 60, 4, 'in_person', null, 'b0000000-0000-4000-8000-000000000004');

select set_config('request.jwt.claims', '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select results_eq($$ select slug from organisations $$, $$ values ('org-a'::text) $$,
  'a member sees their own organisation only');
select results_eq($$ select name from local_chapters $$, $$ values ('A Oslo'::text) $$,
  'and its chapters');
select results_eq($$ select id from activities $$, $$ values ('f0000000-0000-4000-8000-000000000001'::uuid) $$,
  'a plain member sees the activities they recorded');
select throws_ok($$ insert into activities (organisation_id, chapter_id, peer_mentor_id, activity_type_id,
    activity_date, duration_minutes, participant_count, contact_method, recorded_by)
  values ('a0000000-0000-4000-8000-00000000000b', 'c0000000-0000-4000-8000-00000000000b', gen_random_uuid(),
    'd0000000-0000-4000-8000-00000000000b', '2025-03-01', 60, 4, 'in_person', 'b0000000-0000-4000-8000-000000000001') $$,
  '42501', null, 'nobody records activities for another organisation');
reset role;

select set_config('request.jwt.claims', '{"sub": "b0000000-0000-4000-8000-000000000002", "role": "authenticated"}', true);
set local role authenticated;
select results_eq($$ select id from activities order by id $$,
  $$ values ('f0000000-0000-4000-8000-000000000001'::uuid), ('f0000000-0000-4000-8000-000000000002'::uuid) $$,
  'a coordinator sees all of their organisation''s activities');
reset role;

-- pgTAP lives in schema extensions, which the runner role does not use otherwise.
grant usage on schema extensions to bufdir_export_runner;
set local role bufdir_export_runner;
select is((select count(*)::int from activities where id::text like 'f0000000-%'), 3,
  'the runner reads every activity, of every organisation');
select throws_ok($$ select note from activities $$, '42501', null, 'but never a note');
reset role;

select set_config('request.jwt.claims', '{"role": "anon"}', true);
set local role anon;
select throws_ok($$ select id from activities $$, '42501', null, 'anon reads no activity');
select throws_ok($$ select slug from organisations $$, '42501', null, 'nor any organisation');
reset role;

select * from finish();
rollback;
