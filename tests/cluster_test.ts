/**
 * Brokers on one Redis as one cluster, through the embedding API: three
 * servers in this process, each with a `RedisBus` on a `redis-server` the
 * test starts, their clients over `server.handle()` pipes.
 */

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { apiHandler, RedisBus, type RedisBusOptions, Server } from "../mod.ts";
import type { PublishPacket } from "../packets/types.ts";
import { Logger, type LogRecord } from "../src/observe/logger.ts";
import { RedisClient } from "../src/redis/mod.ts";
import { connectStream, type Peer } from "./_peer.ts";
import { type RedisServer, startRedisServer } from "./_redis.ts";

/** Polls until `check` holds, failing after `timeout` ms. */
async function until(
  check: () => boolean,
  what: string,
  timeout = 5000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Node {
  readonly server: Server;
  readonly bus: RedisBus;
  readonly logs: LogRecord[];
}

/** A cluster of nodes named `ids` on one Redis, started. */
class Cluster implements AsyncDisposable {
  readonly redis: RedisServer;
  readonly nodes: Map<string, Node> = new Map();

  /** Bus options of every node, beyond the tests' own. */
  readonly #busOptions: Partial<RedisBusOptions>;

  private constructor(
    redis: RedisServer,
    busOptions: Partial<RedisBusOptions>,
  ) {
    this.redis = redis;
    this.#busOptions = busOptions;
  }

  static async start(
    ids: string[],
    redisArgs?: string[],
    busOptions: Partial<RedisBusOptions> = {},
  ): Promise<Cluster> {
    const cluster = new Cluster(
      await startRedisServer(
        redisArgs === undefined ? {} : { args: redisArgs },
      ),
      busOptions,
    );
    try {
      for (const id of ids) await cluster.add(id);
      for (const [id, node] of cluster.nodes) {
        await until(
          () => node.bus.status().nodes.length === ids.length,
          `${id} to know every node`,
        );
      }
    } catch (error) {
      await cluster[Symbol.asyncDispose]();
      throw error;
    }
    return cluster;
  }

  async add(id: string): Promise<Node> {
    const logs: LogRecord[] = [];
    const logger = new Logger("cluster", "warn", {
      handlers: [{ handle: (record) => void logs.push(record) }],
    });
    const bus = new RedisBus(this.redis.url, {
      nodeId: id,
      heartbeatInterval: 100,
      heartbeatTtl: 500,
      takeoverTimeout: 2000,
      logger,
      ...this.#busOptions,
    });
    const server = new Server({ bus, logger });
    await server.start();
    const node = { server, bus, logs };
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): Node {
    return this.nodes.get(id)!;
  }

  /** Waits until every node but `id` sends messages on `topic` to it. */
  async interested(id: string, topic: string): Promise<void> {
    for (const [other, node] of this.nodes) {
      if (other === id) continue;
      await until(
        () => node.bus.nodesFor(topic).includes(id),
        `${other} to know ${id} subscribes to ${topic}`,
      );
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const node of this.nodes.values()) await node.server.stop();
    await this.redis.stop();
  }
}

/** A 5.0 client of a node, connected. */
async function client(
  node: Node,
  clientId: string,
  fields: Record<string, unknown> = {},
): Promise<Peer> {
  const { peer } = connectStream(node.server);
  const connack = await peer.connect({
    clientId,
    protocolVersion: 5,
    ...fields,
  });
  strictEqual(connack.type, "connack");
  strictEqual("reasonCode" in connack && connack.reasonCode, 0);
  return peer;
}

async function subscribe(
  peer: Peer,
  topicFilter: string,
  qos: 0 | 1 | 2,
): Promise<void> {
  await peer.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter, qos }],
  });
  strictEqual((await peer.next()).type, "suback");
}

/** Publishes and completes the QoS 1 or 2 flow. */
async function publish(
  peer: Peer,
  topic: string,
  payload: string,
  qos: 0 | 1 | 2,
  packetId = 1,
  retain = false,
): Promise<void> {
  await peer.send({
    type: "publish",
    topic,
    payload: new TextEncoder().encode(payload),
    qos,
    retain,
    dup: false,
    ...(qos > 0 ? { packetId } : {}),
  } as PublishPacket);
  if (qos === 1) strictEqual((await peer.next()).type, "puback");
  if (qos === 2) {
    strictEqual((await peer.next()).type, "pubrec");
    await peer.send({ type: "pubrel", packetId });
    strictEqual((await peer.next()).type, "pubcomp");
  }
}

