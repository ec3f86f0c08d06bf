-- The activities of one export, as the report needs them: read through the
-- export's view, which holds exactly what its requester may read, in its
-- organisation and period (the runner role may read nothing else of them).
-- Never the note, nor anything else about a person.

-- name: count_activities
select count(*)
from bufdir_private.export_activities a
where a.export_id = %(export_id)s;

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
  a.in_norway,
  -- the same peer mentor, type and date in another chapter of the export
  min(a.chapter_id::text) over same_day <> max(a.chapter_id::text) over same_day
    as same_day_in_other_chapter
from bufdir_private.export_activities a
join public.local_chapters c on c.id = a.chapter_id
join public.counties k on k.code = c.county_code
join public.activity_types t on t.id = a.activity_type_id
where a.export_id = %(export_id)s
window same_day as (partition by a.peer_mentor_id, a.activity_type_id, a.activity_date)
order by c.county_code, c.name, a.activity_date, a.id;

-- name: list_attachments
-- The attachments of the activities an export holds, in a stable order.
select t.id, t.activity_id, t.storage_path, t.file_name, t.content_type, t.size_bytes
from bufdir_private.export_attachments t
where t.export_id = %(export_id)s
order by t.activity_date, t.activity_id, t.id;
