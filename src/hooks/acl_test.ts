import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { aclHooks, type AclOptions, type AclRule } from "./acl.ts";
import type { ClientInfo } from "../types.ts";

function client(clientId: string, username?: string): ClientInfo {
  return {
    remoteAddress: "127.0.0.1:50000",
    localAddress: "127.0.0.1:1883",
    transport: "tcp",
    listener: "tcp:1883",
    clientId,
    username,
    protocolVersion: 5,
    clean: true,
    keepAlive: 60,
  };
}

/** Whether the ACL lets `who` subscribe to `filter`, checked or not. */
function canSubscribe(
  options: AclOptions,
  who: ClientInfo,
  filter: string,
): boolean {
  const verdict = subscribeAnswer(options, who, filter);
  return verdict === "granted" || verdict === "checked";
}

/**
 * What the ACL answers a subscription: "granted", "checked" (granted and
 * marked for delivery checks), or the refusal code.
 */
function subscribeAnswer(
  options: AclOptions,
  who: ClientInfo,
  filter: string,
): "granted" | "checked" | number {
  const verdict = aclHooks(options).checkSubscribe?.(who, {
    topicFilter: filter,
    qos: 1,
  });
  if (verdict === undefined) return "granted";
  if (typeof verdict === "number") return verdict;
  deepStrictEqual(verdict, { checkDeliver: true });
  return "checked";
}

/** Whether the ACL delivers a message on `topic` to `who`. */
function canReceive(
  options: AclOptions,
  who: ClientInfo,
  topic: string,
): boolean {
  return aclHooks(options).checkDeliver?.(who, {
    topic,
    payload: new Uint8Array(0),
    qos: 0,
    retain: false,
    createdAt: 0,
  }) === undefined;
}

/** Whether the ACL lets `who` publish to `topic`. */
function canPublish(
  options: AclOptions,
  who: ClientInfo,
  topic: string,
): boolean {
  const verdict = aclHooks(options).checkPublish?.(who, {
    type: "publish",
    topic,
    payload: new Uint8Array(0),
    qos: 0,
    retain: false,
    dup: false,
  });
  return verdict === undefined;
}

const alice = client("c-alice", "alice");
const anonymous = client("c-anon");

function allow(action: AclRule["action"], topic: string): AclRule {
  return { permission: "allow", action, topic };
}

function deny(action: AclRule["action"], topic: string): AclRule {
  return { permission: "deny", action, topic };
}

Deno.test("aclHooks() allows everything with no rules", () => {
  strictEqual(canSubscribe({}, alice, "#"), true);
  strictEqual(canPublish({}, alice, "a/b"), true);
});

Deno.test("aclHooks() applies the default when no rule matches", () => {
  const options: AclOptions = { rules: [allow("all", "a/#")], default: "deny" };
  strictEqual(canPublish(options, alice, "a/b"), true);
  strictEqual(canPublish(options, alice, "b"), false);
  strictEqual(canSubscribe(options, alice, "b/#"), false);
});

Deno.test("aclHooks() refuses with Not authorized (0x87)", () => {
  const hooks = aclHooks({ default: "deny" });
  strictEqual(
    hooks.checkSubscribe?.(alice, { topicFilter: "a", qos: 0 }),
    0x87,
  );
});

Deno.test("aclHooks() lets the first matching rule win", () => {
  const options: AclOptions = {
    rules: [deny("publish", "a/secret"), allow("publish", "a/#")],
    default: "deny",
  };
  strictEqual(canPublish(options, alice, "a/secret"), false);
  strictEqual(canPublish(options, alice, "a/public"), true);
  const reversed: AclOptions = {
    rules: [allow("publish", "a/#"), deny("publish", "a/secret")],
    default: "deny",
  };
  strictEqual(canPublish(reversed, alice, "a/secret"), true);
});

Deno.test("aclHooks() applies a rule only to its action", () => {
  const options: AclOptions = {
    rules: [allow("subscribe", "news/#")],
    default: "deny",
  };
  strictEqual(canSubscribe(options, alice, "news/today"), true);
  strictEqual(canPublish(options, alice, "news/today"), false);
});

Deno.test("aclHooks() applies a rule only to its username and clientId", () => {
  const options: AclOptions = {
    rules: [
      { ...allow("all", "admin/#"), username: "alice" },
      { ...allow("all", "device/#"), clientId: "c-anon" },
    ],
    default: "deny",
  };
  strictEqual(canPublish(options, alice, "admin/x"), true);
  strictEqual(canPublish(options, anonymous, "admin/x"), false);
  strictEqual(canPublish(options, anonymous, "device/x"), true);
  strictEqual(canPublish(options, alice, "device/x"), false);
});

Deno.test("aclHooks() fills in %c and %u", () => {
  const options: AclOptions = {
    rules: [allow("all", "clients/%c/#"), allow("all", "users/%u/inbox")],
    default: "deny",
  };
  strictEqual(canPublish(options, alice, "clients/c-alice/x"), true);
  strictEqual(canPublish(options, alice, "clients/c-other/x"), false);
  strictEqual(canSubscribe(options, alice, "users/alice/inbox"), true);
  strictEqual(canSubscribe(options, alice, "users/bob/inbox"), false);
  strictEqual(canSubscribe(options, alice, "users/+/inbox"), false);
});

