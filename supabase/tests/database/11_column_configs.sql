-- Column configurations: an admin saves a new version through RLS; the
-- database checks its shape and names the JSON path of a problem, numbers
-- the version, keeps one active, and never lets a saved version change.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(21);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'config-admin@test.example'),
  ('b0000000-0000-4000-8000-000000000002', 'config-coordinator@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-00000000000a', 'test-configs', 'Configs');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'admin'),
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000002', 'coordinator');
insert into public.activity_types (organisation_id, code, name) values
  ('a0000000-0000-4000-8000-00000000000a', 'besok', 'Besøk'),
  ('a0000000-0000-4000-8000-00000000000a', 'kafe', 'Kafé');

create temp table good on commit drop as select '{
  "schema_version": 1,
  "categories": {"besok": "oppsøkende", "kafe": "ikke_tellende"},
  "columns": [{"header": "Dato", "source": "activity_date", "transform": {"kind": "date"}},
              {"header": "Type", "source": "activity_type_code",
               "transform": {"kind": "enum", "values": {"besok": "Besøk", "kafe": "Kafé"}}}]
}'::jsonb as config;
grant select on good to public;

-- the shape, path by path -----------------------------------------------------------

select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select config from good)), null, 'a good configuration has no problem');
select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select config || '{"colums": []}' from good)), '$.colums: unknown key', 'an unknown key');
select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select config - 'schema_version' from good)), '$.schema_version: must be 1',
  'a missing schema version');
select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select jsonb_set(config, '{categories}', '{"besok": "oppsøkende"}') from good)),
  '$.categories: activity type ''kafe'' has no Bufdir category',
  'an activity type of the organisation without a category');
select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select jsonb_set(config, '{categories,kafe}', '"kaffe"') from good)),
  '$.categories.kafe: must be one of oppsøkende, samtalegruppe, aktivitetsgruppe, likepersonskurs, ikke_tellende',
  'an unknown Bufdir category');
select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select jsonb_set(config, '{columns,1,header}', '""') from good)),
  '$.columns[1].header: must be a text of 1 to 200 characters', 'an empty header');
select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select jsonb_set(config, '{columns,0,source}', '"note"') from good)),
  '$.columns[0].source: unknown field "note"', 'a field the report never reads');
select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select jsonb_set(config, '{columns,0,transform,kind}', '"upper"') from good)),
  '$.columns[0].transform.kind: unknown transform "upper" (known: date, number, enum, constant, concat, yes_no, text)',
  'an unknown transform');
select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select config #- '{columns,1,transform,values,kafe}' from good)),
  '$.columns[1].transform.values: no value for activity type ''kafe''',
  'an enumeration over activity types that misses one');
select is(bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a',
  (select config || '{"counting": {"rules": [{"reason": "x"}]}}' from good)),
  '$.counting.rules[0].when: must be a CEL condition', 'a rule without its condition');

-- saving, as the organisation's admin ------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$
  insert into bufdir_column_configs (organisation_id, config, is_active)
  select 'a0000000-0000-4000-8000-00000000000a', config - 'columns', true from good $$,
  '22023', 'invalid column configuration at $.columns: must be a list of 1 to 100 columns',
  'a configuration with a problem is refused with its path');
select lives_ok($$
  insert into bufdir_column_configs (organisation_id, config, is_active)
  select 'a0000000-0000-4000-8000-00000000000a', config, true from good $$,
  'an admin saves a version');
select lives_ok($$
  insert into bufdir_column_configs (organisation_id, config, is_active)
  select 'a0000000-0000-4000-8000-00000000000a',
         jsonb_set(config, '{columns,0,header}', '"Aktivitetsdato"'), true from good $$,
  'and another');
select results_eq($$ select version, is_active from bufdir_column_configs order by version $$,
  $$ values (1, false), (2, true) $$,
  'versions are numbered by the database; the newest saved active is the only active one');
reset role;

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-000000000002", "role": "authenticated"}', true);
set local role authenticated;
select throws_ok($$
  insert into bufdir_column_configs (organisation_id, config, is_active)
  select 'a0000000-0000-4000-8000-00000000000a', config, true from good $$,
  '42501', null, 'a coordinator reads but does not save');
select throws_ok($$
  insert into bufdir_column_configs (organisation_id, config, is_active)
  select 'a0000000-0000-4000-8000-00000000000a', config - 'categories', true from good $$,
  '42501', null,
  'and a broken configuration tells a non-admin nothing about it (RLS, not the checks)');
select throws_ok($$
  select bufdir_private.column_config_problem('a0000000-0000-4000-8000-00000000000a', '{}') $$,
  '42501', null, 'nor may a signed-in user call the check that reads the activity types');
reset role;

-- a saved version never changes ----------------------------------------------------

select throws_ok($$
  update bufdir_column_configs set config = config || '{"description": "changed"}'
  where version = 1 $$,
  'XB009', 'a saved column configuration never changes; save a new version',
  'not even by the backend');
select lives_ok($$
  update bufdir_column_configs set is_active = false
  where organisation_id = 'a0000000-0000-4000-8000-00000000000a' and is_active $$,
  'but the backend may retire the active version');
select lives_ok($$
  update bufdir_column_configs set is_active = true
  where organisation_id = 'a0000000-0000-4000-8000-00000000000a' and version = 1 $$,
  'and make an older one the active one again');
select results_eq($$ select version, is_active from bufdir_column_configs
  where organisation_id = 'a0000000-0000-4000-8000-00000000000a' order by version $$,
  $$ values (1, true), (2, false) $$, 'one version active, every version kept');

select * from finish();
rollback;
