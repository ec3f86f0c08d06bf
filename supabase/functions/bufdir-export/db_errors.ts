/** What a PostgREST error means for the caller. */

import { failure } from "./responses.ts";

export interface DbError {
  code?: string;
  message?: string;
}

/**
 * `42501` (refused by RLS or a grant) is `forbidden`; `XB010` (too many
 * unfinished exports) is 429; JWT trouble is 401; bad
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
