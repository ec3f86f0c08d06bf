import assert from "node:assert/strict";
import { createHandler, depsFromEnv, type HandlerDeps } from "./handler.ts";

const SUPABASE_URL = "https://project-ref.supabase.co";
const ANON_KEY = "anon-key-7f3a9c2e41b8d605";
const SERVICE_KEY = "service-role-key-c81d4e77a0b2f936";
const USER_JWT = "user-jwt-5e0b1d9a.payload.signature";
const SECRETS = [ANON_KEY, SERVICE_KEY, USER_JWT];

const ORG = "0b6f3a52-8d1e-4c7a-9f20-5e4d3c2b1a09";
const ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const FILE_PATH = `${ORG}/${ID}/bufdir-2025.xlsx`;
const TTL = 604_800;
const TABLE_URL = `${SUPABASE_URL}/rest/v1/bufdir_export_audit`;
const SIGN_URL = `${SUPABASE_URL}/storage/v1/object/sign/bufdir-exports`;
const READ_SELECT = "*,bufdir_export_file_deletions(deleted_at)";

const REQUEST = {
  organisation_id: ORG,
  period_start: "2025-01-01",
  period_end: "2025-12-31",
  format: "csv",
  include_attachments: true,
};

function exportRow(changes: Record<string, unknown> = {}) {
  return {
    id: ID,
    organisation_id: ORG,
    requested_by: "3f2b8c4d-1a6e-4b9f-8c7d-2e1f0a9b8c7d",
    period_start: "2025-01-01",
    period_end: "2025-12-31",
    format: "xlsx",
    include_attachments: false,
    status: "initialised",
    attempts: 0,
    runner_id: null,
    lease_expires_at: null,
    rows_done: null,
    rows_total: null,
    row_count: null,
    file_size_bytes: null,
    file_path: null,
    download_url: null,
    download_url_expires_at: null,
    error_code: null,
    error_message: null,
    created_at: "2026-01-05T10:00:00+00:00",
    updated_at: "2026-01-05T10:00:00+00:00",
    completed_at: null,
    ...changes,
  };
}

const COMPLETED = exportRow({
  status: "completed",
  row_count: 42,
  file_size_bytes: 5120,
  file_path: FILE_PATH,
  download_url: "https://old.example/expired",
  download_url_expires_at: "2026-01-06T10:00:00+00:00",
  completed_at: "2026-01-05T10:05:00+00:00",
});

// --- a fake Supabase: records every request, answers like PostgREST and Storage