Deno.test("aclHooks() never lets a placeholder widen an allow rule", () => {
  const options: AclOptions = {
    rules: [allow("all", "users/%u/#"), allow("all", "clients/%c/#")],
    default: "deny",
  };
  // No user name: the %u rule does not apply.
  strictEqual(canPublish(options, anonymous, "users//x"), false);
  // A client id with wildcards or "/" does not become a wide filter.
  strictEqual(canSubscribe(options, client("#"), "clients/#"), false);
  strictEqual(canPublish(options, client("a/b"), "clients/a/b/x"), false);
  strictEqual(canSubscribe(options, client("+"), "clients/x/y"), false);
});

Deno.test("aclHooks() lets an unfillable placeholder in a deny rule stand for +", () => {
  const options: AclOptions = {
    rules: [deny("publish", "users/%u/private"), allow("all", "#")],
  };
  strictEqual(canPublish(options, anonymous, "users/bob/private"), false);
  strictEqual(canPublish(options, anonymous, "users/bob/public"), true);
  strictEqual(canPublish(options, alice, "users/bob/private"), true);
  strictEqual(canPublish(options, alice, "users/alice/private"), false);
});

Deno.test("aclHooks() allows a subscription only when an allow rule covers it", () => {
  const options: AclOptions = {
    rules: [allow("subscribe", "a/b")],
    default: "deny",
  };
  strictEqual(canSubscribe(options, alice, "a/b"), true);
  strictEqual(canSubscribe(options, alice, "a/#"), false);
  strictEqual(canSubscribe(options, alice, "a/+"), false);
  strictEqual(canSubscribe(options, alice, "+/b"), false);
  const wide: AclOptions = {
    rules: [allow("subscribe", "a/#")],
    default: "deny",
  };
  strictEqual(canSubscribe(wide, alice, "a/#"), true);
  strictEqual(canSubscribe(wide, alice, "a/+/c"), true);
  strictEqual(canSubscribe(wide, alice, "a"), true);
  strictEqual(canSubscribe(wide, alice, "#"), false);
  strictEqual(canSubscribe(wide, alice, "+/b"), false);
  const plus: AclOptions = {
    rules: [allow("subscribe", "a/+")],
    default: "deny",
  };
  strictEqual(canSubscribe(plus, alice, "a/+"), true);
  strictEqual(canSubscribe(plus, alice, "a/x"), true);
  strictEqual(canSubscribe(plus, alice, "a/#"), false);
  strictEqual(canSubscribe(plus, alice, "a/x/y"), false);
});

Deno.test("aclHooks() with overlap refuse refuses a subscription that a deny rule overlaps", () => {
  const options: AclOptions = {
    rules: [deny("subscribe", "a/secret"), allow("subscribe", "#")],
    overlap: "refuse",
  };
  strictEqual(canSubscribe(options, alice, "a/#"), false);
  strictEqual(canSubscribe(options, alice, "a/+"), false);
  strictEqual(canSubscribe(options, alice, "+/secret"), false);
  strictEqual(canSubscribe(options, alice, "#"), false);
  strictEqual(canSubscribe(options, alice, "a/public"), true);
  strictEqual(canSubscribe(options, alice, "a/secret/x"), true);
  strictEqual(canSubscribe(options, alice, "b/#"), true);
});

Deno.test("aclHooks() judges a shared subscription by its filter", () => {
  const options: AclOptions = {
    rules: [allow("subscribe", "jobs/#")],
    default: "deny",
  };
  strictEqual(canSubscribe(options, alice, "$share/workers/jobs/+"), true);
  strictEqual(canSubscribe(options, alice, "$share/workers/other"), false);
});

Deno.test("aclHooks() lets # in a rule match topics starting with $", () => {
  const options: AclOptions = { rules: [deny("all", "#")] };
  strictEqual(canPublish(options, alice, "$SYS/x"), false);
  strictEqual(canSubscribe(options, alice, "$SYS/#"), false);
});

Deno.test("aclHooks() throws for an invalid rule", () => {
  throws(() => aclHooks({ rules: [allow("all", "a/#/b")] }), {
    name: "TypeError",
    message: /^Cannot create ACL: rule 0: topic must be a valid topic filter/,
  });
  throws(
    () =>
      aclHooks({
        rules: [
          {
            permission: "maybe",
            action: "all",
            topic: "a",
          } as unknown as AclRule,
        ],
      }),
    TypeError,
  );
  throws(
    () => aclHooks({ default: "sometimes" as unknown as "allow" }),
    TypeError,
  );
});

