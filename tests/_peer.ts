/**
 * A raw MQTT test client over any byte transport: TLS, WebSocket (plain or
 * secure) or a pair of web streams given to `Server.handle`. Like
 * `TestClient` in `_client.ts`, it sends exact packets and collects what
 * comes back, so transport tests assert on exact packets.
 *
 * @module
 */

import {
  type ConnackPacket,
  type ConnectPacket,
  encodePacket,
  type Packet,
  PacketDecoder,
  type ProtocolVersion,
} from "../packets/mod.ts";
import type { Server } from "../mod.ts";

/** How a {@linkcode Peer} sends bytes and closes its transport. */
export interface PeerIo {
  send(bytes: Uint8Array): Promise<void>;
  /** Closes the transport; resolves once the peer has seen the end. */
  close(): Promise<void>;
}

/** One MQTT client connection over some transport. */
export class Peer implements AsyncDisposable {
  readonly #io: PeerIo;
  readonly #decoder = new PacketDecoder();
  readonly #packets: Packet[] = [];
  /** Who waits for the next packet or the end: `next`, `closed`... at once. */
  readonly #waiters = new Set<() => void>();
  #ended = false;
  #error: unknown;

  constructor(io: PeerIo) {
    this.#io = io;
  }

  /** Protocol level packets are decoded with; 4 until `connect` says. */
  get protocolVersion(): ProtocolVersion {
    return this.#decoder.protocolVersion;
  }

  set protocolVersion(value: ProtocolVersion) {
    this.#decoder.protocolVersion = value;
  }

  /** Takes bytes the server sent (called by the transport). */
  receive(bytes: Uint8Array): void {
    try {
      for (const p of this.#decoder.push(bytes)) this.#packets.push(p);
    } catch (error) {
      this.#error ??= error;
    }
    this.#wake();
  }

  /** Marks the connection ended (called by the transport). */
  end(error?: unknown): void {
    if (error !== undefined) this.#error ??= error;
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Encodes and sends a packet. */
  send(packet: Packet): Promise<void> {
    return this.#io.send(encodePacket(packet, this.protocolVersion));
  }

  /** Sends raw bytes (one WebSocket message per call over WebSocket). */
  sendBytes(bytes: Uint8Array): Promise<void> {
    return this.#io.send(bytes);
  }

  /**
   * Sends CONNECT (3.1.1, clean, keep-alive 0 unless given) and waits for
   * the CONNACK.
   */
  async connect(
    connect: Partial<Omit<ConnectPacket, "type">> = {},
  ): Promise<ConnackPacket> {
    const version = connect.protocolVersion ?? 4;
    this.protocolVersion = version;
    await this.send({
      type: "connect",
      protocolName: version === 3 ? "MQIsdp" : "MQTT",
      protocolVersion: version,
      clean: true,
      keepAlive: 0,
      clientId: "",
      ...connect,
    });
    const connack = await this.next();
    if (connack.type !== "connack") {
      throw new Error(`Expected CONNACK, got ${connack.type}`);
    }
    return connack;
  }

  /** The next packet; throws if none comes within `timeout` ms or the connection ends. */
  async next(timeout = 2000): Promise<Packet> {
    const deadline = Date.now() + timeout;
    while (this.#packets.length === 0) {
      if (this.#error !== undefined) {
        throw new Error(`Transport failed: ${this.#error}`);
      }
      if (this.#ended) {
        throw new Error("Connection closed while waiting for a packet");
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`No packet within ${timeout} ms`);
      await this.#wait(left);
    }
    return this.#packets.shift()!;
  }

  /** Asserts that no packet arrives within `ms` milliseconds. */
  async nothing(ms = 100): Promise<void> {
    const deadline = Date.now() + ms;
    while (
      this.#packets.length === 0 && Date.now() < deadline && !this.#ended
    ) {
      await this.#wait(deadline - Date.now());
    }
    if (this.#packets.length > 0) {
      throw new Error(`Expected no packet, got ${this.#packets[0]!.type}`);
    }
  }

  /**
   * Asserts that the server has nothing more for this client: a PINGREQ is
   * answered by the very next packet (the server answers a connection's
   * packets in order, after whatever it wrote to it before), and no packet
   * follows within `ms` milliseconds, for work the server does later (such
   * as retained messages sent in slices). Needs a connected client, and
   * moves its keep-alive.
   */
  async nothingPending(ms = 10): Promise<void> {
    if (this.#packets.length > 0) {
      throw new Error(`Expected no packet, got ${this.#packets[0]!.type}`);
    }
    await this.send({ type: "pingreq" });
    const answer = await this.next();
    if (answer.type !== "pingresp") {
      throw new Error(`Expected no packet, got ${answer.type}`);
    }
    await this.nothing(ms);
  }

  /** Resolves once the server has closed the connection, or throws after `timeout` ms. */
  async closed(timeout = 2000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!this.#ended) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`Connection still open after ${timeout} ms`);
      }
      await this.#wait(left);
    }
  }

