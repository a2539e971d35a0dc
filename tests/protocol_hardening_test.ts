/**
 * A hostile client against the protocol: oversized error messages, illegal
 * reason codes, topic level and subscription limits, `$SYS` publishing and
 * the keep-alive held for 3.1.1 clients, over in-memory pipes.
 */

import {
  deepStrictEqual,
  ok,
  rejects,
  strictEqual,
  throws,
} from "node:assert/strict";
import type { Packet } from "../packets/mod.ts";
import {
  startPipeServer,
  type TestClient,
  type TestServer,
} from "./_client.ts";
import { connectBytes, FakeClock, sleep } from "./_harness.ts";
import { connect, publish, subscribe } from "./_pubsub.ts";

const utf8 = new TextEncoder();

/** A remaining length as a variable byte integer. */
function varInt(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** A packet from its first byte and body, for bodies the encoder refuses. */
function rawPacket(first: number, body: number[] | Uint8Array): Uint8Array {
  const head = [first, ...varInt(body.length)];
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

/** A 5.0 QoS 0 PUBLISH body with any topic and no properties. */
function publishBody(topic: string): Uint8Array {
  const t = utf8.encode(topic);
  return Uint8Array.of(t.length >> 8, t.length & 0xff, ...t, 0x00);
}

/** A 5.0 SUBSCRIBE body (packet id 1) with one filter of any text. */
function subscribeBody(filter: string): Uint8Array {
  const f = utf8.encode(filter);
  return Uint8Array.of(0, 1, 0x00, f.length >> 8, f.length & 0xff, ...f, 0);
}

/** Asserts the next packet is a DISCONNECT with `code`, then the close. */
async function disconnected(client: TestClient, code: number): Promise<Packet> {
  const packet = await client.next();
  strictEqual(packet.type, "disconnect");
  strictEqual(packet.type === "disconnect" && packet.reasonCode, code);
  await client.closed();
  return packet;
}

/** Asserts the server still answers a new client. */
async function stillServing(s: TestServer): Promise<void> {
  await using other = await connect(s, { clientId: "other" });
  await other.send({ type: "pingreq" });
  deepStrictEqual(await other.next(), { type: "pingresp" });
}

function reasonBytes(packet: Packet): number {
  const reason = packet.type === "disconnect"
    ? packet.properties?.reasonString
    : undefined;
  return reason === undefined ? 0 : utf8.encode(reason).length;
}

Deno.test("Server answers a 5.0 PUBLISH to a 64 KB wildcard topic with a short DISCONNECT and keeps serving", async () => {
  await using s = await startPipeServer();
  await using client = await connect(s, {
    clientId: "big",
    protocolVersion: 5,
  });
  await client.sendBytes(rawPacket(0x30, publishBody("+" + "a".repeat(65500))));
  const packet = await disconnected(client, 0x90);
  ok(reasonBytes(packet) > 0 && reasonBytes(packet) <= 256);
  await stillServing(s);
});

Deno.test("Server answers a 5.0 SUBSCRIBE to a 64 KB invalid filter with a short DISCONNECT and keeps serving", async () => {
  await using s = await startPipeServer();
  await using client = await connect(s, {
    clientId: "big",
    protocolVersion: 5,
  });
  await client.sendBytes(
    rawPacket(0x82, subscribeBody("a#" + "b".repeat(65500))),
  );
  const packet = await client.next();
  strictEqual(packet.type, "disconnect");
  ok(reasonBytes(packet) > 0 && reasonBytes(packet) <= 256);
  await client.closed();
  await stillServing(s);
});

Deno.test("Server leaves the reason string out of a DISCONNECT larger than the client's Maximum Packet Size [MQTT-3.14.2-3]", async () => {
  await using s = await startPipeServer();
  await using client = await connect(s, {
    clientId: "small",
    protocolVersion: 5,
    properties: { maximumPacketSize: 16 },
  });
  await client.sendBytes(rawPacket(0x30, publishBody("a/+")));
  const packet = await disconnected(client, 0x90);
  strictEqual(reasonBytes(packet), 0);
});

Deno.test("Server answers a second CONNECT of protocol level 6 on a 5.0 connection with DISCONNECT 0x82 and keeps serving", async () => {
  await using s = await startPipeServer();
  await using client = await connect(s, {
    clientId: "again",
    protocolVersion: 5,
  });
  await client.sendBytes(connectBytes({ level: 6 }));
  await disconnected(client, 0x82);
  await stillServing(s);
});

Deno.test("Server closes a connection whose SUBSCRIBE lists more than maxFiltersPerSubscribe filters (0x97 in 5.0)", async () => {
  await using s = await startPipeServer({ maxFiltersPerSubscribe: 2 });
  await using v5 = await connect(s, {
    clientId: "v5",
    protocolVersion: 5,
  });
  await v5.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: ["a", "b", "c"].map((f) => ({ topicFilter: f, qos: 0 })),
    properties: {},
  });
  await disconnected(v5, 0x97);
  await using v4 = await connect(s, { clientId: "v4" });
  await v4.send({
    type: "unsubscribe",
    packetId: 1,
    topicFilters: ["a", "b", "c"],
  });
  await v4.closed();
  await using ok2 = await connect(s, { clientId: "two" });
  deepStrictEqual((await subscribe(ok2, [["a", 0], ["b", 0]])).reasonCodes, [
    0,
    0,
  ]);
});

