/**
 * A burst of QoS 1 messages to one online subscriber: with `queueFull`
 * "backpressure" (the default) nothing acknowledged is lost; with "drop"
 * the overflow is dropped, counted and logged. Over in-memory pipes, but
 * for mosquitto_pub and mosquitto_sub.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { encodePacket, type Packet } from "../packets/mod.ts";
import { Logger, type LogRecord, type ServerOptions } from "../mod.ts";
import { startPipeServer, startServer, type TestClient } from "./_client.ts";
import { brokerArgs, MosquittoProcess } from "./_mosquitto.ts";
import { FakeClock, waitFor } from "./_harness.ts";
import { connect, delay, subscribe } from "./_pubsub.ts";

const BURST = 5000;

/** `count` QoS 1 PUBLISH packets to `topic`, payloads "0".."count-1", back to back. */
function burst(topic: string, count: number): Uint8Array {
  const packets: Uint8Array[] = [];
  let length = 0;
  for (let i = 0; i < count; i++) {
    const bytes = encodePacket({
      type: "publish",
      topic,
      payload: new TextEncoder().encode(String(i)),
      qos: 1,
      retain: false,
      dup: false,
      packetId: (i % 65535) + 1,
    });
    packets.push(bytes);
    length += bytes.length;
  }
  const all = new Uint8Array(length);
  let at = 0;
  for (const p of packets) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/**
 * Reads PUBLISH packets as a normal client does, acknowledging each QoS 1
 * one at once, until `expected()` distinct payloads arrived (it may shrink
 * as messages are dropped); throws after 10 s. Returns the payloads of
 * first arrivals in arrival order.
 */
async function receiveAll(
  client: TestClient,
  expected: () => number,
): Promise<string[]> {
  const seen = new Set<string>();
  const order: string[] = [];
  const decoder = new TextDecoder();
  const deadline = Date.now() + 10_000;
  while (seen.size < expected()) {
    ok(Date.now() < deadline, `only ${seen.size} of ${expected()} arrived`);
    let packet: Packet;
    try {
      packet = await client.next(20);
    } catch (error) {
      if (client.ended) throw error;
      continue;
    }
    if (packet.type !== "publish") continue;
    if (packet.qos === 1) {
      await client.send({ type: "puback", packetId: packet.packetId! });
    }
    const text = decoder.decode(packet.payload);
    if (seen.has(text)) {
      ok(packet.dup, `message ${text} came twice without DUP`);
      continue;
    }
    seen.add(text);
    order.push(text);
  }
  return order;
}

/** Collects PUBACKs on the publisher until `count` came. */
async function pubacks(client: TestClient, count: number): Promise<number> {
  let n = 0;
  while (n < count) {
    const packet = await client.next(5000);
    if (packet.type === "puback") n++;
  }
  return n;
}

async function runBurst(options: ServerOptions) {
  const drops: string[] = [];
  await using s = await startPipeServer({
    ...options,
    hooks: [{
      onMessageDropped(_clientId, message) {
        drops.push(new TextDecoder().decode(message.payload));
      },
    }],
  });
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["burst", 1]]);
  await using pub = await connect(s, { clientId: "pub" });
  const receiving = receiveAll(sub, () => BURST - drops.length);
  await pub.sendBytes(burst("burst", BURST));
  const acked = await pubacks(pub, BURST);
  const received = await receiving;
  return { acked, received, drops, metrics: s.server.metrics() };
}

Deno.test("Server delivers a burst of 5000 QoS 1 messages written at once to one QoS 1 subscriber, in order, on default settings", async () => {
  const { acked, received, drops } = await runBurst({});
  strictEqual(acked, BURST);
  deepStrictEqual(drops, []);
  strictEqual(received.length, BURST);
  deepStrictEqual(
    received,
    Array.from({ length: BURST }, (_, i) => String(i)),
  );
});

Deno.test("Server with queueFull drop drops what overflows a burst, counts it and logs it", async () => {
  const records: LogRecord[] = [];
  const { acked, received, drops, metrics } = await runBurst({
    queueFull: "drop",
    maxQueuedMessages: 10,
    logger: new Logger("broker", "warn", {
      handlers: [{ handle: (record) => records.push(record) }],
    }),
  });
  strictEqual(acked, BURST);
  ok(drops.length > 0, "some messages are dropped");
  strictEqual(received.length + drops.length, BURST);
  strictEqual(metrics.messagesDroppedByReason.queue_full, drops.length);
  const warnings = records.filter((r) => r.msg === "messages dropped");
  ok(warnings.length >= 1);
  strictEqual(warnings[0]!.fields.client_id, "sub");
});

