-- Bulk activities for benchmarks (bufdir_export._generate): what an
-- organisation has to hang activities on, and the COPY that writes them.

-- name: generate_organisation
select o.id from public.organisations o where o.slug = %(slug)s;

-- name: generate_chapters
select c.id from public.local_chapters c where c.organisation_id = %(organisation_id)s order by c.name;

-- name: generate_activity_types
select t.id from public.activity_types t where t.organisation_id = %(organisation_id)s order by t.code;

-- name: generate_recorder
-- The member who records the generated activities: the most senior one.
select m.user_id
from public.organisation_members m
where m.organisation_id = %(organisation_id)s
order by m.role desc, m.user_id
limit 1;

-- name: generate_copy_activities
copy public.activities (
  organisation_id, chapter_id, peer_mentor_id, activity_type_id, activity_date,
  duration_minutes, participant_count, contact_method, in_norway, note, recorded_by
) from stdin;
