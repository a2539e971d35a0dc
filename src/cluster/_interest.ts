/**
 * What the other nodes of a cluster subscribe to: each node's topic
 * filters, in one topic tree, to find the nodes a message goes to.
 * Private to the cluster bus.
 *
 * @module
 */

import { TopicTree } from "../core/topic_tree.ts";

/** A shared group's key: its share name and filter (see `groupKey`). */
export type GroupKey = string;

/** The key of the shared group `$share/{shareName}/{topicFilter}`. */
export function groupKey(shareName: string, topicFilter: string): GroupKey {
  return `${shareName}\u0000${topicFilter}`;
}

const SHARE = "$share/";

/**
 * The topic filters of every other node: plain ones, and shared groups with
 * members there (`$share/{name}/{filter}` entries).
 */
export class RemoteInterest {
  readonly #tree: TopicTree<true> = new TopicTree();
  /** Shared groups: under the filter, keyed by node and share name. */
  readonly #groups: TopicTree<[node: string, share: string]> = new TopicTree();
  readonly #byNode: Map<string, Set<string>> = new Map();

  /** The nodes with at least one filter. */
  get nodes(): IterableIterator<string> {
    return this.#byNode.keys();
  }

  /** How many filters a node has. */
  count(nodeId: string): number {
    return this.#byNode.get(nodeId)?.size ?? 0;
  }

  /** A node subscribes to a filter. */
  add(nodeId: string, filter: string): void {
    let filters = this.#byNode.get(nodeId);
    if (filters === undefined) {
      filters = new Set();
      this.#byNode.set(nodeId, filters);
    }
    if (filters.has(filter)) return;
    filters.add(filter);
    const group = parseGroup(filter);
    if (group === undefined) this.#tree.add(filter, nodeId, true);
    else {
      this.#groups.add(group[1], `${nodeId}\u0000${group[0]}`, [
        nodeId,
        group[0],
      ]);
    }
  }

  /** A node's last subscription to a filter went. */
  remove(nodeId: string, filter: string): void {
    const filters = this.#byNode.get(nodeId);
    if (filters === undefined || !filters.delete(filter)) return;
    this.#removeEntry(nodeId, filter);
    if (filters.size === 0) this.#byNode.delete(nodeId);
  }

  /** Sets a node's filters to exactly these. */
  replace(nodeId: string, filters: Iterable<string>): void {
    this.forget(nodeId);
    for (const filter of filters) this.add(nodeId, filter);
  }

  /** Forgets a node. */
  forget(nodeId: string): void {
    const filters = this.#byNode.get(nodeId);
    if (filters === undefined) return;
    for (const filter of filters) this.#removeEntry(nodeId, filter);
    this.#byNode.delete(nodeId);
  }

  #removeEntry(nodeId: string, filter: string): void {
    const group = parseGroup(filter);
    if (group === undefined) this.#tree.remove(filter, nodeId);
    else this.#groups.remove(group[1], `${nodeId}\u0000${group[0]}`);
  }

  /** Whether any other node has members of a shared group. */
  get hasGroups(): boolean {
    return this.#groups.size > 0;
  }

  /**
   * The shared groups with members on other nodes that match a topic,
   * added to `into` with their nodes.
   */
  matchGroups(topic: string, into: Map<GroupKey, string[]>): void {
    this.#groups.match(topic, ([nodeId, share], _key, filter) => {
      const key = groupKey(share, filter);
      const nodes = into.get(key);
      if (nodes === undefined) into.set(key, [nodeId]);
      else nodes.push(nodeId);
    });
  }

  /** Adds to `nodes` the nodes with a plain filter that matches a topic. */
  match(topic: string, nodes: Set<string>): void {
    this.#nodes = nodes;
    this.#tree.match(topic, this.#addNode);
    this.#nodes = undefined;
  }

  /** Where `match` adds the nodes it finds. */
  #nodes: Set<string> | undefined;
  readonly #addNode = (_value: unknown, nodeId: string): void => {
    this.#nodes!.add(nodeId);
  };
}

/** `[shareName, filter]` of a `$share/{name}/{filter}` entry, else none. */
function parseGroup(entry: string): [string, string] | undefined {
  if (!entry.startsWith(SHARE)) return undefined;
  const slash = entry.indexOf("/", SHARE.length);
  if (slash === -1) return undefined;
  return [entry.slice(SHARE.length, slash), entry.slice(slash + 1)];
}
