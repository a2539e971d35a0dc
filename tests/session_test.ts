/**
 * Sessions over in-memory pipes: takeover, clean session 0 and 1, the
 * offline queue, resending unacknowledged messages, and session expiry for
 * 3.1.1.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  ack,
  connack,
  PINGREQ,
  PINGRESP,
  publish,
} from "../packets/testdata/packets.ts";
import type { ServerOptions } from "../mod.ts";
import {
  startPipeServer,
  type TestClient,
  type TestServer,
} from "./_client.ts";
import {
  FakeClock,
  type HookCall,
  recordingHooks,
  sleep,
  subscribeTo,
  waitFor,
} from "./_harness.ts";

/** Connects a persistent subscriber to `filter` and disconnects it. */
async function leaveSubscribed(
  s: TestServer,
  clientId: string,
  filter: string,
  qos: 0 | 1 | 2,
): Promise<void> {
  const { client } = await s.connect({ clientId, clean: false });
  await using _ = client;
  await subscribeTo(client, filter, qos);
  await client.send({ type: "disconnect" });
  await client.closed();
}

/** Publishes from a throwaway clean client and waits for its acks. */
async function publishFrom(
  s: TestServer,
  messages: { topic: string; payload: string; qos: 0 | 1 | 2 }[],
): Promise<void> {
  const { client } = await s.connect({ clientId: "publisher" });
  await using _ = client;
  let packetId = 100;
  for (const m of messages) {
    packetId++;
    await client.send(publish({ ...m, ...(m.qos > 0 ? { packetId } : {}) }));
    if (m.qos === 1) {
      deepStrictEqual(await client.next(), ack({ type: "puback", packetId }));
    } else if (m.qos === 2) {
      deepStrictEqual(await client.next(), ack({ type: "pubrec", packetId }));
      await client.send(ack({ type: "pubrel", packetId }));
      deepStrictEqual(await client.next(), ack({ type: "pubcomp", packetId }));
    }
  }
  // A ping round trip: every QoS 0 publish before it was routed.
  await client.send(PINGREQ);
  deepStrictEqual(await client.next(), PINGRESP);
}

Deno.test("Server closes the first connection when a second connects with the same client id [MQTT-3.1.4-2]", async () => {
  await using s = await startPipeServer();
  const first = await s.connect({ clientId: "same" });
  await using _first = first.client;
  const second = await s.connect({ clientId: "same" });
  await using _second = second.client;
  deepStrictEqual(second.connack, connack());
  await first.client.closed();
  await second.client.send(PINGREQ);
  deepStrictEqual(await second.client.next(), PINGRESP);
  deepStrictEqual(s.server.clients().map((c) => c.clientId), ["same"]);
});

Deno.test("Server hands a clean session 0 session to the connection that takes it over, with session present", async () => {
  await using s = await startPipeServer();
  const first = await s.connect({
    clientId: "roaming",
    clean: false,
  });
  await using _first = first.client;
  await subscribeTo(first.client, "news/#", 1);
  const second = await s.connect({
    clientId: "roaming",
    clean: false,
  });
  await using _second = second.client;
  // [MQTT-3.2.2-2]
  deepStrictEqual(second.connack, connack({ sessionPresent: true }));
  await first.client.closed();
  await publishFrom(s, [{ topic: "news/today", payload: "x", qos: 1 }]);
  deepStrictEqual(
    await second.client.next(),
    publish({ topic: "news/today", payload: "x", qos: 1, packetId: 1 }),
  );
});

Deno.test("Server discards the stored session of a client that connects with clean session 1 [MQTT-3.1.2-6]", async () => {
  await using s = await startPipeServer();
  await leaveSubscribed(s, "fresh", "t/#", 1);
  const { client, connack: answer } = await s.connect({
    clientId: "fresh",
    clean: true,
  });
  await using _ = client;
  // [MQTT-3.2.2-1] Clean session 1: session present 0.
  deepStrictEqual(answer, connack({ sessionPresent: false }));
  deepStrictEqual(s.server.subscriptions({ clientId: "fresh" }), []);
  await publishFrom(s, [{ topic: "t/1", payload: "old", qos: 1 }]);
  await client.nothingPending();
});

