/**
 * MQTT 5.0 features end to end: CONNACK properties, ack reason codes, topic
 * aliases, subscription options and identifiers, message and session expiry,
 * and shared subscriptions, over in-memory pipes.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import type { Packet } from "../packets/mod.ts";
import type { DropReason, Message } from "../mod.ts";
import {
  type ConnectFields,
  startPipeServer,
  type TestClient,
  type TestServer,
} from "./_client.ts";
import {
  delay,
  FakeClock,
  publish,
  type PublishFields,
  subscribe,
} from "./_pubsub.ts";

/** Connects a 5.0 client and asserts that it was accepted. */
async function connect5(
  s: TestServer,
  fields: ConnectFields = {},
): Promise<TestClient> {
  const { client, connack } = await s.connect({
    protocolVersion: 5,
    ...fields,
  });
  if (connack.reasonCode !== 0) {
    await client.close();
    throw new Error(`CONNACK refused with code ${connack.reasonCode}`);
  }
  return client;
}

/** A 5.0 PUBLISH as the decoder gives it: `properties` always present. */
function publish5(fields: PublishFields): ReturnType<typeof publish> {
  return publish({ properties: {}, ...fields });
}

/** A 5.0 ack as the decoder gives it. */
function ack5(
  type: "puback" | "pubrec" | "pubrel" | "pubcomp",
  packetId: number,
  reasonCode = 0,
): Packet {
  return { type, packetId, reasonCode, properties: {} };
}

Deno.test("Server sends its features in the 5.0 CONNACK properties", async () => {
  await using s = await startPipeServer();
  const { client, connack } = await s.connect({
    clientId: "c",
    protocolVersion: 5,
  });
  await using _c = client;
  deepStrictEqual(connack, {
    type: "connack",
    sessionPresent: false,
    reasonCode: 0,
    properties: {
      // The default limit of 1 MiB is below the protocol's, so it is told.
      maximumPacketSize: 1048576,
      topicAliasMaximum: 10,
      wildcardSubscriptionAvailable: 1,
      subscriptionIdentifiersAvailable: 1,
      sharedSubscriptionAvailable: 1,
    },
  });
});

Deno.test("Server announces maxQoS, retain, packet size and alias limits in the 5.0 CONNACK", async () => {
  await using s = await startPipeServer({
    maxQoS: 1,
    retainAvailable: false,
    maxPacketSize: 1000,
    topicAliasMaximum: 5,
  });
  const { client, connack } = await s.connect({
    clientId: "c",
    protocolVersion: 5,
  });
  await using _c = client;
  // [MQTT-3.2.2-9] Maximum QoS when QoS 2 is not supported; Retain Available
  // 0, Maximum Packet Size and Topic Alias Maximum as configured.
  deepStrictEqual(connack.properties, {
    maximumQoS: 1,
    retainAvailable: 0,
    maximumPacketSize: 1000,
    topicAliasMaximum: 5,
    wildcardSubscriptionAvailable: 1,
    subscriptionIdentifiersAvailable: 1,
    sharedSubscriptionAvailable: 1,
  });
});

Deno.test("Server acknowledges a refused 5.0 PUBLISH with the refusing reason code and routes nothing", async () => {
  const hooks = {
    checkPublish: (_client: unknown, p: { topic: string }) =>
      p.topic === "secret" ? 0x87 : undefined,
  };
  await using s = await startPipeServer({ hooks });
  await using sub = await connect5(s, { clientId: "sub" });
  await using pub = await connect5(s, { clientId: "pub" });
  await subscribe(sub, [["#", 2]]);
  await pub.send(
    publish({ topic: "secret", payload: "x", qos: 1, packetId: 1 }),
  );
  deepStrictEqual(await pub.next(), ack5("puback", 1, 0x87));
  await pub.send(
    publish({ topic: "secret", payload: "x", qos: 2, packetId: 2 }),
  );
  deepStrictEqual(await pub.next(), ack5("pubrec", 2, 0x87));
  await pub.send(publish({ topic: "open", payload: "y", qos: 1, packetId: 3 }));
  deepStrictEqual(await pub.next(), ack5("puback", 3));
  deepStrictEqual(
    await sub.next(),
    publish5({ topic: "open", payload: "y", qos: 1, packetId: 1 }),
  );
  await sub.nothingPending();
});

