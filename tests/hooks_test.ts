/**
 * Hooks: what each is called with, in which order, and what its answer does
 * to the clients; over in-memory pipes, but for what a TCP connection tells.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  ack,
  connack,
  PINGREQ,
  PINGRESP,
  publish,
  suback,
  subscribe,
  unsubscribe,
} from "../packets/testdata/packets.ts";
import { MqttError } from "../packets/mod.ts";
import {
  type ClientInfo,
  type ConnectionInfo,
  type Hooks,
  Logger,
  type LogRecord,
  type Message,
  ReasonCode,
} from "../mod.ts";
import { startPipeServer, startServer, type TestServer } from "./_client.ts";
import {
  FakeClock,
  type HookCall,
  packetsUntilClosed,
  recordingHooks,
  subscribeTo,
  text,
  waitFor,
} from "./_harness.ts";

/** What hooks must be told about a client of a pipe test server. */
function clientInfo(
  remoteAddress: string,
  fields: Partial<ClientInfo> & { clientId: string },
): ClientInfo {
  return {
    ...connectionInfo(remoteAddress),
    username: undefined,
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    ...fields,
  };
}

/** What hooks must be told about a connection `Server.handle()` serves. */
function connectionInfo(remoteAddress: string): ConnectionInfo {
  return { remoteAddress, localAddress: "", transport: "stream", listener: "" };
}

/** The remote address hooks saw first (the test client's side). */
function remoteOf(calls: HookCall[]): string {
  for (const [, first] of calls) {
    const info = first as { remoteAddress?: unknown } | undefined;
    if (typeof info?.remoteAddress === "string") return info.remoteAddress;
  }
  throw new Error("No hook saw a remote address");
}

/** Publishes one message from a throwaway client; waits for its ack. */
async function publishOnce(
  s: TestServer,
  topic: string,
  payload: string,
  qos: 0 | 1,
): Promise<void> {
  const { client } = await s.connect({ clientId: "pub" });
  await using _ = client;
  await client.send(
    publish({ topic, payload, qos, ...(qos ? { packetId: 9 } : {}) }),
  );
  if (qos === 1) {
    deepStrictEqual(await client.next(), ack({ type: "puback", packetId: 9 }));
  } else {
    await client.send(PINGREQ);
    deepStrictEqual(await client.next(), PINGRESP);
  }
}

function names(calls: HookCall[]): string[] {
  return calls.map(([name]) => name);
}

Deno.test("Hooks.checkAccept gets where a TCP connection comes from before anything is read", async () => {
  const calls: HookCall[] = [];
  await using s = await startServer({
    hooks: recordingHooks(calls, {
      checkAccept(info) {
        calls.push(["checkAccept", info]);
      },
    }),
  });
  const { client, connack: answer } = await s.connect({
    clientId: "seen",
  });
  await using _ = client;
  deepStrictEqual(answer, connack());
  const remote = remoteOf(calls);
  ok(/^127\.0\.0\.1:\d+$/.test(remote), remote);
  deepStrictEqual(calls[0], ["checkAccept", {
    remoteAddress: remote,
    localAddress: `127.0.0.1:${s.port}`,
    transport: "tcp",
    listener: s.server.addresses[0]!.name,
  }]);
});

Deno.test("Hooks.checkAccept gets the address a connection to Server.handle() was given", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls, {
      checkAccept(info) {
        calls.push(["checkAccept", info]);
      },
    }),
  });
  const { client } = await s.connect({ clientId: "seen" });
  await using _ = client;
  deepStrictEqual(calls[0], ["checkAccept", connectionInfo("pipe:1")]);
});

Deno.test("Hooks.checkAccept returning false closes the connection without a CONNACK", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls, { checkAccept: () => false }),
  });
  await using client = await s.open();
  await client.send({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId: "blocked",
  }).catch(() => {});
  deepStrictEqual(await packetsUntilClosed(client), []);
  await waitFor(() => calls.length > 0);
  deepStrictEqual(names(calls), ["onClosed"]);
  strictEqual(calls[0]![2], undefined);
  ok(calls[0]![3] instanceof Error);
});