Deno.test("Server ends a clean session 1 session when its client disconnects [MQTT-3.1.2-6]", async () => {
  await using s = await startPipeServer();
  {
    const { client } = await s.connect({
      clientId: "brief",
      clean: true,
    });
    await using _ = client;
    await subscribeTo(client, "t/#", 1);
    await client.send({ type: "disconnect" });
    await client.closed();
  }
  await waitFor(() => s.server.sessions().length === 0);
  await publishFrom(s, [{ topic: "t/1", payload: "lost", qos: 1 }]);
  const { client, connack: answer } = await s.connect({
    clientId: "brief",
    clean: false,
  });
  await using _ = client;
  deepStrictEqual(answer, connack({ sessionPresent: false }));
  deepStrictEqual(s.server.subscriptions({ clientId: "brief" }), []);
  await client.nothingPending();
});

Deno.test("Server keeps the subscriptions of a clean session 0 client and says session present [MQTT-3.2.2-2] [MQTT-3.2.2-3]", async () => {
  await using s = await startPipeServer();
  const first = await s.connect({
    clientId: "keeper",
    clean: false,
  });
  {
    await using _ = first.client;
    // [MQTT-3.2.2-3] No stored session yet: session present 0.
    deepStrictEqual(first.connack, connack({ sessionPresent: false }));
    await subscribeTo(first.client, "k/+", 2);
    await first.client.send({ type: "disconnect" });
    await first.client.closed();
  }
  const { client, connack: answer } = await s.connect({
    clientId: "keeper",
    clean: false,
  });
  await using _ = client;
  deepStrictEqual(answer, connack({ sessionPresent: true }));
  await publishFrom(s, [{ topic: "k/1", payload: "kept", qos: 1 }]);
  deepStrictEqual(
    await client.next(),
    publish({ topic: "k/1", payload: "kept", qos: 1, packetId: 1 }),
  );
});

Deno.test("Server queues QoS 1 and 2 messages for an offline session and delivers them on reconnect", async () => {
  await using s = await startPipeServer();
  await leaveSubscribed(s, "away", "q/#", 2);
  await publishFrom(s, [
    { topic: "q/1", payload: "one", qos: 1 },
    { topic: "q/2", payload: "two", qos: 2 },
  ]);
  strictEqual(s.server.session("away")?.queued, 2);
  const { client, connack: answer } = await s.connect({
    clientId: "away",
    clean: false,
  });
  await using _ = client;
  deepStrictEqual(answer, connack({ sessionPresent: true }));
  deepStrictEqual(
    [await client.next(), await client.next()],
    [
      publish({ topic: "q/1", payload: "one", qos: 1, packetId: 1 }),
      publish({ topic: "q/2", payload: "two", qos: 2, packetId: 2 }),
    ],
  );
});

for (const queueQoS0Messages of [undefined, true, false]) {
  const options: ServerOptions = queueQoS0Messages === undefined
    ? {}
    : { queueQoS0Messages };
  const queued = queueQoS0Messages !== false;
  Deno.test(
    `Server with queueQoS0Messages ${queueQoS0Messages} ${
      queued ? "queues" : "does not queue"
    } QoS 0 messages for an offline session`,
    async () => {
      await using s = await startPipeServer(options);
      await leaveSubscribed(s, "zero", "z/#", 0);
      await publishFrom(s, [{ topic: "z/1", payload: "q0", qos: 0 }]);
      strictEqual(s.server.session("zero")?.queued, queued ? 1 : 0);
      const { client } = await s.connect({
        clientId: "zero",
        clean: false,
      });
      await using _ = client;
      if (queued) {
        deepStrictEqual(
          await client.next(),
          publish({ topic: "z/1", payload: "q0" }),
        );
      }
      await client.nothingPending();
    },
  );
}

/** Subscribes a persistent client, has it receive `messages`, and drops it without acking. */
async function receiveAndVanish(
  s: TestServer,
  clientId: string,
  qos: 1 | 2,
  payloads: string[],
  answer: (client: TestClient, packetId: number) => Promise<void> = () =>
    Promise.resolve(),
): Promise<void> {
  const { client } = await s.connect({ clientId, clean: false });
  await using _ = client;
  await subscribeTo(client, "r/#", qos);
  await publishFrom(
    s,
    payloads.map((payload) => ({ topic: "r/x", payload, qos })),
  );
  for (let i = 0; i < payloads.length; i++) {
    const p = await client.next();
    deepStrictEqual(
      p,
      publish({ topic: "r/x", payload: payloads[i]!, qos, packetId: i + 1 }),
    );
    await answer(client, i + 1);
  }
  // The network goes away: no PUBACK, PUBREC or PUBCOMP.
  await client.close();
  await waitFor(() => s.server.session(clientId)?.connected === false);
}

