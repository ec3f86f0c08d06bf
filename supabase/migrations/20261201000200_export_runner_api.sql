-- The runner's side of the state machine: every write a runner makes is one
-- of these functions. Each announces the runner for the event log, updates
-- the export only WHERE it is in the expected status AND held by this runner
-- under this claim, and raises XB008 (lease lost) when nothing matched, so a
-- runner that lost its export (lease expired and re-queued, or cancelled by
-- the user) never overwrites it afterwards.
--
-- The claim is the fence: claim_bufdir_export counts one more attempt, and
-- that number (attempts, as the claim returned it) is the claim's token.
-- Every later write names it and is refused once the export was claimed
-- again, even by a worker of the same runner (all workers of one process
-- share its runner id). Last, the reaper, which every runner calls and
-- pg_cron can schedule.

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- Why a guarded write matched nothing, as an exception.
create function bufdir_private.raise_lease_lost(
  p_export_id uuid,
  p_runner_id text,
  p_claim integer,
  p_expected public.bufdir_export_status
) returns void
  language plpgsql
  set search_path = ''
as $$
declare
  v_status public.bufdir_export_status;
  v_runner text;
  v_claim integer;
begin
  select e.status, e.runner_id, e.attempts into v_status, v_runner, v_claim
  from public.bufdir_export_audit e
  where e.id = p_export_id;
  if not found then
    raise exception 'export % does not exist', p_export_id using errcode = 'XB007';
  end if;
  raise exception 'runner % (claim %) no longer holds export % (expected %, it is % and held by % under claim %)',
      p_runner_id, p_claim, p_export_id, coalesce(p_expected::text, 'in progress'), v_status,
      coalesce(v_runner, 'no runner'), v_claim
    using errcode = 'XB008';
end;
$$;
revoke execute on function bufdir_private.raise_lease_lost(uuid, text, integer, public.bufdir_export_status)
  from public, anon, authenticated;
grant execute on function bufdir_private.raise_lease_lost(uuid, text, integer, public.bufdir_export_status)
  to service_role, bufdir_export_runner;

-- Claim the oldest waiting export: initialised -> querying_activities, with
-- this runner, one more attempt and a lease. SKIP LOCKED: two runners never
-- take the same export, and neither waits for the other. An export given back
-- after a Storage outage (defer_bufdir_export) waits until its retry_at.
create function bufdir_private.claim_bufdir_export(p_runner_id text, p_lease_seconds integer)
  returns setof public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
begin
  perform pg_catalog.set_config('bufdir_export.runner_id', p_runner_id, true);
  return query
  update public.bufdir_export_audit e
  set status = 'querying_activities',
      runner_id = p_runner_id,
      attempts = e.attempts + 1,
      lease_expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds),
      rows_done = null,
      rows_total = null,
      retry_at = null
  where e.id = (
    select w.id
    from public.bufdir_export_audit w
    where w.status = 'initialised'
      and (w.retry_at is null or w.retry_at <= pg_catalog.now())
    order by w.created_at, w.id
    limit 1
    for update skip locked
  )
  returning e.*;
end;
$$;
revoke execute on function bufdir_private.claim_bufdir_export(text, integer)
  from public, anon, authenticated;
grant execute on function bufdir_private.claim_bufdir_export(text, integer)
  to service_role, bufdir_export_runner;

-- Move a held export to its next pipeline status, renewing the lease.
create function bufdir_private.advance_bufdir_export(
  p_export_id uuid,
  p_runner_id text,
  p_claim integer,
  p_from public.bufdir_export_status,
  p_to public.bufdir_export_status,
  p_lease_seconds integer
) returns public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  perform pg_catalog.set_config('bufdir_export.runner_id', p_runner_id, true);
  update public.bufdir_export_audit e
  set status = p_to,
      lease_expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds)
  where e.id = p_export_id and e.status = p_from
    and e.runner_id = p_runner_id and e.attempts = p_claim
  returning e.* into v_export;
  if not found then
    perform bufdir_private.raise_lease_lost(p_export_id, p_runner_id, p_claim, p_from);
  end if;
  return v_export;