Deno.test("Server routes a PUBLISH by a topic alias the client set before", async () => {
  await using s = await startPipeServer();
  await using sub = await connect5(s, { clientId: "sub" });
  await using pub = await connect5(s, { clientId: "pub" });
  await subscribe(sub, [["a/b", 0]]);
  await pub.send(publish({
    topic: "a/b",
    payload: "1",
    properties: { topicAlias: 3 },
  }));
  // [MQTT-3.3.2-12] An empty topic with a known alias means its topic.
  await pub.send(publish({
    topic: "",
    payload: "2",
    properties: { topicAlias: 3 },
  }));
  // The alias belongs to the publisher's connection, not the subscriber's.
  deepStrictEqual(await sub.next(), publish5({ topic: "a/b", payload: "1" }));
  deepStrictEqual(await sub.next(), publish5({ topic: "a/b", payload: "2" }));
});

Deno.test("Server disconnects a 5.0 client using a topic alias above its maximum with 0x94", async () => {
  await using s = await startPipeServer({ topicAliasMaximum: 2 });
  await using pub = await connect5(s, { clientId: "pub" });
  await pub.send(publish({
    topic: "a",
    payload: "x",
    properties: { topicAlias: 3 },
  }));
  // [MQTT-3.3.2-9] Topic Alias Invalid.
  const disconnect = await pub.next();
  deepStrictEqual(disconnect.type, "disconnect");
  deepStrictEqual(
    disconnect.type === "disconnect" ? disconnect.reasonCode : -1,
    0x94,
  );
  await pub.closed();
});

Deno.test("Server does not send a message back to its publisher on a No Local subscription", async () => {
  await using s = await startPipeServer();
  await using self = await connect5(s, { clientId: "self" });
  await using other = await connect5(s, { clientId: "other" });
  await subscribe(self, [{ topicFilter: "t", qos: 0, noLocal: true }]);
  await subscribe(other, [{ topicFilter: "t", qos: 0, noLocal: true }]);
  await self.send(publish({ topic: "t", payload: "mine" }));
  // [MQTT-3.8.3-3] Not to the connection that published it.
  deepStrictEqual(
    await other.next(),
    publish5({ topic: "t", payload: "mine" }),
  );
  await self.nothingPending();
});

Deno.test("Server keeps the RETAIN flag of live deliveries only on Retain As Published subscriptions", async () => {
  await using s = await startPipeServer();
  await using rap = await connect5(s, { clientId: "rap" });
  await using plain = await connect5(s, { clientId: "plain" });
  await using pub = await connect5(s, { clientId: "pub" });
  await subscribe(rap, [{ topicFilter: "t", qos: 0, retainAsPublished: true }]);
  await subscribe(plain, [{ topicFilter: "t", qos: 0 }]);
  await pub.send(publish({ topic: "t", payload: "r", retain: true }));
  // [MQTT-3.3.1-12] RETAIN 0 without the option, [MQTT-3.3.1-13] as
  // published with it.
  deepStrictEqual(
    await rap.next(),
    publish5({ topic: "t", payload: "r", retain: true }),
  );
  deepStrictEqual(await plain.next(), publish5({ topic: "t", payload: "r" }));
});

Deno.test("Server sends retained messages only for a new subscription with Retain Handling 1", async () => {
  await using s = await startPipeServer();
  await s.server.publish({ topic: "t", payload: "kept", retain: true });
  await using sub = await connect5(s, { clientId: "sub" });
  const rh1 = { topicFilter: "t", qos: 0, retainHandling: 1 } as const;
  await subscribe(sub, [rh1]);
  deepStrictEqual(
    await sub.next(),
    publish5({ topic: "t", payload: "kept", retain: true }),
  );
  // [MQTT-3.3.1-10] (5.0) Not again for an existing subscription.
  await subscribe(sub, [rh1], { packetId: 2 });
  await sub.nothingPending();
});

Deno.test("Server sends no retained messages for a subscription with Retain Handling 2", async () => {
  await using s = await startPipeServer();
  await s.server.publish({ topic: "t", payload: "kept", retain: true });
  await using sub = await connect5(s, { clientId: "sub" });
  // [MQTT-3.3.1-11] (5.0) Retain Handling 2: none at subscribe time.
  await subscribe(sub, [{ topicFilter: "t", qos: 0, retainHandling: 2 }]);
  await sub.nothingPending();
  await s.server.publish({ topic: "t", payload: "live" });
  deepStrictEqual(await sub.next(), publish5({ topic: "t", payload: "live" }));
});

