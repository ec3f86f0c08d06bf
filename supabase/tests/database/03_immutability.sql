-- The request never changes after insert (XB002); a terminal export never
-- changes at all (XB003). As postgres and as service_role.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(12);

insert into auth.users (id, email) values ('b0000000-0000-4000-8000-000000000001', 'm@test.example');
insert into public.organisations (id, slug, name) values
  ('a0000000-0000-4000-8000-000000000001', 'test-org', 'Test'),
  ('a0000000-0000-4000-8000-000000000002', 'other-org', 'Other');
insert into public.organisation_members values
  ('a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'member'),
  ('a0000000-0000-4000-8000-000000000002', 'b0000000-0000-4000-8000-000000000001', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
select ('e0000000-0000-4000-8000-00000000000' || n)::uuid, 'a0000000-0000-4000-8000-000000000001',
       'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31'
from generate_series(1, 5) n;
update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
  lease_expires_at = now() + interval '5 minutes' where id <> 'e0000000-0000-4000-8000-000000000001';
update bufdir_export_audit set status = 'completed_empty', row_count = 0
  where id = 'e0000000-0000-4000-8000-000000000002';
update bufdir_export_audit set status = 'failed', error_code = 'internal'
  where id = 'e0000000-0000-4000-8000-000000000003';
update bufdir_export_audit set status = 'cancelled'
  where id = 'e0000000-0000-4000-8000-000000000004';

select throws_ok($$ update bufdir_export_audit set organisation_id = 'a0000000-0000-4000-8000-000000000002'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', null, 'organisation_id never changes');
select throws_ok($$ update bufdir_export_audit set requested_by = gen_random_uuid()
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', null, 'requested_by never changes');
select throws_ok($$ update bufdir_export_audit set period_start = '2025-02-01'
                    where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'XB002', null, 'period_start never changes, in progress either');
select throws_ok($$ update bufdir_export_audit set period_end = '2025-11-30'
                    where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'XB002', null, 'period_end never changes');
select throws_ok($$ update bufdir_export_audit set format = 'csv'
                    where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'XB002', null, 'format never changes');
select throws_ok($$ update bufdir_export_audit set include_attachments = true
                    where id = 'e0000000-0000-4000-8000-000000000005' $$,
  'XB002', null, 'include_attachments never changes');

set local role service_role;
select throws_ok($$ update bufdir_export_audit set format = 'csv'
                    where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB002', null, 'service_role cannot change the request either');
select throws_ok($$ update bufdir_export_audit set error_message = 'rewritten'
                    where id = 'e0000000-0000-4000-8000-000000000003' $$,
  'XB003', 'export e0000000-0000-4000-8000-000000000003 is failed, a terminal status: it never changes again',
  'service_role cannot rewrite a failed export');
reset role;

select throws_ok($$ update bufdir_export_audit set status = status
                    where id = 'e0000000-0000-4000-8000-000000000002' $$,
  'XB003', null, 'a completed_empty export refuses even a no-op update');
select throws_ok($$ update bufdir_export_audit set status = 'initialised', runner_id = null,
                      lease_expires_at = null where id = 'e0000000-0000-4000-8000-000000000004' $$,
  'XB003', null, 'a cancelled export is never re-queued');
select throws_ok($$ update bufdir_export_audit set download_url = 'http://elsewhere/'
                    where id = 'e0000000-0000-4000-8000-000000000003' $$,
  'XB003', null, 'postgres cannot add a URL to a failed export');
select is(
  (select count(*)::int from bufdir_export_audit
    where organisation_id = 'a0000000-0000-4000-8000-000000000001' and format = 'xlsx'
      and period_start = '2025-01-01' and error_message is null),
  5, 'nothing of the refused updates was written'
);

select * from finish();
rollback;
