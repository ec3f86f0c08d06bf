-- What a Supabase project needs beside the tables: the two private Storage
-- buckets, who may read and store their objects, and the reaper's schedule.
--
-- Each part runs only where its component is, and is skipped with a notice
-- elsewhere (plain PostgreSQL, the tests' own servers):
-- * the buckets and their policies where Storage's tables are (storage.buckets
--   and storage.objects: every Supabase project, and `supabase start`);
-- * the schedule where pg_cron is (Dashboard > Database > Extensions, or
--   `create extension pg_cron with schema pg_catalog` before this migration).
--
-- bufdir-exports holds the export files. It is private and no policy on
-- storage.objects names it: nobody reads a file but through the signed URL
-- the runner makes with the service key (service_role is past RLS), and only
-- the runner stores one.
--
-- activity-attachments holds the files the app attaches to activities, at
-- <organisation slug>/<activity id>/<file name>. A signed-in user reads an
-- object exactly when they may read its row in public.activity_attachments,
-- stores one for an activity they may read (the rule of the attachments
-- table's own insert policy), and an organisation's coordinators remove them:
-- each policy reads those tables under the caller's own RLS, so the rules stay
-- the tables' and are written once.
--
-- On a hosted project created since 2025, storage.objects belongs to
-- supabase_storage_admin and the migrating role may not create policies on it
-- (42501, "must be owner of table objects"). The buckets are still created;
-- the policies are then skipped with a warning, which leaves attachments
-- readable by the runner only (RLS without a policy denies), and
-- docs/operating.md shows how to add them in the Dashboard.

----------------------------------------------------------------------------
-- storage
----------------------------------------------------------------------------

do $buckets$
begin
  if pg_catalog.to_regclass('storage.buckets') is null then
    raise notice 'no Storage schema here: the buckets bufdir-exports and activity-attachments are not created';
    return;
  end if;
  -- Private whatever they were: a bucket made public by hand would publish
  -- every export.
  insert into storage.buckets (id, name, public)
  values ('bufdir-exports', 'bufdir-exports', false),
         ('activity-attachments', 'activity-attachments', false)
  on conflict (id) do update set public = false;
end
$buckets$;

do $policies$
begin
  if pg_catalog.to_regclass('storage.objects') is null then
    raise notice 'no Storage schema here: no policies on storage.objects are created';
    return;
  end if;
  create policy bufdir_attachments_select on storage.objects
    for select to authenticated
    using (
      bucket_id = 'activity-attachments'
      and exists (
        select 1 from public.activity_attachments a where a.storage_path = objects.name
      )
    );
  create policy bufdir_attachments_insert on storage.objects
    for insert to authenticated
    with check (
      bucket_id = 'activity-attachments'
      and exists (
        select 1
        from public.activities a
        join public.organisations o on o.id = a.organisation_id
        where o.slug = pg_catalog.split_part(objects.name, '/', 1)
          and a.id::text = pg_catalog.split_part(objects.name, '/', 2)
      )
    );
  create policy bufdir_attachments_delete on storage.objects
    for delete to authenticated
    using (
      bucket_id = 'activity-attachments'
      and exists (
        select 1 from public.activity_attachments a
        where a.storage_path = objects.name
          and bufdir_private.has_org_role(a.organisation_id, 'coordinator')
      )
    );
exception when insufficient_privilege then
  raise warning 'the policies of bucket activity-attachments were not created (%): add them as docs/operating.md shows',
    sqlerrm;
end
$policies$;

----------------------------------------------------------------------------
-- schedule
----------------------------------------------------------------------------

do $schedule$
begin
  if pg_catalog.to_regprocedure('cron.schedule(text, text, text)') is null then
    raise notice 'pg_cron is not installed here: the reaper is not scheduled (every runner reaps on its own)';
    return;
  end if;
  -- Every minute, as the migrating role; 3 attempts, as BUFDIR_EXPORT_MAX_ATTEMPTS
  -- by default (change both together).
  perform cron.schedule(
    'bufdir-export-reaper', '* * * * *', 'select bufdir_private.reap_bufdir_exports(3)'
  );
end
$schedule$;
