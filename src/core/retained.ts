/**
 * The retained messages of a broker, one per topic.
 *
 * @module
 */

import type { Logger } from "../observe/logger.ts";
import type { Store } from "./ports.ts";
import type { Message } from "../message.ts";
import { isSysTopic } from "./topic_levels.ts";

/** Options for {@linkcode RetainedStore}. */
export interface RetainedStoreOptions {
  /** Current time in milliseconds, `Date.now` by default; tests fake it. */
  now?: () => number;
  /**
   * Most messages kept, `Infinity` by default. Past it a message on a new
   * topic is not retained. The server's own `$SYS` topics are not counted
   * and never refused, by this limit or by `maxBytes`.
   */
  maxMessages?: number;
  /**
   * Most bytes kept, `Infinity` by default: each message counts the length
   * of its topic (in UTF-16 code units) plus the bytes of its payload. A
   * message on a new topic that would pass it is not retained; one that
   * replaces a message and grows the total past it deletes the old one too.
   */
  maxBytes?: number;
  /**
   * Where a message not retained because of a limit is reported, as a
   * warning at most once a minute; silent by default.
   */
  logger?: Logger;
  /** Where each change is written as well; nowhere by default. */
  store?: Pick<Store, "saveRetained" | "deleteRetained">;
}

/** Milliseconds between two warnings about messages not retained. */
const WARN_INTERVAL = 60_000;

/** One topic level of the store. */
class Node {
  children: Map<string, Node> | undefined = undefined;
  message: Message | undefined = undefined;
  readonly parent: Node | undefined;
  readonly level: string;

  constructor(parent: Node | undefined, level: string) {
    this.parent = parent;
    this.level = level;
  }
}

/**
 * Retained messages by topic, the last one published with the RETAIN flag on
 * each topic. Messages are also kept in a tree of topic levels, so matching a
 * filter such as `a/b/+` visits only the topics under `a/b`. Expired messages
 * (`expiresAt <= now()`) are never returned and are deleted when a match meets
 * them.
 *
 * @example Retain and find messages
 * ```ts
 * import { RetainedStore } from "./retained.ts";
 * import type { Message } from "../message.ts";
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 *
 * function retained(topic: string, text: string): Message {
 *   const payload = new TextEncoder().encode(text);
 *   return { topic, payload, qos: 0, retain: true, createdAt: 0 };
 * }
 *
 * const store = new RetainedStore();
 * store.set(retained("home/kitchen/temp", "21"));
 * store.set(retained("home/garage/temp", "12"));
 * store.set(retained("$SYS/uptime", "42"));
 *
 * const topics = store.match("home/+/temp").map((m) => m.topic).sort();
 * deepStrictEqual(topics, ["home/garage/temp", "home/kitchen/temp"]);
 * // "#" does not match "$" topics [MQTT-4.7.2-1].
 * strictEqual(store.match("#").length, 2);
 * ```
 */
export class RetainedStore {
  #root: Node = new Node(undefined, "");
  #byTopic: Map<string, Node> = new Map();
  #now: () => number;
  #maxMessages: number;
  #maxBytes: number;
  #logger: Logger | undefined;
  #store: Pick<Store, "saveRetained" | "deleteRetained"> | undefined;
  #bytes = 0;
  /** `$SYS` topics retained: outside the limits. */
  #sysTopics = 0;
  #refused = 0;
  #warnedAt = -Infinity;

  /**
   * Makes an empty store.
   *
   * @param options The clock and the limits; see
   * {@linkcode RetainedStoreOptions}.
   */
  constructor(options: RetainedStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxMessages = options.maxMessages ?? Infinity;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#logger = options.logger;
    this.#store = options.store;
  }

  /** The number of retained messages, expired ones not yet deleted included. */
  get size(): number {
    return this.#byTopic.size;
  }

  /**
   * Bytes of the retained messages: topic lengths plus payload bytes, the
   * server's own `$SYS` topics not counted.
   */
  get bytes(): number {
    return this.#bytes;
  }

