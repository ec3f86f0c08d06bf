/** What the handler needs to run, and how to read it from the environment. */

export const DEFAULT_BUCKET = "bufdir-exports";
export const DEFAULT_TTL_SECONDS = 604_800;
export const MIN_TTL_SECONDS = 86_400;

export interface HandlerDeps {
  supabaseUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  /** Private bucket holding the export files; `bufdir-exports` if not given. */
  exportBucket?: string;
  /** Lifetime of a fresh download link; at least one day. */
  signedUrlTtlSeconds: number;
  /** Passed to supabase-js as `global.fetch`. */
  fetch?: typeof fetch;
}

/** Anything with `get`, such as `Deno.env` or a `Map`. */
export interface Env {
  get(name: string): string | undefined;
}

export function depsFromEnv(env: Env): HandlerDeps {
  return {
    supabaseUrl: required(env, "SUPABASE_URL"),
    anonKey: required(env, "SUPABASE_ANON_KEY"),
    serviceRoleKey: required(env, "SUPABASE_SERVICE_ROLE_KEY"),
    exportBucket: env.get("BUFDIR_EXPORT_BUCKET") || DEFAULT_BUCKET,
    signedUrlTtlSeconds: ttlFromEnv(env.get("BUFDIR_EXPORT_URL_TTL_SECONDS")),
  };
}

/** Refuses a link lifetime shorter than one day. */
export function checkTtl(seconds: number, name: string): number {
  if (!Number.isSafeInteger(seconds) || seconds < MIN_TTL_SECONDS) {
    throw new Error(
      `${name} must be a whole number of seconds, at least ${MIN_TTL_SECONDS} (one day); got ${seconds}`,
    );
  }
  return seconds;
}

function required(env: Env, name: string): string {
  const value = env.get(name);
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function ttlFromEnv(raw: string | undefined): number {
  const name = "BUFDIR_EXPORT_URL_TTL_SECONDS";
  if (!raw) return DEFAULT_TTL_SECONDS;
  if (!/^\d{1,15}$/.test(raw)) {
    throw new Error(`${name} must be a whole number of seconds; got "${raw}"`);
  }
  return checkTtl(Number(raw), name);
}