interface Call {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

type Answer = (call: Call) => Response | Promise<Response>;

interface FakeSupabase {
  insert?: Answer;
  retry?: Answer;
  select?: Answer;
  sign?: Answer;
}

function reply(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

const echoInsert: Answer = (call) =>
  reply(201, exportRow({ ...JSON.parse(call.body) }));
// PostgREST embeds a one-to-one relationship (the deletion's key is the
// export's id) as an object, or null when there is no such row.
const selectRow = (row: Record<string, unknown>): Answer => (call) => {
  const select = new URL(call.url).searchParams.get("select") ?? "*";
  const embedded = select.includes("bufdir_export_file_deletions(")
    ? { bufdir_export_file_deletions: null }
    : {};
  return reply(200, [{ ...embedded, ...row }]);
};
const signPath: Answer = (call) => {
  const path = new URL(call.url).pathname.replace("/storage/v1", "");
  return reply(200, { signedURL: `${path}?token=signed-token-1` });
};

function fakeSupabase(answers: FakeSupabase = {}) {
  const calls: Call[] = [];
  const fetch = async (
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> => {
    const request = new Request(input, init);
    const call = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: await request.text(),
    };
    calls.push(call);
    const { pathname } = new URL(call.url);
    // PostgREST runs a function called by POST /rpc/<name> with the JSON
    // body's keys as its named arguments; one that returns a single row
    // (not a set) answers 200 with that row as one object. A SQLSTATE it
    // does not know (XB...) is 400 with the code in the body.
    if (
      pathname === "/rest/v1/rpc/retry_bufdir_export" && call.method === "POST"
    ) {
      if (answers.retry) return answers.retry(call);
    } else if (pathname === "/rest/v1/bufdir_export_audit") {
      const answer = call.method === "POST" ? answers.insert : answers.select;
      if (answer) return answer(call);
    } else if (pathname.startsWith("/storage/v1/object/sign/")) {
      if (answers.sign) return answers.sign(call);
    }
    return reply(599, { message: `unexpected ${call.method} ${call.url}` });
  };
  return { calls, fetch };
}

function deps(
  fake: ReturnType<typeof fakeSupabase>,
  changes: Partial<HandlerDeps> = {},
): HandlerDeps {
  return {
    supabaseUrl: SUPABASE_URL,
    anonKey: ANON_KEY,
    serviceRoleKey: SERVICE_KEY,
    signedUrlTtlSeconds: TTL,
    fetch: fake.fetch,
    ...changes,
  };
}

// --- calling the handler; every answer and every log line is checked for secrets

interface Answered {
  res: Response;
  body: Record<string, unknown> | null;
}

async function send(
  fake: ReturnType<typeof fakeSupabase>,
  req: Request,
  changes: Partial<HandlerDeps> = {},
): Promise<Answered> {
  const logged: unknown[] = [];
  const saved = { ...console };
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    console[level] = (...args: unknown[]) => logged.push(args);
  }
  let res: Response;
  try {
    res = await createHandler(deps(fake, changes))(req);
  } finally {
    Object.assign(console, saved);
  }
  const text = await res.text();
  const exposed = [text, JSON.stringify([...res.headers])].join("\n");
  const logs = logged.map((args) => Deno.inspect(args)).join("\n");
  for (const secret of SECRETS) {
    assert.ok(!exposed.includes(secret), "a secret in the response");
    assert.ok(!logs.includes(secret), "a secret in a log line");
  }
  return { res, body: text ? JSON.parse(text) : null };
}

function post(
  body: unknown,
  headers: Record<string, string> = {},
): Request {
  return new Request("http://localhost/bufdir-export", {
    method: "POST",
    headers: {
      authorization: `Bearer ${USER_JWT}`,
      "content-type": "application/json",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function get(query: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://localhost/bufdir-export${query}`, {
    headers: { authorization: `Bearer ${USER_JWT}`, ...headers },
  });
}

function assertCors(res: Response) {
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(
    res.headers.get("access-control-allow-headers"),
    "authorization, x-client-info, apikey, content-type",
  );
  assert.equal(
    res.headers.get("access-control-allow-methods"),
    "GET, POST, OPTIONS",
  );
  assert.equal(
    res.headers.get("content-type"),
    "application/json; charset=utf-8",
  );
}

function assertFailure(
  answered: Answered,
  status: number,
  code: string,
): string {
  assert.equal(answered.res.status, status);
  assertCors(answered.res);
  assert.deepEqual(Object.keys(answered.body ?? {}).sort(), ["code", "error"]);
  assert.equal(answered.body?.code, code);
  return answered.body?.error as string;
}

/** The call went to PostgREST as the caller: their JWT, the anon key. */
function assertAsCaller(call: Call) {
  assert.equal(call.headers.get("authorization"), `Bearer ${USER_JWT}`);
  assert.equal(call.headers.get("apikey"), ANON_KEY);
  assert.ok(!JSON.stringify([...call.headers]).includes(SERVICE_KEY));
}

// --- POST ?retry=

const OLD = "5a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const retryRequest = (id: string) =>
  new Request(`http://localhost/bufdir-export?retry=${id}`, {
    method: "POST",
    headers: { authorization: `Bearer ${USER_JWT}` },
  });

Deno.test("POST ?retry= calls retry_bufdir_export as the caller and answers 201", async () => {
  const fake = fakeSupabase({
    retry: (call) =>
      reply(200, exportRow({ retry_of: JSON.parse(call.body).p_export_id })),
  });
  const { res, body } = await send(fake, retryRequest(OLD));

  assert.equal(res.status, 201);
  assert.equal(res.headers.get("location"), `?id=${ID}`);
  assert.deepEqual(body?.export, exportRow({ retry_of: OLD }));
  assert.equal(fake.calls.length, 1);
  assert.deepEqual(JSON.parse(fake.calls[0].body), { p_export_id: OLD });
  assertAsCaller(fake.calls[0]);
});

Deno.test("POST ?retry= 404 when the caller may not see the export (XB007)", async () => {
  const fake = fakeSupabase({
    retry: () =>
      reply(400, {
        code: "XB007",
        message: `export ${OLD} does not exist`,
        details: null,
        hint: null,
      }),
  });
  const message = assertFailure(
    await send(fake, retryRequest(OLD)),
    404,
    "not_found",
  );
  assert.equal(message, "no export with this id is visible to you");
});

Deno.test("POST ?retry= 409 with the reason when it cannot be retried (XB011)", async () => {
  const reason =
    `export ${OLD} is running: only a failed or cancelled export can be retried`;
  const fake = fakeSupabase({
    retry: () =>
      reply(400, { code: "XB011", message: reason, details: null, hint: null }),
  });
  const message = assertFailure(
    await send(fake, retryRequest(OLD)),
    409,
    "not_retryable",
  );
  assert.equal(message, reason);
});

Deno.test("POST ?retry= 400 for an id that is not a UUID, asking nothing", async () => {
  const fake = fakeSupabase();
  assertFailure(await send(fake, retryRequest("42")), 400, "invalid_field");
  assert.equal(fake.calls.length, 0);
});

// --- POST

Deno.test("POST inserts the request as the caller and answers 201", async () => {
  const fake = fakeSupabase({ insert: echoInsert });
  const { res, body } = await send(fake, post(REQUEST));

  assert.equal(res.status, 201);
  assertCors(res);
  assert.equal(res.headers.get("location"), `?id=${ID}`);
  assert.deepEqual(body, { export: exportRow(REQUEST) });

  assert.equal(fake.calls.length, 1);
  const [call] = fake.calls;
  assert.equal(call.method, "POST");
  assert.equal(call.url, `${TABLE_URL}?select=*`);
  assertAsCaller(call);
  assert.equal(call.headers.get("prefer"), "return=representation");
  assert.equal(
    call.headers.get("accept"),
    "application/vnd.pgrst.object+json",
  );
  assert.deepEqual(JSON.parse(call.body), REQUEST);
});

Deno.test("POST leaves the optional fields to the database's defaults", async () => {
  const fake = fakeSupabase({ insert: echoInsert });
  const request = {
    organisation_id: ORG,
    period_start: "2024-01-01",
    period_end: "2024-12-31", // 366 days: a leap year is allowed
  };
  const { res } = await send(
    fake,
    post(request, { "content-type": "application/json; charset=utf-8" }),
  );

  assert.equal(res.status, 201);
  assert.deepEqual(JSON.parse(fake.calls[0].body), request);
});

const INVALID: [string, unknown, string][] = [
  ["missing organisation_id", omit("organisation_id"), "organisation_id"],
  ["missing period_start", omit("period_start"), "period_start"],
  ["missing period_end", omit("period_end"), "period_end"],
  ["bad uuid", { ...REQUEST, organisation_id: "org-1" }, "organisation_id"],
  ["uuid as a number", { ...REQUEST, organisation_id: 7 }, "organisation_id"],
  ["30 February", { ...REQUEST, period_start: "2025-02-30" }, "period_start"],
  ["not YYYY-MM-DD", { ...REQUEST, period_end: "31.12.2025" }, "period_end"],
  ["date as a number", { ...REQUEST, period_end: 20251231 }, "period_end"],
  [
    "end before start",
    { ...REQUEST, period_start: "2025-06-01", period_end: "2025-05-31" },
    "period_end",
  ],
  [
    "367 days",
    { ...REQUEST, period_start: "2024-01-01", period_end: "2025-01-01" },
    "367 days",
  ],
  [
    "year 1999",
    { ...REQUEST, period_start: "1999-12-31", period_end: "2000-06-30" },
    "period_start",
  ],
  [
    "year 2100",
    { ...REQUEST, period_start: "2099-12-01", period_end: "2100-01-01" },
    "period_end",
  ],
  ["unknown field", { ...REQUEST, colour: "blue" }, '"colour"'],
  [
    "status set by the client",
    { ...REQUEST, status: "completed" },
    "status is set by the export runner",
  ],
  [
    "runner_id set by the client",
    { ...REQUEST, runner_id: "r1" },
    "runner_id is set by the export runner",
  ],
  [
    "download_url set by the client",
    { ...REQUEST, download_url: "https://x" },
    "download_url is set by the export runner",
  ],
  [
    "requested_by set by the client",
    { ...REQUEST, requested_by: ORG },
    "requested_by is set by the database",
  ],
  [
    "non-boolean include_attachments",
    { ...REQUEST, include_attachments: "yes" },
    "include_attachments",
  ],
  ["bad format", { ...REQUEST, format: "pdf" }, "format"],
  ["null format", { ...REQUEST, format: null }, "format"],
  ["not JSON", "{organisation_id:", "request body is not valid JSON"],
  ["array body", [REQUEST], "request body must be a JSON object"],
  ["null body", "null", "request body must be a JSON object"],
  ["empty body", "", "request body is not valid JSON"],
  [
    "too large",
    { ...REQUEST, padding: "x".repeat(16 * 1024) },
    "request body is larger than 16384 bytes",
  ],
];

function omit(field: string): Record<string, unknown> {
  const { [field]: _, ...rest } = REQUEST as Record<string, unknown>;
  return rest;
}

for (const [name, body, named] of INVALID) {
  Deno.test(`POST 400: ${name}`, async () => {
    const fake = fakeSupabase({ insert: echoInsert });
    const message = assertFailure(
      await send(fake, post(body)),
      400,
      typeof body === "string" || Array.isArray(body) || name === "too large"
        ? "invalid_body"
        : "invalid_field",
    );
    assert.ok(message.includes(named), `"${message}" should name ${named}`);
    assert.equal(fake.calls.length, 0);
  });
}

Deno.test("POST 400: a body that is not declared as JSON", async () => {
  const fake = fakeSupabase({ insert: echoInsert });
  const message = assertFailure(
    await send(fake, post(REQUEST, { "content-type": "text/plain" })),
    400,
    "invalid_body",
  );
  assert.match(message, /content-type application\/json/);
  assert.equal(fake.calls.length, 0);
});

Deno.test("POST 400: a declared length over the limit is refused unread", async () => {
  const fake = fakeSupabase({ insert: echoInsert });
  const req = post(REQUEST, { "content-length": String(16 * 1024 + 1) });
  const message = assertFailure(await send(fake, req), 400, "invalid_body");
  assert.match(message, /larger than 16384 bytes/);
});

Deno.test("POST 403 when RLS refuses the insert (42501)", async () => {
  const fake = fakeSupabase({
    insert: () =>
      reply(403, {
        code: "42501",
        message:
          'new row violates row-level security policy for table "bufdir_export_audit"',
        details: null,
        hint: null,
      }),
  });
  const message = assertFailure(
    await send(fake, post(REQUEST)),
    403,
    "forbidden",
  );
  assert.equal(message, "you may not request an export for this organisation");
});

const DATABASE_REFUSALS: [string, string][] = [
  [
    "23514",
    'new row for relation "bufdir_export_audit" violates check constraint "bufdir_export_audit_period_length_check"',
  ],
  ["23503", `organisation ${ORG} does not exist`],
  ["22P02", 'invalid input syntax for type uuid: "x"'],
  ["XB004", "status is set by the runner, not by the client"],
];

for (const [code, dbMessage] of DATABASE_REFUSALS) {
  Deno.test(`POST 400 passes on the database's refusal ${code}`, async () => {
    const fake = fakeSupabase({
      insert: () =>
        reply(400, { code, message: dbMessage, details: null, hint: null }),
    });
    const message = assertFailure(
      await send(fake, post(REQUEST)),
      400,
      "rejected_by_database",
    );
    assert.equal(message, dbMessage);
  });
}

Deno.test("POST 429 when the requester has too many unfinished exports", async () => {
  const dbMessage =
    "user u already has 3 unfinished exports, and at most 3 may wait or run at once";
  const fake = fakeSupabase({
    // PostgREST answers an unknown SQLSTATE with 400 and the code in the body.
    insert: () =>
      reply(400, {
        code: "XB010",
        message: dbMessage,
        details: null,
        hint: null,
      }),
  });
  const message = assertFailure(
    await send(fake, post(REQUEST)),
    429,
    "too_many_exports",
  );
  assert.equal(message, dbMessage);
});

Deno.test("POST 401 when PostgREST refuses the JWT", async () => {
  const fake = fakeSupabase({
    insert: () =>
      reply(401, {
        code: "PGRST301",
        message: "JWT expired",
        details: null,
        hint: null,
      }),
  });
  assertFailure(await send(fake, post(REQUEST)), 401, "unauthenticated");
});

Deno.test("POST 502 hides any other database error", async () => {
  const internal = "could not connect to server at 10.0.0.7";
  const failures: Answer[] = [
    () => reply(500, { code: "08006", message: internal, details: internal }),
    () => Promise.reject(new TypeError(internal)),
  ];
  for (const insert of failures) {
    const answered = await send(fakeSupabase({ insert }), post(REQUEST));
    assertFailure(answered, 502, "database_unavailable");
    assert.ok(!JSON.stringify(answered.body).includes("10.0.0.7"));
  }
});

Deno.test("500 without details when something unexpected fails", async () => {
  const fake = fakeSupabase();
  const answered = await send(fake, get(`?id=${ID}`), {
    supabaseUrl: "not a URL",
  });
  assert.equal(
    assertFailure(answered, 500, "internal"),
    "the export service failed unexpectedly",
  );
});

// --- authorization, methods, preflight

const NOT_BEARER: [string, Record<string, string>][] = [
  ["no Authorization header", {}],
  ["Basic credentials", { authorization: "Basic dXNlcjpwYXNz" }],
  ["an empty bearer", { authorization: "Bearer " }],
];

for (const [name, headers] of NOT_BEARER) {
  Deno.test(`401 with ${name}`, async () => {
    const fake = fakeSupabase({
      insert: echoInsert,
      select: selectRow(COMPLETED),
    });
    for (const method of ["GET", "POST"]) {
      const req = new Request(`http://localhost/bufdir-export?id=${ID}`, {
        method,
        headers: { "content-type": "application/json", ...headers },
        body: method === "POST" ? JSON.stringify(REQUEST) : undefined,
      });
      assertFailure(await send(fake, req), 401, "unauthenticated");
    }
    assert.equal(fake.calls.length, 0);
  });
}

Deno.test("405 with Allow for other methods", async () => {
  for (const method of ["PUT", "PATCH", "DELETE", "HEAD"]) {
    const fake = fakeSupabase();
    const req = new Request("http://localhost/bufdir-export", {
      method,
      headers: { authorization: `Bearer ${USER_JWT}` },
    });
    const answered = await send(fake, req);
    assert.equal(answered.res.status, 405);
    assert.equal(answered.res.headers.get("allow"), "GET, POST, OPTIONS");
    assertFailure(answered, 405, "method_not_allowed");
    assert.equal(fake.calls.length, 0);
  }
});

Deno.test("OPTIONS answers the CORS preflight", async () => {
  const fake = fakeSupabase();
  const req = new Request("http://localhost/bufdir-export", {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });
  const { res, body } = await send(fake, req);
  assert.equal(res.status, 204);
  assertCors(res);
  assert.equal(body, null);
  assert.equal(fake.calls.length, 0);
});

// --- GET

Deno.test("GET reads the row as the caller and signs nothing before completion", async () => {
  const statuses = [
    "initialised",
    "querying_activities",
    "storing_file",
    "completed_empty",
    "failed",
    "cancelled",
  ];
  for (const status of statuses) {
    const row = exportRow({ status });
    const fake = fakeSupabase({ select: selectRow(row), sign: signPath });
    const { res, body } = await send(fake, get(`?id=${ID}`));

    assert.equal(res.status, 200);
    assertCors(res);
    assert.deepEqual(body, { export: row });
    assert.equal(fake.calls.length, 1, status);
    const [call] = fake.calls;
    assert.equal(call.method, "GET");
    // The read embeds when the file was deleted (supabase-js drops the spaces).
    const select = new URLSearchParams({ select: READ_SELECT }).toString();
    assert.equal(call.url, `${TABLE_URL}?${select}&id=eq.${ID}`);
    assertAsCaller(call);
  }
});

Deno.test("GET of a completed export signs exactly its path with the service key", async () => {
  const fake = fakeSupabase({ select: selectRow(COMPLETED), sign: signPath });
  const before = Date.now();
  const { res, body } = await send(fake, get(`?id=${ID}`));
  const after = Date.now();

  assert.equal(res.status, 200);
  assert.equal(fake.calls.length, 2);
  const [read, sign] = fake.calls;
  assertAsCaller(read);
  assert.equal(sign.method, "POST");
  assert.equal(sign.url, `${SIGN_URL}/${FILE_PATH}`);
  assert.equal(sign.headers.get("authorization"), `Bearer ${SERVICE_KEY}`);
  assert.equal(sign.headers.get("apikey"), SERVICE_KEY);
  assert.deepEqual(JSON.parse(sign.body), { expiresIn: TTL });

  assert.deepEqual(body?.export, COMPLETED);
  assert.equal(
    body?.download_url,
    `${SIGN_URL}/${FILE_PATH}?token=signed-token-1`,
  );
  const expires = Date.parse(body?.download_url_expires_at as string);
  assert.ok(expires >= before + TTL * 1000 - 1000);
  assert.ok(expires <= after + TTL * 1000);
});

Deno.test("GET 410 for a completed export whose file was deleted, signing nothing", async () => {
  const deletedAt = "2026-04-05T10:05:00+00:00";
  const fake = fakeSupabase({
    select: selectRow({
      ...COMPLETED,
      bufdir_export_file_deletions: { deleted_at: deletedAt },
    }),
    sign: signPath,
  });
  const message = assertFailure(
    await send(fake, get(`?id=${ID}`)),
    410,
    "file_deleted",
  );

  assert.ok(message.includes(deletedAt), message);
  assert.equal(fake.calls.length, 1); // the read only
  const select = new URL(fake.calls[0].url).searchParams.get("select");
  assert.equal(select, READ_SELECT);
});

Deno.test("GET signs in the configured bucket for the configured time", async () => {
  const fake = fakeSupabase({ select: selectRow(COMPLETED), sign: signPath });
  const { res } = await send(fake, get(`?id=${ID}`), {
    exportBucket: "other-bucket",
    signedUrlTtlSeconds: 86_400,
  });
  assert.equal(res.status, 200);
  const sign = fake.calls[1];
  assert.equal(
    sign.url,
    `${SUPABASE_URL}/storage/v1/object/sign/other-bucket/${FILE_PATH}`,
  );
  assert.deepEqual(JSON.parse(sign.body), { expiresIn: 86_400 });
});

Deno.test("GET 404 when no row is visible", async () => {
  const fake = fakeSupabase({ select: () => reply(200, []), sign: signPath });
  assertFailure(await send(fake, get(`?id=${ID}`)), 404, "not_found");
  assert.equal(fake.calls.length, 1);
});

for (const query of ["", "?id=", "?id=abc", `?id=${ID}x`]) {
  Deno.test(`GET 400 for the id in "${query}"`, async () => {
    const fake = fakeSupabase({ select: selectRow(COMPLETED) });
    const message = assertFailure(
      await send(fake, get(query)),
      400,
      "invalid_field",
    );
    assert.match(message, /\bid\b/);
    assert.equal(fake.calls.length, 0);
  });
}

Deno.test("GET 401 when PostgREST refuses the JWT", async () => {
  const fake = fakeSupabase({
    select: () => reply(401, { code: "PGRST303", message: "JWT expired" }),
  });
  assertFailure(await send(fake, get(`?id=${ID}`)), 401, "unauthenticated");
});

const OTHER = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const BAD_PATHS: unknown[] = [
  `${OTHER}/${ID}/bufdir-2025.xlsx`,
  `${ORG}/${OTHER}/bufdir-2025.xlsx`,
  `${ORG}/${ID}/../${ID}/bufdir-2025.xlsx`,
  `${ORG}/${ID}/sub/bufdir-2025.xlsx`,
  `${ORG}/${ID}/Bufdir-2025.xlsx`,
  `${ORG}/${ID}/bufdir-2025.pdf`,
  `${ORG}/${ID}/-bufdir.xlsx`,
  `${ORG}/${ID}/${"a".repeat(65)}.xlsx`,
  `/${FILE_PATH}`,
  `${FILE_PATH}\n`,
  null,
];

Deno.test("GET 500 bad_path for a completed row with any other path", async () => {
  for (const file_path of BAD_PATHS) {
    const fake = fakeSupabase({
      select: selectRow({ ...COMPLETED, file_path }),
      sign: signPath,
    });
    assertFailure(await send(fake, get(`?id=${ID}`)), 500, "bad_path");
    assert.equal(fake.calls.length, 1, String(file_path));
  }
});

Deno.test("GET 502 when signing fails", async () => {
  const failures: Answer[] = [
    () =>
      reply(400, {
        statusCode: "404",
        error: "not_found",
        message: `Object not found, key ${SERVICE_KEY}`,
      }),
    () => reply(500, { message: "internal" }),
    () => Promise.reject(new TypeError("connection refused")),
  ];
  for (const sign of failures) {
    const fake = fakeSupabase({ select: selectRow(COMPLETED), sign });
    const answered = await send(fake, get(`?id=${ID}`));
    assertFailure(answered, 502, "signing_failed");
    assert.equal(fake.calls.length, 2);
  }
});

// --- configuration

function env(values: Record<string, string>) {
  return new Map(Object.entries({
    SUPABASE_URL,
    SUPABASE_ANON_KEY: ANON_KEY,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    ...values,
  }));
}

Deno.test("depsFromEnv reads the environment, with defaults", () => {
  assert.deepEqual(depsFromEnv(env({})), {
    supabaseUrl: SUPABASE_URL,
    anonKey: ANON_KEY,
    serviceRoleKey: SERVICE_KEY,
    exportBucket: "bufdir-exports",
    signedUrlTtlSeconds: 604_800,
  });
  const custom = depsFromEnv(env({
    BUFDIR_EXPORT_BUCKET: "exports",
    BUFDIR_EXPORT_URL_TTL_SECONDS: "86400",
  }));
  assert.equal(custom.exportBucket, "exports");
  assert.equal(custom.signedUrlTtlSeconds, 86_400);
});

Deno.test("depsFromEnv refuses a short or malformed TTL and missing keys", () => {
  for (const ttl of ["3600", "86399", "-1", "1e6", "one week"]) {
    assert.throws(
      () => depsFromEnv(env({ BUFDIR_EXPORT_URL_TTL_SECONDS: ttl })),
      /BUFDIR_EXPORT_URL_TTL_SECONDS must be a whole number of seconds/,
    );
  }
  const missing = env({});
  missing.delete("SUPABASE_SERVICE_ROLE_KEY");
  assert.throws(
    () => depsFromEnv(missing),
    /SUPABASE_SERVICE_ROLE_KEY is not set/,
  );
});

Deno.test("createHandler refuses a TTL under one day", () => {
  const fake = fakeSupabase();
  assert.throws(
    () => createHandler(deps(fake, { signedUrlTtlSeconds: 3600 })),
    /signedUrlTtlSeconds must be .* at least 86400/,
  );
});
