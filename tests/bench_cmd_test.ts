import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { type QoS, ReasonCode, Server, type ServerOptions } from "../mod.ts";
import { parseBenchArgs, runBench } from "../cmd/bench.ts";

async function withServer(
  fn: (port: number, server: Server) => Promise<void>,
  options: ServerOptions = {},
): Promise<void> {
  const server = new Server(options);
  server.listen({ hostname: "127.0.0.1", port: 0 });
  await server.start();
  try {
    await fn(server.addresses[0]!.port, server);
  } finally {
    await server.stop({ timeout: 2000 });
  }
}

function checkNoLoss(
  result: Awaited<ReturnType<typeof runBench>>,
  expected: number,
): void {
  deepStrictEqual(result.errors, []);
  strictEqual(result.expected, expected);
  strictEqual(result.delivered, expected);
  strictEqual(result.lost, 0);
  strictEqual(result.duplicated, 0);
  strictEqual(result.outOfOrder, 0);
  strictEqual(result.stalls, 0);
  strictEqual(result.latency.count, expected);
  ok(result.latency.p50 <= result.latency.p99);
  ok(result.latency.p99 <= result.latency.max);
  ok(result.deliveryRate > 0);
}

for (const qos of [0, 1, 2] as QoS[]) {
  Deno.test(`runBench() pairs at QoS ${qos} delivers every message once, in order`, async () => {
    await withServer(async (port, server) => {
      const result = await runBench({
        scenario: "pairs",
        port,
        clients: 4,
        messages: 300,
        qos,
        inflight: 16,
      });
      strictEqual(result.published, 1200);
      strictEqual(result.acked, qos === 0 ? 0 : 1200);
      checkNoLoss(result, 1200);
      const metrics = server.metrics();
      strictEqual(metrics.messagesReceived[qos], 1200);
      strictEqual(metrics.messagesSent[qos], 1200);
    });
  });
}

Deno.test("runBench() fanin routes every publisher to one wildcard subscriber", async () => {
  await withServer(async (port, server) => {
    const result = await runBench({
      scenario: "fanin",
      port,
      clients: 5,
      messages: 200,
      qos: 1,
    });
    strictEqual(result.publishers, 5);
    strictEqual(result.subscribers, 1);
    checkNoLoss(result, 1000);
    strictEqual(server.metrics().messagesSent[1], 1000);
  });
});

Deno.test("runBench() fanout counts one delivery per subscriber per message", async () => {
  await withServer(async (port, server) => {
    const result = await runBench({
      scenario: "fanout",
      port,
      clients: 6,
      messages: 200,
      size: 100,
    });
    strictEqual(result.published, 200);
    checkNoLoss(result, 1200);
    const metrics = server.metrics();
    strictEqual(metrics.messagesReceived[0], 200);
    strictEqual(metrics.messagesSent[0], 1200);
    strictEqual(metrics.messageBytesSent, 1200 * 100);
  });
});

Deno.test("runBench() pub publishes without subscribers and counts acks", async () => {
  await withServer(async (port, server) => {
    const result = await runBench({
      scenario: "pub",
      port,
      clients: 3,
      messages: 500,
      qos: 1,
    });
    strictEqual(result.published, 1500);
    strictEqual(result.acked, 1500);
    strictEqual(result.expected, 0);
    strictEqual(server.metrics().messagesReceived[1], 1500);
    strictEqual(server.metrics().messagesUnrouted, 1500);
  });
});

Deno.test("runBench() conn opens and holds every connection, then closes them", async () => {
  await withServer(async (port, server) => {
    let held = 0;
    const result = await runBench({
      scenario: "conn",
      port,
      clients: 50,
      inflight: 10,
      hold: 0.6,
      onProgress: () => held = server.metrics().connectionsCurrent,
    });
    deepStrictEqual(result.errors, []);
    strictEqual(result.connect?.connections, 50);
    strictEqual(result.connect?.failed, 0);
    strictEqual(result.connect?.latency.count, 50);
    strictEqual(held, 50);
    strictEqual(server.metrics().connectionsTotal, 50);
  });
});

