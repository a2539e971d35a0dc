/**
 * The subscription index: which session subscribes to what. It keeps the
 * topic tree that the router walks, the shared subscription groups with
 * their turn counters, and each session's own list of filters, and writes
 * every change to the store. It alone builds and takes apart the keys of
 * shared subscriptions.
 *
 * @module
 */

import { parseSharedSubscription } from "../../packets/topic.ts";
import type { Metrics } from "./metrics.ts";
import type { Bus, Store } from "./ports.ts";
import type { Session, SubscriptionRecord } from "./session.ts";
import { TopicTree } from "./topic_tree.ts";
import { SharedGroups } from "./_shared_groups.ts";

/** What the index needs around it. */
export interface SubscriptionIndexContext {
  readonly store: Store;
  readonly bus: Bus;
  readonly metrics: Metrics;
}

/**
 * Every subscription of every session, by topic filter. A plain
 * subscription's tree entry is keyed by its client id; a shared one's
 * (`$share/{name}/{filter}`) sits under its filter, keyed by share name and
 * client id, and its record carries `shareName`.
 */
export class SubscriptionIndex {
  readonly #tree: TopicTree<SubscriptionRecord> = new TopicTree();
  /** Next member to pick, per shared subscription group with members. */
  readonly #groups: SharedGroups = new SharedGroups();
  /**
   * Watchers per filter (see `interest`). With the filters of the tree, they
   * are the interest the bus hears of, at the first and the last.
   */
  readonly #watched: Map<string, number> = new Map();
  readonly #context: SubscriptionIndexContext;

  constructor(context: SubscriptionIndexContext) {
    this.#context = context;
  }

  /** The number of subscriptions of every session. */
  get size(): number {
    return this.#tree.size;
  }

  /**
   * Adds or replaces a subscription of a session.
   *
   * @param session The subscriber.
   * @param record The subscription, with its full topic filter
   * (`$share/{name}/{filter}` for a shared one).
   * @returns Whether the filter is new for the session.
   */
  subscribe(session: Session, record: SubscriptionRecord): boolean {
    const full = record.topicFilter;
    const [stored, isNew] = this.#add(session, full, record);
    if (session.stored) {
      this.#context.store.saveSubscription(session.clientId, full, stored);
    }
    return isNew;
  }

  /**
   * Puts back a subscription read from the store, without writing it.
   *
   * @param session The subscriber.
   * @param full Its full topic filter.
   * @param record The subscription as stored.
   */
  restore(session: Session, full: string, record: SubscriptionRecord): void {
    this.#add(session, full, { ...record, topicFilter: full });
  }

