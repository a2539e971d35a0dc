/**
 * A small HTTP/1.1 server over a `Deno.Listener` (TCP or TLS), for the HTTP
 * API and the WebSocket listener: bounded request heads and bodies, a
 * deadline to receive them, keep-alive with an idle timeout, a cap on
 * connections, and an accept loop that survives running out of descriptors.
 * Handlers take web `Request` objects and answer web `Response` objects, or
 * an {@linkcode HttpUpgrade} that takes the connection over.
 *
 * @module
 */

import type { Logger } from "../observe/logger.ts";
import { acceptLoop, IntervalLog } from "./_accept.ts";
import { type HttpHead, HttpHeadError, parseHead } from "./_http_head.ts";
import type { BoundAddress } from "./tcp.ts";

/** Limits of an {@linkcode HttpServer}; every field has a default. */
export interface HttpLimits {
  /**
   * Milliseconds to receive a request's head and body once it started,
   * 10000 by default; the connection is closed past it.
   */
  headerTimeout: number;
  /** Milliseconds a kept-alive connection may wait for its next request, 5000 by default. */
  idleTimeout: number;
  /** Bytes of a request head (request line and headers), 16 KiB by default; 431 past it. */
  maxHeaderBytes: number;
  /** Bytes of a request body, 1 MiB by default; 413 past it. */
  maxBodyBytes: number;
  /** Connections served at once, 1024 by default; more are closed at once. */
  maxConnections: number;
}

/** The defaults of {@linkcode HttpLimits}. */
export const HTTP_LIMITS: Readonly<HttpLimits> = {
  headerTimeout: 10_000,
  idleTimeout: 5_000,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 1 << 20,
  maxConnections: 1024,
};

/** Where a request came from and arrived. */
export interface HttpRequestInfo {
  /** The peer's address. */
  readonly remoteAddr: Deno.Addr;
  /** The local address the connection arrived at. */
  readonly localAddr: Deno.Addr;
}

/**
 * A handler's answer that switches protocols: the server sends
 * `101 Switching Protocols` with these headers, then hands the connection
 * and the bytes already read after the request to `accept`.
 */
export class HttpUpgrade {
  /** Headers of the 101 response. */
  readonly headers: Headers;
  /** Takes the connection over; it owns closing it from then on. */
  readonly accept: (conn: Deno.Conn, head: Uint8Array) => void;

  constructor(
    headers: HeadersInit,
    accept: (conn: Deno.Conn, head: Uint8Array) => void,
  ) {
    this.headers = new Headers(headers);
    this.accept = accept;
  }
}

/** Answers one request. */
export type HttpHandler = (
  request: Request,
  info: HttpRequestInfo,
) => Response | HttpUpgrade | Promise<Response | HttpUpgrade>;

const ENCODER = new TextEncoder();
/** Bytes a response body is gathered up to before it is sent chunked. */
const MAX_GATHERED_BODY = 64 * 1024;
/**
 * Milliseconds a streaming response may take to end once the server
 * closes; past it the connection is closed (a client that stopped reading
 * would keep a write waiting forever).
 */
const STREAM_END_GRACE = 1000;

/** One connection being served. */
interface Served {
  readonly conn: Deno.Conn;
  readonly abort: AbortController;
  /** Whether it waits for a request (closing it loses nothing). */
  idle: boolean;
}

/** Serves HTTP/1.1 on a listening socket. */
export class HttpServer {
  readonly #listener: Deno.Listener;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #scheme: "http" | "https";
  readonly #handler: HttpHandler;
  readonly #limits: HttpLimits;
  readonly #served = new Set<Served>();
  readonly #pending = new Set<Promise<void>>();
  readonly #overLimit: IntervalLog;
  readonly #accepting: Promise<void>;
  #closed = false;