  /** Messages not retained because of `maxMessages` or `maxBytes`. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Retains `message` on its topic, replacing the message retained there. A
   * message with an empty payload deletes the retained message and is not
   * retained itself [MQTT-3.3.1-10] [MQTT-3.3.1-11]. Past `maxMessages` or
   * `maxBytes`, a message on a new topic is not retained; a replacement is
   * checked against `maxBytes` by how much it grows the total, and if it
   * would pass it the old message is deleted as well (a stale value is never
   * served). Deleting always works.
   *
   * @example Replace, then delete, a retained message
   * ```ts
   * import { RetainedStore } from "./retained.ts";
   * import type { Message } from "../message.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const store = new RetainedStore();
   * const first: Message = {
   *   topic: "a",
   *   payload: Uint8Array.of(1),
   *   qos: 1,
   *   retain: true,
   *   createdAt: 0,
   * };
   * strictEqual(store.set(first), undefined);
   * strictEqual(store.set({ ...first, payload: Uint8Array.of(2) }), first);
   * store.set({ ...first, payload: new Uint8Array(0) });
   * strictEqual(store.get("a"), undefined);
   * ```
   * @param message The message; its `topic` is where it is retained.
   * @returns The message retained on that topic before, if any.
   */
  set(message: Message): Message | undefined {
    const topic = message.topic;
    if (message.payload.length === 0) {
      // [MQTT-3.3.1-10] [MQTT-3.3.1-11] An empty payload deletes, and is not
      // retained itself.
      const node = this.#byTopic.get(topic);
      if (node === undefined) return undefined;
      const previous = node.message;
      this.#deleteNode(topic, node);
      return previous;
    }
    // The server's own $SYS topics are outside the limits and the counts.
    const limited = !isSysTopic(topic);
    const size = limited ? sizeOf(message) : 0;
    const existing = this.#byTopic.get(topic);
    if (existing !== undefined) {
      const previous = existing.message;
      const previousSize = previous === undefined || !limited
        ? 0
        : sizeOf(previous);
      if (this.#bytes - previousSize + size > this.#maxBytes) {
        this.#deleteNode(topic, existing);
        this.#refuse(message, "max_retained_bytes");
        return previous;
      }
      existing.message = message;
      this.#bytes += size - previousSize;
      this.#store?.saveRetained(message);
      return previous;
    }
    if (limited) {
      if (this.#byTopic.size - this.#sysTopics >= this.#maxMessages) {
        this.#refuse(message, "max_retained_messages");
        return undefined;
      }
      if (this.#bytes + size > this.#maxBytes) {
        this.#refuse(message, "max_retained_bytes");
        return undefined;
      }
    } else {
      this.#sysTopics++;
    }
    let node = this.#root;
    let start = 0;
    for (;;) {
      let end = topic.indexOf("/", start);
      if (end === -1) end = topic.length;
      const level = topic.slice(start, end);
      let next: Node | undefined = node.children?.get(level);
      if (next === undefined) {
        next = new Node(node, level);
        (node.children ??= new Map()).set(level, next);
      }
      node = next;
      if (end === topic.length) break;
      start = end + 1;
    }
    node.message = message;
    this.#byTopic.set(topic, node);
    this.#bytes += size;
    this.#store?.saveRetained(message);
    return undefined;
  }

