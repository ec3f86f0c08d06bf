/** JSON responses, all with the CORS headers a browser client needs. */

export const ALLOWED_METHODS = "GET, POST, OPTIONS";

const BASE_HEADERS: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type",
  "access-control-allow-methods": ALLOWED_METHODS,
  "access-control-expose-headers": "location",
  "content-type": "application/json; charset=utf-8",
};

export function preflight(): Response {
  return new Response(null, { status: 204, headers: BASE_HEADERS });
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...BASE_HEADERS, ...headers },
  });
}

/** `{"error": <one sentence>, "code": <machine code>}` */
export function failure(
  status: number,
  code: string,
  error: string,
  headers: Record<string, string> = {},
): Response {
  return json(status, { error, code }, headers);
}
