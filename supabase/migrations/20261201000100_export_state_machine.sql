-- The Bufdir export state machine.
--
-- A client inserts a row into public.bufdir_export_audit; a runner claims it
-- and moves it through the pipeline (the runner's functions are in the next
-- migration). The database enforces, for every role (postgres and
-- service_role included):
--   * which status may follow which (XB001);
--   * that the request never changes after insert (XB002);
--   * that a row in a terminal status never changes again (XB003);
--   * that an export is born initialised, with nothing a runner owns (XB004);
--   * that an in-progress export is re-queued only once its lease expired (XB005);
--   * that audit records and their events are never updated or deleted (XB006);
--   * that nobody has more than a few unfinished exports at once (XB010).
-- Every status change leaves exactly one row in bufdir_export_audit_events,
-- and the events are hash-chained (each event's hash covers its content and
-- the hash before it; an export's request and result are pinned in its
-- events), so that a change made with the triggers switched off is found
-- afterwards by `bufdir-export audit verify`. The chain has a spine and
-- branches: an export's first event (its request) follows the request before
-- it in the organisation, and each later event the export's own event before
-- it. Only a new request waits for the organisation's head; a status change
-- needs no lock but its export's row, which its update holds anyway.
--
-- SQLSTATE class XB is this project's own:
--   XB001 invalid transition          XB006 append-only
--   XB002 request field changed       XB007 export not found for this user
--   XB003 terminal row changed        XB008 lease lost (runner guard)
--   XB004 runner-owned column set     XB009 saved column configuration changed
--   XB005 lease not expired           XB010 too many unfinished exports
--
-- Each rule of the contract is written once, here: the terminal statuses
-- (is_terminal), the statuses in progress (is_in_progress, derived), the
-- transition table (is_allowed_transition), the columns only the runner
-- writes (runner_owned_columns: the insert trigger and the runner's grant
-- both read it), and the period a request may cover (three named checks).
-- The Python models and the Edge Function mirror them; their tests compare
-- the mirrors with this database.

----------------------------------------------------------------------------
-- types
----------------------------------------------------------------------------

create type public.bufdir_export_status as enum (
  'initialised',
  'querying_activities',
  'mapping_columns',
  'generating_file',
  'bundling_attachments',
  'storing_file',
  'completed',
  'completed_empty',
  'failed',
  'cancelled'
);

create type public.bufdir_export_format as enum ('xlsx', 'csv');

----------------------------------------------------------------------------
-- the rules of the contract (the tables below read them)
----------------------------------------------------------------------------

-- An export in a terminal status never changes again.
create function bufdir_private.is_terminal(p_status public.bufdir_export_status)
  returns boolean
  language sql immutable
  set search_path = ''
as $$
  select p_status in ('completed', 'completed_empty', 'failed', 'cancelled');
$$;
revoke execute on function bufdir_private.is_terminal(public.bufdir_export_status)
  from public, anon;
grant execute on function bufdir_private.is_terminal(public.bufdir_export_status)
  to authenticated, service_role, bufdir_export_runner;

-- In progress: claimed by a runner and not yet ended. It holds a lease.
create function bufdir_private.is_in_progress(p_status public.bufdir_export_status)
  returns boolean
  language sql immutable
  set search_path = ''
as $$
  select p_status <> 'initialised' and not bufdir_private.is_terminal(p_status);
$$;
revoke execute on function bufdir_private.is_in_progress(public.bufdir_export_status)
  from public, anon;
grant execute on function bufdir_private.is_in_progress(public.bufdir_export_status)
  to authenticated, service_role, bufdir_export_runner;

-- The transition table. Re-queueing (in progress -> initialised) is listed
-- here; the lease condition on it is checked by the update trigger.
create function bufdir_private.is_allowed_transition(
  p_from public.bufdir_export_status,
  p_to public.bufdir_export_status
) returns boolean
  language sql immutable
  set search_path = ''
