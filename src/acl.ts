/**
 * Built-in access control: an ordered list of allow and deny rules on topic
 * filters, as `checkSubscribe` and `checkPublish` hooks.
 *
 * @module
 */

import {
  isValidTopicFilter,
  parseSharedSubscription,
} from "../packets/topic.ts";
import { ReasonCode } from "../packets/reason_code.ts";
import type { PublishPacket, Subscription } from "../packets/types.ts";
import type { ClientInfo, Hooks, SubscribeVerdict, Verdict } from "./hooks.ts";

/** What a rule lets or stops a client do. */
export type AclAction = "publish" | "subscribe" | "all";

/** Whether a matching rule lets the action go ahead. */
export type AclPermission = "allow" | "deny";

/** One rule of {@linkcode AclOptions.rules}. */
export interface AclRule {
  /** Whether a match lets the action go ahead or refuses it. */
  permission: AclPermission;
  /** The action the rule is about. */
  action: AclAction;
  /**
   * A topic filter; `%c` stands for the client id and `%u` for the user
   * name, each as a whole level or part of one.
   */
  topic: string;
  /** The rule applies only to this user name; to everyone by default. */
  username?: string;
  /** The rule applies only to this client id; to every client by default. */
  clientId?: string;
}

/** Options for {@linkcode aclHooks}. */
export interface AclOptions {
  /** The rules, first match wins; none by default. */
  rules?: readonly AclRule[];
  /** The answer when no rule matches; "allow" by default. */
  default?: AclPermission;
}

