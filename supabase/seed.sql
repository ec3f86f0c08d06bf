-- Demo data: three organisations with members, local chapters, activity types,
-- two years of peer-mentor activities, some attachments, and each
-- organisation's column configuration: exports work with nothing more.
--
-- Runs once on a fresh database after the migrations, as postgres
-- (`supabase db reset`, `bufdir-export seed`, the demo and the tests). The
-- Supabase CLI prepares every statement before it runs any, so no statement
-- reads an object that an earlier one creates. Every
-- value is computed from generate_series and md5 of fixed text, never from
-- random(): the data is the same on every run, ids included.
--
-- Fixed uuids that docs and tests may refer to:
--
--   organisations
--     00000000-0000-4000-a000-000000000001  nhf              Norges Handikapforbund
--     00000000-0000-4000-a000-000000000002  blindeforbundet  Norges Blindeforbund
--     00000000-0000-4000-a000-000000000003  hlf              Hørselshemmedes Landsforbund
--
--   users (auth.users), with their role in each organisation
--     00000000-0000-4000-b001-000000000001  admin@nhf.example                     nhf admin
--     00000000-0000-4000-b001-000000000002  coordinator@nhf.example               nhf coordinator
--     00000000-0000-4000-b001-000000000003  member1@nhf.example                   nhf member
--     00000000-0000-4000-b001-000000000004  member2@nhf.example                   nhf member
--     00000000-0000-4000-b002-000000000001  admin@blindeforbundet.example         blindeforbundet admin
--     00000000-0000-4000-b002-000000000002  coordinator@blindeforbundet.example   blindeforbundet coordinator
--     00000000-0000-4000-b002-000000000003  member1@blindeforbundet.example       blindeforbundet member
--     00000000-0000-4000-b002-000000000004  member2@blindeforbundet.example       blindeforbundet member
--     00000000-0000-4000-b003-000000000001  admin@hlf.example                     hlf admin
--     00000000-0000-4000-b003-000000000002  coordinator@hlf.example               hlf coordinator
--     00000000-0000-4000-b003-000000000003  member1@hlf.example                   hlf member
--     00000000-0000-4000-b003-000000000004  member2@hlf.example                   hlf member
--     00000000-0000-4000-b000-000000000001  member@nhf-hlf.example                nhf member and hlf member
--
--   derived ids (md5 of fixed text, cast to uuid)
--     local chapter of organisation <slug>:        md5('<slug>/chapter/' || name)::uuid
--     activity type of organisation <slug>:        md5('<slug>/type/' || code)::uuid
--     activity n (1..400) of organisation <slug>:  md5('<slug>/activity/' || n)::uuid
--     peer mentor k of organisation <slug>:        md5('<slug>-mentor-' || k)::uuid
--       (k in 1..20 for nhf, 1..15 for blindeforbundet, 1..25 for hlf)

----------------------------------------------------------------------------
-- organisations
----------------------------------------------------------------------------

insert into public.organisations (id, slug, name) values
  ('00000000-0000-4000-a000-000000000001', 'nhf', 'Norges Handikapforbund'),
  ('00000000-0000-4000-a000-000000000002', 'blindeforbundet', 'Norges Blindeforbund'),
  ('00000000-0000-4000-a000-000000000003', 'hlf', 'Hørselshemmedes Landsforbund');

----------------------------------------------------------------------------
-- users and memberships
----------------------------------------------------------------------------

insert into auth.users (id, email, raw_app_meta_data, raw_user_meta_data) values
  ('00000000-0000-4000-b001-000000000001', 'admin@nhf.example', '{}', '{}'),
  ('00000000-0000-4000-b001-000000000002', 'coordinator@nhf.example', '{}', '{}'),
  ('00000000-0000-4000-b001-000000000003', 'member1@nhf.example', '{}', '{}'),
  ('00000000-0000-4000-b001-000000000004', 'member2@nhf.example', '{}', '{}'),
  ('00000000-0000-4000-b002-000000000001', 'admin@blindeforbundet.example', '{}', '{}'),
  ('00000000-0000-4000-b002-000000000002', 'coordinator@blindeforbundet.example', '{}', '{}'),
  ('00000000-0000-4000-b002-000000000003', 'member1@blindeforbundet.example', '{}', '{}'),
  ('00000000-0000-4000-b002-000000000004', 'member2@blindeforbundet.example', '{}', '{}'),
  ('00000000-0000-4000-b003-000000000001', 'admin@hlf.example', '{}', '{}'),
  ('00000000-0000-4000-b003-000000000002', 'coordinator@hlf.example', '{}', '{}'),
  ('00000000-0000-4000-b003-000000000003', 'member1@hlf.example', '{}', '{}'),
  ('00000000-0000-4000-b003-000000000004', 'member2@hlf.example', '{}', '{}'),
  ('00000000-0000-4000-b000-000000000001', 'member@nhf-hlf.example', '{}', '{}');