as $$
  select case p_from
    when 'initialised' then
      p_to in ('querying_activities', 'failed', 'cancelled')
    when 'querying_activities' then
      p_to in ('mapping_columns', 'completed_empty', 'failed', 'cancelled', 'initialised')
    when 'mapping_columns' then
      p_to in ('generating_file', 'failed', 'cancelled', 'initialised')
    when 'generating_file' then
      p_to in ('bundling_attachments', 'storing_file', 'failed', 'cancelled', 'initialised')
    when 'bundling_attachments' then
      p_to in ('storing_file', 'failed', 'cancelled', 'initialised')
    when 'storing_file' then
      p_to in ('completed', 'failed', 'cancelled', 'initialised')
    else false
  end;
$$;
revoke execute on function bufdir_private.is_allowed_transition(
  public.bufdir_export_status, public.bufdir_export_status) from public, anon;
grant execute on function bufdir_private.is_allowed_transition(
  public.bufdir_export_status, public.bufdir_export_status)
  to authenticated, service_role, bufdir_export_runner;

-- The columns of public.bufdir_export_audit that only the runner writes: its
-- state and its result. A client names none of them (XB004); the runner's
-- grant is exactly these (see grants).
create function bufdir_private.runner_owned_columns() returns text[]
  language sql immutable
  set search_path = ''
as $$
  select array[
    'status', 'attempts', 'runner_id', 'lease_expires_at', 'rows_done', 'rows_total',
    'row_count', 'counted_days', 'file_size_bytes', 'file_path', 'file_sha256', 'download_url',
    'download_url_expires_at', 'error_code', 'error_message', 'retry_at'
  ];
$$;
revoke execute on function bufdir_private.runner_owned_columns() from public, anon;
grant execute on function bufdir_private.runner_owned_columns()
  to authenticated, service_role, bufdir_export_runner;

----------------------------------------------------------------------------
-- tables
----------------------------------------------------------------------------

-- How many unfinished exports one requester may have at once. One row; the
-- backend (service_role) or the owner changes it:
--   update bufdir_private.export_limits set max_unfinished_per_requester = 5;
create table bufdir_private.export_limits (
  id boolean primary key default true,
  max_unfinished_per_requester integer not null default 3,
  constraint export_limits_one_row_check check (id),
  constraint export_limits_max_unfinished_check check (max_unfinished_per_requester >= 1)
);
insert into bufdir_private.export_limits default values;
comment on table bufdir_private.export_limits is
  'Limits on export requests (one row): how many unfinished exports a requester may have.';

