/**
 * Parses the head of an HTTP/1.x request: request line and header fields.
 *
 * @module
 */

/** A parsed request head. */
export interface HttpHead {
  /** The method, such as "GET". */
  readonly method: string;
  /** The request target as sent: a path, or an absolute URL. */
  readonly target: string;
  /** "HTTP/1.1" or "HTTP/1.0". */
  readonly version: "HTTP/1.1" | "HTTP/1.0";
  /** Header fields in order, names in lower case. */
  readonly headers: [string, string][];
  /** Whether the client keeps the connection open after the response. */
  readonly keepAlive: boolean;
  /** Whether the client asks to switch protocols (Connection: upgrade). */
  readonly upgrade: boolean;
}

/** Longest request line accepted, in bytes; 414 past it. */
export const MAX_REQUEST_LINE = 8 * 1024;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const LATIN1 = new TextDecoder("latin1");

/** A request refused with an HTTP status. */
export class HttpHeadError extends Error {
  /** The status to answer. */
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpHeadError";
    this.status = status;
  }
}

/**
 * Parses a request head, without its final empty line.
 *
 * @throws {HttpHeadError} If the head is not a valid HTTP/1.x request head.
 */
export function parseHead(bytes: Uint8Array): HttpHead {
  const text = LATIN1.decode(bytes);
  const lines = text.split("\r\n");
  const requestLine = lines[0] ?? "";
  if (requestLine.length > MAX_REQUEST_LINE) {
    throw new HttpHeadError(414, "Request line too long");
  }
  const parts = requestLine.split(" ");
  const [method, target, version] = parts;
  if (
    parts.length !== 3 || method === undefined || !TOKEN.test(method) ||
    target === undefined || target === "" || hasControl(target, false)
  ) {
    throw new HttpHeadError(400, "Bad request: invalid request line");
  }
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    throw new HttpHeadError(505, "HTTP version not supported");
  }
  const headers: [string, string][] = [];
  let connection = "";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) {
      throw new HttpHeadError(400, "Bad request: invalid header line");
    }
    const value = line.slice(colon + 1).trim();
    if (hasControl(value, true)) {
      throw new HttpHeadError(400, "Bad request: invalid header value");
    }
    const lower = name.toLowerCase();
    if (lower === "connection") connection += `,${value.toLowerCase()}`;
    headers.push([lower, value]);
  }
  const options = connection.split(",").map((o) => o.trim());
  return {
    method,
    target,
    version,
    headers,
    keepAlive: version === "HTTP/1.1"
      ? !options.includes("close")
      : options.includes("keep-alive"),
    upgrade: options.includes("upgrade"),
  };
}

/** Whether the text holds a control character (a tab only if allowed). */
function hasControl(text: string, allowTab: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && !(allowTab && c === 9)) || c === 0x7f) return true;
  }
  return false;
}
