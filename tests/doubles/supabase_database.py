"""A database initialised the way the Supabase Postgres image initialises one,
with ``postgres`` demoted from superuser at the end, as on every Supabase
project (local, self-hosted and hosted alike).

The source is the image's ``migrations/db`` (supabase/postgres):
``migrate.sh`` runs, in this order, against the database ``postgres`` of a
cluster whose bootstrap superuser is ``supabase_admin``:

1. as ``supabase_admin``: create ``postgres`` (superuser, login) and make it
   the owner of the database (:data:`BEFORE`);
2. as ``postgres``, while still a superuser, ``init-scripts/*.sql``
   (:data:`INIT`);
3. as ``supabase_admin``, ``migrations/*.sql`` in file-name order, the first of
   which (``10000000000000_demote-postgres.sql``) demotes ``postgres``
   (:data:`DEMOTE`).

The Auth server (GoTrue) then runs its own migrations as
``supabase_auth_admin`` when it first starts (supabase/auth ``migrations``):
:data:`AUTH_SERVER`. Run the four in this order, each as its role.

What is kept:

Roles and their attributes (``pg_roles``)
    ``supabase_admin`` superuser (createdb, createrole, replication,
    bypassrls); ``postgres`` *no superuser*, createdb, createrole, login,
    replication, bypassrls; ``anon`` and ``authenticated`` nologin,
    ``service_role`` nologin bypassrls, all three *inherit* since
    ``20230529180330_alter_api_roles_for_inherit.sql``; ``authenticator``
    login noinherit; ``supabase_auth_admin`` and ``supabase_storage_admin``
    login noinherit createrole; ``dashboard_user`` createdb createrole
    replication; ``supabase_replication_admin`` login replication;
    ``supabase_read_only_user`` login bypassrls.

Memberships
    ``authenticator`` is a member of ``anon``, ``authenticated`` and
    ``service_role`` (of ``supabase_admin`` no more, since
    ``20221103090837_revoke_admin.sql``); ``postgres`` of
    ``supabase_auth_admin`` and ``supabase_storage_admin``
    (``20220609081115``), of ``anon``, ``authenticated`` and ``service_role``
    (``20230201083204``), and of ``pg_monitor``, ``pg_read_all_data`` and
    ``pg_signal_backend``; ``supabase_read_only_user`` of
    ``pg_read_all_data``.

Who owns what
    The database ``postgres`` and the publication ``supabase_realtime`` (empty,
    created by the first init script) belong to ``postgres``; schema ``auth``
    to ``supabase_admin`` (``create schema auth authorization
    supabase_admin``); ``auth.users`` and the functions ``auth.uid()``,
    ``auth.role()``, ``auth.email()`` (``20211124212715_update-auth-owner.sql``)
    and ``auth.jwt()`` to ``supabase_auth_admin``; schema ``extensions`` to
    ``postgres``, who created it.

Privileges
    Usage on ``public`` and ``extensions`` for ``postgres``, ``anon``,
    ``authenticated`` and ``service_role``; usage on ``auth`` for the three
    API roles; all on schema ``auth`` and on everything in it for
    ``postgres`` (and ``dashboard_user``), as default privileges of
    ``supabase_auth_admin`` too; all on the database for ``postgres``; the
    default privileges of ``postgres`` and of ``supabase_admin`` in schema
    ``public``: all on tables, sequences and functions to ``postgres``,
    ``anon``, ``authenticated`` and ``service_role``; in schema
    ``extensions``, what ``supabase_admin`` creates is ``postgres``' with
    grant option. ``service_role`` holds no privilege on ``auth.users``.

The role settings ``search_path`` of ``postgres`` (``"$user", public,
extensions``), of ``supabase_admin`` and of ``supabase_auth_admin``.

``auth.users``
    The image's columns the project and its seed use (``instance_id``, ``id``,
    ``aud``, ``role``, ``email``, ``encrypted_password``,
    ``raw_app_meta_data``, ``raw_user_meta_data``, ``created_at``,
    ``updated_at``): ``id`` the primary key, ``email`` unique, the rest
    nullable without defaults. Row-level security is enabled on it, no policy
    (the Auth server's ``20240612123726_enable_rls_update_grants``), and
    ``postgres`` may grant select on it.

``auth.uid()``, ``auth.role()``, ``auth.email()``, ``auth.jwt()``
    As the Auth server leaves them (``20240624145325_recreate_auth_functions``):
    stable SQL functions with an empty ``search_path``; ``uid``, ``role`` and
    ``email`` read ``request.jwt.claim.<name>`` and, when that is unset or
    empty, that member of the JSON in ``request.jwt.claims``; ``jwt`` reads
    ``request.jwt.claim`` or else ``request.jwt.claims``, as jsonb. (The image
    creates the first three reading ``request.jwt.claim.<name>`` only; the Auth
    server replaces them.)

What is left out: the storage schema (``00000000000002-storage-schema.sql``:
only its role is kept), the realtime schema, pgsodium and vault, pg_graphql,
pg_net, pg_cron and their event triggers, every extension (``uuid-ossp``,
``pgcrypto`` and ``pgjwt`` included: the project uses none of them), the Auth
server's other tables, the other columns of ``auth.users``, supautils (on
Supabase it lets ``postgres`` create trusted extensions as ``supabase_admin``:
here a test creates what it needs as ``supabase_admin``), the passwords (the
test cluster trusts local connections) and the timeouts of the API roles.
"""

from __future__ import annotations

__all__ = ["AUTH_SERVER", "BEFORE", "DEMOTE", "INIT", "STEPS"]

# migrate.sh, before the init scripts: as supabase_admin.
BEFORE = """
create role postgres superuser login;
alter database postgres owner to postgres;
"""

