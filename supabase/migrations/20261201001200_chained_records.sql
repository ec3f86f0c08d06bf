-- The records beside the exports join the hash chain: a file deleted by
-- retention (bufdir_export_file_deletions), the configuration version a claim
-- generated with (bufdir_export_config_versions) and a version made active
-- (bufdir_column_config_activations). They were append-only already (XB006);
-- now a record changed, deleted or forged with the triggers switched off is
-- found by `bufdir-export audit verify`, as an event is.
--
-- Each record is a link of its organisation's spine, the line its requests
-- form: it follows the spine's newest link (a request, or a record before
-- it) and becomes the head, and the next request follows it. A record has no
-- later event of its own export that could name it, so a branch would leave
-- it at the end of a line, where deleting it shows nowhere; on the spine,
-- every later link names it. The price is the organisation's head lock for
-- the statement that writes the record: once per export (its configuration
-- version), once per file deleted, once per activation.
--
-- A link's position (chain_id) is drawn from the events' own sequence while
-- the head is locked, so the organisation's requests and records are ordered
-- in one line, by id. Its hash (audit_record_hash) covers the record's
-- columns as JSON, rendered in UTC. Records written before this migration
-- are linked by it, in the order they were written, after each spine's head.

----------------------------------------------------------------------------
-- tables
----------------------------------------------------------------------------

alter table public.bufdir_export_file_deletions
  add column chain_id bigint unique,
  add column prev_hash text,
  add column hash text;
alter table public.bufdir_export_config_versions
  add column chain_id bigint unique,
  add column prev_hash text,
  add column hash text;
alter table public.bufdir_column_config_activations
  add column chain_id bigint unique,
  add column prev_hash text,
  add column hash text;

comment on column bufdir_private.audit_chain_heads.event_id is
  'The newest link of the organisation''s spine: a request''s event id, or a record''s chain_id.';
comment on column bufdir_private.audit_chain_heads.hash is
  'The hash of the spine''s newest link, which the next request or record follows.';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- The hash of a record: sha256, in hex, over the hash before it, its
-- position, organisation and table, and its columns (the chain's own three
-- left out) as JSON text, one per line. The verifier
-- (bufdir_export.core.chain_check) computes it on its own, from the stored
-- row, and must agree.
create function bufdir_private.audit_record_hash(
  p_prev_hash text, p_chain_id bigint, p_organisation_id uuid, p_table text, p_content jsonb
) returns text
  language sql immutable
  set search_path = ''
as $$
  select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.concat_ws(E'\n',
    'bufdir-export audit record v1',
    coalesce(p_prev_hash, ''),
    p_chain_id::text,
    p_organisation_id::text,
    p_table,
    p_content::text
  ), 'UTF8')), 'hex');
$$;
revoke execute on function bufdir_private.audit_record_hash(text, bigint, uuid, text, jsonb)
  from public, anon, authenticated;

-- What of a record its hash covers: its row as JSON, the chain's own columns
-- left out. Made where the time zone is UTC: to_jsonb writes a time in the
-- session's zone, and the verifier reads it back in UTC too.
create function bufdir_private.audit_record_content(p_record jsonb) returns jsonb
  language sql immutable
  set search_path = ''
as $$
  select p_record - 'chain_id' - 'prev_hash' - 'hash';
$$;
revoke execute on function bufdir_private.audit_record_content(jsonb)
  from public, anon, authenticated;

-- The organisation a record belongs to: its own column, or its export's.
create function bufdir_private.audit_record_organisation(p_record jsonb) returns uuid
  language sql stable
  set search_path = ''
as $$
  select coalesce(
    (p_record ->> 'organisation_id')::uuid,
    (select e.organisation_id from public.bufdir_export_audit e
     where e.id = (p_record ->> 'export_id')::uuid));
$$;
revoke execute on function bufdir_private.audit_record_organisation(jsonb)
  from public, anon, authenticated;

-- BEFORE INSERT on a record table: link the record after its organisation's
-- head, which stays locked until the statement's transaction ends. The head
-- moves in the AFTER trigger, once the row is really written: an insert that
-- ON CONFLICT DO NOTHING skips moves nothing. Security definer: nobody holds
-- a privilege on the heads.
create function bufdir_private.audit_record_link() returns trigger
  language plpgsql
  security definer
  set search_path = ''
  set timezone to 'UTC'
as $$
declare
  v_row jsonb;
  v_organisation_id uuid;
begin
  v_row := pg_catalog.to_jsonb(new);
  v_organisation_id := bufdir_private.audit_record_organisation(v_row);
  insert into bufdir_private.audit_chain_heads (organisation_id)
  values (v_organisation_id)
  on conflict (organisation_id) do nothing;
  select h.hash into new.prev_hash
  from bufdir_private.audit_chain_heads h
  where h.organisation_id = v_organisation_id
  for update;
  new.chain_id := pg_catalog.nextval('public.bufdir_export_audit_events_id_seq'::regclass);
  new.hash := bufdir_private.audit_record_hash(
    new.prev_hash, new.chain_id, v_organisation_id, tg_table_name,
    bufdir_private.audit_record_content(v_row));
  return new;
end;
$$;
revoke execute on function bufdir_private.audit_record_link() from public, anon, authenticated;

-- AFTER INSERT on a record table: the record written is its spine's head.
-- The head must still be the link the record follows. It is locked, so only
-- the same statement can have moved it: an insert of several rows, whose
-- links were all made before the first row's head moved (every row would
-- follow the same link). Such an insert is refused, and nothing of it stays.
create function bufdir_private.audit_record_head() returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
begin
  update bufdir_private.audit_chain_heads h
  set event_id = new.chain_id, hash = new.hash
  where h.organisation_id = bufdir_private.audit_record_organisation(pg_catalog.to_jsonb(new))
    and h.hash is not distinct from new.prev_hash;
  if not found then
    raise exception '%.%: records are chained one a statement; insert them one at a time',
        tg_table_schema, tg_table_name
      using errcode = 'feature_not_supported';
  end if;
  return null;
