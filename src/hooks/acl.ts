/**
 * Built-in access control: an ordered list of allow and deny rules on topic
 * filters, as `checkSubscribe`, `checkDeliver` and `checkPublish` hooks.
 *
 * @module
 */

import {
  isValidTopicFilter,
  parseSharedSubscription,
} from "../../packets/topic.ts";
import { ReasonCode, type RefusalCode } from "../../packets/reason_code.ts";
import type { PublishPacket, Subscription } from "../../packets/types.ts";
import type {
  ClientInfo,
  DeliverVerdict,
  Hooks,
  SubscribeVerdict,
  Verdict,
} from "./hooks.ts";
import type { Message } from "../message.ts";

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
  /**
   * The reason code a refusal by this deny rule answers with, by name or
   * number (see {@linkcode ACL_REASON_CODES}); "not_authorized" (0x87) by
   * default. 3.1.1 clients get 0x80 in SUBACK whatever it is.
   */
  reason?: AclReason;
}

/**
 * The reason codes a deny rule may answer with, by name: what a 5.0 SUBACK
 * or PUBACK carries when the rule refuses.
 */
export const ACL_REASON_CODES: Readonly<Record<AclReasonName, RefusalCode>> = {
  unspecified_error: ReasonCode.UnspecifiedError,
  implementation_specific_error: ReasonCode.ImplementationSpecificError,
  not_authorized: ReasonCode.NotAuthorized,
  topic_filter_invalid: ReasonCode.TopicFilterInvalid,
  topic_name_invalid: ReasonCode.TopicNameInvalid,
  quota_exceeded: ReasonCode.QuotaExceeded,
};

/** The name of a reason code a deny rule may answer with. */
export type AclReasonName =
  | "unspecified_error"
  | "implementation_specific_error"
  | "not_authorized"
  | "topic_filter_invalid"
  | "topic_name_invalid"
  | "quota_exceeded";

/** A reason code of {@linkcode ACL_REASON_CODES}, by name or number. */
export type AclReason = AclReasonName | number;

/**
 * What a deny rule does to a subscription whose filter overlaps it without
 * being covered by it (see {@linkcode AclOptions.overlap}).
 */
export type AclOverlap = "filter" | "refuse";

/** Options for {@linkcode aclHooks}. */
export interface AclOptions {
  /** The rules, first match wins; none by default. */
  rules?: readonly AclRule[];
  /** The answer when no rule matches; "allow" by default. */
  default?: AclPermission;
  /**
   * What a deny rule does to a subscription that overlaps it, "filter" by
   * default: grant it and withhold each message on a topic the rules deny
   * ("filter"), or refuse it as a whole ("refuse").
   */
  overlap?: AclOverlap;
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
 *   **deny** rule matches when its filter covers the requested one (`a/#`
 *   covers `a/secret/+`): the subscription is refused.
 * - A deny rule that merely overlaps the requested filter (some topic could
 *   reach both: `a/secret` and `a/#`) does not decide; with `overlap`
 *   "filter" (the default) the rules after it go on deciding, and when they
 *   grant the subscription it is marked: each message bound to it is checked
 *   against the client's subscribe rules as a topic name (by `checkDeliver`),
 *   and one on a topic they deny is not delivered to the client (reported as
 *   "not_authorized"). So with the rules "deny a/secret" then "allow a/#", a
 *   subscription to `a/#` or `#` is granted and never gets `a/secret`, like
 *   Mosquitto does. Subscriptions that overlap no deny rule are not marked
 *   and cost nothing at delivery. With `overlap` "refuse", an overlapping
 *   deny rule refuses the subscription as a whole.
 *
 * Shared subscriptions (`$share/{group}/{filter}`) are judged by their
 * filter. Wildcards in rules also match topics starting with `$`, unlike in
 * subscriptions. A placeholder that cannot be filled in safely (no user
 * name, or a value holding `/`, `+` or `#`) makes an allow rule never match
 * and stands for `+` in a deny rule, so it never widens what a client may do.
 *
 * A refused subscription gets "not authorized" (0x87; 0x80 before 5.0), or
 * the `reason` of the deny rule that refused it. A refused publish is not
 * delivered, but still acknowledged (in 5.0 with that code).
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
 * @returns Hooks with `checkSubscribe`, `checkDeliver` and `checkPublish`
 *   members.
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
  const overlap = options.overlap ?? "filter";
  if (overlap !== "filter" && overlap !== "refuse") {
    throw new TypeError(
      `Cannot create ACL: overlap must be "filter" or "refuse", got ${
        JSON.stringify(overlap)
      }`,
    );
  }
  const refuse = overlap === "refuse";
  const fallbackCode = fallback === "allow" ? undefined : DENIED;
  /** Whether a rule applies to the client and the action. */
  const applies = (
    rule: CompiledRule,
    client: ClientInfo,
    action: "publish" | "subscribe",
  ): boolean =>
    (rule.action === "all" || rule.action === action) &&
    (rule.username === undefined || rule.username === client.username) &&
    (rule.clientId === undefined || rule.clientId === client.clientId);
  /** The refusal code for a topic name, or undefined to allow it. */
  const decideTopic = (
    client: ClientInfo,
    action: "publish" | "subscribe",
    levels: string[],
  ): RefusalCode | undefined => {
    for (const rule of rules) {
      if (!applies(rule, client, action)) continue;
      const deny = rule.permission === "deny";
      const filter = fill(rule.levels, client, deny);
      if (filter === undefined || !covers(filter, levels)) continue;
      return deny ? rule.code : undefined;
    }
    return fallbackCode;
  };
  return {
    checkSubscribe(
      client: ClientInfo,
      subscription: Subscription,
    ): SubscribeVerdict {
      const filter = parseSharedSubscription(subscription.topicFilter)
        ?.topicFilter ?? subscription.topicFilter;
      const verdict = decideFilter(
        rules,
        (rule) => applies(rule, client, "subscribe"),
        (rule) => fill(rule.levels, client, rule.permission === "deny"),
        filter.split("/"),
        refuse,
      );
      if (verdict === "overlap") {
        return fallbackCode ?? { checkDeliver: true };
      }
      if (verdict === "overlap-allow") return { checkDeliver: true };
      if (verdict === "allow") return undefined;
      return verdict ?? fallbackCode;
    },
    checkDeliver(client: ClientInfo, message: Message): DeliverVerdict {
      return decideTopic(client, "subscribe", message.topic.split("/"));
    },
    checkPublish(client: ClientInfo, packet: PublishPacket): Verdict {
      return decideTopic(client, "publish", packet.topic.split("/"));
    },
  };
}

