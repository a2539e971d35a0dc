import { strictEqual, throws } from "node:assert/strict";
import { aclHooks, type AclOptions, type AclRule } from "./acl.ts";
import type { ClientInfo } from "./hooks.ts";

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

/** Whether the ACL lets `who` subscribe to `filter`. */
function canSubscribe(
  options: AclOptions,
  who: ClientInfo,
  filter: string,
): boolean {
  const verdict = aclHooks(options).checkSubscribe?.(who, {
    topicFilter: filter,
    qos: 1,
  });
  return verdict === undefined;
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

Deno.test("aclHooks() refuses a subscription that a deny rule overlaps", () => {
  const options: AclOptions = {
    rules: [deny("subscribe", "a/secret"), allow("subscribe", "#")],
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
