/** What a PostgREST error means for the caller. */

import { failure } from "./responses.ts";

export interface DbError {
  code?: string;
  message?: string;
}

/**
 * `42501` (refused by RLS or a grant) is `forbidden`; `XB010` (too many
 * unfinished exports) is 429; `XB007` (no such export among the caller's) is
 * 404; `XB011` (not failed or cancelled, or retried already) is 409, with
 * the database's reason; JWT trouble is 401; bad
 * data (SQLSTATE classes 22 and 23) and a runner-owned column (XB004) are the
 * client's to fix, so their message is passed on; anything else stays inside.
 */
export function dbFailure(
  error: DbError,
  status: number,
  forbidden: string,
): Response {
  const code = error.code ?? "";
  if (code === "42501") return failure(403, "forbidden", forbidden);
  if (code === "XB007") {
    return failure(
      404,
      "not_found",
      "no export with this id is visible to you",
    );
  }
  if (code === "XB011") {
    return failure(
      409,
      "not_retryable",
      error.message ?? "this export cannot be retried",
    );
  }
  if (code === "XB010") {
    return failure(
      429,
      "too_many_exports",
      error.message ?? "too many unfinished exports",
    );
  }
  if (status === 401 || code.startsWith("PGRST30")) {
    return failure(401, "unauthenticated", "the sign-in token was refused");
  }
  if (/^(22|23)/.test(code) || code === "XB004") {
    return failure(
      400,
      "rejected_by_database",
      error.message ?? "the database refused the request",
    );
  }
  console.error("bufdir-export: database error", { code, status });
  return failure(
    502,
    "database_unavailable",
    "the export service could not reach its database; try again later",
  );
}