Deno.test("Hooks run in order on connect: checkAccept, checkConnect, onConnected, onSessionCreated", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls, {
      checkAccept(info) {
        calls.push(["checkAccept", info]);
      },
      checkConnect(client, packet) {
        calls.push(["checkConnect", client, packet]);
      },
    }),
  });
  const { client } = await s.connect({
    clientId: "orderly",
    username: "alice",
    password: new TextEncoder().encode("secret"),
    keepAlive: 30,
  });
  await using _ = client;
  await waitFor(() => calls.length >= 4);
  const remote = remoteOf(calls);
  const info = clientInfo(remote, {
    clientId: "orderly",
    username: "alice",
    keepAlive: 30,
  });
  deepStrictEqual(calls, [
    ["checkAccept", connectionInfo(remote)],
    ["checkConnect", info, {
      type: "connect",
      protocolName: "MQTT",
      protocolVersion: 4,
      clean: true,
      keepAlive: 30,
      clientId: "orderly",
      username: "alice",
      password: new TextEncoder().encode("secret"),
    }],
    ["onConnected", info],
    ["onSessionCreated", info],
  ]);
});

Deno.test("Hooks.onSessionResumed is called when a client takes up its stored session", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({ hooks: recordingHooks(calls) });
  {
    const { client } = await s.connect({
      clientId: "back",
      clean: false,
    });
    await client.send({ type: "disconnect" });
    await client.close();
  }
  await waitFor(() => names(calls).includes("onClosed"));
  calls.length = 0;
  const { client } = await s.connect({
    clientId: "back",
    clean: false,
  });
  await using _ = client;
  await waitFor(() => calls.length >= 2);
  const info = clientInfo(remoteOf(calls), {
    clientId: "back",
    clean: false,
  });
  deepStrictEqual(calls, [["onConnected", info], ["onSessionResumed", info]]);
});

for (
  const [code, returnCode] of [
    [ReasonCode.BadUserNameOrPassword, 4],
    [ReasonCode.NotAuthorized, 5],
  ] as const
) {
  Deno.test(
    `Hooks.checkConnect returning 0x${
      code.toString(16)
    } refuses a 3.1.1 client with CONNACK ${returnCode}`,
    async () => {
      const calls: HookCall[] = [];
      await using s = await startPipeServer({
        hooks: recordingHooks(calls, { checkConnect: () => code }),
      });
      const { client, connack: answer } = await s.connect({
        clientId: "refused",
      });
      await using _ = client;
      deepStrictEqual(answer, connack({ reasonCode: returnCode }));
      deepStrictEqual(await packetsUntilClosed(client), []);
      await waitFor(() => names(calls).includes("onClosed"));
      // Refused: no onConnected, no session.
      deepStrictEqual(names(calls), ["onClosed"]);
      deepStrictEqual(s.server.sessions(), []);
    },
  );
}

Deno.test("Hooks.checkConnect may answer asynchronously", async () => {
  await using s = await startPipeServer({
    hooks: {
      async checkConnect(_client, packet) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return packet.username === "mallory"
          ? ReasonCode.NotAuthorized
          : undefined;
      },
    },
  });
  const good = await s.connect({
    clientId: "good",
    username: "alice",
  });
  await using _good = good.client;
  deepStrictEqual(good.connack, connack());
  const bad = await s.connect({
    clientId: "bad",
    username: "mallory",
  });
  await using _bad = bad.client;
  deepStrictEqual(bad.connack, connack({ reasonCode: 5 }));
  await bad.client.closed();
});

Deno.test("Hooks.checkConnect that throws refuses the client without stopping the server", async () => {
  let calls = 0;
  await using s = await startPipeServer({
    hooks: {
      checkConnect() {
        if (calls++ === 0) throw new Error("Database down");
      },
    },
  });
  const first = await s.connect({ clientId: "unlucky" });
  await using _first = first.client;
  // Unspecified error maps to "server unavailable" in 3.1.1.
  deepStrictEqual(first.connack, connack({ reasonCode: 3 }));
  await first.client.closed();
  const second = await s.connect({ clientId: "lucky" });
  await using _second = second.client;
  deepStrictEqual(second.connack, connack());
});

