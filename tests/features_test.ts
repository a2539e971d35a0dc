/**
 * Server options that limit or turn off features: message expiry in queues,
 * the 5.0 Receive Maximum, and wildcard, shared and identified subscriptions,
 * over in-memory pipes.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { DropReason } from "../mod.ts";
import { startPipeServer } from "./_client.ts";
import { FakeClock, waitFor } from "./_harness.ts";
import { connect, publish, subscribe } from "./_pubsub.ts";

Deno.test("Server drops a queued message older than messageExpiry when its subscriber returns", async () => {
  const clock = new FakeClock();
  const drops: DropReason[] = [];
  await using s = await startPipeServer({
    now: clock.now,
    messageExpiry: 60,
    hooks: { onMessageDropped: (_id, _m, reason) => void drops.push(reason) },
  });
  const away = await connect(s, { clientId: "away", clean: false });
  await subscribe(away, [["q/#", 1]]);
  await away.close();
  await waitFor(() => s.server.session("away")?.connected === false);

  await s.server.publish({ topic: "q/old", payload: "old", qos: 1 });
  clock.advance(61_000);
  await s.server.publish({ topic: "q/new", payload: "new", qos: 1 });

  const { client, connack } = await s.connect({
    clientId: "away",
    clean: false,
  });
  await using _ = client;
  strictEqual(connack.sessionPresent, true);
  const p = await client.next();
  ok(p.type === "publish");
  strictEqual(p.topic, "q/new");
  await client.nothingPending();
  deepStrictEqual(drops, ["expired"]);
});

Deno.test("Server announces its Receive Maximum and disconnects a 5.0 client that exceeds it with 0x93", async () => {
  await using s = await startPipeServer({ receiveMaximum: 2 });
  const { client, connack } = await s.connect({
    protocolVersion: 5,
    clientId: "eager",
  });
  await using _ = client;
  strictEqual(connack.properties?.receiveMaximum, 2);
  for (const packetId of [1, 2]) {
    await client.send(publish({ topic: "t", qos: 2, packetId }));
    strictEqual((await client.next()).type, "pubrec");
  }
  // [MQTT-3.3.4-9] A third unreleased QoS 2 PUBLISH is one too many.
  await client.send(publish({ topic: "t", qos: 2, packetId: 3 }));
  const p = await client.next();
  ok(p.type === "disconnect");
  strictEqual(p.reasonCode, 0x93);
  await client.closed();
});

Deno.test("Server refuses wildcard filters when wildcardSubscriptionAvailable is false", async () => {
  await using s = await startPipeServer({
    wildcardSubscriptionAvailable: false,
  });
  const { client: v5, connack } = await s.connect({
    protocolVersion: 5,
  });
  await using _ = v5;
  strictEqual(connack.properties?.wildcardSubscriptionAvailable, 0);
  const suback = await subscribe(v5, [["a/+", 1], ["a/b", 1], ["#", 0]]);
  deepStrictEqual(suback.reasonCodes, [0xa2, 1, 0xa2]);

  const v4 = await connect(s);
  await using __ = v4;
  deepStrictEqual((await subscribe(v4, [["a/#", 1]])).reasonCodes, [0x80]);
});

Deno.test("Server refuses shared subscriptions when sharedSubscriptionAvailable is false", async () => {
  await using s = await startPipeServer({ sharedSubscriptionAvailable: false });
  const { client, connack } = await s.connect({
    protocolVersion: 5,
  });
  await using _ = client;
  strictEqual(connack.properties?.sharedSubscriptionAvailable, 0);
  const suback = await subscribe(client, [["$share/g/a", 1], ["a", 1]]);
  deepStrictEqual(suback.reasonCodes, [0x9e, 1]);
});

Deno.test("Server disconnects with 0xA1 a SUBSCRIBE with an identifier when subscriptionIdentifiersAvailable is false", async () => {
  await using s = await startPipeServer({
    subscriptionIdentifiersAvailable: false,
  });
  const { client, connack } = await s.connect({
    protocolVersion: 5,
  });
  await using _ = client;
  strictEqual(connack.properties?.subscriptionIdentifiersAvailable, 0);
  await client.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter: "a", qos: 1 }],
    properties: { subscriptionIdentifiers: [7] },
  });
  const p = await client.next();
  ok(p.type === "disconnect");
  strictEqual(p.reasonCode, 0xa1);
  await client.closed();
});

Deno.test("Server publishes a delayed will at once when the session is discarded first", async () => {
  await using s = await startPipeServer();
  const watcher = await connect(s, { clientId: "watcher" });
  await using _ = watcher;
  await subscribe(watcher, [["wills/#", 0]]);
  const { client } = await s.connect({
    protocolVersion: 5,
    clientId: "delayed",
    properties: { sessionExpiryInterval: 3600 },
    will: {
      topic: "wills/delayed",
      payload: new TextEncoder().encode("gone"),
      qos: 0,
      retain: false,
      properties: { willDelayInterval: 3600 },
    },
  });
  await client.close();
  await waitFor(() => s.server.session("delayed")?.connected === false);
  await watcher.nothingPending();
  // [MQTT-3.1.3-9] The session ends before the delay: the will goes now.
  ok(await s.server.kick("delayed", { discardSession: true }));
  const p = await watcher.next();
  ok(p.type === "publish");
  strictEqual(p.topic, "wills/delayed");
});
