/**
 * Retained messages end to end: storing, replacing, deleting, delivering on
 * subscribe, and the RETAIN flag of live deliveries, over in-memory pipes.
 */

import { deepStrictEqual } from "node:assert/strict";
import type { QoS } from "../packets/mod.ts";
import { startPipeServer, type TestClient } from "./_client.ts";
import { connect, publish, subscribe } from "./_pubsub.ts";

/** Publishes a retained message and waits for the acknowledgement. */
async function retain(
  pub: TestClient,
  topic: string,
  payload: string,
  qos: QoS = 1,
): Promise<void> {
  if (qos === 0) {
    await pub.send(publish({ topic, payload, retain: true }));
    // A PINGRESP comes after the PUBLISH was handled.
    await pub.send({ type: "pingreq" });
    deepStrictEqual(await pub.next(), { type: "pingresp" });
    return;
  }
  await pub.send(publish({ topic, payload, qos, retain: true, packetId: 1 }));
  if (qos === 1) {
    deepStrictEqual(await pub.next(), { type: "puback", packetId: 1 });
  } else {
    deepStrictEqual(await pub.next(), { type: "pubrec", packetId: 1 });
    await pub.send({ type: "pubrel", packetId: 1 });
    deepStrictEqual(await pub.next(), { type: "pubcomp", packetId: 1 });
  }
}

Deno.test("Server delivers a retained message to a new subscription with RETAIN 1", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "a/b", "kept");
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["a/b", 1]]);
  // [MQTT-3.3.1-6] [MQTT-3.3.1-8] Sent on subscribe with RETAIN set.
  deepStrictEqual(
    await sub.next(),
    publish({
      topic: "a/b",
      payload: "kept",
      qos: 1,
      retain: true,
      packetId: 1,
    }),
  );
  await sub.nothingPending();
});

Deno.test("Server delivers a retained message at the lower of its QoS and the granted QoS", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "q2", "two", 2);
  await retain(pub, "q0", "zero", 0);
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["q2", 1]]);
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "q2", payload: "two", qos: 1, retain: true, packetId: 1 }),
  );
  await subscribe(sub, [["q0", 2]], { packetId: 2 });
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "q0", payload: "zero", retain: true }),
  );
  await sub.nothingPending();
});

Deno.test("Server replaces the retained message of a topic by a new retained publish", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "a/b", "one");
  await retain(pub, "a/b", "two");
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["a/b", 0]]);
  // [MQTT-3.3.1-5] Only the latest retained message of the topic is kept.
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "two", retain: true }),
  );
  await sub.nothingPending();
});

Deno.test("Server keeps one retained message per topic", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "a/1", "one");
  await retain(pub, "a/2", "two");
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["a/+", 0]]);
  const got = [await sub.next(), await sub.next()]
    .map((p) => p.type === "publish" ? p.topic : p.type)
    .sort();
  deepStrictEqual(got, ["a/1", "a/2"]);
  await sub.nothingPending();
});

Deno.test("Server deletes the retained message of a topic on an empty retained publish", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "a/b", "kept");
  await retain(pub, "a/b", "");
  // [MQTT-3.3.1-10] Deleted; [MQTT-3.3.1-11] the empty message is not kept.
  deepStrictEqual(s.server.retained("#"), []);
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["a/b", 1]]);
  await sub.nothingPending();
});

Deno.test("Server routes an empty retained publish to current subscribers as usual", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["a/b", 1]]);
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "a/b", "");
  // [MQTT-3.3.1-10] "processed as normal by the Server and sent to Clients".
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "", qos: 1, packetId: 1 }),
  );
});

Deno.test("Server never stores a retained QoS 0 message with an empty payload", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "a/b", "", 0);
  deepStrictEqual(s.server.retained("#"), []);
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["a/b", 0]]);
  await sub.nothingPending();
});

Deno.test("Server replaces a retained QoS 1 message by a retained QoS 0 one", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "a/b", "one", 1);
  await retain(pub, "a/b", "zero", 0);
  // [MQTT-3.3.1-7] A retained QoS 0 message discards the one kept before.
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["a/b", 1]]);
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "zero", retain: true }),
  );
  await sub.nothingPending();
});

Deno.test("Server delivers a retained publish to an existing subscriber with RETAIN 0", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["a/b", 1]]);
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "a/b", "live");
  // [MQTT-3.3.1-9] RETAIN 0 on a delivery to an established subscription.
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "live", qos: 1, packetId: 1 }),
  );
  await sub.nothingPending();
});

Deno.test("Server sends retained $ topics to $SYS/# but not to # or +/... subscriptions", async () => {
  await using s = await startPipeServer();
  await s.server.publish({
    topic: "$SYS/uptime",
    payload: "42",
    retain: true,
  });
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "$app/x", "app");
  await using sub = await connect(s, { clientId: "sub" });
  // [MQTT-4.7.2-1] Filters starting with a wildcard skip "$" topics.
  await subscribe(sub, [["#", 0], ["+/uptime", 0], ["+/x", 0]]);
  await sub.nothingPending();
  await subscribe(sub, [["$SYS/#", 0]], { packetId: 2 });
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "$SYS/uptime", payload: "42", retain: true }),
  );
  await sub.nothingPending();
});

Deno.test("Server replaces a subscription to the same filter and sends the retained messages again", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  await retain(pub, "a/b", "kept", 2);
  await using sub = await connect(s, { clientId: "sub" });
  await subscribe(sub, [["a/b", 0]]);
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "kept", retain: true }),
  );
  // [MQTT-3.8.4-3] The new subscription replaces the old one, and its
  // retained messages are sent again, at the new QoS.
  deepStrictEqual(
    (await subscribe(sub, [["a/b", 1]], { packetId: 2 })).reasonCodes,
    [1],
  );
  deepStrictEqual(
    await sub.next(),
    publish({
      topic: "a/b",
      payload: "kept",
      qos: 1,
      retain: true,
      packetId: 1,
    }),
  );
  await sub.send({ type: "puback", packetId: 1 });
  deepStrictEqual(s.server.subscriptions({ clientId: "sub" }).length, 1);
  // One copy of a live message, at the new QoS.
  await pub.send(
    publish({ topic: "a/b", payload: "new", qos: 2, packetId: 5 }),
  );
  deepStrictEqual(await pub.next(), { type: "pubrec", packetId: 5 });
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "new", qos: 1, packetId: 2 }),
  );
  await sub.nothingPending();
});