Deno.test("Hooks.checkConnect rejecting a promise refuses the client without stopping the server", async () => {
  await using s = await startPipeServer({
    hooks: { checkConnect: () => Promise.reject(new Error("Timeout")) },
  });
  const { client, connack: answer } = await s.connect({
    clientId: "unlucky",
  });
  await using _ = client;
  deepStrictEqual(answer, connack({ reasonCode: 3 }));
  await client.closed();
});

Deno.test("Hooks run in the order given and the first refusal wins", async () => {
  const asked: string[] = [];
  const seen: string[] = [];
  const hooks: Hooks[] = ["a", "b", "c"].map((name) => ({
    checkConnect(_client, packet) {
      asked.push(name);
      if (packet.clientId === "x" && name !== "a") {
        return name === "b"
          ? ReasonCode.BadUserNameOrPassword
          : ReasonCode.NotAuthorized;
      }
    },
    onConnected() {
      seen.push(name);
    },
  }));
  await using s = await startPipeServer({ hooks });
  const refused = await s.connect({ clientId: "x" });
  await using _refused = refused.client;
  deepStrictEqual(refused.connack, connack({ reasonCode: 4 }));
  deepStrictEqual(asked, ["a", "b"]);
  asked.length = 0;
  const accepted = await s.connect({ clientId: "y" });
  await using _accepted = accepted.client;
  deepStrictEqual(accepted.connack, connack());
  deepStrictEqual(asked, ["a", "b", "c"]);
  deepStrictEqual(seen, ["a", "b", "c"]);
});

Deno.test("Hooks.onSessionTerminated says normal when a clean session's client disconnects", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({ hooks: recordingHooks(calls) });
  const { client } = await s.connect({ clientId: "bye" });
  await using _ = client;
  await client.send({ type: "disconnect" });
  await client.closed();
  await waitFor(() => names(calls).includes("onSessionTerminated"));
  deepStrictEqual(
    calls.filter(([n]) => n === "onSessionTerminated"),
    [["onSessionTerminated", "bye", "normal"]],
  );
});

for (const previousClean of [false, true]) {
  Deno.test(
    `Hooks.onSessionTerminated says taken_over when a clean session client takes over a clean session ${
      previousClean ? 1 : 0
    } session`,
    async () => {
      const calls: HookCall[] = [];
      await using s = await startPipeServer({ hooks: recordingHooks(calls) });
      const first = await s.connect({
        clientId: "seat",
        clean: previousClean,
      });
      await using _first = first.client;
      const second = await s.connect({
        clientId: "seat",
        clean: true,
      });
      await using _second = second.client;
      await first.client.closed();
      await waitFor(() => names(calls).includes("onSessionTerminated"));
      deepStrictEqual(
        calls.filter(([n]) => n === "onSessionTerminated"),
        [["onSessionTerminated", "seat", "taken_over"]],
      );
    },
  );
}

Deno.test("Hooks.onSessionTerminated says expired when an offline session expires", async () => {
  const clock = new FakeClock();
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls),
    now: clock.now,
    sweepInterval: 5,
    sessionExpiry: 10,
  });
  const { client } = await s.connect({
    clientId: "old",
    clean: false,
  });
  await client.send({ type: "disconnect" });
  await client.close();
  await waitFor(() => s.server.session("old")?.connected === false);
  clock.advance(10_000);
  await waitFor(() => names(calls).includes("onSessionTerminated"));
  deepStrictEqual(
    calls.filter(([n]) => n === "onSessionTerminated"),
    [["onSessionTerminated", "old", "expired"]],
  );
});

