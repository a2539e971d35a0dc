/**
 * Shared groups across the nodes of a cluster: which node serves a group
 * that has members on several, message by message. Private to the
 * cluster bus.
 *
 * @module
 */

import { TopicTree } from "../core/topic_tree.ts";
import { type GroupKey, groupKey, type RemoteInterest } from "./_interest.ts";

export class SharedGroups {
  /** This node's shared groups with members: share name under filter. */
  readonly #local: TopicTree<true> = new TopicTree();
  /** Round robin turns of groups across nodes. */
  readonly #turns: Map<GroupKey, number> = new Map();

  /** A group has members on this node. */
  add(shareName: string, topicFilter: string): void {
    this.#local.add(topicFilter, shareName, true);
  }

  /** A group has no members left on this node. */
  remove(shareName: string, topicFilter: string): void {
    this.#local.remove(topicFilter, shareName);
  }

  /**
   * Picks, for each shared group that matches a topic and has members on
   * another node, the node that serves it this time (round robin over the
   * nodes with members), and adds those nodes to `targets`. `undefined`
   * when no group spans nodes: every node then serves its own groups.
   *
   * @param topic The message's topic.
   * @param targets The nodes the message goes to, added to.
   * @param remote The other nodes' interest.
   * @param self This node's id.
   * @returns The groups each node serves, by node id.
   */
  assign(
    topic: string,
    targets: Set<string>,
    remote: RemoteInterest,
    self: string,
  ): Map<string, GroupKey[]> | undefined {
    if (!remote.hasGroups) return undefined;
    const groups = new Map<GroupKey, string[]>();
    remote.matchGroups(topic, groups);
    if (groups.size === 0) return undefined;
    this.#local.match(topic, (_value, share, filter) => {
      groups.get(groupKey(share, filter))?.push(self);
    });
    const assigned = new Map<string, GroupKey[]>();
    for (const [key, nodes] of groups) {
      // The same order on every call: a stable round robin.
      nodes.sort();
      const turn = this.#turns.get(key) ?? 0;
      this.#turns.set(key, turn + 1 >= 0x40000000 ? 0 : turn + 1);
      const chosen = nodes[turn % nodes.length]!;
      const list = assigned.get(chosen);
      if (list === undefined) assigned.set(chosen, [key]);
      else list.push(key);
      if (chosen !== self) targets.add(chosen);
    }
    // A group with members here only is served here.
    this.#local.match(topic, (_value, share, filter) => {
      const key = groupKey(share, filter);
      if (groups.has(key)) return;
      const list = assigned.get(self);
      if (list === undefined) assigned.set(self, [key]);
      else list.push(key);
    });
    return assigned;
  }
}