end;
$$;
revoke execute on function bufdir_private.advance_bufdir_export(
  uuid, text, integer, public.bufdir_export_status, public.bufdir_export_status, integer)
  from public, anon, authenticated;
grant execute on function bufdir_private.advance_bufdir_export(
  uuid, text, integer, public.bufdir_export_status, public.bufdir_export_status, integer)
  to service_role, bufdir_export_runner;

-- Renew the lease of a held export and record its progress (rows done of
-- rows total); the status does not change.
create function bufdir_private.heartbeat_bufdir_export(
  p_export_id uuid,
  p_runner_id text,
  p_claim integer,
  p_lease_seconds integer,
  p_rows_done bigint default null,
  p_rows_total bigint default null
) returns public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  perform pg_catalog.set_config('bufdir_export.runner_id', p_runner_id, true);
  update public.bufdir_export_audit e
  set lease_expires_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds),
      rows_done = coalesce(p_rows_done, e.rows_done),
      rows_total = coalesce(p_rows_total, e.rows_total)
  where e.id = p_export_id
    and e.runner_id = p_runner_id and e.attempts = p_claim
    and bufdir_private.is_in_progress(e.status)
  returning e.* into v_export;
  if not found then
    perform bufdir_private.raise_lease_lost(p_export_id, p_runner_id, p_claim, null);
  end if;
  return v_export;
end;
$$;
revoke execute on function bufdir_private.heartbeat_bufdir_export(uuid, text, integer, integer, bigint, bigint)
  from public, anon, authenticated;
grant execute on function bufdir_private.heartbeat_bufdir_export(uuid, text, integer, integer, bigint, bigint)
  to service_role, bufdir_export_runner;

-- storing_file -> completed, with the file (and its sha256), its link and
-- the days it counts.
create function bufdir_private.complete_bufdir_export(
  p_export_id uuid,
  p_runner_id text,
  p_claim integer,
  p_row_count bigint,
  p_file_size_bytes bigint,
  p_file_path text,
  p_download_url text,
  p_download_url_expires_at timestamptz,
  p_counted_days bigint,
  p_file_sha256 text
) returns public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  perform pg_catalog.set_config('bufdir_export.runner_id', p_runner_id, true);
  update public.bufdir_export_audit e
  set status = 'completed',
      row_count = p_row_count,
      counted_days = p_counted_days,
      rows_done = p_row_count,
      rows_total = p_row_count,
      file_size_bytes = p_file_size_bytes,
      file_path = p_file_path,
      file_sha256 = p_file_sha256,
      download_url = p_download_url,
      download_url_expires_at = p_download_url_expires_at
  where e.id = p_export_id and e.status = 'storing_file'
    and e.runner_id = p_runner_id and e.attempts = p_claim
  returning e.* into v_export;
  if not found then
    perform bufdir_private.raise_lease_lost(p_export_id, p_runner_id, p_claim, 'storing_file');
  end if;
  return v_export;
end;
$$;
revoke execute on function bufdir_private.complete_bufdir_export(
  uuid, text, integer, bigint, bigint, text, text, timestamptz, bigint, text)
  from public, anon, authenticated;
grant execute on function bufdir_private.complete_bufdir_export(
  uuid, text, integer, bigint, bigint, text, text, timestamptz, bigint, text)
  to service_role, bufdir_export_runner;

-- querying_activities -> completed_empty: nothing in the period, no file, no days.
create function bufdir_private.complete_empty_bufdir_export(
  p_export_id uuid, p_runner_id text, p_claim integer
)
  returns public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  perform pg_catalog.set_config('bufdir_export.runner_id', p_runner_id, true);
  update public.bufdir_export_audit e
  set status = 'completed_empty', row_count = 0, counted_days = 0, rows_done = 0, rows_total = 0
  where e.id = p_export_id and e.status = 'querying_activities'
    and e.runner_id = p_runner_id and e.attempts = p_claim
  returning e.* into v_export;
  if not found then
    perform bufdir_private.raise_lease_lost(p_export_id, p_runner_id, p_claim, 'querying_activities');
  end if;
  return v_export;
end;
$$;
revoke execute on function bufdir_private.complete_empty_bufdir_export(uuid, text, integer)
  from public, anon, authenticated;
