-- The insert trigger checks membership before RLS runs, and it runs as its
-- owner (security definer). Checked for any requester, its "not a member"
-- error told a signed-in user who forged requested_by whether that other
-- user belongs to the organisation. A signed-in user who names anyone but
-- themselves is now left to the insert policy, which refuses with the same
-- row-level security error whoever they named. The membership check stays
-- for a user asking as themselves (the error is about them) and for server
-- roles, which RLS does not cover.

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

create or replace function bufdir_private.bufdir_export_audit_before_insert() returns trigger
  language plpgsql
  security definer
  set search_path = ''
as $$
declare
  v_column text;
begin
  if new.status is distinct from 'initialised' then
    raise exception 'a new export starts as initialised; status is set by the runner, not by the client'
      using errcode = 'XB004', column = 'status';
  end if;
  if new.attempts is distinct from 0 then
    raise exception 'attempts is set by the runner, not by the client'
      using errcode = 'XB004', column = 'attempts';
  end if;
  foreach v_column in array array[
    'runner_id', 'lease_expires_at', 'rows_done', 'rows_total', 'row_count', 'file_size_bytes',
    'file_path', 'download_url', 'download_url_expires_at', 'error_code', 'error_message',
    'completed_at'
  ] loop
    if pg_catalog.to_jsonb(new) -> v_column <> 'null'::jsonb then
      raise exception '% is set by the runner, not by the client', v_column
        using errcode = 'XB004', column = v_column;
    end if;
  end loop;

  if bufdir_private.invoking_role() in ('authenticated', 'anon')
     and new.requested_by is distinct from auth.uid() then
    -- The insert policy refuses this row; say nothing about anyone else.
    new.created_at := pg_catalog.now();
    new.updated_at := new.created_at;
    return new;
  end if;

  if new.requested_by is null then
    raise exception 'requested_by is required: sign in, or name the requesting user'
      using errcode = 'not_null_violation', column = 'requested_by';
  end if;
  if not exists (select 1 from public.organisations o where o.id = new.organisation_id) then
    raise exception 'organisation % does not exist', new.organisation_id
      using errcode = 'foreign_key_violation',
            constraint = 'bufdir_export_audit_organisation_id_fkey';
  end if;
  if not bufdir_private.is_member(new.organisation_id, new.requested_by) then
    raise exception 'user % is not a member of organisation %', new.requested_by, new.organisation_id
      using errcode = 'insufficient_privilege';
  end if;

  new.created_at := pg_catalog.now();
  new.updated_at := new.created_at;
  return new;
end;
$$;

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

revoke execute on function bufdir_private.bufdir_export_audit_before_insert()
  from public, anon, authenticated;