/** Reads `count` PUBLISH packets, acknowledging them; their payloads. */
async function receive(
  peer: Peer,
  count: number,
  timeout = 5000,
): Promise<string[]> {
  const payloads: string[] = [];
  let unreleased = 0;
  while (payloads.length < count || unreleased > 0) {
    const packet = await peer.next(timeout);
    if (packet.type === "pubrel") {
      unreleased--;
      await peer.send({ type: "pubcomp", packetId: packet.packetId });
      continue;
    }
    if (packet.type !== "publish") continue;
    payloads.push(new TextDecoder().decode(packet.payload));
    if (packet.qos === 1) {
      await peer.send({ type: "puback", packetId: packet.packetId! });
    } else if (packet.qos === 2) {
      unreleased++;
      await peer.send({ type: "pubrec", packetId: packet.packetId! });
    }
  }
  return payloads;
}

Deno.test("A cluster delivers a message published on one node to subscribers on the others, once each, at QoS 0, 1 and 2, and only to nodes that subscribe", async () => {
  await using cluster = await Cluster.start(["a", "b", "c"]);
  const sub = await client(cluster.node("b"), "sub");
  // Overlapping subscriptions of one client: still one copy.
  await subscribe(sub, "t/#", 2);
  await subscribe(sub, "t/+", 2);
  await cluster.interested("b", "t/1");
  const pub = await client(cluster.node("a"), "pub");

  const sent: string[] = [];
  for (let i = 0; i < 30; i++) {
    const qos = (i % 3) as 0 | 1 | 2;
    await publish(pub, "t/1", `m${i}`, qos, i + 1);
    sent.push(`m${i}`);
  }
  const got = await receive(sub, 30);
  deepStrictEqual(got.sort(), sent.sort());
  await sub.nothing(200);

  // Node c subscribes to nothing: nothing was sent to it.
  strictEqual(cluster.node("c").bus.status().messagesReceived, 0);
  strictEqual(cluster.node("a").bus.status().messagesSent, 30);
  strictEqual(cluster.node("b").bus.status().messagesReceived, 30);
  await sub.close();
  await pub.close();
});

Deno.test("A cluster node drops and counts QoS 0 messages for other nodes while Redis does not read, and delivers again once it does", async () => {
  // Heartbeats that outlive the pause, so that no node is taken for dead.
  await using cluster = await Cluster.start(["a", "b"], undefined, {
    heartbeatTtl: 30_000,
  });
  const a = cluster.node("a");
  // A subscriber on b that is never read (its own output drops), and one
  // that is.
  const sink = await client(cluster.node("b"), "sink");
  await subscribe(sink, "flood/#", 0);
  const sub = await client(cluster.node("b"), "sub");
  await subscribe(sub, "after/#", 0);
  await cluster.interested("b", "flood/1");
  await cluster.interested("b", "after/1");

  // Redis stops reading; its socket buffers fill, then the node's own.
  Deno.kill(cluster.redis.pid, "SIGSTOP");
  const payload = new Uint8Array(64 * 1024);
  try {
    // 40 MiB in 640 turns: well past the 16 MiB the node keeps.
    for (let i = 0; i < 640; i++) {
      await a.server.publish({ topic: "flood/1", payload });
    }
  } finally {
    Deno.kill(cluster.redis.pid, "SIGCONT");
  }
  const dropped = a.bus.status().messagesDropped;
  ok(dropped > 0, "nothing was dropped");
  // What was not dropped is at most what the node keeps, and the sockets.
  ok(dropped < 640, `all ${dropped} dropped`);
  const warnings = a.logs.filter((r) =>
    r.msg === "cluster messages dropped: Redis is behind"
  );
  strictEqual(warnings.length, 1);
  ok((warnings[0]!.fields.dropped as number) > 0);
  ok((warnings[0]!.fields.unwritten_bytes as number) > 16 * 1024 * 1024);

  // Redis reads again: messages go across as before.
  const pub = await client(a, "pub");
  let delivered: string[] = [];
  for (let i = 0; delivered.length === 0 && i < 50; i++) {
    await publish(pub, "after/1", `after ${i}`, 0);
    delivered = await receive(sub, 1, 300).catch(() => []);
  }
  strictEqual(delivered.length, 1);
  strictEqual(a.bus.status().messagesDropped, dropped);
  await sink.close();
  await sub.close();
  await pub.close();
});