Deno.test("Server resends an unacknowledged QoS 1 PUBLISH with DUP set on reconnect [MQTT-4.4.0-1]", async () => {
  await using s = await startPipeServer();
  await receiveAndVanish(s, "flaky1", 1, ["a"]);
  const { client, connack: answer } = await s.connect({
    clientId: "flaky1",
    clean: false,
  });
  await using _ = client;
  deepStrictEqual(answer, connack({ sessionPresent: true }));
  deepStrictEqual(
    await client.next(200),
    publish({ topic: "r/x", payload: "a", qos: 1, packetId: 1, dup: true }),
  );
  await client.send(ack({ type: "puback", packetId: 1 }));
  await waitFor(() => s.server.session("flaky1")?.inflight === 0);
});

Deno.test("Server resends a QoS 2 PUBLISH that got no PUBREC with DUP set on reconnect [MQTT-4.4.0-1]", async () => {
  await using s = await startPipeServer();
  await receiveAndVanish(s, "flaky2", 2, ["b"]);
  const { client } = await s.connect({
    clientId: "flaky2",
    clean: false,
  });
  await using _ = client;
  deepStrictEqual(
    await client.next(200),
    publish({ topic: "r/x", payload: "b", qos: 2, packetId: 1, dup: true }),
  );
  await client.send(ack({ type: "pubrec", packetId: 1 }));
  deepStrictEqual(await client.next(), ack({ type: "pubrel", packetId: 1 }));
  await client.send(ack({ type: "pubcomp", packetId: 1 }));
  await waitFor(() => s.server.session("flaky2")?.inflight === 0);
});

Deno.test("Server resends PUBREL for a QoS 2 message PUBRECed but not PUBCOMPed on reconnect [MQTT-4.4.0-1]", async () => {
  await using s = await startPipeServer();
  await receiveAndVanish(s, "flaky3", 2, ["c"], async (client, id) => {
    await client.send(ack({ type: "pubrec", packetId: id }));
    deepStrictEqual(await client.next(), ack({ type: "pubrel", packetId: id }));
  });
  const { client } = await s.connect({
    clientId: "flaky3",
    clean: false,
  });
  await using _ = client;
  // Not the PUBLISH again: the client has it already.
  deepStrictEqual(await client.next(200), ack({ type: "pubrel", packetId: 1 }));
  await client.send(ack({ type: "pubcomp", packetId: 1 }));
  await client.nothingPending();
  strictEqual(s.server.session("flaky3")?.inflight, 0);
});

Deno.test("Server resends unacknowledged messages in order, before messages queued while offline [MQTT-4.4.0-1]", async () => {
  await using s = await startPipeServer();
  await receiveAndVanish(s, "flaky4", 1, ["1", "2", "3"]);
  await publishFrom(s, [{ topic: "r/x", payload: "4", qos: 1 }]);
  const started = Date.now();
  const { client } = await s.connect({
    clientId: "flaky4",
    clean: false,
  });
  await using _ = client;
  const got = [];
  for (let i = 0; i < 4; i++) got.push(await client.next(200));
  deepStrictEqual(got, [
    publish({ topic: "r/x", payload: "1", qos: 1, packetId: 1, dup: true }),
    publish({ topic: "r/x", payload: "2", qos: 1, packetId: 2, dup: true }),
    publish({ topic: "r/x", payload: "3", qos: 1, packetId: 3, dup: true }),
    publish({ topic: "r/x", payload: "4", qos: 1, packetId: 4 }),
  ]);
  // Promptly: at once on reconnect, not on some retry timer.
  strictEqual(Date.now() - started < 500, true);
});

Deno.test("Server ends an offline 3.1.1 persistent session after sessionExpiry seconds", async () => {
  const clock = new FakeClock();
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    now: clock.now,
    sweepInterval: 5,
    sessionExpiry: 60,
    hooks: recordingHooks(calls),
  });
  await leaveSubscribed(s, "mortal", "m/#", 1);
  clock.advance(59_999);
  await sleep(30);
  strictEqual(s.server.session("mortal")?.connected, false);
  clock.advance(1);
  await waitFor(() => s.server.session("mortal") === undefined);
  deepStrictEqual(
    calls.filter(([name]) => name === "onSessionTerminated"),
    [["onSessionTerminated", "mortal", "expired"]],
  );
  const { client, connack: answer } = await s.connect({
    clientId: "mortal",
    clean: false,
  });
  await using _ = client;
  deepStrictEqual(answer, connack({ sessionPresent: false }));
  deepStrictEqual(s.server.subscriptions({ clientId: "mortal" }), []);
});

