-- Supabase shim: the parts of a Supabase database that vanilla PostgreSQL lacks.
--
-- Applied by `bufdir-export migrate` before the migrations, and only creates
-- what is missing, so on a real Supabase project it changes nothing:
--   * roles anon, authenticated, service_role (bypassrls) and authenticator;
--   * schema extensions (where Supabase installs extensions);
--   * schema auth with auth.users, auth.uid(), auth.role() and auth.jwt(),
--     reading request.jwt.claims the way PostgREST sets it per request;
--   * the supabase_realtime publication.
-- It never replaces an existing object: where schema auth exists, the auth
-- part is skipped whole.

do $shim$
begin
  -- roles ------------------------------------------------------------------
  if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
    -- PostgREST logs in as authenticator and switches to the request's role.
    -- Here it stays nologin: nothing in this project logs in through it.
    create role authenticator nologin noinherit;
    grant anon, authenticated, service_role to authenticator;
  end if;

  -- schema extensions -------------------------------------------------------
  if not exists (select from pg_catalog.pg_namespace where nspname = 'extensions') then
    create schema extensions;
    grant usage on schema extensions to anon, authenticated, service_role;
  end if;

  -- schema auth -------------------------------------------------------------
  if not exists (select from pg_catalog.pg_namespace where nspname = 'auth') then
    create schema auth;
    grant usage on schema auth to anon, authenticated, service_role;

    create table auth.users (
      id uuid primary key,
      email text unique,
      raw_app_meta_data jsonb not null default '{}'::jsonb,
      raw_user_meta_data jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default pg_catalog.now(),
      updated_at timestamptz not null default pg_catalog.now()
    );
    grant all on table auth.users to service_role;

    -- The claims of the current request, as PostgREST sets them:
    -- set_config('request.jwt.claims', '{"sub": "...", "role": "..."}', true).
    create function auth.jwt() returns jsonb
      language sql stable
      as $fn$
        select coalesce(
          nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
          nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
        )::jsonb
      $fn$;

    create function auth.uid() returns uuid
      language sql stable
      as $fn$
        select coalesce(
          nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
          (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
      $fn$;

    create function auth.role() returns text
      language sql stable
      as $fn$
        select coalesce(
          nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
          (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
      $fn$;

    grant execute on function auth.jwt(), auth.uid(), auth.role()
      to anon, authenticated, service_role;
  end if;

  -- realtime ----------------------------------------------------------------
  if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$shim$;