Deno.test("Server sends the subscription identifiers of every matching subscription in one copy", async () => {
  await using s = await startPipeServer();
  await using sub = await connect5(s, { clientId: "sub" });
  await subscribe(sub, [["a/+", 1]], {
    properties: { subscriptionIdentifiers: [5] },
  });
  await subscribe(sub, [["a/#", 0]], {
    packetId: 2,
    properties: { subscriptionIdentifiers: [6] },
  });
  await subscribe(sub, [["a/b", 0]], { packetId: 3 });
  await s.server.publish({ topic: "a/b", payload: "x", qos: 1 });
  // [MQTT-3.3.4-3] [MQTT-3.3.4-5] One copy, with both identifiers.
  const p = await sub.next();
  if (p.type !== "publish") throw new Error(`Got ${p.type}`);
  deepStrictEqual(
    p.properties?.subscriptionIdentifiers?.toSorted((x, y) => x - y),
    [5, 6],
  );
  deepStrictEqual(p.qos, 1);
  await sub.nothingPending();
});

Deno.test("Server drops queued messages whose expiry passed and sends the rest with the time left", async () => {
  const clock = new FakeClock();
  const drops: [string, DropReason][] = [];
  const hooks = {
    onMessageDropped(_id: string | undefined, m: Message, r: DropReason) {
      drops.push([new TextDecoder().decode(m.payload), r]);
    },
  };
  await using s = await startPipeServer({ now: clock.now, hooks });
  {
    await using sub = await connect5(s, {
      clientId: "sub",
      properties: { sessionExpiryInterval: 3600 },
    });
    await subscribe(sub, [["t", 1]]);
    await sub.send({ type: "disconnect" });
    await sub.closed();
  }
  await using pub = await connect5(s, { clientId: "pub" });
  for (
    const [payload, expiry, id] of [["short", 10, 1], ["long", 100, 2]] as const
  ) {
    await pub.send(publish({
      topic: "t",
      payload,
      qos: 1,
      packetId: id,
      properties: { messageExpiryInterval: expiry },
    }));
    deepStrictEqual(await pub.next(), ack5("puback", id));
  }
  clock.advance(20_000);
  await using sub = await connect5(s, {
    clientId: "sub",
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
  });
  // [MQTT-3.3.2-5] An expired message is not sent; [MQTT-3.3.2-6] the
  // expiry sent is what is left of it.
  deepStrictEqual(
    await sub.next(),
    publish5({
      topic: "t",
      payload: "long",
      qos: 1,
      packetId: 1,
      properties: { messageExpiryInterval: 80 },
    }),
  );
  await sub.nothingPending();
  deepStrictEqual(drops, [["short", "expired"]]);
});

Deno.test("Server keeps an offline 5.0 session for its session expiry interval, then ends it", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({ now: clock.now, sweepInterval: 5 });
  const session = { clientId: "c", properties: { sessionExpiryInterval: 60 } };
  {
    await using c = await connect5(s, session);
    await subscribe(c, [["t", 1]]);
    await c.send({ type: "disconnect" });
    await c.closed();
  }
  clock.advance(59_000);
  await delay(30);
  {
    // [MQTT-3.1.2-23] Kept while the interval has not passed.
    const { client, connack } = await s.connect({
      protocolVersion: 5,
      clean: false,
      ...session,
    });
    await using _c = client;
    deepStrictEqual(connack.sessionPresent, true);
    deepStrictEqual(s.server.session("c")?.subscriptions.length, 1);
    await client.send({ type: "disconnect" });
    await client.closed();
  }
  clock.advance(61_000);
  await delay(30);
  deepStrictEqual(s.server.session("c"), undefined);
  const { client, connack } = await s.connect({
    protocolVersion: 5,
    clean: false,
    ...session,
  });
  await using _c = client;
  deepStrictEqual(connack.sessionPresent, false);
});

Deno.test("Server ends a 5.0 session at disconnect when its expiry interval is 0", async () => {
  await using s = await startPipeServer();
  {
    // [MQTT-3.1.2-23] No Session Expiry Interval: it ends with the connection.
    await using c = await connect5(s, { clientId: "c", clean: false });
    await subscribe(c, [["t", 1]]);
    await c.send({ type: "disconnect" });
    await c.closed();
  }
  deepStrictEqual(s.server.session("c"), undefined);
});

