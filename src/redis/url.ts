/**
 * Redis URLs: `redis://user:password@host:port/db`, and `rediss://` for
 * TLS. This module owns the format: it parses it, and it writes it back
 * with the password masked for logs.
 *
 * @module
 */

/** Where and how to connect to Redis, as {@linkcode parseRedisUrl} reads it. */
export interface RedisUrl {
  /** Whether the connection uses TLS (`rediss://`). */
  readonly tls: boolean;
  /** Host name or IP address, without brackets; 127.0.0.1 by default. */
  readonly hostname: string;
  /** TCP port, 6379 by default. */
  readonly port: number;
  /** ACL user name, percent-decoded; absent for the default user. */
  readonly username?: string;
  /** Password, percent-decoded; absent if the URL has none. */
  readonly password?: string;
  /** Database number for `SELECT`, 0 by default. */
  readonly db: number;
  /** The URL with the password replaced by `***`, for logs and errors. */
  readonly redacted: string;
}

const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = 6379;

/**
 * Reads a Redis URL. The user name and password are percent-decoded (write
 * `@` as `%40`, `:` as `%3A`); a missing host, port or database takes its
 * default. Query strings and fragments are refused rather than ignored.
 *
 * @example Read the parts of a URL
 * ```ts
 * import { parseRedisUrl } from "./mod.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(parseRedisUrl("redis://app:s%40cret@10.0.0.5:6380/2"), {
 *   tls: false,
 *   hostname: "10.0.0.5",
 *   port: 6380,
 *   username: "app",
 *   password: "s@cret",
 *   db: 2,
 *   redacted: "redis://app:***@10.0.0.5:6380/2",
 * });
 * ```
 * @param url The URL, such as `redis://127.0.0.1:6379/0`.
 * @returns Its parts, defaults filled in.
 * @throws {TypeError} If the URL is not a Redis URL; the message names the
 * part that is wrong and shows the URL with its password masked.
 */
export function parseRedisUrl(url: string): RedisUrl {
  const redacted = redactRedisUrl(url);
  const fail = (detail: string): never => {
    throw new TypeError(`Cannot parse Redis URL ${redacted}: ${detail}`);
  };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (scheme === null) {
    return fail("it must start with redis:// or rediss://");
  }
  const protocol = scheme[1]!.toLowerCase();
  if (protocol !== "redis" && protocol !== "rediss") {
    return fail(`the scheme ${protocol}:// is not redis:// or rediss://`);
  }
  let rest = url.slice(scheme[0].length);
  if (rest.includes("#")) fail("a fragment (#...) has no meaning here");
  const at = rest.lastIndexOf("@");
  let userInfo: string | undefined;
  if (at >= 0) {
    userInfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const slash = rest.indexOf("/");
  const hostPort = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  if (path.includes("?") || hostPort.includes("?")) {
    fail("query parameters are not supported; put the database in the path");
  }

  let hostname = DEFAULT_HOST;
  let portText = "";
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) fail("the IPv6 host lacks its closing ]");
    hostname = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) {
      fail(`unexpected "${after}" after the IPv6 host`);
    }
    portText = after.slice(1);
  } else {
    const colon = hostPort.indexOf(":");
    const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    portText = colon < 0 ? "" : hostPort.slice(colon + 1);
    if (host !== "") hostname = host;
    if (/[\s/\\]/.test(host)) fail(`the host "${host}" is not a host name`);
  }
  let port = DEFAULT_PORT;
  if (portText !== "") {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      fail(`the port "${portText}" is not a number from 1 to 65535`);
    }
  }

  let db = 0;
  if (path !== "") {
    db = /^\d{1,9}$/.test(path) ? Number(path) : NaN;
    if (Number.isNaN(db)) {
      fail(`the database "/${path}" is not a number from 0 up`);
    }
  }

  let username: string | undefined;
  let password: string | undefined;
  if (userInfo !== undefined) {
    const colon = userInfo.indexOf(":");
    const user = colon < 0 ? userInfo : userInfo.slice(0, colon);
    username = user === "" ? undefined : decode(user, "user name", fail);
    if (colon >= 0) {
      password = decode(userInfo.slice(colon + 1), "password", fail);
    } else if (username !== undefined) {
      fail(
        "the user name has no password: write user:password@ or :password@",
      );
    }
  }

  const parsed: RedisUrl = {
    tls: protocol === "rediss",
    hostname,
    port,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    db,
    redacted: formatRedisUrl({
      tls: protocol === "rediss",
      hostname,
      port,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password: "" }),
      db,
    }),
  };
  return parsed;
}

function decode(
  part: string,
  what: string,
  fail: (detail: string) => never,
): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return fail(`the ${what} is not valid percent-encoding`);
  }
}

/** What {@linkcode formatRedisUrl} writes: a URL's parts. */
type RedisUrlParts = Omit<RedisUrl, "redacted">;

/**
 * Writes a URL from its parts, the password masked as `***`.
 *
 * @param url The parts; `password` only says whether there is one.
 * @returns The URL, safe to log.
 */
function formatRedisUrl(url: RedisUrlParts): string {
  const host = url.hostname.includes(":") ? `[${url.hostname}]` : url.hostname;
  const user = url.username === undefined
    ? ""
    : encodeURIComponent(url.username);
  const auth = url.password === undefined ? "" : `${user}:***@`;
  return `${
    url.tls ? "rediss" : "redis"
  }://${auth}${host}:${url.port}/${url.db}`;
}

/**
 * Masks the password of a Redis URL for logs, even a URL that does not
 * parse: everything between the user name's `:` and the last `@` becomes
 * `***`; text before `@` without a `:` is masked whole.
 *
 * @example Log a URL without its password
 * ```ts
 * import { redactRedisUrl } from "./mod.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(
 *   redactRedisUrl("redis://app:hunter2@cache:6379/0"),
 *   "redis://app:***@cache:6379/0",
 * );
 * strictEqual(redactRedisUrl("redis://cache:6379"), "redis://cache:6379");
 * ```
 * @param url Any text; a Redis URL is expected.
 * @returns The same text with the password replaced.
 */
export function redactRedisUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  const start = scheme === null ? 0 : scheme[0].length;
  const at = url.lastIndexOf("@");
  if (at < start) return url;
  const userInfo = url.slice(start, at);
  const colon = userInfo.indexOf(":");
  const user = colon < 0 ? "" : userInfo.slice(0, colon);
  return `${url.slice(0, start)}${user}:***${url.slice(at)}`;
}
