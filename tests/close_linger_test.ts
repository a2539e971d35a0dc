/**
 * A client the server disconnects can read why: the DISCONNECT is written,
 * the write side closed, and what the client still sends is drained for a
 * while rather than answered with a reset.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { encodePacket, type Packet, PacketDecoder } from "../packets/mod.ts";
import { Server } from "../mod.ts";
import { startServer, TestClient } from "./_client.ts";
import { connectWebSocket, type Peer } from "./_peer.ts";
import { createTestCertificate } from "./_tls.ts";

const TLS = await createTestCertificate();

/** Reads until the end; the bytes, and the error that ended it, if any. */
async function readToEnd(
  conn: Deno.Conn,
): Promise<{ packets: Packet[]; error: unknown }> {
  const decoder = new PacketDecoder();
  decoder.protocolVersion = 5;
  const packets: Packet[] = [];
  const buffer = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return { packets, error: undefined };
      packets.push(...decoder.push(buffer.subarray(0, n)));
    }
  } catch (error) {
    return { packets, error };
  }
}

Deno.test("Server lets a 5.0 client that floods past its Receive Maximum read DISCONNECT 0x93 and a clean end", async () => {
  await using s = await startServer({ receiveMaximum: 2 });
  const connect = encodePacket({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 5,
    clean: true,
    keepAlive: 0,
    clientId: "flood",
  }, 5);
  const publish = (packetId: number): Uint8Array =>
    encodePacket({
      type: "publish",
      topic: "flood/topic",
      payload: new Uint8Array(64),
      qos: 2,
      retain: false,
      dup: false,
      packetId,
    }, 5);
  // About 8 MB of QoS 2 PUBLISH, more than the socket buffers hold, none released: far past the maximum.
  const one = publish(1);
  const flood = new Uint8Array(connect.length + 100_000 * one.length);
  flood.set(connect);
  for (let i = 0; i < 100_000; i++) {
    flood.set(publish(i % 65535 + 1), connect.length + i * one.length);
  }
  for (let run = 0; run < 20; run++) {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
    // Everything at once, without reading first.
    const writing = (async () => {
      let written = 0;
      while (written < flood.length) {
        written += await conn.write(flood.subarray(written));
      }
    })().then(() => undefined, (error: unknown) => error);
    const { packets, error } = await readToEnd(conn);
    strictEqual(error, undefined, `run ${run}: ${error}`);
    deepStrictEqual(
      packets.map((p) => p.type),
      ["connack", "pubrec", "pubrec", "disconnect"],
      `run ${run}`,
    );
    const last = packets.at(-1)!;
    ok(last.type === "disconnect");
    strictEqual(last.reasonCode, 0x93);
    // The server read what it was sent: the writes did not fail either.
    strictEqual(await writing, undefined, `run ${run}`);
  }
});

Deno.test("Server.stop() sends DISCONNECT 0x8B to 5.0 clients over TCP, WebSocket and secure WebSocket before the end", async () => {
  for (let run = 0; run < 3; run++) {
    const server = new Server();
    server.listen({ hostname: "127.0.0.1", port: 0 });
    server.listen({ hostname: "127.0.0.1", port: 0, websocket: true });
    server.listen({
      hostname: "127.0.0.1",
      port: 0,
      websocket: true,
      cert: TLS.cert,
      key: TLS.key,
    });
    await server.start();
    const [tcpPort, wsPort, wssPort] = server.addresses.map((a) => a.port);
    const peers: Peer[] = [];
    try {
      const tcp = await TestClient.open(tcpPort!, 5);
      peers.push(tcp);
      const { peer: ws } = await connectWebSocket(
        `ws://127.0.0.1:${wsPort}/mqtt`,
      );
      peers.push(ws);
      const { peer: wss } = await connectWebSocket(
        `wss://127.0.0.1:${wssPort}/mqtt`,
        { caCert: TLS.cert },
      );
      peers.push(wss);
      for (const [i, peer] of peers.entries()) {
        const connack = await peer.connect({
          clientId: `c${i}`,
          protocolVersion: 5,
        });
        strictEqual(connack.reasonCode, 0);
      }
      await server.stop({ timeout: 3000 });
      for (const peer of peers) {
        await peer.closed(1000);
        deepStrictEqual(await peer.next(0), {
          type: "disconnect",
          reasonCode: 0x8b,
          properties: {},
        });
      }
    } finally {
      for (const peer of peers) await peer.close();
      await server.stop();
    }
  }
});