/** Refusal code when no `reason` is given, and for the default "deny". */
const DENIED = ReasonCode.NotAuthorized;

/**
 * What the rules say of a subscription's filter: "allow" (an allow rule
 * covers it), "overlap-allow" (so did one, after a deny rule that overlaps
 * it), "overlap" (no rule decided, a deny rule overlaps it), a refusal code
 * (a deny rule covers it, or overlaps it with `refuse`), or `undefined` (no
 * rule decided and none overlaps it).
 */
function decideFilter(
  rules: readonly CompiledRule[],
  applies: (rule: CompiledRule) => boolean,
  filled: (rule: CompiledRule) => string[] | undefined,
  levels: readonly string[],
  refuse: boolean,
): "allow" | "overlap-allow" | "overlap" | RefusalCode | undefined {
  let overlapped = false;
  for (const rule of rules) {
    if (!applies(rule)) continue;
    const filter = filled(rule);
    if (filter === undefined) continue;
    if (rule.permission === "allow") {
      if (covers(filter, levels)) return overlapped ? "overlap-allow" : "allow";
      continue;
    }
    if (covers(filter, levels)) return rule.code;
    if (overlaps(filter, levels)) {
      if (refuse) return rule.code;
      overlapped = true;
    }
  }
  return overlapped ? "overlap" : undefined;
}

interface CompiledRule {
  readonly permission: AclPermission;
  readonly action: AclAction;
  /** The filter's levels, placeholders still in. */
  readonly levels: readonly string[];
  readonly username: string | undefined;
  readonly clientId: string | undefined;
  /** The code a refusal by this rule answers with. */
  readonly code: RefusalCode;
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
    code: rule.reason === undefined ? DENIED : reasonCode(rule.reason, what),
  };
}

/**
 * The code of a rule's `reason`, a name or a number of
 * {@linkcode ACL_REASON_CODES}.
 */
function reasonCode(reason: AclReason, what: string): RefusalCode {
  if (typeof reason === "string" && Object.hasOwn(ACL_REASON_CODES, reason)) {
    return ACL_REASON_CODES[reason];
  }
  const code = typeof reason === "number"
    ? Object.values(ACL_REASON_CODES).find((c) => c === reason)
    : undefined;
  if (code !== undefined) return code;
  throw new TypeError(
    `${what}: reason must be one of ${
      Object.entries(ACL_REASON_CODES).map(([name, code]) =>
        `${name} (0x${code.toString(16)})`
      ).join(", ")
    }, got ${JSON.stringify(reason)}`,
  );
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
