-- name: organisation_summary
select
  o.slug,
  (select count(*) from public.organisation_members m where m.organisation_id = o.id) as members,
  (select count(*) from public.local_chapters c where c.organisation_id = o.id) as chapters,
  (select count(distinct c.county_code) from public.local_chapters c
    where c.organisation_id = o.id) as counties,
  (select count(*) from public.activities a where a.organisation_id = o.id) as activities,
  (select count(*) from public.activity_attachments t where t.organisation_id = o.id)
    as attachments
from public.organisations o
order by o.slug;

-- name: member_and_foreign_organisation
-- A plain member, and an organisation they do not belong to.
select own.slug, m.user_id, foreign_org.slug, foreign_org.id
from public.organisation_members m
join public.organisations own on own.id = m.organisation_id
cross join public.organisations foreign_org
where m.role = 'member'
  and not exists (
    select 1 from public.organisation_members x
    where x.user_id = m.user_id and x.organisation_id = foreign_org.id
  )
order by own.slug, foreign_org.slug, m.user_id
limit 1;

-- name: organisation_members_by_role
-- One user of each organisation holding the given role, with the organisation.
select distinct on (o.slug) o.slug, o.id as organisation_id, m.user_id
from public.organisations o
join public.organisation_members m on m.organisation_id = o.id
where m.role = %(role)s
order by o.slug, m.user_id;

-- name: attachments_of_organisation
select t.storage_path, t.size_bytes
from public.activity_attachments t
join public.organisations o on o.id = t.organisation_id
where o.slug = %(slug)s;
