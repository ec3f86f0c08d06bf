-- The shape of the contract: tables with RLS, the status enum, realtime, roles,
-- and security definer helpers that pin their search_path.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(16);

select has_table('public', t, t || ' exists') from unnest(array[
  'organisations', 'organisation_members', 'counties', 'local_chapters', 'activity_types',
  'activities', 'activity_attachments', 'bufdir_column_configs', 'bufdir_export_audit',
  'bufdir_export_audit_events'
]) as t;

select is_empty(
  $$ select c.relname from pg_class c
     where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
       and c.relname in ('organisations', 'organisation_members', 'counties', 'local_chapters',
                         'activity_types', 'activities', 'activity_attachments',
                         'bufdir_column_configs', 'bufdir_export_audit',
                         'bufdir_export_audit_events')
       and not c.relrowsecurity $$,
  'every table has row level security enabled'
);

select enum_has_labels('public', 'bufdir_export_status', array[
  'initialised', 'querying_activities', 'mapping_columns', 'generating_file',
  'bundling_attachments', 'storing_file', 'completed', 'completed_empty', 'failed', 'cancelled'
], 'the status enum has the ten statuses, in order');

select ok(
  exists (select 1 from pg_publication_tables
          where pubname = 'supabase_realtime' and schemaname = 'public'
            and tablename = 'bufdir_export_audit'),
  'the audit table is published to supabase_realtime'
);

select ok(
  exists (select 1 from pg_roles where rolname = 'bufdir_export_runner' and not rolcanlogin),
  'bufdir_export_runner exists and cannot log in'
);

select is_empty(
  $$ select p.oid::regprocedure::text from pg_proc p
     where p.prosecdef
       and p.pronamespace in ('public'::regnamespace, 'bufdir_private'::regnamespace)
       and not coalesce(p.proconfig @> array['search_path=""'], false) $$,
  'every security definer function sets search_path to empty'
);

select is_empty(
  $$ select p.oid::regprocedure::text from pg_proc p
     where p.pronamespace = 'bufdir_private'::regnamespace
       and has_function_privilege('anon', p.oid, 'execute') $$,
  'anon may execute nothing in bufdir_private'
);

select * from finish();
rollback;
