/**
 * The ACL that filters instead of refusing: wildcard subscriptions that
 * overlap a deny rule are granted, and the denied topics never reach the
 * client, whatever the path (live, queued offline, retained, will, shared
 * group). Also the policy for offline members of a shared group. Over
 * in-memory pipes, but for mosquitto_sub and mosquitto_pub.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type {
  AclOptions,
  DropReason,
  Hooks,
  PublishPacket,
  ServerOptions,
} from "../mod.ts";
import { aclHooks } from "../mod.ts";
import { startPipeServer, startServer, type TestClient } from "./_client.ts";
import { brokerArgs, MosquittoProcess, runMosquitto } from "./_mosquitto.ts";
import { connect, publish, subscribe } from "./_pubsub.ts";

const PAHO_RULES: AclOptions = {
  rules: [{
    permission: "deny",
    action: "subscribe",
    topic: "test/nosubscribe",
  }],
};

/** Drops reported to the hooks, as `clientId topic reason`. */
function dropRecorder(drops: string[]): Hooks {
  return {
    onMessageDropped(clientId, message, reason: DropReason) {
      drops.push(`${clientId} ${message.topic} ${reason}`);
    },
  };
}

function options(
  acl: AclOptions,
  drops: string[] = [],
  more: ServerOptions = {},
): ServerOptions {
  return { hooks: [aclHooks(acl), dropRecorder(drops)], ...more };
}

/** The next packet, asserted to be a PUBLISH; acknowledged if QoS 1. */
async function nextPublish(client: TestClient): Promise<PublishPacket> {
  const packet = await client.next();
  if (packet.type !== "publish") {
    throw new Error(`Expected PUBLISH, got ${packet.type}`);
  }
  if (packet.qos === 1) {
    await client.send({ type: "puback", packetId: packet.packetId! });
  }
  return packet;
}

async function topicsOf(client: TestClient, count: number): Promise<string[]> {
  const topics: string[] = [];
  for (let i = 0; i < count; i++) {
    topics.push((await nextPublish(client)).topic);
  }
  return topics;
}