Deno.test("runBench() conn counts refused connections as failed", async () => {
  await withServer(async (port) => {
    const result = await runBench({
      scenario: "conn",
      port,
      clients: 4,
      hold: 0,
    });
    strictEqual(result.connect?.connections, 0);
    strictEqual(result.connect?.failed, 4);
    ok(result.errors.some((e) => e.includes("0x05")), result.errors.join());
  }, { hooks: { checkConnect: () => ReasonCode.NotAuthorized } });
});

Deno.test("runBench() subs makes many distinct subscriptions per client, then publishes to each in turn", async () => {
  await withServer(async (port, server) => {
    const held: Record<string, number> = {};
    const result = await runBench({
      scenario: "subs",
      port,
      clients: 3,
      topics: 40,
      messages: 200,
      inflight: 8,
      onStage: (stage) => {
        held[stage] = server.metrics().subscriptionsCurrent;
      },
    });
    deepStrictEqual(
      result.subscribe && {
        subscriptions: result.subscribe.subscriptions,
        counted: result.subscribe.rate > 0 && result.subscribe.elapsed > 0,
      },
      { subscriptions: 120, counted: true },
    );
    deepStrictEqual(held, { ready: 120, done: 120 });
    checkNoLoss(result, 600);
    // 200 messages per publisher over its subscriber's 40 topics: each
    // topic got 5, so every subscription was used.
    strictEqual(server.metrics().messagesUnrouted, 0);
    strictEqual(server.metrics().received.subscribe.packets, 120);
  });
});

for (const qos of [0, 1] as QoS[]) {
  Deno.test(`runBench() retained at QoS ${qos} stores, delivers to one wildcard subscriber, then clears`, async () => {
    await withServer(async (port, server) => {
      let stored = -1;
      const result = await runBench({
        scenario: "retained",
        port,
        clients: 3,
        topics: 50,
        qos,
        onStage: (stage) => {
          if (stage === "ready") stored = server.retained("bench/#").length;
        },
      });
      deepStrictEqual(result.errors, []);
      strictEqual(stored, 150);
      strictEqual(result.retained?.stored, 150);
      strictEqual(result.published, 150);
      strictEqual(result.acked, qos === 0 ? 0 : 150);
      strictEqual(result.expected, 150);
      strictEqual(result.delivered, 150);
      strictEqual(result.lost, 0);
      strictEqual(result.duplicated, 0);
      ok(result.retained.storeRate > 0 && result.retained.deliveryRate > 0);
      deepStrictEqual(server.retained("bench/#"), []);
    });
  });
}

Deno.test("runBench() retained counts what the broker would not keep as lost", async () => {
  await withServer(async (port) => {
    const result = await runBench({
      scenario: "retained",
      port,
      clients: 2,
      topics: 10,
      qos: 1,
      timeout: 0.3,
    });
    strictEqual(result.retained?.stored, 20);
    strictEqual(result.delivered, 15);
    strictEqual(result.lost, 5);
  }, { maxRetainedMessages: 15 });
});

Deno.test("runBench() spreads connections over hostnames in turn", async () => {
  await withServer(async (port, server) => {
    const options = {
      scenario: "conn" as const,
      port,
      hostnames: ["127.0.0.1", "127.0.0.2"],
      clients: 10,
      hold: 0,
      timeout: 2,
    };
    // Nothing listens on 127.0.0.2 yet: every other connection fails.
    const half = await runBench(options);
    strictEqual(half.connect?.connections, 5);
    strictEqual(half.connect?.failed, 5);
    server.listen({ hostname: "127.0.0.2", port });
    const all = await runBench(options);
    strictEqual(all.connect?.connections, 10);
    strictEqual(all.connect?.failed, 0);
  });
});

Deno.test("runBench() caps the publish rate", async () => {
  await withServer(async (port) => {
    const result = await runBench({
      scenario: "pairs",
      port,
      clients: 2,
      messages: 100,
      rate: 1000,
    });
    checkNoLoss(result, 200);
    // 200 messages at 1000/s take at least 0.2 s.
    ok(result.publishRate < 1000 * 1.1, `${result.publishRate} msg/s`);
  });
});

