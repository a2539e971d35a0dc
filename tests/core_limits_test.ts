/**
 * The broker core under hostile input: topics of any depth, stored bytes
 * that outlive the read buffer, and the global bounds (sessions, queued
 * bytes, retained messages, shared group turns), over in-memory pipes.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { Packet, PublishPacket } from "../packets/mod.ts";
import { PINGREQ, PINGRESP } from "../packets/testdata/packets.ts";
import {
  startPipeServer,
  type TestClient,
  type TestServer,
} from "./_client.ts";
import { subscribeTo, waitFor } from "./_harness.ts";
import { bytes, connect, publish, subscribe } from "./_pubsub.ts";

/** A topic of `levels` empty levels. */
function deepTopic(levels: number): string {
  return "/".repeat(levels - 1);
}

/** Sends PINGREQ and waits for PINGRESP: what was sent before is handled. */
async function ping(client: TestClient): Promise<void> {
  await client.send(PINGREQ);
  deepStrictEqual(await client.next(), PINGRESP);
}

/** The next packet, which must be a PUBLISH. */
async function nextPublish(client: TestClient): Promise<PublishPacket> {
  const packet: Packet = await client.next();
  if (packet.type !== "publish") {
    throw new Error(`Expected PUBLISH, got ${packet.type}`);
  }
  return packet;
}

// Deep topics are the protocol layer's to refuse (maxTopicLevels); these
// tests raise that limit to check that the core survives them anyway.
const DEEP = { maxTopicLevels: 65535 } as const;

Deno.test("Server publishes a will on a 6000-level topic to a subscriber of that filter", async () => {
  await using s = await startPipeServer(DEEP);
  const topic = deepTopic(6000);
  await using sub = await connect(s, { clientId: "sub" });
  await subscribeTo(sub, topic, 0);
  const { client: dying } = await s.connect({
    clientId: "dying",
    will: { topic, payload: bytes("gone"), qos: 0, retain: false },
  });
  await dying.close();
  const will = await nextPublish(sub);
  strictEqual(will.topic, topic);
  deepStrictEqual(will.payload, bytes("gone"));
  // The broker is still serving.
  await using other = await connect(s, { clientId: "other" });
  await ping(other);
});

Deno.test("Server sends a retained message on a 10,000-level topic to a later # subscriber", async () => {
  await using s = await startPipeServer(DEEP);
  const topic = deepTopic(10_000);
  await using pub = await connect(s, { clientId: "pub" });
  await pub.send(publish({ topic, payload: "deep", retain: true }));
  await pub.send(publish({ topic, payload: "live" }));
  await ping(pub);
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["#", 0]]);
  const retained = await nextPublish(sub);
  strictEqual(retained.topic, topic);
  strictEqual(retained.retain, true);
  deepStrictEqual(retained.payload, bytes("deep"));
  await ping(pub);
});

Deno.test("Server keeps the correlation data of a retained message and a will while the publisher's read buffer is reused", async () => {
  await using s = await startPipeServer();
  const original = bytes("CORR-ORIGINAL-0123456789");
  const willData = bytes("WILL-ORIGINAL-9876543210");
  await using pub = await connect(s, {
    clientId: "pub",
    protocolVersion: 5,
  });
  await pub.send(publish({
    topic: "kept",
    payload: "retained",
    retain: true,
    qos: 1,
    packetId: 1,
    properties: { correlationData: original },
  }));
  deepStrictEqual((await pub.next()).type, "puback");
  const { client: dying } = await s.connect({
    clientId: "dying",
    protocolVersion: 5,
    will: {
      topic: "will",
      payload: bytes("bye"),
      qos: 0,
      retain: true,
      properties: { correlationData: willData },
    },
  });
  // Both keep the read buffer busy with other bytes of the same shape.
  const noise = bytes("Z".repeat(original.length));
  for (let i = 0; i < 50; i++) {
    const packet = publish({
      topic: "kept",
      payload: "ZZZZZZZZ",
      properties: { correlationData: noise },
    });
    await pub.send({ ...packet, topic: "other" });
    await dying.send({ ...packet, topic: "other" });
  }
  await ping(pub);
  await ping(dying);
  await dying.close();
  await using sub = await connect(s, {
    clientId: "sub",
    protocolVersion: 5,
  });
  await waitFor(() => s.server.metrics().messagesReceived[0] >= 101);
  await subscribe(sub, [["kept", 0], ["will", 0]]);
  const got = new Map<string, PublishPacket>();
  for (let i = 0; i < 2; i++) {
    const p = await nextPublish(sub);
    got.set(p.topic, p);
  }
  deepStrictEqual(got.get("kept")?.properties?.correlationData, original);
  deepStrictEqual(got.get("kept")?.payload, bytes("retained"));
  deepStrictEqual(got.get("will")?.properties?.correlationData, willData);
  deepStrictEqual(got.get("will")?.payload, bytes("bye"));
});

