-- Domain: organisations, their members, local chapters, activity types,
-- peer-mentor activities and their attachments. (The column configurations
-- that drive the Bufdir report have a migration of their own.)
--
-- Habits kept by every table here: RLS enabled, one named policy per action,
-- explicit grants (nothing is left to default privileges, and whatever default
-- privileges a Supabase project has are revoked first), and the helpers the
-- policies call live in schema bufdir_private, which PostgREST does not expose.

----------------------------------------------------------------------------
-- roles and schemas
----------------------------------------------------------------------------

do $roles$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'bufdir_export_runner') then
    -- The export runner's privileges. Nologin: grant it to the runner's login,
    --   create role bufdir_runner login password '...' in role bufdir_export_runner;
    create role bufdir_export_runner nologin;
  end if;
  -- The migrating role may act as the runner too, so that `bufdir-export run`
  -- works with the connection string a Supabase project hands out (postgres,
  -- which is no superuser there: creating a role does not make it a member).
  -- It holds every privilege of the runner already; a dedicated login, as
  -- above, is still what SECURITY.md recommends.
  if not exists (
    select from pg_catalog.pg_roles r where r.rolname = current_user and r.rolsuper
  ) then
    execute pg_catalog.format('grant bufdir_export_runner to %I', current_user);
  end if;
exception when insufficient_privilege then
  raise notice 'bufdir_export_runner: % may not grant it to itself; grant it to the runner''s login',
    current_user;
end
$roles$;

create schema if not exists bufdir_private;
revoke all on schema bufdir_private from public;
grant usage on schema bufdir_private to authenticated, service_role, bufdir_export_runner;
grant usage on schema public to bufdir_export_runner;

----------------------------------------------------------------------------
-- types
----------------------------------------------------------------------------

create type public.organisation_role as enum ('member', 'coordinator', 'admin');

-- How a peer mentor met the people they helped. Bufdir counts outreach only
-- in person, and a phone call is never outreach.
create type public.activity_contact_method as enum ('in_person', 'phone', 'video', 'digital');

----------------------------------------------------------------------------
-- tables
----------------------------------------------------------------------------

create table public.organisations (
  id uuid primary key default gen_random_uuid(),
  slug text not null,
  name text not null,
  created_at timestamptz not null default now(),
  constraint organisations_slug_key unique (slug),
  constraint organisations_slug_check check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  constraint organisations_name_check check (length(name) between 1 and 200)
);
comment on table public.organisations is
  'A member organisation that reports peer-mentor activities to Bufdir.';

create table public.organisation_members (
  organisation_id uuid not null references public.organisations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.organisation_role not null default 'member',
  created_at timestamptz not null default now(),
  primary key (organisation_id, user_id)
);
create index organisation_members_user_id_idx on public.organisation_members (user_id);
comment on table public.organisation_members is
  'Who belongs to which organisation, and as what: member < coordinator < admin.';

-- Norwegian counties as of 1 January 2024 (the codes Bufdir reports use).
create table public.counties (
  code text primary key,
  name text not null,
  constraint counties_code_check check (code ~ '^[0-9]{2}$')
);
comment on table public.counties is 'Norwegian counties, 2024 codes (reference data).';

insert into public.counties (code, name) values
  ('03', 'Oslo'),
  ('11', 'Rogaland'),
  ('15', 'Møre og Romsdal'),
  ('18', 'Nordland'),
  ('31', 'Østfold'),
  ('32', 'Akershus'),
  ('33', 'Buskerud'),
  ('34', 'Innlandet'),
  ('39', 'Vestfold'),
  ('40', 'Telemark'),
  ('42', 'Agder'),
  ('46', 'Vestland'),
  ('50', 'Trøndelag'),
  ('55', 'Troms'),
  ('56', 'Finnmark');

create table public.local_chapters (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references public.organisations (id) on delete cascade,
  name text not null,
  county_code text not null references public.counties (code),
  municipality_number text not null,
  created_at timestamptz not null default now(),
  constraint local_chapters_organisation_name_key unique (organisation_id, name),
  constraint local_chapters_organisation_id_id_key unique (organisation_id, id),
  constraint local_chapters_name_check check (length(name) between 1 and 200),
  constraint local_chapters_municipality_number_check check (municipality_number ~ '^[0-9]{4}$'),
  -- A municipality number starts with its county's code (2024 numbering).
  constraint local_chapters_municipality_in_county_check
    check (left(municipality_number, 2) = county_code)
);
comment on table public.local_chapters is
  'A local chapter (lokallag) of an organisation, with its county and municipality.';