for (const clean of [false, true]) {
  Deno.test(
    `Hooks.onSessionTerminated says kicked when the server kicks a clean session ${
      clean ? 1 : 0
    } client and discards its session`,
    async () => {
      const calls: HookCall[] = [];
      await using s = await startPipeServer({ hooks: recordingHooks(calls) });
      const { client } = await s.connect({
        clientId: "rude",
        clean,
      });
      await using _ = client;
      strictEqual(await s.server.kick("rude", { discardSession: true }), true);
      await client.closed();
      deepStrictEqual(
        calls.filter(([n]) => n === "onSessionTerminated"),
        [["onSessionTerminated", "rude", "kicked"]],
      );
    },
  );
}

Deno.test("Hooks.checkSubscribe refuses one filter with 0x80 and grants the others (test/nosubscribe)", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls, {
      checkSubscribe(_client, subscription) {
        if (subscription.topicFilter === "test/nosubscribe") {
          return ReasonCode.NotAuthorized;
        }
      },
    }),
  });
  const { client } = await s.connect({ clientId: "sub" });
  await using _ = client;
  await client.send(subscribe({
    packetId: 3,
    subscriptions: [["test/a", 1], ["test/nosubscribe", 1], ["test/b", 2]],
  }));
  // [MQTT-3.9.3-1] One code per filter, in order; 3.1.1 sees 0x80.
  deepStrictEqual(
    await client.next(),
    suback({ packetId: 3, reasonCodes: [1, 0x80, 2] }),
  );
  deepStrictEqual(
    s.server.subscriptions({ clientId: "sub" }).map((x) => x.topicFilter),
    ["test/a", "test/b"],
  );
  await publishOnce(s, "test/nosubscribe", "no", 1);
  await client.nothingPending();
  const info = clientInfo(remoteOf(calls), { clientId: "sub" });
  deepStrictEqual(calls.filter(([n]) => n === "onSubscribed"), [
    ["onSubscribed", info, { topicFilter: "test/a", qos: 1 }, 1],
    ["onSubscribed", info, { topicFilter: "test/b", qos: 2 }, 2],
  ]);
});

Deno.test("Hooks.checkSubscribe answering a QoS grants at most that QoS", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls, { checkSubscribe: () => Promise.resolve(1) }),
  });
  const { client } = await s.connect({ clientId: "sub" });
  await using _ = client;
  await client.send(subscribe({
    packetId: 4,
    subscriptions: [["low/#", 2], ["zero/#", 0]],
  }));
  deepStrictEqual(
    await client.next(),
    suback({ packetId: 4, reasonCodes: [1, 0] }),
  );
  await publishOnce(s, "low/x", "hi", 1);
  const remote = remoteOf(calls);
  deepStrictEqual(
    await client.next(),
    publish({ topic: "low/x", payload: "hi", qos: 1, packetId: 1 }),
  );
  deepStrictEqual(calls.filter(([n]) => n === "onSubscribed")[0], [
    "onSubscribed",
    clientInfo(remote, { clientId: "sub" }),
    { topicFilter: "low/#", qos: 2 },
    1,
  ]);
});

Deno.test("Hooks.checkUnsubscribe refusing keeps the subscription; onUnsubscribed sees removed filters", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls, {
      checkUnsubscribe(client, topicFilter) {
        calls.push(["checkUnsubscribe", client, topicFilter]);
        if (topicFilter === "keep/#") return ReasonCode.NotAuthorized;
      },
    }),
  });
  const { client } = await s.connect({ clientId: "un" });
  await using _ = client;
  await subscribeTo(client, "keep/#", 0);
  await subscribeTo(client, "drop/#", 0, 11);
  await client.send(unsubscribe({
    packetId: 12,
    topicFilters: ["keep/#", "drop/#"],
  }));
  // [MQTT-3.10.4-4] UNSUBACK in any case.
  deepStrictEqual(await client.next(), { type: "unsuback", packetId: 12 });
  deepStrictEqual(
    s.server.subscriptions({ clientId: "un" }).map((x) => x.topicFilter),
    ["keep/#"],
  );
  const info = clientInfo(remoteOf(calls), { clientId: "un" });
  deepStrictEqual(
    calls.filter(([n]) => n.includes("nsubscribe")),
    [
      ["checkUnsubscribe", info, "keep/#"],
      ["checkUnsubscribe", info, "drop/#"],
      ["onUnsubscribed", info, "drop/#"],
    ],
  );
  await publishOnce(s, "keep/1", "k", 0);
  deepStrictEqual(
    await client.next(),
    publish({ topic: "keep/1", payload: "k" }),
  );
});

