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
