-- Exports as a client sees them: every statement runs as the signed-in
-- caller (see auth.sql), so RLS decides what they may ask for and read.

-- name: request_export
insert into public.bufdir_export_audit (
  organisation_id, period_start, period_end, format, include_attachments
)
values (
  %(organisation_id)s, %(period_start)s, %(period_end)s, %(format)s, %(include_attachments)s
)
returning *;

-- name: watch_export
-- The export and the status changes after a given event, in one snapshot
-- (one statement), so the last event read is the row's status.
select e.*,
       coalesce((
         select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(v) order by v.id)
         from public.bufdir_export_audit_events v
         where v.export_id = e.id and v.id > %(after_event)s
       ), '[]'::jsonb) as new_events
from public.bufdir_export_audit e
where e.id = %(export_id)s;

-- name: listen_export
-- {channel} is "bufdir_export:<export id>", formatted in as an identifier.
listen {channel};

-- name: cancel_export
select * from public.cancel_bufdir_export(%(export_id)s);

-- name: retry_export
select * from public.retry_bufdir_export(%(export_id)s);

-- name: list_exports
-- Newest first, each with its organisation's slug, the configuration version
-- its latest claim generated with, and when its file was deleted (once its
-- retention ended).
select o.slug as organisation, e.*, d.deleted_at as file_deleted_at,
       v.version as column_config_version
from public.bufdir_export_audit e
left join public.bufdir_export_file_deletions d on d.export_id = e.id
left join public.bufdir_export_config_versions v on v.export_id = e.id and v.claim = e.attempts
join public.organisations o on o.id = e.organisation_id
where (%(organisation)s::text is null or o.slug = %(organisation)s)
  and (%(status)s::public.bufdir_export_status is null or e.status = %(status)s)
  and (%(since)s::timestamptz is null or e.created_at >= %(since)s)
order by e.created_at desc, e.id
limit %(limit)s;

-- name: export_with_events
-- One export, its organisation's slug, the configuration version its latest
-- claim generated with, when its file was deleted (once its retention ended)
-- and its whole event timeline.
select o.slug as organisation, e.*,
       (select d.deleted_at from public.bufdir_export_file_deletions d
        where d.export_id = e.id) as file_deleted_at,
       (select v.version from public.bufdir_export_config_versions v
        where v.export_id = e.id and v.claim = e.attempts) as column_config_version,
       coalesce((
         select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(v) order by v.id)
         from public.bufdir_export_audit_events v
         where v.export_id = e.id
       ), '[]'::jsonb) as events
from public.bufdir_export_audit e
join public.organisations o on o.id = e.organisation_id
where e.id = %(export_id)s;

