/**
 * `$SYS/broker/...` statistics as a subscriber sees them (over in-memory
 * pipes), and their rates.
 */

import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import type { PublishPacket } from "../packets/mod.ts";
import {
  type PublishOptions,
  Server,
  type ServerMetrics,
  SysTopics,
  VERSION,
} from "../mod.ts";
import {
  startPipeServer,
  type TestClient,
  type TestServer,
} from "./_client.ts";

/** A clock the server and the $SYS publisher read; the test moves it. */
function fakeClock() {
  const clock = { time: 1_700_000_000_000, now: () => clock.time };
  return clock;
}

/** Collects `$SYS` values from a subscribed client, the latest of each topic. */
class SysWatcher {
  readonly values = new Map<string, string>();
  readonly retained = new Map<string, boolean>();
  readonly #client: TestClient;

  constructor(client: TestClient) {
    this.#client = client;
  }

  /** Reads PUBLISH packets until `condition` holds; throws after `timeout` ms. */
  async until(
    condition: (values: Map<string, string>) => boolean,
    timeout = 2000,
  ): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!condition(this.values)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `$SYS values never matched: ${
            JSON.stringify(Object.fromEntries(this.values))
          }`,
        );
      }
      const packet = await this.#client.next(left);
      if (packet.type !== "publish") continue;
      this.#take(packet);
    }
  }

  #take(packet: PublishPacket): void {
    const topic = packet.topic.replace(/^\$SYS\/broker\//, "");
    this.values.set(topic, new TextDecoder().decode(packet.payload));
    this.retained.set(topic, packet.retain);
  }
}

async function subscribeSys(s: TestServer, clientId: string) {
  const { client } = await s.connect({ clientId });
  await client.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter: "$SYS/broker/#", qos: 0 }],
  });
  strictEqual((await client.next()).type, "suback");
  return { client, watcher: new SysWatcher(client) };
}

Deno.test("SysTopics publishes broker statistics that a $SYS subscriber sees updated", async () => {
  const clock = fakeClock();
  await using s = await startPipeServer({
    now: clock.now,
    sys: { interval: 0.05 },
  });
  const { client, watcher } = await subscribeSys(s, "watcher");
  await using _watcher = client;
  await watcher.until((v) =>
    v.get("clients/connected") === "1" && v.has("load/connections/15min")
  );
  deepStrictEqual(
    [
      watcher.values.get("version"),
      watcher.values.get("uptime"),
      watcher.values.get("clients/total"),
      watcher.values.get("subscriptions/count"),
      watcher.values.get("load/messages/received/1min"),
    ],
    [`gmqtt ${VERSION}`, "0 seconds", "1", "1", "0.00"],
  );

  // Another client publishes 6 messages over one (fake) minute.
  await using pub = (await s.connect({
    clientId: "pub",
    clean: false,
  })).client;
  for (let i = 0; i < 6; i++) {
    await pub.send({
      type: "publish",
      topic: "t",
      payload: new TextEncoder().encode("12345"),
      qos: 0,
      retain: false,
      dup: false,
    });
  }
  await pub.send({ type: "pingreq" });
  strictEqual((await pub.next()).type, "pingresp");
  const received = s.server.metrics().messagesReceived;
  const messages = received[0] + received[1] + received[2];
  clock.time += 60_000;
  // Wait for the whole round: the load averages come last.
  await watcher.until((v) =>
    v.get("uptime") === "60 seconds" && v.get("clients/connected") === "2" &&
    v.get("load/connections/15min") !== "0.00"
  );
  const v = watcher.values;
  strictEqual(v.get("clients/total"), "2");
  strictEqual(v.get("clients/maximum"), "2");
  // The statistics count what the clients did; $SYS messages apart.
  strictEqual(messages, 6);
  strictEqual(v.get("messages/received"), "6");
  strictEqual(v.get("publish/bytes/received"), String(6 * 5));
  ok(Number(v.get("messages/sys")) > 0);
  ok(s.server.metrics().sysMessagesPublished > 0);
  ok(Number(v.get("load/connections/1min")) > 0);
  ok(Number(v.get("bytes/received")) > 0);

  await pub.send({ type: "disconnect" });
  await pub.closed();
  await watcher.until((v) =>
    v.get("clients/connected") === "1" && v.get("clients/disconnected") === "1"
  );
  ok([...watcher.retained.values()].every((r) => r === false));
});