Deno.test("Server refuses a new session past maxSessions and still resumes existing ones", async () => {
  await using s = await startPipeServer({ maxSessions: 2 });
  for (const clientId of ["a", "b"]) {
    const client = await connect(s, { clientId, clean: false });
    await client.send({ type: "disconnect" });
    await client.closed();
  }
  // 3.1.1: return code 3, Server unavailable.
  const v4 = await s.connect({ clientId: "c" });
  await using _v4 = v4.client;
  deepStrictEqual(v4.connack.reasonCode, 3);
  await v4.client.closed();
  // 5.0: 0x97 Quota exceeded.
  const v5 = await s.connect({
    clientId: "c",
    protocolVersion: 5,
  });
  await using _v5 = v5.client;
  deepStrictEqual(v5.connack.reasonCode, 0x97);
  await v5.client.closed();
  strictEqual(s.server.sessions().length, 2);
  // Resuming a session, or starting clean over one, needs no new one.
  const resumed = await s.connect({
    clientId: "a",
    clean: false,
  });
  await using _resumed = resumed.client;
  deepStrictEqual(resumed.connack.reasonCode, 0);
  strictEqual(resumed.connack.sessionPresent, true);
  const fresh = await s.connect({ clientId: "b" });
  await using _fresh = fresh.client;
  deepStrictEqual(fresh.connack.reasonCode, 0);
});

/** Leaves `clientId` subscribed to `filter` at QoS 1, offline. */
async function leaveSubscribed(
  s: TestServer,
  clientId: string,
  filter: string,
): Promise<void> {
  const client = await connect(s, { clientId, clean: false });
  await subscribeTo(client, filter, 1);
  await client.send({ type: "disconnect" });
  await client.closed();
}

/** Publishes `count` QoS 1 messages of `size` payload bytes to `topic`. */
async function publishMany(
  s: TestServer,
  topic: string,
  count: number,
  size: number,
): Promise<void> {
  await using pub = await connect(s, { clientId: "pub" });
  for (let i = 1; i <= count; i++) {
    const payload = new Uint8Array(size).fill(0x30 + (i % 10));
    await pub.send(publish({ topic, payload, qos: 1, packetId: i }));
    deepStrictEqual(await pub.next(), {
      type: "puback",
      packetId: i,
    });
  }
}

// One queued message of 200 payload bytes on topic "q": 1 + 200 + 64 bytes.
const QUEUED_SIZE = 265;

Deno.test("Server drops the oldest queued messages past maxQueuedBytes", async () => {
  await using s = await startPipeServer({ maxQueuedBytes: 3 * QUEUED_SIZE });
  await leaveSubscribed(s, "offline", "q");
  await publishMany(s, "q", 10, 200);
  strictEqual(s.server.sessions()[0]?.queued, 3);
  strictEqual(s.server.metrics().messagesDroppedByReason.queue_full, 7);
  await using back = await connect(s, {
    clientId: "offline",
    clean: false,
  });
  const firsts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await nextPublish(back);
    firsts.push(p.payload[0]! - 0x30);
    await back.send({ type: "puback", packetId: p.packetId! });
  }
  // Messages 8, 9 and 10 (10 % 10 = 0) are left.
  deepStrictEqual(firsts, [8, 9, 0]);
  await back.nothingPending();
});