Deno.test("Server delivers 5000 QoS 1 messages from mosquitto_pub -l to mosquitto_sub -C 5000 on default settings", async () => {
  await using s = await startServer({});
  await using sub = MosquittoProcess.spawn("mosquitto_sub", [
    ...brokerArgs(s.port),
    "-t",
    "burst",
    "-q",
    "1",
    "-C",
    String(BURST),
    "-W",
    "20",
  ]);
  // mosquitto_sub prints nothing until it is subscribed: wait for it.
  const deadline = Date.now() + 5000;
  while (s.server.subscriptions({ topic: "burst" }).length === 0) {
    ok(Date.now() < deadline, "mosquitto_sub subscribed");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const lines = Array.from({ length: BURST }, (_, i) => `${i}\n`).join("");
  await using pub = MosquittoProcess.spawn("mosquitto_pub", [
    ...brokerArgs(s.port),
    "-t",
    "burst",
    "-q",
    "1",
    "-l",
  ], { stdin: lines });
  const published = await pub.result();
  strictEqual(published.code, 0, published.stderr);
  const result = await sub.result();
  strictEqual(result.code, 0, result.stderr);
  const got = result.text.trimEnd().split("\n");
  strictEqual(got.length, BURST);
  deepStrictEqual(got, Array.from({ length: BURST }, (_, i) => String(i)));
});

Deno.test("Server logs dropped messages at warn at most once per client per 10 s, with the count since the last line", async () => {
  const clock = new FakeClock();
  const records: LogRecord[] = [];
  await using s = await startPipeServer({
    now: clock.now,
    sweepInterval: 5,
    maxQueuedMessages: 1,
    logger: new Logger("broker", "warn", {
      handlers: [{ handle: (record) => records.push(record) }],
    }),
  });
  const sub = await connect(s, { clientId: "sub", clean: false });
  await subscribe(sub, [["t", 1]]);
  await sub.send({ type: "disconnect" });
  await sub.closed();
  await sub.close();
  await waitFor(() => s.server.client("sub") === undefined);
  const drops = () =>
    records.filter((r) => r.msg === "messages dropped").map((r) => r.fields);
  const publish = () => s.server.publish({ topic: "t", payload: "x", qos: 1 });

  await publish(); // queued
  await publish(); // the first goes: logged at once
  deepStrictEqual(drops(), [{ client_id: "sub", count: 1, queue_full: 1 }]);
  for (let i = 0; i < 5; i++) await publish();
  await delay(20); // sweeps run; the interval has not passed
  strictEqual(drops().length, 1);

  clock.advance(10_000);
  await waitFor(() => drops().length === 2);
  deepStrictEqual(drops()[1], { client_id: "sub", count: 5, queue_full: 5 });
  await publish();
  clock.advance(9_999);
  await delay(20);
  strictEqual(drops().length, 2);
  clock.advance(1);
  await waitFor(() => drops().length === 3);
  deepStrictEqual(drops()[2], { client_id: "sub", count: 1, queue_full: 1 });
  strictEqual(s.server.metrics().messagesDroppedByReason.queue_full, 7);
});

Deno.test("Server with queueFull backpressure stops reading a publisher while an online subscriber's queue is full, and goes on when it leaves", async () => {
  await using s = await startPipeServer({
    maxInflight: 1,
    maxQueuedMessages: 2,
  });
  const sub = await connect(s, { clientId: "sub", clean: false });
  await subscribe(sub, [["t", 1]]);
  await using pub = await connect(s, { clientId: "pub" });
  await pub.sendBytes(burst("t", 10));
  // One in flight, two queued, one held over the limit: its PUBACK waits.
  strictEqual(await pubacks(pub, 3), 3);
  await pub.nothing(100);
  strictEqual(s.server.client("sub")?.messagesOut, 1);
  // The subscriber leaves without acknowledging: an offline queue drops as
  // before, so the publisher is read again.
  await sub.close();
  strictEqual(await pubacks(pub, 7), 7);
});

Deno.test("Server with queueFull backpressure waits at most a second for a subscriber that never acknowledges, then drops its messages and serves the publisher and other subscribers", async () => {
  const clock = new FakeClock();
  const records: LogRecord[] = [];
  await using s = await startPipeServer({
    maxInflight: 1,
    maxQueuedMessages: 2,
    now: clock.now,
    sweepInterval: 5,
    logger: new Logger("test", "warn", {
      handlers: [{ handle: (r: LogRecord) => void records.push(r) }],
    }),
  });
  // "stuck" takes its one in-flight message and never acknowledges it.
  await using stuck = await connect(s, { clientId: "stuck" });
  await subscribe(stuck, [["t", 1]]);
  await using other = await connect(s, { clientId: "other" });
  await subscribe(other, [["t", 0]]);
  await using pub = await connect(s, { clientId: "pub" });
  await pub.sendBytes(burst("t", 10));
  strictEqual(await pubacks(pub, 3), 3);
  await pub.nothing(50);
  // Past the limit the publisher goes on; the stalled subscriber's share is
  // dropped, and the one that reads gets every message.
  clock.advance(1000);
  strictEqual(await pubacks(pub, 7), 7);
  let received = 0;
  while (received < 10) {
    if ((await other.next(5000)).type === "publish") received++;
  }
  ok(
    records.some((r) =>
      r.msg === "subscriber stalled: its messages are dropped"
    ),
  );
  ok(s.server.metrics().messagesDroppedByReason.queue_full > 0);
});
