/**
 * PUBLISH end to end: invalid packets, the packet size limit, and a flood of
 * garbage from some connections while others exchange messages, over
 * in-memory pipes.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { encodePacket } from "../packets/mod.ts";
import { MALFORMED } from "../packets/testdata/packets.ts";
import { startPipeServer, type TestClient } from "./_client.ts";
import {
  connect,
  FakeClock,
  malformed,
  publish,
  subscribe,
} from "./_pubsub.ts";

/** Asserts that `pub` can still publish to `sub` on topic "ok". */
async function stillServes(pub: TestClient, sub: TestClient): Promise<void> {
  await pub.send(
    publish({ topic: "ok", payload: "fine", qos: 1, packetId: 99 }),
  );
  deepStrictEqual(await pub.next(), { type: "puback", packetId: 99 });
  deepStrictEqual(await sub.next(), publish({ topic: "ok", payload: "fine" }));
}

for (
  const [what, fixture] of [
    ["a + in its topic", "with + in the topic [MQTT-3.3.2-2]"],
    ["QoS 3", "with QoS 3 [MQTT-3.3.1-4]"],
    ["DUP at QoS 0", "with DUP at QoS 0 [MQTT-3.3.1-2]"],
    ["an empty topic", "with an empty topic [MQTT-4.7.3-1]"],
  ] as const
) {
  Deno.test(`Server closes a connection that sends a PUBLISH with ${what}, and serves the others`, async () => {
    await using s = await startPipeServer();
    await using sub = await connect(s, { clientId: "sub" });
    await using pub = await connect(s, { clientId: "pub" });
    await using bad = await connect(s, { clientId: "bad" });
    await subscribe(sub, [["#", 0]]);
    // [MQTT-4.8.0-1] A malformed packet or protocol violation closes the
    // connection; 3.1.1 has no packet to say why.
    await bad.sendBytes(malformed(fixture));
    await bad.closed();
    await stillServes(pub, sub);
    await sub.nothingPending();
  });
}

Deno.test("Server closes a connection that publishes to a # topic and routes nothing", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using bad = await connect(s, { clientId: "bad" });
  await subscribe(sub, [["#", 0]]);
  // [MQTT-3.3.2-2] No wildcards in a topic name: "a/#", payload "x".
  await bad.sendBytes(
    Uint8Array.of(0x30, 0x06, 0x00, 0x03, 0x61, 0x2f, 0x23, 0x78),
  );
  await bad.closed();
  await sub.nothingPending();
});

/** A QoS 0 PUBLISH to "t" of exactly `size` bytes (size 5 to 129). */
function publishOfSize(size: number): Uint8Array {
  const payload = "x".repeat(size - 5);
  const packet = encodePacket(publish({ topic: "t", payload }));
  deepStrictEqual(packet.length, size);
  return packet;
}

Deno.test("Server accepts a PUBLISH of exactly maxPacketSize bytes", async () => {
  await using s = await startPipeServer({ maxPacketSize: 100 });
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["t", 0]]);
  await pub.sendBytes(publishOfSize(100));
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "t", payload: "x".repeat(95) }),
  );
  await pub.nothingPending();
  deepStrictEqual(pub.ended, false);
});

Deno.test("Server closes a connection that sends a PUBLISH over maxPacketSize, and serves the others", async () => {
  await using s = await startPipeServer({ maxPacketSize: 100 });
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await using big = await connect(s, { clientId: "big" });
  await subscribe(sub, [["#", 0]]);
  await big.sendBytes(publishOfSize(101));
  await big.closed();
  await stillServes(pub, sub);
  await sub.nothingPending();
});

Deno.test("Server closes a connection from the fixed header of a too large PUBLISH, before its body", async () => {
  await using s = await startPipeServer({ maxPacketSize: 100 });
  await using big = await connect(s, { clientId: "big" });
  // PUBLISH QoS 0, remaining length 1,000,000 (0xc0 0x84 0x3d), then only
  // the topic "t": the server must not wait for the rest.
  await big.sendBytes(Uint8Array.of(0x30, 0xc0, 0x84, 0x3d, 0x00, 0x01, 0x74));
  await big.closed(1000);
});