insert into public.organisation_members (organisation_id, user_id, role) values
  ('00000000-0000-4000-a000-000000000001', '00000000-0000-4000-b001-000000000001', 'admin'),
  ('00000000-0000-4000-a000-000000000001', '00000000-0000-4000-b001-000000000002', 'coordinator'),
  ('00000000-0000-4000-a000-000000000001', '00000000-0000-4000-b001-000000000003', 'member'),
  ('00000000-0000-4000-a000-000000000001', '00000000-0000-4000-b001-000000000004', 'member'),
  ('00000000-0000-4000-a000-000000000002', '00000000-0000-4000-b002-000000000001', 'admin'),
  ('00000000-0000-4000-a000-000000000002', '00000000-0000-4000-b002-000000000002', 'coordinator'),
  ('00000000-0000-4000-a000-000000000002', '00000000-0000-4000-b002-000000000003', 'member'),
  ('00000000-0000-4000-a000-000000000002', '00000000-0000-4000-b002-000000000004', 'member'),
  ('00000000-0000-4000-a000-000000000003', '00000000-0000-4000-b003-000000000001', 'admin'),
  ('00000000-0000-4000-a000-000000000003', '00000000-0000-4000-b003-000000000002', 'coordinator'),
  ('00000000-0000-4000-a000-000000000003', '00000000-0000-4000-b003-000000000003', 'member'),
  ('00000000-0000-4000-a000-000000000003', '00000000-0000-4000-b003-000000000004', 'member'),
  -- one person in two organisations
  ('00000000-0000-4000-a000-000000000001', '00000000-0000-4000-b000-000000000001', 'member'),
  ('00000000-0000-4000-a000-000000000003', '00000000-0000-4000-b000-000000000001', 'member');

----------------------------------------------------------------------------
-- local chapters (2024 municipality numbers; the county is their first two digits)
----------------------------------------------------------------------------

insert into public.local_chapters (id, organisation_id, name, county_code, municipality_number)
select md5(c.slug || '/chapter/' || c.name)::uuid, o.id, c.name,
       left(c.municipality_number, 2), c.municipality_number
from (values
  ('nhf', 'NHF Oslo', '0301'),
  ('nhf', 'NHF Bergen', '4601'),
  ('nhf', 'NHF Trondheim', '5001'),
  ('nhf', 'NHF Tromsø', '5501'),
  ('nhf', 'NHF Bodø', '1804'),
  ('nhf', 'NHF Rogaland', '1103'),
  ('nhf', 'NHF Agder', '4204'),
  ('nhf', 'NHF Buskerud', '3301'),
  ('blindeforbundet', 'Blindeforbundet Oslo', '0301'),
  ('blindeforbundet', 'Blindeforbundet Vestland', '4601'),
  ('blindeforbundet', 'Blindeforbundet Trøndelag', '5001'),
  ('blindeforbundet', 'Blindeforbundet Østfold', '3107'),
  ('blindeforbundet', 'Blindeforbundet Akershus', '3205'),
  ('blindeforbundet', 'Blindeforbundet Innlandet', '3403'),
  ('blindeforbundet', 'Blindeforbundet Finnmark', '5601'),
  ('hlf', 'HLF Oslo', '0301'),
  ('hlf', 'HLF Vestfold', '3905'),
  ('hlf', 'HLF Telemark', '4003'),
  ('hlf', 'HLF Ålesund', '1508'),
  ('hlf', 'HLF Alta', '5601'),
  ('hlf', 'HLF Stavanger', '1103'),
  ('hlf', 'HLF Trondheim', '5001'),
  ('hlf', 'HLF Nordland', '1804')
) as c (slug, name, municipality_number)
join public.organisations o on o.slug = c.slug;

