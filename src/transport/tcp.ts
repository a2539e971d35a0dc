/**
 * TCP and TLS listeners (`Deno.listen`, `Deno.listenTls`).
 *
 * @module
 */

import type { ConnectionInfo } from "../types.ts";
import type { Logger } from "../observe/logger.ts";
import type { Transport } from "./transport.ts";
import { sanitizeError } from "./close_reason.ts";
import { acceptLoop, HostLog } from "./_accept.ts";
import { formatAddress } from "./_address.ts";

/** Logs the mistakes a client can make on the first bytes of a connection. */
export interface FirstReadLogs {
  /** A TLS ClientHello on a plain TCP listener. */
  readonly tlsOnPlain: HostLog;
  /** Plain bytes on a TLS listener. */
  readonly plainOnTls: HostLog;
  /** Any other failed TLS handshake (untrusted certificate and the like). */
  readonly tlsFailed: HostLog;
}

/** A `Deno.Conn` as a broker transport. */
export class ConnTransport implements Transport {
  readonly info: ConnectionInfo;
  readonly flush = "microtask" as const;
  readonly reusesWrittenBytes = true;
  readonly #conn: Deno.Conn;
  /** Set until the first read: it checks how the client began. */
  #logs: FirstReadLogs | undefined;

  constructor(conn: Deno.Conn, info: ConnectionInfo, logs?: FirstReadLogs) {
    this.#conn = conn;
    this.info = info;
    this.#logs = logs;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    const logs = this.#logs;
    if (logs === undefined) return this.#conn.read(buffer);
    this.#logs = undefined;
    if (this.info.transport === "tls") return this.#handshake(buffer, logs);
    // A reaction rather than an async function: it is what a connection
    // that never sends holds.
    return this.#conn.read(buffer).then((n) => {
      if (n !== null && n > 0 && buffer[0] === 0x16) {
        // 0x16 starts a TLS record (handshake); no MQTT packet has type 1
        // with flags 6.
        logs.tlsOnPlain.log(this.info.remoteAddress, {
          listener: this.info.listener,
        });
        throw new TlsHandshakeError(
          "Looks like TLS on a plain listener: the first byte is 0x16",
        );
      }
      return n;
    });
  }

  /** The first read of a TLS connection: the handshake, then the read. */
  async #handshake(
    buffer: Uint8Array,
    logs: FirstReadLogs,
  ): Promise<number | null> {
    try {
      await (this.#conn as Deno.TlsConn).handshake();
    } catch (error) {
      const fields = { listener: this.info.listener };
      const detail = sanitizeError(error);
      if (/corrupt message|InvalidContentType|not a TLS/i.test(detail)) {
        logs.plainOnTls.log(this.info.remoteAddress, { ...fields, detail });
      } else if (!/eof|reset|broken pipe/i.test(detail)) {
        logs.tlsFailed.log(this.info.remoteAddress, { ...fields, detail });
      }
      throw new TlsHandshakeError(detail);
    }
    return this.#conn.read(buffer);
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** A TLS handshake that failed, or TLS where plain MQTT was expected. */
export class TlsHandshakeError extends Error {
  /** @param message What went wrong, without library internals. */
  constructor(message: string) {
    super(message);
    this.name = "TlsHandshakeError";
  }
}

/**
 * Makes the first-read logs of a listener.
 *
 * @param logger Where they go.
 * @returns The logs.
 */
export function firstReadLogs(logger: Logger): FirstReadLogs {
  return {
    tlsOnPlain: new HostLog(
      logger,
      "info",
      "looks like TLS on a plain listener: use the TLS port or plain MQTT",
    ),
    plainOnTls: new HostLog(
      logger,
      "info",
      "tls handshake failed: looks like plain MQTT on a TLS listener",
    ),
    tlsFailed: new HostLog(logger, "info", "tls handshake failed"),
  };
}

/** Where a listener is bound. */
export interface BoundAddress {
  readonly hostname: string;
  readonly port: number;
}

/** A listening socket that hands each accepted connection to `serve`. */
export class SocketListener {
  readonly #listener: Deno.Listener;
  readonly #name: string;
  readonly #kind: "tcp" | "tls";
  readonly #logger: Logger;
  readonly #logs: FirstReadLogs;
  #closed = false;
  #lastLocal: { hostname: string; port: number; text: string } | undefined;
  readonly done: Promise<void>;

  constructor(
    listener: Deno.Listener,
    options: {
      name: string;
      kind: "tcp" | "tls";
      logger: Logger;
      serve: (transport: Transport) => void;
    },
  ) {
    this.#listener = listener;
    this.#name = options.name;
    this.#kind = options.kind;
    this.#logger = options.logger;
    this.#logs = firstReadLogs(options.logger);
    this.done = this.#accept(options.serve);
  }

  get address(): BoundAddress {
    const addr = this.#listener.addr as Deno.NetAddr;
    return { hostname: addr.hostname, port: addr.port };
  }

  #accept(serve: (transport: Transport) => void): Promise<void> {
    return acceptLoop(this.#listener, {
      name: this.#name,
      logger: this.#logger,
      closed: () => this.#closed,
      serve: (conn) => {
        if (this.#kind === "tcp") {
          try {
            (conn as Deno.TcpConn).setNoDelay(true);
          } catch {
            // The peer is already gone; the read will say so.
          }
        }
        serve(
          new ConnTransport(conn, {
            remoteAddress: formatAddress(conn.remoteAddr),
            localAddress: this.#localAddress(conn.localAddr as Deno.NetAddr),
            transport: this.#kind,
            listener: this.#name,
          }, this.#logs),
        );
      },
    });
  }

  /**
   * The local address as text; the same string for every connection to
   * the same address, so idle connections do not each hold a copy.
   */
  #localAddress(addr: Deno.NetAddr): string {
    const last = this.#lastLocal;
    if (last?.hostname === addr.hostname && last.port === addr.port) {
      return last.text;
    }
    const text = formatAddress(addr);
    this.#lastLocal = { hostname: addr.hostname, port: addr.port, text };
    return text;
  }

  /** Stops accepting; open connections are not touched. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
    }
    return this.done;
  }
}
