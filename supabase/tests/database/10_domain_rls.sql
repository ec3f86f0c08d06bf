-- The domain tables: members read their own organisation, activities are
-- private to their recorder unless you coordinate, the runner reads them only
-- through an export's view (which has no note), and anon reads nothing.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(27);

-- Where postgres is no superuser (a hosted project), it may still give itself
-- the runner role for this transaction.
grant bufdir_export_runner to current_user;

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'domain-member-a@test.example'),
  ('b0000000-0000-4000-8000-000000000002', 'domain-coordinator-a@test.example'),
  ('b0000000-0000-4000-8000-000000000004', 'domain-member-b@test.example');
insert into public.organisations (id, slug, name) values
  ('a0000000-0000-4000-8000-00000000000a', 'test-domain-a', 'Domain A'),
  ('a0000000-0000-4000-8000-00000000000b', 'test-domain-b', 'Domain B');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000002', 'coordinator'),
  ('a0000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-000000000004', 'member');
insert into public.local_chapters (id, organisation_id, name, county_code, municipality_number) values
  ('c0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'A Oslo', '03', '0301'),
  ('c0000000-0000-4000-8000-00000000000b', 'a0000000-0000-4000-8000-00000000000b', 'B Bergen', '46', '4601');
insert into public.activity_types (id, organisation_id, code, name) values
  ('d0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'samtalegruppe_a', 'Samtalegruppe A'),
  ('d0000000-0000-4000-8000-00000000000b', 'a0000000-0000-4000-8000-00000000000b', 'samtalegruppe_b', 'Samtalegruppe B');
insert into public.activities (id, organisation_id, chapter_id, peer_mentor_id, activity_type_id,
  activity_date, duration_minutes, participant_count, contact_method, note, recorded_by) values
  ('f0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-00000000000a',
   'c0000000-0000-4000-8000-00000000000a', 'f1000000-0000-4000-8000-000000000001',
   'd0000000-0000-4000-8000-00000000000a', '2025-03-01', 60, 4, 'in_person', 'privat',
   'b0000000-0000-4000-8000-000000000001'),
  ('f0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-00000000000a',
   'c0000000-0000-4000-8000-00000000000a', 'f1000000-0000-4000-8000-000000000002',
   'd0000000-0000-4000-8000-00000000000a', '2025-03-02', 60, 4, 'in_person', null,
   'b0000000-0000-4000-8000-000000000002'),
  ('f0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-00000000000b',
   'c0000000-0000-4000-8000-00000000000b', 'f1000000-0000-4000-8000-000000000003',
   'd0000000-0000-4000-8000-00000000000b', '2025-03-03', 60, 4, 'in_person', null,
   'b0000000-0000-4000-8000-000000000004');
insert into public.bufdir_column_configs (organisation_id, version, config, is_active) values
  ('a0000000-0000-4000-8000-00000000000a', 1, '{"schema_version": 1,
    "categories": {"samtalegruppe_a": "samtalegruppe"},
    "columns": [{"header": "Dato", "source": "activity_date"}]}', true);

-- a plain member of A -------------------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select results_eq($$ select slug from organisations $$, $$ values ('test-domain-a'::text) $$,
  'a member sees their own organisation only');
select results_eq($$ select name from local_chapters $$, $$ values ('A Oslo'::text) $$,
  'its chapters only');
select results_eq($$ select code from activity_types $$, $$ values ('samtalegruppe_a'::text) $$,
  'its activity types only');
select results_eq($$ select user_id, role::text from organisation_members $$,
  $$ values ('b0000000-0000-4000-8000-000000000001'::uuid, 'member'::text) $$,
  'and their own membership only');
select isnt_empty($$ select code from counties $$, 'the counties are reference data for everyone');
select results_eq($$ select id from activities $$,
  $$ values ('f0000000-0000-4000-8000-000000000001'::uuid) $$,
  'a plain member sees only the activities they recorded');
select is_empty($$ select id from bufdir_column_configs $$,
  'a plain member does not read the column configuration');
select lives_ok($$
  insert into activities (id, organisation_id, chapter_id, peer_mentor_id, activity_type_id,
    activity_date, duration_minutes, participant_count, contact_method)
  values ('f0000000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-00000000000a',
    'c0000000-0000-4000-8000-00000000000a', 'f1000000-0000-4000-8000-000000000001',
    'd0000000-0000-4000-8000-00000000000a', '2025-03-04', 45, 3, 'in_person') $$,
  'a member records an activity for their organisation, as themselves');
select throws_ok($$
  insert into activities (organisation_id, chapter_id, peer_mentor_id, activity_type_id,
    activity_date, duration_minutes, participant_count, contact_method)
  values ('a0000000-0000-4000-8000-00000000000b', 'c0000000-0000-4000-8000-00000000000b',
    'f1000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-00000000000b',
    '2025-03-01', 60, 4, 'in_person') $$,
  '42501', null, 'but not for another organisation');
select throws_ok($$
  insert into activities (organisation_id, chapter_id, peer_mentor_id, activity_type_id,
    activity_date, duration_minutes, participant_count, contact_method, recorded_by)
  values ('a0000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-00000000000a',
    'f1000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-00000000000a',
    '2025-03-01', 60, 4, 'in_person', 'b0000000-0000-4000-8000-000000000002') $$,
  '42501', null, 'nor in a colleague''s name');
reset role;

-- the coordinator of A ------------------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000002", "role": "authenticated"}', true);
set local role authenticated;
select results_eq($$ select id from activities order by id $$,
  $$ values ('f0000000-0000-4000-8000-000000000001'::uuid), ('f0000000-0000-4000-8000-000000000002'::uuid),
            ('f0000000-0000-4000-8000-000000000004'::uuid) $$,
  'a coordinator sees every activity of their organisation, and none of another');
select results_eq($$ select organisation_id, version from bufdir_column_configs $$,
  $$ values ('a0000000-0000-4000-8000-00000000000a'::uuid, 1) $$,
  'and reads its column configuration');
reset role;

-- a member of B ---------------------------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000004", "role": "authenticated"}', true);
set local role authenticated;
select results_eq($$ select slug from organisations $$, $$ values ('test-domain-b'::text) $$,
  'a member of B sees B, not A');
select results_eq($$ select name from local_chapters $$, $$ values ('B Bergen'::text) $$,
  'B''s chapters, not A''s');
select results_eq($$ select id from activities $$,
  $$ values ('f0000000-0000-4000-8000-000000000003'::uuid) $$,
  'and only their own activity');
reset role;
select set_config('request.jwt.claims', '', true);

-- the runner ------------------------------------------------------------------------

create temp table runner_seen (organisations int) on commit drop;
grant insert, select on runner_seen to public;
set local role bufdir_export_runner;
insert into runner_seen
select (select count(*) from organisations
        where id in ('a0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000b'));
reset role;
select results_eq($$ select organisations from runner_seen $$, $$ values (2) $$,
  'the runner reads every organisation');
select throws_ok($$ set local role bufdir_export_runner; select id from activities $$,
  '42501', null, 'but no activity directly: only through an export''s view');
select throws_ok($$ set local role bufdir_export_runner;
                    select note from bufdir_private.export_activities $$,
  '42703', null, 'and that view has no note');
select throws_ok($$ set local role bufdir_export_runner; select * from activities $$,
  '42501', null, 'not even through select *');
select throws_ok($$
  set local role bufdir_export_runner;
  update activities set duration_minutes = 1440 where id = 'f0000000-0000-4000-8000-000000000001' $$,
  '42501', null, 'and changes no activity');
select throws_ok($$
  set local role bufdir_export_runner;
  update organisations set name = 'x' where id = 'a0000000-0000-4000-8000-00000000000a' $$,
  '42501', null, 'nor any organisation');

-- anon --------------------------------------------------------------------------------

select set_config('request.jwt.claims', '{"role": "anon"}', true);
set local role anon;
select throws_ok($$ select id from activities $$, '42501', null, 'anon reads no activity');
select throws_ok($$ select slug from organisations $$, '42501', null, 'no organisation');
select throws_ok($$ select name from local_chapters $$, '42501', null, 'no chapter');
select throws_ok($$ select code from activity_types $$, '42501', null, 'no activity type');
select throws_ok($$ select user_id from organisation_members $$, '42501', null, 'no membership');
select throws_ok($$ select code from counties $$, '42501', null, 'not even the counties');
reset role;
select set_config('request.jwt.claims', '', true);

select * from finish();
rollback;