Deno.test("A cluster keeps a retained message published on one node, for a subscriber that comes later on another", async () => {
  await using cluster = await Cluster.start(["a", "b"]);
  const pub = await client(cluster.node("a"), "pub");
  await publish(pub, "config/x", "kept", 1, 1, true);
  await until(
    () => cluster.node("b").server.retained("config/x").length === 1,
    "b to keep the retained message",
  );
  const sub = await client(cluster.node("b"), "sub");
  await subscribe(sub, "config/#", 1);
  deepStrictEqual(await receive(sub, 1), ["kept"]);
  await sub.close();
  await pub.close();
});

Deno.test("A cluster takes a client id over across nodes: the node that held it disconnects the old connection with Session taken over", async () => {
  await using cluster = await Cluster.start(["a", "b"]);
  const first = await client(cluster.node("a"), "dev-1");
  const second = await client(cluster.node("b"), "dev-1");
  const disconnect = await first.next(5000);
  strictEqual(disconnect.type, "disconnect");
  strictEqual("reasonCode" in disconnect && disconnect.reasonCode, 0x8e);
  await first.closed();
  await until(
    () => cluster.node("a").server.clients().length === 0,
    "a to let go of the client",
  );
  strictEqual(cluster.node("b").server.clients().length, 1);
  await second.close();
  await first.close();
});

Deno.test("A second node with a node id in use is refused at start", async () => {
  await using cluster = await Cluster.start(["a"]);
  const twin = new Server({
    bus: new RedisBus(cluster.redis.url, { nodeId: "a" }),
  });
  await rejects(twin.start(), /node id "a" is in use/);
  await twin.stop();
});

Deno.test("A cluster node logs and skips a malformed message from Redis, and goes on", async () => {
  await using cluster = await Cluster.start(["a", "b"]);
  const sub = await client(cluster.node("b"), "sub");
  await subscribe(sub, "t/#", 1);
  await cluster.interested("b", "t/1");
  await using redis = new RedisClient(cluster.redis.url);
  await redis.send(["PUBLISH", "gmqtt:q0:b", "not a message"]);
  await redis.send(["XADD", "gmqtt:stream:b", "*", "b", "nor this"]);
  await redis.send(["PUBLISH", "gmqtt:interest", "{"]);
  const pub = await client(cluster.node("a"), "pub");
  await publish(pub, "t/1", "fine", 1);
  deepStrictEqual(await receive(sub, 1), ["fine"]);
  ok(
    cluster.node("b").logs.some((r) =>
      r.msg === "cluster error" && r.fields?.kind === "message"
    ),
  );
  await sub.close();
  await pub.close();
});