const ACTIONS: ReadonlySet<string> = new Set(["publish", "subscribe", "all"]);
const PERMISSIONS: ReadonlySet<string> = new Set(["allow", "deny"]);
const PLACEHOLDER_RE = /%[cu]/g;
const UNSAFE_VALUE_RE = /[+#/]/;

/**
 * Makes the hooks that apply access-control rules to subscriptions and
 * publishes. Rules are tried in order and the first that matches decides;
 * when none matches, `default` decides.
 *
 * A rule matches when its `username` and `clientId` (if set) are the
 * client's, its action is the one asked (or "all"), and its topic filter,
 * with `%c` and `%u` filled in, matches:
 *
 * - for a publish, when the filter matches the topic name;
 * - for a subscription, an **allow** rule matches when its filter covers the
 *   requested filter: every topic the request could receive is one the rule
 *   allows (`a/#` covers `a/b` and `a/+`, but `a/b` does not cover `a/#`). A
 *   **deny** rule matches when the two filters overlap: some topic could
 *   reach both (`a/b` overlaps `a/#` and `a/+`). So with the rules "deny
 *   a/secret" then "allow a/#", a subscription to `a/#` is refused as a
 *   whole (MQTT cannot grant it minus one topic), while `a/public` is
 *   granted.
 *
 * Shared subscriptions (`$share/{group}/{filter}`) are judged by their
 * filter. Wildcards in rules also match topics starting with `$`, unlike in
 * subscriptions. A placeholder that cannot be filled in safely (no user
 * name, or a value holding `/`, `+` or `#`) makes an allow rule never match
 * and stands for `+` in a deny rule, so it never widens what a client may do.
 *
 * A refused subscription gets "not authorized" (0x87; 0x80 before 5.0). A
 * refused publish is not delivered, but still acknowledged.
 *
 * @example Let each client use only its own topics
 * ```ts
 * import { aclHooks, Server } from "@gmqtt/broker";
 *
 * const server = new Server({
 *   hooks: aclHooks({
 *     rules: [
 *       { permission: "allow", action: "all", topic: "clients/%c/#" },
 *       { permission: "allow", action: "subscribe", topic: "public/#" },
 *     ],
 *     default: "deny",
 *   }),
 * });
 * server.listen({ hostname: "127.0.0.1", port: 0 });
 * await server.start();
 * await server.stop();
 * ```
 * @param options The rules and the default answer.
 * @returns Hooks with `checkSubscribe` and `checkPublish` members.
 * @throws {TypeError} If a rule is not valid; the message names it.
 */
export function aclHooks(options: AclOptions = {}): Hooks {
  const rules = (options.rules ?? []).map((rule, i) => compileRule(rule, i));
  const fallback = options.default ?? "allow";
  if (!PERMISSIONS.has(fallback)) {
    throw new TypeError(
      `Cannot create ACL: default must be "allow" or "deny", got ${
        JSON.stringify(fallback)
      }`,
    );
  }
  const decide = (
    client: ClientInfo,
    action: "publish" | "subscribe",
    levels: string[],
  ): boolean => {
    for (const rule of rules) {
      if (rule.action !== "all" && rule.action !== action) continue;
      if (rule.username !== undefined && rule.username !== client.username) {
        continue;
      }
      if (rule.clientId !== undefined && rule.clientId !== client.clientId) {
        continue;
      }
      const deny = rule.permission === "deny";
      const filter = fill(rule.levels, client, deny);
      if (filter === undefined) continue;
      const matches = action === "publish"
        ? covers(filter, levels)
        : deny
        ? overlaps(filter, levels)
        : covers(filter, levels);
      if (matches) return !deny;
    }
    return fallback === "allow";
  };
  return {
    checkSubscribe(
      client: ClientInfo,
      subscription: Subscription,
    ): SubscribeVerdict {
      const filter = parseSharedSubscription(subscription.topicFilter)
        ?.topicFilter ?? subscription.topicFilter;
      return decide(client, "subscribe", filter.split("/"))
        ? undefined
        : ReasonCode.NotAuthorized;
    },
    checkPublish(client: ClientInfo, packet: PublishPacket): Verdict {
      return decide(client, "publish", packet.topic.split("/"))
        ? undefined
        : ReasonCode.NotAuthorized;
    },
  };
}

interface CompiledRule {
  readonly permission: AclPermission;
  readonly action: AclAction;
  /** The filter's levels, placeholders still in. */
  readonly levels: readonly string[];
  readonly username: string | undefined;
  readonly clientId: string | undefined;
}

function compileRule(rule: AclRule, index: number): CompiledRule {
  const what = `Cannot create ACL: rule ${index}`;
  if (!PERMISSIONS.has(rule.permission)) {
    throw new TypeError(
      `${what}: permission must be "allow" or "deny", got ${
        JSON.stringify(rule.permission)
      }`,
    );
  }
  if (!ACTIONS.has(rule.action)) {
    throw new TypeError(
      `${what}: action must be "publish", "subscribe" or "all", got ${
        JSON.stringify(rule.action)
      }`,
    );
  }
  if (typeof rule.topic !== "string" || !isValidTopicFilter(rule.topic)) {
    throw new TypeError(
      `${what}: topic must be a valid topic filter, got ${
        JSON.stringify(rule.topic)
      }`,
    );
  }
  return {
    permission: rule.permission,
    action: rule.action,
    levels: rule.topic.split("/"),
    username: rule.username,
    clientId: rule.clientId,
  };
}

/**
 * The rule's levels with placeholders filled in, or `undefined` if the rule
 * cannot apply. A value that cannot be filled in safely stands for `+` in a
 * deny rule and makes an allow rule not apply.
 */
function fill(
  levels: readonly string[],
  client: ClientInfo,
  deny: boolean,
): string[] | undefined {
  const out: string[] = [];
  for (const level of levels) {
    if (!level.includes("%")) {
      out.push(level);
      continue;
    }
    let unsafe = false;
    const filled = level.replace(PLACEHOLDER_RE, (placeholder) => {
      const value = placeholder === "%c" ? client.clientId : client.username;
      if (value === undefined || UNSAFE_VALUE_RE.test(value)) {
        unsafe = true;
        return "";
      }
      return value;
    });
    if (unsafe) {
      if (!deny) return undefined;
      out.push("+");
    } else out.push(filled);
  }
  return out;
}

/**
 * Whether every topic that `inner` matches is matched by `outer`; with a
 * topic name as `inner`, whether `outer` matches it.
 */
function covers(outer: readonly string[], inner: readonly string[]): boolean {
  for (let i = 0;; i++) {
    if (i === outer.length) return i === inner.length;
    const o = outer[i];
    if (o === "#") return true;
    if (i === inner.length) return false;
    const n = inner[i];
    if (n === "#") return false;
    if (o === "+") continue;
    if (n === "+" || n !== o) return false;
  }
}

/** Whether some topic is matched by both filters. */
function overlaps(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0;; i++) {
    if (a[i] === "#" || b[i] === "#") return true;
    if (i === a.length || i === b.length) return a.length === b.length;
    if (a[i] !== "+" && b[i] !== "+" && a[i] !== b[i]) return false;
  }
}
