/**
 * MQTT 5.0 topic aliases the server sets on what it sends: assigned,
 * reused, evicted, off when the client or the server says so, per
 * connection, and within the client's Maximum Packet Size. Over in-memory
 * pipes, but for the exact bytes, read from a socket.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  decodePacket,
  encodePacket,
  type Packet,
  type PublishPacket,
} from "../packets/mod.ts";
import {
  startPipeServer,
  startServer,
  type TestClient,
  type TestServer,
} from "./_client.ts";
import { publish, subscribe } from "./_pubsub.ts";

const TOPIC = "building/7/floor/3/room/12/temperature";

/** Connects a 5.0 client announcing `topicAliasMaximum`. */
async function connect5(
  s: TestServer,
  clientId: string,
  properties: { topicAliasMaximum?: number; maximumPacketSize?: number } = {},
  clean = true,
): Promise<TestClient> {
  const { client, connack } = await s.connect({
    protocolVersion: 5,
    clientId,
    clean,
    properties: { sessionExpiryInterval: clean ? 0 : 60, ...properties },
  });
  strictEqual(connack.reasonCode, 0);
  return client;
}

/** The next packet, which must be a PUBLISH. */
async function nextPublish(client: TestClient): Promise<PublishPacket> {
  const packet: Packet = await client.next();
  if (packet.type !== "publish") throw new Error(`Got ${packet.type}`);
  return packet;
}

/** Topic and alias of a PUBLISH. */
function aliasOf(p: PublishPacket): [string, number | undefined] {
  return [p.topic, p.properties?.topicAlias];
}

Deno.test("Server sends a topic with a new alias first, then the alias and an empty topic", async () => {
  await using s = await startServer();
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  const write = (p: Packet) => conn.write(encodePacket(p, 5));
  const buffer = new Uint8Array(4096);
  let have = 0;
  /** Reads exactly the next packet's bytes. */
  const nextBytes = async (): Promise<Uint8Array> => {
    while (true) {
      if (have >= 2) {
        let length = 0, shift = 0, at = 1;
        while (at < have) {
          const b = buffer[at++]!;
          length += (b & 0x7f) << shift;
          shift += 7;
          if ((b & 0x80) === 0) {
            if (have >= at + length) {
              const bytes = buffer.slice(0, at + length);
              buffer.copyWithin(0, at + length, have);
              have -= at + length;
              return bytes;
            }
            break;
          }
        }
      }
      const n = await conn.read(buffer.subarray(have));
      if (n === null) throw new Error("Connection closed");
      have += n;
    }
  };
  await write({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 5,
    clean: true,
    keepAlive: 0,
    clientId: "sub",
    properties: { topicAliasMaximum: 5 },
  });
  strictEqual(decodePacket(await nextBytes(), 5).type, "connack");
  await write({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter: "building/#", qos: 0 }],
  });
  strictEqual(decodePacket(await nextBytes(), 5).type, "suback");
  await s.server.publish({ topic: TOPIC, payload: "1" });
  await s.server.publish({ topic: TOPIC, payload: "2" });
  const topic = new TextEncoder().encode(TOPIC);
  // deno-fmt-ignore
  deepStrictEqual(await nextBytes(), Uint8Array.of(
    0x30, 2 + topic.length + 4 + 1, // PUBLISH QoS 0
    0x00, topic.length, ...topic,   // the topic
    0x03, 0x23, 0x00, 0x01,         // properties: Topic Alias 1
    0x31,                           // payload "1"
  ));
  // deno-fmt-ignore
  deepStrictEqual(await nextBytes(), Uint8Array.of(
    0x30, 0x07,                     // PUBLISH QoS 0, 7 bytes
    0x00, 0x00,                     // empty topic [MQTT-3.3.2-12]
    0x03, 0x23, 0x00, 0x01,         // properties: Topic Alias 1
    0x32,                           // payload "2"
  ));
});

Deno.test("Server reuses and evicts topic aliases, least recently sent first", async () => {
  await using s = await startPipeServer();
  await using sub = await connect5(s, "sub", { topicAliasMaximum: 2 });
  await subscribe(sub, [["t/#", 0]]);
  const sent: [string, number | undefined][] = [];
  for (const t of ["aaa", "bbb", "aaa", "ccc", "bbb", "ccc", "aaa"]) {
    await s.server.publish({ topic: `t/${t}`, payload: t });
    const p = await nextPublish(sub);
    deepStrictEqual(new TextDecoder().decode(p.payload), t);
    sent.push(aliasOf(p));
  }
  deepStrictEqual(sent, [
    ["t/aaa", 1],
    ["t/bbb", 2],
    ["", 1],
    ["t/ccc", 2], // t/bbb was sent least recently
    ["t/bbb", 1], // then t/aaa
    ["", 2],
    ["t/aaa", 1],
  ]);
});

Deno.test("Server sets at most topicAliasMaximumOut aliases, whatever the client allows", async () => {
  await using s = await startPipeServer({ topicAliasMaximumOut: 1 });
  await using sub = await connect5(s, "sub", { topicAliasMaximum: 100 });
  await subscribe(sub, [["t/#", 0]]);
  const sent: [string, number | undefined][] = [];
  for (const t of ["aaa", "bbb", "bbb"]) {
    await s.server.publish({ topic: `t/${t}`, payload: t });
    sent.push(aliasOf(await nextPublish(sub)));
  }
  deepStrictEqual(sent, [["t/aaa", 1], ["t/bbb", 1], ["", 1]]);
});

