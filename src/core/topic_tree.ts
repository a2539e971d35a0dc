/**
 * The subscription index: which (topic filter, key) entries match a topic.
 *
 * @module
 */

/**
 * Topics up to this many characters (so at most one more level) are matched
 * recursively; the call stack holds a few thousand frames with room to spare.
 */
const RECURSIVE_MATCH_LENGTH = 1024;

/** One topic level of the tree; wildcard levels have their own fields. */
class Node<V> {
  /** Children by exact level, created on demand. */
  children: Map<string, Node<V>> | undefined = undefined;
  /** The `+` child. */
  plus: Node<V> | undefined = undefined;
  /** The `#` child; it never has children of its own. */
  hash: Node<V> | undefined = undefined;
  /**
   * The key of the one entry whose filter ends at this node, when there is
   * exactly one (the common case: no map is made for it).
   */
  oneKey: string | undefined = undefined;
  /** The value of that one entry. */
  oneValue: V | undefined = undefined;
  /**
   * Entries whose filter ends at this node, by key, when there are two or
   * more; created on demand.
   */
  entries: Map<string, V> | undefined = undefined;
  /** The filter that ends here; "" until an entry is added. */
  filter = "";
  readonly parent: Node<V> | undefined;
  readonly level: string;

  constructor(parent: Node<V> | undefined, level: string) {
    this.parent = parent;
    this.level = level;
  }

  child(level: string): Node<V> | undefined {
    if (level === "+") return this.plus;
    if (level === "#") return this.hash;
    return this.children?.get(level);
  }

  isEmpty(): boolean {
    return this.oneKey === undefined && this.entries === undefined &&
      this.children === undefined && this.plus === undefined &&
      this.hash === undefined;
  }

  /** Adds or replaces the entry of `key`; true if it is new. */
  set(key: string, value: V): boolean {
    const entries = this.entries;
    if (entries !== undefined) {
      const isNew = !entries.has(key);
      entries.set(key, value);
      return isNew;
    }
    const one = this.oneKey;
    if (one === undefined || one === key) {
      this.oneKey = key;
      this.oneValue = value;
      return one === undefined;
    }
    this.entries = new Map([[one, this.oneValue as V], [key, value]]);
    this.oneKey = undefined;
    this.oneValue = undefined;
    return true;
  }

  /** The value of `key`'s entry. */
  get(key: string): V | undefined {
    if (this.oneKey === key) return this.oneValue;
    return this.entries?.get(key);
  }

  /** Removes the entry of `key`; true if it existed. */
  delete(key: string): boolean {
    const entries = this.entries;
    if (entries === undefined) {
      if (this.oneKey !== key) return false;
      this.oneKey = undefined;
      this.oneValue = undefined;
      return true;
    }
    if (!entries.delete(key)) return false;
    if (entries.size === 1) {
      // Back to one entry: no map for it.
      for (const [one, value] of entries) {
        this.oneKey = one;
        this.oneValue = value;
      }
      this.entries = undefined;
    }
    return true;
  }
}

/**
 * Subscriptions indexed by topic filter: each entry is a value (such as the
 * granted subscription options) stored under a filter and a key (such as a
 * client id). Matching a topic walks one path per wildcard branch, so its cost
 * depends on the topic's depth and the wildcards that match it, not on the
 * number of filters.
 *
 * Filters must be valid MQTT topic filters without a `$share/group/` prefix;
 * the tree does not check them.
 *
 * @example Match a topic against subscriptions
 * ```ts
 * import { TopicTree } from "./topic_tree.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const tree = new TopicTree<number>();
 * tree.add("sensors/+/temp", "alice", 1);
 * tree.add("sensors/#", "bob", 0);
 * tree.add("#", "carol", 2);
 *
 * const seen: string[] = [];
 * tree.match("sensors/kitchen/temp", (qos, key) => seen.push(`${key}:${qos}`));
 * deepStrictEqual(seen.sort(), ["alice:1", "bob:0", "carol:2"]);
 *
 * // Filters starting with a wildcard never match "$" topics [MQTT-4.7.2-1].
 * const system: string[] = [];
 * tree.match("$SYS/uptime", (_qos, key) => system.push(key));
 * deepStrictEqual(system, []);
 * ```
 *
 * @typeParam V The value stored with each entry.
 */
export class TopicTree<V> {
  #root: Node<V> = new Node<V>(undefined, "");
  #size = 0;

