/**
 * The bufdir-export Edge Function: request a Bufdir export (POST), ask again
 * for one that failed or was cancelled (POST ?retry=), and read one back
 * (GET ?id=), with a fresh download link once it is completed (410 once its
 * file was deleted, its retention ended).
 *
 * Every read and write of the table runs as the caller, so Row Level Security
 * decides who may do what. The service role is used for one thing only:
 * signing the download link of a completed export the caller can see.
 */

import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { readJsonObject } from "./body.ts";
import { checkTtl, DEFAULT_BUCKET, type HandlerDeps } from "./config.ts";
import { dbFailure } from "./db_errors.ts";
import { type ExportRow, hasExportFilePath } from "./file_path.ts";
import { ALLOWED_METHODS, failure, json, preflight } from "./responses.ts";
import { isUuid, validateExportRequest } from "./validate.ts";

export { depsFromEnv, type HandlerDeps } from "./config.ts";

const TABLE = "bufdir_export_audit";
// When a completed export's file was deleted (its retention ended): one row
// or none per export, embedded in the read as an object or null.
const DELETIONS = "bufdir_export_file_deletions";

type ReadRow = ExportRow & {
  [DELETIONS]?: { deleted_at: string } | null;
};
const BEARER = /^Bearer\s+\S+$/i;

interface Context {
  deps: HandlerDeps;
  bucket: string;
  ttl: number;
}

export function createHandler(
  deps: HandlerDeps,
): (req: Request) => Promise<Response> {
  const ctx: Context = {
    deps,
    bucket: deps.exportBucket ?? DEFAULT_BUCKET,
    ttl: checkTtl(deps.signedUrlTtlSeconds, "signedUrlTtlSeconds"),
  };
  return async (req) => {
    try {
      return await route(ctx, req);
    } catch (error) {
      console.error("bufdir-export: unexpected failure", errorName(error));
      return failure(500, "internal", "the export service failed unexpectedly");
    }
  };
}

function route(ctx: Context, req: Request): Promise<Response> | Response {
  if (req.method === "OPTIONS") return preflight();
  if (req.method !== "GET" && req.method !== "POST") {
    return failure(
      405,
      "method_not_allowed",
      `${req.method} is not supported; use GET or POST`,
      { allow: ALLOWED_METHODS },
    );
  }
  const authorization = req.headers.get("authorization");
  if (!authorization || !BEARER.test(authorization)) {
    return failure(
      401,
      "unauthenticated",
      "sign in first: the Authorization header must be Bearer <token>",
    );
  }
  const db = userClient(ctx.deps, authorization);
  if (req.method === "GET") return readExport(ctx, db, req);
  const retry = new URL(req.url).searchParams.get("retry");
  return retry === null ? requestExport(db, req) : retryExport(db, retry);
}

async function requestExport(
  db: SupabaseClient,
  req: Request,
): Promise<Response> {
  const body = await readJsonObject(req);
  if (!body.ok) return failure(400, "invalid_body", body.message);
  const checked = validateExportRequest(body.value);
  if (!checked.ok) return failure(400, "invalid_field", checked.message);

  const { data, error, status } = await db.from(TABLE).insert(checked.value)
    .select().single();
  if (error) {
    return dbFailure(
      error,
      status,
      "you may not request an export for this organisation",
    );
  }
  return json(201, { export: data }, {
    location: `?id=${encodeURIComponent(data.id)}`,
  });
}

/**
 * A new export with the old one's request, as the caller: the database
 * decides whether they may (they must see the old export) and whether it can
 * be retried (failed or cancelled, and not retried before). No body is read.
 */
async function retryExport(
  db: SupabaseClient,
  id: string,
): Promise<Response> {
  if (!isUuid(id)) {
    return failure(400, "invalid_field", "retry must be the UUID of an export");
  }
  const { data, error, status } = await db.rpc("retry_bufdir_export", {
    p_export_id: id,
  });
  if (error) return dbFailure(error, status, "you may not retry this export");
  return json(201, { export: data }, {
    location: `?id=${encodeURIComponent(data.id)}`,
  });
}

async function readExport(
  ctx: Context,
  db: SupabaseClient,
  req: Request,
): Promise<Response> {
  const id = new URL(req.url).searchParams.get("id");
  if (!isUuid(id)) {
    return failure(400, "invalid_field", "id must be the UUID of an export");
  }
  const { data: found, error, status } = await db.from(TABLE)
    .select(`*, ${DELETIONS}(deleted_at)`)
    .eq("id", id).maybeSingle<ReadRow>();
  if (error) return dbFailure(error, status, "you may not read exports");
  if (!found) {
    return failure(
      404,
      "not_found",
      "no export with this id is visible to you",
    );
  }
  const { [DELETIONS]: deletion, ...row } = found;
  if (row.status === "completed" && deletion) {
    return failure(
      410,
      "file_deleted",
      `this export's file was deleted on ${deletion.deleted_at}, when its retention ended;` +
        " ask for the export again",
    );
  }
  return row.status === "completed"
    ? withDownloadLink(ctx, row)
    : json(200, { export: row });
}

async function withDownloadLink(
  ctx: Context,
  row: ExportRow,
): Promise<Response> {
  if (!hasExportFilePath(row)) {
    console.error("bufdir-export: unexpected file path", { id: row.id });
    return failure(
      500,
      "bad_path",
      "this export's file is not where it should be; ask an administrator",
    );
  }
  const expiresAt = new Date(Date.now() + ctx.ttl * 1000);
  const { data, error } = await serviceClient(ctx.deps).storage
    .from(ctx.bucket).createSignedUrl(row.file_path, ctx.ttl);
  if (error) {
    console.error("bufdir-export: signing failed", errorName(error));
    return failure(
      502,
      "signing_failed",
      "the download link could not be created; try again later",
    );
  }
  return json(200, {
    export: row,
    download_url: data.signedUrl,
    download_url_expires_at: expiresAt.toISOString(),
  });
}

const NO_SESSION = { persistSession: false, autoRefreshToken: false };

/** A client that acts as the caller: RLS sees the caller's JWT. */
function userClient(deps: HandlerDeps, authorization: string): SupabaseClient {
  return createClient(deps.supabaseUrl, deps.anonKey, {
    auth: NO_SESSION,
    global: { headers: { Authorization: authorization }, fetch: deps.fetch },
  });
}

function serviceClient(deps: HandlerDeps): SupabaseClient {
  return createClient(deps.supabaseUrl, deps.serviceRoleKey, {
    auth: NO_SESSION,
    global: { fetch: deps.fetch },
  });
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
