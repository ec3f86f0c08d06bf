-- Asking again for an export that failed or was cancelled (a Storage outage,
-- a runner stopped for good, a cancel by mistake): public.retry_bufdir_export
-- inserts a new export with the same request (organisation, period, format,
-- attachments), asked by whoever retries it, and links it to the old one by
-- retry_of. Whoever may see the old export may retry it: its requester, or an
-- admin of its organisation (RLS decides, as for cancelling); the new export
-- then holds what they may read. Each export is retried once at most (a
-- retry can itself be retried); the link is checked by a trigger, so an
-- insert that names retry_of directly is held to the same rules.
--
-- retry_of is not among the columns the hash chain pins: the link is checked
-- when it is made (same request, an ended export) and never changes after.

----------------------------------------------------------------------------
-- tables
----------------------------------------------------------------------------

alter table public.bufdir_export_audit
  add column retry_of uuid
    constraint bufdir_export_audit_retry_of_fkey references public.bufdir_export_audit (id);
create unique index bufdir_export_audit_retry_of_key on public.bufdir_export_audit (retry_of);
comment on column public.bufdir_export_audit.retry_of is
  'The failed or cancelled export this one asks for again (public.retry_bufdir_export); each is retried once at most.';

----------------------------------------------------------------------------
-- functions
----------------------------------------------------------------------------

-- Whether an export was retried already, whoever retried it (a member does
-- not see an admin's retry of their export, but may not retry it again).
create function bufdir_private.export_was_retried(p_export_id uuid) returns boolean
  language sql stable
  security definer
  set search_path = ''
as $$
  select exists (select 1 from public.bufdir_export_audit e where e.retry_of = p_export_id);
$$;
revoke execute on function bufdir_private.export_was_retried(uuid) from public, anon;
grant execute on function bufdir_private.export_was_retried(uuid)
  to authenticated, service_role;

-- BEFORE INSERT OR UPDATE OF retry_of: a retry asks for what an ended
-- export asked for, once; the link never changes. Security invoker: the old
-- export is looked up as the inserting user sees it.
create function bufdir_private.bufdir_export_audit_check_retry() returns trigger
  language plpgsql
  set search_path = ''
as $$
declare
  v_old public.bufdir_export_audit;
begin
  if tg_op = 'UPDATE' then
    if new.retry_of is distinct from old.retry_of then
      raise exception 'export %: retry_of never changes after insert', old.id
        using errcode = 'XB002';
    end if;
    return new;
  end if;
  if new.retry_of is null then
    return new;
  end if;

  select * into v_old from public.bufdir_export_audit e where e.id = new.retry_of;
  if not found then
    raise exception 'export % does not exist', new.retry_of using errcode = 'XB007';
  end if;
  if v_old.status not in ('failed', 'cancelled') then
    raise exception 'export % is %: only a failed or cancelled export can be retried',
        v_old.id, v_old.status
      using errcode = 'XB011';
  end if;
  if (new.organisation_id, new.period_start, new.period_end, new.format, new.include_attachments)
     is distinct from
     (v_old.organisation_id, v_old.period_start, v_old.period_end, v_old.format,
      v_old.include_attachments) then
    raise exception 'a retry of export % asks for what it asked for (organisation, period, format, attachments)',
        v_old.id
      using errcode = 'XB011';
  end if;
  if bufdir_private.export_was_retried(v_old.id) then
    raise exception 'export % was retried already: retry its retry, if that failed too', v_old.id
      using errcode = 'XB011';
  end if;
  return new;
end;
$$;
revoke execute on function bufdir_private.bufdir_export_audit_check_retry()
  from public, anon, authenticated;

-- Retry an export that failed or was cancelled, as the signed-in user: the
-- new export (initialised), or XB007 when the user may not see the old one,
-- XB011 when it cannot be retried (not ended so, or retried already).
create function public.retry_bufdir_export(p_export_id uuid)
  returns public.bufdir_export_audit
  language plpgsql
  set search_path = ''
as $$
declare
  v_old public.bufdir_export_audit;
  v_new public.bufdir_export_audit;
begin
  select * into v_old from public.bufdir_export_audit e where e.id = p_export_id;
  if not found then
    raise exception 'export % does not exist', p_export_id using errcode = 'XB007';
  end if;
  insert into public.bufdir_export_audit
    (organisation_id, requested_by, period_start, period_end, format, include_attachments,
     retry_of)
  values
    (v_old.organisation_id, auth.uid(), v_old.period_start, v_old.period_end, v_old.format,
     v_old.include_attachments, v_old.id)
  returning * into v_new;
  return v_new;
end;
$$;
revoke execute on function public.retry_bufdir_export(uuid) from public, anon;
grant execute on function public.retry_bufdir_export(uuid) to authenticated, service_role;

----------------------------------------------------------------------------
-- triggers
----------------------------------------------------------------------------

create trigger bufdir_export_audit_check_retry
  before insert or update of retry_of on public.bufdir_export_audit
  for each row execute function bufdir_private.bufdir_export_audit_check_retry();
-- As every trigger of the export contract: a replica session fires it too.
alter table public.bufdir_export_audit enable always trigger bufdir_export_audit_check_retry;
