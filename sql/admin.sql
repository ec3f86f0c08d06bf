-- Statements on the server, outside any one database. Identifiers are
-- formatted in with psycopg.sql.Identifier, never pasted in as text.

-- name: create_database
create database {name};

-- name: create_database_from_template
create database {name} template {template};

-- name: drop_database
drop database if exists {name} with (force);
