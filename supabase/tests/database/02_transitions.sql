-- Which status may follow which: the legal walks succeed, anything else is
-- refused with XB001 and a message that names both statuses.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
-- More unfinished exports of one requester than a project allows (3): the
-- limit is raised for this file only (it rolls back with it).
update bufdir_private.export_limits set max_unfinished_per_requester = 100;
select plan(28);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'transitions-member@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-00000000000a', 'test-transitions', 'Transitions');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
select ('e0000000-0000-4000-8000-0000000000' || lpad(n::text, 2, '0'))::uuid,
       'a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001',
       '2025-01-01', '2025-12-31'
from generate_series(1, 9) n;

-- the table of docs/design.md, as the trigger reads it ----------------------------

select results_eq(
  $$ select f::text as from_status, t::text as to_status
     from unnest(enum_range(null::bufdir_export_status)) f,
          unnest(enum_range(null::bufdir_export_status)) t
     where bufdir_private.is_allowed_transition(f, t)
     order by f, t $$,
  $$ values
     ('initialised', 'querying_activities'), ('initialised', 'failed'), ('initialised', 'cancelled'),
     ('querying_activities', 'initialised'), ('querying_activities', 'mapping_columns'),
     ('querying_activities', 'completed_empty'), ('querying_activities', 'failed'),
     ('querying_activities', 'cancelled'),
     ('mapping_columns', 'initialised'), ('mapping_columns', 'generating_file'),
     ('mapping_columns', 'failed'), ('mapping_columns', 'cancelled'),
     ('generating_file', 'initialised'), ('generating_file', 'bundling_attachments'),
     ('generating_file', 'storing_file'), ('generating_file', 'failed'),
     ('generating_file', 'cancelled'),
     ('bundling_attachments', 'initialised'), ('bundling_attachments', 'storing_file'),
     ('bundling_attachments', 'failed'), ('bundling_attachments', 'cancelled'),
     ('storing_file', 'initialised'), ('storing_file', 'completed'), ('storing_file', 'failed'),
     ('storing_file', 'cancelled') $$,
  'exactly the transitions of the design are allowed; nothing leaves a terminal status'
);

-- export 01: the full walk, with attachments ----------------------------------

select lives_ok($$
  update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
    lease_expires_at = now() + interval '5 minutes'
  where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'initialised -> querying_activities (a claim)');
select lives_ok($$ update bufdir_export_audit set status = 'mapping_columns'
                   where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'querying_activities -> mapping_columns');
select lives_ok($$ update bufdir_export_audit set status = 'generating_file'
                   where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'mapping_columns -> generating_file');
select lives_ok($$ update bufdir_export_audit set status = 'bundling_attachments'
                   where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'generating_file -> bundling_attachments');
select lives_ok($$ update bufdir_export_audit set status = 'storing_file'
                   where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'bundling_attachments -> storing_file');
select lives_ok($$
  update bufdir_export_audit set status = 'completed', row_count = 1, file_size_bytes = 10,
    file_path = 'p', file_sha256 = repeat('ab', 32), download_url = 'u', download_url_expires_at = now() + interval '1 day'
  where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'storing_file -> completed');
select is(
  (select completed_at is not null from bufdir_export_audit
   where id = 'e0000000-0000-4000-8000-000000000001'),
  true, 'completed_at is set when the export ends');
select is(
  (select count(*)::int from bufdir_export_audit_events
   where export_id = 'e0000000-0000-4000-8000-000000000001'),
  7, 'the full walk left seven events (the insert and six changes)');

-- exports 02-05: the other ways to end ----------------------------------------

select lives_ok($$
  update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
    lease_expires_at = now() + interval '5 minutes'
  where id = 'e0000000-0000-4000-8000-000000000002';
  update bufdir_export_audit set status = 'completed_empty', row_count = 0
  where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'querying_activities -> completed_empty');
select lives_ok($$ update bufdir_export_audit set status = 'failed', error_code = 'internal'
                   where id = 'e0000000-0000-4000-8000-000000000003' $$,
  'initialised -> failed');
select lives_ok($$ update bufdir_export_audit set status = 'cancelled'
                   where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'initialised -> cancelled');
select lives_ok($$
  update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
    lease_expires_at = now() + interval '5 minutes'
  where id = 'e0000000-0000-4000-8000-000000000005';
  update bufdir_export_audit set status = 'mapping_columns'
  where id = 'e0000000-0000-4000-8000-000000000005';
  update bufdir_export_audit set status = 'generating_file'
  where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'a second walk to generating_file');
select lives_ok($$ update bufdir_export_audit set status = 'storing_file'
                   where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'generating_file -> storing_file (no attachments to bundle)');
select lives_ok($$ update bufdir_export_audit set status = 'cancelled'
                   where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'storing_file -> cancelled');

-- forbidden transitions ------------------------------------------------------

-- export 06 waits (initialised)
select throws_ok($$
  update bufdir_export_audit set status = 'completed', row_count = 1, file_size_bytes = 1,
    file_path = 'p', file_sha256 = repeat('ab', 32), download_url = 'u', download_url_expires_at = now() + interval '1 day'
  where id = 'e0000000-0000-4000-8000-000000000006' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000006: transition from initialised to completed is not allowed',
  'initialised -> completed is refused');
