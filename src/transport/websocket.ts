/**
 * WebSocket and secure WebSocket listeners (subprotocol `mqtt`), with the
 * broker's own HTTP/1.1 server and RFC 6455 framing over `Deno.listen` and
 * `Deno.listenTls` connections: frames are read only when the MQTT side asks
 * for bytes, messages are capped, and a closing connection frees its socket
 * within a short grace even if the peer never answers.
 *
 * @module
 */

import type { ConnectionInfo } from "../types.ts";
import type { Logger } from "../observe/logger.ts";
import type { Transport } from "./transport.ts";
import { HostLog } from "./_accept.ts";
import { formatAddress } from "./_address.ts";
import {
  CloseCode,
  closePayload,
  type ControlFrame,
  encodeFrame,
  FrameReader,
  WebSocketError,
} from "./_ws_frames.ts";
import { closeQuietly, HttpServer, HttpUpgrade, writeAll } from "./http1.ts";
import type { BoundAddress } from "./tcp.ts";

/** Subprotocols accepted, preferred first. */
const SUBPROTOCOLS = ["mqtt", "mqttv3.1"];

/** Accept-key suffix of RFC 6455. */
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * Bytes a WebSocket message may hold beyond the largest MQTT packet: room
 * for a client that puts a small packet in the same message as a full-size
 * one.
 */
export const WS_MESSAGE_ALLOWANCE = 1024;

/** Milliseconds a closing WebSocket waits for the peer's close frame. */
export const WS_CLOSE_GRACE = 2000;

/** Bytes read into while waiting for the peer's close frame. */
const DRAIN_BUFFER = 512;

/**
 * A WebSocket connection as a broker transport. Each binary message is a
 * run of bytes of the MQTT stream: one message may hold several packets and
 * a packet may span messages. Frames are read when the connection asks for
 * bytes, so a connection that stops reading stops the peer (TCP
 * backpressure). Output goes out as one binary frame per write.
 */
