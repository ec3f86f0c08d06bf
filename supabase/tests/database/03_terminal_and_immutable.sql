-- A terminal export never changes again, not even a column beside its status
-- (XB003); the request never changes after insert (XB002). As postgres and as
-- service_role, which bypass RLS but not the triggers.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
-- More unfinished exports of one requester than a project allows (3): the
-- limit is raised for this file only (it rolls back with it).
update bufdir_private.export_limits set max_unfinished_per_requester = 100;
select plan(27);

-- Where postgres is no superuser (a hosted project), it may still give itself
-- the runner role for this transaction.
grant bufdir_export_runner to current_user;

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-000000000001', 'immutable-member@test.example');
insert into public.organisations (id, slug, name) values
  ('a0000000-0000-4000-8000-00000000000a', 'test-immutable-a', 'Immutable A'),
  ('a0000000-0000-4000-8000-00000000000b', 'test-immutable-b', 'Immutable B');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member'),
  ('a0000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-000000000001', 'member');

-- 01 initialised, 02 mapping_columns, 03 completed, 04 completed_empty,
-- 05 failed, 06 cancelled
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
select ('e0000000-0000-4000-8000-00000000000' || n)::uuid, 'a0000000-0000-4000-8000-00000000000a',
       'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31'
from generate_series(1, 6) n;
update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
  lease_expires_at = now() + interval '5 minutes'
where id in ('e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000003',
             'e0000000-0000-4000-8000-000000000004', 'e0000000-0000-4000-8000-000000000005');
update bufdir_export_audit set status = 'mapping_columns'
where id in ('e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000003');
update bufdir_export_audit set status = 'generating_file'
where id = 'e0000000-0000-4000-8000-000000000003';
update bufdir_export_audit set status = 'storing_file'
where id = 'e0000000-0000-4000-8000-000000000003';
update bufdir_export_audit set status = 'completed', row_count = 2, file_size_bytes = 100,
  file_path = 'a0000000-0000-4000-8000-00000000000a/e0000000-0000-4000-8000-000000000003/r.xlsx',
  file_sha256 = repeat('ab', 32), download_url = 'https://files.test.example/r.xlsx',
  download_url_expires_at = now() + interval '1 day'
where id = 'e0000000-0000-4000-8000-000000000003';
update bufdir_export_audit set status = 'completed_empty', row_count = 0
where id = 'e0000000-0000-4000-8000-000000000004';
update bufdir_export_audit set status = 'failed', error_code = 'internal', error_message = 'boom'
where id = 'e0000000-0000-4000-8000-000000000005';
update bufdir_export_audit set status = 'cancelled'
where id = 'e0000000-0000-4000-8000-000000000006';

create temp table before_refusals on commit drop as
  select * from bufdir_export_audit where organisation_id = 'a0000000-0000-4000-8000-00000000000a';

-- terminal rows, as postgres ---------------------------------------------------

select throws_ok($$ update bufdir_export_audit set download_url = 'https://elsewhere.test.example/'
                    where id = 'e0000000-0000-4000-8000-000000000003' $$,
  'XB003', 'export e0000000-0000-4000-8000-000000000003 is completed, a terminal status: it never changes again',
  'a completed export refuses a new download URL');
select throws_ok($$ update bufdir_export_audit set status = status
                    where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'XB003', 'export e0000000-0000-4000-8000-000000000004 is completed_empty, a terminal status: it never changes again',
  'a completed_empty export refuses even a no-op update');
select throws_ok($$ update bufdir_export_audit set error_message = 'rewritten'
                    where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'XB003', 'export e0000000-0000-4000-8000-000000000005 is failed, a terminal status: it never changes again',
  'a failed export refuses a new error message');
select throws_ok($$ update bufdir_export_audit set status = 'initialised'
                    where id = 'e0000000-0000-4000-8000-000000000006' $$,
  'XB003', 'export e0000000-0000-4000-8000-000000000006 is cancelled, a terminal status: it never changes again',
  'a cancelled export is never re-queued');

-- terminal rows, as service_role -----------------------------------------------

set local role service_role;
select throws_ok($$ update bufdir_export_audit set download_url_expires_at = now() + interval '1 year'
                    where id = 'e0000000-0000-4000-8000-000000000003' $$,
  'XB003', null, 'service_role cannot extend a completed export''s link');
select throws_ok($$ update bufdir_export_audit set rows_done = 0, rows_total = 0
                    where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'XB003', null, 'service_role cannot touch a completed_empty export');
