-- The records beside the exports are links of their organisation's spine: an
-- activation, the configuration version a claim generated with, a file
-- deleted. Each follows the spine's head and becomes it; the next request
-- follows it; its hash covers its columns, in UTC whatever the session's zone.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(19);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-0000000000f1', 'chained-admin@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-0000000000f0', 'test-chained', 'Chained');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-0000000000f0', 'b0000000-0000-4000-8000-0000000000f1', 'admin');
insert into public.activity_types (organisation_id, code, name)
  values ('a0000000-0000-4000-8000-0000000000f0', 'besok', 'Besøk');
update public.bufdir_export_audit set status = 'cancelled' where status = 'initialised';

create function pg_temp.head() returns table (event_id bigint, hash text) language sql as $$
  select h.event_id, h.hash from bufdir_private.audit_chain_heads h
  where h.organisation_id = 'a0000000-0000-4000-8000-0000000000f0';
$$;
-- A record's hash as the verifier computes it: from the stored row, read in UTC.
create function pg_temp.rehash(p_table text, p_row jsonb) returns text language sql as $$
  select bufdir_private.audit_record_hash(
    p_row ->> 'prev_hash', (p_row ->> 'chain_id')::bigint,
    'a0000000-0000-4000-8000-0000000000f0', p_table,
    bufdir_private.audit_record_content(p_row));
$$;

-- an activation, before the organisation has any request ---------------------------

-- Saved in another time zone: the hash is of the row in UTC all the same.
set local timezone to 'America/New_York';
insert into public.bufdir_column_configs (organisation_id, config, is_active)
values ('a0000000-0000-4000-8000-0000000000f0', pg_catalog.jsonb_build_object(
  'schema_version', 1, 'categories', '{"besok": "oppsøkende"}'::jsonb,
  'columns', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
    'header', 'Dato', 'source', 'activity_date', 'transform', '{"kind": "date"}'::jsonb))),
  true);
set local timezone to 'UTC';

select is((select prev_hash from public.bufdir_column_config_activations
           where organisation_id = 'a0000000-0000-4000-8000-0000000000f0'), null,
  'the first link of an organisation follows nothing');
select is((select hash from public.bufdir_column_config_activations a
           where organisation_id = 'a0000000-0000-4000-8000-0000000000f0'),
  (select pg_temp.rehash('bufdir_column_config_activations', to_jsonb(a))
   from public.bufdir_column_config_activations a
   where organisation_id = 'a0000000-0000-4000-8000-0000000000f0'),
  'its hash covers its row, read back in UTC though it was written in New York');
select results_eq($$ select * from pg_temp.head() $$,
  $$ select chain_id, hash from public.bufdir_column_config_activations
     where organisation_id = 'a0000000-0000-4000-8000-0000000000f0' $$,
  'and it is the head of the new spine');

-- a request follows it; its claim's configuration version follows the request ------

insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
values ('e0000000-0000-4000-8000-0000000000f1', 'a0000000-0000-4000-8000-0000000000f0',
        'b0000000-0000-4000-8000-0000000000f1', '2025-01-01', '2025-12-31');
select is(
  (select prev_hash from public.bufdir_export_audit_events
   where export_id = 'e0000000-0000-4000-8000-0000000000f1' and from_status is null),
  (select hash from public.bufdir_column_config_activations
   where organisation_id = 'a0000000-0000-4000-8000-0000000000f0'),
  'the next request follows the record');
select from set_config('test.request_hash', (select hash from pg_temp.head()), true);

set local role bufdir_export_runner;
select from bufdir_private.claim_bufdir_export('chained-runner', 60);
select from bufdir_private.advance_bufdir_export('e0000000-0000-4000-8000-0000000000f1',
  'chained-runner', 1, 'querying_activities', 'mapping_columns', 60);
select from bufdir_private.begin_generating_bufdir_export('e0000000-0000-4000-8000-0000000000f1',
  'chained-runner', 1, 60, 1);
reset role;

select is((select prev_hash from public.bufdir_export_config_versions
           where export_id = 'e0000000-0000-4000-8000-0000000000f1'),
  current_setting('test.request_hash'),
  'the configuration version a claim used follows the spine''s head, the request');
select is((select hash from public.bufdir_export_config_versions v
           where export_id = 'e0000000-0000-4000-8000-0000000000f1'),
  (select pg_temp.rehash('bufdir_export_config_versions', to_jsonb(v))
   from public.bufdir_export_config_versions v
   where export_id = 'e0000000-0000-4000-8000-0000000000f1'),
  'its hash covers its row');
select ok((select chain_id from public.bufdir_export_config_versions
           where export_id = 'e0000000-0000-4000-8000-0000000000f1')
          > (select max(id) from public.bufdir_export_audit_events
             where export_id = 'e0000000-0000-4000-8000-0000000000f1'
               and to_status = 'generating_file'),
  'its position is after the event of the move it was recorded with');
