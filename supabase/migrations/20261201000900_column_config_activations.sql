-- Which column configuration version was active when, and who made it so.
--
-- A version becomes active when it is saved as active (as before) or when an
-- admin of the organisation activates a saved one
-- (public.activate_bufdir_column_config: a roll-back is activating an older
-- version). Every activation is recorded in bufdir_column_config_activations,
-- by a trigger, whoever makes it: who (as the events name actors), when, which
-- version. Like the versions themselves, the record is never changed or
-- deleted (XB006).

----------------------------------------------------------------------------
-- tables
----------------------------------------------------------------------------

create table public.bufdir_column_config_activations (
  id bigint generated always as identity primary key,
  organisation_id uuid not null references public.organisations (id),
  -- the version, as bufdir_column_configs numbers it (no foreign key to it:
  -- one would make a truncate of the versions fail before their own trigger
  -- refuses it with XB006)
  version integer not null,
  -- user:<id> for a signed-in admin, role:<role> for the backend (as the events)
  actor text not null,
  activated_at timestamptz not null default pg_catalog.clock_timestamp()
);
create index bufdir_column_config_activations_organisation_idx
  on public.bufdir_column_config_activations (organisation_id, id);
comment on table public.bufdir_column_config_activations is
  'Append-only: each time a column configuration version became the active one, and who made it so.';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- AFTER INSERT OR UPDATE OF is_active: a version that became active is recorded.
-- Security definer: nobody holds a privilege to write the record themselves.
create function bufdir_private.bufdir_column_configs_after_activation() returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  if new.is_active and (tg_op = 'INSERT' or not old.is_active) then
    insert into public.bufdir_column_config_activations (organisation_id, version, actor)
    values (new.organisation_id, new.version, bufdir_private.current_actor());
  end if;
  return null;
end;
$$;
revoke execute on function bufdir_private.bufdir_column_configs_after_activation()
  from public, anon, authenticated;

-- Make a saved version the organisation's active one: an admin of the
-- organisation (or the backend) may, as cancel_bufdir_export lets an admin
-- cancel. The version active before is deactivated in the same call, so one
-- version is active before and after it; activating the active one changes
-- and records nothing. Security definer, like cancel_bufdir_export: nobody
-- may flip is_active themselves (which could leave no version active).
create function public.activate_bufdir_column_config(p_organisation_id uuid, p_version integer)
  returns public.bufdir_column_configs
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_config public.bufdir_column_configs;
begin
  if bufdir_private.invoking_role() in ('authenticated', 'anon')
     and not bufdir_private.has_org_role(p_organisation_id, 'admin') then
    raise exception 'only an admin of the organisation may activate its column configuration'
      using errcode = 'insufficient_privilege';
  end if;
  select * into v_config
  from public.bufdir_column_configs c
  where c.organisation_id = p_organisation_id and c.version = p_version
  for update;
  if not found then
    raise exception 'the organisation has no column configuration version %', p_version
      using errcode = 'invalid_parameter_value';
  end if;
  if v_config.is_active then
    return v_config;
  end if;
  update public.bufdir_column_configs c
  set is_active = false
  where c.organisation_id = p_organisation_id and c.is_active;
  update public.bufdir_column_configs c
  set is_active = true
  where c.id = v_config.id
  returning * into v_config;
  return v_config;
end;
$$;
revoke execute on function public.activate_bufdir_column_config(uuid, integer) from public, anon;
grant execute on function public.activate_bufdir_column_config(uuid, integer)
  to authenticated, service_role;

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

create trigger bufdir_column_configs_after_activation
  after insert or update of is_active on public.bufdir_column_configs
  for each row execute function bufdir_private.bufdir_column_configs_after_activation();
create trigger bufdir_column_config_activations_only_by_trigger
  before insert on public.bufdir_column_config_activations
  for each row execute function bufdir_private.only_by_audit_trigger();
create trigger bufdir_column_config_activations_forbid_change
  before update or delete on public.bufdir_column_config_activations
  for each row execute function bufdir_private.forbid_audit_change();
create trigger bufdir_column_config_activations_forbid_truncate
  before truncate on public.bufdir_column_config_activations
  for each statement execute function bufdir_private.forbid_audit_change();
alter table public.bufdir_column_config_activations
  enable always trigger bufdir_column_config_activations_only_by_trigger;
alter table public.bufdir_column_config_activations
  enable always trigger bufdir_column_config_activations_forbid_change;
alter table public.bufdir_column_config_activations
  enable always trigger bufdir_column_config_activations_forbid_truncate;

----------------------------------------------------------------------------
-- policies
----------------------------------------------------------------------------

alter table public.bufdir_column_config_activations enable row level security;

-- Read as the versions are: by the organisation's coordinators and admins.
create policy bufdir_column_config_activations_select on public.bufdir_column_config_activations
  for select to authenticated
  using (bufdir_private.has_org_role(organisation_id, 'coordinator'));

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

revoke all on table public.bufdir_column_config_activations
  from public, anon, authenticated, service_role;
grant select on table public.bufdir_column_config_activations to authenticated, service_role;
-- Its identity: nobody but the trigger's owner draws from it.
revoke all on sequence public.bufdir_column_config_activations_id_seq
  from public, anon, authenticated, service_role;
