/**
 * The core over a recording bus: the interest it declares per topic filter,
 * and the messages it routes through the bus.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  connect,
  FakeHooks,
  message,
  publish,
  RecordingBus,
  startCore,
  will,
} from "./_core_fakes.ts";

Deno.test("SubscriptionIndex tells the bus of a filter's first subscription and its last, a shared one counted by its inner filter", () => {
  const bus = new RecordingBus();
  const { core } = startCore({ bus });
  const a = connect(core, "a");
  const b = connect(core, "b");

  core.subscriptions.subscribe(a.session, { topicFilter: "x/#", qos: 0 });
  core.subscriptions.subscribe(b.session, { topicFilter: "x/#", qos: 1 });
  // Again, with another QoS: the same subscription.
  core.subscriptions.subscribe(a.session, { topicFilter: "x/#", qos: 2 });
  core.subscriptions.subscribe(a.session, {
    topicFilter: "$share/g/x/#",
    qos: 0,
  });
  core.subscriptions.subscribe(b.session, {
    topicFilter: "$share/h/y",
    qos: 0,
  });
  deepStrictEqual(bus.interest, ["+x/#", "+y"]);

  core.subscriptions.unsubscribe(a.session, "x/#");
  core.subscriptions.unsubscribe(b.session, "x/#");
  deepStrictEqual(bus.interest, ["+x/#", "+y"]);
  core.subscriptions.unsubscribe(a.session, "$share/g/x/#");
  deepStrictEqual(bus.interest, ["+x/#", "+y", "-x/#"]);
  // Not subscribed: nothing changes.
  strictEqual(core.subscriptions.unsubscribe(a.session, "x/#"), false);
  deepStrictEqual(bus.interest, ["+x/#", "+y", "-x/#"]);
});

Deno.test("SubscriptionIndex tells the bus of the filters of a session that ends", () => {
  const bus = new RecordingBus();
  const { core } = startCore({ bus });
  const a = connect(core, "a", { expiryInterval: 0 });
  core.subscriptions.subscribe(a.session, { topicFilter: "p", qos: 0 });
  core.subscriptions.subscribe(a.session, {
    topicFilter: "$share/g/q",
    qos: 0,
  });

  a.link.disconnect();

  deepStrictEqual(bus.interest.sort(), ["+p", "+q", "-p", "-q"]);
});

Deno.test("Core tells the bus of the filters of the sessions it loads from the store", () => {
  const first = startCore();
  const a = connect(first.core, "a");
  first.core.subscriptions.subscribe(a.session, { topicFilter: "p", qos: 0 });

  const bus = new RecordingBus();
  startCore({ store: first.store, bus });

  deepStrictEqual(bus.interest, ["+p"]);
});

Deno.test("Router.publish() hands every message it routes to the bus: the server's, clients', wills, transformed ones, and those nobody subscribes to", () => {
  const bus = new RecordingBus();
  const hooks = new FakeHooks({
    transform: (_client, m) =>
      m.topic === "secret"
        ? null
        : m.topic === "old"
        ? { ...m, topic: "new" }
        : m,
  });
  const { core } = startCore({ bus, hooks });
  const sub = connect(core, "sub");
  core.subscriptions.subscribe(sub.session, { topicFilter: "#", qos: 0 });
  const dying = connect(core, "dying", { will: will("will/dying", "gone") });

  publish(core, message("server", "s"));
  strictEqual(
    core.router.publish(message("client", "c"), dying.link.client),
    undefined,
  );
  // "#" does not match a "$" topic: nobody subscribes to it.
  publish(core, message("$nobody", "n"));
  publish(core, message("old", "o"));
  publish(core, message("secret", "x"));
  dying.link.drop();

  deepStrictEqual(bus.published.map((m) => m.topic), [
    "server",
    "client",
    "$nobody",
    "new",
    "will/dying",
  ]);
  deepStrictEqual(sub.link.topics, [
    "server",
    "client",
    "new",
    "will/dying",
  ]);
  deepStrictEqual(hooks.drops, ["- x hook"]);
});