  /** The number of (filter, key) entries. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds the entry of `key` under `filter`, or replaces its value.
   *
   * @example Replace a subscription
   * ```ts
   * import { TopicTree } from "./topic_tree.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const tree = new TopicTree<number>();
   * strictEqual(tree.add("a/b", "alice", 0), true);
   * strictEqual(tree.add("a/b", "alice", 1), false);
   * strictEqual(tree.get("a/b", "alice"), 1);
   * strictEqual(tree.size, 1);
   * ```
   * @param filter A valid topic filter without a `$share` prefix.
   * @param key Whose entry it is, such as a client id.
   * @param value The value to store.
   * @returns `true` if the entry is new, `false` if it replaced one.
   */
  add(filter: string, key: string, value: V): boolean {
    let node = this.#root;
    let start = 0;
    for (;;) {
      let end = filter.indexOf("/", start);
      if (end === -1) end = filter.length;
      const level = filter.slice(start, end);
      let next = node.child(level);
      if (next === undefined) {
        next = new Node<V>(node, level);
        if (level === "+") node.plus = next;
        else if (level === "#") node.hash = next;
        else (node.children ??= new Map()).set(level, next);
      }
      node = next;
      if (end === filter.length) break;
      start = end + 1;
    }
    node.filter = filter;
    const isNew = node.set(key, value);
    if (isNew) this.#size++;
    return isNew;
  }

  /**
   * Removes the entry of `key` under `filter` and prunes the nodes it leaves
   * empty.
   *
   * @example Unsubscribe
   * ```ts
   * import { TopicTree } from "./topic_tree.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const tree = new TopicTree<number>();
   * tree.add("a/+", "alice", 0);
   * strictEqual(tree.remove("a/+", "alice"), true);
   * strictEqual(tree.remove("a/+", "alice"), false);
   * strictEqual(tree.size, 0);
   * ```
   * @param filter The filter the entry was added under.
   * @param key Whose entry it is.
   * @returns Whether the entry existed.
   */
  remove(filter: string, key: string): boolean {
    const node = this.#find(filter);
    if (node === undefined || !node.delete(key)) return false;
    this.#size--;
    this.#prune(node);
    return true;
  }

  /**
   * The number of entries stored under `filter` (wildcards not expanded).
   *
   * @example Count a filter's subscribers
   * ```ts
   * import { TopicTree } from "./topic_tree.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const tree = new TopicTree<number>();
   * tree.add("a/+", "alice", 0);
   * tree.add("a/+", "bob", 1);
   * strictEqual(tree.count("a/+"), 2);
   * strictEqual(tree.count("a/b"), 0);
   * strictEqual(tree.count("a"), 0);
   * ```
   * @param filter A topic filter.
   * @returns How many keys have an entry under it.
   */
  count(filter: string): number {
    const node = this.#find(filter);
    if (node === undefined) return 0;
    if (node.oneKey !== undefined) return 1;
    return node.entries?.size ?? 0;
  }

  /**
   * Looks up one entry.
   *
   * @example Read a subscription
   * ```ts
   * import { TopicTree } from "./topic_tree.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const tree = new TopicTree<string>();
   * tree.add("a/#", "alice", "options");
   * strictEqual(tree.get("a/#", "alice"), "options");
   * strictEqual(tree.get("a/#", "bob"), undefined);
   * ```
   * @param filter The filter of the entry.
   * @param key Whose entry it is.
   * @returns The value, or `undefined` if there is no such entry.
   */
  get(filter: string, key: string): V | undefined {
    return this.#find(filter)?.get(key);
  }

  /**
   * Calls `fn` once for each entry whose filter matches `topic`. `+` matches
   * one level and `#` any number of levels, zero included (`a/#` matches `a`);
   * empty levels count (`a//b`, `/a`). A filter that starts with a wildcard
   * does not match a topic that starts with `$` [MQTT-4.7.2-1]. The order of
   * the calls is unspecified; `fn` must not change the tree.
   *
   * @example Find who receives a message
   * ```ts
   * import { TopicTree } from "./topic_tree.ts";
   * import { deepStrictEqual } from "node:assert/strict";
   *
   * const tree = new TopicTree<number>();
   * tree.add("a/#", "alice", 1);
   * tree.add("$SYS/#", "bob", 0);
   *
   * const keys: string[] = [];
   * tree.match("a", (_value, key, filter) => keys.push(`${key} ${filter}`));
   * deepStrictEqual(keys, ["alice a/#"]);
   * ```
   * @param topic A topic name (no wildcards).
   * @param fn Called with the value, key and filter of each matching entry.
   */
  match(
    topic: string,
    fn: (value: V, key: string, filter: string) => void,
  ): void {
    // Recursion is the fast way, one or two frames per level: a topic short
    // enough to have few levels takes it; a longer one takes the explicit
    // stack, so that a topic of any depth is matched.
    if (topic.length > RECURSIVE_MATCH_LENGTH) {
      this.#matchDeep(topic, fn);
      return;
    }
    const root = this.#root;
    if (topic.charCodeAt(0) === 0x24 /* $ */) {
      // [MQTT-4.7.2-1] Only exact first levels match a "$" topic.
      let end = topic.indexOf("/");
      if (end === -1) end = topic.length;
      const child = root.children?.get(topic.slice(0, end));
      if (child !== undefined) visit(child, topic, end, fn);
      return;
    }
    walk(root, topic, 0, fn);
  }