export class WebSocketTransport implements Transport {
  readonly info: ConnectionInfo;
  readonly flush = "macrotask" as const;
  readonly reusesWrittenBytes = true;
  readonly #conn: Deno.Conn;
  readonly #frames: FrameReader;
  readonly #closeGrace: number;
  /** Bytes read with the upgrade request, not decoded yet. */
  #head: Uint8Array | undefined;
  /** The chain of writes: one write on the socket at a time. */
  #writing: Promise<boolean> = Promise.resolve(true);
  #reading = false;
  /** Set once a close frame was sent or received. */
  #closing = false;
  #closeSent = false;
  /** Set once the socket is closed. */
  #ended = false;
  #error: Error | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    conn: Deno.Conn,
    info: ConnectionInfo,
    options: { maxMessage: number; head?: Uint8Array; closeGrace?: number },
  ) {
    this.#conn = conn;
    this.info = info;
    this.#frames = new FrameReader(options.maxMessage);
    this.#closeGrace = options.closeGrace ?? WS_CLOSE_GRACE;
    if (options.head !== undefined && options.head.length > 0) {
      this.#head = options.head;
    }
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    this.#reading = true;
    try {
      while (true) {
        if (this.#error !== undefined) throw this.#error;
        if (this.#closing || this.#ended) return null;
        let n: number | null;
        try {
          this.#frames.check();
        } catch (error) {
          const failure = error as WebSocketError;
          this.#error = failure;
          this.#fail(failure.code);
          throw error;
        }
        const head = this.#head;
        if (head !== undefined) {
          n = Math.min(head.length, buffer.length);
          buffer.set(head.subarray(0, n));
          this.#head = n === head.length ? undefined : head.subarray(n);
        } else {
          try {
            n = await this.#conn.read(buffer);
          } catch (error) {
            if (this.#closing || this.#ended) return null;
            throw error;
          }
        }
        if (n === null) {
          this.#destroy();
          return null;
        }
        let out: number;
        try {
          out = this.#frames.read(buffer, n, (frame) => this.#control(frame));
        } catch (error) {
          if (!(error instanceof WebSocketError)) throw error;
          this.#error = error;
          this.#fail(error.code);
          throw error;
        }
        if (out > 0 && !this.#closing) return out;
      }
    } finally {
      this.#reading = false;
      // The connection closed while this read was pending: wait for the
      // peer's close frame now that nobody else reads.
      if (this.#closing && !this.#ended) this.#drain();
    }
  }

  #control(frame: ControlFrame): void {
    if (frame.opcode === 0x9) {
      if (!this.#closing) this.#send(encodeFrame(0xa, frame.payload));
    } else if (frame.opcode === 0x8) {
      // The peer closes: answer with its code (if we have not sent ours),
      // then close the socket once the answer is out.
      const code = frame.payload.length >= 2
        ? (frame.payload[0]! << 8) | frame.payload[1]!
        : CloseCode.Normal;
      this.#closing = true;
      if (!this.#closeSent) {
        this.#closeSent = true;
        this.#send(encodeFrame(0x8, closePayload(validCode(code))));
      }
      this.#writing.then(() => this.#destroy(), () => this.#destroy());
    }
  }

  /** Queues bytes after the writes in progress. */
  #send(bytes: Uint8Array): Promise<boolean> {
    const conn = this.#conn;
    this.#writing = this.#writing.then(
      (ok) => ok && !this.#ended ? writeAll(conn, bytes) : false,
    );
    return this.#writing;
  }

  /**
   * Sends the bytes as one binary frame.
   *
   * @throws {Error} If the WebSocket is closing or the socket failed.
   */
  async write(bytes: Uint8Array): Promise<number> {
    if (this.#closing || this.#ended) throw new Error("WebSocket is closed");
    if (!await this.#send(encodeFrame(0x2, bytes))) {
      throw new Error("WebSocket is closed");
    }
    return bytes.length;
  }

  /**
   * Sends a close frame with the code; the socket closes when the peer
   * ends it or after the grace (what it sends meanwhile is dropped).
   */
  #fail(code: CloseCode): void {
    this.#closing = true;
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#send(encodeFrame(0x8, closePayload(code)));
    }
    this.#armTimer();
  }

  /**
   * Starts the close handshake: sends a close frame, then closes the socket
   * when the peer's close frame arrives or after the grace, whichever is
   * first. Pending reads resolve null.
   */
  close(): void {
    if (this.#ended) return;
    if (!this.#closing) {
      this.#closing = true;
      if (!this.#closeSent) {
        this.#closeSent = true;
        this.#send(encodeFrame(0x8, closePayload(CloseCode.Normal)));
      }
    }
    this.#armTimer();
    this.#drain();
  }

  #armTimer(): void {
    if (this.#timer !== undefined || this.#ended) return;
    this.#timer = setTimeout(() => this.#destroy(), this.#closeGrace);
  }

  /**
   * Reads until the peer's close frame (or the end), dropping data; after
   * a protocol error, until the end, without decoding.
   */
  #drain(): void {
    if (this.#reading || this.#ended) return;
    this.#reading = true;
    const scratch = new Uint8Array(DRAIN_BUFFER);
    const decode = this.#error === undefined;
    const loop = async (): Promise<void> => {
      while (!this.#ended) {
        const n = await this.#conn.read(scratch);
        if (n === null) break;
        if (decode) {
          this.#frames.read(scratch, n, (frame) => this.#control(frame));
        }
      }
    };
    const done = (): void => {
      this.#reading = false;
      this.#destroy();
    };
    // A failed read ends the socket as its end does.
    loop().then(done, done);
  }

  /** Closes the socket now. */
  #destroy(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#closing = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    closeQuietly(this.#conn);
  }
}

/** A close code that may be echoed back; others become 1002. */
function validCode(code: number): number {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
      (code >= 3000 && code <= 4999)
    ? code
    : CloseCode.ProtocolError;
}

/**
 * An HTTP server that upgrades requests to MQTT over WebSocket: on any path,
 * or on one path only when given.
 */
export class WebSocketListener {
  readonly #http: HttpServer;
  readonly #path: string | undefined;
  readonly #wrongPath: HostLog;
  readonly done: Promise<void>;
  /** Name in logs and hooks; may be set once the bound port is known. */
  name: string;
  #closing: Promise<void> | undefined;
  #resolveDone: () => void = () => {};

  constructor(
    options: {
      name: string;
      hostname: string;
      port: number;
      /** The only HTTP path upgraded; any path when undefined. */
      path?: string;
      tls?: { cert: string; key: string };
      logger: Logger;
      /** Largest MQTT packet, in bytes: messages may be this plus a little. */
      maxPacketSize: number;
      /** Milliseconds to receive the upgrade request. */
      headerTimeout: number;
      /** HTTP connections not yet upgraded, at most. */
      maxConnections?: number;
      closeGrace?: number;
      serve: (transport: Transport) => void;
    },
  ) {
    this.#path = options.path;
    this.name = options.name;
    this.#wrongPath = new HostLog(
      options.logger,
      "info",
      "websocket request to a wrong path",
    );
    const kind = options.tls === undefined ? "ws" : "wss";
    const listener = options.tls === undefined
      ? Deno.listen({ hostname: options.hostname, port: options.port })
      : Deno.listenTls({
        hostname: options.hostname,
        port: options.port,
        cert: options.tls.cert,
        key: options.tls.key,
      });
    const local = formatAddress(listener.addr);
    const maxMessage = options.maxPacketSize + WS_MESSAGE_ALLOWANCE;
    this.#http = new HttpServer(listener, {
      name: options.name,
      logger: options.logger,
      scheme: kind === "ws" ? "http" : "https",
      limits: {
        headerTimeout: options.headerTimeout,
        maxBodyBytes: 0,
        ...(options.maxConnections === undefined
          ? {}
          : { maxConnections: options.maxConnections }),
      },
      handler: async (request, info) => {
        const answer = await this.#upgrade(request, info);
        if (answer instanceof Response) return answer;
        const { headers } = answer;
        const remoteAddress = formatAddress(info.remoteAddr);
        return new HttpUpgrade(headers, (conn, head) => {
          options.serve(
            new WebSocketTransport(conn, {
              remoteAddress,
              localAddress: local,
              transport: kind,
              listener: this.name,
            }, {
              maxMessage,
              head,
              ...(options.closeGrace === undefined
                ? {}
                : { closeGrace: options.closeGrace }),
            }),
          );
        });
      },
    });
    this.done = new Promise((resolve) => this.#resolveDone = resolve);
  }

  /** Checks the upgrade request; the 101 headers, or a refusal. */
  async #upgrade(
    request: Request,
    info: { remoteAddr: Deno.Addr },
  ): Promise<Response | { headers: Headers }> {
    const url = new URL(request.url);
    if (this.#path !== undefined && url.pathname !== this.#path) {
      // Clients often default to "/": say which URL to use.
      this.#wrongPath.log(formatAddress(info.remoteAddr), {
        listener: this.name,
        path: url.pathname,
        expected: this.#path,
      });
      return new Response(`Not found: MQTT is served on ${this.#path}\n`, {
        status: 404,
      });
    }
    const headers = request.headers;
    if (headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("MQTT over WebSocket only\n", {
        status: 426,
        headers: { upgrade: "websocket" },
      });
    }
    const key = headers.get("sec-websocket-key") ?? "";
    if (
      request.method !== "GET" ||
      headers.get("sec-websocket-version") !== "13" ||
      !/^[A-Za-z0-9+/]{22}==$/.test(key)
    ) {
      return new Response("Bad WebSocket handshake\n", {
        status: 400,
        headers: { "sec-websocket-version": "13" },
      });
    }
    const offered = (headers.get("sec-websocket-protocol") ?? "")
      .split(",").map((p) => p.trim()).filter((p) => p !== "");
    const protocol = SUBPROTOCOLS.find((p) => offered.includes(p));
    if (offered.length > 0 && protocol === undefined) {
      return new Response("Subprotocol mqtt required\n", { status: 400 });
    }
    const digest = await crypto.subtle.digest(
      "SHA-1",
      new TextEncoder().encode(key + WS_GUID),
    );
    const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
    const answer = new Headers({
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-accept": accept,
    });
    if (protocol !== undefined) answer.set("sec-websocket-protocol", protocol);
    return { headers: answer };
  }

  get address(): BoundAddress {
    return this.#http.address;
  }

  /** Stops accepting; resolves when the HTTP server has finished. */
  close(): Promise<void> {
    this.#closing ??= this.#http.close().then(() => this.#resolveDone());
    return this.#closing;
  }
}
