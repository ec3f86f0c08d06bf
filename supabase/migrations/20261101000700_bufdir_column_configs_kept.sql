-- Column configuration versions are kept, for every role.
--
-- An export's summary names the version it was made with ("Kolonneoppsett
-- versjon N"), so a version is part of the audit trail: once saved it is
-- never deleted or truncated, by the API or by the backend (service_role).
-- Only is_active ever changes (XB009, see the column configs migration).

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

create trigger bufdir_column_configs_forbid_delete
  before delete on public.bufdir_column_configs
  for each row execute function bufdir_private.forbid_audit_change();
create trigger bufdir_column_configs_forbid_truncate
  before truncate on public.bufdir_column_configs
  for each statement execute function bufdir_private.forbid_audit_change();
alter table public.bufdir_column_configs enable always trigger bufdir_column_configs_forbid_delete;
alter table public.bufdir_column_configs enable always trigger bufdir_column_configs_forbid_truncate;