Deno.test("Hooks.checkPublish refusing a QoS 1 PUBLISH still acknowledges it, delivers nothing and reports not_authorized", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls, {
      checkPublish(client, packet) {
        calls.push(["checkPublish", client, packet]);
        if (packet.topic.startsWith("secret/")) {
          return ReasonCode.NotAuthorized;
        }
      },
    }),
  });
  const { client: sub } = await s.connect({ clientId: "s" });
  await using _sub = sub;
  await subscribeTo(sub, "#", 1);
  const { client } = await s.connect({ clientId: "p" });
  await using _ = client;
  const packet = publish({
    topic: "secret/x",
    payload: "hush",
    qos: 1,
    packetId: 21,
  });
  await client.send(packet);
  deepStrictEqual(await client.next(), ack({ type: "puback", packetId: 21 }));
  await sub.nothingPending();
  const checked = calls.find(([n]) => n === "checkPublish")!;
  strictEqual((checked[1] as ClientInfo).clientId, "p");
  deepStrictEqual(checked[2], packet);
  const dropped = calls.filter(([n]) => n === "onMessageDropped");
  strictEqual(dropped.length, 1);
  const [, clientId, message, reason] = dropped[0]!;
  deepStrictEqual([clientId, reason], [undefined, "not_authorized"]);
  const m = message as Message;
  deepStrictEqual([m.topic, text(m.payload), m.qos, m.publisher], [
    "secret/x",
    "hush",
    1,
    "p",
  ]);
  // Allowed topics still go through.
  await client.send(publish({ topic: "open/x", payload: "hi", qos: 0 }));
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "open/x", payload: "hi" }),
  );
});

for (const answer of ["synchronously", "with a promise"] as const) {
  Deno.test(`Hooks.checkPublish whose client is kicked before it answers ${answer} neither routes nor acknowledges the PUBLISH`, async () => {
    const calls: HookCall[] = [];
    const kicks: Promise<boolean>[] = [];
    const verdict = Promise.withResolvers<undefined>();
    let asked = false;
    await using s = await startPipeServer({
      hooks: recordingHooks(calls, {
        checkPublish(client, packet) {
          if (packet.topic !== "kick/me") return undefined;
          asked = true;
          if (answer === "with a promise") return verdict.promise;
          // A synchronous hook may close the connection it decides on.
          kicks.push(s.server.kick(client.clientId));
          return undefined;
        },
      }),
    });
    const { client: sub } = await s.connect({ clientId: "s" });
    await using _sub = sub;
    await subscribeTo(sub, "#", 1);
    const { client } = await s.connect({ clientId: "p" });
    await using _ = client;
    await client.send(
      publish({ topic: "kick/me", payload: "x", qos: 1, packetId: 5 }),
    );
    await waitFor(() => asked);
    if (answer === "with a promise") {
      kicks.push(s.server.kick("p"));
      verdict.resolve(undefined);
    }
    deepStrictEqual(await Promise.all(kicks), [true]);
    // No PUBACK: the connection closed before the answer was acted on.
    deepStrictEqual(await packetsUntilClosed(client), []);
    await sub.nothingPending();
    deepStrictEqual(calls.filter(([n]) => n === "onMessageDropped"), []);
  });
}

