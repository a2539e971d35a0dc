/**
 * QoS 0, 1 and 2 packet flows in both directions, exactly-once delivery, the
 * inflight window, the bounded offline queue and the delivery QoS, over
 * in-memory pipes.
 */

import { deepStrictEqual } from "node:assert/strict";
import type { QoS } from "../packets/mod.ts";
import type { DropReason, Message } from "../mod.ts";
import { startPipeServer, type TestServer } from "./_client.ts";
import { waitFor } from "./_harness.ts";
import { connect, publish, subscribe } from "./_pubsub.ts";

Deno.test("Server answers nothing to a QoS 0 PUBLISH and delivers it at QoS 0", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/b", 2]]);
  await pub.send(publish({ topic: "a/b", payload: "hello" }));
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "hello" }),
  );
  await pub.nothingPending();
});

Deno.test("Server answers a QoS 1 PUBLISH with a PUBACK of the same packet id", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  // [MQTT-4.3.2-4] PUBACK carries the PUBLISH's packet id.
  await pub.send(publish({ topic: "a/b", payload: "x", qos: 1, packetId: 7 }));
  deepStrictEqual(await pub.next(), { type: "puback", packetId: 7 });
  await pub.nothingPending();
});

Deno.test("Server answers a QoS 2 PUBLISH with PUBREC and the PUBREL with PUBCOMP", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  // [MQTT-4.3.3-8] PUBREC; [MQTT-4.3.3-11] PUBCOMP for the PUBREL.
  await pub.send(publish({ topic: "a/b", payload: "x", qos: 2, packetId: 9 }));
  deepStrictEqual(await pub.next(), { type: "pubrec", packetId: 9 });
  await pub.send({ type: "pubrel", packetId: 9 });
  deepStrictEqual(await pub.next(), { type: "pubcomp", packetId: 9 });
  await pub.nothingPending();
});

Deno.test("Server sends a QoS 1 PUBLISH with a packet id and stops on PUBACK", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/b", 1]]);
  await pub.send(publish({ topic: "a/b", payload: "m", qos: 1, packetId: 3 }));
  deepStrictEqual(await pub.next(), { type: "puback", packetId: 3 });
  // [MQTT-2.3.1-5] A QoS 1 PUBLISH carries a non-zero packet id.
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "m", qos: 1, packetId: 1 }),
  );
  await sub.send({ type: "puback", packetId: 1 });
  await sub.nothingPending();
  deepStrictEqual(s.server.client("sub")?.inflight, 0);
});

Deno.test("Server sends a QoS 2 PUBLISH, answers PUBREC with PUBREL and completes on PUBCOMP", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/b", 2]]);
  await pub.send(publish({ topic: "a/b", payload: "m", qos: 2, packetId: 3 }));
  deepStrictEqual(await pub.next(), { type: "pubrec", packetId: 3 });
  await pub.send({ type: "pubrel", packetId: 3 });
  deepStrictEqual(await pub.next(), { type: "pubcomp", packetId: 3 });
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "m", qos: 2, packetId: 1 }),
  );
  await sub.send({ type: "pubrec", packetId: 1 });
  // [MQTT-4.3.3-4] The sender answers PUBREC with PUBREL.
  deepStrictEqual(await sub.next(), { type: "pubrel", packetId: 1 });
  deepStrictEqual(s.server.client("sub")?.inflight, 1);
  await sub.send({ type: "pubcomp", packetId: 1 });
  await sub.nothingPending();
  deepStrictEqual(s.server.client("sub")?.inflight, 0);
});

Deno.test("Server delivers QoS 2 exactly once when the PUBLISH is resent with DUP", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/b", 0]]);
  const first = publish({ topic: "a/b", payload: "once", qos: 2, packetId: 5 });
  await pub.send(first);
  deepStrictEqual(await pub.next(), { type: "pubrec", packetId: 5 });
  // [MQTT-4.3.3-10] Until PUBREL, the same packet id is the same message.
  await pub.send({ ...first, dup: true });
  deepStrictEqual(await pub.next(), { type: "pubrec", packetId: 5 });
  await pub.send({ type: "pubrel", packetId: 5 });
  deepStrictEqual(await pub.next(), { type: "pubcomp", packetId: 5 });
  deepStrictEqual(await sub.next(), publish({ topic: "a/b", payload: "once" }));
  await sub.nothingPending();
});