Deno.test("Server sends no topic alias to a 5.0 client that allows none or when topicAliasMaximumOut is 0", async () => {
  for (
    const [option, client] of [[10, undefined], [10, 0], [0, 10]] as const
  ) {
    await using s = await startPipeServer({ topicAliasMaximumOut: option });
    await using sub = await connect5(
      s,
      "sub",
      client === undefined ? {} : { topicAliasMaximum: client },
    );
    await subscribe(sub, [["t/#", 0]]);
    for (let i = 0; i < 2; i++) {
      await s.server.publish({ topic: "t/aaa", payload: "x" });
      deepStrictEqual(aliasOf(await nextPublish(sub)), ["t/aaa", undefined]);
    }
  }
});

Deno.test("Server shares no aliased PUBLISH bytes between subscribers and keeps 3.1.1 subscribers as they were", async () => {
  await using s = await startPipeServer();
  await using a = await connect5(s, "a", { topicAliasMaximum: 1 });
  await using b = await connect5(s, "b", { topicAliasMaximum: 1 });
  const { client: c } = await s.connect({ clientId: "c" });
  await using _c = c;
  await subscribe(a, [["t/#", 1]]);
  await subscribe(b, [["t/bbb", 1]]);
  await subscribe(c, [["t/#", 1]]);
  await s.server.publish({ topic: "t/aaa", payload: "1", qos: 1 });
  await s.server.publish({ topic: "t/bbb", payload: "2", qos: 1 });
  deepStrictEqual(aliasOf(await nextPublish(a)), ["t/aaa", 1]);
  deepStrictEqual(aliasOf(await nextPublish(a)), ["t/bbb", 1]);
  deepStrictEqual(aliasOf(await nextPublish(b)), ["t/bbb", 1]);
  const first = await nextPublish(c);
  const second = await nextPublish(c);
  deepStrictEqual([first.topic, second.topic], ["t/aaa", "t/bbb"]);
  deepStrictEqual([first.packetId, second.packetId], [1, 2]);
});

Deno.test("Server resends a message after reconnection with the topic, not an alias of the old connection", async () => {
  await using s = await startPipeServer();
  const first = await connect5(s, "sub", { topicAliasMaximum: 5 }, false);
  await subscribe(first, [["t/#", 1]]);
  await s.server.publish({ topic: "t/aaa", payload: "1", qos: 1 });
  await s.server.publish({ topic: "t/aaa", payload: "2", qos: 1 });
  deepStrictEqual(aliasOf(await nextPublish(first)), ["t/aaa", 1]);
  deepStrictEqual(aliasOf(await nextPublish(first)), ["", 1]);
  // Not acknowledged: both are resent on the next connection.
  await first.close();
  await using second = await connect5(
    s,
    "sub",
    { topicAliasMaximum: 5 },
    false,
  );
  const resent = [await nextPublish(second), await nextPublish(second)];
  deepStrictEqual(resent.map((p) => [p.dup, ...aliasOf(p)]), [
    [true, "t/aaa", 1],
    [true, "", 1],
  ]);
});

Deno.test("Server sends a topic in full when its alias would make the PUBLISH larger than the client takes", async () => {
  await using s = await startPipeServer();
  // PUBLISH QoS 0 "t/aaa" "x": 2 + 7 + 1 + 1 = 11 bytes; 14 with an alias.
  await using sub = await connect5(s, "sub", {
    topicAliasMaximum: 5,
    maximumPacketSize: 11,
  });
  await subscribe(sub, [["t/#", 0]]);
  await s.server.publish({ topic: "t/aaa", payload: "x" });
  await s.server.publish({ topic: "t/aaa", payload: "x" });
  deepStrictEqual(aliasOf(await nextPublish(sub)), ["t/aaa", undefined]);
  deepStrictEqual(aliasOf(await nextPublish(sub)), ["t/aaa", undefined]);
  // The client never learnt an alias; it still gets only what fits.
  await s.server.publish({ topic: "t/aaa", payload: "too long" });
  await s.server.publish({ topic: "t/aaa", payload: "y" });
  deepStrictEqual(
    new TextDecoder().decode((await nextPublish(sub)).payload),
    "y",
  );
  await sub.nothingPending();
});

Deno.test("Server sends a topic alias to a PUBLISH routed from a client", async () => {
  await using s = await startPipeServer();
  await using sub = await connect5(s, "sub", { topicAliasMaximum: 5 });
  const { client: pub } = await s.connect({ clientId: "p" });
  await using _pub = pub;
  await subscribe(sub, [["t/#", 0]]);
  await pub.send(publish({ topic: "t/aaa", payload: "1" }));
  await pub.send(publish({ topic: "t/aaa", payload: "2" }));
  deepStrictEqual(aliasOf(await nextPublish(sub)), ["t/aaa", 1]);
  deepStrictEqual(aliasOf(await nextPublish(sub)), ["", 1]);
});
