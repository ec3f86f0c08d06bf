-- Watching one export: a notification on a channel of its own whenever its
-- status or its progress changes.
--
-- The channel is "bufdir_export:<export id>" and the payload the new status.
-- A client with a direct connection LISTENs on the channel of the export it
-- started and reads the row (under its own RLS) when woken; apps on Supabase
-- use Realtime instead, which applies RLS itself. LISTEN is not subject to
-- RLS, so the notification carries nothing the row's id does not already
-- tell: no organisation, no requester, no file. Unlike the runners' channel
-- "bufdir_export", nobody but the export's watchers hears it.

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

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

create trigger bufdir_export_audit_notify_watchers
  after update on public.bufdir_export_audit
  for each row
  when (old.status is distinct from new.status or old.rows_done is distinct from new.rows_done)
  execute function bufdir_private.notify_bufdir_export_watchers();
alter table public.bufdir_export_audit enable always trigger bufdir_export_audit_notify_watchers;
