/**
 * The broker core: sessions, subscriptions, routing and retained messages,
 * with no I/O and no timer of its own. {@linkcode Core} assembles the
 * {@linkcode SessionRegistry} (attach, detach, takeover, expiry, wills),
 * the {@linkcode SubscriptionIndex} (topic tree and shared groups) and the
 * {@linkcode Router} (transform, retain, match, deliver) with the
 * {@linkcode Watchers} that see what it routes. It names what it
 * needs from around it in `ports.ts`: a client link per connected client,
 * a store for what must survive a restart, a bus to other nodes, and the
 * hooks it asks. Time comes from a `now` function; the server calls
 * `sweep()`.
 *
 * It imports only the codec (`packets/`), the shared vocabulary
 * (`src/types.ts`, `src/message.ts`) and the logger's type; never the
 * protocol, transport, server, hooks, store or config layers, which the
 * architecture test checks.
 *
 * @example Route a message to a subscriber, without any network
 * ```ts
 * import { Core } from "./mod.ts";
 * import { MemoryStore } from "../store/mod.ts";
 * import { silentLogger } from "../observe/logger.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * const sent: string[] = [];
 * const core = new Core({
 *   options: {
 *     maxInflight: 10, maxQueuedMessages: 100, maxQueuedBytes: 1 << 20,
 *     maxQueuedMemory: 1 << 24, queueQoS0Messages: false,
 *     queueFull: "drop", retainAvailable: true, maxRetainedMessages: 100,
 *     maxRetainedBytes: 1 << 20, messageExpiry: 0,
 *     sharedSubscriptionOffline: "online_first", maxSessions: 10,
 *     sessionOwnerChange: "clean",
 *   },
 *   hooks: {
 *     hasTransform: false, hasCheckPublish: false, observesDropped: false,
 *     observesDelivered: false, transformMessage: (_c, m) => m,
 *     checkPublish: () => undefined, mayDeliver: () => true, notify() {},
 *   },
 *   logger: silentLogger(),
 *   now: () => 0,
 *   store: new MemoryStore(),
 * });
 * core.load();
 * const client = {
 *   clientId: "sub", username: undefined, remoteAddress: "",
 *   localAddress: "", transport: "stream", listener: "",
 *   protocolVersion: 5, clean: true, keepAlive: 0,
 * } as const;
 * const link = {
 *   client, isClosed: false,
 *   sendPublish(d: { message: { topic: string } }) {
 *     sent.push(d.message.topic);
 *     return true;
 *   },
 *   sendPubrel() {},
 *   close: () => Promise.resolve(),
 * };
 * const { session } = core.sessions.attach(link, client, { expiryInterval: 0 })!;
 * session.resume(link);
 * core.subscriptions.subscribe(session, { topicFilter: "a/+", qos: 0 });
 * core.router.publish(
 *   { topic: "a/b", payload: new Uint8Array(), qos: 0, retain: false, createdAt: 0 },
 *   undefined,
 * );
 * strictEqual(sent[0], "a/b");
 * ```
 *
 * @module
 */

export { Core, type CoreConfig } from "./core.ts";
export { LocalBus } from "./bus.ts";
export type * from "./ports.ts";
export type {
  CoreOptions,
  QueueFullPolicy,
  SessionOwnerChange,
  SharedSubscriptionOffline,
} from "./options.ts";
export { Metrics, type ServerMetrics } from "./metrics.ts";
export { RetainedStore } from "./retained.ts";
export { BACKPRESSURE_LIMIT, DROP_LOG_INTERVAL, Router } from "./router.ts";
export { Session, type SessionContext } from "./session.ts";
export {
  type AttachOptions,
  type DetachOptions,
  SessionRegistry,
} from "./session_registry.ts";
export { SubscriptionIndex } from "./subscription_index.ts";
export { type Watcher, Watchers, type WatchersContext } from "./watchers.ts";
export { type Awaitable, whenOpen, whenReady } from "./awaitable.ts";
export { messageFromPublish, storedWill, willMessage } from "./messages.ts";