grant execute on function bufdir_private.complete_empty_bufdir_export(uuid, text, integer)
  to service_role, bufdir_export_runner;

-- Any held status -> failed, with an error code and a readable message.
create function bufdir_private.fail_bufdir_export(
  p_export_id uuid,
  p_runner_id text,
  p_claim integer,
  p_error_code text,
  p_error_message text
) returns public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  perform pg_catalog.set_config('bufdir_export.runner_id', p_runner_id, true);
  update public.bufdir_export_audit e
  set status = 'failed',
      error_code = p_error_code,
      error_message = left(p_error_message, 2000)
  where e.id = p_export_id
    and e.runner_id = p_runner_id and e.attempts = p_claim
    and bufdir_private.is_in_progress(e.status)
  returning e.* into v_export;
  if not found then
    perform bufdir_private.raise_lease_lost(p_export_id, p_runner_id, p_claim, null);
  end if;
  return v_export;
end;
$$;
revoke execute on function bufdir_private.fail_bufdir_export(uuid, text, integer, text, text)
  from public, anon, authenticated;
grant execute on function bufdir_private.fail_bufdir_export(uuid, text, integer, text, text)
  to service_role, bufdir_export_runner;

-- Give a held export back to the queue, not to be claimed for p_delay_seconds
-- (0: at once): the runner gives up its lease, and the export, its lease now
-- expired, is re-queued. The runner calls it when a Storage outage outlasts
-- its budget of retries and the export has attempts left; no runner claims
-- the export before retry_at.
create function bufdir_private.defer_bufdir_export(
  p_export_id uuid, p_runner_id text, p_claim integer, p_delay_seconds double precision
)
  returns public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  if p_delay_seconds is null or p_delay_seconds < 0 then
    raise exception 'the delay must be zero seconds or more, not %', p_delay_seconds
      using errcode = 'invalid_parameter_value';
  end if;
  perform pg_catalog.set_config('bufdir_export.runner_id', p_runner_id, true);
  update public.bufdir_export_audit e
  set lease_expires_at = pg_catalog.now() - interval '1 microsecond'
  where e.id = p_export_id
    and e.runner_id = p_runner_id and e.attempts = p_claim
    and bufdir_private.is_in_progress(e.status);
  if not found then
    perform bufdir_private.raise_lease_lost(p_export_id, p_runner_id, p_claim, null);
  end if;
  update public.bufdir_export_audit e
  set status = 'initialised', runner_id = null, lease_expires_at = null,
      rows_done = null, rows_total = null,
      retry_at = case when p_delay_seconds > 0
                 then pg_catalog.now() + pg_catalog.make_interval(secs => p_delay_seconds)
               end
  where e.id = p_export_id
  returning e.* into v_export;
  return v_export;
end;
$$;
revoke execute on function bufdir_private.defer_bufdir_export(uuid, text, integer, double precision)
  from public, anon, authenticated;
grant execute on function bufdir_private.defer_bufdir_export(uuid, text, integer, double precision)
  to service_role, bufdir_export_runner;

-- A runner shutting down gives a held export back, for another runner at once.
create function bufdir_private.release_bufdir_export(
  p_export_id uuid, p_runner_id text, p_claim integer
)
  returns public.bufdir_export_audit
  language sql
  set search_path = ''
as $$
  select * from bufdir_private.defer_bufdir_export(p_export_id, p_runner_id, p_claim, 0);
$$;
revoke execute on function bufdir_private.release_bufdir_export(uuid, text, integer)
  from public, anon, authenticated;
grant execute on function bufdir_private.release_bufdir_export(uuid, text, integer)
  to service_role, bufdir_export_runner;

-- Re-queue exports whose lease expired, or fail them as runner_lost once
-- they have used max attempts. Every runner calls it periodically; where
-- pg_cron is, 20261201000500_supabase_storage_and_schedule.sql schedules it
-- every minute too.
create function bufdir_private.reap_bufdir_exports(p_max_attempts integer default 3)
  returns table (export_id uuid, from_status public.bufdir_export_status,
                 to_status public.bufdir_export_status)
  language plpgsql
  set search_path = ''
