"""Doubles of the schemas a Supabase project has and plain PostgreSQL lacks:
Storage's ``storage.buckets`` and ``storage.objects``, and pg_cron's
``cron.schedule``. Created before the migrations, they let a test see what the
migrations do on a real project.

The parts of the real schemas they keep:

``storage`` (supabase/storage, ``migrations/tenant/0002-storage-schema.sql`` and
the later ones that add ``public``, ``file_size_limit`` and
``allowed_mime_types``)
    ``storage.buckets (id text primary key, name text unique, owner uuid,
    public boolean default false, file_size_limit bigint, allowed_mime_types
    text[], created_at, updated_at)``; ``storage.objects (id uuid primary key,
    bucket_id text references storage.buckets, name text, owner uuid,
    metadata jsonb, created_at, updated_at, last_accessed_at)`` with a unique
    (bucket_id, name) and row-level security enabled, no policy. The Storage
    server reads and writes ``storage.objects`` as the caller's role
    (``anon``, ``authenticated`` with the JWT's claims, or ``service_role``,
    past RLS), so the policies on it decide who may read or store an object.
    The owner of both tables is not the migrating role (on a hosted project it
    is ``supabase_storage_admin``); the migrating role may insert buckets.

``cron`` (pg_cron 1.6, ``pg_cron.sql``)
    ``cron.schedule(job_name text, schedule text, command text) returns
    bigint``: a job of that name is created, or replaced when one exists
    (since 1.3), in ``cron.job (jobid, schedule, command, nodename, nodeport,
    database, username, active, jobname)``, to run as the user who
    scheduled it, in the current database.
"""

from __future__ import annotations

__all__ = ["CRON", "STORAGE"]

STORAGE = """
create schema storage;
create table storage.buckets (
  id text primary key,
  name text not null unique,
  owner uuid,
  public boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);
create table storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  metadata jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  unique (bucket_id, name)
);
alter table storage.objects enable row level security;
grant usage on schema storage to anon, authenticated, service_role;
grant all on storage.buckets, storage.objects to anon, authenticated, service_role;
"""

CRON = """
create schema cron;
create table cron.job (
  jobid bigserial primary key,
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport integer not null default 5432,
  database text not null default current_database(),
  username text not null default current_user,
  active boolean not null default true,
  jobname text unique
);
create function cron.schedule(job_name text, schedule text, command text) returns bigint
  language sql
as $$
  insert into cron.job (jobname, schedule, command) values (job_name, schedule, command)
  on conflict (jobname) do update
    set schedule = excluded.schedule, command = excluded.command,
        username = current_user, database = current_database()
  returning jobid;
$$;
"""