select throws_ok($$ update bufdir_export_audit set status = 'mapping_columns', runner_id = 'r',
                      lease_expires_at = now() + interval '5 minutes'
                    where id = 'e0000000-0000-4000-8000-000000000006' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000006: transition from initialised to mapping_columns is not allowed',
  'initialised -> mapping_columns is refused: an export is claimed first');

-- export 07 is mapping columns
update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
  lease_expires_at = now() + interval '5 minutes'
where id in ('e0000000-0000-4000-8000-000000000007', 'e0000000-0000-4000-8000-000000000008',
             'e0000000-0000-4000-8000-000000000009');
update bufdir_export_audit set status = 'mapping_columns'
where id in ('e0000000-0000-4000-8000-000000000007', 'e0000000-0000-4000-8000-000000000008',
             'e0000000-0000-4000-8000-000000000009');
select throws_ok($$ update bufdir_export_audit set status = 'querying_activities'
                    where id = 'e0000000-0000-4000-8000-000000000007' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000007: transition from mapping_columns to querying_activities is not allowed',
  'mapping_columns -> querying_activities is refused');
select throws_ok($$ update bufdir_export_audit set status = 'storing_file'
                    where id = 'e0000000-0000-4000-8000-000000000007' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000007: transition from mapping_columns to storing_file is not allowed',
  'mapping_columns -> storing_file is refused: no step is skipped');

-- export 08 is generating its file
update bufdir_export_audit set status = 'generating_file'
where id in ('e0000000-0000-4000-8000-000000000008', 'e0000000-0000-4000-8000-000000000009');
select throws_ok($$ update bufdir_export_audit set status = 'completed_empty', row_count = 0
                    where id = 'e0000000-0000-4000-8000-000000000008' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000008: transition from generating_file to completed_empty is not allowed',
  'generating_file -> completed_empty is refused');
select throws_ok($$ update bufdir_export_audit set status = 'mapping_columns'
                    where id = 'e0000000-0000-4000-8000-000000000008' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000008: transition from generating_file to mapping_columns is not allowed',
  'generating_file -> mapping_columns is refused: no step goes backwards');
select throws_ok($$
  update bufdir_export_audit set status = 'completed', row_count = 1, file_size_bytes = 1,
    file_path = 'p', file_sha256 = repeat('ab', 32), download_url = 'u', download_url_expires_at = now() + interval '1 day'
  where id = 'e0000000-0000-4000-8000-000000000008' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000008: transition from generating_file to completed is not allowed',
  'generating_file -> completed is refused: no export completes without storing its file');

-- export 09 is storing its file
update bufdir_export_audit set status = 'storing_file'
where id = 'e0000000-0000-4000-8000-000000000009';
select throws_ok($$ update bufdir_export_audit set status = 'generating_file'
                    where id = 'e0000000-0000-4000-8000-000000000009' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000009: transition from storing_file to generating_file is not allowed',
  'storing_file -> generating_file is refused');
select throws_ok($$ update bufdir_export_audit set status = 'bundling_attachments'
                    where id = 'e0000000-0000-4000-8000-000000000009' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000009: transition from storing_file to bundling_attachments is not allowed',
  'storing_file -> bundling_attachments is refused');
select throws_ok($$ update bufdir_export_audit set status = 'completed_empty', row_count = 0
                    where id = 'e0000000-0000-4000-8000-000000000009' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000009: transition from storing_file to completed_empty is not allowed',
  'storing_file -> completed_empty is refused');

-- service_role is held to the same rules
set local role service_role;
select throws_ok($$ update bufdir_export_audit set status = 'querying_activities'
                    where id = 'e0000000-0000-4000-8000-000000000009' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000009: transition from storing_file to querying_activities is not allowed',
  'service_role cannot break a transition rule either');
reset role;

-- the refused updates changed nothing
select results_eq(
  $$ select id, status::text from bufdir_export_audit
     where organisation_id = 'a0000000-0000-4000-8000-00000000000a' order by id $$,
  $$ values
     ('e0000000-0000-4000-8000-000000000001'::uuid, 'completed'::text),
     ('e0000000-0000-4000-8000-000000000002'::uuid, 'completed_empty'),
     ('e0000000-0000-4000-8000-000000000003'::uuid, 'failed'),
     ('e0000000-0000-4000-8000-000000000004'::uuid, 'cancelled'),
     ('e0000000-0000-4000-8000-000000000005'::uuid, 'cancelled'),
     ('e0000000-0000-4000-8000-000000000006'::uuid, 'initialised'),
     ('e0000000-0000-4000-8000-000000000007'::uuid, 'mapping_columns'),
     ('e0000000-0000-4000-8000-000000000008'::uuid, 'generating_file'),
     ('e0000000-0000-4000-8000-000000000009'::uuid, 'storing_file') $$,
  'every export is where its legal walk left it'
);
select is(
  (select count(*)::int from bufdir_export_audit
   where organisation_id = 'a0000000-0000-4000-8000-00000000000a'
     and (completed_at is not null)
         <> (status in ('completed', 'completed_empty', 'failed', 'cancelled'))),
  0, 'completed_at is set exactly on the exports that ended');

select * from finish();
rollback;