Deno.test("Server treats a QoS 2 packet id released by PUBREL as a new message", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/b", 0]]);
  for (const payload of ["one", "two"]) {
    await pub.send(publish({ topic: "a/b", payload, qos: 2, packetId: 5 }));
    deepStrictEqual(await pub.next(), { type: "pubrec", packetId: 5 });
    await pub.send({ type: "pubrel", packetId: 5 });
    deepStrictEqual(await pub.next(), { type: "pubcomp", packetId: 5 });
    deepStrictEqual(await sub.next(), publish({ topic: "a/b", payload }));
  }
  await sub.nothingPending();
});

Deno.test("Server answers PUBCOMP to a PUBREL for an unknown packet id", async () => {
  await using s = await startPipeServer();
  await using pub = await connect(s, { clientId: "pub" });
  // [MQTT-4.3.3-11] PUBCOMP with the PUBREL's packet id, known or not.
  await pub.send({ type: "pubrel", packetId: 42 });
  deepStrictEqual(await pub.next(), { type: "pubcomp", packetId: 42 });
  await pub.send({ type: "pingreq" });
  deepStrictEqual(await pub.next(), { type: "pingresp" });
});

Deno.test("Server keeps at most maxInflight QoS 1 messages unacknowledged and sends the rest in order", async () => {
  await using s = await startPipeServer({ maxInflight: 2 });
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  await subscribe(sub, [["a/b", 1]]);
  for (let i = 1; i <= 5; i++) {
    await pub.send(
      publish({ topic: "a/b", payload: `m${i}`, qos: 1, packetId: i }),
    );
    deepStrictEqual(await pub.next(), { type: "puback", packetId: i });
  }
  const received = async (n: number) => {
    const p = await sub.next();
    deepStrictEqual(
      p,
      publish({ topic: "a/b", payload: `m${n}`, qos: 1, packetId: n }),
    );
  };
  await received(1);
  await received(2);
  await sub.nothingPending();
  deepStrictEqual(s.server.client("sub")?.queued, 3);
  await sub.send({ type: "puback", packetId: 1 });
  await received(3);
  await sub.nothingPending();
  await sub.send({ type: "puback", packetId: 3 });
  await sub.send({ type: "puback", packetId: 2 });
  await received(4);
  await received(5);
  await sub.nothingPending();
});

interface Drop {
  clientId: string | undefined;
  payload: string;
  reason: DropReason;
}

function dropRecorder(): {
  drops: Drop[];
  hooks: {
    onMessageDropped(
      id: string | undefined,
      m: Message,
      reason: DropReason,
    ): void;
  };
} {
  const drops: Drop[] = [];
  return {
    drops,
    hooks: {
      onMessageDropped(clientId, message, reason) {
        const payload = new TextDecoder().decode(message.payload);
        drops.push({ clientId, payload, reason });
      },
    },
  };
}

/** Subscribes "sub" persistently to `a/b` at QoS 1, then disconnects it. */
async function offlineSubscriber(s: TestServer): Promise<void> {
  await using sub = await connect(s, { clientId: "sub", clean: false });
  await subscribe(sub, [["a/b", 1]]);
  await sub.send({ type: "disconnect" });
  await sub.closed();
}

Deno.test("Server drops the oldest queued message of a full offline queue and reports queue_full", async () => {
  const { drops, hooks } = dropRecorder();
  await using s = await startPipeServer({ maxQueuedMessages: 3, hooks });
  await offlineSubscriber(s);
  {
    await using pub = await connect(s, { clientId: "pub" });
    for (let i = 1; i <= 5; i++) {
      await pub.send(
        publish({ topic: "a/b", payload: `m${i}`, qos: 1, packetId: i }),
      );
      deepStrictEqual(await pub.next(), { type: "puback", packetId: i });
    }
  }
  deepStrictEqual(drops, [
    { clientId: "sub", payload: "m1", reason: "queue_full" },
    { clientId: "sub", payload: "m2", reason: "queue_full" },
  ]);
  const { client: sub, connack } = await s.connect({
    clientId: "sub",
    clean: false,
  });
  await using _sub = sub;
  deepStrictEqual(connack, {
    type: "connack",
    sessionPresent: true,
    reasonCode: 0,
  });
  for (let i = 3; i <= 5; i++) {
    const p = await sub.next();
    deepStrictEqual(
      p,
      publish({ topic: "a/b", payload: `m${i}`, qos: 1, packetId: i - 2 }),
    );
  }
  await sub.nothingPending();
});

