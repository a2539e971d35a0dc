/**
 * A raw MQTT test client, built on the codec, and helpers that run a server
 * for it: over TCP on a free loopback port, or over in-memory pipes given to
 * `Server.handle()` for tests of the broker's semantics, where no socket is
 * needed. Tests send exact packets (or bytes) and assert on exactly what
 * comes back.
 *
 * @module
 */

import type {
  ConnackPacket,
  ConnectPacket,
  ProtocolVersion,
} from "../packets/mod.ts";
import { Server, type ServerOptions } from "../mod.ts";
import { Peer, peerOnConn, peerOnStream } from "./_peer.ts";

/** The CONNECT fields a test sets; the rest have defaults. */
export type ConnectFields = Partial<Omit<ConnectPacket, "type">>;

/** A started server that test clients connect to, stopped by `await using`. */
export interface TestServer extends AsyncDisposable {
  readonly server: Server;
  /** Opens a connection; sends nothing. */
  open(protocolVersion?: ProtocolVersion): Promise<TestClient>;
  /**
   * Opens a connection, sends CONNECT (3.1.1, clean, keep-alive 0 unless
   * given) and waits for the CONNACK.
   */
  connect(
    connect?: ConnectFields,
  ): Promise<{ client: TestClient; connack: ConnackPacket }>;
}

/** A {@linkcode TestServer} with one TCP listener. */
export interface TcpTestServer extends TestServer {
  readonly port: number;
}

/** Starts a server with one TCP listener on 127.0.0.1 port 0. */
export async function startServer(
  options: ServerOptions = {},
): Promise<TcpTestServer> {
  const server = new Server(options);
  server.listen({ hostname: "127.0.0.1", port: 0 });
  await server.start();
  const port = server.addresses[0]!.port;
  return {
    server,
    port,
    open: (protocolVersion) => TestClient.open(port, protocolVersion),
    connect: (connect) => TestClient.connect(port, connect),
    [Symbol.asyncDispose]: () => server.stop({ timeout: 2000 }),
  };
}

/**
 * Starts a server with no listener; each client is an in-memory pipe served
 * by `server.handle()`, its remote address "pipe:1", "pipe:2"... in the
 * order the clients open.
 */
export async function startPipeServer(
  options: ServerOptions = {},
): Promise<TestServer> {
  const server = new Server(options);
  await server.start();
  let opened = 0;
  const open = (protocolVersion: ProtocolVersion = 4) => {
    const { peer } = peerOnStream(
      server,
      (io) => new TestClient(io),
      `pipe:${++opened}`,
    );
    peer.protocolVersion = protocolVersion;
    return Promise.resolve(peer);
  };
  return {
    server,
    open,
    async connect(connect = {}) {
      const client = await open(connect.protocolVersion ?? 4);
      const connack = await client.connect(connect);
      return { client, connack };
    },
    [Symbol.asyncDispose]: () => server.stop({ timeout: 2000 }),
  };
}

/** A client that sends and receives whole packets, over TCP or a pipe. */
export class TestClient extends Peer {
  /** Opens a TCP connection; sends nothing. */
  static async open(
    port: number,
    protocolVersion: ProtocolVersion = 4,
  ): Promise<TestClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    const client = peerOnConn(conn, (io) => new TestClient(io));
    client.protocolVersion = protocolVersion;
    return client;
  }

  /**
   * Opens a TCP connection, sends CONNECT (3.1.1, clean, keep-alive 0
   * unless given) and waits for the CONNACK.
   */
  static async connect(
    port: number,
    connect: ConnectFields = {},
  ): Promise<{ client: TestClient; connack: ConnackPacket }> {
    const client = await TestClient.open(port, connect.protocolVersion ?? 4);
    const connack = await client.connect(connect);
    return { client, connack };
  }
}