----------------------------------------------------------------------------
-- activity types, and activities: 400 per organisation, 2024-01-01 .. 2025-12-31
----------------------------------------------------------------------------

-- Each organisation names its own types; its column configuration maps them
-- to the Bufdir categories. The category column says which one each type is
-- meant for (not_counted: Bufdir does not count it at all). It only steers
-- the activities generated below and is not stored.
--
-- Types and activities are one statement: the Supabase CLI prepares every
-- statement of a seed file before it runs any, so no statement may read an
-- object that an earlier statement of the file creates (a temporary table of
-- the types, say). Rows are another matter: the later statements below read
-- what the earlier ones inserted.
--
-- Activity n of an organisation falls in one of twenty slots (n % 20):
--
--   slot 0  too_short        too short to count: a talk group of exactly 44 min,
--                            outreach of 30, an activity group of 20, a course
--                            day of 89 (under 2 x 45)
--   slot 1  too_few          a group with fewer than 3 (exactly 2, or 1)
--   slot 2  remote_outreach  outreach by phone (three in four) or video
--   slot 3  abroad           otherwise countable, but not in Norway
--   slot 4  boundary         counts, just: a talk group of exactly 45 min, an
--                            activity group of exactly 3, a course day of
--                            exactly 90 min, outreach in person of exactly 45
--   slots 5..19  regular     an ordinary activity; most count, those of a
--                            not_counted type never do
--
-- Within a slot, turn = (n / 20) % 4 picks one of the four shapes above, so
-- each shape occurs 5 times per organisation. Dates step by 37 days modulo the
-- 731 days of the period: n = 1 falls on 2024-01-01, n = 80 on 2025-12-31.
-- Chapter, mentor, type and the spread of regular values come from md5 of
-- '<slug>/activity/<n>', read as four independent 28-bit numbers.
with seed_type (slug, code, name, category, usual_contact) as (
  values
    ('nhf', 'hjemmebesok', 'Likepersonsbesøk (oppsøkende)', 'outreach',
     'in_person'::public.activity_contact_method),
    ('nhf', 'samtalegruppe', 'Samtalegruppe', 'talk_group', 'in_person'),
    ('nhf', 'aktivitetsgruppe', 'Aktivitetsgruppe', 'activity_group', 'in_person'),
    ('nhf', 'likepersonskurs', 'Likepersonskurs', 'course', 'in_person'),
    ('nhf', 'telefonkontakt', 'Telefonkontakt', 'not_counted', 'phone'),
    ('blindeforbundet', 'oppsokende_likeperson', 'Oppsøkende likepersonsarbeid', 'outreach', 'in_person'),
    ('blindeforbundet', 'samtalegruppe_syn', 'Samtalegruppe for synshemmede', 'talk_group', 'in_person'),
    ('blindeforbundet', 'turgruppe', 'Turgruppe', 'activity_group', 'in_person'),
    ('blindeforbundet', 'kurs_likeperson', 'Kurs for likepersoner', 'course', 'in_person'),
    ('blindeforbundet', 'sosialt_treff', 'Sosialt treff', 'not_counted', 'in_person'),
    ('hlf', 'likepersonsbesok', 'Likepersonsbesøk', 'outreach', 'in_person'),
    ('hlf', 'mestringsgruppe', 'Mestringsgruppe for hørselshemmede', 'talk_group', 'in_person'),
    ('hlf', 'aktivitetstreff', 'Aktivitetstreff', 'activity_group', 'in_person'),
    ('hlf', 'likepersonsopplaering', 'Likepersonsopplæring (kurs)', 'course', 'in_person'),
    ('hlf', 'telefonvakt', 'Telefonvakt', 'not_counted', 'phone'),
    ('hlf', 'digital_kafe', 'Digital kafé', 'not_counted', 'digital')
),
new_type as (
  insert into public.activity_types (id, organisation_id, code, name)
  select md5(t.slug || '/type/' || t.code)::uuid, o.id, t.code, t.name
  from seed_type t
  join public.organisations o on o.slug = t.slug
  returning id, organisation_id, code
),
org as (
  select o.id, o.slug, p.mentor_pool
  from public.organisations o
  join (values ('nhf', 20), ('blindeforbundet', 15), ('hlf', 25)) as p (slug, mentor_pool)
    on p.slug = o.slug
),
chapter as (
  select c.organisation_id, c.id,
         row_number() over (partition by c.organisation_id order by c.name) - 1 as i,
         count(*) over (partition by c.organisation_id) as of_n
  from public.local_chapters c
),
recorder as (
  select m.organisation_id, m.user_id,
         row_number() over (partition by m.organisation_id order by m.user_id) - 1 as i,
         count(*) over (partition by m.organisation_id) as of_n
  from public.organisation_members m
),
kind as (
  select t.slug, t.category, at.id as activity_type_id, t.usual_contact,
         row_number() over (partition by t.slug, t.category order by t.code) - 1 as i,
         count(*) over (partition by t.slug, t.category) as of_n
  from seed_type t
  join public.organisations o on o.slug = t.slug
  join new_type at on at.organisation_id = o.id and at.code = t.code
),
-- the exact shapes of the slots 0..4
special (slot, turn, category, duration_minutes, participant_count, contact_method, in_norway) as (
  values
    (0, 0, 'talk_group',      44, 6, 'in_person'::public.activity_contact_method, true),
    (0, 1, 'outreach',        30, 1, 'in_person', true),
    (0, 2, 'activity_group',  20, 4, 'in_person', true),
    (0, 3, 'course',          89, 7, 'in_person', true),
    (1, 0, 'talk_group',      90, 2, 'in_person', true),
    (1, 1, 'outreach',        60, 0, 'in_person', true),   -- nobody was met
    (1, 2, 'talk_group',      60, 2, 'in_person', true),
    (1, 3, 'activity_group',  45, 2, 'in_person', true),
    (2, 0, 'outreach',        45, 1, 'phone', true),
    (2, 1, 'outreach',        60, 1, 'phone', true),
    (2, 2, 'outreach',        90, 1, 'phone', true),
    (2, 3, 'outreach',        50, 1, 'video', true),
    (3, 0, 'outreach',        60, 1, 'in_person', false),
    (3, 1, 'talk_group',      90, 5, 'in_person', false),
    (3, 2, 'activity_group', 180, 8, 'in_person', false),
    (3, 3, 'course',         360, 12, 'in_person', false),
    (4, 0, 'talk_group',      45, 5, 'in_person', true),
    (4, 1, 'activity_group',  75, 3, 'in_person', true),
    (4, 2, 'course',          90, 10, 'in_person', true),
    (4, 3, 'outreach',        45, 1, 'in_person', true)
),
notes (i, note) as (
  values
    (0, 'Godt oppmøte, flere nye deltakere denne gangen.'),
    (1, 'Samtalen handlet mest om hjelpemidler og søknader til NAV.'),
    (2, '=HYPERLINK("http://x")'),
    (3, 'Tur langs elva i fint vær. Prøvde æøå ÆØÅ på tavla.'),
    (4, 'Deltakeren ønsket oppfølging om to uker.'),
    (5, '+1 deltaker kom etter pausen'),
    (6, '@SUM(A1:A9)'),
    (7, '-5 grader, så vi holdt oss inne.'),
    (8, 'Kurset ble flyttet til biblioteket; heis var ute av drift.')
),
series as (
  select org.id as organisation_id, org.slug, org.mentor_pool, n,
         n % 20 as slot,
         (n / 20) % 4 as turn,
         md5(org.slug || '/activity/' || n) as h
  from org
  cross join generate_series(1, 400) as n
),
drawn as (
  select s.*,
         ('x' || substr(s.h, 1, 7))::bit(28)::integer as r_chapter,
         ('x' || substr(s.h, 8, 7))::bit(28)::integer as r_mentor,
         ('x' || substr(s.h, 15, 7))::bit(28)::integer as r_category,
         ('x' || substr(s.h, 22, 7))::bit(28)::integer as r_shape
  from series s
),
planned as (
  select d.*,
         coalesce(sp.category,
           case d.r_category % 20
             when 0 then 'outreach' when 1 then 'outreach' when 2 then 'outreach'
             when 3 then 'outreach' when 4 then 'outreach' when 5 then 'outreach'
             when 6 then 'talk_group' when 7 then 'talk_group'
             when 8 then 'talk_group' when 9 then 'talk_group'
             when 10 then 'activity_group' when 11 then 'activity_group'
             when 12 then 'activity_group' when 13 then 'activity_group'
             when 14 then 'course' when 15 then 'course' when 16 then 'course'
             else 'not_counted'
           end) as category,
         sp.duration_minutes as special_duration,
         sp.participant_count as special_participants,
         sp.contact_method as special_contact,
         coalesce(sp.in_norway, true) as in_norway
  from drawn d
  left join special sp on sp.slot = d.slot and sp.turn = d.turn
)
insert into public.activities (
  id, organisation_id, chapter_id, peer_mentor_id, activity_type_id, activity_date,
  duration_minutes, participant_count, contact_method, in_norway, note, recorded_by
)
select
  md5(p.slug || '/activity/' || p.n)::uuid,
  p.organisation_id,
  c.id,
  md5(p.slug || '-mentor-' || (1 + p.r_mentor % p.mentor_pool))::uuid,
  k.activity_type_id,
  date '2024-01-01' + ((p.n - 1) * 37) % 731,
  coalesce(p.special_duration, case p.category
    when 'outreach' then 45 + (p.r_shape % 8) * 15                      -- 45 .. 150
    when 'talk_group' then 60 + (p.r_shape % 5) * 15                    -- 60 .. 120
    when 'activity_group' then 60 + (p.r_shape % 9) * 15                -- 60 .. 180
    when 'course' then 120 + (p.r_shape % 5) * 60                       -- 120 .. 360
    else case k.usual_contact when 'phone' then 10 + (p.r_shape % 6) * 5  -- 10 .. 35
                              else 60 + (p.r_shape % 4) * 30 end        -- 60 .. 150
  end),
  coalesce(p.special_participants, case p.category
    when 'outreach' then 1 + (p.r_shape % 5 = 0)::integer               -- 1 or 2
    when 'talk_group' then 3 + p.r_shape % 8                            -- 3 .. 10
    when 'activity_group' then 3 + p.r_shape % 15                       -- 3 .. 17
    when 'course' then 4 + p.r_shape % 12                               -- 4 .. 15
    else case k.usual_contact when 'phone' then 1
                              else 2 + p.r_shape % 20 end               -- 2 .. 21
  end),
  coalesce(p.special_contact, case
    -- groups meet on video and courses run digitally now and then; the
    -- Bufdir rules restrict only outreach to meeting in person
    when p.category = 'talk_group' and p.r_shape % 10 = 7 then 'video'
    when p.category = 'course' and p.r_shape % 10 = 7 then 'digital'
    else k.usual_contact
  end),
  p.in_norway,
  (select nt.note from notes nt where p.n % 7 = 0 and nt.i = (p.n / 7) % 9),
  r.user_id
