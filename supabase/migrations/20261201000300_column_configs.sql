-- Column configurations: checked when saved, versions kept and never changed.
--
-- A configuration is saved by inserting a new version (an admin of the
-- organisation, through RLS; or the backend as service_role). The database
-- checks its JSON shape, the way the published JSON Schema describes it,
-- and that it gives every activity type of the organisation a Bufdir
-- category; a problem is refused with SQLSTATE 22023 and a message that
-- starts with the JSON path ("$.columns[2].header: ..."). The runner checks
-- the rest (that every CEL expression compiles and reads known fields) when
-- it loads the configuration, and fails the export with invalid_config.
--
-- The version number is given by the database (the next one). A version
-- saved as active replaces the active one; the old versions stay, and no
-- version's content ever changes (XB009). An export's summary names the
-- version it was made with ("Kolonneoppsett versjon N"), so the versions are
-- part of the audit trail: none is ever deleted or truncated, by the API or
-- by the backend (XB006, as for the export records).

----------------------------------------------------------------------------
-- tables
----------------------------------------------------------------------------

create table public.bufdir_column_configs (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references public.organisations (id) on delete cascade,
  version integer not null,
  config jsonb not null,
  is_active boolean not null default false,
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  constraint bufdir_column_configs_organisation_version_key unique (organisation_id, version),
  constraint bufdir_column_configs_version_check check (version > 0),
  constraint bufdir_column_configs_config_check check (jsonb_typeof(config) = 'object')
);
create unique index bufdir_column_configs_one_active_idx
  on public.bufdir_column_configs (organisation_id) where is_active;
comment on table public.bufdir_column_configs is
  'Versioned column configuration of an organisation''s Bufdir report; one version is active.';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- The first problem with a configuration's shape, as '<JSON path>: <what>',
-- or null when there is none.
create function bufdir_private.column_config_problem(p_organisation_id uuid, p_config jsonb)
  returns text
  language plpgsql stable security definer
  set search_path = ''
as $$
declare
  v_fields constant text[] := array[
    'id', 'activity_date', 'year', 'month', 'county_code', 'county_name', 'municipality_number',
    'chapter_name', 'peer_mentor_id', 'activity_type_code', 'activity_type_name',
    'duration_minutes', 'hours', 'participant_count', 'contact_method', 'in_norway', 'category',
    'counted', 'not_counted_reason'];
  v_categories constant text[] := array[
    'oppsøkende', 'samtalegruppe', 'aktivitetsgruppe', 'likepersonskurs', 'ikke_tellende'];
  v_transforms constant text[] := array[
    'date', 'number', 'enum', 'constant', 'concat', 'yes_no', 'text'];
  v_key text;
  v_value jsonb;
  v_column jsonb;
  v_index integer;
  v_path text;
  v_kind text;
  v_code text;
