-- Export requests, as a client makes them (under its own RLS).

-- name: request_export
insert into public.bufdir_export_audit (
  organisation_id, period_start, period_end, format, include_attachments
)
values (
  %(organisation_id)s, %(period_start)s, %(period_end)s, %(format)s, %(include_attachments)s
)
returning id, status;

-- name: export_event_count
select count(*) from public.bufdir_export_audit_events where export_id = %(export_id)s;

-- name: export_outcomes
-- How each export ended, and how long it took from request to end.
select o.slug, e.id, e.format::text, e.include_attachments, e.status::text, e.row_count,
       e.file_size_bytes, extract(epoch from e.completed_at - e.created_at)::float8 as seconds,
       e.file_path, e.download_url, e.error_code, e.error_message
from public.bufdir_export_audit e
join public.organisations o on o.id = e.organisation_id
where e.id = any(%(export_ids)s)
order by o.slug;

-- name: attachments_of_organisation
select t.storage_path, t.size_bytes
from public.activity_attachments t
join public.organisations o on o.id = t.organisation_id
where o.slug = %(slug)s;
