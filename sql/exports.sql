-- Export requests, as a client makes them (under its own RLS).

-- name: request_export
insert into public.bufdir_export_audit (organisation_id, period_start, period_end, format)
values (%(organisation_id)s, %(period_start)s, %(period_end)s, %(format)s)
returning id, status;

-- name: export_event_count
select count(*) from public.bufdir_export_audit_events where export_id = %(export_id)s;
