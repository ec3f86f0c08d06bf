-- Migration history, kept in the Supabase CLI's own table so that
-- `supabase db push` and `bufdir-export migrate` agree on what is applied.

-- name: lock_migrations
-- Held for the whole run: a second migrator waits here, then finds the work done.
select pg_advisory_lock(7256100935447321431);

-- name: unlock_migrations
select pg_advisory_unlock(7256100935447321431);

-- name: create_migrations_schema
create schema if not exists supabase_migrations;

-- name: create_migrations_table
create table if not exists supabase_migrations.schema_migrations (version text not null primary key);

-- name: add_migrations_statements_column
alter table supabase_migrations.schema_migrations add column if not exists statements text[];

-- name: add_migrations_name_column
alter table supabase_migrations.schema_migrations add column if not exists name text;

-- name: applied_migrations
select version from supabase_migrations.schema_migrations order by version;

-- name: record_migration
insert into supabase_migrations.schema_migrations (version, name, statements)
values (%(version)s, %(name)s, %(statements)s);