create table public.bufdir_export_audit (
  id uuid primary key default gen_random_uuid(),
  -- the request: set by the client on insert, never changed afterwards
  organisation_id uuid not null,
  requested_by uuid not null default auth.uid(),
  period_start date not null,
  period_end date not null,
  format public.bufdir_export_format not null default 'xlsx',
  include_attachments boolean not null default false,
  -- the state: set by the database and the runner
  status public.bufdir_export_status not null default 'initialised',
  attempts integer not null default 0,
  runner_id text,
  lease_expires_at timestamptz,
  rows_done bigint,
  rows_total bigint,
  -- a waiting export given back after a Storage outage: not claimed before this
  retry_at timestamptz,
  -- the result
  row_count bigint,
  file_size_bytes bigint,
  file_path text,
  download_url text,
  download_url_expires_at timestamptz,
  error_code text,
  error_message text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  counted_days bigint,
  -- sha256 of the stored file, hex
  file_sha256 text,

  constraint bufdir_export_audit_organisation_id_fkey foreign key (organisation_id)
    references public.organisations (id) on delete restrict,
  -- The period a request may cover.
  constraint bufdir_export_audit_period_order_check check (period_end >= period_start),
  -- At most 366 days: one Bufdir reporting year, leap years included.
  constraint bufdir_export_audit_period_length_check check (period_end - period_start <= 365),
  constraint bufdir_export_audit_period_bounds_check
    check (period_start >= date '2000-01-01' and period_end <= date '2099-12-31'),
  constraint bufdir_export_audit_attempts_check check (attempts >= 0),
  constraint bufdir_export_audit_runner_id_check check (length(runner_id) between 1 and 200),
  constraint bufdir_export_audit_progress_check
    check (rows_done >= 0 and rows_total >= 0 and rows_done <= rows_total),
  constraint bufdir_export_audit_row_count_check check (row_count >= 0),
  constraint bufdir_export_audit_file_size_bytes_check check (file_size_bytes >= 0),
  constraint bufdir_export_audit_counted_days_check check (counted_days >= 0),
  constraint bufdir_export_audit_file_sha256_check check (file_sha256 ~ '^[0-9a-f]{64}$'),
  constraint bufdir_export_audit_error_code_check check (error_code in (
    'forbidden', 'invalid_config', 'query_error', 'generation_error', 'storage_error',
    'runner_lost', 'internal'
  )),
  constraint bufdir_export_audit_error_message_check check (length(error_message) <= 2000),
  -- A failed export says why; no other status carries an error.
  constraint bufdir_export_audit_failed_has_error_check
    check ((status = 'failed') = (error_code is not null)),
  -- A completed export has its file and its link.
  constraint bufdir_export_audit_completed_has_file_check check (
    status <> 'completed' or (
      row_count is not null and file_size_bytes is not null and file_path is not null
      and file_sha256 is not null and download_url is not null and download_url_expires_at is not null
    )
  ),
  -- An empty export has neither.
  constraint bufdir_export_audit_empty_has_no_file_check check (
    status <> 'completed_empty'
    or (row_count = 0 and file_path is null and file_sha256 is null and download_url is null)
  ),
  -- Work in progress belongs to a runner, for a limited time.
  constraint bufdir_export_audit_in_progress_has_lease_check check (
    not bufdir_private.is_in_progress(status)
    or (runner_id is not null and lease_expires_at is not null)
  )
);
create index bufdir_export_audit_claim_idx
  on public.bufdir_export_audit (created_at) where status = 'initialised';
create index bufdir_export_audit_lease_idx
  on public.bufdir_export_audit (lease_expires_at) where bufdir_private.is_in_progress(status);
create index bufdir_export_audit_organisation_idx
  on public.bufdir_export_audit (organisation_id, created_at);
create index bufdir_export_audit_requested_by_idx
  on public.bufdir_export_audit (requested_by, created_at);
-- The request limit counts a requester's unfinished exports on every insert:
-- this keeps that count to those, however many ended before.
create index bufdir_export_audit_unfinished_idx
  on public.bufdir_export_audit (requested_by) where not bufdir_private.is_terminal(status);
comment on table public.bufdir_export_audit is
  'One row per Bufdir export request: the request, its progress and its result. Never deleted.';
comment on column public.bufdir_export_audit.counted_days is
  'Activity days counted for Bufdir in the file (by the organisation''s column configuration).';

create table public.bufdir_export_audit_events (
  id bigint generated always as identity primary key,
  export_id uuid not null references public.bufdir_export_audit (id),
  from_status public.bufdir_export_status,
  to_status public.bufdir_export_status not null,
  occurred_at timestamptz not null default clock_timestamp(),
  -- user:<auth.uid()>, runner:<runner id> or role:<database role>
  actor text not null,
  -- who acted and how; under "row", the columns of the export this event
  -- pins (bufdir_private.audit_event_pins)
  detail jsonb not null default '{}'::jsonb,
  -- the chain: the hash of the event this one follows (the export's previous
  -- event, or for its first the organisation's previous request; null for
  -- the organisation's first), and this event's (bufdir_private.audit_event_hash)
  organisation_id uuid not null references public.organisations (id),
  prev_hash text,
  hash text not null
);
create index bufdir_export_audit_events_export_idx
  on public.bufdir_export_audit_events (export_id, id);
create index bufdir_export_audit_events_organisation_idx
  on public.bufdir_export_audit_events (organisation_id, id);
comment on table public.bufdir_export_audit_events is
  'Append-only: one row per status change of an export, written by a trigger, hash-chained (see audit_event_hash).';

-- The head of each organisation's spine: its last request (the first event
-- of its newest export). A deleted newest export leaves the head naming an
-- event that is gone.
create table bufdir_private.audit_chain_heads (
  organisation_id uuid primary key references public.organisations (id),
  event_id bigint,
  hash text
);
comment on table bufdir_private.audit_chain_heads is
  'The head of each organisation''s chain of requests: its newest export''s first event and that event''s hash.';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- The database role on whose behalf this statement runs. Inside a security
