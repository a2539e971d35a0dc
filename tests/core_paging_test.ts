/**
 * The core over a store that keeps offline queues on its side
 * (`Store.readQueue`, as the SQLite store does): an offline session holds
 * only counts, and its returning client gets the messages read back a page
 * at a time, in order.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { QUEUE_PAGE } from "../src/core/session.ts";
import {
  connect,
  FakeClock,
  FakeHooks,
  message,
  PagingStore,
  publish,
  settle,
  startCore,
} from "./_core_fakes.ts";

/** Topics t/0 to t/(n - 1). */
function topics(n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `t/${from + i}`);
}

Deno.test("Core over a paging store keeps no message of an offline session in memory, and its client gets them all back in order, a page at a time", () => {
  const store = new PagingStore();
  const { core } = startCore({ store, options: { maxInflight: 1000 } });
  const s = connect(core, "p");
  core.subscriptions.subscribe(s.session, { topicFilter: "t/#", qos: 1 });
  s.link.disconnect();

  const count = 2 * QUEUE_PAGE + 10;
  for (const topic of topics(count)) {
    publish(core, message(topic, "x", { qos: 1 }));
  }
  strictEqual(s.session.queued, count);
  strictEqual(s.session.queuedInStore, count);
  // Nothing counts against the memory budget of all queues.
  strictEqual(core.router.queuedBytes, 0);
  deepStrictEqual(store.queuedTopics("p"), topics(count));

  const back = connect(core, "p");
  deepStrictEqual(back.link.topics, topics(count));
  deepStrictEqual(store.reads, [
    ["p", 0, QUEUE_PAGE],
    ["p", 0, QUEUE_PAGE],
    ["p", 0, QUEUE_PAGE],
  ]);
  strictEqual(s.session.queued, 0);
  // Sent, so out of the stored queue and into the stored window.
  deepStrictEqual(store.queuedTopics("p"), []);
  strictEqual(s.session.inflightCount, count);
});

Deno.test("Core over a paging store reads the next page only as the inflight window empties, and keeps new messages after the stored ones", () => {
  const store = new PagingStore();
  const { core } = startCore({ store, options: { maxInflight: 2 } });
  const s = connect(core, "p");
  core.subscriptions.subscribe(s.session, { topicFilter: "t/#", qos: 1 });
  s.link.disconnect();
  for (const topic of topics(5)) publish(core, message(topic, "x", { qos: 1 }));

  const back = connect(core, "p");
  deepStrictEqual(back.link.topics, ["t/0", "t/1"]);
  strictEqual(s.session.queuedInStore, 0);
  strictEqual(s.session.queued, 3);
  // A message published now waits behind those read back.
  publish(core, message("t/new", "x", { qos: 1 }));
  for (let id = 1; id <= 6; id++) s.session.complete(id);
  deepStrictEqual(back.link.topics, [...topics(5), "t/new"]);
});

Deno.test("Core over a paging store drops the new message when an offline session's queue is full, and keeps the oldest", () => {
  const store = new PagingStore();
  const hooks = new FakeHooks();
  const { core } = startCore({
    store,
    hooks,
    options: { maxQueuedMessages: 3 },
  });
  const s = connect(core, "p");
  core.subscriptions.subscribe(s.session, { topicFilter: "t/#", qos: 1 });
  s.link.disconnect();
  for (const topic of topics(5)) publish(core, message(topic, "x", { qos: 1 }));

  deepStrictEqual(
    hooks.dropped.map((d) => [d.topic, d.reason]),
    [["t/3", "queue_full"], ["t/4", "queue_full"]],
  );
  strictEqual(s.session.queued, 3);
  deepStrictEqual(connect(core, "p").link.topics, topics(3));
});

Deno.test("Core over a paging store lets go of an online queue when its client leaves, and counts it against the session's limits", () => {
  const store = new PagingStore();
  const { core } = startCore({
    store,
    options: { maxInflight: 2, queueFull: "drop", maxQueuedMessages: 10 },
  });
  const s = connect(core, "p");
  core.subscriptions.subscribe(s.session, { topicFilter: "t/#", qos: 1 });
  for (const topic of topics(6)) publish(core, message(topic, "x", { qos: 1 }));
  strictEqual(s.session.queued, 4);
  ok(core.router.queuedBytes > 0);

  s.link.disconnect();
  strictEqual(s.session.queuedInStore, 4);
  strictEqual(core.router.queuedBytes, 0);
  for (const topic of topics(8, 6)) {
    publish(core, message(topic, "x", { qos: 1 }));
  }
  // 4 + 6 fill the 10; the last 2 go.
  strictEqual(s.session.queued, 10);

  const back = connect(core, "p");
  // The two in flight again (DUP), then the queue as the window empties.
  deepStrictEqual(back.link.topics, ["t/0", "t/1"]);
  for (let id = 1; id <= 12; id++) s.session.complete(id);
  deepStrictEqual(back.link.topics, ["t/0", "t/1", ...topics(10, 2)]);
});