Deno.test("Server drops new messages for offline sessions past maxQueuedMemory and frees the budget as queues empty", async () => {
  await using s = await startPipeServer({ maxQueuedMemory: 3 * QUEUED_SIZE });
  await leaveSubscribed(s, "one", "q");
  await leaveSubscribed(s, "two", "q");
  await publishMany(s, "q", 5, 200);
  const queued = () =>
    s.server.sessions().reduce((sum, session) => sum + session.queued, 0);
  strictEqual(queued(), 3);
  strictEqual(s.server.metrics().messagesDroppedByReason.queue_full, 7);
  // Both come back and take everything: the budget is free again.
  for (const clientId of ["one", "two"]) {
    const client = await connect(s, { clientId, clean: false });
    // Until a PINGRESP comes with no PUBLISH before it: each PUBACK may
    // release one more queued message, written after that PINGRESP.
    for (let received = -1; received !== 0;) {
      await client.send(PINGREQ);
      received = 0;
      for (let p = await client.next(); p.type !== "pingresp";) {
        received++;
        strictEqual(p.type, "publish");
        await client.send({ type: "puback", packetId: p.packetId! });
        p = await client.next();
      }
    }
    await client.send({ type: "disconnect" });
    await client.closed();
  }
  strictEqual(queued(), 0);
  await publishMany(s, "q", 1, 200);
  strictEqual(queued(), 2);
});

Deno.test("Server drops 20,000 queued messages too large for a returning client without overflowing the stack", async () => {
  await using s = await startPipeServer({ maxQueuedMessages: 30_000 });
  const v5 = { protocolVersion: 5, clean: false } as const;
  const session = {
    ...v5,
    clientId: "small",
    properties: { sessionExpiryInterval: 60 },
  };
  const first = await connect(s, session);
  await subscribe(first, [["big", 1]]);
  await first.send({ type: "disconnect" });
  await first.closed();
  const payload = "x".repeat(50);
  for (let i = 0; i < 20_000; i++) {
    await s.server.publish({ topic: "big", payload, qos: 1 });
  }
  strictEqual(
    s.server.sessions().find((x) => x.clientId === "small")?.queued,
    20_000,
  );
  await using back = await connect(s, {
    ...session,
    properties: { sessionExpiryInterval: 60, maximumPacketSize: 40 },
  });
  await ping(back);
  strictEqual(
    s.server.metrics().messagesDroppedByReason.packet_too_large,
    20_000,
  );
  strictEqual(s.server.sessions()[0]?.queued, 0);
});

Deno.test("Server keeps shared subscription turns fair after members leave and rejoin", async () => {
  await using s = await startPipeServer();
  await using one = await connect(s, { clientId: "one" });
  await using two = await connect(s, { clientId: "two" });
  await using pub = await connect(s, { clientId: "pub" });
  const counts = async (n: number): Promise<[number, number]> => {
    for (let i = 0; i < n; i++) {
      await pub.send(publish({ topic: "jobs", payload: `${i}` }));
    }
    await ping(pub);
    const got: [number, number] = [0, 0];
    // Deliveries are written before the answer to a later PINGREQ.
    for (const [i, client] of [one, two].entries()) {
      await client.send(PINGREQ);
      for (let p = await client.next(); p.type !== "pingresp";) {
        got[i]!++;
        p = await client.next();
      }
    }
    return got;
  };
  for (let round = 0; round < 3; round++) {
    await subscribeTo(one, "$share/g/jobs", 0, 10 + round);
    await subscribeTo(two, "$share/g/jobs", 0, 10 + round);
    deepStrictEqual(await counts(6), [3, 3]);
    for (const client of [one, two]) {
      await client.send({
        type: "unsubscribe",
        packetId: 20 + round,
        topicFilters: ["$share/g/jobs"],
      });
      deepStrictEqual((await client.next()).type, "unsuback");
    }
    deepStrictEqual(await counts(2), [0, 0]);
  }
});

Deno.test("Server gives the queued bytes of an ended session back to maxQueuedMemory", async () => {
  await using s = await startPipeServer({ maxQueuedMemory: 2 * QUEUED_SIZE });
  await leaveSubscribed(s, "gone", "q");
  await publishMany(s, "q", 3, 200);
  strictEqual(s.server.sessions()[0]?.queued, 2);
  // A clean start ends the session and its queue.
  const clean = await connect(s, { clientId: "gone" });
  await clean.send({ type: "disconnect" });
  await clean.closed();
  strictEqual(s.server.sessions().length, 0);
  await leaveSubscribed(s, "next", "q");
  await publishMany(s, "q", 2, 200);
  strictEqual(s.server.sessions()[0]?.queued, 2);
});