Deno.test("Server delivers messages queued offline no faster than maxInflight allows, the rest as acks come", async () => {
  await using s = await startPipeServer({ maxInflight: 2 });
  await leaveSubscribed(s, "slow", "w/#", 1);
  await publishFrom(
    s,
    ["1", "2", "3", "4"].map((payload) => ({ topic: "w/x", payload, qos: 1 })),
  );
  const { client } = await s.connect({
    clientId: "slow",
    clean: false,
  });
  await using _ = client;
  const expected = (n: number) =>
    publish({ topic: "w/x", payload: String(n), qos: 1, packetId: n });
  deepStrictEqual([await client.next(), await client.next()], [
    expected(1),
    expected(2),
  ]);
  await client.nothingPending();
  await client.send(ack({ type: "puback", packetId: 1 }));
  deepStrictEqual(await client.next(), expected(3));
  await client.send(ack({ type: "puback", packetId: 2 }));
  deepStrictEqual(await client.next(), expected(4));
  await client.send(ack({ type: "puback", packetId: 3 }));
  await client.send(ack({ type: "puback", packetId: 4 }));
  await waitFor(() => s.server.session("slow")?.inflight === 0);
  strictEqual(s.server.session("slow")?.queued, 0);
});

Deno.test("Server resends unacknowledged messages to the connection that takes a session over [MQTT-4.4.0-1]", async () => {
  await using s = await startPipeServer();
  const first = await s.connect({
    clientId: "moving",
    clean: false,
  });
  await using _first = first.client;
  await subscribeTo(first.client, "mv/#", 1);
  await publishFrom(s, [{ topic: "mv/1", payload: "p", qos: 1 }]);
  deepStrictEqual(
    await first.client.next(),
    publish({ topic: "mv/1", payload: "p", qos: 1, packetId: 1 }),
  );
  // No PUBACK; the same client id comes back on a new connection.
  const second = await s.connect({
    clientId: "moving",
    clean: false,
  });
  await using _second = second.client;
  deepStrictEqual(second.connack, connack({ sessionPresent: true }));
  deepStrictEqual(
    await second.client.next(200),
    publish({ topic: "mv/1", payload: "p", qos: 1, packetId: 1, dup: true }),
  );
  await first.client.closed();
});

Deno.test("Server resends PUBREL and PUBLISH in their original order on reconnect [MQTT-4.6.0-1]", async () => {
  await using s = await startPipeServer();
  await receiveAndVanish(s, "flaky5", 2, ["x", "y"], async (client, id) => {
    // Once both arrived, only the first is PUBRECed.
    if (id !== 2) return;
    await client.send(ack({ type: "pubrec", packetId: 1 }));
    deepStrictEqual(await client.next(), ack({ type: "pubrel", packetId: 1 }));
  });
  const { client } = await s.connect({
    clientId: "flaky5",
    clean: false,
  });
  await using _ = client;
  deepStrictEqual([await client.next(200), await client.next(200)], [
    ack({ type: "pubrel", packetId: 1 }),
    publish({ topic: "r/x", payload: "y", qos: 2, packetId: 2, dup: true }),
  ]);
});

Deno.test("Server counts sessionExpiry from the latest disconnect", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({
    now: clock.now,
    sweepInterval: 5,
    sessionExpiry: 60,
  });
  await leaveSubscribed(s, "back", "b/#", 1);
  clock.advance(50_000);
  await leaveSubscribed(s, "back", "b/#", 1);
  clock.advance(50_000);
  await sleep(30);
  // 100 s after the first disconnect, 50 s after the second.
  strictEqual(s.server.session("back")?.connected, false);
  clock.advance(10_000);
  await waitFor(() => s.server.session("back") === undefined);
});

Deno.test("Server reports what a session still queued as session_ended when a clean start ends it, and as expired when it expires", async () => {
  const clock = new FakeClock();
  const reasons: string[] = [];
  await using s = await startPipeServer({
    now: clock.now,
    sweepInterval: 5,
    sessionExpiry: 60,
    hooks: {
      onMessageDropped(_clientId, _message, reason) {
        reasons.push(reason);
      },
    },
  });
  await leaveSubscribed(s, "gone", "t/#", 1);
  await leaveSubscribed(s, "idle", "t/#", 1);
  await publishFrom(s, [{ topic: "t/1", payload: "queued", qos: 1 }]);
  await waitFor(() => s.server.session("idle")?.queued === 1);
  // A clean start ends "gone" with its queue.
  const { client } = await s.connect({
    clientId: "gone",
    clean: true,
  });
  await client.close();
  await waitFor(() => reasons.length === 1);
  deepStrictEqual(reasons, ["session_ended"]);
  // "idle" outlives its expiry.
  clock.advance(61_000);
  await waitFor(() => reasons.length === 2);
  deepStrictEqual(reasons, ["session_ended", "expired"]);
});
