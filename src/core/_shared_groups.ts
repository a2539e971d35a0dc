/**
 * The round-robin turns of shared subscription groups.
 *
 * @module
 */

/** One group: how many members it has and whose turn is next. */
interface Group {
  members: number;
  turn: number;
}

/**
 * Whose turn it is in each shared subscription group. A group is kept only
 * while it has members, so subscriptions to ever new group names do not grow
 * it: the turn of a group starts again at 0 once its last member leaves.
 *
 * @example Take turns, then forget an empty group
 * ```ts
 * import { SharedGroups } from "./_shared_groups.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * const groups = new SharedGroups();
 * const key = "a group";
 * groups.join(key);
 * groups.join(key);
 * strictEqual(groups.nextTurn(key), 0);
 * strictEqual(groups.nextTurn(key), 1);
 * groups.leave(key);
 * groups.leave(key);
 * strictEqual(groups.size, 0);
 * ```
 */
export class SharedGroups {
  #groups: Map<string, Group> = new Map();

  /** The number of groups that have members. */
  get size(): number {
    return this.#groups.size;
  }

  /**
   * Counts a new member of a group.
   *
   * @param key The group's key (the subscription index makes it).
   * @returns Whether it is the group's first member.
   */
  join(key: string): boolean {
    const group = this.#groups.get(key);
    if (group === undefined) {
      this.#groups.set(key, { members: 1, turn: 0 });
      return true;
    }
    group.members++;
    return false;
  }

  /**
   * Counts a member gone; the group is forgotten with its last member.
   *
   * @param key The group's key (the subscription index makes it).
   * @returns Whether it was the group's last member.
   */
  leave(key: string): boolean {
    const group = this.#groups.get(key);
    if (group === undefined) return false;
    if (--group.members > 0) return false;
    this.#groups.delete(key);
    return true;
  }

  /**
   * The group's turn counter, then advances it. Pick `turn % candidates`.
   *
   * @param key The group's key (the subscription index makes it).
   * @returns A counter that grows by one per call (it wraps at 2^30); 0 for
   * a group without members.
   */
  nextTurn(key: string): number {
    const group = this.#groups.get(key);
    if (group === undefined) return 0;
    const turn = group.turn;
    group.turn = turn + 1 >= 0x40000000 ? 0 : turn + 1;
    return turn;
  }
}
