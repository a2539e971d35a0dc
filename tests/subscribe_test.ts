/**
 * SUBSCRIBE and UNSUBSCRIBE end to end, and topic matching as subscribers
 * see it, over in-memory pipes.
 */

import { deepStrictEqual } from "node:assert/strict";
import { startPipeServer, type TestClient } from "./_client.ts";
import { connect, malformed, publish, subscribe } from "./_pubsub.ts";

/** Publishes QoS 0 messages (payload = topic) and waits until routed. */
async function publishAll(pub: TestClient, topics: string[]): Promise<void> {
  for (const topic of topics) {
    await pub.send(publish({ topic, payload: topic }));
  }
  await pub.send({ type: "pingreq" });
  deepStrictEqual(await pub.next(), { type: "pingresp" });
}

/** Topics of the next `n` PUBLISH packets, then asserts nothing more comes. */
async function receivedTopics(sub: TestClient, n: number): Promise<string[]> {
  const topics: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = await sub.next();
    topics.push(p.type === "publish" ? p.topic : p.type);
  }
  await sub.nothingPending();
  return topics;
}

Deno.test("Server routes to a + filter the topics that match one level there", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/+/c", 0]]);
  // [MQTT-4.7.1-3] "+" matches exactly one level, an empty one included.
  await publishAll(pub, ["a/b/c", "a/b/d", "a/b/x/c", "a/c", "a//c", "b/b/c"]);
  deepStrictEqual(await receivedTopics(sub, 2), ["a/b/c", "a//c"]);
});

Deno.test("Server routes to a # filter the topics at any depth under it", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/#", 0]]);
  await publishAll(pub, ["a/b", "a/b/c/d", "b/a", "A/b", "ab"]);
  deepStrictEqual(await receivedTopics(sub, 2), ["a/b", "a/b/c/d"]);
});

Deno.test("Server routes a topic to a # filter on its own parent level", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/#", 0]]);
  // [MQTT-4.7.1-2] "sport/#" also matches "sport".
  await publishAll(pub, ["a"]);
  deepStrictEqual(await receivedTopics(sub, 1), ["a"]);
});

Deno.test("Server routes every topic not starting with $ to a # filter", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["#", 0]]);
  await publishAll(pub, ["a", "/", "a/b/c", "x$"]);
  deepStrictEqual(await receivedTopics(sub, 4), ["a", "/", "a/b/c", "x$"]);
});

Deno.test("Server routes $SYS topics to $SYS/# but not to # or +/x", async () => {
  await using s = await startPipeServer();
  await using all = await connect(s, { clientId: "all" });
  await using sys = await connect(s, { clientId: "sys" });
  await subscribe(all, [["#", 0], ["+/x", 0], ["+/+", 0]]);
  await subscribe(sys, [["$SYS/#", 0]]);
  // [MQTT-4.7.2-1] Wildcards at the first level do not match "$" topics.
  await s.server.publish({ topic: "$SYS/x", payload: "up" });
  deepStrictEqual(
    await sys.next(),
    publish({ topic: "$SYS/x", payload: "up" }),
  );
  await all.nothingPending();
});

