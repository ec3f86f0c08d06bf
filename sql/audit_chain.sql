-- Reading the audit chain back, for `bufdir-export audit verify`. Plain
-- selects of the stored columns: the verifier recomputes every hash itself
-- (bufdir_export.core.chain_check) and calls none of the database's functions.

-- name: chain_organisations
-- The organisations to verify: every one, or the one named by slug.
select o.id, o.slug
from public.organisations o
where %(slug)s::text is null or o.slug = %(slug)s::text
order by o.slug;

-- name: chain_events
-- One organisation's events, in the order of the chain.
select ev.id,
       ev.organisation_id::text as organisation_id,
       ev.export_id::text as export_id,
       ev.from_status::text as from_status,
       ev.to_status::text as to_status,
       ev.occurred_at,
       ev.actor,
       ev.detail::text as detail_text,
       ev.prev_hash,
       ev.hash
from public.bufdir_export_audit_events ev
where ev.organisation_id = %(organisation_id)s
order by ev.id;

-- name: chain_head
select h.event_id, h.hash
from bufdir_private.audit_chain_heads h
where h.organisation_id = %(organisation_id)s;

-- name: chain_exports
-- One organisation's exports, each with its row as JSON (what the events pin).
select e.id::text as id, e.status::text as status, pg_catalog.to_jsonb(e) as row
from public.bufdir_export_audit e
where e.organisation_id = %(organisation_id)s;

-- name: chain_in_utc
-- The records' hashes cover their rows as JSON written in UTC; read them so.
set local time zone 'UTC';

-- name: chain_records
-- One organisation's records beside its exports, each with its row as JSON
-- text without the chain's own columns (what its hash covers), in the order
-- of the chain; records without a position last.
select r.kind, r.chain_id, r.export_id, r.content_text, r.prev_hash, r.hash
from (
  select 'bufdir_export_file_deletions' as kind, d.chain_id, d.export_id::text as export_id,
         (pg_catalog.to_jsonb(d) - 'chain_id' - 'prev_hash' - 'hash')::text as content_text,
         d.prev_hash, d.hash
  from public.bufdir_export_file_deletions d
  join public.bufdir_export_audit e on e.id = d.export_id
  where e.organisation_id = %(organisation_id)s
  union all
  select 'bufdir_export_config_versions', v.chain_id, v.export_id::text,
         (pg_catalog.to_jsonb(v) - 'chain_id' - 'prev_hash' - 'hash')::text,
         v.prev_hash, v.hash
  from public.bufdir_export_config_versions v
  join public.bufdir_export_audit e on e.id = v.export_id
  where e.organisation_id = %(organisation_id)s
  union all
  select 'bufdir_column_config_activations', a.chain_id, null,
         (pg_catalog.to_jsonb(a) - 'chain_id' - 'prev_hash' - 'hash')::text,
         a.prev_hash, a.hash
  from public.bufdir_column_config_activations a
  where a.organisation_id = %(organisation_id)s
) r
order by r.chain_id nulls last, r.kind, r.content_text;
