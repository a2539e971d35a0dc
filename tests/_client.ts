/**
 * A raw MQTT test client over TCP, built on the codec, and a helper that
 * runs a server on a free loopback port. Tests send exact packets (or bytes)
 * and assert on exactly what comes back.
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
import { Server, type ServerOptions } from "../mod.ts";

/** A server on 127.0.0.1 with a free port, stopped by `await using`. */
export interface TestServer extends AsyncDisposable {
  readonly server: Server;
  readonly port: number;
}

/** Starts a server with one TCP listener on 127.0.0.1 port 0. */
export async function startServer(
  options: ServerOptions = {},
): Promise<TestServer> {
  const server = new Server(options);
  server.listen({ hostname: "127.0.0.1", port: 0 });
  await server.start();
  const port = server.addresses[0]!.port;
  return {
    server,
    port,
    [Symbol.asyncDispose]: () => server.stop({ timeout: 2000 }),
  };
}

/** A client that sends and receives whole packets. */
export class TestClient implements AsyncDisposable {
  readonly #conn: Deno.TcpConn;
  readonly #decoder: PacketDecoder;
  readonly #packets: Packet[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #error: unknown;
  readonly #reading: Promise<void>;
  protocolVersion: ProtocolVersion;

  private constructor(conn: Deno.TcpConn, protocolVersion: ProtocolVersion) {
    this.#conn = conn;
    this.protocolVersion = protocolVersion;
    this.#decoder = new PacketDecoder({ protocolVersion });
    this.#reading = this.#read();
  }

  /** Opens a TCP connection; sends nothing. */
  static async open(
    port: number,
    protocolVersion: ProtocolVersion = 4,
  ): Promise<TestClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new TestClient(conn, protocolVersion);
  }

  /**
   * Opens a connection, sends CONNECT (3.1.1, clean, keep-alive 0 unless
   * given) and waits for the CONNACK.
   */
  static async connect(
    port: number,
    connect: Partial<Omit<ConnectPacket, "type">> = {},
  ): Promise<{ client: TestClient; connack: ConnackPacket }> {
    const version = connect.protocolVersion ?? 4;
    const client = await TestClient.open(port, version);
    const packet: ConnectPacket = {
      type: "connect",
      protocolName: version === 3 ? "MQIsdp" : "MQTT",
      protocolVersion: version,
      clean: true,
      keepAlive: 0,
      clientId: "",
      ...connect,
    };
    await client.send(packet);
    const connack = await client.next();
    if (connack.type !== "connack") {
      throw new Error(`Expected CONNACK, got ${connack.type}`);
    }
    return { client, connack };
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        this.#decoder.protocolVersion = this.protocolVersion;
        // The decoder's packets view the chunk: give it its own copy.
        for (const p of this.#decoder.push(buffer.slice(0, n))) {
          this.#packets.push(p);
        }
        this.#wake();
      }
    } catch (error) {
      this.#error = error;
    }
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Encodes and sends a packet. */
  async send(packet: Packet): Promise<void> {
    await this.sendBytes(encodePacket(packet, this.protocolVersion));
  }

  /** Sends raw bytes. */
  async sendBytes(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  /** The next packet; throws if none comes within `timeout` ms or the connection ends. */
  async next(timeout = 2000): Promise<Packet> {
    const deadline = Date.now() + timeout;
    while (this.#packets.length === 0) {
      if (this.#ended) {
        throw new Error(
          `Connection closed while waiting for a packet${
            this.#error ? `: ${this.#error}` : ""
          }`,
        );
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
      throw new Error(
        `Expected no packet, got ${JSON.stringify(this.#packets[0], replacer)}`,
      );
    }
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

  /** Whether the server closed the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve();
      }, ms);
      this.#waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Closes the connection and waits for the reader to stop. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // Closed by the server already.
    }
    await this.#reading;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
}