Deno.test("Hooks.checkPublish answering a 3.1.1 return code refuses the PUBLISH and logs why", async () => {
  const records: LogRecord[] = [];
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    logger: new Logger("broker", "error", {
      handlers: [{ handle: (record) => records.push(record) }],
    }),
    hooks: recordingHooks(calls, {
      // What a JavaScript hook may do: 5 is "not authorized" in a 3.1.1
      // CONNACK, and no refusal code at all.
      // @ts-expect-error: a number under 0x80 is not a Verdict
      checkPublish() {
        return 5;
      },
    }),
  });
  const { client: sub } = await s.connect({ clientId: "s" });
  await using _sub = sub;
  await subscribeTo(sub, "#", 1);
  const { client } = await s.connect({ clientId: "p" });
  await using _ = client;
  await client.send(
    publish({ topic: "a/b", payload: "x", qos: 1, packetId: 3 }),
  );
  deepStrictEqual(await client.next(), ack({ type: "puback", packetId: 3 }));
  await sub.nothingPending();
  const dropped = calls.filter(([n]) => n === "onMessageDropped");
  deepStrictEqual(dropped.map(([, , , reason]) => reason), ["not_authorized"]);
  const failures = records.filter((r) => r.msg === "hook failed");
  strictEqual(failures.length, 1);
  strictEqual(failures[0]!.fields.hook, "checkPublish");
  const error = failures[0]!.fields.error;
  ok(error instanceof TypeError);
  strictEqual(
    error.message,
    "Cannot use checkPublish's answer: 5 (0x05) is not a reason code of 0x80 and above, or undefined; refused with unspecified_error (0x80)",
  );
});

Deno.test("Hooks.transformMessage may replace the message subscribers get", async () => {
  const seen: (string | undefined)[] = [];
  await using s = await startPipeServer({
    hooks: {
      transformMessage(client, message) {
        seen.push(client?.clientId);
        return {
          ...message,
          payload: new TextEncoder().encode(
            text(message.payload).toUpperCase(),
          ),
        };
      },
    },
  });
  const { client } = await s.connect({ clientId: "t" });
  await using _ = client;
  await subscribeTo(client, "t/#", 0);
  await client.send(publish({ topic: "t/1", payload: "shout" }));
  deepStrictEqual(
    await client.next(),
    publish({ topic: "t/1", payload: "SHOUT" }),
  );
  // The server's own messages go through it too, with no client.
  await s.server.publish({ topic: "t/2", payload: "server" });
  deepStrictEqual(
    await client.next(),
    publish({ topic: "t/2", payload: "SERVER" }),
  );
  deepStrictEqual(seen, ["t", undefined]);
});

Deno.test("Hooks.transformMessage returning null drops the message, still acknowledged and reported as hook", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls, {
      transformMessage: (_client, message) =>
        Promise.resolve(text(message.payload) === "spam" ? null : undefined),
    }),
  });
  const { client: sub } = await s.connect({ clientId: "s" });
  await using _sub = sub;
  await subscribeTo(sub, "m/#", 2);
  const { client } = await s.connect({ clientId: "p" });
  await using _ = client;
  await client.send(
    publish({ topic: "m/1", payload: "spam", qos: 2, packetId: 3 }),
  );
  deepStrictEqual(await client.next(), ack({ type: "pubrec", packetId: 3 }));
  await client.send(ack({ type: "pubrel", packetId: 3 }));
  deepStrictEqual(await client.next(), ack({ type: "pubcomp", packetId: 3 }));
  await client.send(
    publish({ topic: "m/1", payload: "ham", qos: 1, packetId: 4 }),
  );
  deepStrictEqual(await client.next(), ack({ type: "puback", packetId: 4 }));
  deepStrictEqual(
    await sub.next(),
    publish({ topic: "m/1", payload: "ham", qos: 1, packetId: 1 }),
  );
  const dropped = calls.filter(([n]) => n === "onMessageDropped");
  deepStrictEqual(
    dropped.map((
      [, id, m, reason],
    ) => [id, text((m as Message).payload), reason]),
    [[undefined, "spam", "hook"]],
  );
});

Deno.test("Hooks.onDelivered sees each message written to a subscriber", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({ hooks: recordingHooks(calls) });
  const { client } = await s.connect({ clientId: "d" });
  await using _ = client;
  await subscribeTo(client, "d/#", 1);
  const remote = remoteOf(calls);
  await publishOnce(s, "d/1", "one", 1);
  deepStrictEqual(
    await client.next(),
    publish({ topic: "d/1", payload: "one", qos: 1, packetId: 1 }),
  );
  const delivered = calls.filter(([n]) => n === "onDelivered");
  strictEqual(delivered.length, 1);
  const [, info, message] = delivered[0]!;
  deepStrictEqual(info, clientInfo(remote, { clientId: "d" }));
  const m = message as Message;
  deepStrictEqual([m.topic, text(m.payload), m.qos, m.publisher], [
    "d/1",
    "one",
    1,
    "pub",
  ]);
});

