-- Export files are kept for a retention period, then deleted from storage by
-- a runner; the audit trail records when. Personal data about activities
-- does not stay in a bucket forever; the audit record and its events stay.
--
-- The deletion is recorded beside the audit row, in its own append-only
-- table, not on the row: a completed export never changes again (XB003), and
-- that guarantee is worth more than one column. The record is written only
-- by record_export_file_deleted (the runner, or the backend), once per
-- export, and is never changed or deleted (XB006). Clients read it with the
-- export (PostgREST: select=*,bufdir_export_file_deletions(deleted_at)).

----------------------------------------------------------------------------
-- tables
----------------------------------------------------------------------------

create table public.bufdir_export_file_deletions (
  export_id uuid primary key references public.bufdir_export_audit (id),
  file_path text not null,
  deleted_at timestamptz not null default pg_catalog.clock_timestamp(),
  -- runner:<id>, or role:<role> for the backend (as the events name actors)
  actor text not null
);
comment on table public.bufdir_export_file_deletions is
  'Append-only: when a completed export''s file was deleted from storage (its retention ended), and by whom.';
-- The purge looks for completed exports by when they completed.
create index bufdir_export_audit_completed_at_idx
  on public.bufdir_export_audit (completed_at) where status = 'completed';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- Record that the file of a completed export was deleted from storage (by
-- the runner, after the delete succeeded); the moment, also when it was
-- recorded before (a second purge of the same file changes nothing).
-- Security definer: nobody holds a privilege to write the record themselves.
create function bufdir_private.record_export_file_deleted(p_export_id uuid, p_runner_id text)
  returns timestamptz
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_path text;
  v_at timestamptz;
begin
  select e.file_path into v_path
  from public.bufdir_export_audit e
  where e.id = p_export_id and e.status = 'completed' and e.file_path is not null;
  if not found then
    raise exception 'export % is not a completed export with a file', p_export_id
      using errcode = 'XB007';
  end if;
  perform pg_catalog.set_config('bufdir_export.runner_id', coalesce(p_runner_id, ''), true);
  insert into public.bufdir_export_file_deletions (export_id, file_path, actor)
  values (p_export_id, v_path, bufdir_private.current_actor())
  on conflict (export_id) do nothing;
  select d.deleted_at into v_at
  from public.bufdir_export_file_deletions d
  where d.export_id = p_export_id;
  return v_at;
end;
$$;
revoke execute on function bufdir_private.record_export_file_deleted(uuid, text)
  from public, anon, authenticated;
grant execute on function bufdir_private.record_export_file_deleted(uuid, text)
  to service_role, bufdir_export_runner;

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

create trigger bufdir_export_file_deletions_forbid_change
  before update or delete on public.bufdir_export_file_deletions
  for each row execute function bufdir_private.forbid_audit_change();
create trigger bufdir_export_file_deletions_forbid_truncate
  before truncate on public.bufdir_export_file_deletions
  for each statement execute function bufdir_private.forbid_audit_change();
alter table public.bufdir_export_file_deletions
  enable always trigger bufdir_export_file_deletions_forbid_change;
alter table public.bufdir_export_file_deletions
  enable always trigger bufdir_export_file_deletions_forbid_truncate;

----------------------------------------------------------------------------
-- policies
----------------------------------------------------------------------------

alter table public.bufdir_export_file_deletions enable row level security;

-- Whoever may read the export reads when its file was deleted.
create policy bufdir_export_file_deletions_select on public.bufdir_export_file_deletions
  for select to authenticated
  using (exists (select 1 from public.bufdir_export_audit e where e.id = export_id));
create policy bufdir_export_file_deletions_select_runner on public.bufdir_export_file_deletions
  for select to bufdir_export_runner
  using (true);

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

revoke all on table public.bufdir_export_file_deletions
  from public, anon, authenticated, service_role;
grant select on table public.bufdir_export_file_deletions
  to authenticated, service_role, bufdir_export_runner;
