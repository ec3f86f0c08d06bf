-- Column configurations: what the runner loads, what an admin saves.

-- name: active_column_config
-- The organisation's name and its active configuration (null when none is).
select o.name as organisation_name, c.version, c.config
from public.organisations o
left join public.bufdir_column_configs c on c.organisation_id = o.id and c.is_active
where o.id = %(organisation_id)s;

-- name: activity_type_codes
select t.code from public.activity_types t
where t.organisation_id = %(organisation_id)s
order by t.code;

-- name: organisation_by_slug
select o.id, o.name from public.organisations o where o.slug = %(slug)s;

-- name: save_column_config
-- A new version, active at once (as the signed-in admin: RLS decides).
-- The database numbers it and checks its shape.
insert into public.bufdir_column_configs (organisation_id, config, is_active)
values (%(organisation_id)s, %(config)s, true)
returning version;

-- name: column_config_versions
-- The organisation's saved versions, newest first, each with its latest
-- activation (who, when), as the caller may read them.
select c.version, c.is_active, c.created_by, c.created_at,
       c.config ->> 'description' as description,
       a.actor as activated_by, a.activated_at
from public.bufdir_column_configs c
left join lateral (
  select x.actor, x.activated_at
  from public.bufdir_column_config_activations x
  where x.organisation_id = c.organisation_id and x.version = c.version
  order by x.id desc
  limit 1
) a on true
where c.organisation_id = %(organisation_id)s
order by c.version desc;

-- name: column_config_document
-- One version's configuration: the one asked for, or the active one (null version).
select c.version, c.is_active, c.config
from public.bufdir_column_configs c
where c.organisation_id = %(organisation_id)s
  and (c.version = %(version)s or (%(version)s::integer is null and c.is_active));

-- name: activate_column_config
select version from public.activate_bufdir_column_config(%(organisation_id)s, %(version)s);
