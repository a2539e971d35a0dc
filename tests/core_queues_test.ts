/**
 * Session queues under their limits over fake links and a fake clock: what
 * is dropped, and why; message expiry; the output buffer; and the
 * backpressure that holds a publisher while a subscriber's queue is full.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { QoS } from "../packets/types.ts";
import { BACKPRESSURE_LIMIT } from "../src/core/router.ts";
import { QUEUED_MESSAGE_OVERHEAD } from "../src/core/session.ts";
import type { Core } from "../src/core/core.ts";
import type { QueueFullPolicy } from "../src/core/options.ts";
import {
  clientInfo,
  connect,
  hasSettled,
  message,
  publish,
  settle,
  startCore,
} from "./_core_fakes.ts";

/** A subscriber of `t` at QoS 1 that has gone offline. */
function offlineSubscriber(core: Core, clientId = "s") {
  const s = connect(core, clientId);
  core.subscriptions.subscribe(s.session, { topicFilter: "t", qos: 1 });
  s.link.disconnect();
  return s;
}

/** Publishes on `t`, at QoS 1 unless told. */
function send(core: Core, payload: string, qos: QoS = 1): void {
  publish(core, message("t", payload, { qos }));
}

Deno.test("Session.deliver() drops the oldest QoS 0 message first, then the oldest, once maxQueuedMessages wait for an offline client", () => {
  const { core, hooks } = startCore({ options: { maxQueuedMessages: 3 } });
  offlineSubscriber(core);
  send(core, "a", 0);
  send(core, "b");
  send(core, "c");
  deepStrictEqual(hooks.drops, []);

  send(core, "d");
  deepStrictEqual(hooks.drops, ["s a queue_full"]);
  send(core, "e");
  deepStrictEqual(hooks.drops, ["s a queue_full", "s b queue_full"]);
  // With no QoS 0 message queued, a QoS 0 message drops itself.
  send(core, "f", 0);
  deepStrictEqual(hooks.drops, [
    "s a queue_full",
    "s b queue_full",
    "s f queue_full",
  ]);

  const back = connect(core, "s");
  deepStrictEqual(back.link.payloads, ["c", "d", "e"]);
});

Deno.test("Session.deliver() keeps no QoS 0 message for an offline client when queueQoS0Messages is off, and reports it as offline", () => {
  const { core, hooks } = startCore({ options: { queueQoS0Messages: false } });
  const s = offlineSubscriber(core);
  send(core, "q0", 0);
  send(core, "q1", 1);

  strictEqual(s.session.queued, 1);
  deepStrictEqual(hooks.drops, ["s q0 offline"]);
  strictEqual(core.metrics.messagesDroppedByReason.offline, 1);
  deepStrictEqual(connect(core, "s").link.payloads, ["q1"]);
});

Deno.test("Session.deliver() drops the oldest message as queue_full past maxQueuedBytes", () => {
  // Each message counts its topic (1), its payload (10) and the overhead.
  const size = 1 + 10 + QUEUED_MESSAGE_OVERHEAD;
  const { core, hooks } = startCore({
    options: { maxQueuedBytes: 2 * size },
  });
  const s = offlineSubscriber(core);
  for (const p of ["message 01", "message 02", "message 03"]) send(core, p);

  deepStrictEqual(hooks.drops, ["s message 01 queue_full"]);
  strictEqual(s.session.queuedBytes, 2 * size);
  deepStrictEqual(connect(core, "s").link.payloads, [
    "message 02",
    "message 03",
  ]);
});

Deno.test("Session.deliver() drops a new message as queue_full past maxQueuedMemory, which every session's queue shares", () => {
  const size = 1 + 10 + QUEUED_MESSAGE_OVERHEAD;
  const { core, hooks } = startCore({
    options: { maxQueuedMemory: 2 * size },
  });
  offlineSubscriber(core, "x");
  const y = offlineSubscriber(core, "y");

  send(core, "message 01");
  strictEqual(core.router.queuedBytes, 2 * size);
  send(core, "message 02");
  deepStrictEqual(hooks.drops, [
    "x message 02 queue_full",
    "y message 02 queue_full",
  ]);

  // What one session sends makes room for the others.
  const x = connect(core, "x");
  deepStrictEqual(x.link.payloads, ["message 01"]);
  strictEqual(core.router.queuedBytes, size);
  send(core, "message 03");
  strictEqual(y.session.queued, 2);
  deepStrictEqual(connect(core, "y").link.payloads, [
    "message 01",
    "message 03",
  ]);
});

Deno.test("Session.drain() reports a queued message that expired while its client was away as expired", () => {
  const { core, clock, hooks } = startCore();
  offlineSubscriber(core);
  publish(core, message("t", "stale", { qos: 1, expiresAt: 5_000 }));
  publish(core, message("t", "fresh", { qos: 1, expiresAt: 5_001 }));
  publish(core, message("t", "forever", { qos: 1 }));

  clock.advance(5_000);
  const back = connect(core, "s");

  deepStrictEqual(back.link.payloads, ["fresh", "forever"]);
  deepStrictEqual(hooks.drops, ["s stale expired"]);
});