create table public.activity_types (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references public.organisations (id) on delete cascade,
  code text not null,
  name text not null,
  created_at timestamptz not null default now(),
  constraint activity_types_organisation_code_key unique (organisation_id, code),
  constraint activity_types_organisation_id_id_key unique (organisation_id, id),
  constraint activity_types_code_check check (code ~ '^[a-z0-9_]{1,64}$'),
  constraint activity_types_name_check check (length(name) between 1 and 200)
);
comment on table public.activity_types is
  'An organisation''s own activity types; its column configuration maps them to Bufdir categories.';

create table public.activities (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references public.organisations (id) on delete cascade,
  chapter_id uuid not null,
  -- Pseudonymous: identifies a peer mentor inside the organisation, never a person.
  peer_mentor_id uuid not null,
  activity_type_id uuid not null,
  activity_date date not null,
  duration_minutes integer not null,
  participant_count integer not null,
  contact_method public.activity_contact_method not null,
  in_norway boolean not null default true,
  -- Free text about people. It never leaves the database: the runner role
  -- has no privilege on this column.
  note text,
  recorded_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  constraint activities_organisation_id_id_key unique (organisation_id, id),
  constraint activities_chapter_fkey foreign key (organisation_id, chapter_id)
    references public.local_chapters (organisation_id, id),
  constraint activities_activity_type_fkey foreign key (organisation_id, activity_type_id)
    references public.activity_types (organisation_id, id),
  constraint activities_duration_minutes_check check (duration_minutes between 1 and 1440),
  constraint activities_participant_count_check check (participant_count between 0 and 10000),
  constraint activities_activity_date_check
    check (activity_date between date '2000-01-01' and date '2099-12-31'),
  constraint activities_note_check check (length(note) <= 10000)
);
create index activities_organisation_date_idx on public.activities (organisation_id, activity_date);
comment on table public.activities is 'One peer-mentor activity (likepersonsaktivitet).';

create table public.activity_attachments (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null,
  activity_id uuid not null,
  -- A path inside the organisation's attachment bucket.
  storage_path text not null,
  file_name text not null,
  content_type text not null default 'application/octet-stream',
  size_bytes bigint not null,
  created_at timestamptz not null default now(),
  constraint activity_attachments_activity_fkey foreign key (organisation_id, activity_id)
    references public.activities (organisation_id, id) on delete cascade,
  constraint activity_attachments_storage_path_check check (
    storage_path ~ '^[A-Za-z0-9_][A-Za-z0-9_./-]*$'
    and length(storage_path) <= 1024
    and storage_path !~ '(^|/)\.\.?(/|$)'
    and storage_path !~ '//'
  ),
  constraint activity_attachments_file_name_check
    check (file_name ~ '^[^/\\]{1,255}$' and file_name not in ('.', '..')),
  constraint activity_attachments_size_bytes_check check (size_bytes >= 0)
);
create index activity_attachments_activity_idx
  on public.activity_attachments (organisation_id, activity_id);
comment on table public.activity_attachments is
  'A file attached to an activity; bundled into an export when asked for.';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- The role a user holds in an organisation, or null when they are no member.
-- Security definer so policies on organisation_members can call it without
-- recursing into their own RLS. The one place membership is read.
create function bufdir_private.org_role_of(p_organisation_id uuid, p_user_id uuid)
  returns public.organisation_role
  language sql stable security definer
  set search_path = ''
as $$
  select m.role
  from public.organisation_members m
  where m.organisation_id = p_organisation_id and m.user_id = p_user_id;
$$;
revoke execute on function bufdir_private.org_role_of(uuid, uuid) from public, anon, authenticated;
grant execute on function bufdir_private.org_role_of(uuid, uuid)
  to service_role, bufdir_export_runner;

