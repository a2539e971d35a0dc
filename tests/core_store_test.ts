/**
 * The core over a store: what it writes, and a restart with a new core over
 * the same store (after a clean stop or a crash) that finds it all again.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { MemoryStore } from "../src/store/memory.ts";
import type { StoredSession } from "../src/core/ports.ts";
import {
  connect,
  FakeClock,
  FakeHooks,
  message,
  publish,
  startCore,
  text,
  will,
} from "./_core_fakes.ts";

/** What the store holds of one session. */
function storedSession(
  store: MemoryStore,
  clientId: string,
): StoredSession | undefined {
  return store.load().sessions.find((s) => s.session.clientId === clientId);
}

/** The client ids of the sessions a store holds, sorted. */
function storedIds(store: MemoryStore): string[] {
  return store.load().sessions.map((s) => s.session.clientId).sort();
}

Deno.test("Core over a store it wrote finds a persistent session again after a crash: offline, with its subscriptions, queue, messages in flight and QoS 2 ids", () => {
  const store = new MemoryStore();
  const clock = new FakeClock(1_000);
  const before = startCore({ store, clock, options: { maxInflight: 2 } });
  const s = connect(before.core, "p");
  before.core.subscriptions.subscribe(s.session, {
    topicFilter: "a/#",
    qos: 2,
    subscriptionId: 5,
  });
  before.core.subscriptions.subscribe(s.session, {
    topicFilter: "$share/g/jobs",
    qos: 1,
  });
  for (const p of ["1", "2", "3", "4"]) {
    publish(before.core, message(`a/${p}`, p, { qos: 2 }));
  }
  // PUBREC for packet 1: phase 2, its PUBREL sent.
  strictEqual(s.session.received(1), true);
  // A QoS 2 PUBLISH from the client, not yet released.
  s.session.holdIncoming(9);
  publish(before.core, message("r/1", "kept", { retain: true }));

  // The crash: the link never closes. A new core reads the same store.
  clock.advance(5_000);
  const after = startCore({ store, clock, options: { maxInflight: 2 } });
  const session = after.core.sessions.get("p")!;

  strictEqual(after.core.sessions.isOnline("p"), false);
  strictEqual(session.output, undefined);
  strictEqual(session.disconnectedAt, 6_000);
  strictEqual(session.createdAt, 1_000);
  deepStrictEqual(
    [...session.subscriptionEntries()].map(([f, r]) => [f, r.qos]).sort(),
    [["$share/g/jobs", 1], ["a/#", 2]],
  );
  deepStrictEqual(
    [...session.inflight.values()].map((e) => [e.packetId, e.phase]),
    [[1, 2], [2, 1]],
  );
  strictEqual(session.queued, 2);
  deepStrictEqual([...session.incomingQoS2], [9]);
  strictEqual(text(after.core.retained.get("r/1")!.payload), "kept");

  // Its subscriptions route again, the shared one included.
  publish(after.core, message("a/5", "5", { qos: 1 }));
  publish(after.core, message("jobs", "job", { qos: 1 }));
  strictEqual(session.queued, 4);

  // Back online: PUBREL for packet 1, PUBLISH with DUP for packet 2, and
  // the queue once the window has room.
  const back = connect(after.core, "p");
  strictEqual(back.present, true);
  strictEqual(back.session, session);
  deepStrictEqual(back.link.pubrels, [1]);
  deepStrictEqual(
    back.link.publishes.map((p) => [p.packetId, p.dup, p.delivery.qos]),
    [[2, true, 2]],
  );
  session.complete(1);
  session.complete(2);
  deepStrictEqual(back.link.payloads, ["2", "3", "4"]);
  strictEqual(session.releaseIncoming(9), true);
});

