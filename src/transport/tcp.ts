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

/** What every connection of one listener shares. */
export interface ListenerShare {
  /** The listener's name. */
  readonly name: string;
  /** Plain TCP or TLS. */
  readonly kind: "tcp" | "tls";
  /** The logs of the first read, undefined to check nothing. */
  readonly logs?: FirstReadLogs | undefined;
  /** The local address as text (see {@linkcode LocalAddresses}). */
  localAddress(addr: Deno.NetAddr): string;
}

/**
 * A `Deno.Conn` as a broker transport. It holds the connection and what its
 * listener shares, no more: `info` is made when asked for, so that an idle
 * connection keeps no addresses as text of its own.
 */
export class ConnTransport implements Transport {
  readonly #conn: Deno.Conn;
  readonly #listener: ListenerShare;
  /** Set until the first read: it checks how the client began. */
  #firstRead: boolean;

  constructor(conn: Deno.Conn, listener: ListenerShare) {
    this.#conn = conn;
    this.#listener = listener;
    this.#firstRead = listener.logs !== undefined;
  }

  /** Where the connection comes from; a new object on each call. */
  get info(): ConnectionInfo {
    const listener = this.#listener;
    const conn = this.#conn;
    return {
      remoteAddress: formatAddress(conn.remoteAddr),
      localAddress: listener.localAddress(conn.localAddr as Deno.NetAddr),
      transport: listener.kind,
      listener: listener.name,
    };
  }

  /** Output is batched per task. */
  get flush(): "microtask" {
    return "microtask";
  }

  /** Bytes written are sent (or copied) once the write resolves. */
  get reusesWrittenBytes(): boolean {
    return true;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (!this.#firstRead) return this.#conn.read(buffer);
    this.#firstRead = false;
    const logs = this.#listener.logs!;
    if (this.#listener.kind === "tls") return this.#handshake(buffer, logs);
    // A reaction rather than an async function: it is what a connection
    // that never sends holds.
    return this.#conn.read(buffer).then((n) => {
      if (n !== null && n > 0 && buffer[0] === 0x16) {
        // 0x16 starts a TLS record (handshake); no MQTT packet has type 1
        // with flags 6.
        logs.tlsOnPlain.log(formatAddress(this.#conn.remoteAddr), {
          listener: this.#listener.name,
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
      const remote = formatAddress(this.#conn.remoteAddr);
      const fields = { listener: this.#listener.name };
      const detail = sanitizeError(error);
      if (/corrupt message|InvalidContentType|not a TLS/i.test(detail)) {
        logs.plainOnTls.log(remote, { ...fields, detail });
      } else if (!/eof|reset|broken pipe/i.test(detail)) {
        logs.tlsFailed.log(remote, { ...fields, detail });
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

/**
 * Local addresses as text: the same string for every connection to the
 * same address, so that connections do not each hold a copy.
 */
export class LocalAddresses {
  #last: { hostname: string; port: number; text: string } | undefined;

  /** The address as `host:port` (`[v6]:port`). */
  text(addr: Deno.NetAddr): string {
    const last = this.#last;
    if (last?.hostname === addr.hostname && last.port === addr.port) {
      return last.text;
    }
    const text = formatAddress(addr);
    this.#last = { hostname: addr.hostname, port: addr.port, text };
    return text;
  }
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
  readonly #share: ListenerShare;
  #closed = false;
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
    const locals = new LocalAddresses();
    this.#share = {
      name: options.name,
      kind: options.kind,
      logs: firstReadLogs(options.logger),
      localAddress: (addr) => locals.text(addr),
    };
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
        serve(new ConnTransport(conn, this.#share));
      },
    });
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
