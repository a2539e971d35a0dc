/**
 * The router over fake links: who gets a message, at what QoS, with which
 * flags and subscription ids; shared groups; retained messages.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  bytes,
  connect,
  FakeHooks,
  message,
  publish,
  RecordingBus,
  startCore,
  text,
} from "./_core_fakes.ts";

Deno.test("Router.publish() delivers once per client at the highest QoS of its overlapping filters, with every subscription id", () => {
  const { core } = startCore();
  const a = connect(core, "a");
  const b = connect(core, "b");
  core.subscriptions.subscribe(a.session, {
    topicFilter: "home/+",
    qos: 0,
    subscriptionId: 1,
  });
  core.subscriptions.subscribe(a.session, {
    topicFilter: "home/#",
    qos: 2,
    subscriptionId: 2,
  });
  core.subscriptions.subscribe(a.session, {
    topicFilter: "home/kitchen",
    qos: 1,
  });
  core.subscriptions.subscribe(b.session, { topicFilter: "home/+", qos: 1 });

  publish(core, message("home/kitchen", "21", { qos: 2 }));

  strictEqual(a.link.publishes.length, 1);
  const [toA] = a.link.publishes;
  strictEqual(toA!.delivery.qos, 2);
  deepStrictEqual([...toA!.delivery.subscriptionIds!].sort(), [1, 2]);
  strictEqual(b.link.publishes.length, 1);
  strictEqual(b.link.publishes[0]!.delivery.qos, 1);
  strictEqual(b.link.publishes[0]!.delivery.subscriptionIds, undefined);
});

Deno.test("Router.publish() does not send a message back to its publisher on a No Local subscription", () => {
  const { core } = startCore();
  const a = connect(core, "a");
  const b = connect(core, "b");
  const c = connect(core, "c");
  core.subscriptions.subscribe(a.session, {
    topicFilter: "chat",
    qos: 0,
    noLocal: true,
  });
  core.subscriptions.subscribe(b.session, {
    topicFilter: "chat",
    qos: 0,
    noLocal: true,
  });
  // A No Local filter does not stop another filter of the publisher.
  core.subscriptions.subscribe(c.session, {
    topicFilter: "chat",
    qos: 0,
    noLocal: true,
  });
  core.subscriptions.subscribe(c.session, { topicFilter: "#", qos: 0 });

  publish(core, message("chat", "from a", { publisher: "a" }));
  publish(core, message("chat", "from c", { publisher: "c" }));

  deepStrictEqual(a.link.payloads, ["from c"]);
  deepStrictEqual(b.link.payloads, ["from a", "from c"]);
  deepStrictEqual(c.link.payloads, ["from a", "from c"]);
});

Deno.test("Router.publish() sends RETAIN 0 to live subscribers unless they asked for Retain As Published", () => {
  const { core } = startCore();
  const plain = connect(core, "plain");
  const rap = connect(core, "rap");
  core.subscriptions.subscribe(plain.session, { topicFilter: "t", qos: 0 });
  core.subscriptions.subscribe(rap.session, {
    topicFilter: "t",
    qos: 0,
    retainAsPublished: true,
  });

  publish(core, message("t", "kept", { retain: true }));
  publish(core, message("t", "live"));

  deepStrictEqual(plain.link.publishes.map((p) => p.delivery.retain), [
    false,
    false,
  ]);
  deepStrictEqual(rap.link.publishes.map((p) => p.delivery.retain), [
    true,
    false,
  ]);
});

Deno.test("Router.publish() delivers at the lower of the message's QoS and the subscription's", () => {
  const { core } = startCore();
  const s0 = connect(core, "s0");
  const s1 = connect(core, "s1");
  const s2 = connect(core, "s2");
  core.subscriptions.subscribe(s0.session, { topicFilter: "t", qos: 0 });
  core.subscriptions.subscribe(s1.session, { topicFilter: "t", qos: 1 });
  core.subscriptions.subscribe(s2.session, { topicFilter: "t", qos: 2 });

  for (const qos of [0, 1, 2] as const) {
    publish(core, message("t", `q${qos}`, { qos }));
  }

  const qosOf = (link: typeof s0.link) =>
    link.publishes.map((p) => p.delivery.qos);
  deepStrictEqual(qosOf(s0.link), [0, 0, 0]);
  deepStrictEqual(qosOf(s1.link), [0, 1, 1]);
  deepStrictEqual(qosOf(s2.link), [0, 1, 2]);
  // Only QoS 1 and 2 deliveries take a packet id.
  deepStrictEqual(s2.link.publishes.map((p) => p.packetId), [
    undefined,
    1,
    2,
  ]);
});

// -- shared subscriptions ----------------------------------------------------

Deno.test("Router.publish() gives each message of a shared subscription to one member in turn", () => {
  const { core } = startCore();
  const members = ["m1", "m2", "m3"].map((id) => connect(core, id));
  for (const m of members) {
    core.subscriptions.subscribe(m.session, {
      topicFilter: "$share/g/jobs/+",
      qos: 1,
    });
  }

  for (let i = 0; i < 6; i++) {
    publish(core, message("jobs/x", `${i}`, { qos: 1 }));
  }

  const who: string[] = [];
  for (let i = 0; i < 6; i++) {
    const owner = members.find((m) => m.link.payloads.includes(`${i}`));
    who.push(owner!.session.clientId);
  }
  // Three different members, then the same three again, in the same order.
  strictEqual(new Set(who.slice(0, 3)).size, 3);
  deepStrictEqual(who.slice(3), who.slice(0, 3));
  for (const m of members) strictEqual(m.link.publishes.length, 2);
});

Deno.test("Router.publish() gives a shared message to online members first, offline ones only when none is online (online_first)", () => {
  const { core } = startCore({
    options: { sharedSubscriptionOffline: "online_first" },
  });
  const on = connect(core, "on");
  const off = connect(core, "off");
  for (const m of [on, off]) {
    core.subscriptions.subscribe(m.session, {
      topicFilter: "$share/g/t",
      qos: 1,
    });
  }
  off.link.disconnect();

  for (let i = 0; i < 4; i++) publish(core, message("t", `${i}`, { qos: 1 }));
  deepStrictEqual(on.link.payloads, ["0", "1", "2", "3"]);
  strictEqual(off.session.queued, 0);

  on.link.disconnect();
  for (let i = 4; i < 8; i++) publish(core, message("t", `${i}`, { qos: 1 }));
  // Both offline: every message is queued for one of them, none is lost.
  strictEqual(on.session.queued + off.session.queued, 4);
  strictEqual(on.session.queued, 2);
});

Deno.test("Router.publish() queues an offline member's turn of a shared subscription (round_robin)", () => {
  const { core } = startCore({
    options: { sharedSubscriptionOffline: "round_robin" },
  });
  const on = connect(core, "on");
  const off = connect(core, "off");
  for (const m of [on, off]) {
    core.subscriptions.subscribe(m.session, {
      topicFilter: "$share/g/t",
      qos: 1,
    });
  }
  off.link.disconnect();

  for (let i = 0; i < 4; i++) publish(core, message("t", `${i}`, { qos: 1 }));

  strictEqual(on.link.publishes.length, 2);
  strictEqual(off.session.queued, 2);
  const back = connect(core, "off");
  strictEqual(back.present, true);
  strictEqual(back.link.publishes.length, 2);
});

Deno.test("Router.publish() skips a shared member whose checkDeliver hook refuses the message", () => {
  const hooks = new FakeHooks({
    mayDeliver: (client) => client.clientId !== "denied",
  });
  const { core } = startCore({ hooks });
  const allowed = connect(core, "allowed");
  const denied = connect(core, "denied");
  core.subscriptions.subscribe(allowed.session, {
    topicFilter: "$share/g/t",
    qos: 0,
  });
  core.subscriptions.subscribe(denied.session, {
    topicFilter: "$share/g/t",
    qos: 0,
    checkDeliver: true,
  });

  for (let i = 0; i < 4; i++) publish(core, message("t", `${i}`));

  deepStrictEqual(allowed.link.payloads, ["0", "1", "2", "3"]);
  strictEqual(denied.link.publishes.length, 0);
  deepStrictEqual(hooks.drops, []);
  // Only the marked subscription was asked about.
  deepStrictEqual(new Set(hooks.asked.map(([id]) => id)), new Set(["denied"]));
});

Deno.test("Router.publish() drops a shared message as not_authorized when no member may receive it", () => {
  const hooks = new FakeHooks({ mayDeliver: () => false });
  const { core } = startCore({ hooks });
  const members = ["m1", "m2"].map((id) => connect(core, id));
  for (const m of members) {
    core.subscriptions.subscribe(m.session, {
      topicFilter: "$share/g/t",
      qos: 1,
      checkDeliver: true,
    });
  }

  publish(core, message("t", "secret", { qos: 1 }));

  for (const m of members) strictEqual(m.link.publishes.length, 0);
  deepStrictEqual(hooks.drops, ["- secret not_authorized"]);
});

// -- retained messages -------------------------------------------------------

Deno.test("Router.publish() retains a RETAIN message and an empty payload deletes it", () => {
  const { core, store } = startCore();

  publish(core, message("status", "up", { retain: true }));
  strictEqual(core.retained.size, 1);
  deepStrictEqual(
    store.load().retained.map((m) => m.topic),
    ["status"],
  );

  publish(core, message("status", "", { retain: true }));
  strictEqual(core.retained.size, 0);
  strictEqual(core.retained.get("status"), undefined);
  deepStrictEqual(
    store.load().retained,
    [],
  );
});

Deno.test("Router.deliverRetained() sends what retainedFor() finds with RETAIN 1, at the lower of the message's QoS and the granted QoS", () => {
  const { core } = startCore();
  publish(core, message("a/high", "2", { qos: 2, retain: true }));
  publish(core, message("a/low", "0", { qos: 0, retain: true }));
  publish(core, message("b/other", "x", { qos: 1, retain: true }));
  const sub = connect(core, "sub");
  core.subscriptions.subscribe(sub.session, {
    topicFilter: "a/#",
    qos: 1,
    subscriptionId: 7,
  });

  const found = core.router.retainedFor("a/#", false);
  deepStrictEqual(found.map((m) => m.topic).sort(), ["a/high", "a/low"]);
  for (const m of found) {
    core.router.deliverRetained(sub.session, m, 1, [7], false);
  }

  const byTopic = new Map(
    sub.link.publishes.map((p) => [p.delivery.message.topic, p.delivery]),
  );
  strictEqual(byTopic.get("a/high")!.qos, 1);
  strictEqual(byTopic.get("a/high")!.retain, true);
  deepStrictEqual(byTopic.get("a/high")!.subscriptionIds, [7]);
  strictEqual(byTopic.get("a/low")!.qos, 0);
  strictEqual(byTopic.get("a/low")!.retain, true);
});

Deno.test("Router.retainedFor() finds no retained message for a shared subscription", () => {
  const { core } = startCore();
  publish(core, message("t", "kept", { retain: true }));

  deepStrictEqual(core.router.retainedFor("t", true), []);
  strictEqual(core.router.retainedFor("t", false).length, 1);
});

Deno.test("Router.deliverRetained() reports a retained message a marked subscription may not receive as not_authorized", () => {
  const hooks = new FakeHooks({ mayDeliver: () => false });
  const { core } = startCore({ hooks });
  publish(core, message("t", "kept", { retain: true }));
  const sub = connect(core, "sub");
  core.subscriptions.subscribe(sub.session, {
    topicFilter: "t",
    qos: 0,
    checkDeliver: true,
  });

  for (const m of core.router.retainedFor("t", false)) {
    core.router.deliverRetained(sub.session, m, 0, undefined, true);
  }

  strictEqual(sub.link.publishes.length, 0);
  deepStrictEqual(hooks.drops, ["sub kept not_authorized"]);
});

Deno.test("Core.watchers see each routed message after the transform hooks, subscribed to or not, and add their filter to the bus's interest", () => {
  const bus = new RecordingBus();
  const hooks = new FakeHooks({
    transform: (_client, m) =>
      m.topic === "drop" ? null : { ...m, payload: bytes("changed") },
  });
  const { core } = startCore({ bus, hooks });
  const a = connect(core, "a");
  core.subscriptions.subscribe(a.session, { topicFilter: "x/+", qos: 0 });
  const seen: string[] = [];
  const stop = core.watchers.add("#", (m) => {
    seen.push(`${m.topic} ${text(m.payload)} ${m.retain}`);
  });

  publish(core, message("x/1", "one"));
  publish(core, message("nobody", "two", { retain: true }));
  publish(core, message("drop", "three"));
  stop();
  publish(core, message("x/2", "four"));

  deepStrictEqual(seen, ["x/1 changed false", "nobody changed true"]);
  deepStrictEqual(a.link.payloads, ["changed", "changed"]);
  deepStrictEqual(bus.interest, ["+x/+", "+#", "-#"]);
});