begin
  if jsonb_typeof(p_config) is distinct from 'object' then
    return '$: must be an object';
  end if;
  for v_key in select k from jsonb_object_keys(p_config) as k loop
    if v_key <> all (array['schema_version', 'description', 'categories', 'counting', 'columns',
                           'summary', 'plugins']) then
      return format('$.%s: unknown key', v_key);
    end if;
  end loop;
  if p_config -> 'schema_version' is distinct from '1'::jsonb then
    return '$.schema_version: must be 1';
  end if;

  -- categories: every activity type of the organisation, each to a Bufdir category
  if jsonb_typeof(p_config -> 'categories') is distinct from 'object' then
    return '$.categories: must be an object of activity type code -> Bufdir category';
  end if;
  for v_key, v_value in select * from jsonb_each(p_config -> 'categories') loop
    if jsonb_typeof(v_value) is distinct from 'string' or v_value ->> 0 <> all (v_categories) then
      return format('$.categories.%s: must be one of %s', v_key, array_to_string(v_categories, ', '));
    end if;
  end loop;
  for v_code in
    select t.code from public.activity_types t
    where t.organisation_id = p_organisation_id order by t.code
  loop
    if not (p_config -> 'categories') ? v_code then
      return format('$.categories: activity type %L has no Bufdir category', v_code);
    end if;
  end loop;

  -- columns: 1..100, each with a header, a known source and a known transform
  if jsonb_typeof(p_config -> 'columns') is distinct from 'array'
     or jsonb_array_length(p_config -> 'columns') not between 1 and 100 then
    return '$.columns: must be a list of 1 to 100 columns';
  end if;
  for v_column, v_index in
    select c, i - 1 from jsonb_array_elements(p_config -> 'columns') with ordinality as e (c, i)
  loop
    v_path := format('$.columns[%s]', v_index);
    if jsonb_typeof(v_column) is distinct from 'object' then
      return v_path || ': must be an object';
    end if;
    if jsonb_typeof(v_column -> 'header') is distinct from 'string'
       or length(v_column ->> 'header') not between 1 and 200 then
      return v_path || '.header: must be a text of 1 to 200 characters';
    end if;
    if v_column ? 'source' and (jsonb_typeof(v_column -> 'source') is distinct from 'string'
                                or v_column ->> 'source' <> all (v_fields)) then
      return format('%s.source: unknown field %s', v_path, v_column -> 'source');
    end if;
    if v_column ? 'transform' then
      if jsonb_typeof(v_column -> 'transform') is distinct from 'object' then
        return v_path || '.transform: must be an object';
      end if;
      v_kind := v_column -> 'transform' ->> 'kind';
      if v_kind is null or v_kind <> all (v_transforms) then
        return format('%s.transform.kind: unknown transform %s (known: %s)', v_path,
                      coalesce(v_column -> 'transform' -> 'kind', 'null'::jsonb),
                      array_to_string(v_transforms, ', '));
      end if;
      if v_kind = 'enum' and v_column ->> 'source' = 'activity_type_code'
         and not (v_column -> 'transform') ? 'default' then
        for v_code in
          select t.code from public.activity_types t
          where t.organisation_id = p_organisation_id order by t.code
        loop
          if not coalesce((v_column -> 'transform' -> 'values') ? v_code, false) then
            return format('%s.transform.values: no value for activity type %L', v_path, v_code);
          end if;
        end loop;
      end if;
    end if;
  end loop;

  -- counting rules: a condition and a reason each
  if p_config ? 'counting' then
    if jsonb_typeof(p_config -> 'counting') is distinct from 'object' then
      return '$.counting: must be an object';
    end if;
    if (p_config -> 'counting') ? 'rules'
       and jsonb_typeof(p_config -> 'counting' -> 'rules') is distinct from 'array' then
      return '$.counting.rules: must be a list';
    end if;
    for v_value, v_index in
      select r, i - 1
      from jsonb_array_elements(coalesce(p_config -> 'counting' -> 'rules', '[]'::jsonb))
        with ordinality as e (r, i)
    loop
      if jsonb_typeof(v_value -> 'when') is distinct from 'string' then
        return format('$.counting.rules[%s].when: must be a CEL condition', v_index);
      end if;
      if jsonb_typeof(v_value -> 'reason') is distinct from 'string' then
        return format('$.counting.rules[%s].reason: must be a text', v_index);
      end if;
    end loop;
  end if;

  -- plugins: each named
  if p_config ? 'plugins' then
    if jsonb_typeof(p_config -> 'plugins') is distinct from 'array' then
      return '$.plugins: must be a list';
    end if;
    for v_value, v_index in
      select p, i - 1 from jsonb_array_elements(p_config -> 'plugins') with ordinality as e (p, i)
    loop
      if jsonb_typeof(v_value -> 'name') is distinct from 'string' then
        return format('$.plugins[%s].name: must be the name of an installed plugin', v_index);
      end if;
    end loop;
  end if;
  return null;
end;
$$;
-- It reads any organisation's activity types: never for signed-in users.
revoke execute on function bufdir_private.column_config_problem(uuid, jsonb)
  from public, anon, authenticated;