Deno.test("Server refuses in SUBACK a filter past maxSubscriptionsPerClient, and still lets one be replaced", async () => {
  await using s = await startPipeServer({ maxSubscriptionsPerClient: 2 });
  await using v5 = await connect(s, {
    clientId: "v5",
    protocolVersion: 5,
  });
  deepStrictEqual(
    (await subscribe(v5, [["a", 0], ["b", 0], ["c", 0]], { properties: {} }))
      .reasonCodes,
    [0, 0, 0x97],
  );
  deepStrictEqual(
    (await subscribe(v5, [["a", 1]], { properties: {} })).reasonCodes,
    [1],
  );
  await using v4 = await connect(s, { clientId: "v4" });
  deepStrictEqual(
    (await subscribe(v4, [["a", 0], ["b", 0], ["c", 0]])).reasonCodes,
    [0, 0, 0x80],
  );
  throws(
    () => s.server.subscribe("v4", [{ topicFilter: "d", qos: 0 }]),
    (e) =>
      e instanceof RangeError && /maxSubscriptionsPerClient/.test(e.message),
  );
  deepStrictEqual(s.server.subscribe("v4", [{ topicFilter: "a", qos: 1 }]), [
    false,
  ]);
});

Deno.test("Server answers each position of a SUBSCRIBE that lists a filter twice, the last options winning", async () => {
  await using s = await startPipeServer();
  await using client = await connect(s, { clientId: "dup" });
  deepStrictEqual(
    (await subscribe(client, [["a", 0], ["b", 1], ["a", 2]])).reasonCodes,
    [2, 1, 2],
  );
  deepStrictEqual(
    s.server.subscriptions({ clientId: "dup" }).map((
      x,
    ) => [x.topicFilter, x.qos]).sort(),
    [["a", 2], ["b", 1]],
  );
});

Deno.test("Server refuses a PUBLISH topic deeper than maxTopicLevels: DISCONNECT 0x90 in 5.0, close in 3.1.1", async () => {
  await using s = await startPipeServer({ maxTopicLevels: 3 });
  await using v5 = await connect(s, {
    clientId: "v5",
    protocolVersion: 5,
  });
  await v5.send(publish({ topic: "a/b/c", properties: {} }));
  await v5.send(publish({ topic: "a/b/c/d", properties: {} }));
  await disconnected(v5, 0x90);
  await using v4 = await connect(s, { clientId: "v4" });
  await v4.send(publish({ topic: "a/b/c/d" }));
  await v4.closed();
});

Deno.test("Server refuses a will topic deeper than maxTopicLevels: CONNACK 0x90 in 5.0, close without CONNACK in 3.1.1", async () => {
  await using s = await startPipeServer({ maxTopicLevels: 3 });
  const will = {
    topic: "a/b/c/d",
    payload: new Uint8Array(0),
    qos: 0 as const,
    retain: false,
  };
  const { client: v5, connack } = await s.connect({
    clientId: "v5",
    protocolVersion: 5,
    will: { ...will, properties: {} },
  });
  await using _v5 = v5;
  strictEqual(connack.reasonCode, 0x90);
  await using v4 = await s.open();
  await v4.send({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId: "v4",
    will,
  });
  await v4.closed();
  await rejects(v4.next(50));
});

