/**
 * Hooks: the public {@linkcode Hooks} type through which an embedding
 * program decides on connections, subscriptions, publishes and deliveries
 * with MQTT reason codes and observes what the broker does; the runner
 * that calls them in order (sync answers acted on in the same task); and
 * the built-in password authentication and ACL, which are hooks too.
 *
 * It imports the core's vocabulary and the logger; never the protocol,
 * server, API or config layers.
 *
 * @example Allow publishing under one's own client id only
 * ```ts
 * import { aclHooks } from "./mod.ts";
 *
 * const hooks = aclHooks({
 *   rules: [
 *     { action: "publish", topic: "clients/%c/#", permission: "allow" },
 *   ],
 *   default: "deny",
 * });
 * ```
 *
 * @module
 */

export type * from "./hooks.ts";
export { HookRunner } from "./runner.ts";
export * from "./auth.ts";
export * from "./acl.ts";