  /** `match` for long topics: the same calls, in the same order. */
  #matchDeep(
    topic: string,
    fn: (value: V, key: string, filter: string) => void,
  ): void {
    // An explicit stack, not recursion. Each entry is a node that matched
    // the level ending at `end`; the `+` branch is walked before the exact
    // one, as `walk` does. The stack is made when a level has two branches.
    const length = topic.length;
    let node: Node<V> | undefined = this.#root;
    let end = -1;
    if (topic.charCodeAt(0) === 0x24 /* $ */) {
      // [MQTT-4.7.2-1] Only exact first levels match a "$" topic.
      end = topic.indexOf("/");
      if (end === -1) end = length;
      node = node.children?.get(topic.slice(0, end));
      if (node === undefined) return;
    }
    let nodes: Node<V>[] | undefined;
    let ends: number[] | undefined;
    for (;;) {
      if (end < length) {
        // "#" matches this level and everything after it.
        if (node.hash !== undefined) emit(node.hash, fn);
        const start = end + 1;
        end = topic.indexOf("/", start);
        if (end === -1) end = length;
        const plus: Node<V> | undefined = node.plus;
        const child: Node<V> | undefined = node.children?.get(
          topic.slice(start, end),
        );
        if (plus !== undefined) {
          if (child !== undefined) {
            (nodes ??= []).push(child);
            (ends ??= []).push(end);
          }
          node = plus;
          continue;
        }
        if (child !== undefined) {
          node = child;
          continue;
        }
      } else {
        emit(node, fn);
        // "a/#" also matches "a" (the parent level).
        if (node.hash !== undefined) emit(node.hash, fn);
      }
      const next = nodes?.pop();
      if (next === undefined) return;
      node = next;
      end = ends!.pop()!;
    }
  }

  /**
   * Lists every entry, for listings and persistence.
   *
   * @example List subscriptions
   * ```ts
   * import { TopicTree } from "./topic_tree.ts";
   * import { deepStrictEqual } from "node:assert/strict";
   *
   * const tree = new TopicTree<number>();
   * tree.add("a/b", "alice", 1);
   * deepStrictEqual([...tree.entries()], [["a/b", "alice", 1]]);
   * ```
   * @returns An iterator of `[filter, key, value]`.
   */
  *entries(): IterableIterator<[filter: string, key: string, value: V]> {
    const stack: Node<V>[] = [this.#root];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (node.oneKey !== undefined) {
        yield [node.filter, node.oneKey, node.oneValue as V];
      } else if (node.entries !== undefined) {
        for (const [key, value] of node.entries) {
          yield [node.filter, key, value];
        }
      }
      if (node.hash !== undefined) stack.push(node.hash);
      if (node.plus !== undefined) stack.push(node.plus);
      if (node.children !== undefined) {
        for (const child of node.children.values()) stack.push(child);
      }
    }
  }

  #find(filter: string): Node<V> | undefined {
    let node: Node<V> | undefined = this.#root;
    let start = 0;
    for (;;) {
      let end = filter.indexOf("/", start);
      if (end === -1) end = filter.length;
      node = node.child(filter.slice(start, end));
      if (node === undefined || end === filter.length) return node;
      start = end + 1;
    }
  }

  #prune(node: Node<V>): void {
    let current = node;
    while (current.parent !== undefined && current.isEmpty()) {
      const parent: Node<V> = current.parent;
      if (current === parent.plus) parent.plus = undefined;
      else if (current === parent.hash) parent.hash = undefined;
      else if (parent.children !== undefined) {
        parent.children.delete(current.level);
        if (parent.children.size === 0) parent.children = undefined;
      }
      current = parent;
    }
  }
}

/** Calls `fn` for every entry of `node`. */
function emit<V>(
  node: Node<V>,
  fn: (value: V, key: string, filter: string) => void,
): void {
  const one = node.oneKey;
  if (one !== undefined) {
    fn(node.oneValue as V, one, node.filter);
    return;
  }
  const entries = node.entries;
  if (entries === undefined) return;
  const filter = node.filter;
  for (const [key, value] of entries) fn(value, key, filter);
}

/**
 * Matches the topic level that starts at `start` (which may be empty) against
 * the children of `node`.
 */
function walk<V>(
  node: Node<V>,
  topic: string,
  start: number,
  fn: (value: V, key: string, filter: string) => void,
): void {
  // "#" matches this level and everything after it.
  if (node.hash !== undefined) emit(node.hash, fn);
  let end = topic.indexOf("/", start);
  if (end === -1) end = topic.length;
  if (node.plus !== undefined) visit(node.plus, topic, end, fn);
  if (node.children !== undefined) {
    const child = node.children.get(topic.slice(start, end));
    if (child !== undefined) visit(child, topic, end, fn);
  }
}

/** Continues the match in `node`, which matched the level ending at `end`. */
function visit<V>(
  node: Node<V>,
  topic: string,
  end: number,
  fn: (value: V, key: string, filter: string) => void,
): void {
  if (end < topic.length) {
    walk(node, topic, end + 1, fn);
    return;
  }
  emit(node, fn);
  // "a/#" also matches "a" (the parent level).
  if (node.hash !== undefined) emit(node.hash, fn);
}
