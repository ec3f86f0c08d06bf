-- Which status may follow which: the legal walks succeed, anything else is
-- refused with XB001 and a message that names both statuses.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(14);

insert into auth.users (id, email) values ('b0000000-0000-4000-8000-000000000001', 'm@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-000000000001', 'test-org', 'Test');
insert into public.organisation_members values
  ('a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
select ('e0000000-0000-4000-8000-00000000000' || n)::uuid, 'a0000000-0000-4000-8000-000000000001',
       'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31'
from generate_series(1, 4) n;

-- export 1: the full walk, with attachments
select lives_ok($$
  update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
    lease_expires_at = now() + interval '5 minutes' where id = 'e0000000-0000-4000-8000-000000000001';
  update bufdir_export_audit set status = 'mapping_columns' where id = 'e0000000-0000-4000-8000-000000000001';
  update bufdir_export_audit set status = 'generating_file' where id = 'e0000000-0000-4000-8000-000000000001';
  update bufdir_export_audit set status = 'bundling_attachments' where id = 'e0000000-0000-4000-8000-000000000001';
  update bufdir_export_audit set status = 'storing_file' where id = 'e0000000-0000-4000-8000-000000000001';
  update bufdir_export_audit set status = 'completed', row_count = 1, file_size_bytes = 10,
    file_path = 'p', download_url = 'u', download_url_expires_at = now() + interval '1 day'
    where id = 'e0000000-0000-4000-8000-000000000001'
$$, 'initialised to completed through every step');
select is((select completed_at is not null from bufdir_export_audit
           where id = 'e0000000-0000-4000-8000-000000000001'), true, 'completed_at is set at the end');

-- export 2: nothing to report
select lives_ok($$
  update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
    lease_expires_at = now() + interval '5 minutes' where id = 'e0000000-0000-4000-8000-000000000002';
  update bufdir_export_audit set status = 'completed_empty', row_count = 0
    where id = 'e0000000-0000-4000-8000-000000000002'
$$, 'querying_activities to completed_empty');

-- export 3: failed straight away; export 4: cancelled while generating
select lives_ok($$
  update bufdir_export_audit set status = 'failed', error_code = 'internal'
    where id = 'e0000000-0000-4000-8000-000000000003'
$$, 'initialised to failed');
select lives_ok($$
  update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
    lease_expires_at = now() + interval '5 minutes' where id = 'e0000000-0000-4000-8000-000000000004';
  update bufdir_export_audit set status = 'mapping_columns' where id = 'e0000000-0000-4000-8000-000000000004';
  update bufdir_export_audit set status = 'generating_file' where id = 'e0000000-0000-4000-8000-000000000004'
$$, 'a walk to generating_file');

select throws_ok($$ update bufdir_export_audit set status = 'completed_empty', row_count = 0
                    where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000004: transition from generating_file to completed_empty is not allowed',
  'generating_file -> completed_empty is refused');
select throws_ok($$ update bufdir_export_audit set status = 'mapping_columns'
                    where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000004: transition from generating_file to mapping_columns is not allowed',
  'no step goes backwards');
select throws_ok($$ update bufdir_export_audit set status = 'querying_activities'
                    where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'XB001', null, 'generating_file -> querying_activities is refused');
select throws_ok($$ update bufdir_export_audit set status = 'completed', row_count = 1,
                      file_size_bytes = 1, file_path = 'p', download_url = 'u',
                      download_url_expires_at = now()
                    where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'XB001', null, 'no export completes without storing its file');
select lives_ok($$ update bufdir_export_audit set status = 'storing_file'
                   where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'generating_file -> storing_file skips bundling');
select throws_ok($$ update bufdir_export_audit set status = 'bundling_attachments'
                    where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'XB001', null, 'storing_file -> bundling_attachments is refused');
select lives_ok($$ update bufdir_export_audit set status = 'cancelled'
                   where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'storing_file -> cancelled');

insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
values ('e0000000-0000-4000-8000-000000000005', 'a0000000-0000-4000-8000-000000000001',
        'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31');
select throws_ok($$ update bufdir_export_audit set status = 'mapping_columns'
                    where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'XB001', 'export e0000000-0000-4000-8000-000000000005: transition from initialised to mapping_columns is not allowed',
  'an export is claimed before anything else');
select is(
  (select count(*)::int from bufdir_export_audit_events where export_id = 'e0000000-0000-4000-8000-000000000001'),
  7, 'the full walk left seven events (insert and six changes)'
);

select * from finish();
rollback;