Deno.test("Hooks.onMessageDropped reports queue_full when an offline session's queue is full", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({
    hooks: recordingHooks(calls),
    maxQueuedMessages: 1,
  });
  {
    const { client } = await s.connect({
      clientId: "full",
      clean: false,
    });
    await subscribeTo(client, "f/#", 1);
    await client.send({ type: "disconnect" });
    await client.close();
  }
  await waitFor(() => s.server.session("full")?.connected === false);
  await publishOnce(s, "f/1", "first", 1);
  await publishOnce(s, "f/2", "second", 1);
  const dropped = calls.filter(([n]) => n === "onMessageDropped");
  // The queue keeps one; a QoS 1 push drops the oldest.
  deepStrictEqual(
    dropped.map((
      [, id, m, reason],
    ) => [id, text((m as Message).payload), reason]),
    [["full", "first", "queue_full"]],
  );
  strictEqual(s.server.session("full")?.queued, 1);
});

Deno.test("Hooks.onClosed gets no error after DISCONNECT and the error after a protocol violation", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({ hooks: recordingHooks(calls) });
  {
    const { client } = await s.connect({ clientId: "nice" });
    await using _ = client;
    await client.send({ type: "disconnect" });
    await client.closed();
  }
  {
    const { client } = await s.connect({ clientId: "rough" });
    await using _ = client;
    await client.sendBytes(Uint8Array.of(0x00, 0x00));
    await client.closed();
  }
  await waitFor(() => calls.filter(([n]) => n === "onClosed").length === 2);
  const closed = calls.filter(([n]) => n === "onClosed");
  const [[, niceConn, niceClient, niceError], [, , roughClient, roughError]] =
    closed as [HookCall, HookCall];
  const remote = (niceConn as ConnectionInfo).remoteAddress;
  deepStrictEqual(niceConn, connectionInfo(remote));
  deepStrictEqual(niceClient, clientInfo(remote, { clientId: "nice" }));
  strictEqual(niceError, undefined);
  strictEqual((roughClient as ClientInfo).clientId, "rough");
  ok(roughError instanceof MqttError, String(roughError));
});

Deno.test("Hooks.onClosed gets the error when a client's network connection drops", async () => {
  const calls: HookCall[] = [];
  await using s = await startPipeServer({ hooks: recordingHooks(calls) });
  const { client } = await s.connect({ clientId: "lost" });
  await client.close();
  await waitFor(() => names(calls).includes("onClosed"));
  const [, , info, error] = calls.find(([n]) => n === "onClosed")!;
  strictEqual((info as ClientInfo).clientId, "lost");
  ok(error instanceof Error);
});

Deno.test("Hooks.onClosed gets the ConnectionInfo object that checkAccept got for a TCP connection", async () => {
  const accepted: ConnectionInfo[] = [];
  const closed: ConnectionInfo[] = [];
  await using s = await startServer({
    hooks: {
      checkAccept: (info) => void accepted.push(info),
      onClosed: (info) => void closed.push(info),
    },
  });
  const { client } = await s.connect({ clientId: "same" });
  await client.close();
  await waitFor(() => closed.length === 1);
  strictEqual(accepted.length, 1);
  strictEqual(closed[0], accepted[0]);
});

Deno.test("Hooks.onStop is called once stop() has closed every connection", async () => {
  const events: string[] = [];
  await using s = await startPipeServer({
    hooks: {
      onClosed: () => void events.push("onClosed"),
      onStop: () => void events.push("onStop"),
    },
  });
  const { client } = await s.connect({ clientId: "last" });
  await using _ = client;
  await s.server.stop();
  deepStrictEqual(events, ["onClosed", "onStop"]);
  await client.closed();
});
