/**
 * The retained messages of a broker, one per topic.
 *
 * @module
 */

import type { Message } from "./message.ts";

/** Options for {@linkcode RetainedStore}. */
export interface RetainedStoreOptions {
  /** Current time in milliseconds, `Date.now` by default; tests fake it. */
  now?: () => number;
}

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
 * import type { Message } from "./message.ts";
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

  /**
   * Makes an empty store.
   *
   * @param options The clock; see {@linkcode RetainedStoreOptions}.
   */
  constructor(options: RetainedStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** The number of retained messages, expired ones not yet deleted included. */
  get size(): number {
    return this.#byTopic.size;
  }

  /**
   * Retains `message` on its topic, replacing the message retained there. A
   * message with an empty payload deletes the retained message and is not
   * retained itself [MQTT-3.3.1-10] [MQTT-3.3.1-11].
   *
   * @example Replace, then delete, a retained message
   * ```ts
   * import { RetainedStore } from "./retained.ts";
   * import type { Message } from "./message.ts";
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
    const existing = this.#byTopic.get(topic);
    if (existing !== undefined) {
      const previous = existing.message;
      existing.message = message;
      return previous;
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
    return undefined;
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
    const found: Message[] = [];
    const levels = filter.split("/");
    const expired: Node[] = [];
    collect(this.#root, levels, 0, found, expired, this.#now());
    for (const node of expired) {
      const topic = node.message?.topic;
      if (topic !== undefined) this.#deleteNode(topic, node);
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

  #deleteNode(topic: string, node: Node): void {
    this.#byTopic.delete(topic);
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

/**
 * Adds to `found` the messages under `node` that match `levels` from `index`
 * on, and to `expired` the nodes of expired ones.
 */
function collect(
  node: Node,
  levels: string[],
  index: number,
  found: Message[],
  expired: Node[],
  now: number,
): void {
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
      collectAll(child, found, expired, now);
    }
    return;
  }
  if (children === undefined) return;
  if (level === "+") {
    for (const child of children.values()) {
      // [MQTT-4.7.2-1]
      if (index === 0 && child.level.charCodeAt(0) === 0x24) continue;
      collect(child, levels, index + 1, found, expired, now);
    }
    return;
  }
  const child = children.get(level);
  if (child !== undefined) {
    collect(child, levels, index + 1, found, expired, now);
  }
}

/** Adds every message at or under `node`. */
function collectAll(
  node: Node,
  found: Message[],
  expired: Node[],
  now: number,
): void {
  take(node, found, expired, now);
  if (node.children === undefined) return;
  for (const child of node.children.values()) {
    collectAll(child, found, expired, now);
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