Deno.test("aclHooks() grants # and +/+ next to a deny rule, marked for delivery checks", () => {
  const options: AclOptions = {
    rules: [deny("subscribe", "test/nosubscribe")],
  };
  strictEqual(subscribeAnswer(options, alice, "#"), "checked");
  strictEqual(subscribeAnswer(options, alice, "+/+"), "checked");
  strictEqual(subscribeAnswer(options, alice, "test/+"), "checked");
  strictEqual(subscribeAnswer(options, alice, "$share/g/#"), "checked");
  strictEqual(subscribeAnswer(options, alice, "test/nosubscribe"), 0x87);
  strictEqual(canReceive(options, alice, "test/nosubscribe"), false);
  strictEqual(canReceive(options, alice, "test/other"), true);
  strictEqual(canReceive(options, alice, "test/nosubscribe/x"), true);
});

Deno.test("aclHooks() does not mark a subscription that overlaps no deny rule", () => {
  const options: AclOptions = {
    rules: [
      deny("subscribe", "a/secret"),
      deny("publish", "b/#"),
      deny("subscribe", "c/%u/#"),
      { ...deny("subscribe", "b/#"), username: "bob" },
    ],
  };
  for (const filter of ["a/public", "a/secret/x", "b/#", "+/x/y", "d/#"]) {
    strictEqual(subscribeAnswer(options, alice, filter), "granted", filter);
  }
  strictEqual(subscribeAnswer(options, alice, "a/+"), "checked");
  strictEqual(subscribeAnswer(options, alice, "c/alice/+"), 0x87);
  strictEqual(subscribeAnswer(options, alice, "c/+/x"), "checked");
});

Deno.test("aclHooks() still refuses a filter that a deny rule covers entirely", () => {
  const options: AclOptions = {
    rules: [deny("subscribe", "secret/#"), deny("all", "x/+/y")],
  };
  strictEqual(subscribeAnswer(options, alice, "secret/a/+"), 0x87);
  strictEqual(subscribeAnswer(options, alice, "secret/#"), 0x87);
  strictEqual(subscribeAnswer(options, alice, "secret"), 0x87);
  strictEqual(subscribeAnswer(options, alice, "x/a/y"), 0x87);
  strictEqual(subscribeAnswer(options, alice, "x/+/y"), 0x87);
  strictEqual(subscribeAnswer(options, alice, "x/#"), "checked");
  strictEqual(subscribeAnswer(options, alice, "+/a/y"), "checked");
});

Deno.test("aclHooks() lets the rules after an overlapping deny rule decide", () => {
  const options: AclOptions = {
    rules: [deny("subscribe", "a/secret"), allow("subscribe", "a/#")],
    default: "deny",
  };
  strictEqual(subscribeAnswer(options, alice, "a/#"), "checked");
  strictEqual(subscribeAnswer(options, alice, "#"), 0x87);
  strictEqual(subscribeAnswer(options, alice, "a/public"), "granted");
  strictEqual(canReceive(options, alice, "a/public"), true);
  strictEqual(canReceive(options, alice, "a/secret"), false);
  strictEqual(canReceive(options, alice, "b"), false);
});

Deno.test("aclHooks() checkDeliver applies the subscriber's own rules", () => {
  const options: AclOptions = {
    rules: [
      { ...allow("subscribe", "admin/#"), username: "alice" },
      deny("subscribe", "admin/#"),
    ],
  };
  strictEqual(subscribeAnswer(options, alice, "#"), "checked");
  strictEqual(canReceive(options, alice, "admin/x"), true);
  strictEqual(canReceive(options, anonymous, "admin/x"), false);
  strictEqual(canReceive(options, anonymous, "public"), true);
});

Deno.test("aclHooks() answers with the reason of the deny rule that refuses", () => {
  const options: AclOptions = {
    rules: [
      { ...deny("all", "hidden/#"), reason: "unspecified_error" },
      { ...deny("all", "bad/#"), reason: 0x8f },
      deny("all", "plain/#"),
    ],
  };
  strictEqual(subscribeAnswer(options, alice, "hidden/a"), 0x80);
  strictEqual(subscribeAnswer(options, alice, "bad/a"), 0x8f);
  strictEqual(subscribeAnswer(options, alice, "plain/a"), 0x87);
  strictEqual(
    subscribeAnswer({ ...options, overlap: "refuse" }, alice, "#"),
    0x80,
  );
  const publish = aclHooks(options).checkPublish?.(alice, {
    type: "publish",
    topic: "hidden/x",
    payload: new Uint8Array(0),
    qos: 1,
    packetId: 1,
    retain: false,
    dup: false,
  });
  strictEqual(publish, 0x80);
});

Deno.test("aclHooks() throws for an unknown reason or overlap", () => {
  throws(
    () =>
      aclHooks({
        rules: [{ ...deny("all", "a"), reason: "nope" as "not_authorized" }],
      }),
    /rule 0: reason must be one of unspecified_error \(0x80\)/,
  );
  throws(
    () => aclHooks({ rules: [{ ...deny("all", "a"), reason: 0x81 }] }),
    /rule 0: reason must be one of/,
  );
  throws(
    () => aclHooks({ overlap: "drop" as "filter" }),
    /overlap must be "filter" or "refuse", got "drop"/,
  );
});
