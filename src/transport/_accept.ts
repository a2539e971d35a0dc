/**
 * The accept loop shared by every listener: it survives accept errors such
 * as running out of file descriptors, and never rejects.
 *
 * @module
 */

import type { Logger } from "../observe/logger.ts";

/** How long to wait after a failed accept before trying again. */
const ACCEPT_BACKOFF = 100;

/** At most one log record per this many milliseconds for a repeated event. */
export const LOG_INTERVAL = 10_000;

/**
 * Logs an event at most once per {@linkcode LOG_INTERVAL}, with the count of
 * those that were not logged since the last record.
 */
export class IntervalLog {
  readonly #logger: Logger;
  readonly #level: "warn" | "error";
  readonly #message: string;
  #last = -Infinity;
  #skipped = 0;

  constructor(logger: Logger, level: "warn" | "error", message: string) {
    this.#logger = logger;
    this.#level = level;
    this.#message = message;
  }

  /** Logs the event unless one was logged less than an interval ago. */
  log(fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.#last < LOG_INTERVAL) {
      this.#skipped++;
      return;
    }
    this.#last = now;
    const skipped = this.#skipped;
    this.#skipped = 0;
    this.#logger[this.#level](this.#message, {
      ...fields,
      ...(skipped > 0 ? { not_logged: skipped } : {}),
    });
  }
}

/** Hosts remembered by a {@linkcode HostLog}, at most; the oldest go first. */
export const HOST_LOG_CAPACITY = 1024;

/**
 * Logs an event at most once per {@linkcode LOG_INTERVAL} per remote host
 * (the address without its port), so a client that retries in a loop makes
 * one line, not a flood. Remembers at most {@linkcode HOST_LOG_CAPACITY}
 * hosts.
 */
export class HostLog {
  readonly #logger: Logger;
  readonly #level: "info" | "warn";
  readonly #message: string;
  /** Host to the time of its last record and the count not logged since. */
  readonly #hosts = new Map<string, { at: number; skipped: number }>();

  constructor(logger: Logger, level: "info" | "warn", message: string) {
    this.#logger = logger;
    this.#level = level;
    this.#message = message;
  }

  /** Logs the event unless one was logged for the host within an interval. */
  log(remote: string, fields: Record<string, unknown>): void {
    const host = hostOf(remote);
    const now = Date.now();
    const seen = this.#hosts.get(host);
    if (seen !== undefined && now - seen.at < LOG_INTERVAL) {
      seen.skipped++;
      return;
    }
    if (seen !== undefined) this.#hosts.delete(host);
    if (this.#hosts.size >= HOST_LOG_CAPACITY) {
      const oldest = this.#hosts.keys().next().value;
      if (oldest !== undefined) this.#hosts.delete(oldest);
    }
    this.#hosts.set(host, { at: now, skipped: 0 });
    this.#logger[this.#level](this.#message, {
      remote,
      ...fields,
      ...(seen !== undefined && seen.skipped > 0
        ? { not_logged: seen.skipped }
        : {}),
    });
  }
}

/** The host of a `host:port` or `[v6]:port` address. */
function hostOf(remote: string): string {
  const colon = remote.lastIndexOf(":");
  return colon > 0 ? remote.slice(0, colon) : remote;
}

/**
 * Accepts connections until the listener is closed, handing each to
 * `serve`. A failed accept (out of descriptors and the like) is logged at
 * most once per interval, then retried after a short pause. Never rejects.
 *
 * @param listener The listening socket.
 * @param options Its name for logs, a logger, whether it was closed on
 * purpose, and what to do with each connection.
 * @returns A promise that resolves once the listener is closed.
 */
export async function acceptLoop(
  listener: Deno.Listener,
  options: {
    name: string;
    logger: Logger;
    closed: () => boolean;
    serve: (conn: Deno.Conn) => void;
  },
): Promise<void> {
  const failures = new IntervalLog(options.logger, "error", "accept failed");
  while (!options.closed()) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (options.closed() || error instanceof Deno.errors.BadResource) return;
      // Out of descriptors and the like: wait a moment, keep serving.
      failures.log({ listener: options.name, error: String(error) });
      await new Promise((resolve) => setTimeout(resolve, ACCEPT_BACKOFF));
      continue;
    }
    try {
      options.serve(conn);
    } catch (error) {
      options.logger.error("connection setup failed", {
        listener: options.name,
        error: String(error),
      });
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }
}
