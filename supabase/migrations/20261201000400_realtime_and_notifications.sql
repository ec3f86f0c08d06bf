-- Who hears of an export's changes, and how.
--
-- * Runners: a new or re-queued export (status initialised) sends
--   pg_notify('bufdir_export', <export id>) at commit. It is a wake-up hint
--   only (runners also poll, and the claim decides), and it carries nothing
--   but the id.
-- * Watchers of one export: whenever its status or its progress changes, a
--   notification on a channel of its own, "bufdir_export:<export id>", with
--   the new status as payload. A client with a direct connection LISTENs on
--   the channel of the export it started and reads the row (under its own
--   RLS) when woken. LISTEN is not subject to RLS, so the notification
--   carries nothing the row's id does not already tell: no organisation, no
--   requester, no file; and nobody but the export's watchers hears it.
-- * Apps on Supabase: Realtime's postgres_changes on public.bufdir_export_audit
--   and public.bufdir_export_audit_events (the timeline), which applies the
--   RLS policies itself, so each client sees only the rows it may select: the
--   requester and the organisation's admins.
-- * anon hears nothing. Realtime sends a change to a subscriber whose role may
--   not select the table's primary key a data-less "Error 401: Unauthorized"
--   notice (for every change of every organisation's exports, which would tell
--   anyone with the anon key that exports happen and when); with the key
--   selectable, it checks the row under RLS, and no policy shows anon a row.
--   So anon may select the id column of the two tables, and nothing else.

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

create function bufdir_private.notify_bufdir_export_runners() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    perform pg_catalog.pg_notify('bufdir_export', new.id::text);
  end if;
  return null;
end;
$$;
revoke execute on function bufdir_private.notify_bufdir_export_runners()
  from public, anon, authenticated;

create function bufdir_private.notify_bufdir_export_watchers() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  perform pg_catalog.pg_notify('bufdir_export:' || new.id::text, new.status::text);
  return null;
end;
$$;
revoke execute on function bufdir_private.notify_bufdir_export_watchers()
  from public, anon, authenticated;

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

create trigger bufdir_export_audit_notify_runners
  after insert or update on public.bufdir_export_audit
  for each row
  when (new.status = 'initialised')
  execute function bufdir_private.notify_bufdir_export_runners();
create trigger bufdir_export_audit_notify_watchers
  after update on public.bufdir_export_audit
  for each row
  when (old.status is distinct from new.status or old.rows_done is distinct from new.rows_done)
  execute function bufdir_private.notify_bufdir_export_watchers();
alter table public.bufdir_export_audit enable always trigger bufdir_export_audit_notify_runners;
alter table public.bufdir_export_audit enable always trigger bufdir_export_audit_notify_watchers;

----------------------------------------------------------------------------
-- realtime
----------------------------------------------------------------------------

alter publication supabase_realtime
  add table public.bufdir_export_audit, public.bufdir_export_audit_events;

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

grant select (id) on table public.bufdir_export_audit, public.bufdir_export_audit_events
  to anon;
