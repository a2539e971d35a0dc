/**
 * Output bounds and fairness: a client that sends and never reads stops
 * being read, keep-alive with the reads paused, and a SUBSCRIBE over many
 * retained messages that does not hold up other clients.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { startPipeServer, startServer } from "./_client.ts";
import { connectBytes, FakeClock, sleep, waitFor } from "./_harness.ts";
import { connect } from "./_pubsub.ts";

/** `count` PINGREQ packets back to back. */
function pingreqs(count: number): Uint8Array {
  const bytes = new Uint8Array(2 * count);
  for (let i = 0; i < bytes.length; i += 2) bytes[i] = 0xc0;
  return bytes;
}

/**
 * A duplex for `Server.handle` whose reads are `input` and whose writes each
 * wait until `release()` is called (or for nothing once `open()` is).
 */
function stalledPeer(input: Uint8Array[]) {
  const waiting: (() => void)[] = [];
  let opened = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      for (const chunk of input) c.enqueue(chunk);
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write: () =>
      opened
        ? undefined
        : new Promise<void>((resolve) => waiting.push(resolve)),
  });
  return {
    duplex: { readable, writable },
    /** Lets the oldest pending write complete. */
    release(): void {
      waiting.shift()?.();
    },
    /** Lets every write complete from now on. */
    open(): void {
      opened = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
    /** Ends the input. */
    end(): void {
      controller.close();
    },
  };
}

/** Bytes encoded for a client sent only PINGRESP after its CONNACK, not yet written. */
function unsent(summary: { packetsOut: number; bytesOut: number }): number {
  return 4 + 2 * (summary.packetsOut - 1) - summary.bytesOut;
}

Deno.test("Channel.readPackets() stops reading from a client that sends 200k PINGREQ and takes no output, and resumes once it drains", async () => {
  await using s = await startPipeServer({ maxOutputBuffer: 1024 });
  const peer = stalledPeer([
    connectBytes({ clientId: "flood" }),
    pingreqs(200_000),
  ]);
  const served = s.server.handle(peer.duplex);
  await waitFor(() => (s.server.client("flood")?.packetsOut ?? 0) > 500);
  await sleep(20);
  const blocked = s.server.client("flood")!;
  ok(blocked.packetsIn < 1000, `${blocked.packetsIn} packets read`);
  ok(unsent(blocked) <= 1024 + 2, `${unsent(blocked)} bytes unsent`);
  // Another client is served meanwhile.
  await using other = await connect(s, { clientId: "other" });
  await other.send({ type: "pingreq" });
  deepStrictEqual(await other.next(), { type: "pingresp" });
  peer.open();
  await waitFor(() => s.server.client("flood")?.packetsIn === 200_001, 5000);
  await waitFor(() => s.server.client("flood")?.bytesOut === 4 + 400_000);
  peer.end();
  await served;
});

Deno.test("Channel.readPackets() keeps the output of a TCP client flooding PINGREQ without reading under maxOutputBuffer", async () => {
  await using s = await startServer({ maxOutputBuffer: 4096 });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  const input = new Uint8Array([
    ...connectBytes({ clientId: "tcp" }),
    ...pingreqs(200_000),
  ]);
  // Written in the background: the kernel buffers fill while nobody reads.
  const writing = (async () => {
    for (let at = 0; at < input.length;) {
      at += await conn.write(input.subarray(at));
    }
  })();
  let last = -1;
  for (;;) {
    await sleep(20);
    const summary = s.server.client("tcp");
    if (summary === undefined) continue;
    ok(unsent(summary) <= 4096 + 2, `${unsent(summary)} bytes unsent`);
    if (summary.packetsIn === last) break;
    last = summary.packetsIn;
  }
  await using other = await connect(s, { clientId: "other" });
  await other.send({ type: "pingreq" });
  deepStrictEqual(await other.next(), { type: "pingresp" });
  // Now read everything: every PINGREQ gets its PINGRESP.
  const buffer = new Uint8Array(65536);
  let received = 0;
  while (received < 4 + 400_000) {
    const n = await conn.read(buffer);
    if (n === null) break;
    received += n;
  }
  await writing;
  strictEqual(received, 4 + 400_000);
});

Deno.test("Channel keeps a client whose reads are paused alive while it takes its output, and closes it at its keep-alive when it takes none", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({
    now: clock.now,
    sweepInterval: 5,
    maxOutputBuffer: 1024,
  });
  const peer = stalledPeer([
    connectBytes({ clientId: "slow", keepAlive: 2 }),
    pingreqs(10_000),
  ]);
  const served = s.server.handle(peer.duplex);
  await waitFor(() => (s.server.client("slow")?.packetsOut ?? 0) > 500);
  await sleep(20);
  clock.advance(2_000);
  peer.release(); // The CONNACK is taken: progress, though nothing is read.
  await sleep(20);
  ok(s.server.client("slow")!.packetsIn < 1000);
  clock.advance(2_000); // 4 s since the last read, 2 s since the progress.
  await sleep(30);
  ok(s.server.client("slow") !== undefined);
  clock.advance(1_000); // 3 s without progress.
  await waitFor(() => s.server.client("slow") === undefined);
  peer.open();
  await served;
});

Deno.test("Server sends 20k retained messages once to a SUBSCRIBE listing # 50 times, while another client is served", async () => {
  await using s = await startServer();
  const count = 20_000;
  for (let i = 0; i < count; i++) {
    await s.server.publish({ topic: `r/${i}`, payload: "x", retain: true });
  }
  await using other = await connect(s, { clientId: "other" });
  await using sub = await connect(s, { clientId: "sub" });
  await sub.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: Array.from({ length: 50 }, () => ({
      topicFilter: "#",
      qos: 0 as const,
    })),
  });
  await other.send({ type: "pingreq" });
  deepStrictEqual(await other.next(), { type: "pingresp" });
  // The PINGRESP came before the last retained message went out.
  ok(s.server.client("sub")!.messagesOut < count);
  deepStrictEqual(await sub.next(), {
    type: "suback",
    packetId: 1,
    reasonCodes: Array(50).fill(0),
  });
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const p = await sub.next();
    ok(p.type === "publish" && p.retain);
    ok(!seen.has(p.topic), `${p.topic} twice`);
    seen.add(p.topic);
  }
  strictEqual(seen.size, count);
  await sub.nothingPending();
});