Deno.test("A cluster recovers when Redis restarts: the nodes join again and deliver across nodes", async () => {
  await using cluster = await Cluster.start(["a", "b"]);
  const sub = await client(cluster.node("b"), "sub");
  await subscribe(sub, "t/#", 1);
  await cluster.interested("b", "t/1");
  await cluster.redis.restart();
  // Redis came back empty: each node writes itself and its filters again.
  await using redis = new RedisClient(cluster.redis.url);
  // Generous bounds: under the parallel test run a node's reconnection,
  // backing off, can take seconds.
  for (let i = 0; i < 250; i++) {
    if (await redis.send(["SISMEMBER", "gmqtt:interest:b", "t/#"]) === 1) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const pub = await client(cluster.node("a"), "pub");
  let delivered: string[] = [];
  for (let i = 0; delivered.length === 0 && i < 50; i++) {
    await publish(pub, "t/1", `after ${i}`, 1, i + 1);
    delivered = await receive(sub, 1, 300).catch(() => []);
  }
  ok(
    delivered.length === 1,
    `nothing delivered after the restart: ${
      JSON.stringify([...cluster.nodes.values()].map((n) => n.logs))
    }`,
  );
  await sub.close();
  await pub.close();
});

Deno.test("A cluster node shows the cluster to operators: GET /api/v1/cluster, the node of each client, Prometheus gauges, $SYS kept to the node, /healthz degraded without Redis", async () => {
  await using cluster = await Cluster.start(["a", "b"]);
  const a = cluster.node("a");
  const handle = apiHandler(a.server);
  const get = async (path: string): Promise<Response> =>
    await handle(new Request(`http://localhost${path}`));

  const sub = await client(a, "sub");
  const body = await (await get("/api/v1/cluster")).json();
  strictEqual(body.nodeId, "a");
  deepStrictEqual(
    body.nodes.map((n: { nodeId: string }) => n.nodeId).sort(),
    ["a", "b"],
  );
  const clients = await (await get("/api/v1/clients")).json();
  deepStrictEqual(
    clients.items.map((c: { clientId: string; node: string }) => [
      c.clientId,
      c.node,
    ]),
    [["sub", "a"]],
  );
  const metrics = await (await get("/metrics")).text();
  ok(metrics.includes("gmqtt_cluster_nodes 2"), metrics);

  // A node's $SYS is its own, even retained.
  await a.server.publish({
    topic: "$SYS/broker/x",
    payload: "a",
    retain: true,
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  deepStrictEqual(cluster.node("b").server.retained("$SYS/broker/x"), []);

  deepStrictEqual(await (await get("/healthz")).json(), { status: "ok" });
  await cluster.redis.stop();
  await until(() => !a.bus.status().connected, "a to lose Redis");
  deepStrictEqual(await (await get("/healthz")).json(), {
    status: "degraded",
    cluster: "redis unreachable",
  });
  await cluster.redis.start();
  await sub.close();
});

Deno.test("A broker alone answers 404 to GET /api/v1/cluster", async () => {
  const server = new Server();
  const response = await apiHandler(server)(
    new Request("http://localhost/api/v1/cluster"),
  );
  strictEqual(response.status, 404);
  await response.body?.cancel();
  await server.stop();
});

Deno.test("A cluster gives each message of a shared subscription group with members on several nodes to one member in all, spread over the nodes", async () => {
  await using cluster = await Cluster.start(["a", "b", "c"]);
  const members = new Map<string, Peer>();
  for (const id of ["a", "b", "c"]) {
    const peer = await client(cluster.node(id), `worker-${id}`);
    await subscribe(peer, "$share/workers/jobs/+", 1);
    members.set(id, peer);
  }
  // A plain subscriber sees every message too.
  const watcher = await client(cluster.node("b"), "watcher");
  await subscribe(watcher, "jobs/#", 1);
  for (const [id, node] of cluster.nodes) {
    await until(
      () =>
        ["a", "b", "c"].filter((other) => other !== id).every((other) =>
          node.bus.nodesFor("jobs/1").includes(other)
        ),
      `${id} to know every member's node`,
    );
  }
  // The group announcements travel like the filters: give them a moment.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const pub = await client(cluster.node("a"), "pub");
  const sent = Array.from({ length: 30 }, (_, i) => `job ${i}`);
  for (const [i, payload] of sent.entries()) {
    await publish(pub, "jobs/1", payload, 1, i + 1);
  }
  deepStrictEqual((await receive(watcher, 30)).sort(), [...sent].sort());
  const got = new Map<string, string[]>();
  for (const [id, peer] of members) {
    const payloads: string[] = [];
    try {
      for (;;) payloads.push(...await receive(peer, 1, 300));
    } catch {
      // Nothing more within the wait.
    }
    got.set(id, payloads);
  }
  deepStrictEqual([...got.values()].flat().sort(), [...sent].sort());
  for (const [id, payloads] of got) {
    ok(payloads.length >= 5, `${id} got ${payloads.length} of 30`);
  }
  for (const peer of [...members.values(), watcher, pub]) await peer.close();
});

Deno.test("A cluster loses no acknowledged QoS 1 message when Redis is killed and restarted under load", async () => {
  // Redis keeps what it acknowledged: an append-only file synced at once.
  const dir = await Deno.makeTempDir({ prefix: "gmqtt-redis-" });
  try {
    await using cluster = await Cluster.start(["a", "b"], [
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
    ]);
    const sub = await client(cluster.node("b"), "sub");
    await subscribe(sub, "load/#", 1);
    await cluster.interested("b", "load/1");
    const received = new Set<string>();
    const receiving = (async () => {
      while (received.size < 300) {
        for (const payload of await receive(sub, 1, 15_000)) {
          received.add(payload);
        }
      }
    })();
    const pub = await client(cluster.node("a"), "pub");
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < 300; i++) {
      if (i === 100) restarted = cluster.redis.restart();
      // Refused (0x80) while the message cannot reach node b's stream: sent
      // again, as a client does.
      for (let attempt = 0;; attempt++) {
        await pub.send({
          type: "publish",
          topic: "load/1",
          payload: new TextEncoder().encode(`m${i}`),
          qos: 1,
          retain: false,
          dup: attempt > 0,
          packetId: (i % 60_000) + 1,
        });
        const ack = await pub.next(15_000);
        strictEqual(ack.type, "puback");
        if (!("reasonCode" in ack) || (ack.reasonCode ?? 0) < 0x80) break;
        ok(attempt < 50, `m${i} refused 50 times`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await restarted;
    await receiving;
    strictEqual(received.size, 300);
    await sub.close();
    await pub.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
