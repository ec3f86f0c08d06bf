-- The claim as the runner makes it: claim_bufdir_export_for_run claims the
-- oldest waiting export and reads, after the claim, the requester's scope, the
-- claim's event and the activity count.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(12);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-0000000000f1', 'claim-member@test.example'),
  ('b0000000-0000-4000-8000-0000000000f2', 'claim-admin@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-0000000000f0', 'test-claim', 'Claim');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-0000000000f0', 'b0000000-0000-4000-8000-0000000000f1', 'member'),
  ('a0000000-0000-4000-8000-0000000000f0', 'b0000000-0000-4000-8000-0000000000f2', 'admin');
insert into public.local_chapters (id, organisation_id, name, county_code, municipality_number)
  values ('c0000000-0000-4000-8000-0000000000f0', 'a0000000-0000-4000-8000-0000000000f0',
          'Claim Oslo', '03', '0301');
insert into public.activity_types (id, organisation_id, code, name)
  values ('d0000000-0000-4000-8000-0000000000f0', 'a0000000-0000-4000-8000-0000000000f0',
          'samtale', 'Samtale');
-- Two recorded by the member and one by the admin in 2025; one in 2024.
insert into public.activities (organisation_id, chapter_id, peer_mentor_id, activity_type_id,
                               activity_date, duration_minutes, participant_count,
                               contact_method, recorded_by)
select 'a0000000-0000-4000-8000-0000000000f0', 'c0000000-0000-4000-8000-0000000000f0',
       gen_random_uuid(), 'd0000000-0000-4000-8000-0000000000f0', d::date, 60, 3, 'in_person',
       r::uuid
from (values ('2025-03-01', 'b0000000-0000-4000-8000-0000000000f1'),
             ('2025-04-01', 'b0000000-0000-4000-8000-0000000000f1'),
             ('2025-05-01', 'b0000000-0000-4000-8000-0000000000f2'),
             ('2024-05-01', 'b0000000-0000-4000-8000-0000000000f1')) as v(d, r);
-- Requested in this order: the member's, the admin's, the member's again.
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end,
                                        created_at)
values ('e0000000-0000-4000-8000-0000000000f1', 'a0000000-0000-4000-8000-0000000000f0',
        'b0000000-0000-4000-8000-0000000000f1', '2025-01-01', '2025-12-31', now() - interval '3 s'),
       ('e0000000-0000-4000-8000-0000000000f2', 'a0000000-0000-4000-8000-0000000000f0',
        'b0000000-0000-4000-8000-0000000000f2', '2025-01-01', '2025-12-31', now() - interval '2 s'),
       ('e0000000-0000-4000-8000-0000000000f3', 'a0000000-0000-4000-8000-0000000000f0',
        'b0000000-0000-4000-8000-0000000000f1', '2025-01-01', '2025-12-31', now() - interval '1 s');
-- Nothing else may wait in this database: the claim takes the oldest.
update public.bufdir_export_audit set status = 'cancelled'
where status = 'initialised' and organisation_id <> 'a0000000-0000-4000-8000-0000000000f0';

-- what it is -------------------------------------------------------------------------

select ok(
  exists (select 1 from pg_proc p
          where p.oid = 'bufdir_private.claim_bufdir_export_for_run(text, integer)'::regprocedure
            and p.provolatile = 'v' and not p.prosecdef
            and p.proconfig @> array['search_path=""']),
  'volatile (a snapshot per statement), security invoker, with an empty search_path');
select function_privs_are('bufdir_private', 'claim_bufdir_export_for_run', array['text', 'integer'],
  'authenticated', array[]::text[], 'a signed-in user cannot claim');
select function_privs_are('bufdir_private', 'claim_bufdir_export_for_run', array['text', 'integer'],
  'bufdir_export_runner', array['EXECUTE'], 'the runner can');

-- as the runner ----------------------------------------------------------------------

-- Each claim is kept as JSON in a setting of this transaction, to be checked
-- against the tables as postgres.
set local role bufdir_export_runner;
select from set_config('test.first', (select to_jsonb(c)::text
  from bufdir_private.claim_bufdir_export_for_run('claim-runner', 60) c), true);
select from set_config('test.second', (select to_jsonb(c)::text
  from bufdir_private.claim_bufdir_export_for_run('claim-runner', 60) c), true);
reset role;

