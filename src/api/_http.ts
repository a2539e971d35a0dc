/**
 * HTTP plumbing of the API: JSON responses, errors that name the bad field,
 * and reading query parameters and JSON bodies as `unknown` narrowed by hand.
 *
 * @module
 */

/** An error the client caused; it becomes a 4xx response. */
export class HttpError extends Error {
  readonly status: number;
  readonly field: string | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    options: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}

/** A 400 naming the bad field. */
export function badField(field: string, message: string): HttpError {
  return new HttpError(400, message, { field });
}

/** A value quoted for an error message, cut after 64 characters. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
}

/** A JSON response. */
export function json(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** The JSON response of an error. */
export function errorResponse(error: HttpError): Response {
  const body: { error: string; field?: string } = { error: error.message };
  if (error.field !== undefined) body.field = error.field;
  return json(body, error.status, error.headers);
}

/** Reads a JSON object body of at most `limit` bytes. */
export async function readJsonObject(
  request: Request,
  limit: number,
): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await request.body?.cancel();
    throw tooLarge(limit);
  }
  let size = 0;
  const chunks: Uint8Array[] = [];
  if (request.body !== null) {
    for await (const chunk of request.body) {
      size += chunk.length;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  }
  if (size === 0) return {};
  const bytes = new Uint8Array(size);
  let pos = 0;
  for (const c of chunks) {
    bytes.set(c, pos);
    pos += c.length;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw badField("body", `Cannot parse body: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badField("body", "Cannot parse body: it is not a JSON object");
  }
  return value as Record<string, unknown>;
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Cannot read body: it exceeds ${limit} bytes`, {
    field: "body",
  });
}

/**
 * A string field, or `undefined` when absent. Strings MQTT cannot carry
 * (U+0000, lone surrogates) are refused [MQTT-1.5.4-1] [MQTT-1.5.4-2].
 */
export function stringField(
  body: Record<string, unknown>,
  field: string,
  what: string,
): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw badField(field, `Cannot ${what}: ${field} must be a string`);
  }
  if (!isMqttString(value)) {
    throw badField(
      field,
      `Cannot ${what}: ${field} holds U+0000 or a lone surrogate`,
    );
  }
  return value;
}

/** Whether MQTT may carry a string: well-formed UTF-16 without U+0000. */
export function isMqttString(value: string): boolean {
  return value.isWellFormed() && !value.includes("\u0000");
}

/** A string field that must be present. */
export function requiredString(
  body: Record<string, unknown>,
  field: string,
  what: string,
): string {
  const value = stringField(body, field, what);
  if (value === undefined) {
    throw badField(field, `Cannot ${what}: ${field} is missing`);
  }
  return value;
}

/** A boolean field; `true`/`false`, or their strings from a query. */
export function booleanField(
  body: Record<string, unknown>,
  field: string,
  what: string,
): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw badField(field, `Cannot ${what}: ${field} must be true or false`);
}

/** An integer field from `min` to `max`; numeric strings from a query too. */
export function integerField(
  body: Record<string, unknown>,
  field: string,
  what: string,
  min: number,
  max: number,
): number | undefined {
  const raw = body[field];
  if (raw === undefined || raw === null) return undefined;
  const value = typeof raw === "string" && /^-?\d+$/.test(raw)
    ? Number(raw)
    : raw;
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < min ||
    value > max
  ) {
    throw badField(
      field,
      `Cannot ${what}: ${field} must be an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/** The query parameters of a URL as a record (the first value of each). */
export function queryOf(url: URL): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const [name, value] of url.searchParams) {
    if (!(name in query)) query[name] = value;
  }
  return query;
}

/** Compares two strings in time that does not depend on where they differ. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [x, y] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const u = new Uint8Array(x), v = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < u.length; i++) diff |= u[i]! ^ v[i]!;
  return diff === 0;
}