-- What of an organisation's activities a role may read: 'organisation' (all
-- of them) from coordinator up, 'own' (those the user recorded) for a member,
-- null for anyone else. The activities' policies, the export's insert policy
-- and the export views the runner reads all decide by it.
--
-- No search_path of its own: it reads nothing but its argument, and so is
-- inlined wherever it is called; its operators are pg_catalog's, named so.
create function bufdir_private.activity_scope(p_role public.organisation_role)
  returns text
  language sql immutable
as $$
  select case
    when p_role operator(pg_catalog.>=) 'coordinator'::public.organisation_role then 'organisation'
    when p_role is not null then 'own'
  end;
$$;
revoke execute on function bufdir_private.activity_scope(public.organisation_role)
  from public, anon;
grant execute on function bufdir_private.activity_scope(public.organisation_role)
  to authenticated, service_role, bufdir_export_runner;

-- Whether a user holding p_role may read an activity recorded by p_recorded_by.
create function bufdir_private.may_read_activity(
  p_role public.organisation_role,
  p_user_id uuid,
  p_recorded_by uuid
) returns boolean
  language sql immutable
as $$
  select coalesce(
    bufdir_private.activity_scope(p_role) operator(pg_catalog.=) 'organisation'
    or (bufdir_private.activity_scope(p_role) operator(pg_catalog.=) 'own'
        and p_recorded_by operator(pg_catalog.=) p_user_id),
    false
  );
$$;
revoke execute on function bufdir_private.may_read_activity(
  public.organisation_role, uuid, uuid) from public, anon;
grant execute on function bufdir_private.may_read_activity(
  public.organisation_role, uuid, uuid) to authenticated, service_role, bufdir_export_runner;

-- Whether the signed-in user (auth.uid()) may read an activity of the
-- organisation recorded by p_recorded_by: the policies' entry to the rule above.
create function bufdir_private.can_read_activity(p_organisation_id uuid, p_recorded_by uuid)
  returns boolean
  language sql stable security definer
  set search_path = ''
as $$
  select bufdir_private.may_read_activity(
    bufdir_private.org_role_of(p_organisation_id, auth.uid()), auth.uid(), p_recorded_by);
$$;
revoke execute on function bufdir_private.can_read_activity(uuid, uuid) from public, anon;
grant execute on function bufdir_private.can_read_activity(uuid, uuid)
  to authenticated, service_role;

-- Whether the signed-in user (auth.uid()) holds at least p_min_role in the
-- organisation.
create function bufdir_private.has_org_role(
  p_organisation_id uuid,
  p_min_role public.organisation_role default 'member'
) returns boolean
  language sql stable security definer
  set search_path = ''
as $$
  select coalesce(bufdir_private.org_role_of(p_organisation_id, auth.uid()) >= p_min_role, false);
$$;
revoke execute on function bufdir_private.has_org_role(uuid, public.organisation_role)
  from public, anon;
grant execute on function bufdir_private.has_org_role(uuid, public.organisation_role)
  to authenticated, service_role;

-- Whether a given user belongs to the organisation (any role). Used where
-- the user is not the signed-in one: the export's insert trigger. (The
-- runner asks export_scope(), which says what the requester may still read.)
create function bufdir_private.is_member(p_organisation_id uuid, p_user_id uuid)
  returns boolean
  language sql stable security definer
  set search_path = ''
as $$
  select bufdir_private.org_role_of(p_organisation_id, p_user_id) is not null;
$$;
revoke execute on function bufdir_private.is_member(uuid, uuid) from public, anon, authenticated;
grant execute on function bufdir_private.is_member(uuid, uuid)
  to service_role;

----------------------------------------------------------------------------
-- policies
----------------------------------------------------------------------------

alter table public.organisations enable row level security;
alter table public.organisation_members enable row level security;
alter table public.counties enable row level security;
alter table public.local_chapters enable row level security;
alter table public.activity_types enable row level security;
alter table public.activities enable row level security;
alter table public.activity_attachments enable row level security;

-- organisations: members see their organisations; the runner sees all.
create policy organisations_select on public.organisations
  for select to authenticated
  using (bufdir_private.has_org_role(id));
create policy organisations_select_runner on public.organisations
  for select to bufdir_export_runner
  using (true);