-- definer function current_user is the function's owner, but the role GUC
-- still holds what SET ROLE chose (as PostgREST does per request), and
-- session_user the login.
create function bufdir_private.invoking_role() returns text
  language sql stable
  set search_path = ''
as $$
  select case pg_catalog.current_setting('role')
    when 'none' then session_user::text
    else pg_catalog.current_setting('role')
  end;
$$;
revoke execute on function bufdir_private.invoking_role() from public, anon, authenticated;

-- Who is acting, for the event log: the signed-in user, else the runner that
-- announced itself for this transaction (bufdir_export.runner_id, set by the
-- runner's functions), else the database role.
create function bufdir_private.current_actor() returns text
  language sql stable
  set search_path = ''
as $$
  select coalesce(
    'user:' || auth.uid()::text,
    'runner:' || nullif(pg_catalog.current_setting('bufdir_export.runner_id', true), ''),
    'role:' || bufdir_private.invoking_role()
  );
$$;
revoke execute on function bufdir_private.current_actor() from public, anon, authenticated;

-- Whether the signed-in user may ask for an export of the organisation: when
-- they may read any of its activities (activity_scope), which is what the
-- export will then hold.
create function bufdir_private.may_request_export(p_organisation_id uuid) returns boolean
  language sql stable security definer
  set search_path = ''
as $$
  select bufdir_private.activity_scope(
    bufdir_private.org_role_of(p_organisation_id, auth.uid())) is not null;
$$;
revoke execute on function bufdir_private.may_request_export(uuid) from public, anon;
grant execute on function bufdir_private.may_request_export(uuid) to authenticated, service_role;

-- BEFORE INSERT: a new export is a request and nothing else.
--
-- Membership is checked here, before RLS, for a user asking as themselves
-- (the error is about them) and for server roles, which RLS does not cover.
-- A signed-in user who names anyone but themselves as requester is left to
-- the insert policy, which refuses with the same row-level security error
-- whoever they named: this function runs as its owner, and its "not a
-- member" error would tell them whether that other user belongs to the
-- organisation.
create function bufdir_private.bufdir_export_audit_before_insert() returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  -- What a runner-owned column holds on a new export; null unless named here.
  v_born constant jsonb := '{"status": "initialised", "attempts": 0}';
  v_row constant jsonb := pg_catalog.to_jsonb(new);
  v_column text;
  v_limit integer;
  v_unfinished bigint;
begin
  foreach v_column in array bufdir_private.runner_owned_columns() loop
    if v_row -> v_column is distinct from coalesce(v_born -> v_column, 'null'::jsonb) then
      if v_column = 'status' then
        raise exception 'a new export starts as initialised; status is set by the runner, not by the client'
          using errcode = 'XB004', column = v_column;
      end if;
      raise exception '% is set by the runner, not by the client', v_column
        using errcode = 'XB004', column = v_column;
    end if;
  end loop;
  if new.completed_at is not null then
    raise exception 'completed_at is set by the database, not by the client'
      using errcode = 'XB004', column = 'completed_at';
  end if;

  new.created_at := pg_catalog.now();
  new.updated_at := new.created_at;
  if bufdir_private.invoking_role() in ('authenticated', 'anon')
     and new.requested_by is distinct from auth.uid() then
    -- The insert policy refuses this row; say nothing about anyone else.
    return new;
  end if;

  if new.requested_by is null then
    raise exception 'requested_by is required: sign in, or name the requesting user'
      using errcode = 'not_null_violation', column = 'requested_by';
  end if;
  if not exists (select 1 from public.organisations o where o.id = new.organisation_id) then
    raise exception 'organisation % does not exist', new.organisation_id
      using errcode = 'foreign_key_violation',
            constraint = 'bufdir_export_audit_organisation_id_fkey';
  end if;
  if not bufdir_private.is_member(new.organisation_id, new.requested_by) then
    raise exception 'user % is not a member of organisation %', new.requested_by, new.organisation_id
      using errcode = 'insufficient_privilege';
  end if;

  -- One requester's inserts take turns here, so two at once cannot both pass.
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('bufdir_export:' || new.requested_by::text, 0));
  select l.max_unfinished_per_requester into v_limit from bufdir_private.export_limits l;
  select count(*) into v_unfinished
  from public.bufdir_export_audit e
  where e.requested_by = new.requested_by and not bufdir_private.is_terminal(e.status);
  if v_unfinished >= v_limit then
    raise exception 'user % already has % unfinished exports, and at most % may wait or run at once',
        new.requested_by, v_unfinished, v_limit
      using errcode = 'XB010',
            hint = 'wait for one to end, or cancel one with cancel_bufdir_export';
  end if;
  return new;
