/**
 * The embedding API: stop(), kick(), publish(), subscribe() and
 * unsubscribe() for offline sessions, and the clients(), sessions() and
 * subscriptions() reports; over in-memory pipes, but for the listeners.
 */

import {
  deepStrictEqual,
  ok,
  rejects,
  strictEqual,
  throws,
} from "node:assert/strict";
import {
  ack,
  connack,
  PINGREQ,
  PINGRESP,
  publish,
} from "../packets/testdata/packets.ts";
import { Server } from "../mod.ts";
import { startPipeServer, startServer, type TestServer } from "./_client.ts";
import { FakeClock, subscribeTo, text, waitFor } from "./_harness.ts";

/** Leaves a persistent session offline, subscribed to `filters` at QoS 1. */
async function leaveOffline(
  s: TestServer,
  clientId: string,
  filters: string[],
): Promise<void> {
  const { client } = await s.connect({ clientId, clean: false });
  await using _ = client;
  let packetId = 1;
  for (const filter of filters) {
    await subscribeTo(client, filter, 1, packetId++);
  }
  await client.send({ type: "disconnect" });
  await client.closed();
}

Deno.test("Server.stop() closes the listeners: new connections are refused", async () => {
  await using s = await startServer();
  await s.server.stop();
  deepStrictEqual(s.server.addresses, []);
  await rejects(Deno.connect({ hostname: "127.0.0.1", port: s.port }));
});

Deno.test("Server.stop() closes every client, resolves, then calls onStop", async () => {
  const events: string[] = [];
  await using s = await startPipeServer({
    hooks: { onStop: () => void events.push("onStop") },
  });
  const a = await s.connect({ clientId: "a" });
  await using _a = a.client;
  const b = await s.connect({ clientId: "b", clean: false });
  await using _b = b.client;
  await s.server.stop();
  events.push("stopped");
  await a.client.closed();
  await b.client.closed();
  deepStrictEqual(events, ["onStop", "stopped"]);
  deepStrictEqual(s.server.clients(), []);
});

Deno.test("Server.kick() closes a client and publishes its will", async () => {
  await using s = await startPipeServer();
  const { client: watch } = await s.connect({ clientId: "w" });
  await using _watch = watch;
  await subscribeTo(watch, "will/#", 0);
  const { client } = await s.connect({
    clientId: "rude",
    will: {
      topic: "will/rude",
      payload: new TextEncoder().encode("kicked"),
      qos: 0,
      retain: false,
    },
  });
  await using _ = client;
  strictEqual(await s.server.kick("rude"), true);
  await client.closed();
  deepStrictEqual(
    await watch.next(),
    publish({ topic: "will/rude", payload: "kicked" }),
  );
  deepStrictEqual(s.server.clients().map((c) => c.clientId), ["w"]);
});

Deno.test("Server.kick() keeps a persistent session unless discardSession is set", async () => {
  await using s = await startPipeServer();
  for (const discardSession of [false, true]) {
    const { client } = await s.connect({
      clientId: "k",
      clean: false,
    });
    await using _ = client;
    await subscribeTo(client, "k/#", 1);
    strictEqual(await s.server.kick("k", { discardSession }), true);
    await client.closed();
    strictEqual(s.server.session("k") === undefined, discardSession);
    const again = await s.connect({
      clientId: "k",
      clean: false,
    });
    await using _again = again.client;
    deepStrictEqual(
      again.connack,
      connack({ sessionPresent: !discardSession }),
    );
    await again.client.send({ type: "disconnect" });
    await again.client.closed();
  }
});

Deno.test("Server.kick() ends an offline session with discardSession, and says false for an unknown id", async () => {
  await using s = await startPipeServer();
  await leaveOffline(s, "gone", ["g/#"]);
  strictEqual(await s.server.kick("gone", { discardSession: true }), true);
  deepStrictEqual(s.server.sessions(), []);
  deepStrictEqual(s.server.subscriptions(), []);
  strictEqual(await s.server.kick("nobody"), false);
  strictEqual(await s.server.kick("nobody", { discardSession: true }), false);
});

Deno.test("Server.publish() reaches subscribers at the lower of the two QoS", async () => {
  await using s = await startPipeServer();
  const { client: one } = await s.connect({ clientId: "one" });
  await using _one = one;
  await subscribeTo(one, "p/#", 1);
  const { client: zero } = await s.connect({
    clientId: "zero",
  });
  await using _zero = zero;
  await subscribeTo(zero, "p/+", 0);
  await s.server.publish({ topic: "p/a", payload: "from server", qos: 1 });
  deepStrictEqual(
    await one.next(),
    publish({ topic: "p/a", payload: "from server", qos: 1, packetId: 1 }),
  );
  deepStrictEqual(
    await zero.next(),
    publish({ topic: "p/a", payload: "from server" }),
  );
  await one.send(ack({ type: "puback", packetId: 1 }));
});

Deno.test("Server.publish() with retain stores the message for later subscribers", async () => {
  await using s = await startPipeServer();
  await s.server.publish({ topic: "r/a", payload: "kept", retain: true });
  deepStrictEqual(s.server.retained().map((m) => [m.topic, text(m.payload)]), [
    ["r/a", "kept"],
  ]);
  const { client } = await s.connect({ clientId: "late" });
  await using _ = client;
  await subscribeTo(client, "r/#", 0);
  deepStrictEqual(
    await client.next(),
    publish({ topic: "r/a", payload: "kept", retain: true }),
  );
});

