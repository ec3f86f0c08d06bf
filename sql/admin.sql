-- Statements on the server, outside any one database. Identifiers are
-- formatted in with psycopg.sql.Identifier, never pasted in as text.

-- name: create_database
create database {name};

-- name: create_database_from_template
create database {name} template {template};

-- name: drop_database
drop database if exists {name} with (force);

-- name: set_request_limit
-- How many unfinished exports one requester may have at once (the migration
-- sets 3). Benchmarks and tests that queue many exports as one user raise it.
update bufdir_private.export_limits set max_unfinished_per_requester = %(limit)s;
