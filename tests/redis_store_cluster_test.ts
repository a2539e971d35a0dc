/**
 * {@linkcode RedisStore} under a cluster of two brokers on one Redis (a
 * `RedisBus` each): a persistent session moves to the node its client
 * connects to, with its subscription and the messages queued for it while
 * it was offline, and the node it left no longer loads it.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { RedisBus, RedisStore, Server } from "../mod.ts";
import type { PublishPacket } from "../packets/types.ts";
import { connectStream, type Peer } from "./_peer.ts";
import { startRedisServer } from "./_redis.ts";

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Node extends AsyncDisposable {
  readonly server: Server;
  readonly bus: RedisBus;
}

async function startNode(url: string, nodeId: string): Promise<Node> {
  const store = await RedisStore.open(url, { nodeId });
  const bus = new RedisBus(url, {
    nodeId,
    heartbeatInterval: 100,
    heartbeatTtl: 500,
    takeoverTimeout: 2000,
  });
  const server = new Server({ bus, store });
  try {
    await server.start();
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    server,
    bus,
    async [Symbol.asyncDispose]() {
      try {
        await server.stop();
      } finally {
        await store.close();
      }
    },
  };
}

async function connect(
  node: Node,
  clientId: string,
  fields: Record<string, unknown> = {},
): Promise<{ peer: Peer; sessionPresent: boolean }> {
  const { peer } = connectStream(node.server);
  const connack = await peer.connect({
    clientId,
    protocolVersion: 5,
    ...fields,
  });
  strictEqual(connack.type, "connack");
  strictEqual("reasonCode" in connack && connack.reasonCode, 0);
  return {
    peer,
    sessionPresent: "sessionPresent" in connack && connack.sessionPresent,
  };
}

Deno.test("RedisStore in a cluster: a persistent session resumes on another node with the messages queued while its client was away", async () => {
  await using redis = await startRedisServer();
  await using a = await startNode(redis.url, "node-a");
  await using b = await startNode(redis.url, "node-b");
  const persistent = {
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
  };

  const first = await connect(a, "keeper", persistent);
  await first.peer.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter: "q/#", qos: 1 }],
  });
  strictEqual((await first.peer.next()).type, "suback");
  await first.peer.send({ type: "disconnect" });
  await first.peer.closed();
  await until(
    () => b.bus.nodesFor("q/1").includes("node-a"),
    "b to know a subscribes",
  );
  await until(
    () => a.server.session("keeper")?.connected === false,
    "a to keep the session offline",
  );

  const pub = await connect(b, "pub");
  const sent: string[] = [];
  for (let i = 1; i <= 20; i++) {
    await pub.peer.send({
      type: "publish",
      topic: `q/${i}`,
      payload: new TextEncoder().encode(`m${i}`),
      qos: 1,
      retain: false,
      dup: false,
      packetId: i,
    } as PublishPacket);
    strictEqual((await pub.peer.next()).type, "puback");
    sent.push(`m${i}`);
  }
  await until(() => a.server.session("keeper")?.queued === 20, "a to queue 20");

  // The client comes back on node b: its session moves there from Redis.
  const back = await connect(b, "keeper", persistent);
  strictEqual(back.sessionPresent, true);
  const got: string[] = [];
  while (got.length < sent.length) {
    const packet = await back.peer.next(5000);
    if (packet.type !== "publish") continue;
    got.push(new TextDecoder().decode(packet.payload));
    await back.peer.send({ type: "puback", packetId: packet.packetId! });
  }
  deepStrictEqual(got, sent);
  strictEqual(a.server.session("keeper"), undefined);
  await back.peer.send({ type: "disconnect" });
  await back.peer.closed();
  await pub.peer.close();

  // Node b owns it now, with nothing left queued.
  const check = await RedisStore.open(redis.url, { nodeId: "node-b" });
  try {
    const { sessions } = await check.load();
    deepStrictEqual(
      sessions.filter((s) => s.session.clientId === "keeper")
        .map((
          s,
        ) => [
          s.subscriptions.map(([f]) => f),
          s.queueInStore,
          s.inflight.length,
        ]),
      [[["q/#"], undefined, 0]],
    );
  } finally {
    await check.close();
  }
});
