/**
 * The session registry over fake links and a fake clock: takeover, session
 * expiry, and wills with and without a delay.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { ReasonCode } from "../packets/reason_code.ts";
import {
  connect,
  FakeHooks,
  message,
  publish,
  settle,
  startCore,
  will,
} from "./_core_fakes.ts";

// -- takeover ----------------------------------------------------------------

Deno.test("SessionRegistry.attach() closes the older link of a client id with SessionTakenOver and resumes its session", () => {
  const { core, hooks } = startCore();
  const first = connect(core, "c");
  core.subscriptions.subscribe(first.session, { topicFilter: "t", qos: 1 });
  publish(core, message("t", "unacked", { qos: 1 }));
  strictEqual(first.link.publishes[0]!.packetId, 1);

  const second = connect(core, "c");

  strictEqual(first.link.closes.length, 1);
  deepStrictEqual(first.link.closes[0]!.options, {
    reasonCode: ReasonCode.SessionTakenOver,
    endReason: "taken_over",
  });
  strictEqual(first.link.isClosed, true);
  strictEqual(second.present, true);
  strictEqual(second.session, first.session);
  strictEqual(core.sessions.link("c"), second.link);
  deepStrictEqual(hooks.terminated, []);
  // The message in flight goes again on the new link, DUP set.
  deepStrictEqual(
    second.link.publishes.map((p) => [p.packetId, p.dup, p.delivery.qos]),
    [[1, true, 1]],
  );
  // And the subscription routes to the new link.
  publish(core, message("t", "next", { qos: 1 }));
  deepStrictEqual(second.link.payloads, ["unacked", "next"]);
  deepStrictEqual(first.link.payloads, ["unacked"]);
});

Deno.test("SessionRegistry.attach() with clean start takes over the link and ends the older session as taken_over", () => {
  const { core, hooks } = startCore();
  const first = connect(core, "c");
  core.subscriptions.subscribe(first.session, { topicFilter: "t", qos: 1 });

  const second = connect(core, "c", { clean: true });

  deepStrictEqual(first.link.closes[0]!.options, {
    reasonCode: ReasonCode.SessionTakenOver,
    endReason: "taken_over",
  });
  strictEqual(second.present, false);
  strictEqual(second.session.subscriptionCount, 0);
  deepStrictEqual(hooks.terminated, [["c", "taken_over"]]);
  publish(core, message("t", "lost", { qos: 1 }));
  strictEqual(second.link.publishes.length, 0);
});

Deno.test("SessionRegistry.attach() ends a taken-over session that ended with its connection as taken_over", () => {
  const { core, hooks } = startCore();
  const first = connect(core, "c", { expiryInterval: 0 });

  const second = connect(core, "c", { expiryInterval: 0 });

  strictEqual(first.link.closes[0]!.options?.endReason, "taken_over");
  strictEqual(second.present, false);
  deepStrictEqual(hooks.terminated, [["c", "taken_over"]]);
  strictEqual(core.sessions.size, 1);
});

Deno.test("SessionRegistry.attach() publishes the will of a taken-over link unless the will waits for a delay", () => {
  const { core } = startCore();
  const sub = connect(core, "sub");
  core.subscriptions.subscribe(sub.session, { topicFilter: "will/#", qos: 0 });
  connect(core, "now", { will: will("will/now", "now gone") });
  connect(core, "later", {
    will: will("will/later", "later gone", { delay: 5 }),
  });

  connect(core, "now");
  connect(core, "later");

  deepStrictEqual(sub.link.payloads, ["now gone"]);
});

// -- expiry --------------------------------------------------------------------

Deno.test("SessionRegistry.sweep() ends a detached session when its expiry interval has passed, not before, and reports its queue as expired", () => {
  const { core, clock, hooks } = startCore();
  const s = connect(core, "c", { expiryInterval: 10 });
  core.subscriptions.subscribe(s.session, { topicFilter: "t", qos: 1 });
  s.link.disconnect();
  publish(core, message("t", "a", { qos: 1 }));
  publish(core, message("t", "b", { qos: 1 }));
  strictEqual(s.session.queued, 2);

  clock.advance(9_999);
  core.sweep();
  strictEqual(core.sessions.get("c"), s.session);
  deepStrictEqual(hooks.terminated, []);
  deepStrictEqual(hooks.drops, []);

  clock.advance(1);
  core.sweep();
  strictEqual(core.sessions.get("c"), undefined);
  deepStrictEqual(hooks.terminated, [["c", "expired"]]);
  deepStrictEqual(hooks.drops, ["c a expired", "c b expired"]);
  strictEqual(core.subscriptions.size, 0);
});

Deno.test("SessionRegistry.sweep() never ends a session whose expiry interval is 0xFFFFFFFF", () => {
  const { core, clock, hooks } = startCore();
  const s = connect(core, "c", { expiryInterval: 0xffffffff });
  s.link.disconnect();

  clock.advance(0xffffffff * 1000);
  core.sweep();

  strictEqual(core.sessions.get("c"), s.session);
  deepStrictEqual(hooks.terminated, []);
});

Deno.test("SessionRegistry.attach() with clean start reports the queue of the session it ends as session_ended", () => {
  const { core, hooks } = startCore();
  const s = connect(core, "c");
  core.subscriptions.subscribe(s.session, { topicFilter: "t", qos: 1 });
  s.link.disconnect();
  publish(core, message("t", "queued", { qos: 1 }));

  const again = connect(core, "c", { clean: true });

  strictEqual(again.present, false);
  deepStrictEqual(hooks.terminated, [["c", "normal"]]);
  deepStrictEqual(hooks.drops, ["c queued session_ended"]);
  strictEqual(again.link.publishes.length, 0);
});

Deno.test("SessionRegistry.detach() ends a session with expiry 0 at once, reporting it normal", () => {
  const { core, hooks } = startCore();
  const s = connect(core, "c", { expiryInterval: 0 });

  s.link.disconnect();

  strictEqual(core.sessions.get("c"), undefined);
  deepStrictEqual(hooks.terminated, [["c", "normal"]]);
});

// -- wills -----------------------------------------------------------------------

/** A core with a subscriber to `will/#`. */
function withWillSubscriber() {
  const started = startCore();
  const sub = connect(started.core, "sub");
  started.core.subscriptions.subscribe(sub.session, {
    topicFilter: "will/#",
    qos: 0,
  });
  return { ...started, sub };
}