-- organisation_members: your own memberships, and every membership of an
-- organisation you administer. Managed by the app's backend (service_role).
create policy organisation_members_select on public.organisation_members
  for select to authenticated
  using (user_id = (select auth.uid()) or bufdir_private.has_org_role(organisation_id, 'admin'));
create policy organisation_members_select_runner on public.organisation_members
  for select to bufdir_export_runner
  using (true);

-- counties: reference data, readable by every signed-in user.
create policy counties_select on public.counties
  for select to authenticated, bufdir_export_runner
  using (true);

-- local_chapters: members read; admins create and rename.
create policy local_chapters_select on public.local_chapters
  for select to authenticated
  using (bufdir_private.has_org_role(organisation_id));
create policy local_chapters_insert on public.local_chapters
  for insert to authenticated
  with check (bufdir_private.has_org_role(organisation_id, 'admin'));
create policy local_chapters_update on public.local_chapters
  for update to authenticated
  using (bufdir_private.has_org_role(organisation_id, 'admin'))
  with check (bufdir_private.has_org_role(organisation_id, 'admin'));
create policy local_chapters_select_runner on public.local_chapters
  for select to bufdir_export_runner
  using (true);

-- activity_types: members read; admins create and rename.
create policy activity_types_select on public.activity_types
  for select to authenticated
  using (bufdir_private.has_org_role(organisation_id));
create policy activity_types_insert on public.activity_types
  for insert to authenticated
  with check (bufdir_private.has_org_role(organisation_id, 'admin'));
create policy activity_types_update on public.activity_types
  for update to authenticated
  using (bufdir_private.has_org_role(organisation_id, 'admin'))
  with check (bufdir_private.has_org_role(organisation_id, 'admin'));
create policy activity_types_select_runner on public.activity_types
  for select to bufdir_export_runner
  using (true);

-- activities: a member records and sees their own; coordinators and admins
-- see, correct and remove all of their organisation's (activity_scope).
create policy activities_select on public.activities
  for select to authenticated
  using (bufdir_private.can_read_activity(organisation_id, recorded_by));
create policy activities_insert on public.activities
  for insert to authenticated
  with check (
    recorded_by = (select auth.uid()) and bufdir_private.has_org_role(organisation_id)
  );
create policy activities_update on public.activities
  for update to authenticated
  using (bufdir_private.can_read_activity(organisation_id, recorded_by))
  with check (bufdir_private.can_read_activity(organisation_id, recorded_by));
create policy activities_delete on public.activities
  for delete to authenticated
  using (bufdir_private.has_org_role(organisation_id, 'coordinator'));

-- activity_attachments: visible and addable exactly where the activity is.
create policy activity_attachments_select on public.activity_attachments
  for select to authenticated
  using (exists (select 1 from public.activities a where a.id = activity_attachments.activity_id));
create policy activity_attachments_insert on public.activity_attachments
  for insert to authenticated
  with check (exists (select 1 from public.activities a where a.id = activity_attachments.activity_id));
create policy activity_attachments_delete on public.activity_attachments
  for delete to authenticated
  using (bufdir_private.has_org_role(organisation_id, 'coordinator'));

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

-- Start from nothing, whatever the project's default privileges granted.
revoke all on table
  public.organisations, public.organisation_members, public.counties, public.local_chapters,
  public.activity_types, public.activities, public.activity_attachments
  from public, anon, authenticated, service_role;

grant select on table
  public.organisations, public.organisation_members, public.counties, public.local_chapters,
  public.activity_types, public.activities, public.activity_attachments
  to authenticated;
grant insert, update on table public.local_chapters, public.activity_types to authenticated;
grant insert, update, delete on table public.activities to authenticated;
grant insert, delete on table public.activity_attachments to authenticated;

grant select, insert, update, delete on table
  public.organisations, public.organisation_members, public.counties, public.local_chapters,
  public.activity_types, public.activities, public.activity_attachments
  to service_role;

-- The runner reads what the pipeline needs. Activities and their attachments
-- it reads only through the views of an export (bufdir_private.export_activities
-- and export_attachments, in the runner API migration), which hold exactly
-- what the export's requester may read, and never an activity's note.
grant select on table
  public.organisations, public.organisation_members, public.counties, public.local_chapters,
  public.activity_types
  to bufdir_export_runner;
