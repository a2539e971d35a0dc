/**
 * What the other nodes of a cluster subscribe to: each node's topic
 * filters, in one topic tree, to find the nodes a message goes to.
 * Private to the cluster bus.
 *
 * @module
 */

import { TopicTree } from "../core/topic_tree.ts";

/** The topic filters of every other node. */
export class RemoteInterest {
  readonly #tree: TopicTree<true> = new TopicTree();
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
    this.#tree.add(filter, nodeId, true);
  }

  /** A node's last subscription to a filter went. */
  remove(nodeId: string, filter: string): void {
    const filters = this.#byNode.get(nodeId);
    if (filters === undefined || !filters.delete(filter)) return;
    this.#tree.remove(filter, nodeId);
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
    for (const filter of filters) this.#tree.remove(filter, nodeId);
    this.#byNode.delete(nodeId);
  }

  /** The nodes with a filter that matches a topic, each once. */
  match(topic: string): Set<string> {
    const nodes = new Set<string>();
    this.#tree.match(topic, (_value, nodeId) => nodes.add(nodeId));
    return nodes;
  }
}