end;
$$;
revoke execute on function bufdir_private.bufdir_export_audit_before_insert()
  from public, anon, authenticated;

-- BEFORE UPDATE: the transition rules.
create function bufdir_private.bufdir_export_audit_before_update() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  if bufdir_private.is_terminal(old.status) then
    raise exception 'export % is %, a terminal status: it never changes again', old.id, old.status
      using errcode = 'XB003';
  end if;

  if new.id is distinct from old.id
     or new.organisation_id is distinct from old.organisation_id
     or new.requested_by is distinct from old.requested_by
     or new.period_start is distinct from old.period_start
     or new.period_end is distinct from old.period_end
     or new.format is distinct from old.format
     or new.include_attachments is distinct from old.include_attachments
     or new.created_at is distinct from old.created_at then
    raise exception 'export % : the request (organisation, requester, period, format, attachments) never changes after insert', old.id
      using errcode = 'XB002';
  end if;

  if new.status is distinct from old.status then
    if not bufdir_private.is_allowed_transition(old.status, new.status) then
      raise exception 'export %: transition from % to % is not allowed', old.id, old.status, new.status
        using errcode = 'XB001';
    end if;
    if new.status = 'initialised' and old.lease_expires_at >= pg_catalog.now() then
      raise exception 'export %: cannot re-queue from % while the lease of runner % runs (until %)',
          old.id, old.status, old.runner_id, old.lease_expires_at
        using errcode = 'XB005';
    end if;
    if bufdir_private.is_terminal(new.status) then
      new.completed_at := pg_catalog.clock_timestamp();
    end if;
  end if;

  new.updated_at := pg_catalog.clock_timestamp();
  return new;
end;
$$;
revoke execute on function bufdir_private.bufdir_export_audit_before_update()
  from public, anon, authenticated;

-- The hash of an event: sha256, in hex, over the hash before it and the
-- event's content, one field per line (the last, detail, is JSON text and
-- holds no line break; the time is in UTC to the microsecond). The verifier
-- (bufdir_export.core.chain_check) computes it on its own, from the
-- stored columns, and must agree.
create function bufdir_private.audit_event_hash(
  p_prev_hash text, p_event public.bufdir_export_audit_events
) returns text
  language sql stable
  set search_path = ''
as $$
  select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.concat_ws(E'\n',
    'bufdir-export audit event v1',
    coalesce(p_prev_hash, ''),
    p_event.id::text,
    p_event.organisation_id::text,
    p_event.export_id::text,
    coalesce(p_event.from_status::text, ''),
    p_event.to_status::text,
    pg_catalog.to_char(pg_catalog.timezone('UTC', p_event.occurred_at),
                       'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    p_event.actor,
    p_event.detail::text
  ), 'UTF8')), 'hex');
$$;
revoke execute on function bufdir_private.audit_event_hash(text, public.bufdir_export_audit_events)
  from public, anon, authenticated;

-- The columns of an export that an event pins (copies into detail.row, so
-- the chain covers them): the request on the first event, the result on the
-- terminal one. Request and result never change afterwards, so the row must
-- still hold exactly these values.
create function bufdir_private.audit_event_pins(
  p_first boolean, p_status public.bufdir_export_status
) returns text[]
  language sql immutable
  set search_path = ''