Deno.test("Core over a store it wrote finds a session its client left cleanly, with its disconnect time", () => {
  const store = new MemoryStore();
  const clock = new FakeClock();
  const before = startCore({ store, clock });
  const s = connect(before.core, "p", { expiryInterval: 60 });
  before.core.subscriptions.subscribe(s.session, { topicFilter: "t", qos: 1 });
  clock.advance(1_000);
  s.link.disconnect();
  publish(before.core, message("t", "while away", { qos: 1 }));

  clock.advance(10_000);
  const after = startCore({ store, clock });
  const session = after.core.sessions.get("p")!;

  strictEqual(session.disconnectedAt, 1_000);
  strictEqual(session.queued, 1);
  // It expires 60 s after its client left, not after the restart.
  clock.advance(49_999);
  after.core.sweep();
  strictEqual(after.core.sessions.get("p"), session);
  clock.advance(1);
  after.core.sweep();
  strictEqual(after.core.sessions.get("p"), undefined);
  deepStrictEqual(after.hooks.terminated, [["p", "expired"]]);
  deepStrictEqual(after.hooks.drops, ["p while away expired"]);
  deepStrictEqual(storedIds(store), []);
});

Deno.test("Core never writes a session with expiry 0 to the store", () => {
  const { core, store } = startCore();
  const s = connect(core, "c", { expiryInterval: 0 });
  core.subscriptions.subscribe(s.session, { topicFilter: "t", qos: 1 });
  publish(core, message("t", "m", { qos: 1 }));
  s.session.holdIncoming(1);

  deepStrictEqual(storedIds(store), []);
  s.link.drop();
  deepStrictEqual(storedIds(store), []);
});

Deno.test("Core deletes a stored session from the store when its client resumes it with expiry 0", () => {
  const { core, store, hooks } = startCore();
  const first = connect(core, "k", { expiryInterval: 60 });
  core.subscriptions.subscribe(first.session, { topicFilter: "u", qos: 1 });
  first.link.disconnect();
  deepStrictEqual(
    storedSession(store, "k")!.subscriptions.map(([f]) => f),
    ["u"],
  );

  const zero = connect(core, "k", { expiryInterval: 0 });

  strictEqual(zero.present, true);
  deepStrictEqual(storedIds(store), []);
  // The session goes on in memory until its connection ends.
  publish(core, message("u", "m", { qos: 1 }));
  deepStrictEqual(zero.link.payloads, ["m"]);
  deepStrictEqual(storedIds(store), []);
  zero.link.disconnect();
  deepStrictEqual(hooks.terminated, [["k", "normal"]]);
});

Deno.test("Core deletes from the store a session that ends: expired, kicked or replaced by a clean start", () => {
  const { core, clock, store } = startCore();
  const expiring = connect(core, "expiring", { expiryInterval: 10 });
  const kicked = connect(core, "kicked");
  const cleaned = connect(core, "cleaned");
  deepStrictEqual(storedIds(store), ["cleaned", "expiring", "kicked"]);

  expiring.link.disconnect();
  clock.advance(10_000);
  core.sweep();
  core.sessions.terminate(kicked.session, "kicked");
  cleaned.link.disconnect();
  const fresh = connect(core, "cleaned", { clean: true, expiryInterval: 0 });

  strictEqual(fresh.present, false);
  deepStrictEqual(storedIds(store), []);
});

Deno.test("Core over a store it wrote publishes on load the will of a client connected at the crash, to subscribers stored after it", () => {
  const store = new MemoryStore();
  const before = startCore({ store });
  // Made first: the store gives it back before the subscriber.
  connect(before.core, "dying", {
    will: will("will/dying", "gone", { qos: 1 }),
  });
  const sub = connect(before.core, "sub");
  before.core.subscriptions.subscribe(sub.session, {
    topicFilter: "will/#",
    qos: 1,
  });

  const after = startCore({ store });

  const session = after.core.sessions.get("sub")!;
  strictEqual(session.queued, 1);
  const back = connect(after.core, "sub");
  deepStrictEqual(back.link.payloads, ["gone"]);
  strictEqual(after.core.sessions.get("dying")!.will, undefined);
  strictEqual(storedSession(store, "dying")!.session.will, undefined);
});

