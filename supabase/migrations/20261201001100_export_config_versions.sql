-- Which column configuration version an export's file was made with, in the
-- audit trail: the runner names it as it moves the export from
-- mapping_columns to generating_file (one call, the transition and the
-- record together), once per claim: a claim after a lost lease loads the
-- configuration again and may find another version active. The export's
-- result is the claim that completed it (its attempts); the report's notes
-- name the same version ("Kolonneoppsett").
--
-- Like the file deletions, the record stands beside the export, append-only,
-- written only through the runner's function.

----------------------------------------------------------------------------
-- tables
----------------------------------------------------------------------------

create table public.bufdir_export_config_versions (
  export_id uuid not null references public.bufdir_export_audit (id),
  -- the claim (attempts) that generated with it
  claim integer not null,
  version integer not null,
  recorded_at timestamptz not null default pg_catalog.clock_timestamp(),
  primary key (export_id, claim)
);
comment on table public.bufdir_export_config_versions is
  'Append-only: the column configuration version each claim of an export generated its file with.';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- mapping_columns -> generating_file, as advance_bufdir_export moves it,
-- naming the configuration version the file is generated with. Security
-- definer: nobody holds a privilege to write the record themselves; the
-- transition is guarded on runner and claim as every runner write is.
create function bufdir_private.begin_generating_bufdir_export(
  p_export_id uuid,
  p_runner_id text,
  p_claim integer,
  p_lease_seconds integer,
  p_config_version integer
) returns public.bufdir_export_audit
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  v_export := bufdir_private.advance_bufdir_export(
    p_export_id, p_runner_id, p_claim, 'mapping_columns', 'generating_file', p_lease_seconds);
  insert into public.bufdir_export_config_versions (export_id, claim, version)
  values (p_export_id, p_claim, p_config_version);
  return v_export;
end;
$$;
revoke execute on function bufdir_private.begin_generating_bufdir_export(
  uuid, text, integer, integer, integer) from public, anon, authenticated;
grant execute on function bufdir_private.begin_generating_bufdir_export(
  uuid, text, integer, integer, integer) to service_role, bufdir_export_runner;

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

create trigger bufdir_export_config_versions_forbid_change
  before update or delete on public.bufdir_export_config_versions
  for each row execute function bufdir_private.forbid_audit_change();
create trigger bufdir_export_config_versions_forbid_truncate
  before truncate on public.bufdir_export_config_versions
  for each statement execute function bufdir_private.forbid_audit_change();
alter table public.bufdir_export_config_versions
  enable always trigger bufdir_export_config_versions_forbid_change;
alter table public.bufdir_export_config_versions
  enable always trigger bufdir_export_config_versions_forbid_truncate;

----------------------------------------------------------------------------
-- policies
----------------------------------------------------------------------------

alter table public.bufdir_export_config_versions enable row level security;

-- Whoever may read the export reads which version it was made with.
create policy bufdir_export_config_versions_select on public.bufdir_export_config_versions
  for select to authenticated
  using (exists (select 1 from public.bufdir_export_audit e where e.id = export_id));
create policy bufdir_export_config_versions_select_runner on public.bufdir_export_config_versions
  for select to bufdir_export_runner
  using (true);

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

revoke all on table public.bufdir_export_config_versions
  from public, anon, authenticated, service_role;
grant select on table public.bufdir_export_config_versions
  to authenticated, service_role, bufdir_export_runner;