end;
$$;
revoke execute on function bufdir_private.audit_record_head() from public, anon, authenticated;

----------------------------------------------------------------------------
-- records written before this migration
----------------------------------------------------------------------------

-- Linked now, in the order they were written, after each spine's head: the
-- link and head triggers are not there yet, and the rules that refuse every
-- change of a record or a head are set aside for this transaction only.
alter table public.bufdir_export_file_deletions
  disable trigger bufdir_export_file_deletions_forbid_change;
alter table public.bufdir_export_config_versions
  disable trigger bufdir_export_config_versions_forbid_change;
alter table public.bufdir_column_config_activations
  disable trigger bufdir_column_config_activations_forbid_change;
alter table bufdir_private.audit_chain_heads disable trigger audit_chain_heads_only_by_trigger;

do $$
declare
  v_record record;
  v_prev text;
  v_chain_id bigint;
  v_hash text;
begin
  perform pg_catalog.set_config('timezone', 'UTC', true);
  for v_record in
    select r.tbl, r.key, r.row, bufdir_private.audit_record_organisation(r.row) as organisation_id
    from (
      select 'bufdir_export_file_deletions' as tbl, d.deleted_at as at,
             d.export_id::text as key, pg_catalog.to_jsonb(d) as row
      from public.bufdir_export_file_deletions d
      union all
      select 'bufdir_export_config_versions', v.recorded_at,
             v.export_id::text || '/' || v.claim::text, pg_catalog.to_jsonb(v)
      from public.bufdir_export_config_versions v
      union all
      select 'bufdir_column_config_activations', a.activated_at, a.id::text, pg_catalog.to_jsonb(a)
      from public.bufdir_column_config_activations a
    ) r
    order by r.at, r.tbl, r.key
  loop
    insert into bufdir_private.audit_chain_heads (organisation_id)
    values (v_record.organisation_id)
    on conflict (organisation_id) do nothing;
    select h.hash into v_prev
    from bufdir_private.audit_chain_heads h
    where h.organisation_id = v_record.organisation_id;
    v_chain_id := pg_catalog.nextval('public.bufdir_export_audit_events_id_seq'::regclass);
    v_hash := bufdir_private.audit_record_hash(
      v_prev, v_chain_id, v_record.organisation_id, v_record.tbl,
      bufdir_private.audit_record_content(v_record.row));
    if v_record.tbl = 'bufdir_export_file_deletions' then
      update public.bufdir_export_file_deletions d
      set chain_id = v_chain_id, prev_hash = v_prev, hash = v_hash
      where d.export_id::text = v_record.key;
    elsif v_record.tbl = 'bufdir_export_config_versions' then
      update public.bufdir_export_config_versions v
      set chain_id = v_chain_id, prev_hash = v_prev, hash = v_hash
      where v.export_id::text || '/' || v.claim::text = v_record.key;
    else
      update public.bufdir_column_config_activations a
      set chain_id = v_chain_id, prev_hash = v_prev, hash = v_hash
      where a.id::text = v_record.key;
    end if;
    update bufdir_private.audit_chain_heads h
    set event_id = v_chain_id, hash = v_hash
    where h.organisation_id = v_record.organisation_id;
  end loop;
end;
$$;

alter table public.bufdir_export_file_deletions
  enable always trigger bufdir_export_file_deletions_forbid_change;
alter table public.bufdir_export_config_versions
  enable always trigger bufdir_export_config_versions_forbid_change;
alter table public.bufdir_column_config_activations
  enable always trigger bufdir_column_config_activations_forbid_change;
alter table bufdir_private.audit_chain_heads enable always trigger audit_chain_heads_only_by_trigger;

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

-- Named to fire after the tables' own BEFORE INSERT rules (alphabetically),
-- so a refused insert takes no lock on the head.
create trigger bufdir_export_file_deletions_to_chain
  before insert on public.bufdir_export_file_deletions
  for each row execute function bufdir_private.audit_record_link();
create trigger bufdir_export_file_deletions_to_head
  after insert on public.bufdir_export_file_deletions
  for each row execute function bufdir_private.audit_record_head();
create trigger bufdir_export_config_versions_to_chain
  before insert on public.bufdir_export_config_versions
  for each row execute function bufdir_private.audit_record_link();
create trigger bufdir_export_config_versions_to_head
  after insert on public.bufdir_export_config_versions
  for each row execute function bufdir_private.audit_record_head();
create trigger bufdir_column_config_activations_to_chain
  before insert on public.bufdir_column_config_activations
  for each row execute function bufdir_private.audit_record_link();
create trigger bufdir_column_config_activations_to_head
  after insert on public.bufdir_column_config_activations
  for each row execute function bufdir_private.audit_record_head();

alter table public.bufdir_export_file_deletions
  enable always trigger bufdir_export_file_deletions_to_chain;
alter table public.bufdir_export_file_deletions
  enable always trigger bufdir_export_file_deletions_to_head;
alter table public.bufdir_export_config_versions
  enable always trigger bufdir_export_config_versions_to_chain;
alter table public.bufdir_export_config_versions
  enable always trigger bufdir_export_config_versions_to_head;
alter table public.bufdir_column_config_activations
  enable always trigger bufdir_column_config_activations_to_chain;
alter table public.bufdir_column_config_activations
  enable always trigger bufdir_column_config_activations_to_head;