  /**
   * Adds a subscription; returns the record kept (filter and share name
   * split) and whether the filter is new for the session.
   */
  #add(
    session: Session,
    full: string,
    record: SubscriptionRecord,
  ): [SubscriptionRecord, boolean] {
    const shared = parseSharedSubscription(full);
    const stored: SubscriptionRecord = shared === undefined ? record : {
      ...record,
      topicFilter: shared.topicFilter,
      shareName: shared.shareName,
    };
    const isNew = !session.subscriptions.has(full);
    session.subscriptions.set(full, stored);
    const filter = stored.topicFilter;
    const added = shared === undefined
      ? this.#tree.add(filter, session.clientId, stored)
      : this.#tree.add(
        filter,
        treeKey(session.clientId, shared.shareName),
        stored,
      );
    if (added) {
      if (shared !== undefined) {
        if (this.#groups.join(groupKey(shared.shareName, filter))) {
          this.#context.bus.addShareGroup?.(shared.shareName, filter);
        }
      }
      // The filter's first subscription, unless a watcher was there first.
      if (!this.#watched.has(filter) && this.#tree.count(filter) === 1) {
        this.#context.bus.addInterest(filter);
      }
    }
    if (isNew) this.#context.metrics.subscriptionAdded();
    return [stored, isNew];
  }

  /**
   * Removes a subscription of a session.
   *
   * @param session The subscriber.
   * @param full The full topic filter it subscribed with.
   * @returns Whether it existed.
   */
  unsubscribe(session: Session, full: string): boolean {
    if (!session.subscriptions.delete(full)) return false;
    this.#remove(session.clientId, full);
    if (session.stored) {
      this.#context.store.deleteSubscription(session.clientId, full);
    }
    return true;
  }

  /**
   * Removes every subscription of a session that ends (the store forgets
   * them with the session).
   */
  removeAll(session: Session): void {
    if (session.subscriptionCount === 0) return;
    for (const [full] of session.subscriptionEntries()) {
      this.#remove(session.clientId, full);
    }
    session.subscriptions.clear();
  }

  #remove(clientId: string, full: string): void {
    const shared = parseSharedSubscription(full);
    if (shared === undefined) {
      if (this.#tree.remove(full, clientId)) this.#lostOne(full);
    } else if (
      this.#tree.remove(shared.topicFilter, treeKey(clientId, shared.shareName))
    ) {
      if (this.#groups.leave(groupKey(shared.shareName, shared.topicFilter))) {
        this.#context.bus.removeShareGroup?.(
          shared.shareName,
          shared.topicFilter,
        );
      }
      this.#lostOne(shared.topicFilter);
    }
    this.#context.metrics.subscriptionRemoved();
  }

  /** After a subscription of `filter` went: tells the bus if it was the last. */
  #lostOne(filter: string): void {
    if (!this.#watched.has(filter) && this.#tree.count(filter) === 0) {
      this.#context.bus.removeInterest(filter);
    }
  }

  /**
   * Counts an interest in a filter that is not a subscription (a watcher of
   * routed messages), with the subscriptions of that filter: the bus hears
   * of the first and the last.
   *
   * @param filter A topic filter without a `$share` prefix.
   * @param delta 1 when the interest comes, -1 when it goes.
   */
  interest(filter: string, delta: 1 | -1): void {
    const count = (this.#watched.get(filter) ?? 0) + delta;
    if (count > 0) {
      this.#watched.set(filter, count);
      if (count === 1 && delta === 1 && this.#tree.count(filter) === 0) {
        this.#context.bus.addInterest(filter);
      }
    } else {
      this.#watched.delete(filter);
      if (this.#tree.count(filter) === 0) {
        this.#context.bus.removeInterest(filter);
      }
    }
  }

  /**
   * Calls `fn` for each subscription whose filter matches a topic, with its
   * tree key: give both to {@linkcode subscriberOf} and, for a shared one
   * (`record.shareName` set), the record to {@linkcode sharedGroupOf}.
   *
   * @param topic A topic name.
   * @param fn Called once per matching subscription; must not change the
   * index.
   */
  match(
    topic: string,
    fn: (record: SubscriptionRecord, key: string) => void,
  ): void {
    this.#tree.match(topic, fn);
  }

  /**
   * The turn of a shared subscription group, then advances it: pick
   * `turn % members`.
   *
   * @param group The group, from {@linkcode sharedGroupOf}.
   */
  nextTurn(group: string): number {
    return this.#groups.nextTurn(group);
  }

  /**
   * Every subscription that matches a topic, as its client subscribed: the
   * client id and the full filter.
   *
   * @param topic A topic name.
   * @returns One entry per matching subscription.
   */
  matching(
    topic: string,
  ): { clientId: string; topicFilter: string; record: SubscriptionRecord }[] {
    const out: {
      clientId: string;
      topicFilter: string;
      record: SubscriptionRecord;
    }[] = [];
    this.#tree.match(topic, (record, key) => {
      out.push({
        clientId: subscriberOf(record, key),
        topicFilter: fullFilterOf(record),
        record,
      });
    });
    return out;
  }
}

/** Tree key of a shared subscription: client ids never hold U+0000. */
function treeKey(clientId: string, shareName: string): string {
  return `${shareName}\u0000${clientId}`;
}

/** Key of a shared subscription group. */
function groupKey(shareName: string, topicFilter: string): string {
  return `${shareName}\u0000${topicFilter}`;
}

/**
 * The client id of a matching subscription, from its record and tree key
 * (see {@linkcode SubscriptionIndex.match}).
 *
 * @param record The subscription.
 * @param key Its tree key.
 * @returns The subscriber's client id.
 */
export function subscriberOf(record: SubscriptionRecord, key: string): string {
  return record.shareName === undefined
    ? key
    : key.slice(key.indexOf("\u0000") + 1);
}

/**
 * The group of a shared subscription (share name and filter), for
 * {@linkcode SubscriptionIndex.nextTurn}.
 *
 * @param record A subscription with `shareName`.
 * @returns The group key.
 */
export function sharedGroupOf(record: SubscriptionRecord): string {
  return groupKey(record.shareName!, record.topicFilter);
}

/**
 * The filter a subscription was made with: `$share/{name}/{filter}` for a
 * shared one.
 *
 * @param record The subscription as the index keeps it.
 * @returns Its full topic filter.
 */
export function fullFilterOf(record: SubscriptionRecord): string {
  return record.shareName === undefined
    ? record.topicFilter
    : `$share/${record.shareName}/${record.topicFilter}`;
}

/**
 * Whether a topic filter is a shared subscription's (`$share/...`).
 *
 * @param filter A full topic filter.
 */
export function isSharedFilter(filter: string): boolean {
  return parseSharedSubscription(filter) !== undefined;
}