Deno.test("aclHooks() lets mosquitto_sub subscribe to # and +/+ next to a deny rule and never delivers the denied topic", async () => {
  const drops: string[] = [];
  await using broker = await startServer(options(PAHO_RULES, drops));
  await using sub = MosquittoProcess.spawn("mosquitto_sub", [
    ...brokerArgs(broker.port),
    "-i",
    "watcher",
    "-t",
    "#",
    "-t",
    "+/+",
    "-C",
    "2",
    "-v",
  ]);
  const deadline = Date.now() + 3000;
  while (broker.server.subscriptions({ clientId: "watcher" }).length < 2) {
    if (Date.now() > deadline) {
      throw new Error("mosquitto_sub did not subscribe");
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (
    const [topic, message] of [
      ["test/nosubscribe", "secret"],
      ["test/ok", "one"],
      ["a/b/c", "two"],
    ]
  ) {
    const result = await runMosquitto("mosquitto_pub", [
      ...brokerArgs(broker.port),
      "-t",
      topic!,
      "-m",
      message!,
    ]);
    strictEqual(result.code, 0, result.stderr);
  }
  const { code, text } = await sub.result();
  strictEqual(code, 0);
  strictEqual(text, "test/ok one\na/b/c two\n");
  deepStrictEqual(drops, ["watcher test/nosubscribe not_authorized"]);
  strictEqual(
    broker.server.metrics().messagesDroppedByReason.not_authorized,
    1,
  );
});

Deno.test("aclHooks() still refuses test/nosubscribe itself, 0x80 in 3.1.1 and 0x87 in 5.0", async () => {
  await using broker = await startPipeServer(options(PAHO_RULES));
  const v4 = await connect(broker);
  const v5 = await connect(broker, { protocolVersion: 5 });
  try {
    deepStrictEqual(
      (await subscribe(v4, [["test/nosubscribe", 1], ["#", 1], ["+/+", 0]]))
        .reasonCodes,
      [0x80, 1, 0],
    );
    deepStrictEqual(
      (await subscribe(v5, [["test/nosubscribe", 1], ["#", 1]])).reasonCodes,
      [0x87, 1],
    );
  } finally {
    await v4.close();
    await v5.close();
  }
});

Deno.test("aclHooks() with overlap refuse keeps refusing # and +/+", async () => {
  await using broker = await startPipeServer(
    options({ ...PAHO_RULES, overlap: "refuse" }),
  );
  const v4 = await connect(broker);
  const v5 = await connect(broker, { protocolVersion: 5 });
  try {
    deepStrictEqual(
      (await subscribe(v4, [["#", 1], ["+/+", 0], ["a/b", 0]])).reasonCodes,
      [0x80, 0x80, 0],
    );
    deepStrictEqual(
      (await subscribe(v5, [["#", 1], ["test/+", 0]])).reasonCodes,
      [0x87, 0x87],
    );
  } finally {
    await v4.close();
    await v5.close();
  }
});

Deno.test("aclHooks() answers a refused subscription with the rule's reason", async () => {
  await using broker = await startPipeServer(options({
    rules: [
      {
        permission: "deny",
        action: "subscribe",
        topic: "hidden/#",
        reason: "unspecified_error",
      },
      {
        permission: "deny",
        action: "subscribe",
        topic: "named/#",
        reason: "topic_filter_invalid",
      },
    ],
  }));
  const v4 = await connect(broker);
  const v5 = await connect(broker, { protocolVersion: 5 });
  try {
    deepStrictEqual(
      (await subscribe(v5, [["hidden/a", 1], ["named/a", 1], ["#", 0]]))
        .reasonCodes,
      [0x80, 0x8f, 0],
    );
    deepStrictEqual(
      (await subscribe(v4, [["hidden/a", 1], ["named/a", 1]])).reasonCodes,
      [0x80, 0x80],
    );
  } finally {
    await v4.close();
    await v5.close();
  }
});

Deno.test("Server withholds a denied topic from a live subscriber of + and #", async () => {
  await using broker = await startPipeServer(options(PAHO_RULES));
  const sub = await connect(broker, { clientId: "s" });
  const pub = await connect(broker, { clientId: "p" });
  try {
    await subscribe(sub, [["test/+", 1]]);
    await pub.send(publish({ topic: "test/nosubscribe", payload: "x" }));
    await pub.send(publish({ topic: "test/ok", payload: "y" }));
    deepStrictEqual(await topicsOf(sub, 1), ["test/ok"]);
    await sub.nothingPending();
  } finally {
    await sub.close();
    await pub.close();
  }
});

Deno.test("Server withholds a denied topic from a session queued offline, then resumed", async () => {
  const drops: string[] = [];
  await using broker = await startPipeServer(options(PAHO_RULES, drops));
  let sub = await connect(broker, { clientId: "offline", clean: false });
  await subscribe(sub, [["#", 1]]);
  await sub.send({ type: "disconnect" });
  await sub.closed();
  const pub = await connect(broker, { clientId: "p" });
  try {
    for (const topic of ["test/nosubscribe", "test/ok", "test/nosubscribe"]) {
      await pub.send(publish({ topic, qos: 1, packetId: 1, payload: topic }));
      strictEqual((await pub.next()).type, "puback");
    }
    strictEqual(broker.server.session("offline")?.queued, 1);
    sub = await connect(broker, { clientId: "offline", clean: false });
    deepStrictEqual(await topicsOf(sub, 1), ["test/ok"]);
    await sub.nothingPending();
    deepStrictEqual(drops, [
      "offline test/nosubscribe not_authorized",
      "offline test/nosubscribe not_authorized",
    ]);
  } finally {
    await sub.close();
    await pub.close();
  }
});

Deno.test("Server withholds a denied retained message from a new subscription", async () => {
  const drops: string[] = [];
  await using broker = await startPipeServer(options(PAHO_RULES, drops));
  const pub = await connect(broker, { clientId: "p" });
  const sub = await connect(broker, { clientId: "s" });
  try {
    for (const topic of ["test/nosubscribe", "test/ok"]) {
      await pub.send(
        publish({ topic, qos: 1, packetId: 1, retain: true, payload: "r" }),
      );
      strictEqual((await pub.next()).type, "puback");
    }
    await subscribe(sub, [["#", 1]]);
    const got = await nextPublish(sub);
    strictEqual(got.topic, "test/ok");
    strictEqual(got.retain, true);
    await sub.nothingPending();
    deepStrictEqual(drops, ["s test/nosubscribe not_authorized"]);
  } finally {
    await sub.close();
    await pub.close();
  }
});

Deno.test("Server withholds a will on a denied topic", async () => {
  await using broker = await startPipeServer(options(PAHO_RULES));
  const sub = await connect(broker, { clientId: "s" });
  const will = (topic: string) => ({
    topic,
    payload: new TextEncoder().encode("gone"),
    qos: 1 as const,
    retain: false,
  });
  const w1 = await connect(broker, {
    clientId: "w1",
    will: will("test/nosubscribe"),
  });
  const w2 = await connect(broker, {
    clientId: "w2",
    will: will("test/will"),
  });
  try {
    await subscribe(sub, [["#", 1]]);
    await w1.close();
    await w2.close();
    deepStrictEqual(await topicsOf(sub, 1), ["test/will"]);
    await sub.nothingPending();
  } finally {
    await sub.close();
  }
});

Deno.test("Server skips a shared group member that may not receive a message, and drops it when none may", async () => {
  const drops: string[] = [];
  await using broker = await startPipeServer(options({
    rules: [
      {
        permission: "deny",
        action: "subscribe",
        topic: "jobs/secret",
        clientId: "a",
      },
      { permission: "deny", action: "subscribe", topic: "jobs/none" },
    ],
  }, drops));
  const a = await connect(broker, { clientId: "a" });
  const b = await connect(broker, { clientId: "b" });
  const pub = await connect(broker, { clientId: "p" });
  try {
    await subscribe(a, [["$share/g/jobs/#", 0]]);
    await subscribe(b, [["$share/g/jobs/#", 0]]);
    for (let i = 0; i < 4; i++) {
      await pub.send(publish({ topic: "jobs/secret", payload: String(i) }));
    }
    await pub.send(publish({ topic: "jobs/none" }));
    deepStrictEqual(await topicsOf(b, 4), Array(4).fill("jobs/secret"));
    await a.nothingPending();
    await b.nothingPending();
    deepStrictEqual(drops, ["undefined jobs/none not_authorized"]);
  } finally {
    await a.close();
    await b.close();
    await pub.close();
  }
});

for (const policy of ["online_first", "round_robin"] as const) {
  Deno.test(
    `Server with sharedSubscriptionOffline ${policy} ${
      policy === "online_first" ? "queues nothing for" : "queues in turn for"
    } an offline group member`,
    async () => {
      await using broker = await startPipeServer({
        sharedSubscriptionOffline: policy,
      });
      const online = await connect(broker, { clientId: "on" });
      let offline = await connect(broker, {
        clientId: "off",
        clean: false,
      });
      const pub = await connect(broker, { clientId: "p" });
      try {
        await subscribe(online, [["$share/g/work", 1]]);
        await subscribe(offline, [["$share/g/work", 1]]);
        await offline.send({ type: "disconnect" });
        await offline.closed();
        for (let i = 0; i < 4; i++) {
          await pub.send(publish({ topic: "work", qos: 1, packetId: 1 }));
          strictEqual((await pub.next()).type, "puback");
        }
        const share = policy === "online_first" ? 4 : 2;
        deepStrictEqual(
          await topicsOf(online, share),
          Array(share).fill("work"),
        );
        await online.nothingPending();
        offline = await connect(broker, { clientId: "off", clean: false });
        deepStrictEqual(
          await topicsOf(offline, 4 - share),
          Array(4 - share).fill("work"),
        );
        await offline.nothingPending();
      } finally {
        await online.close();
        await offline.close();
        await pub.close();
      }
    },
  );
}