grant execute on function bufdir_private.column_config_problem(uuid, jsonb)
  to service_role, bufdir_export_runner;

-- A new version: checked, numbered, and (when saved active) the active one.
create function bufdir_private.bufdir_column_configs_before_insert() returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_problem text;
begin
  if bufdir_private.invoking_role() in ('authenticated', 'anon')
     and not bufdir_private.has_org_role(new.organisation_id, 'admin') then
    -- The insert policy refuses this row. Checking it first would tell a
    -- stranger the organisation's activity types.
    return new;
  end if;
  v_problem := bufdir_private.column_config_problem(new.organisation_id, new.config);
  if v_problem is not null then
    raise exception 'invalid column configuration at %', v_problem
      using errcode = 'invalid_parameter_value', column = 'config';
  end if;
  if new.version is null then
    -- Concurrent saves serialise here; the unique key backs it up.
    perform 1 from public.organisations o where o.id = new.organisation_id for update;
    select coalesce(max(c.version), 0) + 1 into new.version
    from public.bufdir_column_configs c
    where c.organisation_id = new.organisation_id;
  end if;
  if new.is_active then
    update public.bufdir_column_configs c
    set is_active = false
    where c.organisation_id = new.organisation_id and c.is_active;
  end if;
  new.created_at := pg_catalog.now();
  return new;
end;
$$;
revoke execute on function bufdir_private.bufdir_column_configs_before_insert() from public;

-- A saved version never changes; only whether it is the active one.
create function bufdir_private.bufdir_column_configs_before_update() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  if (new.id, new.organisation_id, new.version, new.config, new.created_by, new.created_at)
     is distinct from
     (old.id, old.organisation_id, old.version, old.config, old.created_by, old.created_at) then
    raise exception 'a saved column configuration never changes; save a new version'
      using errcode = 'XB009';
  end if;
  return new;
end;
$$;
revoke execute on function bufdir_private.bufdir_column_configs_before_update() from public;

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

create trigger bufdir_column_configs_before_insert
  before insert on public.bufdir_column_configs
  for each row execute function bufdir_private.bufdir_column_configs_before_insert();

create trigger bufdir_column_configs_before_update
  before update on public.bufdir_column_configs
  for each row execute function bufdir_private.bufdir_column_configs_before_update();
create trigger bufdir_column_configs_forbid_delete
  before delete on public.bufdir_column_configs
  for each row execute function bufdir_private.forbid_audit_change();
create trigger bufdir_column_configs_forbid_truncate
  before truncate on public.bufdir_column_configs
  for each statement execute function bufdir_private.forbid_audit_change();
alter table public.bufdir_column_configs enable always trigger bufdir_column_configs_forbid_delete;
alter table public.bufdir_column_configs enable always trigger bufdir_column_configs_forbid_truncate;

----------------------------------------------------------------------------
-- policies
----------------------------------------------------------------------------

alter table public.bufdir_column_configs enable row level security;

-- bufdir_column_configs: coordinators and admins read; admins add versions.
-- Versions are kept: nobody updates or deletes one through the API.
create policy bufdir_column_configs_select on public.bufdir_column_configs
  for select to authenticated
  using (bufdir_private.has_org_role(organisation_id, 'coordinator'));
create policy bufdir_column_configs_insert on public.bufdir_column_configs
  for insert to authenticated
  with check (
    created_by = (select auth.uid()) and bufdir_private.has_org_role(organisation_id, 'admin')
  );
create policy bufdir_column_configs_select_runner on public.bufdir_column_configs
  for select to bufdir_export_runner
  using (true);

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

revoke all on table public.bufdir_column_configs from public, anon, authenticated, service_role;
grant select, insert on table public.bufdir_column_configs to authenticated;
grant select, insert, update, delete on table public.bufdir_column_configs to service_role;
grant select on table public.bufdir_column_configs to bufdir_export_runner;