  constructor(
    listener: Deno.Listener,
    options: {
      name: string;
      logger: Logger;
      scheme: "http" | "https";
      handler: HttpHandler;
      limits?: Partial<HttpLimits>;
    },
  ) {
    this.#listener = listener;
    this.#name = options.name;
    this.#logger = options.logger;
    this.#scheme = options.scheme;
    this.#handler = options.handler;
    this.#limits = { ...HTTP_LIMITS, ...options.limits };
    this.#overLimit = new IntervalLog(
      options.logger,
      "warn",
      "http connection refused: too many connections",
    );
    this.#accepting = acceptLoop(listener, {
      name: options.name,
      logger: options.logger,
      closed: () => this.#closed,
      serve: (conn) => this.#accept(conn),
    });
  }

  /** Where it is bound. */
  get address(): BoundAddress {
    const addr = this.#listener.addr as Deno.NetAddr;
    return { hostname: addr.hostname, port: addr.port };
  }

  /** Connections being served now (upgraded ones are no longer counted). */
  get connections(): number {
    return this.#served.size;
  }

  #accept(conn: Deno.Conn): void {
    if (this.#served.size >= this.#limits.maxConnections) {
      this.#overLimit.log({
        listener: this.#name,
        max_connections: this.#limits.maxConnections,
      });
      closeQuietly(conn);
      return;
    }
    try {
      (conn as Deno.TcpConn).setNoDelay?.(true);
    } catch {
      // The peer is already gone; the read will say so.
    }
    const served: Served = { conn, abort: new AbortController(), idle: true };
    this.#served.add(served);
    const done = this.#serve(served)
      .catch((error) => {
        this.#logger.error("http connection failed", {
          listener: this.#name,
          error: String(error),
        });
        closeQuietly(conn);
      })
      .finally(() => {
        this.#served.delete(served);
        this.#pending.delete(done);
      });
    this.#pending.add(done);
  }

  /** Serves requests on one connection until it closes or is upgraded. */
  async #serve(served: Served): Promise<void> {
    const { conn } = served;
    const limits = this.#limits;
    let buffer = new Uint8Array(Math.min(4096, limits.maxHeaderBytes));
    // Bytes read but not used yet: buffer[0, length).
    let length = 0;
    let first = true;
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        closeQuietly(conn);
      }, ms);
    };
    const info: HttpRequestInfo = {
      remoteAddr: conn.remoteAddr,
      localAddr: conn.localAddr,
    };
    try {
      while (!this.#closed) {
        // Waiting for a request: the first gets the header timeout, a
        // kept-alive connection the idle timeout until its first byte.
        served.idle = true;
        deadline(first ? limits.headerTimeout : limits.idleTimeout);
        let head: HttpHead | undefined;
        let headEnd = -1;
        let searched = 0;
        try {
          while ((headEnd = findHeadEnd(buffer, searched, length)) < 0) {
            searched = Math.max(0, length - 3);
            if (length === buffer.length) {
              if (length >= limits.maxHeaderBytes) {
                throw new HttpHeadError(431, "Request head too large");
              }
              buffer = grow(buffer, limits.maxHeaderBytes);
            }
            const n = await conn.read(buffer.subarray(length));
            if (n === null) return;
            if (length === 0 && !first) deadline(limits.headerTimeout);
            served.idle = false;
            length += n;
          }
          head = parseHead(buffer.subarray(0, headEnd));
        } catch (error) {
          if (error instanceof HttpHeadError) {
            await this.#refuse(conn, error);
            return;
          }
          if (timedOut || this.#closed) return;
          throw error;
        }
        served.idle = false;
        first = false;
        let rest = headEnd + 4;
        // The body, bounded, under the same deadline.
        let body: Uint8Array<ArrayBuffer> | undefined;
        try {
          const size = bodySize(head, limits.maxBodyBytes);
          if (size > 0) {
            body = new Uint8Array(size);
            const have = Math.min(size, length - rest);
            body.set(buffer.subarray(rest, rest + have));
            rest += have;
            let got = have;
            while (got < size) {
              const n = await conn.read(body.subarray(got));
              if (n === null) return;
              got += n;
            }
          }
        } catch (error) {
          if (error instanceof HttpHeadError) {
            await this.#refuse(conn, error);
            return;
          }
          if (timedOut || this.#closed) return;
          throw error;
        }
        clearTimeout(timer);
        timer = undefined;
        // Keep what came after this request for the next one.
        buffer.copyWithin(0, rest, length);
        length -= rest;

        let request: Request;
        try {
          request = this.#request(head, body, info, served.abort.signal);
        } catch (error) {
          await this.#refuse(
            conn,
            new HttpHeadError(400, `Bad request: ${messageOf(error)}`),
          );
          return;
        }
        let answer: Response | HttpUpgrade;
        try {
          answer = await this.#handler(request, info);
        } catch (error) {
          this.#logger.error("http handler failed", {
            listener: this.#name,
            error: String(error),
          });
          answer = new Response("Internal error\n", { status: 500 });
        }
        if (answer instanceof HttpUpgrade) {
          if (!head.upgrade) {
            answer = new Response("Upgrade required\n", { status: 426 });
          } else {
            const ok = await writeAll(
              conn,
              ENCODER.encode(statusLine(101) + headerLines(answer.headers)),
            );
            if (!ok) return;
            // The connection leaves this server: the upgrade owns it now.
            this.#served.delete(served);
            answer.accept(conn, buffer.slice(0, length));
            return;
          }
        }
        const keepAlive = head.keepAlive && !this.#closed;
        const kept = await this.#respond(
          served,
          answer,
          head,
          keepAlive,
        );
        if (!kept) return;
      }
    } finally {
      clearTimeout(timer);
      if (this.#served.has(served)) closeQuietly(conn);
    }
  }

  #request(
    head: HttpHead,
    body: Uint8Array<ArrayBuffer> | undefined,
    info: HttpRequestInfo,
    signal: AbortSignal,
  ): Request {
    const local = info.localAddr as Deno.NetAddr;
    const host = head.headers.find(([name]) => name === "host")?.[1] ??
      (local.hostname.includes(":")
        ? `[${local.hostname}]:${local.port}`
        : `${local.hostname}:${local.port}`);
    let url: URL;
    if (head.target.startsWith("/")) {
      if (/[\s/?#@\\]/.test(host)) {
        throw new TypeError(`invalid Host header ${JSON.stringify(host)}`);
      }
      url = new URL(head.target, `${this.#scheme}://${host}`);
    } else if (/^https?:\/\//i.test(head.target)) {
      url = new URL(head.target);
    } else {
      throw new TypeError(`invalid request target`);
    }
    const init: RequestInit = {
      method: head.method,
      headers: head.headers,
      signal,
    };
    if (body !== undefined && head.method !== "GET" && head.method !== "HEAD") {
      init.body = body;
    }
    return new Request(url, init);
  }

  /** Sends a refusal and closes the connection. */
  async #refuse(conn: Deno.Conn, refusal: HttpHeadError): Promise<void> {
    this.#logger.debug("http request refused", {
      listener: this.#name,
      status: refusal.status,
      reason: refusal.message,
    });
    const text = ENCODER.encode(`${refusal.message}\n`);
    const headers = statusLine(refusal.status) +
      "content-type: text/plain; charset=utf-8\r\n" +
      `content-length: ${text.length}\r\nconnection: close\r\n\r\n`;
    await writeAll(conn, concat([ENCODER.encode(headers), text]));
  }

  /**
   * Writes a response: with Content-Length when its body is short and
   * ready, chunked (and closing the connection after it) when the body
   * streams. Resolves whether the connection may serve another request.
   */
  async #respond(
    served: Served,
    response: Response,
    head: HttpHead,
    keepAlive: boolean,
  ): Promise<boolean> {
    const { conn } = served;
    const status = response.status;
    const noBody = head.method === "HEAD" || status === 204 ||
      status === 304 || status < 200;
    let lines = statusLine(status) + headerLines(response.headers, true);
    const stream = response.body;
    if (noBody || stream === null) {
      if (stream !== null) await stream.cancel().catch(() => {});
      if (!noBody) lines += "content-length: 0\r\n";
      if (!keepAlive) lines += "connection: close\r\n";
      const ok = await writeAll(conn, ENCODER.encode(lines + "\r\n"));
      return ok && keepAlive;
    }
    const reader = stream.getReader();
    // Gather the body while it comes at once; a body that waits streams.
    const chunks: Uint8Array[] = [];
    let size = 0;
    let tick: ReturnType<typeof setTimeout> | undefined;
    const later = new Promise<"later">((resolve) =>
      tick = setTimeout(() => resolve("later"), 0)
    );
    let next: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
    let ended = false;
    try {
      while (size <= MAX_GATHERED_BODY) {
        next = reader.read();
        const result = await Promise.race([next, later]);
        if (result === "later") break;
        next = undefined;
        if (result.done) {
          ended = true;
          break;
        }
        chunks.push(result.value);
        size += result.value.length;
      }
    } catch (error) {
      clearTimeout(tick);
      this.#logger.error("http response body failed", {
        listener: this.#name,
        error: String(error),
      });
      await this.#refuse(
        conn,
        new HttpHeadError(500, "Internal error"),
      );
      return false;
    }
    clearTimeout(tick);
    if (ended) {
      lines += `content-length: ${size}\r\n`;
      if (!keepAlive) lines += "connection: close\r\n";
      const ok = await writeAll(
        conn,
        concat([ENCODER.encode(lines + "\r\n"), ...chunks]),
      );
      return ok && keepAlive;
    }
    // Streaming: chunked for HTTP/1.1, until the end of the connection for
    // 1.0; the connection closes after it. A read watches for the client
    // going away, which cancels the body.
    const chunked = head.version === "HTTP/1.1";
    lines += chunked ? "transfer-encoding: chunked\r\n" : "";
    lines += "connection: close\r\n\r\n";
    const frame = (parts: Uint8Array[]): Uint8Array => {
      const total = parts.reduce((n, p) => n + p.length, 0);
      if (!chunked || total === 0) return concat(parts);
      return concat([
        ENCODER.encode(`${total.toString(16)}\r\n`),
        ...parts,
        ENCODER.encode("\r\n"),
      ]);
    };
    const gone = () => reader.cancel().catch(() => {});
    let stuck: ReturnType<typeof setTimeout> | undefined;
    const closing = () => {
      gone();
      stuck = setTimeout(() => closeQuietly(conn), STREAM_END_GRACE);
    };
    served.abort.signal.addEventListener("abort", closing, { once: true });
    if (served.abort.signal.aborted) closing();
    // Bytes of a pipelined request are not served: the connection closes.
    conn.read(new Uint8Array(1)).then((n) => {
      if (n === null) gone();
    }, gone);
    try {
      const head = concat([ENCODER.encode(lines), frame(chunks)]);
      if (!await writeAll(conn, head)) {
        await gone();
        return false;
      }
      while (true) {
        const result = await (next ?? reader.read());
        next = undefined;
        if (result.done) break;
        if (result.value.length === 0) continue;
        if (!await writeAll(conn, frame([result.value]))) {
          await gone();
          return false;
        }
      }
      if (chunked) await writeAll(conn, ENCODER.encode("0\r\n\r\n"));
    } catch (error) {
      this.#logger.debug("http response stream ended", {
        listener: this.#name,
        error: String(error),
      });
    } finally {
      served.abort.signal.removeEventListener("abort", closing);
      clearTimeout(stuck);
    }
    return false;
  }

  /**
   * Stops accepting, closes connections waiting for a request and ends
   * streaming responses (closing, a second later, those whose client does
   * not read); resolves once every connection has closed.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      closeQuietly(this.#listener);
      for (const served of this.#served) {
        served.abort.abort();
        if (served.idle) closeQuietly(served.conn);
      }
    }
    await this.#accepting;
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }
}

/** Closes a connection or listener that may already be closed. */
export function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // Already closed.
  }
}