select throws_ok($$ update bufdir_export_audit set error_code = 'storage_error'
                    where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'XB003', null, 'service_role cannot rewrite why an export failed');
select throws_ok($$ update bufdir_export_audit set runner_id = 'another'
                    where id = 'e0000000-0000-4000-8000-000000000006' $$,
  'XB003', null, 'service_role cannot touch a cancelled export');
reset role;

select throws_ok($$
  set local role bufdir_export_runner;
  update bufdir_export_audit set status = 'failed', error_code = 'internal'
  where id = 'e0000000-0000-4000-8000-000000000003' $$,
  'XB003', null, 'the runner cannot fail a completed export');

-- the request, as postgres -------------------------------------------------------

select throws_ok($$ update bufdir_export_audit set organisation_id = 'a0000000-0000-4000-8000-00000000000b'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', 'export e0000000-0000-4000-8000-000000000001 : the request (organisation, requester, period, format, attachments) never changes after insert',
  'organisation_id never changes');
select throws_ok($$ update bufdir_export_audit set requested_by = 'b0000000-0000-4000-8000-0000000000ff'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', null, 'requested_by never changes');
select throws_ok($$ update bufdir_export_audit set period_start = '2025-02-01'
                    where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'XB002', null, 'period_start never changes, in progress either');
select throws_ok($$ update bufdir_export_audit set period_end = '2025-11-30'
                    where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'XB002', null, 'period_end never changes');
select throws_ok($$ update bufdir_export_audit set format = 'csv'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', null, 'format never changes');
select throws_ok($$ update bufdir_export_audit set include_attachments = true
                    where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'XB002', null, 'include_attachments never changes');
select throws_ok($$ update bufdir_export_audit set created_at = created_at - interval '1 day'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', null, 'created_at never changes');
select throws_ok($$ update bufdir_export_audit set status = 'generating_file', format = 'csv'
                    where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'XB002', null, 'nor along with a legal status change');

-- the request, as service_role ----------------------------------------------------

set local role service_role;
select throws_ok($$ update bufdir_export_audit set organisation_id = 'a0000000-0000-4000-8000-00000000000b'
                    where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'XB002', null, 'service_role cannot move an export to another organisation');
select throws_ok($$ update bufdir_export_audit set requested_by = 'b0000000-0000-4000-8000-0000000000ff'
                    where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'XB002', null, 'service_role cannot change the requester');
select throws_ok($$ update bufdir_export_audit set period_start = '2025-02-01'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', null, 'service_role cannot change period_start');
select throws_ok($$ update bufdir_export_audit set period_end = '2025-11-30'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', null, 'service_role cannot change period_end');
select throws_ok($$ update bufdir_export_audit set format = 'csv'
                    where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'XB002', null, 'service_role cannot change the format');
select throws_ok($$ update bufdir_export_audit set include_attachments = true
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', null, 'service_role cannot change include_attachments');
select lives_ok($$ update bufdir_export_audit set rows_total = 10, rows_done = 4
                   where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'but service_role may record progress on an unfinished export');
reset role;

-- the runner holds no privilege on the request columns at all
select throws_ok($$
  set local role bufdir_export_runner;
  update bufdir_export_audit set format = 'csv' where id = 'e0000000-0000-4000-8000-000000000002' $$,
  '42501', null, 'the runner cannot even name a request column');

-- nothing of the refusals was written -------------------------------------------

select results_eq(
  $$ select id, organisation_id, requested_by, period_start, period_end, format::text,
            include_attachments, status::text, created_at
     from bufdir_export_audit where organisation_id = 'a0000000-0000-4000-8000-00000000000a'
     order by id $$,
  $$ select id, organisation_id, requested_by, period_start, period_end, format::text,
            include_attachments, status::text, created_at
     from before_refusals order by id $$,
  'every request and status is as it was'
);
select results_eq(
  $$ select id, row_count, file_path, download_url, download_url_expires_at, error_code,
            error_message, runner_id, rows_done, completed_at, updated_at
     from bufdir_export_audit
     where organisation_id = 'a0000000-0000-4000-8000-00000000000a'
       and status in ('completed', 'completed_empty', 'failed', 'cancelled')
     order by id $$,
  $$ select id, row_count, file_path, download_url, download_url_expires_at, error_code,
            error_message, runner_id, rows_done, completed_at, updated_at
     from before_refusals
     where status in ('completed', 'completed_empty', 'failed', 'cancelled')
     order by id $$,
  'every terminal export is exactly as it ended'
);

select * from finish();
rollback;
