/** Reading a POST body: JSON, an object, at most a few KiB. */

export const MAX_BODY_BYTES = 16 * 1024;

export type BodyResult =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; message: string };

export async function readJsonObject(req: Request): Promise<BodyResult> {
  if (!isJson(req.headers.get("content-type"))) {
    return fail(
      "the request body must be sent as content-type application/json",
    );
  }
  const bytes = await readAtMost(req, MAX_BODY_BYTES);
  if (bytes === null) {
    return fail(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return fail("the request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("the request body must be a JSON object");
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function fail(message: string): BodyResult {
  return { ok: false, message };
}

function isJson(contentType: string | null): boolean {
  const mediaType = contentType?.split(";")[0].trim().toLowerCase();
  return mediaType === "application/json";
}

/** The body's bytes, or null as soon as it proves longer than `limit`. */
async function readAtMost(
  req: Request,
  limit: number,
): Promise<ArrayBuffer | null> {
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (declared > limit) return null;
  if (!req.body) return new ArrayBuffer(0);
  const chunks: BlobPart[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return await new Blob(chunks).arrayBuffer();
}