Deno.test("Server acknowledges a PUBLISH to a $ topic and routes it to no first-level wildcard", async () => {
  await using s = await startPipeServer();
  await using all = await connect(s, { clientId: "all" });
  await using exact = await connect(s, { clientId: "exact" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(all, [["+/+", 0], ["#", 0]]);
  await subscribe(exact, [["$Topic/x", 0]]);
  await pub.send(
    publish({ topic: "$Topic/x", payload: "p", qos: 1, packetId: 4 }),
  );
  // [MQTT-4.7.2-1] Accepted and acknowledged, but not matched by "+/+", "#".
  deepStrictEqual(await pub.next(), { type: "puback", packetId: 4 });
  deepStrictEqual(
    await exact.next(),
    publish({ topic: "$Topic/x", payload: "p" }),
  );
  await all.nothingPending();
});

Deno.test("Server matches topic names case-sensitively", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/b", 0]]);
  await publishAll(pub, ["A/b", "a/B", "a/b"]);
  deepStrictEqual(await receivedTopics(sub, 1), ["a/b"]);
});

Deno.test("Server answers SUBSCRIBE with one SUBACK code per filter, in order", async () => {
  const hooks = {
    checkSubscribe: (_client: unknown, s: { topicFilter: string }) =>
      s.topicFilter === "secret" ? 0x87 : undefined,
  };
  await using s = await startPipeServer({ hooks });
  await using sub = await connect(s, { clientId: "sub" });
  await sub.send({
    type: "subscribe",
    packetId: 77,
    subscriptions: [
      { topicFilter: "a", qos: 2 },
      { topicFilter: "b", qos: 0 },
      { topicFilter: "secret", qos: 1 },
      { topicFilter: "c/+", qos: 1 },
    ],
  });
  // [MQTT-3.8.4-1] SUBACK with the SUBSCRIBE's packet id; [MQTT-3.8.4-5]
  // one code per filter in order; 3.1.1 failure is 0x80 [MQTT-3.9.3-2].
  deepStrictEqual(await sub.next(), {
    type: "suback",
    packetId: 77,
    reasonCodes: [2, 0, 0x80, 1],
  });
});

Deno.test("Server grants at most maxQoS and delivers at the granted QoS", async () => {
  await using s = await startPipeServer({ maxQoS: 1 });
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  // [MQTT-3.8.4-6] The server may grant a lower QoS than asked.
  deepStrictEqual(
    (await subscribe(sub, [["a", 2], ["b", 1], ["c", 0]])).reasonCodes,
    [1, 1, 0],
  );
  await pub.send(publish({ topic: "a", payload: "x", qos: 2, packetId: 1 }));
  deepStrictEqual(await pub.next(), { type: "pubrec", packetId: 1 });
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a", payload: "x", qos: 1, packetId: 1 }),
  );
});

Deno.test("Server answers UNSUBSCRIBE with UNSUBACK for a filter never subscribed", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await sub.send({ type: "unsubscribe", packetId: 9, topicFilters: ["nope"] });
  // [MQTT-3.10.4-5] UNSUBACK even if no filter matched.
  deepStrictEqual(await sub.next(), { type: "unsuback", packetId: 9 });
});

Deno.test("Server delivers nothing on a filter after UNSUBSCRIBE and keeps the other filters", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a", 1], ["b", 1]]);
  await sub.send({ type: "unsubscribe", packetId: 2, topicFilters: ["a"] });
  // [MQTT-3.10.4-1] [MQTT-3.10.4-4] Deleted, then UNSUBACK.
  deepStrictEqual(await sub.next(), { type: "unsuback", packetId: 2 });
  await publishAll(pub, ["a", "b"]);
  deepStrictEqual(await receivedTopics(sub, 1), ["b"]);
  deepStrictEqual(
    s.server.subscriptions({ clientId: "sub" }).map((x) => x.topicFilter),
    ["b"],
  );
});

Deno.test("Server closes a connection that sends SUBSCRIBE with no filter, and serves the others", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await using bad = await connect(s, { clientId: "bad" });
  await subscribe(sub, [["a", 0]]);
  // [MQTT-3.8.3-3] At least one filter; otherwise a protocol violation.
  await bad.sendBytes(
    malformed("with no filter [MQTT-3.8.3-3]"),
  );
  await bad.closed();
  await publishAll(pub, ["a"]);
  deepStrictEqual(await receivedTopics(sub, 1), ["a"]);
});

Deno.test("Server closes a connection that subscribes at QoS 3", async () => {
  await using s = await startPipeServer();
  await using bad = await connect(s, { clientId: "bad" });
  // [MQTT-3.8.3-4] Reserved QoS in the options byte.
  await bad.sendBytes(malformed("SUBSCRIBE 3.1.1 with QoS 3"));
  await bad.closed();
  deepStrictEqual(s.server.client("bad"), undefined);
});
