/**
 * A raw MQTT test client over TCP, built on the codec, and a helper that
 * runs a server on a free loopback port. Tests send exact packets (or bytes)
 * and assert on exactly what comes back.
 *
 * @module
 */

import type {
  ConnackPacket,
  ConnectPacket,
  ProtocolVersion,
} from "../packets/mod.ts";
import { Server, type ServerOptions } from "../mod.ts";
import { Peer, peerOnConn } from "./_peer.ts";

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

/** A client that sends and receives whole packets over TCP. */
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
   * Opens a connection, sends CONNECT (3.1.1, clean, keep-alive 0 unless
   * given) and waits for the CONNACK.
   */
  static async connect(
    port: number,
    connect: Partial<Omit<ConnectPacket, "type">> = {},
  ): Promise<{ client: TestClient; connack: ConnackPacket }> {
    const client = await TestClient.open(port, connect.protocolVersion ?? 4);
    const connack = await client.connect(connect);
    return { client, connack };
  }
}