Deno.test("Server sends one copy of each message per shared subscription group", async () => {
  await using s = await startPipeServer();
  await using m1 = await connect5(s, { clientId: "m1" });
  await using m2 = await connect5(s, { clientId: "m2" });
  await using other = await connect5(s, { clientId: "other" });
  await using plain = await connect5(s, { clientId: "plain" });
  await subscribe(m1, [["$share/g/t", 0]]);
  await subscribe(m2, [["$share/g/t", 0]]);
  await subscribe(other, [["$share/h/t", 0]]);
  await subscribe(plain, [["t", 0]]);
  const sent = ["1", "2", "3", "4", "5", "6"];
  for (const payload of sent) await s.server.publish({ topic: "t", payload });
  // Everything routed so far comes before the answer to a PINGREQ.
  const drain = async (c: TestClient): Promise<string[]> => {
    const got: string[] = [];
    await c.send({ type: "pingreq" });
    for (;;) {
      const p = await c.next();
      if (p.type === "pingresp") return got;
      if (p.type === "publish") got.push(new TextDecoder().decode(p.payload));
    }
  };
  const [g1, g2, h, all] = await Promise.all([
    drain(m1),
    drain(m2),
    drain(other),
    drain(plain),
  ]);
  // [MQTT-4.8.2-...] Each message once per group; every subscriber of a
  // normal subscription gets them all.
  deepStrictEqual([...g1, ...g2].sort(), sent);
  deepStrictEqual(h, sent);
  deepStrictEqual(all, sent);
});

for (const groups of [1, 2]) {
  Deno.test(
    `Server shares the messages of a group among its members when ${
      groups === 1 ? "one group matches" : "two groups match"
    }`,
    async () => {
      await using s = await startPipeServer();
      await using m1 = await connect5(s, { clientId: "m1" });
      await using m2 = await connect5(s, { clientId: "m2" });
      await subscribe(m1, [["$share/g/t", 0]]);
      await subscribe(m2, [["$share/g/t", 0]]);
      await using other = await connect5(s, { clientId: "other" });
      if (groups === 2) await subscribe(other, [["$share/h/t", 0]]);
      for (let i = 0; i < 6; i++) {
        await s.server.publish({ topic: "t", payload: `${i}` });
      }
      const count = async (c: TestClient): Promise<number> => {
        let n = 0;
        await c.send({ type: "pingreq" });
        while ((await c.next()).type !== "pingresp") n++;
        return n;
      };
      const [n1, n2] = [await count(m1), await count(m2)];
      // Shared subscriptions exist to spread the load: each member gets some.
      deepStrictEqual(n1 + n2, 6);
      ok(n1 > 0 && n2 > 0, `m1 got ${n1} messages, m2 got ${n2}`);
    },
  );
}

Deno.test("Server keeps no more QoS 1 messages unacknowledged than the 5.0 client's Receive Maximum", async () => {
  await using s = await startPipeServer({ maxInflight: 32 });
  await using sub = await connect5(s, {
    clientId: "sub",
    properties: { receiveMaximum: 2 },
  });
  await subscribe(sub, [["t", 1]]);
  for (let i = 1; i <= 4; i++) {
    await s.server.publish({ topic: "t", payload: `${i}`, qos: 1 });
  }
  // [MQTT-3.3.4-9] At most Receive Maximum PUBLISH awaiting PUBACK.
  for (const id of [1, 2]) {
    deepStrictEqual(
      await sub.next(),
      publish5({ topic: "t", payload: `${id}`, qos: 1, packetId: id }),
    );
  }
  await sub.nothingPending();
  await sub.send(ack5("puback", 1));
  deepStrictEqual(
    await sub.next(),
    publish5({ topic: "t", payload: "3", qos: 1, packetId: 3 }),
  );
  await sub.nothingPending();
});

Deno.test("Server answers a 5.0 PUBREL for an unknown packet id with PUBCOMP 0x92", async () => {
  await using s = await startPipeServer();
  await using pub = await connect5(s, { clientId: "pub" });
  await pub.send(ack5("pubrel", 8));
  // [MQTT-4.3.3-11] PUBCOMP, here with Packet Identifier not found.
  deepStrictEqual(await pub.next(), ack5("pubcomp", 8, 0x92));
});