select results_eq($$ select * from pg_temp.head() $$,
  $$ select chain_id, hash from public.bufdir_export_config_versions
     where export_id = 'e0000000-0000-4000-8000-0000000000f1' $$,
  'and it is the head');

-- the export completes; its file is deleted ---------------------------------------

update public.bufdir_export_audit set status = 'storing_file'
where id = 'e0000000-0000-4000-8000-0000000000f1';
select from bufdir_private.complete_bufdir_export(
  'e0000000-0000-4000-8000-0000000000f1', 'chained-runner', 1, 10, 2048,
  'a0000000-0000-4000-8000-0000000000f0/e0000000-0000-4000-8000-0000000000f1/r.xlsx',
  'https://files.example/r.xlsx', now() + interval '1 day', 7, repeat('ab', 32));
select is((select hash from pg_temp.head()),
  (select hash from public.bufdir_export_config_versions
   where export_id = 'e0000000-0000-4000-8000-0000000000f1'),
  'the head is still the configuration version: status changes are not links of the spine');

set local role bufdir_export_runner;
select from bufdir_private.record_export_file_deleted(
  'e0000000-0000-4000-8000-0000000000f1', 'chained-purger');
reset role;
select is((select prev_hash from public.bufdir_export_file_deletions
           where export_id = 'e0000000-0000-4000-8000-0000000000f1'),
  (select hash from public.bufdir_export_config_versions
   where export_id = 'e0000000-0000-4000-8000-0000000000f1'),
  'the file deletion follows the spine''s head');
select is((select hash from public.bufdir_export_file_deletions d
           where export_id = 'e0000000-0000-4000-8000-0000000000f1'),
  (select pg_temp.rehash('bufdir_export_file_deletions', to_jsonb(d))
   from public.bufdir_export_file_deletions d
   where export_id = 'e0000000-0000-4000-8000-0000000000f1'),
  'its hash covers its row: the file, the moment, the runner');
select from set_config('test.deletion_head', (select hash from pg_temp.head()), true);

set local role bufdir_export_runner;
select from bufdir_private.record_export_file_deleted(
  'e0000000-0000-4000-8000-0000000000f1', 'chained-purger');
reset role;
select is((select hash from pg_temp.head()), current_setting('test.deletion_head'),
  'a second record of the same deletion, which writes nothing, moves nothing');

-- nobody chooses a record's link ------------------------------------------------------

insert into public.bufdir_export_config_versions (export_id, claim, version, chain_id, prev_hash, hash)
values ('e0000000-0000-4000-8000-0000000000f1', 9, 1, 1, 'forged', 'forged');
select results_eq(
  $$ select prev_hash, hash <> 'forged' from public.bufdir_export_config_versions
     where export_id = 'e0000000-0000-4000-8000-0000000000f1' and claim = 9 $$,
  $$ values (current_setting('test.deletion_head'), true) $$,
  'a record inserted by hand is linked by the trigger, whatever it named');

select throws_ok(
  $$ insert into public.bufdir_export_config_versions (export_id, claim, version)
     values ('e0000000-0000-4000-8000-0000000000f1', 10, 1),
            ('e0000000-0000-4000-8000-0000000000f1', 11, 1) $$,
  '0A000', null,
  'an insert of several records, which would all follow the same link, is refused');
select results_eq(
  $$ select (select count(*)::int from public.bufdir_export_config_versions
             where export_id = 'e0000000-0000-4000-8000-0000000000f1' and claim >= 10),
            (select hash from pg_temp.head()) $$,
  $$ values (0, (select hash from public.bufdir_export_config_versions
                 where export_id = 'e0000000-0000-4000-8000-0000000000f1' and claim = 9)) $$,
  'and nothing of it stays: no record, the head where it was');

-- the functions ------------------------------------------------------------------------

select ok(
  not has_function_privilege('authenticated', 'bufdir_private.audit_record_link()', 'execute')
  and not has_function_privilege('anon', 'bufdir_private.audit_record_head()', 'execute')
  and not has_function_privilege('authenticated',
    'bufdir_private.audit_record_hash(text, bigint, uuid, text, jsonb)', 'execute'),
  'no client may call the chain''s functions');
select ok(
  (select bool_and(p.prosecdef and p.proconfig @> array['search_path=""'])
   from pg_proc p
   where p.pronamespace = 'bufdir_private'::regnamespace
     and p.proname in ('audit_record_link', 'audit_record_head')),
  'the link and head triggers are security definer with an empty search_path');
select ok(
  (select exists (select 1 from unnest(p.proconfig) c where lower(c) = 'timezone=utc')
   from pg_proc p
   where p.pronamespace = 'bufdir_private'::regnamespace and p.proname = 'audit_record_link'),
  'and the link is made in UTC');
select ok(
  (select bool_and(t.tgenabled = 'A') from pg_trigger t
   where t.tgname like '%\_to\_chain' or t.tgname like '%\_to\_head'),
  'every link and head trigger is enabled always, replica sessions included');

select * from finish();
rollback;