# init-scripts/*.sql: as postgres, still a superuser.
INIT = """
-- 00000000000000-initial-schema.sql
create publication supabase_realtime;

alter role supabase_admin superuser createdb createrole replication bypassrls;
create role supabase_replication_admin login replication;
create role supabase_read_only_user login bypassrls;
grant pg_read_all_data to supabase_read_only_user;

create schema if not exists extensions;

create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit;
grant anon, authenticated, service_role, supabase_admin to authenticator;

grant usage on schema public to postgres, anon, authenticated, service_role;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
alter default privileges in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges in schema public
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on functions to postgres, anon, authenticated, service_role;

-- 00000000000001-auth-schema.sql
create schema if not exists auth authorization supabase_admin;
create table auth.users (
  instance_id uuid,
  id uuid not null,
  aud varchar(255),
  role varchar(255),
  email varchar(255) unique,
  encrypted_password varchar(255),
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  created_at timestamptz,
  updated_at timestamptz,
  constraint users_pkey primary key (id)
);
create function auth.uid() returns uuid language sql stable
  as $$ select nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), '')::uuid $$;
create function auth.role() returns text language sql stable
  as $$ select nullif(pg_catalog.current_setting('request.jwt.claim.role', true), '') $$;
create function auth.email() returns text language sql stable
  as $$ select nullif(pg_catalog.current_setting('request.jwt.claim.email', true), '') $$;
grant usage on schema auth to anon, authenticated, service_role;

create role supabase_auth_admin login noinherit createrole noreplication;
grant all on schema auth to supabase_auth_admin;
grant all on all tables in schema auth to supabase_auth_admin;
grant all on all sequences in schema auth to supabase_auth_admin;
alter role supabase_auth_admin set search_path = auth;
alter table auth.users owner to supabase_auth_admin;

-- 00000000000002-storage-schema.sql: its role only
create role supabase_storage_admin login noinherit createrole noreplication;

-- 00000000000003-post-setup.sql
alter role supabase_admin set search_path = "$user", public, auth, extensions;
alter role postgres set search_path = "$user", public, extensions;
create role dashboard_user nosuperuser createdb createrole replication;
grant all on database postgres to dashboard_user;
grant all on schema auth, extensions to dashboard_user;
grant all on all tables in schema auth, extensions to dashboard_user;
grant all on all sequences in schema auth, extensions to dashboard_user;
grant all on all routines in schema auth, extensions to dashboard_user;
"""

# migrations/*.sql, in file-name order: as supabase_admin.
DEMOTE = """
-- 10000000000000_demote-postgres.sql
grant all on database postgres to postgres;
grant all on schema auth, extensions to postgres;
grant all on all tables in schema auth, extensions to postgres;
grant all on all sequences in schema auth, extensions to postgres;
grant all on all routines in schema auth, extensions to postgres;
alter role postgres nosuperuser createdb createrole login replication bypassrls;

-- 20211115181400_update-auth-permissions.sql
alter default privileges for role supabase_auth_admin in schema auth
  grant all on tables to postgres, dashboard_user;
alter default privileges for role supabase_auth_admin in schema auth
  grant all on sequences to postgres, dashboard_user;
alter default privileges for role supabase_auth_admin in schema auth
  grant all on routines to postgres, dashboard_user;

-- 20211124212715_update-auth-owner.sql
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;

-- 20220609081115_grant-supabase-auth-admin-and-supabase-storage-admin-to-postgres.sql
grant supabase_auth_admin, supabase_storage_admin to postgres;

-- 20221103090837_revoke_admin.sql
revoke supabase_admin from authenticator;

-- 20230201083204_grant_auth_roles_to_postgres.sql
grant anon, authenticated, service_role to postgres;

-- 20230224042246_grant_extensions_perms_for_postgres.sql
grant all on all tables in schema extensions to postgres with grant option;
grant all on all sequences in schema extensions to postgres with grant option;
grant all on all routines in schema extensions to postgres with grant option;
alter default privileges in schema extensions
  grant all on tables to postgres with grant option;
alter default privileges in schema extensions
  grant all on sequences to postgres with grant option;
alter default privileges in schema extensions
  grant all on routines to postgres with grant option;

-- 20230306081037_grant_pg_monitor_to_postgres.sql and
-- 20240606060239_grant_predefined_roles_to_postgres.sql
grant pg_monitor, pg_read_all_data, pg_signal_backend to postgres;

-- 20230529180330_alter_api_roles_for_inherit.sql (its pgsodium grant left out)
alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit;
"""

# The Auth server's own migrations, at its first start: as supabase_auth_admin.
AUTH_SERVER = """
create or replace function auth.uid() returns uuid language sql stable set search_path = ''
  as $$
    select coalesce(
      nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
      nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
    )::uuid
  $$;
create or replace function auth.role() returns text language sql stable set search_path = ''
  as $$
    select coalesce(
      nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
      nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
    )
  $$;
create or replace function auth.email() returns text language sql stable set search_path = ''
  as $$
    select coalesce(
      nullif(pg_catalog.current_setting('request.jwt.claim.email', true), ''),
      nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'
    )
  $$;
create or replace function auth.jwt() returns jsonb language sql stable set search_path = ''
  as $$
    select coalesce(
      nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
      nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
    )::jsonb
  $$;

alter table auth.users enable row level security;
grant select on auth.users to postgres with grant option;
"""

# (role the script runs as, script), in the order they run.
STEPS: tuple[tuple[str, str], ...] = (
    ("supabase_admin", BEFORE),
    ("postgres", INIT),
    ("supabase_admin", DEMOTE),
    ("supabase_auth_admin", AUTH_SERVER),
)