/** A deterministic pseudo-random byte source (xorshift32). */
function garbage(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Concatenates byte arrays. */
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Sends bursts until the server closes the connection; never throws. */
async function flood(client: TestClient, bursts: Uint8Array[]): Promise<void> {
  for (const burst of bursts) {
    if (client.ended) break;
    try {
      await client.sendBytes(burst);
    } catch {
      break; // The server closed the connection: expected.
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

Deno.test("Server delivers 500 QoS 1 messages in order while other connections send 2000 malformed packets and garbage", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({ now: clock.now, sweepInterval: 10 });
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["flood/t", 1]]);
  const started = Date.now();
  const bad = MALFORMED.filter((f) => f.protocolVersion === 4).map((f) =>
    f.bytes
  );
  ok(bad.length > 10);
  const connectBytes = encodePacket({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId: "",
  });
  // 2000 malformed packets in 20 bursts of 100 on one connection.
  const bursts = Array.from(
    { length: 20 },
    (_, b) =>
      concat(
        Array.from({ length: 100 }, (_, i) => bad[(b * 100 + i) % bad.length]!),
      ),
  );
  const attackers: Promise<void>[] = [];
  const clients: TestClient[] = [];
  const attack = async (
    withConnect: boolean,
    data: Uint8Array[],
  ): Promise<void> => {
    const client = await s.open();
    clients.push(client);
    if (withConnect) await client.sendBytes(connectBytes);
    await flood(client, data);
  };
  attackers.push(attack(true, bursts));
  // 40 more connections: half CONNECT then send malformed packets, half send
  // random bytes from the start.
  for (let c = 0; c < 40; c++) {
    attackers.push(
      c % 2 === 0
        ? attack(true, [concat(bad.slice(c % bad.length).slice(0, 5))])
        : attack(false, [garbage(c + 1, 64), garbage(c + 100, 64)]),
    );
  }
  // Meanwhile: 500 QoS 1 messages, acknowledged both ways.
  const exchange = (async () => {
    for (let i = 1; i <= 500; i++) {
      await pub.send(
        publish({ topic: "flood/t", payload: `${i}`, qos: 1, packetId: i }),
      );
    }
    for (let i = 1; i <= 500; i++) {
      deepStrictEqual(await pub.next(), { type: "puback", packetId: i });
    }
  })();
  const payloads: string[] = [];
  for (let i = 1; i <= 500; i++) {
    const p = await sub.next(3000);
    if (p.type !== "publish") throw new Error(`Got ${p.type}`);
    payloads.push(new TextDecoder().decode(p.payload));
    await sub.send({ type: "puback", packetId: p.packetId! });
  }
  await exchange;
  await Promise.all(attackers);
  deepStrictEqual(
    payloads,
    Array.from({ length: 500 }, (_, i) => `${i + 1}`),
  );
  await sub.nothingPending();
  // Every garbage connection was closed by the server: at once, or at the
  // connect timeout (10 s) for random bytes that announce a long packet.
  clock.advance(11_000);
  for (const client of clients) await client.closed(2000);
  for (const client of clients) await client.close();
  ok(Date.now() - started < 10_000, "the flood test took over 10 s");
  deepStrictEqual(s.server.clients().map((c) => c.clientId).sort(), [
    "pub",
    "sub",
  ]);
});

Deno.test("Server reserves no memory for a packet it has not received", async () => {
  await using s = await startPipeServer();
  const before = Deno.memoryUsage().external;
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      // Before CONNECT: a CONNECT announcing 268,435,455 bytes.
      const early = await s.open();
      clients.push(early);
      await early.sendBytes(Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0x7f));
      // After CONNECT: a PUBLISH announcing as much.
      const late = await connect(s, { clientId: `late${i}` });
      clients.push(late);
      await late.sendBytes(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const grown = (Deno.memoryUsage().external - before) / 2 ** 20;
    // 5 bytes from a peer must not make the server allocate a buffer for the
    // whole announced packet: 8 connections, well under 64 MiB in all.
    ok(grown < 64, `external memory grew by ${grown.toFixed(0)} MiB`);
  } finally {
    for (const client of clients) await client.close();
  }
});