from planned p
join kind k
  on k.slug = p.slug and k.category = p.category and k.i = p.r_shape % k.of_n
join chapter c
  on c.organisation_id = p.organisation_id and c.i = p.r_chapter % c.of_n
join recorder r
  on r.organisation_id = p.organisation_id and r.i = (p.n * 7 + p.r_mentor) % r.of_n
order by p.slug, p.n;

----------------------------------------------------------------------------
-- NHF: six activities recorded a second time, by another chapter
----------------------------------------------------------------------------

-- A peer mentor who belongs to two chapters sometimes has one activity
-- recorded by both. NHF's configuration counts it once (plugin
-- nhf-samme-dag): the copy, in the chapter that comes later in the report,
-- shows "registrert i flere lokallag". Copies of activities n = 45, 105, ...,
-- 345 (regular slots), each in the chapter after its own in name order.
insert into public.activities (
  id, organisation_id, chapter_id, peer_mentor_id, activity_type_id, activity_date,
  duration_minutes, participant_count, contact_method, in_norway, note, recorded_by
)
with chapter as (
  select c.id, c.organisation_id,
         lead(c.id) over (partition by c.organisation_id order by c.name) as next_id,
         first_value(c.id) over (partition by c.organisation_id order by c.name) as first_id
  from public.local_chapters c
)
select md5('nhf/duplicate/' || n)::uuid, a.organisation_id, coalesce(c.next_id, c.first_id),
       a.peer_mentor_id, a.activity_type_id, a.activity_date, a.duration_minutes,
       a.participant_count, a.contact_method, a.in_norway, null, a.recorded_by