  #refuse(message: Message, limit: string): void {
    this.#refused++;
    const now = this.#now();
    if (this.#logger === undefined || now - this.#warnedAt < WARN_INTERVAL) {
      return;
    }
    this.#warnedAt = now;
    this.#logger.warn("retained message not stored: limit reached", {
      topic: message.topic,
      limit,
      retained_messages: this.#byTopic.size,
      retained_bytes: this.#bytes,
      refused_total: this.#refused,
    });
  }

  /**
   * Looks up the message retained on one topic. An expired message is
   * deleted, not returned.
   *
   * @example Read a retained message
   * ```ts
   * import { RetainedStore } from "./retained.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const store = new RetainedStore();
   * store.set({
   *   topic: "a/b",
   *   payload: Uint8Array.of(1),
   *   qos: 0,
   *   retain: true,
   *   createdAt: 0,
   * });
   * strictEqual(store.get("a/b")?.topic, "a/b");
   * strictEqual(store.get("a/+"), undefined);
   * ```
   * @param topic A topic name; wildcards are not expanded.
   * @returns The retained message, or `undefined`.
   */
  get(topic: string): Message | undefined {
    const node = this.#byTopic.get(topic);
    const message = node?.message;
    if (message?.expiresAt !== undefined && message.expiresAt <= this.#now()) {
      this.#deleteNode(topic, node as Node);
      return undefined;
    }
    return message;
  }

  /**
   * Deletes the message retained on one topic.
   *
   * @example Delete a retained message
   * ```ts
   * import { RetainedStore } from "./retained.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const store = new RetainedStore();
   * store.set({
   *   topic: "a",
   *   payload: Uint8Array.of(1),
   *   qos: 0,
   *   retain: true,
   *   createdAt: 0,
   * });
   * strictEqual(store.delete("a"), true);
   * strictEqual(store.delete("a"), false);
   * ```
   * @param topic A topic name.
   * @returns Whether a message was retained there.
   */
  delete(topic: string): boolean {
    const node = this.#byTopic.get(topic);
    if (node === undefined) return false;
    this.#deleteNode(topic, node);
    return true;
  }

  /**
   * Finds the retained messages whose topic matches a filter, as a new
   * SUBSCRIBE must receive them. `+` matches one level and `#` any number of
   * levels, zero included; a filter starting with a wildcard does not match
   * topics starting with `$` [MQTT-4.7.2-1]. Expired messages are deleted, not
   * returned. The order of the result is unspecified.
   *
   * @example Match with a multi-level wildcard
   * ```ts
   * import { RetainedStore } from "./retained.ts";
   * import { deepStrictEqual } from "node:assert/strict";
   *
   * let now = 1000;
   * const store = new RetainedStore({ now: () => now });
   * const message = {
   *   payload: Uint8Array.of(1),
   *   qos: 0,
   *   retain: true,
   *   createdAt: 0,
   * } as const;
   * store.set({ ...message, topic: "a" });
   * store.set({ ...message, topic: "a/b", expiresAt: 2000 });
   *
   * deepStrictEqual(store.match("a/#").map((m) => m.topic).sort(), ["a", "a/b"]);
   * now = 2000;
   * deepStrictEqual(store.match("a/#").map((m) => m.topic), ["a"]);
   * ```
   * @param filter A valid topic filter without a `$share` prefix.
   * @returns The matching messages that have not expired.
   */
  match(filter: string): Message[] {
    if (!filter.includes("+") && !filter.includes("#")) {
      // A topic name: one lookup, no walk.
      const message = this.get(filter);
      return message === undefined ? [] : [message];
    }
    const found: Message[] = [];
    const levels = filter.split("/");
    const expired: Node[] = [];
    const now = this.#now();
    // Work deeper than MAX_DEPTH waits here instead of on the call stack, so
    // that a topic of any depth is matched.
    const deferred: [Node, number][] = [];
    collect(this.#root, levels, 0, found, expired, now, 0, deferred);
    for (let next = deferred.pop(); next !== undefined; next = deferred.pop()) {
      const [node, index] = next;
      if (index === ALL) collectAll(node, found, expired, now, 0, deferred);
      else collect(node, levels, index, found, expired, now, 0, deferred);
    }
    for (const expiredNode of expired) {
      const topic = expiredNode.message?.topic;
      if (topic !== undefined) this.#deleteNode(topic, expiredNode);
    }
    return found;
  }

  /**
   * Lists every retained message, expired ones not yet deleted included.
   *
   * @example List retained messages
   * ```ts
   * import { RetainedStore } from "./retained.ts";
   * import { deepStrictEqual } from "node:assert/strict";
   *
   * const store = new RetainedStore();
   * store.set({
   *   topic: "a",
   *   payload: Uint8Array.of(1),
   *   qos: 0,
   *   retain: true,
   *   createdAt: 0,
   * });
   * deepStrictEqual([...store.entries()].map((m) => m.topic), ["a"]);
   * ```
   * @returns An iterator of the messages.
   */
  *entries(): IterableIterator<Message> {
    for (const node of this.#byTopic.values()) {
      if (node.message !== undefined) yield node.message;
    }
  }

  /**
   * Puts back a message read from the store, without writing it again; the
   * limits apply as to any message.
   *
   * @param message A retained message.
   */
  restore(message: Message): void {
    const store = this.#store;
    this.#store = undefined;
    try {
      this.set(message);
    } finally {
      this.#store = store;
    }
  }

  #deleteNode(topic: string, node: Node): void {
    this.#store?.deleteRetained(topic);
    const limited = !isSysTopic(topic);
    if (this.#byTopic.delete(topic) && !limited) this.#sysTopics--;
    if (node.message !== undefined && limited) {
      this.#bytes -= sizeOf(node.message);
    }
    node.message = undefined;
    let current = node;
    while (
      current.parent !== undefined && current.message === undefined &&
      current.children === undefined
    ) {
      const parent: Node = current.parent;
      parent.children?.delete(current.level);
      if (parent.children?.size === 0) parent.children = undefined;
      current = parent;
    }
  }
}

