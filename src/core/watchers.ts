/**
 * Watchers of routed messages: observers keyed by a topic filter that see
 * each message this node routes, without being subscribers (no session, no
 * queue, no QoS flow, no effect on delivery). The HTTP API's live "watch"
 * is one. Routing pays one size check while none is registered.
 *
 * @module
 */

import type { Message } from "../message.ts";
import type { Logger } from "../observe/logger.ts";
import { TopicTree } from "./topic_tree.ts";

/** Sees one routed message; it must not block, and cannot change routing. */
export type Watcher = (message: Message) => void;

/** What {@linkcode Watchers} needs around it. */
export interface WatchersContext {
  /**
   * Counts an interest in a filter (+1 when a watcher comes, -1 when it
   * goes), so that the bus brings this node what the filter matches.
   */
  readonly interest: (topicFilter: string, delta: 1 | -1) => void;
  /** Where a watcher that throws is reported. */
  readonly logger: Logger;
}

/**
 * The watchers of one node, by topic filter.
 *
 * @example Watch a filter, then stop
 * ```ts
 * import { Watchers } from "./watchers.ts";
 * import { silentLogger } from "../observe/logger.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const watchers = new Watchers({ interest() {}, logger: silentLogger() });
 * const seen: string[] = [];
 * const stop = watchers.add("home/+", (m) => seen.push(m.topic));
 * const message = (topic: string) => ({
 *   topic, payload: new Uint8Array(), qos: 0 as const, retain: false,
 *   createdAt: 0,
 * });
 * watchers.notify(message("home/kitchen"));
 * watchers.notify(message("garden"));
 * stop();
 * watchers.notify(message("home/hall"));
 * deepStrictEqual(seen, ["home/kitchen"]);
 * ```
 */
export class Watchers {
  readonly #tree: TopicTree<Watcher> = new TopicTree();
  readonly #context: WatchersContext;
  #next = 0;

  constructor(context: WatchersContext) {
    this.#context = context;
  }

  /** The number of watchers. */
  get size(): number {
    return this.#tree.size;
  }

  /**
   * Adds a watcher of a filter.
   *
   * @param topicFilter A valid topic filter, not a shared one.
   * @param watcher Called with each routed message the filter matches.
   * @returns A function that removes the watcher; calling it again does
   * nothing.
   */
  add(topicFilter: string, watcher: Watcher): () => void {
    const key = String(this.#next++);
    this.#tree.add(topicFilter, key, watcher);
    this.#context.interest(topicFilter, 1);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.#tree.remove(topicFilter, key);
      this.#context.interest(topicFilter, -1);
    };
  }

  /**
   * Shows a routed message to the watchers whose filter matches its topic.
   * A watcher may add or remove watchers; one that throws is logged and the
   * others still see the message.
   *
   * @param message The message being routed.
   */
  notify(message: Message): void {
    if (this.#tree.size === 0) return;
    const matched: Watcher[] = [];
    this.#tree.match(message.topic, (watcher) => matched.push(watcher));
    for (const watcher of matched) {
      try {
        watcher(message);
      } catch (error) {
        this.#context.logger.error("watcher failed", {
          topic: message.topic,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
}
