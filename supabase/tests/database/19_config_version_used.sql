-- The configuration version an export's file is generated with: named by the
-- runner as it moves the export to generating_file, once per claim, kept.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(7);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-0000000000c7', 'version-member@test.example'),
  ('b0000000-0000-4000-8000-0000000000c8', 'version-other@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-0000000000c7', 'test-version-used', 'Version used');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-0000000000c7', 'b0000000-0000-4000-8000-0000000000c7', 'member'),
  ('a0000000-0000-4000-8000-0000000000c7', 'b0000000-0000-4000-8000-0000000000c8', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
values ('e0000000-0000-4000-8000-0000000000c7', 'a0000000-0000-4000-8000-0000000000c7',
        'b0000000-0000-4000-8000-0000000000c7', '2025-01-01', '2025-12-31');
update public.bufdir_export_audit set status = 'cancelled'
where status = 'initialised' and id <> 'e0000000-0000-4000-8000-0000000000c7';

-- Each answer is kept in a setting of this transaction, to be checked as postgres.
set local role bufdir_export_runner;
select from bufdir_private.claim_bufdir_export('version-runner', 60);
select from bufdir_private.advance_bufdir_export('e0000000-0000-4000-8000-0000000000c7',
  'version-runner', 1, 'querying_activities', 'mapping_columns', 60);
select from set_config('test.status', (select status::text
  from bufdir_private.begin_generating_bufdir_export('e0000000-0000-4000-8000-0000000000c7',
    'version-runner', 1, 60, 3)), true);
reset role;

select is(current_setting('test.status'), 'generating_file',
  'the runner moves the export to generating_file');
select results_eq(
  $$ select claim, version from public.bufdir_export_config_versions
     where export_id = 'e0000000-0000-4000-8000-0000000000c7' $$,
  $$ values (1, 3) $$,
  'and names the configuration version of that claim');
select throws_ok(
  $$ set local role bufdir_export_runner;
     select bufdir_private.begin_generating_bufdir_export('e0000000-0000-4000-8000-0000000000c7',
       'version-runner', 1, 60, 4) $$,
  'XB008', null, 'once: the export is no longer in mapping_columns');
reset role;
select is(
  (select count(*)::int from public.bufdir_export_config_versions
   where export_id = 'e0000000-0000-4000-8000-0000000000c7'),
  1, 'and the refused call recorded nothing');

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-0000000000c7", "role": "authenticated"}', true);
set local role authenticated;
select is((select version from public.bufdir_export_config_versions), 3,
  'the requester reads which version their export was made with');
reset role;
select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-0000000000c8", "role": "authenticated"}', true);
set local role authenticated;
select is((select count(*)::int from public.bufdir_export_config_versions), 0,
  'another member does not');
reset role;
select throws_ok(
  $$ delete from public.bufdir_export_config_versions $$,
  'XB006', null, 'the record is never deleted, even by postgres');

select * from finish();
rollback;
