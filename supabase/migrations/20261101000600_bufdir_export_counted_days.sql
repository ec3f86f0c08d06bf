-- What an export reported: the activity days Bufdir counts, kept on the audit
-- record next to the rows, so an auditor can answer "how many days did we
-- report for 2025?" in SQL without opening the file.
--
-- completed exports carry it; completed_empty ones carry 0. It is the
-- runner's to set, like every result column (XB004 for a client).
-- The complete function gets an overload with the count; the one without it
-- stays, as a call of the new one, for runners of the previous release
-- during a rolling upgrade.

----------------------------------------------------------------------------
-- tables
----------------------------------------------------------------------------

alter table public.bufdir_export_audit
  add column counted_days bigint,
  add constraint bufdir_export_audit_counted_days_check check (counted_days >= 0);
comment on column public.bufdir_export_audit.counted_days is
  'Activity days counted for Bufdir in the file (by the organisation''s column configuration).';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- BEFORE INSERT: the count is the runner's, like the rest of the result.
create function bufdir_private.bufdir_export_audit_counted_days_before_insert()
  returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  if new.counted_days is not null then
    raise exception 'counted_days is set by the runner, not by the client'
      using errcode = 'XB004', column = 'counted_days';
  end if;
  return new;
end;
$$;
revoke execute on function bufdir_private.bufdir_export_audit_counted_days_before_insert()
  from public, anon, authenticated;

-- storing_file -> completed, with the file, its link and the days it counts.
create function bufdir_private.complete_bufdir_export(
  p_export_id uuid,
  p_runner_id text,
  p_row_count bigint,
  p_file_size_bytes bigint,
  p_file_path text,
  p_download_url text,
  p_download_url_expires_at timestamptz,
  p_counted_days bigint
) returns public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  perform pg_catalog.set_config('bufdir_export.runner_id', p_runner_id, true);
  update public.bufdir_export_audit e
  set status = 'completed',
      row_count = p_row_count,
      counted_days = p_counted_days,
      rows_done = p_row_count,
      rows_total = p_row_count,
      file_size_bytes = p_file_size_bytes,
      file_path = p_file_path,
      download_url = p_download_url,
      download_url_expires_at = p_download_url_expires_at
  where e.id = p_export_id and e.status = 'storing_file' and e.runner_id = p_runner_id
  returning e.* into v_export;
  if not found then
    perform bufdir_private.raise_lease_lost(p_export_id, p_runner_id, 'storing_file');
  end if;
  return v_export;
end;
$$;
revoke execute on function bufdir_private.complete_bufdir_export(
  uuid, text, bigint, bigint, text, text, timestamptz, bigint) from public, anon, authenticated;
grant execute on function bufdir_private.complete_bufdir_export(
  uuid, text, bigint, bigint, text, text, timestamptz, bigint)
  to service_role, bufdir_export_runner;

-- The previous release's call: the same, without a count.
create or replace function bufdir_private.complete_bufdir_export(
  p_export_id uuid,
  p_runner_id text,
  p_row_count bigint,
  p_file_size_bytes bigint,
  p_file_path text,
  p_download_url text,
  p_download_url_expires_at timestamptz
) returns public.bufdir_export_audit
  language sql
  set search_path = ''
as $$
  select * from bufdir_private.complete_bufdir_export(
    p_export_id, p_runner_id, p_row_count, p_file_size_bytes, p_file_path, p_download_url,
    p_download_url_expires_at, null::bigint);
$$;

-- querying_activities -> completed_empty: nothing in the period, no file, no days.
create or replace function bufdir_private.complete_empty_bufdir_export(
  p_export_id uuid, p_runner_id text
) returns public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
declare
  v_export public.bufdir_export_audit;
begin
  perform pg_catalog.set_config('bufdir_export.runner_id', p_runner_id, true);
  update public.bufdir_export_audit e
  set status = 'completed_empty', row_count = 0, counted_days = 0, rows_done = 0, rows_total = 0
  where e.id = p_export_id and e.status = 'querying_activities' and e.runner_id = p_runner_id
  returning e.* into v_export;
  if not found then
    perform bufdir_private.raise_lease_lost(p_export_id, p_runner_id, 'querying_activities');
  end if;
  return v_export;
end;
$$;

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

create trigger bufdir_export_audit_counted_days_before_insert
  before insert on public.bufdir_export_audit
  for each row execute function bufdir_private.bufdir_export_audit_counted_days_before_insert();
alter table public.bufdir_export_audit
  enable always trigger bufdir_export_audit_counted_days_before_insert;

----------------------------------------------------------------------------
-- grants
----------------------------------------------------------------------------

grant update (counted_days) on table public.bufdir_export_audit to bufdir_export_runner;
