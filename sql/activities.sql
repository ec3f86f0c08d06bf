-- The activities of one organisation in one period, as the report needs them.
-- Never the note, nor anything else about a person: the runner role could not
-- read the note anyway.

-- name: count_activities
select count(*)
from public.activities a
where a.organisation_id = %(organisation_id)s
  and a.activity_date between %(period_start)s and %(period_end)s;

-- name: stream_activities
select
  a.id,
  c.name as chapter_name,
  c.county_code,
  k.name as county_name,
  c.municipality_number,
  a.peer_mentor_id,
  t.code as activity_type_code,
  t.name as activity_type_name,
  a.activity_date,
  a.duration_minutes,
  a.participant_count,
  a.contact_method::text as contact_method,
  a.in_norway
from public.activities a
join public.local_chapters c on c.id = a.chapter_id
join public.counties k on k.code = c.county_code
join public.activity_types t on t.id = a.activity_type_id
where a.organisation_id = %(organisation_id)s
  and a.activity_date between %(period_start)s and %(period_end)s
order by c.county_code, c.name, a.activity_date, a.id;

-- name: list_attachments
-- The attachments of the activities an export covers, in a stable order.
select t.id, t.activity_id, t.storage_path, t.file_name, t.content_type, t.size_bytes
from public.activity_attachments t
join public.activities a on a.organisation_id = t.organisation_id and a.id = t.activity_id
where a.organisation_id = %(organisation_id)s
  and a.activity_date between %(period_start)s and %(period_end)s
order by a.activity_date, t.activity_id, t.id;