  /** Whether the connection has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The first transport or decoding error, if any. */
  get error(): unknown {
    return this.#error;
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        resolve();
      }, ms);
      this.#waiters.add(wake);
    });
  }

  /** Closes the transport and waits until it is closed. */
  close(): Promise<void> {
    return this.#io.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Reads a `Deno.Conn` into `peer` until it ends. */
async function pump(conn: Deno.Conn, peer: Peer): Promise<void> {
  const buffer = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      peer.receive(buffer.slice(0, n));
    }
    peer.end();
  } catch (error) {
    // A reset or our own close: the connection is over either way.
    peer.end(error instanceof Deno.errors.BadResource ? undefined : error);
  }
}

/**
 * Wires a connection to a peer: its bytes are read into the peer until the
 * connection ends; `close()` closes it and waits for the reader.
 */
export function peerOnConn<P extends Peer>(
  conn: Deno.Conn,
  make: (io: PeerIo) => P,
): P {
  const peer = make({
    async send(bytes) {
      let written = 0;
      while (written < bytes.length) {
        written += await conn.write(bytes.subarray(written));
      }
    },
    async close() {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
      await reading;
    },
  });
  const reading = pump(conn, peer);
  return peer;
}

/** Connects over TLS to 127.0.0.1, trusting `caCert`. */
export async function connectTls(port: number, caCert: string): Promise<Peer> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [caCert],
  });
  await conn.handshake();
  return peerOnConn(conn, (io) => new Peer(io));
}

/** A {@linkcode Peer} over a WebSocket, with the socket itself. */
export interface WebSocketPeer {
  readonly peer: Peer;
  readonly socket: WebSocket;
}

/**
 * Opens a WebSocket offering `protocols` ("mqtt" by default), binary type
 * `arraybuffer`, and waits until it is open. Each `sendBytes` is one binary
 * message; a text message from the server fails the peer [MQTT-6.0.0-1].
 *
 * @throws {Error} If the socket closes before it opens.
 */
export async function connectWebSocket(
  url: string,
  options: { protocols?: string[]; caCert?: string } = {},
): Promise<WebSocketPeer> {
  const client = options.caCert === undefined
    ? undefined
    : Deno.createHttpClient({ caCerts: [options.caCert] });
  const socket = new WebSocket(url, {
    protocols: options.protocols ?? ["mqtt"],
    ...(client === undefined ? {} : { client }),
  });
  socket.binaryType = "arraybuffer";
  const { promise: closed, resolve: onClosed } = Promise.withResolvers<
    void
  >();
  const peer = new Peer({
    send(bytes) {
      socket.send(bytes);
      return Promise.resolve();
    },
    async close() {
      if (socket.readyState !== WebSocket.CLOSED) socket.close();
      await closed;
    },
  });
  socket.onclose = () => {
    client?.close();
    peer.end();
    onClosed();
  };
  socket.onmessage = (event) => {
    if (event.data instanceof ArrayBuffer) {
      peer.receive(new Uint8Array(event.data));
    } else {
      peer.end(new Error("Received a text WebSocket frame"));
    }
  };
  const opened = await new Promise<boolean>((resolve) => {
    socket.onopen = () => resolve(true);
    socket.onerror = () => resolve(false);
  });
  socket.onerror = () => {};
  if (!opened) {
    await closed;
    throw new Error(`Cannot open WebSocket ${url}`);
  }
  return { peer, socket };
}

/** A {@linkcode Peer} served by `Server.handle`, and that call's promise. */
export interface StreamPeer<P extends Peer = Peer> {
  readonly peer: P;
  /** What `server.handle()` returned: resolves once the server is done. */
  readonly served: Promise<void>;
}

/**
 * Connects a peer to `server` through an in-memory pipe made of two
 * `TransformStream`s, with `server.handle()`: no socket, no port. A write
 * resolves once the server has read it.
 *
 * @param remoteAddress What the server is told the peer's address is.
 */
export function connectStream(
  server: Server,
  remoteAddress = "pipe",
): StreamPeer {
  return peerOnStream(server, (io) => new Peer(io), remoteAddress);
}

/** {@linkcode connectStream} with a peer of a class of one's own. */
export function peerOnStream<P extends Peer>(
  server: Server,
  make: (io: PeerIo) => P,
  remoteAddress: string,
): StreamPeer<P> {
  const toServer = new TransformStream<Uint8Array, Uint8Array>();
  const toClient = new TransformStream<Uint8Array, Uint8Array>();
  const served = server.handle({
    readable: toServer.readable,
    writable: toClient.writable,
  }, { remoteAddress });
  const writer = toServer.writable.getWriter();
  const reader = toClient.readable.getReader();
  const peer = make({
    send: (bytes) => writer.write(bytes),
    async close() {
      await writer.close().catch(() => {});
      await reading;
      await served;
    },
  });
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        peer.receive(value.slice());
      }
      peer.end();
    } catch (error) {
      peer.end(error);
    }
  })();
  return { peer, served };
}
