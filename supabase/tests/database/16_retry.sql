-- Retrying an export: a new export with the same request, linked by retry_of,
-- for whoever may see the old one, once, and only when it failed or was cancelled.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(14);

insert into auth.users (id, email) values
  ('b0000000-0000-4000-8000-0000000000a1', 'retry-member@test.example'),
  ('b0000000-0000-4000-8000-0000000000a2', 'retry-other@test.example'),
  ('b0000000-0000-4000-8000-0000000000a3', 'retry-admin@test.example');
insert into public.organisations (id, slug, name)
  values ('a0000000-0000-4000-8000-0000000000a0', 'test-retry', 'Retry');
insert into public.organisation_members (organisation_id, user_id, role) values
  ('a0000000-0000-4000-8000-0000000000a0', 'b0000000-0000-4000-8000-0000000000a1', 'member'),
  ('a0000000-0000-4000-8000-0000000000a0', 'b0000000-0000-4000-8000-0000000000a2', 'member'),
  ('a0000000-0000-4000-8000-0000000000a0', 'b0000000-0000-4000-8000-0000000000a3', 'admin');
-- The member's: one failed, one cancelled, one still waiting.
insert into public.bufdir_export_audit (id, organisation_id, requested_by, period_start, period_end,
                                        format, include_attachments)
values ('e0000000-0000-4000-8000-0000000000a1', 'a0000000-0000-4000-8000-0000000000a0',
        'b0000000-0000-4000-8000-0000000000a1', '2025-01-01', '2025-12-31', 'csv', true),
       ('e0000000-0000-4000-8000-0000000000a2', 'a0000000-0000-4000-8000-0000000000a0',
        'b0000000-0000-4000-8000-0000000000a1', '2024-01-01', '2024-12-31', 'xlsx', false),
       ('e0000000-0000-4000-8000-0000000000a3', 'a0000000-0000-4000-8000-0000000000a0',
        'b0000000-0000-4000-8000-0000000000a1', '2023-01-01', '2023-12-31', 'xlsx', false);
update public.bufdir_export_audit
set status = 'failed', error_code = 'storage_error', error_message = 'Storage was down'
where id = 'e0000000-0000-4000-8000-0000000000a1';
update public.bufdir_export_audit set status = 'cancelled'
where id = 'e0000000-0000-4000-8000-0000000000a2';

create function pg_temp.as_user(p_user text) returns void language sql as $$
  select set_config('request.jwt.claims',
                    pg_catalog.json_build_object('sub', p_user, 'role', 'authenticated')::text, true),
         set_config('role', 'authenticated', true);
$$;

-- what it is ------------------------------------------------------------------------

select ok(
  exists (select 1 from pg_proc p
          where p.oid = 'public.retry_bufdir_export(uuid)'::regprocedure
            and not p.prosecdef and p.proconfig @> array['search_path=""']),
  'security invoker (RLS decides who may see the old export), with an empty search_path');
select function_privs_are('public', 'retry_bufdir_export', array['uuid'], 'anon',
  array[]::text[], 'anon cannot retry');

-- the requester ---------------------------------------------------------------------

select pg_temp.as_user('b0000000-0000-4000-8000-0000000000a1');
select results_eq(
  $$ select r.status::text, r.retry_of, r.requested_by, r.period_start, r.period_end,
            r.format::text, r.include_attachments
     from public.retry_bufdir_export('e0000000-0000-4000-8000-0000000000a1') r $$,
  $$ values ('initialised'::text, 'e0000000-0000-4000-8000-0000000000a1'::uuid,
             'b0000000-0000-4000-8000-0000000000a1'::uuid, '2025-01-01'::date,
             '2025-12-31'::date, 'csv'::text, true) $$,
  'the requester retries a failed export: the same request, waiting, linked to the old one');
select throws_ok(
  $$ select public.retry_bufdir_export('e0000000-0000-4000-8000-0000000000a1') $$,
  'XB011', null, 'an export is retried once');
select throws_ok(
  $$ select public.retry_bufdir_export('e0000000-0000-4000-8000-0000000000a3') $$,
  'XB011', 'export e0000000-0000-4000-8000-0000000000a3 is initialised: only a failed or cancelled export can be retried',
  'an export that has not ended as failed or cancelled is not retried');
select throws_ok(
  $$ insert into public.bufdir_export_audit
       (organisation_id, requested_by, period_start, period_end, retry_of)
     values ('a0000000-0000-4000-8000-0000000000a0', 'b0000000-0000-4000-8000-0000000000a1',
             '2022-01-01', '2022-12-31', 'e0000000-0000-4000-8000-0000000000a2') $$,
  'XB011', null, 'an insert naming retry_of asks for what the old export asked for');
select throws_ok(
  $$ select public.retry_bufdir_export(gen_random_uuid()) $$,
  'XB007', null, 'an export that does not exist is not retried');
reset role;

-- another member, and the admin ----------------------------------------------------

select pg_temp.as_user('b0000000-0000-4000-8000-0000000000a2');
select throws_ok(
  $$ select public.retry_bufdir_export('e0000000-0000-4000-8000-0000000000a2') $$,
  'XB007', null, 'another member cannot see the export, so cannot retry it');
reset role;
select pg_temp.as_user('b0000000-0000-4000-8000-0000000000a3');
select results_eq(
  $$ select r.retry_of, r.requested_by
     from public.retry_bufdir_export('e0000000-0000-4000-8000-0000000000a2') r $$,
  $$ values ('e0000000-0000-4000-8000-0000000000a2'::uuid,
             'b0000000-0000-4000-8000-0000000000a3'::uuid) $$,
  'an admin retries a member''s cancelled export, as the admin');
reset role;

-- a retry of a retry, and the link kept --------------------------------------------

update public.bufdir_export_audit set status = 'cancelled'
where retry_of = 'e0000000-0000-4000-8000-0000000000a1';
select pg_temp.as_user('b0000000-0000-4000-8000-0000000000a1');
select is(
  (select r.retry_of from public.retry_bufdir_export(
     (select e.id from public.bufdir_export_audit e
      where e.retry_of = 'e0000000-0000-4000-8000-0000000000a1')) r),
  (select e.id from public.bufdir_export_audit e
   where e.retry_of = 'e0000000-0000-4000-8000-0000000000a1'),
  'a retry that was cancelled is retried in its turn');
reset role;
select throws_ok(
  $$ update public.bufdir_export_audit set retry_of = null
     where retry_of = 'e0000000-0000-4000-8000-0000000000a2' $$,
  'XB002', null, 'the link never changes, whoever asks');
select is(
  (select count(*)::int from public.bufdir_export_audit
   where organisation_id = 'a0000000-0000-4000-8000-0000000000a0' and retry_of is not null),
  3, 'three retries in all: nothing else was inserted');
select col_is_fk('public', 'bufdir_export_audit', 'retry_of', 'retry_of names an export');
select is(
  (select count(*)::int from public.bufdir_export_audit_events v
   join public.bufdir_export_audit e on e.id = v.export_id
   where e.retry_of = 'e0000000-0000-4000-8000-0000000000a2' and v.from_status is null
     and v.actor = 'user:b0000000-0000-4000-8000-0000000000a3'),
  1, 'the retry''s request event names who retried it');

select * from finish();
rollback;