Deno.test("SessionRegistry.detach() publishes a will without delay at once when the link goes without DISCONNECT", () => {
  const { core, sub } = withWillSubscriber();
  const dying = connect(core, "d", { will: will("will/d", "gone") });

  dying.link.drop();

  deepStrictEqual(sub.link.payloads, ["gone"]);
  strictEqual(sub.link.publishes[0]!.delivery.message.publisher, "d");
});

Deno.test("SessionRegistry.sweep() publishes a will with a 5 s delay at the sweep 5 s after its link went, not before", () => {
  const { core, clock, sub } = withWillSubscriber();
  const dying = connect(core, "d", {
    will: will("will/d", "gone", { delay: 5 }),
  });
  dying.link.drop();
  core.sweep();
  deepStrictEqual(sub.link.payloads, []);

  clock.advance(4_999);
  core.sweep();
  deepStrictEqual(sub.link.payloads, []);

  clock.advance(1);
  core.sweep();
  deepStrictEqual(sub.link.payloads, ["gone"]);
  clock.advance(60_000);
  core.sweep();
  deepStrictEqual(sub.link.payloads, ["gone"]);
});

Deno.test("SessionRegistry.attach() cancels a will waiting for its delay when the client comes back", () => {
  const { core, clock, sub } = withWillSubscriber();
  const dying = connect(core, "d", {
    will: will("will/d", "gone", { delay: 5 }),
  });
  dying.link.drop();
  clock.advance(3_000);

  const back = connect(core, "d");
  clock.advance(10_000);
  core.sweep();

  strictEqual(back.present, true);
  deepStrictEqual(sub.link.payloads, []);
});

Deno.test("SessionRegistry.sweep() publishes a delayed will when the session expires before the delay has passed", () => {
  const { core, clock, hooks, sub } = withWillSubscriber();
  const dying = connect(core, "d", {
    expiryInterval: 10,
    will: will("will/d", "gone", { delay: 30 }),
  });
  dying.link.drop();

  clock.advance(9_999);
  core.sweep();
  deepStrictEqual(sub.link.payloads, []);

  clock.advance(1);
  core.sweep();
  deepStrictEqual(sub.link.payloads, ["gone"]);
  deepStrictEqual(hooks.terminated, [["d", "expired"]]);
});

Deno.test("SessionRegistry.terminate() publishes at once a will still waiting for its delay", () => {
  const { core, clock, sub } = withWillSubscriber();
  const dying = connect(core, "d", {
    will: will("will/d", "gone", { delay: 30 }),
  });
  dying.link.drop();
  clock.advance(1_000);

  core.sessions.terminate(dying.session, "kicked");

  deepStrictEqual(sub.link.payloads, ["gone"]);
  clock.advance(60_000);
  core.sweep();
  deepStrictEqual(sub.link.payloads, ["gone"]);
});

Deno.test("SessionRegistry.detach() publishes no will when the link went after DISCONNECT", () => {
  const { core, clock, sub } = withWillSubscriber();
  const now = connect(core, "now", { will: will("will/now", "now gone") });
  const later = connect(core, "later", {
    will: will("will/later", "later gone", { delay: 5 }),
  });

  now.link.disconnect();
  later.link.disconnect();
  clock.advance(10_000);
  core.sweep();

  deepStrictEqual(sub.link.payloads, []);
});

Deno.test("Core publishes a will through the checkPublish hook, which may refuse it as not_authorized", async () => {
  const hooks = new FakeHooks({
    checkPublish: (client) =>
      Promise.resolve(
        client.clientId === "refused" ? ReasonCode.NotAuthorized : undefined,
      ),
  });
  const { core } = startCore({ hooks });
  const sub = connect(core, "sub");
  core.subscriptions.subscribe(sub.session, { topicFilter: "will/#", qos: 0 });
  const allowed = connect(core, "allowed", {
    will: will("will/allowed", "allowed gone"),
  });
  const refused = connect(core, "refused", {
    will: will("will/refused", "refused gone"),
  });

  allowed.link.drop();
  refused.link.drop();
  // The hook answers with a promise: the wills wait for it.
  deepStrictEqual(sub.link.payloads, []);
  await settle();

  deepStrictEqual(sub.link.payloads, ["allowed gone"]);
  deepStrictEqual(hooks.drops, ["- refused gone not_authorized"]);
});