as $$
  select case
    when p_first then array[
      'organisation_id', 'requested_by', 'period_start', 'period_end', 'format',
      'include_attachments']
    when p_status = 'completed' then array[
      'row_count', 'counted_days', 'file_size_bytes', 'file_path', 'file_sha256']
    when p_status = 'completed_empty' then array['row_count', 'counted_days']
    when p_status = 'failed' then array['error_code', 'error_message']
    else array[]::text[]
  end;
$$;
revoke execute on function bufdir_private.audit_event_pins(boolean, public.bufdir_export_status)
  from public, anon, authenticated;

-- AFTER INSERT OR UPDATE: one event per status change, chained. A request
-- follows the organisation's last request: its head is locked, so an
-- organisation's requests are chained one at a time, in the order of their
-- ids. A status change follows the export's last event: the update holds the
-- export's row, so its events too are chained in the order of their ids.
-- Security definer: nobody holds a privilege on the events table that would
-- let them write one.
create function bufdir_private.bufdir_export_audit_after_write() returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_from public.bufdir_export_status;
  v_row jsonb;
  v_pins jsonb;
  v_prev_hash text;
  v_event public.bufdir_export_audit_events;
begin
  if tg_op = 'UPDATE' then
    if new.status is not distinct from old.status then
      return null;
    end if;
    v_from := old.status;
  end if;

  v_row := pg_catalog.to_jsonb(new);
  select coalesce(pg_catalog.jsonb_object_agg(c, v_row -> c), '{}'::jsonb) into v_pins
  from pg_catalog.unnest(bufdir_private.audit_event_pins(tg_op = 'INSERT', new.status)) as c;

  if tg_op = 'INSERT' then
    insert into bufdir_private.audit_chain_heads (organisation_id)
    values (new.organisation_id)
    on conflict (organisation_id) do nothing;
    select h.hash into v_prev_hash
    from bufdir_private.audit_chain_heads h
    where h.organisation_id = new.organisation_id
    for update;
  else
    select ev.hash into v_prev_hash
    from public.bufdir_export_audit_events ev
    where ev.export_id = new.id
    order by ev.id desc
    limit 1;
  end if;

  v_event.id := pg_catalog.nextval('public.bufdir_export_audit_events_id_seq'::regclass);
  v_event.organisation_id := new.organisation_id;
  v_event.export_id := new.id;
  v_event.from_status := v_from;
  v_event.to_status := new.status;
  v_event.occurred_at := pg_catalog.clock_timestamp();
  v_event.actor := bufdir_private.current_actor();
  v_event.detail := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'db_role', bufdir_private.invoking_role(),
      'runner_id', new.runner_id,
      'attempts', new.attempts,
      'error_code', new.error_code
    )) || case when v_pins = '{}'::jsonb then '{}'::jsonb
               else pg_catalog.jsonb_build_object('row', v_pins) end;
  v_event.prev_hash := v_prev_hash;
  v_event.hash := bufdir_private.audit_event_hash(v_event.prev_hash, v_event);

  insert into public.bufdir_export_audit_events overriding system value
  select v_event.*;
  if tg_op = 'INSERT' then
    update bufdir_private.audit_chain_heads h
    set event_id = v_event.id, hash = v_event.hash
    where h.organisation_id = new.organisation_id;
  end if;
  return null;
end;
$$;
revoke execute on function bufdir_private.bufdir_export_audit_after_write()
  from public, anon, authenticated;

-- Events and chain heads are written by bufdir_export_audit_after_write and
-- nothing else. A statement of anyone's own fires this trigger at depth 1
-- (from the audit trigger, at 2) and is refused, whoever makes it.
create function bufdir_private.only_by_audit_trigger() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  if pg_catalog.pg_trigger_depth() < 2 then
    raise exception '%.% is written by the audit trigger only: % is not allowed',
        tg_table_schema, tg_table_name, tg_op
      using errcode = 'XB006';
  end if;
  return new;