/** Deferred index: take every message at or under the node. */
const ALL = -1;
/** Levels `collect` recurses through before it defers the rest. */
const MAX_DEPTH = 1000;

/**
 * Adds to `found` the messages under `node` that match `levels` from `index`
 * on, and to `expired` the nodes of expired ones. At `depth` MAX_DEPTH it
 * adds the node to `deferred` instead, for the caller to continue from.
 */
function collect(
  node: Node,
  levels: string[],
  index: number,
  found: Message[],
  expired: Node[],
  now: number,
  depth: number,
  deferred: [Node, number][],
): void {
  if (depth >= MAX_DEPTH) {
    deferred.push([node, index]);
    return;
  }
  if (index === levels.length) {
    take(node, found, expired, now);
    return;
  }
  const level = levels[index] as string;
  const children = node.children;
  if (level === "#") {
    // "#" matches the parent level too: "a/#" matches "a".
    if (index > 0) take(node, found, expired, now);
    if (children === undefined) return;
    for (const child of children.values()) {
      // [MQTT-4.7.2-1] A leading wildcard does not match "$" topics.
      if (index === 0 && child.level.charCodeAt(0) === 0x24) continue;
      collectAll(child, found, expired, now, depth + 1, deferred);
    }
    return;
  }
  if (children === undefined) return;
  if (level === "+") {
    for (const child of children.values()) {
      // [MQTT-4.7.2-1]
      if (index === 0 && child.level.charCodeAt(0) === 0x24) continue;
      collect(
        child,
        levels,
        index + 1,
        found,
        expired,
        now,
        depth + 1,
        deferred,
      );
    }
    return;
  }
  const child = children.get(level);
  if (child !== undefined) {
    collect(child, levels, index + 1, found, expired, now, depth + 1, deferred);
  }
}

/** Adds every message at or under `node`; defers at MAX_DEPTH. */
function collectAll(
  node: Node,
  found: Message[],
  expired: Node[],
  now: number,
  depth: number,
  deferred: [Node, number][],
): void {
  if (depth >= MAX_DEPTH) {
    deferred.push([node, ALL]);
    return;
  }
  take(node, found, expired, now);
  if (node.children === undefined) return;
  for (const child of node.children.values()) {
    collectAll(child, found, expired, now, depth + 1, deferred);
  }
}

/** Adds the message of `node`, if it has one, to `found` or `expired`. */
function take(
  node: Node,
  found: Message[],
  expired: Node[],
  now: number,
): void {
  const message = node.message;
  if (message === undefined) return;
  if (message.expiresAt !== undefined && message.expiresAt <= now) {
    expired.push(node);
  } else {
    found.push(message);
  }
}

/** What a retained message counts against `maxBytes`. */
function sizeOf(message: Message): number {
  return message.topic.length + message.payload.length;
}
