import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { encodePacket } from "../packets/mod.ts";
import { startServer, TestClient } from "./_client.ts";
import { waitFor } from "./_harness.ts";
import type { DropReason } from "../mod.ts";

/** Connects and subscribes without ever reading what the server sends. */
async function silentSubscriber(
  port: number,
  clientId: string,
  topicFilter: string,
): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encodePacket({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId,
  }));
  await conn.write(encodePacket({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter, qos: 0 }],
  }));
  return conn;
}

Deno.test("Server drops QoS 0 messages to a subscriber that stops reading, and keeps serving the others", async () => {
  const drops: [string | undefined, DropReason][] = [];
  await using s = await startServer({
    maxOutputBuffer: 4 * 1024 * 1024,
    hooks: {
      onMessageDropped(clientId, _message, reason) {
        drops.push([clientId, reason]);
      },
    },
  });
  const slow = await silentSubscriber(s.port, "slow", "flood");
  try {
    const { client: fast } = await TestClient.connect(s.port, {
      clientId: "fast",
    });
    await using _ = fast;
    await fast.send({
      type: "subscribe",
      packetId: 1,
      subscriptions: [{ topicFilter: "flood", qos: 0 }],
    });
    strictEqual((await fast.next()).type, "suback");
    await waitFor(() =>
      s.server.subscriptions({ topic: "flood" }).length === 2
    );

    // 2000 x 16 KiB = 32 MiB: far more than the socket buffers and the
    // output limit hold. The reading client takes each batch of 50 before
    // the next is published.
    const count = 2000;
    const payload = new Uint8Array(16 * 1024);
    for (let batch = 0; batch < count; batch += 50) {
      for (let i = batch; i < batch + 50; i++) {
        payload[0] = i & 0xff;
        await s.server.publish({ topic: "flood", payload });
      }
      for (let i = batch; i < batch + 50; i++) {
        const p = await fast.next();
        ok(p.type === "publish" && p.payload[0] === (i & 0xff), `message ${i}`);
      }
    }
    ok(drops.length > 0, "the slow subscriber's messages are dropped");
    ok(
      drops.every(([id, reason]) => id === "slow" && reason === "output_full"),
    );
    const slowInfo = s.server.client("slow");
    strictEqual(slowInfo?.messagesOut! + slowInfo?.messagesDropped!, count);
    deepStrictEqual(
      s.server.metrics().messagesDroppedByReason.output_full,
      drops.length,
    );
  } finally {
    slow.close();
  }
});