create function pg_temp.claimed(p_name text) returns jsonb language sql
as $$ select pg_catalog.current_setting('test.' || p_name)::jsonb $$;
create function pg_temp.claim_event(p_export_id text) returns jsonb language sql
as $$ select jsonb_build_object('audit_event_id', e.id, 'audit_hash', e.hash)
      from public.bufdir_export_audit_events e
      where e.export_id = p_export_id::uuid and e.to_status = 'querying_activities' $$;

select is(
  (select jsonb_build_object('id', c -> 'export' ->> 'id', 'status', c -> 'export' ->> 'status',
            'runner', c -> 'export' ->> 'runner_id', 'attempts', c -> 'export' -> 'attempts',
            'scope', c -> 'scope', 'count', c -> 'activity_count')
   from pg_temp.claimed('first') c),
  jsonb_build_object('id', 'e0000000-0000-4000-8000-0000000000f1', 'status', 'querying_activities',
    'runner', 'claim-runner', 'attempts', 1, 'scope', 'own', 'count', 2),
  'the oldest is claimed; a member''s export counts what they recorded in the period');
select is(
  (select c - 'export' - 'scope' - 'activity_count' from pg_temp.claimed('first') c),
  pg_temp.claim_event('e0000000-0000-4000-8000-0000000000f1'),
  'it names the claim''s event and its hash');
select is(
  (select jsonb_build_object('id', c -> 'export' ->> 'id', 'scope', c -> 'scope',
            'count', c -> 'activity_count')
   from pg_temp.claimed('second') c),
  jsonb_build_object('id', 'e0000000-0000-4000-8000-0000000000f2', 'scope', 'organisation',
    'count', 3),
  'an admin''s export counts the organisation''s activities in the period');
select is(
  (select c - 'export' - 'scope' - 'activity_count' from pg_temp.claimed('second') c),
  pg_temp.claim_event('e0000000-0000-4000-8000-0000000000f2'),
  'and names its own claim''s event');

-- A requester no longer a member: claimed, with no scope and no count.
delete from public.organisation_members
where user_id = 'b0000000-0000-4000-8000-0000000000f1';
set local role bufdir_export_runner;
select from set_config('test.third', (select to_jsonb(c)::text
  from bufdir_private.claim_bufdir_export_for_run('claim-runner', 60) c), true);
select from set_config('test.none', (select count(*)::text
  from bufdir_private.claim_bufdir_export_for_run('claim-runner', 60) c), true);
reset role;
select is(
  (select jsonb_build_object('id', c -> 'export' ->> 'id', 'status', c -> 'export' ->> 'status',
            'scope', c -> 'scope', 'count', c -> 'activity_count')
   from pg_temp.claimed('third') c),
  jsonb_build_object('id', 'e0000000-0000-4000-8000-0000000000f3', 'status', 'querying_activities',
    'scope', null, 'count', null),
  'a requester who left: claimed without scope or count (the runner fails it as forbidden)');
select is(current_setting('test.none'), '0', 'nothing waits: nothing is claimed');

-- A count that fails leaves the claim standing and the count to the step.
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-0000000000f0', 'b0000000-0000-4000-8000-0000000000f1', 'member');
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end)
values ('e0000000-0000-4000-8000-0000000000f4', 'a0000000-0000-4000-8000-0000000000f0',
        'b0000000-0000-4000-8000-0000000000f1', '2025-01-01', '2025-12-31');
revoke select on bufdir_private.export_activities from bufdir_export_runner;
select throws_ok(
  $$ set local role bufdir_export_runner; select count(*) from bufdir_private.export_activities $$,
  '42501', null, 'without its grant, the runner cannot count the activities');
reset role;
set local role bufdir_export_runner;
select from set_config('test.fourth', (select to_jsonb(c)::text
  from bufdir_private.claim_bufdir_export_for_run('claim-runner', 60) c), true);
reset role;
select is(
  (select jsonb_build_object('id', c -> 'export' ->> 'id', 'scope', c -> 'scope',
            'count', c -> 'activity_count')
   from pg_temp.claimed('fourth') c),
  jsonb_build_object('id', 'e0000000-0000-4000-8000-0000000000f4', 'scope', 'own', 'count', null),
  'a count that fails is left to the querying step; the claim stands');
select is(
  (select status::text from public.bufdir_export_audit
   where id = 'e0000000-0000-4000-8000-0000000000f4'),
  'querying_activities', 'and is written with the call');

select * from finish();
rollback;