from generate_series(45, 345, 60) as n
join public.activities a on a.id = md5('nhf/activity/' || n)::uuid
join chapter c on c.id = a.chapter_id
order by n;

----------------------------------------------------------------------------
-- attachments: on activity n where n % 20 = 13 (20 per organisation), a second
-- file where n % 40 = 13 (10 more); stored at <slug>/<activity id>/<file>
----------------------------------------------------------------------------

insert into public.activity_attachments (
  organisation_id, activity_id, storage_path, file_name, content_type, size_bytes
)
with file (i, file_name, stored_as, content_type) as (
  values
    (0, 'Deltakerliste.pdf', 'deltakerliste.pdf', 'application/pdf'),
    (1, 'Bilde fra turen.jpg', 'bilde-fra-turen.jpg', 'image/jpeg'),
    (2, 'Program våren.docx', 'program-varen.docx',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document'),
    (3, 'Referat møte ÆØÅ.pdf', 'referat-mote.pdf', 'application/pdf'),
    (4, 'skjermbilde.png', 'skjermbilde.png', 'image/png'),
    (5, '=SUM(1+1).csv', 'sum.csv', 'text/csv')
),
wanted as (
  select o.id as organisation_id, o.slug, n, 0 as copy_no
  from public.organisations o
  cross join generate_series(1, 400) as n
  where n % 20 = 13
  union all
  select o.id, o.slug, n, 1
  from public.organisations o
  cross join generate_series(1, 400) as n
  where n % 40 = 13
)
select w.organisation_id,
       a.id,
       w.slug || '/' || a.id || '/' || f.stored_as,
       f.file_name,
       f.content_type,
       20000 + (w.n * 7919 + w.copy_no * 104729) % 480000
from wanted w
join public.activities a
  on a.organisation_id = w.organisation_id
 and a.id = md5(w.slug || '/activity/' || w.n)::uuid
join file f on f.i = (w.n / 20 + w.copy_no * 3) % 6
order by w.slug, w.n, w.copy_no;

----------------------------------------------------------------------------
-- column configurations: configs/<slug>.json, each saved as version 1, active
----------------------------------------------------------------------------

-- Saved as the database saves an admin's (numbered and checked by its
-- trigger), with no user behind them. The rows are configs/*.json as they
-- are; after changing one, rewrite them: python -m bufdir_export.tools.seed
insert into public.bufdir_column_configs (organisation_id, config, is_active, created_by)
select o.id, c.config, true, null
from (values
-- begin: configs/<slug>.json
  (1, 'nhf', $config${
  "schema_version": 1,
  "description": "Norges Handikapforbund: Bufdirs regler, og en aktivitet registrert i flere lokallag samme dag teller én gang.",
  "categories": {
    "hjemmebesok": "oppsøkende",
    "samtalegruppe": "samtalegruppe",
    "aktivitetsgruppe": "aktivitetsgruppe",
    "likepersonskurs": "likepersonskurs",
    "telefonkontakt": "ikke_tellende"
  },
  "plugins": [
    {
      "name": "nhf-samme-dag"
    }
  ],
  "columns": [
    {
      "header": "Aktivitets-ID",
      "source": "id",
      "width": 13
    },
    {
      "header": "Dato",
      "source": "activity_date",
      "transform": {
        "kind": "date",
        "format": "dd.mm.yyyy"
      }
    },
    {
      "header": "Fylkesnr",
      "source": "county_code",
      "required": true
    },
    {
      "header": "Fylke",
      "source": "county_name",
      "width": 18
    },
    {
      "header": "Kommunenr",
      "source": "municipality_number",
      "transform": {
        "kind": "text"
      }
    },
    {
      "header": "Lokallag",
      "source": "chapter_name",
      "width": 24
    },
    {
      "header": "Likeperson",
      "source": "peer_mentor_id",
      "width": 13
    },
    {
      "header": "Aktivitetstype",
      "source": "activity_type_name",
      "width": 30
    },
    {
      "header": "Bufdir-kategori",
      "source": "category",
      "transform": {
        "kind": "enum",
        "values": {
          "oppsøkende": "Oppsøkende",
          "samtalegruppe": "Samtalegruppe",
          "aktivitetsgruppe": "Aktivitetsgruppe",
          "likepersonskurs": "Likepersonskurs",
          "ikke_tellende": "Ikke tellende"
        }
      }
    },
    {
      "header": "Minutter",
      "source": "duration_minutes"
    },
    {
      "header": "Timer",
      "source": "hours",
      "transform": {
        "kind": "number",
        "decimals": 2
      }
    },
    {
      "header": "Deltakere",
      "source": "participant_count"
    },
    {
      "header": "Kontaktform",
      "source": "contact_method",
      "transform": {
        "kind": "enum",
        "values": {
          "in_person": "Fysisk",
          "phone": "Telefon",
          "video": "Video",
          "digital": "Digitalt"
        }
      }
    },
    {
      "header": "I Norge",
      "source": "in_norway",
      "transform": {
        "kind": "yes_no"
      }
    },
    {
      "header": "Tellende",
      "source": "counted",
      "transform": {
        "kind": "yes_no"
      }
    },
    {
      "header": "Årsak",
      "source": "not_counted_reason",
      "required_if": "!counted",
      "width": 30
    }
  ]
}$config$::jsonb),
  (2, 'blindeforbundet', $config${
  "schema_version": 1,
  "description": "Norges Blindeforbund: Bufdirs regler; sted som fylke / lokallag.",
  "categories": {
    "oppsokende_likeperson": "oppsøkende",
    "samtalegruppe_syn": "samtalegruppe",
    "turgruppe": "aktivitetsgruppe",
    "kurs_likeperson": "likepersonskurs",
    "sosialt_treff": "ikke_tellende"
  },
  "columns": [
    {
      "header": "Organisasjon",
      "transform": {
        "kind": "constant",
        "value": "Norges Blindeforbund"
      },
      "width": 22
    },
    {
      "header": "Dato",
      "source": "activity_date",
      "transform": {
        "kind": "date"
      }
    },
    {
      "header": "Måned",
      "source": "activity_date",
      "transform": {
        "kind": "date",
        "format": "mm.yyyy"
      }
    },
    {
      "header": "Fylkesnr",
      "source": "county_code"
    },
    {
      "header": "Kommunenr",
      "source": "municipality_number"
    },
    {
      "header": "Sted",
      "transform": {
        "kind": "concat",
        "sources": [
          "county_name",
          "chapter_name"
        ],
        "separator": " / "
      },
      "width": 40
    },
    {
      "header": "Likeperson",
      "source": "peer_mentor_id",
      "width": 13
    },
    {
      "header": "Aktivitet",
      "source": "activity_type_name",
      "width": 30
    },
    {
      "header": "Kategori",
      "source": "category",
      "transform": {
        "kind": "enum",
        "values": {
          "oppsøkende": "Oppsøkende likepersonsarbeid",
          "samtalegruppe": "Samtalegruppe",
          "aktivitetsgruppe": "Aktivitetsgruppe",
          "likepersonskurs": "Likepersonskurs",
          "ikke_tellende": "Teller ikke"
        }
      },
      "width": 28
    },
    {
      "header": "Timer",
      "source": "hours",
      "transform": {
        "kind": "number",
        "decimals": 2
      }
    },
    {
      "header": "Deltakere",
      "source": "participant_count",
      "required": true
    },
    {
      "header": "Kontaktform",
      "source": "contact_method",
      "transform": {
        "kind": "enum",
        "values": {
          "in_person": "Fysisk",
          "phone": "Telefon",
          "video": "Video",
          "digital": "Digitalt"
        }
      }
    },
    {
      "header": "Tellende",
      "source": "counted",
      "transform": {
        "kind": "yes_no"
      }
    },
    {
      "header": "Årsak",
      "source": "not_counted_reason",
      "required_if": "!counted",
      "width": 30
    }
  ]
}$config$::jsonb),
  (3, 'hlf', $config${
  "schema_version": 1,
  "description": "Hørselshemmedes Landsforbund: Bufdirs regler; telefonvakt og digital kafé teller ikke.",
  "categories": {
    "likepersonsbesok": "oppsøkende",
    "mestringsgruppe": "samtalegruppe",
    "aktivitetstreff": "aktivitetsgruppe",
    "likepersonsopplaering": "likepersonskurs",
    "telefonvakt": "ikke_tellende",
    "digital_kafe": "ikke_tellende"
  },
  "columns": [
    {
      "header": "År",
      "source": "year"
    },
    {
      "header": "Dato",
      "source": "activity_date"
    },
    {
      "header": "Fylke",
      "transform": {
        "kind": "concat",
        "sources": [
          "county_code",
          "county_name"
        ],
        "separator": " "
      },
      "width": 22
    },
    {
      "header": "Kommunenr",
      "source": "municipality_number"
    },
    {
      "header": "Lokallag",
      "source": "chapter_name",
      "width": 20
    },
    {
      "header": "Likeperson",
      "source": "peer_mentor_id",
      "width": 13
    },
    {
      "header": "Aktivitet",
      "source": "activity_type_code",
      "transform": {
        "kind": "enum",
        "values": {
          "likepersonsbesok": "Likepersonsbesøk",
          "mestringsgruppe": "Mestringsgruppe",
          "aktivitetstreff": "Aktivitetstreff",
          "likepersonsopplaering": "Likepersonsopplæring",
          "telefonvakt": "Telefonvakt",
          "digital_kafe": "Digital kafé"
        }
      },
      "width": 22
    },
    {
      "header": "Kategori",
      "source": "category",
      "transform": {
        "kind": "enum",
        "values": {
          "oppsøkende": "Oppsøkende",
          "samtalegruppe": "Samtalegruppe",
          "aktivitetsgruppe": "Aktivitetsgruppe",
          "likepersonskurs": "Likepersonskurs",
          "ikke_tellende": "Ikke tellende"
        }
      }
    },
    {
      "header": "Minutter",
      "source": "duration_minutes"
    },
    {
      "header": "Timer",
      "source": "hours",
      "transform": {
        "kind": "number",
        "decimals": 2
      }
    },
    {
      "header": "Deltakere",
      "source": "participant_count"
    },
    {
      "header": "Fysisk oppmøte",
      "source": "contact_method",
      "transform": {
        "kind": "enum",
        "values": {
          "in_person": "Ja"
        },
        "default": "Nei"
      }
    },
    {
      "header": "I Norge",
      "source": "in_norway"
    },
    {
      "header": "Tellende",
      "source": "counted",
      "transform": {
        "kind": "yes_no"
      }
    },
    {
      "header": "Årsak",
      "source": "not_counted_reason",
      "required_if": "!counted",
      "width": 30
    }
  ],
  "summary": {
    "group_by": [
      "year",
      "county_code",
      "county_name",
      "chapter_name"
    ],
    "columns": [
      {
        "header": "År",
        "key": "year"
      },
      {
        "header": "Fylkesnr",
        "key": "county_code"
      },
      {
        "header": "Fylke",
        "key": "county_name"
      },
      {
        "header": "Lokallag",
        "key": "chapter_name"
      },
      {
        "header": "Aktive likepersoner",
        "aggregate": "count_distinct",
        "source": "peer_mentor_id",
        "where": {
          "counted": true
        }
      },
      {
        "header": "Oppsøkende",
        "aggregate": "count",
        "where": {
          "counted": true,
          "category": "oppsøkende"
        }
      },
      {
        "header": "Samtalegrupper",
        "aggregate": "count",
        "where": {
          "counted": true,
          "category": "samtalegruppe"
        }
      },
      {
        "header": "Aktivitetsgrupper",
        "aggregate": "count",
        "where": {
          "counted": true,
          "category": "aktivitetsgruppe"
        }
      },
      {
        "header": "Likepersonskurs",
        "aggregate": "count",
        "where": {
          "counted": true,
          "category": "likepersonskurs"
        }
      },
      {
        "header": "Sum tellende aktivitetsdager",
        "aggregate": "count",
        "where": {
          "counted": true
        }
      },
      {
        "header": "Deltakere",
        "aggregate": "sum",
        "source": "participant_count",
        "where": {
          "counted": true
        }
      },
      {
        "header": "Timer",
        "aggregate": "sum",
        "source": "hours",
        "where": {
          "counted": true
        },
        "decimals": 2
      },
      {
        "header": "Ikke tellende",
        "aggregate": "count",
        "where": {
          "counted": false
        }
      },
      {
        "header": "Telefonvakt og digital kafé",
        "aggregate": "count",
        "where": {
          "activity_type_code": [
            "telefonvakt",
            "digital_kafe"
          ]
        }
      }
    ]
  }
}$config$::jsonb)
-- end: configs/<slug>.json
) as c (position, slug, config)
join public.organisations o on o.slug = c.slug
order by c.position;