Deno.test("Core over a paging store drops and reports expired messages as it reads them back", () => {
  const store = new PagingStore();
  const hooks = new FakeHooks();
  const clock = new FakeClock();
  const { core } = startCore({ store, hooks, clock });
  const s = connect(core, "p");
  core.subscriptions.subscribe(s.session, { topicFilter: "t/#", qos: 1 });
  s.link.disconnect();
  publish(core, message("t/short", "x", { qos: 1, expiresAt: 1_000 }));
  publish(core, message("t/long", "x", { qos: 1 }));

  clock.advance(2_000);
  const back = connect(core, "p");
  deepStrictEqual(back.link.topics, ["t/long"]);
  deepStrictEqual(
    hooks.dropped.map((d) => [d.topic, d.reason]),
    [["t/short", "expired"]],
  );
  deepStrictEqual(store.queuedTopics("p"), []);
});

Deno.test("Core over a paging store reports the messages the store kept when the session ends", () => {
  const store = new PagingStore();
  const hooks = new FakeHooks();
  const clock = new FakeClock();
  const { core } = startCore({ store, hooks, clock });
  const s = connect(core, "p", { expiryInterval: 10 });
  core.subscriptions.subscribe(s.session, { topicFilter: "t/#", qos: 1 });
  s.link.disconnect();
  for (const topic of topics(3)) publish(core, message(topic, "x", { qos: 1 }));

  clock.advance(11_000);
  core.sweep();
  deepStrictEqual(
    hooks.dropped.map((d) => [d.topic, d.reason]),
    topics(3).map((t) => [t, "expired"]),
  );
  deepStrictEqual(store.load().sessions, []);
});

Deno.test("Core over a paging store brings a queue back into memory when its client resumes with session expiry 0", () => {
  const store = new PagingStore();
  const { core } = startCore({ store });
  const s = connect(core, "p");
  core.subscriptions.subscribe(s.session, { topicFilter: "t/#", qos: 1 });
  s.link.disconnect();
  for (const topic of topics(3)) publish(core, message(topic, "x", { qos: 1 }));

  const back = connect(core, "p", { expiryInterval: 0 });
  strictEqual(back.present, true);
  deepStrictEqual(back.link.topics, topics(3));
  deepStrictEqual(store.load().sessions, []);
});

Deno.test("Core over a paging store finds offline queues again after a restart, as counts, and reads them when their clients return", () => {
  const store = new PagingStore();
  const before = startCore({ store });
  const s = connect(before.core, "p");
  before.core.subscriptions.subscribe(s.session, {
    topicFilter: "t/#",
    qos: 1,
  });
  s.link.disconnect();
  for (const topic of topics(4)) {
    publish(before.core, message(topic, "x", { qos: 1 }));
  }

  const after = startCore({ store });
  const session = after.core.sessions.get("p")!;
  strictEqual(session.queued, 4);
  strictEqual(session.queuedInStore, 4);
  publish(after.core, message("t/4", "x", { qos: 1 }));
  deepStrictEqual(connect(after.core, "p").link.topics, topics(5));
});

Deno.test("Core over a paging store whose reads answer later sends each page when it comes, in order", async () => {
  const store = new PagingStore({ async: true });
  const { core } = startCore({ store, options: { maxInflight: 1000 } });
  const s = connect(core, "p");
  core.subscriptions.subscribe(s.session, { topicFilter: "t/#", qos: 1 });
  s.link.disconnect();
  const count = QUEUE_PAGE + 5;
  for (const topic of topics(count)) {
    publish(core, message(topic, "x", { qos: 1 }));
  }

  const back = connect(core, "p");
  deepStrictEqual(back.link.topics, []);
  // Published while the first page is read: after everything stored.
  publish(core, message("t/late", "x", { qos: 1 }));
  await settle();
  deepStrictEqual(back.link.topics, [...topics(count), "t/late"]);
  // Two pages: the late message came with the second.
  strictEqual(store.reads.length, 2);
});