Deno.test("runBench() stops at the duration", async () => {
  await withServer(async (port) => {
    const start = performance.now();
    const result = await runBench({
      scenario: "pairs",
      port,
      clients: 1,
      duration: 0.3,
      rate: 500,
    });
    const elapsed = performance.now() - start;
    ok(elapsed < 2000, `${elapsed} ms`);
    ok(
      result.published >= 100 && result.published <= 160,
      `${result.published}`,
    );
    checkNoLoss(result, result.published);
  });
});

Deno.test("runBench() counts a gap as lost without holding the window", async () => {
  let n = 0;
  await withServer(async (port) => {
    const result = await runBench({
      scenario: "pairs",
      port,
      clients: 1,
      messages: 100,
      inflight: 4,
      timeout: 0.2,
    });
    strictEqual(result.published, 100);
    strictEqual(result.delivered, 90);
    strictEqual(result.lost, 10);
    strictEqual(result.outOfOrder, 0);
    strictEqual(result.stalls, 0);
  }, {
    hooks: {
      // Every tenth message is refused; QoS 0 gets no sign of it.
      checkPublish: () => ++n % 10 === 0 ? ReasonCode.NotAuthorized : undefined,
    },
  });
});

Deno.test("runBench() moves a window stuck on lost messages after the timeout", async () => {
  let n = 0;
  await withServer(async (port) => {
    const start = performance.now();
    const result = await runBench({
      scenario: "pairs",
      port,
      clients: 1,
      messages: 100,
      inflight: 25,
      timeout: 0.2,
    });
    strictEqual(result.published, 100);
    strictEqual(result.delivered, 50);
    strictEqual(result.lost, 50);
    strictEqual(result.stalls, 1);
    ok(performance.now() - start < 2000);
  }, {
    hooks: {
      checkPublish: () => ++n > 50 ? ReasonCode.NotAuthorized : undefined,
    },
  });
});

Deno.test("runBench() works over WebSocket with MQTT 5.0", async () => {
  const server = new Server();
  server.listen({ hostname: "127.0.0.1", port: 0, websocket: true });
  await server.start();
  try {
    const port = server.addresses[0]!.port;
    const result = await runBench({
      scenario: "pairs",
      url: `ws://127.0.0.1:${port}/mqtt`,
      clients: 2,
      messages: 200,
      qos: 1,
      protocolVersion: 5,
    });
    strictEqual(result.transport, "ws");
    checkNoLoss(result, 400);
  } finally {
    await server.stop({ timeout: 2000 });
  }
});

Deno.test("runBench() rejects a payload too small for the stamp", async () => {
  await runBench({ scenario: "pub", size: 8 }).then(
    () => ok(false, "resolved"),
    (error) => ok(error instanceof RangeError && /size/.test(error.message)),
  );
});

Deno.test("parseBenchArgs() reads flags into options", () => {
  const { options, json } = parseBenchArgs([
    "fanout",
    "--host",
    "10.0.0.1",
    "--port",
    "1884",
    "-c",
    "100",
    "-q",
    "2",
    "-s",
    "256",
    "-d",
    "5",
    "-r",
    "10000",
    "-w",
    "8",
    "--protocol",
    "5",
    "--json",
  ]);
  strictEqual(json, true);
  deepStrictEqual(options, {
    scenario: "fanout",
    hostname: "10.0.0.1",
    port: 1884,
    clients: 100,
    qos: 2,
    size: 256,
    duration: 5,
    rate: 10000,
    inflight: 8,
    protocolVersion: 5,
  });
});

Deno.test("parseBenchArgs() reads the growth options", () => {
  const { options, marks } = parseBenchArgs([
    "subs",
    "--hosts",
    "127.0.0.1,127.0.0.2",
    "--topics",
    "500",
    "--hold",
    "2",
    "--marks",
    "stages.txt",
  ]);
  strictEqual(marks, "stages.txt");
  deepStrictEqual(options, {
    scenario: "subs",
    hostnames: ["127.0.0.1", "127.0.0.2"],
    topics: 500,
    hold: 2,
  });
});

Deno.test("parseBenchArgs() rejects unknown scenarios and non-numbers", () => {
  throws(() => parseBenchArgs(["flood"]), /unknown scenario "flood"/);
  throws(() => parseBenchArgs([]), /give a scenario/);
  throws(() => parseBenchArgs(["pub", "-c", "many"]), /--clients: many/);
  throws(() => parseBenchArgs(["pub", "--bogus"]));
});
