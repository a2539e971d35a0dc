/**
 * TCP and TLS listeners (`Deno.listen`, `Deno.listenTls`).
 *
 * @module
 */

import type { ConnectionInfo } from "../hooks.ts";
import type { Logger } from "../logger.ts";
import type { Transport } from "../transport.ts";
import { acceptLoop } from "./_accept.ts";
import { formatAddress } from "./_address.ts";

/** A `Deno.Conn` as a broker transport. */
export class ConnTransport implements Transport {
  readonly info: ConnectionInfo;
  readonly flush = "microtask" as const;
  readonly reusesWrittenBytes = true;
  readonly #conn: Deno.Conn;

  constructor(conn: Deno.Conn, info: ConnectionInfo) {
    this.#conn = conn;
    this.info = info;
  }

  read(buffer: Uint8Array): Promise<number | null> {
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
          }),
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