end;
$$;
revoke execute on function bufdir_private.only_by_audit_trigger() from public, anon, authenticated;

-- Audit records and events are never deleted or truncated, and events are
-- never updated, whoever asks. (Column configurations use it too.)
create function bufdir_private.forbid_audit_change() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  raise exception '%.% is an audit log: % is not allowed', tg_table_schema, tg_table_name, tg_op
    using errcode = 'XB006';
end;
$$;
revoke execute on function bufdir_private.forbid_audit_change() from public, anon, authenticated;

-- The requester cancels their own unfinished export; an organisation's admin
-- any unfinished export of the organisation. The event names who did.
create function public.cancel_bufdir_export(p_export_id uuid)
  returns public.bufdir_export_audit
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  select * into v_export
  from public.bufdir_export_audit e
  where e.id = p_export_id
    and (e.requested_by = auth.uid() or bufdir_private.has_org_role(e.organisation_id, 'admin'))
  for update;
  if not found then
    raise exception 'export % not found among the exports you may cancel', p_export_id
      using errcode = 'XB007';
  end if;
  if bufdir_private.is_terminal(v_export.status) then
    raise exception 'export % is already %: only an unfinished export can be cancelled',
        p_export_id, v_export.status
      using errcode = 'XB003';
  end if;

  update public.bufdir_export_audit e
  set status = 'cancelled'
  where e.id = p_export_id
  returning * into v_export;
  return v_export;
end;
$$;
revoke execute on function public.cancel_bufdir_export(uuid) from public, anon;
grant execute on function public.cancel_bufdir_export(uuid) to authenticated, service_role;

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

create trigger bufdir_export_audit_before_insert
  before insert on public.bufdir_export_audit
  for each row execute function bufdir_private.bufdir_export_audit_before_insert();
create trigger bufdir_export_audit_before_update
  before update on public.bufdir_export_audit
  for each row execute function bufdir_private.bufdir_export_audit_before_update();
create trigger bufdir_export_audit_after_write
  after insert or update on public.bufdir_export_audit
  for each row execute function bufdir_private.bufdir_export_audit_after_write();
create trigger bufdir_export_audit_forbid_delete
  before delete on public.bufdir_export_audit
  for each row execute function bufdir_private.forbid_audit_change();
create trigger bufdir_export_audit_forbid_truncate
  before truncate on public.bufdir_export_audit
  for each statement execute function bufdir_private.forbid_audit_change();
create trigger bufdir_export_audit_events_forbid_change
  before update or delete on public.bufdir_export_audit_events
  for each row execute function bufdir_private.forbid_audit_change();
create trigger bufdir_export_audit_events_forbid_truncate
  before truncate on public.bufdir_export_audit_events
  for each statement execute function bufdir_private.forbid_audit_change();
create trigger bufdir_export_audit_events_only_by_trigger
  before insert on public.bufdir_export_audit_events
  for each row execute function bufdir_private.only_by_audit_trigger();
create trigger audit_chain_heads_only_by_trigger
  before insert or update on bufdir_private.audit_chain_heads
  for each row execute function bufdir_private.only_by_audit_trigger();
create trigger audit_chain_heads_forbid_delete
  before delete on bufdir_private.audit_chain_heads
  for each row execute function bufdir_private.forbid_audit_change();
create trigger audit_chain_heads_forbid_truncate
  before truncate on bufdir_private.audit_chain_heads
  for each statement execute function bufdir_private.forbid_audit_change();

-- "Always": these fire under session_replication_role = replica too, so the
-- rules hold even for a session that switches ordinary triggers off.
alter table public.bufdir_export_audit enable always trigger bufdir_export_audit_before_insert;
alter table public.bufdir_export_audit enable always trigger bufdir_export_audit_before_update;
alter table public.bufdir_export_audit enable always trigger bufdir_export_audit_after_write;
alter table public.bufdir_export_audit enable always trigger bufdir_export_audit_forbid_delete;
alter table public.bufdir_export_audit enable always trigger bufdir_export_audit_forbid_truncate;
alter table public.bufdir_export_audit_events
  enable always trigger bufdir_export_audit_events_forbid_change;