Deno.test("Core over a store it wrote publishes the delayed will of a client connected at the crash once its delay has passed after the load", () => {
  const store = new MemoryStore();
  const clock = new FakeClock();
  const before = startCore({ store, clock });
  connect(before.core, "dying", {
    will: will("will/dying", "gone", { qos: 1, delay: 5 }),
  });
  const sub = connect(before.core, "sub");
  before.core.subscriptions.subscribe(sub.session, {
    topicFilter: "will/#",
    qos: 1,
  });

  clock.advance(60_000);
  const after = startCore({ store, clock });
  const session = after.core.sessions.get("sub")!;
  strictEqual(session.queued, 0);
  strictEqual(storedSession(store, "dying")!.session.will?.dueAt, 65_000);

  clock.advance(4_999);
  after.core.sweep();
  strictEqual(session.queued, 0);
  clock.advance(1);
  after.core.sweep();
  strictEqual(session.queued, 1);
});

Deno.test("Core over a store it wrote keeps the due time of a will that was waiting for its delay at the crash", () => {
  const store = new MemoryStore();
  const clock = new FakeClock();
  const before = startCore({ store, clock });
  const dying = connect(before.core, "dying", {
    will: will("will/dying", "gone", { qos: 1, delay: 30 }),
  });
  const sub = connect(before.core, "sub");
  before.core.subscriptions.subscribe(sub.session, {
    topicFilter: "will/#",
    qos: 1,
  });
  dying.link.drop();

  clock.advance(10_000);
  const after = startCore({ store, clock });
  const session = after.core.sessions.get("sub")!;
  clock.advance(19_999);
  after.core.sweep();
  strictEqual(session.queued, 0);
  clock.advance(1);
  after.core.sweep();
  strictEqual(session.queued, 1);

  // Published once: a third start does not publish it again.
  const again = startCore({ store, clock });
  strictEqual(again.core.sessions.get("sub")!.queued, 1);
});

Deno.test("Core over a store it wrote does not publish a will its client cancelled by coming back before the crash", () => {
  const store = new MemoryStore();
  const clock = new FakeClock();
  const before = startCore({ store, clock });
  const dying = connect(before.core, "dying", {
    will: will("will/dying", "gone", { qos: 1, delay: 30 }),
  });
  const sub = connect(before.core, "sub");
  before.core.subscriptions.subscribe(sub.session, {
    topicFilter: "will/#",
    qos: 1,
  });
  dying.link.drop();
  clock.advance(1_000);
  // Back without a will, then gone after DISCONNECT.
  connect(before.core, "dying").link.disconnect();

  clock.advance(60_000);
  const after = startCore({ store, clock });
  after.core.sweep();

  strictEqual(after.core.sessions.get("sub")!.queued, 0);
  strictEqual(storedSession(store, "dying")!.session.will, undefined);
});

Deno.test("Core over a store asks the delivery hooks about a marked subscription of a session read back, with its client id and user name", () => {
  const store = new MemoryStore();
  const clock = new FakeClock(1_000);
  const before = startCore({ store, clock });
  const s = connect(before.core, "m", { username: "ann" });
  before.core.subscriptions.subscribe(s.session, {
    topicFilter: "a/#",
    qos: 1,
    checkDeliver: true,
  });

  const hooks = new FakeHooks({
    mayDeliver: (client, m) => client.username === "ann" && m.topic !== "a/no",
  });
  const after = startCore({ store, clock, hooks });
  publish(after.core, message("a/yes", "1", { qos: 1 }));
  publish(after.core, message("a/no", "2", { qos: 1 }));

  deepStrictEqual(hooks.asked, [["m", "a/yes"], ["m", "a/no"]]);
  strictEqual(after.core.sessions.get("m")!.queued, 1);
  deepStrictEqual(
    hooks.dropped.map((d) => [d.clientId, d.reason]),
    [["m", "not_authorized"]],
  );
});