Deno.test("Session.drain() expires a queued message messageExpiry seconds after the server took it", () => {
  const { core, clock, hooks } = startCore({ options: { messageExpiry: 30 } });
  offlineSubscriber(core);
  clock.advance(1_000);
  publish(core, message("t", "old", { qos: 1, createdAt: clock.time }));
  clock.advance(10_000);
  publish(core, message("t", "new", { qos: 1, createdAt: clock.time }));

  clock.advance(20_000);
  const back = connect(core, "s");

  deepStrictEqual(back.link.payloads, ["new"]);
  deepStrictEqual(hooks.drops, ["s old expired"]);
});

Deno.test("Session.deliver() reports a QoS 0 message the link has no room for as output_full", () => {
  const { core, hooks } = startCore();
  const s = connect(core, "s");
  core.subscriptions.subscribe(s.session, { topicFilter: "t", qos: 1 });
  s.link.accept = false;

  send(core, "q0", 0);
  send(core, "q1", 1);

  deepStrictEqual(hooks.drops, ["s q0 output_full"]);
  // A QoS 1 message stays in flight, to be sent again.
  strictEqual(s.session.inflightCount, 1);
});

Deno.test("Session.deliver() queues QoS 1 messages past the inflight window and sends them as acknowledgements come", () => {
  const { core } = startCore({ options: { maxInflight: 2 } });
  const s = connect(core, "s");
  core.subscriptions.subscribe(s.session, { topicFilter: "t", qos: 1 });

  for (const p of ["1", "2", "3", "4"]) send(core, p);
  deepStrictEqual(s.link.payloads, ["1", "2"]);
  strictEqual(s.session.queued, 2);

  strictEqual(s.session.complete(1), true);
  deepStrictEqual(s.link.payloads, ["1", "2", "3"]);
  strictEqual(s.session.complete(1), false);
});

// -- backpressure --------------------------------------------------------------

/**
 * A subscriber of `t` online with a window of one message and a queue of
 * two, both full; the next message a client publishes is held.
 */
function fullSubscriber(queueFull: QueueFullPolicy = "backpressure") {
  const started = startCore({
    options: {
      queueFull,
      maxQueuedMessages: 2,
      maxInflight: 1,
    },
  });
  const { core } = started;
  const sub = connect(core, "sub");
  core.subscriptions.subscribe(sub.session, { topicFilter: "t", qos: 1 });
  const publisher = clientInfo("pub");
  const pausable = (payload: string) =>
    core.router.publish(message("t", payload, { qos: 1 }), publisher, true);
  for (const p of ["1", "2", "3"]) strictEqual(pausable(p), undefined);
  strictEqual(sub.session.queueFull, true);
  return { ...started, sub, pausable };
}

Deno.test("Router.publish() holds a client's message for a full online queue until the subscriber acknowledges enough (backpressure)", async () => {
  const { sub, hooks, pausable } = fullSubscriber();

  const held = pausable("4");
  strictEqual(held instanceof Promise, true);
  // Held over the limit, not dropped.
  strictEqual(sub.session.queued, 3);
  strictEqual(await hasSettled(held!), false);

  sub.session.complete(1);
  strictEqual(sub.session.queued, 2);
  strictEqual(await hasSettled(held!), false);

  // Half the queue's limit: room again.
  sub.session.complete(2);
  strictEqual(sub.session.queued, 1);
  strictEqual(await hasSettled(held!), true);
  deepStrictEqual(hooks.drops, []);
  sub.session.complete(3);
  sub.session.complete(4);
  deepStrictEqual(sub.link.payloads, ["1", "2", "3", "4"]);
});

Deno.test("Router.publish() releases a held publisher when the subscriber goes offline", async () => {
  const { sub, pausable } = fullSubscriber();
  const held = pausable("4")!;

  sub.link.drop();

  strictEqual(await hasSettled(held), true);
  strictEqual(sub.session.queued, 3);
});

Deno.test("Router.publish() drops the oldest message of a full online queue instead of holding the publisher when queueFull is drop", () => {
  const { sub, hooks, pausable } = fullSubscriber("drop");

  strictEqual(pausable("4"), undefined);

  strictEqual(sub.session.queued, 2);
  deepStrictEqual(hooks.drops, ["sub 2 queue_full"]);
});

Deno.test("Router.publish() does not hold a message it routes for the server itself", () => {
  const { core, sub, hooks } = fullSubscriber();

  strictEqual(
    core.router.publish(message("t", "4", { qos: 1 }), undefined),
    undefined,
  );

  strictEqual(sub.session.queued, 2);
  deepStrictEqual(hooks.drops, ["sub 2 queue_full"]);
});

Deno.test("Router.sweep() releases a publisher held BACKPRESSURE_LIMIT ms and stalls the subscriber until it makes room", async () => {
  const { core, clock, sub, hooks, pausable } = fullSubscriber();
  const held = pausable("4")!;

  clock.advance(BACKPRESSURE_LIMIT - 1);
  core.sweep();
  strictEqual(await hasSettled(held), false);
  strictEqual(sub.session.stalled, false);

  clock.advance(1);
  core.sweep();
  strictEqual(await hasSettled(held), true);
  strictEqual(sub.session.stalled, true);

  // A stalled subscriber's messages are dropped without holding anyone.
  strictEqual(pausable("5"), undefined);
  deepStrictEqual(hooks.drops, ["sub 2 queue_full", "sub 3 queue_full"]);

  // Once it makes room it is no longer stalled.
  sub.session.complete(1);
  await settle();
  strictEqual(sub.session.stalled, false);
  deepStrictEqual(sub.link.payloads, ["1", "4"]);
});
