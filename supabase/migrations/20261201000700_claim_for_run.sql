-- The claim as the runner makes it: one call that claims the oldest waiting
-- export (claim_bufdir_export, unchanged) and then reads what the first step
-- needs, each in a statement of its own: what the requester may read of the
-- organisation now, the export's last audit event (the claim's), and how many
-- activities the export holds. One round trip where there were three.
--
-- Why statements of their own: under READ COMMITTED a volatile function takes
-- a fresh snapshot for every statement, so each read sees the claim's own
-- update and everything committed before it, a membership removed together
-- with the request included. Inside the claim's statement, the stable
-- export_scope() would read that statement's snapshot, which is older than the
-- row version the update locks, and could miss such a removal.

----------------------------------------------------------------------------
-- types
----------------------------------------------------------------------------

create type bufdir_private.claimed_bufdir_export as (
  export public.bufdir_export_audit,
  -- bufdir_private.export_scope(): 'organisation', 'own', or null when the
  -- requester is no longer a member (the runner fails the export as forbidden)
  scope text,
  -- the export's last event (the claim's) and its hash: the report names them
  audit_event_id bigint,
  audit_hash text,
  -- the activities of bufdir_private.export_activities; null when the
  -- requester is no longer a member, or when they could not be counted here
  -- (the runner then counts them in the querying step, whose error fails the
  -- export as query_error)
  activity_count bigint
);
comment on type bufdir_private.claimed_bufdir_export is
  'An export as claim_bufdir_export_for_run claimed it: the row, the requester''s scope, the claim''s event and the activity count.';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

create function bufdir_private.claim_bufdir_export_for_run(p_runner_id text, p_lease_seconds integer)
  returns setof bufdir_private.claimed_bufdir_export
  language plpgsql
  volatile
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
  v_scope text;
  v_event_id bigint;
  v_hash text;
  v_count bigint;
begin
  select c.* into v_export
  from bufdir_private.claim_bufdir_export(p_runner_id, p_lease_seconds) c;
  if not found then
    return;
  end if;

  select bufdir_private.export_scope(v_export.id) into v_scope;

  select ev.id, ev.hash into v_event_id, v_hash
  from public.bufdir_export_audit_events ev
  where ev.export_id = v_export.id
  order by ev.id desc
  limit 1;

  if v_scope is not null then
    begin
      select count(*) into v_count
      from bufdir_private.export_activities a
      where a.export_id = v_export.id;
    exception when others then
      -- The claim stands; the querying step counts again and reports the cause.
      v_count := null;
    end;
  end if;

  return query select v_export, v_scope, v_event_id, v_hash, v_count;
end;
$$;
revoke execute on function bufdir_private.claim_bufdir_export_for_run(text, integer)
  from public, anon, authenticated;
grant execute on function bufdir_private.claim_bufdir_export_for_run(text, integer)
  to service_role, bufdir_export_runner;