as $$
begin
  if p_max_attempts is null or p_max_attempts < 1 then
    raise exception 'max attempts must be at least 1, not %', p_max_attempts
      using errcode = 'invalid_parameter_value';
  end if;
  return query
  with expired as (
    select e.id, e.status
    from public.bufdir_export_audit e
    where bufdir_private.is_in_progress(e.status)
      and e.lease_expires_at < pg_catalog.now()
    for update skip locked
  ),
  reaped as (
    update public.bufdir_export_audit e
    set status = case when e.attempts >= p_max_attempts
                      then 'failed'::public.bufdir_export_status
                      else 'initialised'::public.bufdir_export_status end,
        error_code = case when e.attempts >= p_max_attempts then 'runner_lost' end,
        error_message = case when e.attempts >= p_max_attempts
          then pg_catalog.format('the runner stopped renewing its lease %s times', e.attempts) end,
        runner_id = case when e.attempts >= p_max_attempts then e.runner_id end,
        lease_expires_at = case when e.attempts >= p_max_attempts then e.lease_expires_at end,
        rows_done = null,
        rows_total = null
    from expired x
    where e.id = x.id
    returning e.id as reaped_id, x.status as old_status, e.status as new_status
  )
  select r.reaped_id, r.old_status, r.new_status from reaped r;
end;
$$;
revoke execute on function bufdir_private.reap_bufdir_exports(integer)
  from public, anon, authenticated;
grant execute on function bufdir_private.reap_bufdir_exports(integer)
  to service_role, bufdir_export_runner;

----------------------------------------------------------------------------
-- views
----------------------------------------------------------------------------

-- An export's activities: those of its organisation and period that its
-- requester may read, by their role now (bufdir_private.may_read_activity, the
-- rule of the activities' own policies). A member's export holds what they
-- recorded; a coordinator's or an admin's the organisation's. Never the note.
-- The runner reads activities through this view only: it holds no privilege
-- on public.activities. The requester's role is looked up once per export.
create view bufdir_private.export_activities with (security_barrier = true) as
select
  e.id as export_id,
  r.scope,
  a.id,
  a.organisation_id,
  a.chapter_id,
  a.peer_mentor_id,
  a.activity_type_id,
  a.activity_date,
  a.duration_minutes,
  a.participant_count,
  a.contact_method,
  a.in_norway
from public.bufdir_export_audit e
cross join lateral (
  select role, bufdir_private.activity_scope(role) as scope
  from (select bufdir_private.org_role_of(e.organisation_id, e.requested_by) as role offset 0) o
) r
join public.activities a
  on a.organisation_id = e.organisation_id
 and a.activity_date between e.period_start and e.period_end
where bufdir_private.may_read_activity(r.role, e.requested_by, a.recorded_by);
comment on view bufdir_private.export_activities is
  'The activities an export holds: what its requester may read, in its organisation and period.';

-- An export's attachments: those of its activities.
create view bufdir_private.export_attachments with (security_barrier = true) as
select
  a.export_id,
  a.activity_date,
  t.id,
  t.activity_id,
  t.storage_path,
  t.file_name,
  t.content_type,
  t.size_bytes
from bufdir_private.export_activities a
join public.activity_attachments t
  on t.organisation_id = a.organisation_id and t.activity_id = a.id;
comment on view bufdir_private.export_attachments is
  'The attachments an export holds: those of its activities.';

-- What the requester may read of the organisation now: 'organisation', 'own',
-- or null (no longer a member: the export fails as forbidden).
create function bufdir_private.export_scope(p_export_id uuid) returns text
  language sql stable
  set search_path = ''
as $$
  select bufdir_private.activity_scope(bufdir_private.org_role_of(e.organisation_id, e.requested_by))
  from public.bufdir_export_audit e
  where e.id = p_export_id;
$$;
revoke execute on function bufdir_private.export_scope(uuid) from public, anon, authenticated;
grant execute on function bufdir_private.export_scope(uuid) to service_role, bufdir_export_runner;

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

revoke all on table bufdir_private.export_activities, bufdir_private.export_attachments
  from public, anon, authenticated, service_role;
grant select on table bufdir_private.export_activities, bufdir_private.export_attachments
  to service_role, bufdir_export_runner;
