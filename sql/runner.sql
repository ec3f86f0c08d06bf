-- The runner's writes to the audit record. Each is one function of the
-- migration, guarded on runner, claim and expected status; they raise XB008
-- when the export is no longer this claim's.

-- name: claim_export
-- The oldest waiting export, claimed, with what the first step needs (the
-- requester's scope now, the claim's event, the activity count), each read by
-- the function in a statement of its own, after the claim (see its migration).
select (c.export).*, c.scope, c.audit_event_id, c.audit_hash, c.activity_count
from bufdir_private.claim_bufdir_export_for_run(%(runner_id)s, %(lease_seconds)s) c;

-- name: current_export
select * from public.bufdir_export_audit where id = %(export_id)s;

-- name: advance_export
select * from bufdir_private.advance_bufdir_export(
  %(export_id)s, %(runner_id)s, %(claim)s, %(from_status)s, %(to_status)s, %(lease_seconds)s
);

-- name: begin_generating_export
-- mapping_columns -> generating_file, naming the configuration version the
-- file is generated with (recorded for this claim, in the same call).
select * from bufdir_private.begin_generating_bufdir_export(
  %(export_id)s, %(runner_id)s, %(claim)s, %(lease_seconds)s, %(config_version)s
);

-- name: heartbeat_export
select * from bufdir_private.heartbeat_bufdir_export(
  %(export_id)s, %(runner_id)s, %(claim)s, %(lease_seconds)s, %(rows_done)s, %(rows_total)s
);

-- name: complete_export
select * from bufdir_private.complete_bufdir_export(
  %(export_id)s, %(runner_id)s, %(claim)s, %(row_count)s, %(file_size_bytes)s, %(file_path)s,
  %(download_url)s, %(download_url_expires_at)s, %(counted_days)s, %(file_sha256)s
);

-- name: complete_empty_export
select * from bufdir_private.complete_empty_bufdir_export(
  %(export_id)s, %(runner_id)s, %(claim)s
);

-- name: fail_export
select * from bufdir_private.fail_bufdir_export(
  %(export_id)s, %(runner_id)s, %(claim)s, %(error_code)s, %(error_message)s
);

-- name: release_export
select * from bufdir_private.release_bufdir_export(%(export_id)s, %(runner_id)s, %(claim)s);

-- name: defer_export
select * from bufdir_private.defer_bufdir_export(
  %(export_id)s, %(runner_id)s, %(claim)s, %(delay_seconds)s
);

-- name: reap_exports
select * from bufdir_private.reap_bufdir_exports(%(max_attempts)s);

-- name: stored_exports
-- For the sweep: the status and file of each export whose folder holds an object.
select id, status, file_path
from public.bufdir_export_audit
where id = any(%(export_ids)s::uuid[]);

-- name: listen_exports
listen bufdir_export;

-- name: act_as_runner_role
select pg_catalog.set_config('role', %(role)s, false);

-- name: ping_database
select 1;

-- name: waiting_exports
-- For the metrics: the exports any runner could claim now, and how long the
-- longest-waiting of them has waited (since its request, its re-queue, or the
-- retry time it was given back with).
select count(*) as waiting,
       coalesce(extract(epoch from pg_catalog.now()
                 - min(greatest(e.updated_at, coalesce(e.retry_at, e.updated_at)))), 0)::float8
         as oldest_seconds
from public.bufdir_export_audit e
where e.status = 'initialised'
  and (e.retry_at is null or e.retry_at <= pg_catalog.now());

-- name: expired_export_files
-- For the purge: completed exports whose retention has ended and whose file
-- is stored still, the oldest first.
select e.id, e.file_path
from public.bufdir_export_audit e
where e.status = 'completed' and e.file_path is not null
  and e.completed_at < pg_catalog.now() - %(retention)s::interval
  and not exists (select 1 from public.bufdir_export_file_deletions d where d.export_id = e.id)
order by e.completed_at, e.id
limit %(limit)s;

-- name: record_file_deleted
select bufdir_private.record_export_file_deleted(%(export_id)s, %(runner_id)s) as deleted_at;