Deno.test("Server drops queued QoS 0 messages before QoS 1 ones when the offline queue is full", async () => {
  const { drops, hooks } = dropRecorder();
  await using s = await startPipeServer({ maxQueuedMessages: 3, hooks });
  await offlineSubscriber(s);
  const sent: [string, QoS][] = [
    ["A", 1],
    ["B", 0],
    ["C", 1],
    ["D", 0],
    ["E", 1],
  ];
  {
    await using pub = await connect(s, { clientId: "pub" });
    let id = 1;
    for (const [payload, qos] of sent) {
      if (qos === 0) {
        await pub.send(publish({ topic: "a/b", payload }));
      } else {
        await pub.send(publish({ topic: "a/b", payload, qos, packetId: id }));
        deepStrictEqual(await pub.next(), { type: "puback", packetId: id++ });
      }
    }
    // Let the last QoS 0 message be routed.
    await pub.send({ type: "pingreq" });
    deepStrictEqual(await pub.next(), { type: "pingresp" });
  }
  deepStrictEqual(drops, [
    { clientId: "sub", payload: "B", reason: "queue_full" },
    { clientId: "sub", payload: "D", reason: "queue_full" },
  ]);
  await using sub = await connect(s, { clientId: "sub", clean: false });
  deepStrictEqual(
    await sub.next(),
    publish({
      topic: "a/b",
      payload: "A",
      qos: 1,
      packetId: 1,
    }),
  );
  deepStrictEqual(
    await sub.next(),
    publish({
      topic: "a/b",
      payload: "C",
      qos: 1,
      packetId: 2,
    }),
  );
  deepStrictEqual(
    await sub.next(),
    publish({
      topic: "a/b",
      payload: "E",
      qos: 1,
      packetId: 3,
    }),
  );
  await sub.nothingPending();
});

for (const published of [0, 1, 2] as const) {
  for (const granted of [0, 1, 2] as const) {
    const qos = Math.min(published, granted) as QoS;
    Deno.test(`Server delivers a QoS ${published} PUBLISH to a QoS ${granted} subscription at QoS ${qos}`, async () => {
      await using s = await startPipeServer();
      await using sub = await connect(s, { clientId: "sub" });
      await using pub = await connect(s, { clientId: "pub" });
      deepStrictEqual((await subscribe(sub, [["t", granted]])).reasonCodes, [
        granted,
      ]);
      await pub.send(publish({
        topic: "t",
        payload: "p",
        qos: published,
        ...(published > 0 ? { packetId: 10 } : {}),
      }));
      // [MQTT-3.8.4-8] min(published QoS, granted QoS).
      deepStrictEqual(
        await sub.next(),
        publish({
          topic: "t",
          payload: "p",
          qos,
          ...(qos > 0 ? { packetId: 1 } : {}),
        }),
      );
      await sub.nothingPending();
    });
  }
}

Deno.test("Server sends one copy at the highest granted QoS for overlapping subscriptions", async () => {
  await using s = await startPipeServer();
  await using sub = await connect(s, { clientId: "sub" });
  await using pub = await connect(s, { clientId: "pub" });
  deepStrictEqual(
    (await subscribe(sub, [["a/#", 0], ["a/+", 2]])).reasonCodes,
    [0, 2],
  );
  await pub.send(publish({ topic: "a/b", payload: "x", qos: 2, packetId: 1 }));
  deepStrictEqual(await pub.next(), { type: "pubrec", packetId: 1 });
  // [MQTT-3.3.5-1] One copy, at the highest QoS of the matches.
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "x", qos: 2, packetId: 1 }),
  );
  await sub.nothingPending();
});

Deno.test("Server resends an unacknowledged QoS 1 PUBLISH with DUP when the session resumes", async () => {
  await using s = await startPipeServer();
  {
    await using sub = await connect(s, { clientId: "sub", clean: false });
    await subscribe(sub, [["a/b", 1]]);
    await s.server.publish({ topic: "a/b", payload: "r", qos: 1 });
    deepStrictEqual(
      await sub.next(),
      publish({ topic: "a/b", payload: "r", qos: 1, packetId: 1 }),
    );
  }
  // Wait for the server to see the connection go.
  await waitFor(() => s.server.client("sub") === undefined);
  await using sub = await connect(s, { clientId: "sub", clean: false });
  // [MQTT-4.4.0-1] Unacknowledged PUBLISH resent with DUP set.
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "a/b", payload: "r", qos: 1, packetId: 1, dup: true }),
  );
  await sub.send({ type: "puback", packetId: 1 });
  await sub.nothingPending();
});