alter table public.bufdir_export_audit_events
  enable always trigger bufdir_export_audit_events_forbid_truncate;
alter table public.bufdir_export_audit_events
  enable always trigger bufdir_export_audit_events_only_by_trigger;
alter table bufdir_private.audit_chain_heads enable always trigger audit_chain_heads_only_by_trigger;
alter table bufdir_private.audit_chain_heads enable always trigger audit_chain_heads_forbid_delete;
alter table bufdir_private.audit_chain_heads enable always trigger audit_chain_heads_forbid_truncate;

----------------------------------------------------------------------------
-- policies
----------------------------------------------------------------------------

alter table public.bufdir_export_audit enable row level security;
alter table public.bufdir_export_audit_events enable row level security;
-- Nobody but the owner and service_role (both past RLS) reads or changes the limits.
alter table bufdir_private.export_limits enable row level security;
-- Nobody but the audit trigger writes the heads; the owner and service_role
-- (past RLS) read them.
alter table bufdir_private.audit_chain_heads enable row level security;

-- A requester sees their own exports; an organisation's admin sees all of it.
create policy bufdir_export_audit_select on public.bufdir_export_audit
  for select to authenticated
  using (
    requested_by = (select auth.uid())
    or bufdir_private.has_org_role(organisation_id, 'admin')
  );
-- A member asks for an export of their own organisation, as themselves; it will
-- hold what they may read (bufdir_private.export_activities).
create policy bufdir_export_audit_insert on public.bufdir_export_audit
  for insert to authenticated
  with check (
    requested_by = (select auth.uid())
    and bufdir_private.may_request_export(organisation_id)
  );
-- There is no update or delete policy for authenticated: a user cancels
-- through public.cancel_bufdir_export().
create policy bufdir_export_audit_select_runner on public.bufdir_export_audit
  for select to bufdir_export_runner
  using (true);
create policy bufdir_export_audit_update_runner on public.bufdir_export_audit
  for update to bufdir_export_runner
  using (true)
  with check (true);

-- An event is visible exactly where its export is (the subquery runs under
-- the caller's own policies on bufdir_export_audit).
create policy bufdir_export_audit_events_select on public.bufdir_export_audit_events
  for select to authenticated
  using (exists (
    select 1 from public.bufdir_export_audit e
    where e.id = bufdir_export_audit_events.export_id
  ));
create policy bufdir_export_audit_events_select_runner on public.bufdir_export_audit_events
  for select to bufdir_export_runner
  using (true);

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

revoke all on table public.bufdir_export_audit, public.bufdir_export_audit_events
  from public, anon, authenticated, service_role;
revoke all on table bufdir_private.export_limits from public, anon, authenticated, service_role;
-- The events' identity: nobody but the trigger's owner draws from it (a setval
-- by anyone else would make every later status change fail).
revoke all on sequence public.bufdir_export_audit_events_id_seq
  from public, anon, authenticated, service_role;
grant select, update on table bufdir_private.export_limits to service_role;
revoke all on table bufdir_private.audit_chain_heads from public, anon, authenticated, service_role;
grant select on table bufdir_private.audit_chain_heads to service_role;

grant select on table public.bufdir_export_audit, public.bufdir_export_audit_events
  to authenticated, service_role, bufdir_export_runner;
-- Insert on the whole row, so that a client naming a runner-owned column
-- hears why from the insert trigger (XB004) rather than a bare 42501.
grant insert on table public.bufdir_export_audit to authenticated;
grant insert, update on table public.bufdir_export_audit to service_role;

-- The runner writes the state and the result, never the request: exactly the
-- columns bufdir_private.runner_owned_columns() names.
do $grant$
begin
  execute pg_catalog.format(
    'grant update (%s) on table public.bufdir_export_audit to bufdir_export_runner',
    (select pg_catalog.string_agg(pg_catalog.quote_ident(c), ', ')
     from pg_catalog.unnest(bufdir_private.runner_owned_columns()) as c)
  );
end
$grant$;