Deno.test("Server.subscribe() subscribes an offline persistent session: messages queue for it", async () => {
  await using s = await startPipeServer();
  await leaveOffline(s, "later", []);
  deepStrictEqual(
    s.server.subscribe("later", [{ topicFilter: "news/#", qos: 1 }]),
    [true],
  );
  await s.server.publish({ topic: "news/1", payload: "read me", qos: 1 });
  strictEqual(s.server.session("later")?.queued, 1);
  const { client, connack: answer } = await s.connect({
    clientId: "later",
    clean: false,
  });
  await using _ = client;
  deepStrictEqual(answer, connack({ sessionPresent: true }));
  deepStrictEqual(
    await client.next(),
    publish({ topic: "news/1", payload: "read me", qos: 1, packetId: 1 }),
  );
});

Deno.test("Server.subscribe() throws a RangeError for an unknown client id", async () => {
  await using s = await startPipeServer();
  throws(
    () => s.server.subscribe("nobody", [{ topicFilter: "a", qos: 0 }]),
    RangeError,
  );
});

Deno.test("Server.unsubscribe() removes an offline session's subscription: nothing more queues", async () => {
  await using s = await startPipeServer();
  await leaveOffline(s, "quit", ["a/#", "b/#"]);
  deepStrictEqual(s.server.unsubscribe("quit", ["a/#", "c/#"]), [true, false]);
  await s.server.publish({ topic: "a/1", payload: "x", qos: 1 });
  strictEqual(s.server.session("quit")?.queued, 0);
  await s.server.publish({ topic: "b/1", payload: "y", qos: 1 });
  strictEqual(s.server.session("quit")?.queued, 1);
});

Deno.test("Server.clients() reports each connected client", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({ now: clock.now });
  const connectedAt = clock.now();
  const { client } = await s.connect({
    clientId: "me",
    username: "alice",
    clean: false,
    keepAlive: 30,
  });
  await using _ = client;
  await subscribeTo(client, "x/#", 1);
  await subscribeTo(client, "y/#", 0, 11);
  const [summary, ...rest] = s.server.clients();
  deepStrictEqual(rest, []);
  ok(summary !== undefined);
  deepStrictEqual(
    {
      clientId: summary.clientId,
      username: summary.username,
      protocolVersion: summary.protocolVersion,
      clean: summary.clean,
      keepAlive: summary.keepAlive,
      transport: summary.transport,
      connectedAt: summary.connectedAt,
      subscriptions: summary.subscriptions,
      inflight: summary.inflight,
      queued: summary.queued,
    },
    {
      clientId: "me",
      username: "alice",
      protocolVersion: 4,
      clean: false,
      keepAlive: 30,
      transport: "stream",
      connectedAt,
      subscriptions: 2,
      inflight: 0,
      queued: 0,
    },
  );
  strictEqual(summary.packetsIn, 3);
  deepStrictEqual(s.server.client("me"), summary);
  strictEqual(s.server.client("other"), undefined);
  await client.send({ type: "disconnect" });
  await client.closed();
  deepStrictEqual(s.server.clients(), []);
});

Deno.test("Server.sessions() reports online and offline sessions with their subscriptions and queue", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({ now: clock.now, sessionExpiry: 600 });
  const createdAt = clock.now();
  await leaveOffline(s, "off", ["o/#"]);
  clock.advance(1000);
  await s.server.publish({ topic: "o/1", qos: 1 });
  const { client } = await s.connect({ clientId: "on" });
  await using _ = client;
  const byId = new Map(s.server.sessions().map((x) => [x.clientId, x]));
  deepStrictEqual([...byId.keys()].sort(), ["off", "on"]);
  deepStrictEqual(byId.get("off"), {
    clientId: "off",
    username: undefined,
    connected: false,
    createdAt,
    disconnectedAt: createdAt,
    expiryInterval: 600,
    inflight: 0,
    inflightLimit: 32,
    queued: 1,
    queueLimit: 1000,
    subscriptions: [{ topicFilter: "o/#", qos: 1 }],
  });
  const on = byId.get("on");
  deepStrictEqual(
    [on?.connected, on?.disconnectedAt, on?.expiryInterval],
    [true, undefined, 0],
  );
});

Deno.test("Server.subscriptions() lists every subscription, by client id or by matching topic", async () => {
  await using s = await startPipeServer();
  const { client: a } = await s.connect({ clientId: "a" });
  await using _a = a;
  await subscribeTo(a, "s/+", 1);
  await subscribeTo(a, "t/#", 0, 11);
  const { client: b } = await s.connect({ clientId: "b" });
  await using _b = b;
  await subscribeTo(b, "s/x", 2);
  const all = s.server.subscriptions()
    .map((x) => [x.clientId, x.topicFilter, x.qos])
    .sort();
  deepStrictEqual(all, [["a", "s/+", 1], ["a", "t/#", 0], ["b", "s/x", 2]]);
  deepStrictEqual(
    s.server.subscriptions({ clientId: "b" }),
    [{ clientId: "b", topicFilter: "s/x", qos: 2 }],
  );
  deepStrictEqual(
    s.server.subscriptions({ topic: "s/x" })
      .map((x) => [x.clientId, x.topicFilter])
      .sort(),
    [["a", "s/+"], ["b", "s/x"]],
  );
  deepStrictEqual(s.server.subscriptions({ topic: "u/1" }), []);
  // Gone with the clean session of a client that leaves.
  await b.send({ type: "disconnect" });
  await b.closed();
  await waitFor(() => s.server.subscriptions({ clientId: "b" }).length === 0);
  await a.send(PINGREQ);
  deepStrictEqual(await a.next(), PINGRESP);
});

Deno.test("Server.start() refuses to start a server that was stopped", async () => {
  const server = new Server();
  server.listen({ hostname: "127.0.0.1", port: 0 });
  await server.start();
  await server.stop();
  await rejects(() => server.start(), TypeError);
  deepStrictEqual(server.addresses, []);
});
