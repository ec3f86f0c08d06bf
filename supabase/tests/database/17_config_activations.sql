-- Column configuration versions: an admin activates a saved one (a roll-back
-- is activating an older one); every activation is recorded, who and when,
-- and the record is never changed.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(14);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-0000000000d1', 'activations-admin@test.example'),
  ('b0000000-0000-4000-8000-0000000000d2', 'activations-coordinator@test.example'),
  ('b0000000-0000-4000-8000-0000000000d3', 'activations-member@test.example'),
  ('b0000000-0000-4000-8000-0000000000d4', 'activations-stranger@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-0000000000d0', 'test-activations', 'Activations');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-0000000000d0', 'b0000000-0000-4000-8000-0000000000d1', 'admin'),
  ('a0000000-0000-4000-8000-0000000000d0', 'b0000000-0000-4000-8000-0000000000d2', 'coordinator'),
  ('a0000000-0000-4000-8000-0000000000d0', 'b0000000-0000-4000-8000-0000000000d3', 'member');
insert into public.activity_types (organisation_id, code, name)
  values ('a0000000-0000-4000-8000-0000000000d0', 'besok', 'Besøk');

create function pg_temp.as_user(p_user text) returns void language sql as $$
  select set_config('request.jwt.claims',
                    pg_catalog.json_build_object('sub', p_user, 'role', 'authenticated')::text, true),
         set_config('role', 'authenticated', true);
$$;
create function pg_temp.config(p_header text) returns jsonb language sql as $$
  select pg_catalog.jsonb_build_object(
    'schema_version', 1,
    'categories', '{"besok": "oppsøkende"}'::jsonb,
    'columns', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
      'header', p_header, 'source', 'activity_date', 'transform', '{"kind": "date"}'::jsonb)));
$$;
create function pg_temp.active() returns integer language sql as $$
  select version from public.bufdir_column_configs
  where organisation_id = 'a0000000-0000-4000-8000-0000000000d0' and is_active;
$$;
create function pg_temp.activations() returns text language sql as $$
  select string_agg(version || ' by ' || actor, ', ' order by id)
  from public.bufdir_column_config_activations
  where organisation_id = 'a0000000-0000-4000-8000-0000000000d0';
$$;

-- the admin saves two versions, then goes back to the first -------------------------

select pg_temp.as_user('b0000000-0000-4000-8000-0000000000d1');
insert into public.bufdir_column_configs (organisation_id, config, is_active)
values ('a0000000-0000-4000-8000-0000000000d0', pg_temp.config('Dato'), true),
       ('a0000000-0000-4000-8000-0000000000d0', pg_temp.config('Dag'), true);
select is(pg_temp.active(), 2, 'the version saved last is active');
select results_eq(
  $$ select version, is_active
     from public.activate_bufdir_column_config('a0000000-0000-4000-8000-0000000000d0', 1) $$,
  $$ values (1, true) $$,
  'the admin activates version 1 again');
select is(pg_temp.active(), 1, 'one version is active: the one activated');
select is(
  (select count(*)::int from public.activate_bufdir_column_config(
     'a0000000-0000-4000-8000-0000000000d0', 1)),
  1, 'activating the active version changes nothing');
select is(pg_temp.activations(),
  '1 by user:b0000000-0000-4000-8000-0000000000d1, 2 by user:b0000000-0000-4000-8000-0000000000d1, '
  || '1 by user:b0000000-0000-4000-8000-0000000000d1',
  'every activation is recorded in order, with who made it, and nothing for the one that changed nothing');
select throws_ok(
  $$ select public.activate_bufdir_column_config('a0000000-0000-4000-8000-0000000000d0', 9) $$,
  '22023', 'the organisation has no column configuration version 9',
  'a version that was never saved');
reset role;

-- who else may ------------------------------------------------------------------

select pg_temp.as_user('b0000000-0000-4000-8000-0000000000d2');
select throws_ok(
  $$ select public.activate_bufdir_column_config('a0000000-0000-4000-8000-0000000000d0', 2) $$,
  '42501', null, 'a coordinator reads the versions but cannot activate one');
select is(
  (select count(*)::int from public.bufdir_column_config_activations
   where organisation_id = 'a0000000-0000-4000-8000-0000000000d0'),
  3, 'a coordinator reads the record');
reset role;
select pg_temp.as_user('b0000000-0000-4000-8000-0000000000d4');
select throws_ok(
  $$ select public.activate_bufdir_column_config('a0000000-0000-4000-8000-0000000000d0', 9) $$,
  '42501', null, 'a stranger is refused before anything is looked up');
reset role;
select pg_temp.as_user('b0000000-0000-4000-8000-0000000000d3');
select is(
  (select count(*)::int from public.bufdir_column_config_activations), 0,
  'a plain member sees no activation');
reset role;
select is(pg_temp.active(), 1, 'and the active version is still 1');

-- the record is kept --------------------------------------------------------------

select throws_ok(
  $$ insert into public.bufdir_column_config_activations (organisation_id, version, actor)
     values ('a0000000-0000-4000-8000-0000000000d0', 2, 'user:someone') $$,
  'XB006', null, 'an activation is written by the trigger only, even by postgres');
select throws_ok(
  $$ select pg_temp.as_user('b0000000-0000-4000-8000-0000000000d1');
     update public.bufdir_column_configs set is_active = false
     where organisation_id = 'a0000000-0000-4000-8000-0000000000d0' $$,
  '42501', null, 'nobody flips is_active themselves, not even an admin (but by the function)');
select throws_ok(
  $$ delete from public.bufdir_column_config_activations
     where organisation_id = 'a0000000-0000-4000-8000-0000000000d0' $$,
  'XB006', null, 'and never deleted');

select * from finish();
rollback;