/**
 * Writes every byte, looping on partial writes.
 *
 * @returns Whether it was written; false if the connection failed.
 */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<boolean> {
  try {
    let written = 0;
    while (written < bytes.length) {
      written += await conn.write(
        written === 0 ? bytes : bytes.subarray(written),
      );
    }
    return true;
  } catch {
    return false;
  }
}

/** The index of "\r\n\r\n" in `buffer[from, to)`, or -1. */
function findHeadEnd(buffer: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (
      buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 &&
      buffer[i + 3] === 10
    ) return i;
  }
  return -1;
}

function grow(
  buffer: Uint8Array<ArrayBuffer>,
  max: number,
): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(Math.min(buffer.length * 2, max));
  next.set(buffer);
  return next;
}

/** The size of the request body, checked against the limit. */
function bodySize(head: HttpHead, max: number): number {
  let size = 0;
  let seen: string | undefined;
  for (const [name, value] of head.headers) {
    if (name === "transfer-encoding") {
      throw new HttpHeadError(
        411,
        "Cannot read a chunked request body: send Content-Length",
      );
    }
    if (name !== "content-length") continue;
    if (!/^\d{1,15}$/.test(value) || (seen !== undefined && seen !== value)) {
      throw new HttpHeadError(400, "Bad request: invalid Content-Length");
    }
    seen = value;
    size = Number(value);
  }
  if (size > max) {
    throw new HttpHeadError(
      413,
      `Cannot read the request body: ${size} bytes exceed the ${max} allowed`,
    );
  }
  return size;
}

const REASONS: Readonly<Record<number, string>> = {
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
}

/** Header lines, without the framing headers this server sets itself. */
function headerLines(headers: Headers, dropFraming = false): string {
  let lines = "";
  for (const [name, value] of headers) {
    if (
      dropFraming &&
      (name === "content-length" || name === "transfer-encoding" ||
        name === "connection")
    ) continue;
    lines += `${name}: ${value}\r\n`;
  }
  return dropFraming ? lines : lines + "\r\n";
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
