-- Retention: the runner records when a completed export's file was deleted
-- from storage; the record is kept, read by whoever reads the export, and the
-- export itself never changes.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(10);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-0000000000e1', 'retention-member@test.example'),
  ('b0000000-0000-4000-8000-0000000000e2', 'retention-other@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-0000000000e0', 'test-retention', 'Retention');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-0000000000e0', 'b0000000-0000-4000-8000-0000000000e1', 'member'),
  ('a0000000-0000-4000-8000-0000000000e0', 'b0000000-0000-4000-8000-0000000000e2', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
values ('e0000000-0000-4000-8000-0000000000e1', 'a0000000-0000-4000-8000-0000000000e0',
        'b0000000-0000-4000-8000-0000000000e1', '2025-01-01', '2025-12-31'),
       ('e0000000-0000-4000-8000-0000000000e2', 'a0000000-0000-4000-8000-0000000000e0',
        'b0000000-0000-4000-8000-0000000000e1', '2024-01-01', '2024-12-31');
-- The first one completes with its file (walked as postgres); the second stays waiting.
select from bufdir_private.claim_bufdir_export('retention-runner', 60);
update public.bufdir_export_audit set status = 'mapping_columns'
where id = 'e0000000-0000-4000-8000-0000000000e1';
update public.bufdir_export_audit set status = 'generating_file'
where id = 'e0000000-0000-4000-8000-0000000000e1';
update public.bufdir_export_audit set status = 'storing_file'
where id = 'e0000000-0000-4000-8000-0000000000e1';
select from bufdir_private.complete_bufdir_export(
  'e0000000-0000-4000-8000-0000000000e1', 'retention-runner', 1, 10, 2048,
  'a0000000-0000-4000-8000-0000000000e0/e0000000-0000-4000-8000-0000000000e1/r.xlsx',
  'https://files.example/r.xlsx', now() + interval '1 day', 7, repeat('ab', 32));

-- the runner records the deletion ---------------------------------------------------

-- Each answer is kept in a setting of this transaction, to be checked as postgres.
set local role bufdir_export_runner;
select from set_config('test.first', bufdir_private.record_export_file_deleted(
  'e0000000-0000-4000-8000-0000000000e1', 'purger')::text, true);
select from set_config('test.second', bufdir_private.record_export_file_deleted(
  'e0000000-0000-4000-8000-0000000000e1', 'purger')::text, true);
reset role;
select is(current_setting('test.first'),
  (select deleted_at::text from public.bufdir_export_file_deletions
   where export_id = 'e0000000-0000-4000-8000-0000000000e1'),
  'the runner records that a completed export''s file was deleted, and when');
select is(current_setting('test.second'), current_setting('test.first'),
  'a second record changes nothing: the first moment stands');
select throws_ok(
  $$ set local role bufdir_export_runner;
     select bufdir_private.record_export_file_deleted('e0000000-0000-4000-8000-0000000000e2', 'purger') $$,
  'XB007', null, 'an export that did not complete with a file has no file to delete');
reset role;
select results_eq(
  $$ select file_path, actor from public.bufdir_export_file_deletions $$,
  $$ values ('a0000000-0000-4000-8000-0000000000e0/e0000000-0000-4000-8000-0000000000e1/r.xlsx'::text,
             'runner:purger'::text) $$,
  'the record names the file and the runner');
select is(
  (select status::text || ' ' || file_path from public.bufdir_export_audit
   where id = 'e0000000-0000-4000-8000-0000000000e1'),
  'completed a0000000-0000-4000-8000-0000000000e0/e0000000-0000-4000-8000-0000000000e1/r.xlsx',
  'the export itself is unchanged');

-- who reads it, and that it is kept --------------------------------------------------

select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-0000000000e1", "role": "authenticated"}', true);
set local role authenticated;
select is((select count(*)::int from public.bufdir_export_file_deletions), 1,
  'the requester reads when the file of their export was deleted');
reset role;
select set_config('request.jwt.claims',
  '{"sub": "b0000000-0000-4000-8000-0000000000e2", "role": "authenticated"}', true);
set local role authenticated;
select is((select count(*)::int from public.bufdir_export_file_deletions), 0,
  'another member does not');
select throws_ok(
  $$ insert into public.bufdir_export_file_deletions (export_id, file_path, actor)
     values ('e0000000-0000-4000-8000-0000000000e2', 'x', 'user:me') $$,
  '42501', null, 'nobody writes a record but through the function');
reset role;
select throws_ok(
  $$ delete from public.bufdir_export_file_deletions $$,
  'XB006', null, 'the record is never deleted, even by postgres');
select throws_ok(
  $$ update public.bufdir_export_file_deletions set deleted_at = now() $$,
  'XB006', null, 'nor changed');

select * from finish();
rollback;
