-- Re-queue only once the lease has expired; the reaper re-queues or gives up.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(8);

insert into auth.users (id, email) values ('b0000000-0000-4000-8000-000000000001', 'm@test.example');
insert into public.organisations (id, slug, name) values ('a0000000-0000-4000-8000-00000000000a', 'org-a', 'A');
insert into public.organisation_members values
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-000000000001', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
select ('e0000000-0000-4000-8000-00000000000' || n)::uuid, 'a0000000-0000-4000-8000-00000000000a',
       'b0000000-0000-4000-8000-000000000001', '2025-01-01', '2025-12-31'
from generate_series(1, 4) n;
update bufdir_export_audit set status = 'querying_activities', runner_id = 'r', attempts = 1,
  lease_expires_at = now() + interval '5 minutes';
update bufdir_export_audit set status = 'mapping_columns';

select throws_ok($$ update bufdir_export_audit set status = 'initialised', runner_id = null,
                      lease_expires_at = null where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'XB005', null, 'no re-queue while the lease runs');

update bufdir_export_audit set lease_expires_at = now() - interval '1 second'
  where id = 'e0000000-0000-4000-8000-000000000001';
select lives_ok($$ update bufdir_export_audit set status = 'initialised', runner_id = null,
                     lease_expires_at = null where id = 'e0000000-0000-4000-8000-000000000001' $$,
  'a re-queue once it has expired');

-- export 2: expired, attempts left; export 3: expired, out of attempts; export 4: alive
update bufdir_export_audit set lease_expires_at = now() - interval '1 second'
  where id in ('e0000000-0000-4000-8000-000000000002', 'e0000000-0000-4000-8000-000000000003');
update bufdir_export_audit set attempts = 3 where id = 'e0000000-0000-4000-8000-000000000003';

select results_eq(
  $$ select export_id, from_status::text, to_status::text from bufdir_private.reap_bufdir_exports(3) order by export_id $$,
  $$ values ('e0000000-0000-4000-8000-000000000002'::uuid, 'mapping_columns'::text, 'initialised'::text),
            ('e0000000-0000-4000-8000-000000000003'::uuid, 'mapping_columns', 'failed') $$,
  'the reaper re-queues one and gives up on the other'
);
select results_eq(
  $$ select status::text, error_code, runner_id from bufdir_export_audit where id = 'e0000000-0000-4000-8000-000000000003' $$,
  $$ values ('failed'::text, 'runner_lost'::text, 'r'::text) $$,
  'out of attempts: failed as runner_lost, the last runner kept'
);
select results_eq(
  $$ select status::text, runner_id, lease_expires_at from bufdir_export_audit where id = 'e0000000-0000-4000-8000-000000000002' $$,
  $$ values ('initialised'::text, null::text, null::timestamptz) $$,
  'attempts left: waiting again, with no runner and no lease'
);
select is((select status::text from bufdir_export_audit where id = 'e0000000-0000-4000-8000-000000000004'),
  'mapping_columns', 'an export with a live lease is left alone');
select is_empty($$ select * from bufdir_private.reap_bufdir_exports(3) $$, 'a second pass finds nothing');
select throws_ok($$ select * from bufdir_private.reap_bufdir_exports(0) $$,
  '22023', null, 'max attempts below one is refused');

select * from finish();
rollback;
