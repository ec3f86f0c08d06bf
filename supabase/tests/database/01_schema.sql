-- The shape of the contract: tables with RLS, the status enum, realtime, the
-- runner role, security definer helpers that pin their search_path, triggers
-- that fire always, and the grants and policies of the export tables.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(41);

-- tables ---------------------------------------------------------------------

select has_table('public', t, t || ' exists') from unnest(array[
  'organisations', 'organisation_members', 'counties', 'local_chapters', 'activity_types',
  'activities', 'activity_attachments', 'bufdir_column_configs',
  'bufdir_column_config_activations', 'bufdir_export_audit', 'bufdir_export_audit_events',
  'bufdir_export_file_deletions', 'bufdir_export_config_versions'
]) as t;

select is_empty(
  $$ select c.relname from pg_class c
     where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
       and not c.relrowsecurity $$,
  'every table has row level security enabled'
);

-- the status enum, realtime, the runner role ---------------------------------

select enum_has_labels('public', 'bufdir_export_status', array[
  'initialised', 'querying_activities', 'mapping_columns', 'generating_file',
  'bundling_attachments', 'storing_file', 'completed', 'completed_empty', 'failed', 'cancelled'
], 'the status enum has exactly the ten statuses, in order');

select enum_has_labels('public', 'bufdir_export_format', array['xlsx', 'csv'],
  'the format enum is xlsx or csv');

select ok(
  exists (select 1 from pg_publication_tables
          where pubname = 'supabase_realtime' and schemaname = 'public'
            and tablename = 'bufdir_export_audit'),
  'the audit table is published to supabase_realtime'
);

select has_role('bufdir_export_runner', 'the runner role exists');
select ok(
  exists (select 1 from pg_roles where rolname = 'bufdir_export_runner' and not rolcanlogin),
  'bufdir_export_runner cannot log in'
);

-- functions and helpers ------------------------------------------------------

select functions_are('bufdir_private', array[
  'activity_scope', 'advance_bufdir_export', 'audit_event_hash', 'audit_event_pins',
  'audit_record_content', 'audit_record_hash', 'audit_record_head', 'audit_record_link',
  'audit_record_organisation',
  'begin_generating_bufdir_export',
  'bufdir_column_configs_after_activation', 'bufdir_column_configs_before_insert',
  'bufdir_column_configs_before_update', 'bufdir_export_audit_after_write',
  'bufdir_export_audit_before_insert', 'bufdir_export_audit_before_update',
  'bufdir_export_audit_check_retry', 'export_was_retried',
  'can_read_activity', 'claim_bufdir_export', 'claim_bufdir_export_for_run',
  'column_config_problem', 'complete_bufdir_export',
  'complete_empty_bufdir_export', 'current_actor', 'defer_bufdir_export', 'export_scope',
  'fail_bufdir_export',
  'forbid_audit_change',
  'has_org_role', 'heartbeat_bufdir_export', 'invoking_role', 'is_allowed_transition',
  'is_in_progress', 'is_member', 'is_terminal', 'may_read_activity', 'may_request_export',
  'notify_bufdir_export_runners', 'only_by_audit_trigger', 'org_role_of',
  'notify_bufdir_export_watchers', 'raise_lease_lost', 'reap_bufdir_exports',
  'record_export_file_deleted', 'release_bufdir_export', 'runner_owned_columns'
], 'bufdir_private holds exactly the functions of the contract');
select is(
  (select count(*)::int from pg_proc p where p.pronamespace = 'bufdir_private'::regnamespace),
  47, 'and each of them once: no overload');
select functions_are('public',
  array['activate_bufdir_column_config', 'cancel_bufdir_export', 'retry_bufdir_export'],
  'public holds three functions of ours: activating a configuration, cancelling and retrying an export');

select ok(
  exists (select 1 from pg_proc p
          where p.oid = 'bufdir_private.has_org_role(uuid, public.organisation_role)'::regprocedure
            and p.prosecdef and p.proconfig @> array['search_path=""']),
  'bufdir_private.has_org_role is security definer with an empty search_path'
);
select ok(
  exists (select 1 from pg_proc p
          where p.oid = 'bufdir_private.is_member(uuid, uuid)'::regprocedure
            and p.prosecdef and p.proconfig @> array['search_path=""']),
  'bufdir_private.is_member is security definer with an empty search_path'
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
select function_privs_are('bufdir_private', 'is_member', array['uuid', 'uuid'], 'authenticated',
  array[]::text[], 'a signed-in user cannot ask about other users'' memberships');
select function_privs_are('public', 'cancel_bufdir_export', array['uuid'], 'anon',
  array[]::text[], 'anon cannot cancel');
select function_privs_are('public', 'cancel_bufdir_export', array['uuid'], 'authenticated',
  array['EXECUTE'], 'a signed-in user may call cancel_bufdir_export');

-- triggers -------------------------------------------------------------------

select triggers_are('public', 'bufdir_export_audit', array[
  'bufdir_export_audit_before_insert', 'bufdir_export_audit_before_update',
  'bufdir_export_audit_check_retry',
  'bufdir_export_audit_after_write', 'bufdir_export_audit_forbid_delete',
  'bufdir_export_audit_forbid_truncate', 'bufdir_export_audit_notify_runners',
  'bufdir_export_audit_notify_watchers'
], 'the audit table has its seven triggers');
select triggers_are('public', 'bufdir_export_audit_events', array[
  'bufdir_export_audit_events_forbid_change', 'bufdir_export_audit_events_forbid_truncate',
  'bufdir_export_audit_events_only_by_trigger'
], 'the events table has its three triggers');
select is_empty(
  $$ select t.tgname from pg_trigger t
     where t.tgrelid in ('public.bufdir_export_audit'::regclass,
                         'public.bufdir_export_audit_events'::regclass)
       and not t.tgisinternal and t.tgenabled <> 'A' $$,
  'every export trigger is enabled always, replica sessions included'
);

-- grants and policies of the export tables -----------------------------------

select table_privs_are('public', 'bufdir_export_audit', 'anon', array[]::text[],
  'anon holds no privilege on exports');
select table_privs_are('public', 'bufdir_export_audit', 'authenticated', array['INSERT', 'SELECT'],
  'a signed-in user may insert and select exports, nothing else');
select table_privs_are('public', 'bufdir_export_audit', 'service_role',
  array['INSERT', 'SELECT', 'UPDATE'], 'service_role may insert, select and update exports');
select table_privs_are('public', 'bufdir_export_audit', 'bufdir_export_runner', array['SELECT'],
  'the runner selects exports (and updates only the state columns)');
select table_privs_are('public', 'bufdir_export_audit_events', 'anon', array[]::text[],
  'anon holds no privilege on events');
select table_privs_are('public', 'bufdir_export_audit_events', 'authenticated', array['SELECT'],
  'a signed-in user only selects events');
select table_privs_are('public', 'bufdir_export_audit_events', 'service_role', array['SELECT'],
  'service_role only selects events');

select policies_are('public', 'bufdir_export_audit', array[
  'bufdir_export_audit_select', 'bufdir_export_audit_insert',
  'bufdir_export_audit_select_runner', 'bufdir_export_audit_update_runner'
], 'exports have no update or delete policy for signed-in users');
select policies_are('public', 'bufdir_export_audit_events', array[
  'bufdir_export_audit_events_select', 'bufdir_export_audit_events_select_runner'
], 'events have select policies only');

select * from finish();
rollback;
