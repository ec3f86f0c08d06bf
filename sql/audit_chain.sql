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
