/**
 * WebSocket and secure WebSocket listeners (`Deno.serve` and
 * `Deno.upgradeWebSocket`, subprotocol `mqtt`).
 *
 * @module
 */

import type { ConnectionInfo } from "../hooks.ts";
import type { Logger } from "../logger.ts";
import type { Transport } from "../transport.ts";
import { formatAddress } from "./_address.ts";
import type { BoundAddress } from "./tcp.ts";

/** Bytes a WebSocket may hold unsent before writes wait for it to drain. */
const WS_HIGH_WATER = 256 * 1024;

/** Subprotocols accepted, preferred first. */
const SUBPROTOCOLS = ["mqtt", "mqttv3.1"];

/**
 * A WebSocket as a broker transport. Each binary message is a run of bytes
 * of the MQTT stream: one message may hold several packets and a packet may
 * span messages. Output goes out as one message per flush.
 */
export class WebSocketTransport implements Transport {
  readonly info: ConnectionInfo;
  readonly flush = "macrotask" as const;
  readonly reusesWrittenBytes = false;
  readonly #socket: WebSocket;
  #chunks: Uint8Array[] = [];
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: WebSocket, info: ConnectionInfo) {
    this.#socket = socket;
    this.info = info;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) {
        this.#chunks.push(new Uint8Array(event.data));
      } else {
        // [MQTT-6.0.0-1] MQTT travels in binary frames only.
        this.#error = new Error("Cannot accept a text WebSocket frame");
        this.close();
      }
      this.#signal();
    };
    socket.onclose = () => {
      this.#ended = true;
      this.#signal();
    };
    socket.onerror = () => {
      this.#ended = true;
      this.#signal();
    };
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    let n = 0;
    while (n < buffer.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(chunk.length, buffer.length - n);
      buffer.set(take === chunk.length ? chunk : chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    return n;
  }

  /**
   * Sends the bytes as one binary message. The WebSocket queues without
   * limit, so while more than `WS_HIGH_WATER` bytes wait to be
   * sent the write does not resolve: the connection's output counts as in
   * progress and its slow-consumer policy applies.
   */
  async write(bytes: Uint8Array): Promise<number> {
    const socket = this.#socket;
    if (socket.readyState !== WebSocket.OPEN) {
      throw new Error("WebSocket is closed");
    }
    socket.send(bytes);
    while (
      socket.bufferedAmount > WS_HIGH_WATER &&
      socket.readyState === WebSocket.OPEN
    ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return bytes.length;
  }

  /** Bytes queued in the WebSocket and not yet sent. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  close(): void {
    this.#ended = true;
    try {
      this.#socket.close();
    } catch {
      // Already closing.
    }
    this.#signal();
  }
}

/** An HTTP server that upgrades requests on one path to MQTT over WebSocket. */
export class WebSocketListener {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #path: string;
  readonly done: Promise<void>;
  /** Name in logs and hooks; may be set once the bound port is known. */
  name: string;
  #closed = false;

  constructor(
    options: {
      name: string;
      hostname: string;
      port: number;
      path: string;
      tls?: { cert: string; key: string };
      logger: Logger;
      serve: (transport: Transport) => void;
    },
  ) {
    this.#path = options.path;
    this.name = options.name;
    const kind = options.tls === undefined ? "ws" : "wss";
    const handler = (
      request: Request,
      info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    ): Response => {
      const url = new URL(request.url);
      if (url.pathname !== this.#path) {
        return new Response("Not found\n", { status: 404 });
      }
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("MQTT over WebSocket only\n", {
          status: 426,
          headers: { upgrade: "websocket" },
        });
      }
      const offered = (request.headers.get("sec-websocket-protocol") ?? "")
        .split(",").map((p) => p.trim()).filter((p) => p !== "");
      const protocol = SUBPROTOCOLS.find((p) => offered.includes(p));
      if (offered.length > 0 && protocol === undefined) {
        return new Response("Subprotocol mqtt required\n", { status: 400 });
      }
      // Read the addresses first: they are gone once the request is upgraded.
      const remoteAddress = formatAddress(info.remoteAddr);
      const localAddress = formatAddress(this.#server.addr);
      const { socket, response } = Deno.upgradeWebSocket(
        request,
        protocol === undefined ? {} : { protocol },
      );
      options.serve(
        new WebSocketTransport(socket, {
          remoteAddress,
          localAddress,
          transport: kind,
          listener: this.name,
        }),
      );
      return response;
    };
    const base = {
      hostname: options.hostname,
      port: options.port,
      onListen: () => {},
      onError: (error: unknown) => {
        options.logger.error("websocket listener error", {
          listener: this.name,
          error,
        });
        return new Response("Internal error\n", { status: 500 });
      },
    };
    this.#server = options.tls === undefined
      ? Deno.serve(base, handler)
      : Deno.serve(
        { ...base, cert: options.tls.cert, key: options.tls.key },
        handler,
      );
    this.done = this.#server.finished;
  }

  get address(): BoundAddress {
    const addr = this.#server.addr;
    return { hostname: addr.hostname, port: addr.port };
  }

  /** Stops accepting; resolves when the HTTP server has finished. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      void this.#server.shutdown();
    }
    return this.done;
  }
}