Deno.test("Server refuses in SUBACK a filter deeper than maxTopicLevels (0x8F, 0x80 in 3.1.1)", async () => {
  await using s = await startPipeServer({ maxTopicLevels: 3 });
  await using v5 = await connect(s, {
    clientId: "v5",
    protocolVersion: 5,
  });
  deepStrictEqual(
    (await subscribe(
      v5,
      [["a/b/#", 0], ["a/b/c/d", 0], ["$share/g/a/b/c", 0]],
      {
        properties: {},
      },
    )).reasonCodes,
    [0, 0x8f, 0],
  );
  await using v4 = await connect(s, { clientId: "v4" });
  deepStrictEqual((await subscribe(v4, [["a/b/c/#", 0]])).reasonCodes, [0x80]);
});

Deno.test("Server.publish() and Server.subscribe() throw a TypeError naming maxTopicLevels", async () => {
  await using s = await startPipeServer({ maxTopicLevels: 3 });
  await using _c = await connect(s, { clientId: "c" });
  await rejects(
    s.server.publish({ topic: "a/b/c/d" }),
    (e) => e instanceof TypeError && /maxTopicLevels/.test(e.message),
  );
  throws(
    () => s.server.subscribe("c", [{ topicFilter: "a/b/c/#", qos: 0 }]),
    (e) => e instanceof TypeError && /maxTopicLevels/.test(e.message),
  );
});

Deno.test("Server refuses a client PUBLISH under $SYS: 0x87 in 5.0, acknowledged and dropped in 3.1.1, never retained", async () => {
  await using s = await startPipeServer();
  await using watch = await connect(s, { clientId: "watch" });
  await subscribe(watch, [["$SYS/x/#", 0], ["$SYS", 0]]);
  await using v5 = await connect(s, {
    clientId: "v5",
    protocolVersion: 5,
  });
  await v5.send(
    publish({
      topic: "$SYS/x/version",
      qos: 1,
      packetId: 1,
      retain: true,
      properties: {},
    }),
  );
  deepStrictEqual(await v5.next(), {
    type: "puback",
    packetId: 1,
    reasonCode: 0x87,
    properties: {},
  });
  await using v4 = await connect(s, { clientId: "v4" });
  await v4.send(publish({ topic: "$SYS", qos: 1, packetId: 2, retain: true }));
  deepStrictEqual(await v4.next(), { type: "puback", packetId: 2 });
  await v4.send(publish({ topic: "$SYS/x/y", qos: 2, packetId: 3 }));
  deepStrictEqual(await v4.next(), { type: "pubrec", packetId: 3 });
  await watch.nothingPending();
  await using late = await connect(s, { clientId: "late" });
  await subscribe(late, [["$SYS/x/#", 0], ["$SYS", 0]]);
  await late.nothingPending();
  // The server itself still publishes there.
  await s.server.publish({ topic: "$SYS/x/own", payload: "1" });
  strictEqual((await watch.next()).type, "publish");
});

Deno.test("Server holds a 3.1.1 client asking for keep-alive 0 to maxKeepAlive", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({
    now: clock.now,
    sweepInterval: 5,
    maxKeepAlive: 2,
  });
  const { client } = await s.connect({
    clientId: "forever",
    keepAlive: 0,
  });
  await using _ = client;
  strictEqual(s.server.client("forever")?.keepAlive, 2);
  clock.advance(2_999);
  await sleep(30);
  strictEqual(client.ended, false);
  clock.advance(1);
  await client.closed();
});

Deno.test("Server holds a 3.1.1 client asking for more than maxKeepAlive to it", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({
    now: clock.now,
    sweepInterval: 5,
    maxKeepAlive: 2,
  });
  const { client } = await s.connect({
    clientId: "long",
    keepAlive: 60,
  });
  await using _ = client;
  clock.advance(3_000);
  await client.closed();
});