Deno.test("SysTopics retains its messages, so a new subscriber sees them at once", async () => {
  await using s = await startPipeServer({ sys: { interval: 0.05 } });
  const first = await subscribeSys(s, "first");
  await using _first = first.client;
  await first.watcher.until((v) => v.has("version"));
  const late = await subscribeSys(s, "late");
  await using _late = late.client;
  // Retained messages arrive with the SUBACK, before any new publication.
  await late.watcher.until(
    (v) => v.has("version") && v.has("retained messages/count"),
    200,
  );
  strictEqual(late.watcher.retained.get("version"), true);
  ok(/^\d+$/.test(late.watcher.values.get("retained messages/count")!));
});

/** A server stand-in whose counters the test sets, those of an idle server at first. */
function fakeSource() {
  const published: PublishOptions[] = [];
  const source = {
    counters: new Server().metrics(),
    metrics(): ServerMetrics {
      return structuredClone(this.counters);
    },
    publish(message: PublishOptions): Promise<void> {
      published.push(message);
      return Promise.resolve();
    },
  };
  const last = (topic: string) =>
    published.findLast((m) => m.topic === `$SYS/broker/${topic}`)?.payload;
  return { published, source, last };
}

Deno.test("SysTopics computes load averages over 1, 5 and 15 minutes", async () => {
  const clock = fakeClock();
  const { source, last } = fakeSource();
  const sys = new SysTopics(source, { interval: 0, now: clock.now });
  await sys.publish();
  strictEqual(last("load/messages/received/1min"), "0.00");
  // 600 QoS 0 messages of 10 bytes.
  source.counters = {
    ...source.counters,
    messagesReceived: [600, 0, 0],
    messageBytesReceived: 6000,
  };
  clock.time += 60_000;
  await sys.publish();
  // 600 messages in one minute: 600 per minute, weighted 1 - e^(-t/window).
  strictEqual(
    last("load/messages/received/1min"),
    (600 * (1 - Math.exp(-1))).toFixed(2),
  );
  strictEqual(
    last("load/messages/received/5min"),
    (600 * (1 - Math.exp(-1 / 5))).toFixed(2),
  );
  strictEqual(
    last("load/messages/received/15min"),
    (600 * (1 - Math.exp(-1 / 15))).toFixed(2),
  );
  // An idle minute lowers them again.
  clock.time += 60_000;
  await sys.publish();
  const oneMinute = 600 * (1 - Math.exp(-1)) * Math.exp(-1);
  strictEqual(last("load/messages/received/1min"), oneMinute.toFixed(2));
  strictEqual(last("messages/received"), "600");
  strictEqual(last("publish/bytes/received"), "6000");
});

Deno.test("SysTopics publishes a topic again only when its value changed", async () => {
  const clock = fakeClock();
  const { source, published } = fakeSource();
  const sys = new SysTopics(source, { now: clock.now });
  await sys.publish();
  const all = published.length;
  ok(all > 20);
  ok(published.every((m) => m.retain === true && m.qos === 0));
  clock.time += 1000;
  await sys.publish();
  // Only the uptime changed; the rates stayed at 0.
  deepStrictEqual(
    published.slice(all).map((m) => [m.topic, m.payload]),
    [["$SYS/broker/uptime", "1 seconds"]],
  );
});

Deno.test("SysTopics with interval 0 publishes nothing on its own", async () => {
  const { source, published } = fakeSource();
  const sys = new SysTopics(source, { interval: 0 });
  strictEqual(sys.interval, 0);
  sys.start();
  await new Promise((resolve) => setTimeout(resolve, 30));
  sys.stop();
  strictEqual(published.length, 0);
  throws(() => new SysTopics(source, { interval: -1 }), RangeError);
  throws(() => new SysTopics(source, { interval: NaN }), RangeError);
});
