/** The checks on an export request, before it goes to the database. */

import contract from "./contract.json" with { type: "json" };

export interface ExportRequest {
  organisation_id: string;
  period_start: string;
  period_end: string;
  format?: "xlsx" | "csv";
  include_attachments?: boolean;
}

export type Validation =
  | { ok: true; value: ExportRequest }
  | { ok: false; message: string };

// The database's contract, mirrored (tests/integration/test_contract_mirrors.py
// compares it with the migrations).
const REQUEST_FIELDS: readonly string[] = contract.request_fields;
const DATABASE_FIELDS: readonly string[] = contract.database_fields;
const RUNNER_FIELDS: readonly string[] = contract.runner_fields;
const FORMATS: readonly string[] = contract.formats;
const FIRST_DAY = contract.period.first_day;
const LAST_DAY = contract.period.last_day;
const MAX_DAYS = contract.period.max_days;
const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

export function validateExportRequest(
  body: Record<string, unknown>,
): Validation {
  const problem = foreignField(body) ?? organisationProblem(body) ??
    dateProblem(body, "period_start") ?? dateProblem(body, "period_end") ??
    periodProblem(body.period_start as string, body.period_end as string) ??
    optionsProblem(body);
  if (problem) return { ok: false, message: problem };
  return { ok: true, value: pick(body) };
}

type Problem = string | undefined;

function foreignField(body: Record<string, unknown>): Problem {
  const name = Object.keys(body).find((key) => !REQUEST_FIELDS.includes(key));
  if (name === undefined) return undefined;
  if (DATABASE_FIELDS.includes(name)) {
    return `${name} is set by the database, not by the client`;
  }
  if (RUNNER_FIELDS.includes(name)) {
    return `${name} is set by the export runner, not by the client`;
  }
  return `unknown field ${JSON.stringify(name)}: the fields are ${
    REQUEST_FIELDS.join(", ")
  }`;
}

function organisationProblem(body: Record<string, unknown>): Problem {
  if (!Object.hasOwn(body, "organisation_id")) {
    return "organisation_id is required";
  }
  if (!isUuid(body.organisation_id)) return "organisation_id must be a UUID";
}

function dateProblem(body: Record<string, unknown>, name: string): Problem {
  const value = body[name];
  if (value === undefined) return `${name} is required`;
  if (typeof value !== "string" || !DAY.test(value)) {
    return `${name} must be a date written YYYY-MM-DD`;
  }
  if (value < FIRST_DAY || value > LAST_DAY) {
    return `${name} must lie between ${FIRST_DAY} and ${LAST_DAY}`;
  }
  if (!isCalendarDay(value)) return `${name} is not a real calendar date`;
}

/** Both days are valid `YYYY-MM-DD`, so they compare as strings. */
function periodProblem(start: string, end: string): Problem {
  if (end < start) return "period_end must not be before period_start";
  const days = (Date.parse(end) - Date.parse(start)) / DAY_MS + 1;
  if (days > MAX_DAYS) {
    return `period_start to period_end spans ${days} days; at most ${MAX_DAYS} are allowed`;
  }
}

function optionsProblem(body: Record<string, unknown>): Problem {
  if (
    Object.hasOwn(body, "format") && !FORMATS.includes(body.format as string)
  ) {
    return 'format must be "xlsx" or "csv"';
  }
  if (
    Object.hasOwn(body, "include_attachments") &&
    typeof body.include_attachments !== "boolean"
  ) {
    return "include_attachments must be true or false";
  }
}

/** Whether a `YYYY-MM-DD` string names a day that exists (no 30 February). */
function isCalendarDay(value: string): boolean {
  const [year, month, day] = value.split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function pick(body: Record<string, unknown>): ExportRequest {
  return Object.fromEntries(
    REQUEST_FIELDS.filter((key) => Object.hasOwn(body, key)).map((
      key,
    ) => [key, body[key]]),
  ) as unknown as ExportRequest;
}
