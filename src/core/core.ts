/**
 * The core of one server, assembled: the session registry, the
 * subscription index, the router and the retained messages, over a store
 * and a bus. The protocol layer drives it; it does no I/O and keeps no
 * timer: the server calls {@linkcode Core.sweep}.
 *
 * @module
 */

import type { ClientInfo, SessionTerminatedReason } from "../types.ts";
import type { Message } from "../message.ts";
import type { Logger } from "../observe/logger.ts";
import { LocalBus } from "./bus.ts";
import { Metrics } from "./metrics.ts";
import type { CoreOptions } from "./options.ts";
import type { Bus, CoreHooks, Store, StoredState } from "./ports.ts";
import { RetainedStore } from "./retained.ts";
import { Router } from "./router.ts";
import { SessionRegistry } from "./session_registry.ts";
import { SubscriptionIndex } from "./subscription_index.ts";
import { Watchers } from "./watchers.ts";

/** What a core is made of. */
export interface CoreConfig {
  /** Limits and policies, every default filled in. */
  readonly options: CoreOptions;
  /** The hooks, as the core asks them. */
  readonly hooks: CoreHooks;
  /** Where it reports what it does. */
  readonly logger: Logger;
  /** The server clock, in milliseconds. */
  readonly now: () => number;
  /** Where state that must survive a restart goes. */
  readonly store: Store;
  /** How messages reach other nodes; this node only by default. */
  readonly bus?: Bus;
}

/** The broker core: sessions, subscriptions, routing, retained messages. */
export class Core {
  readonly options: CoreOptions;
  readonly hooks: CoreHooks;
  readonly logger: Logger;
  readonly now: () => number;
  readonly metrics: Metrics = new Metrics();
  readonly store: Store;
  readonly bus: Bus;
  readonly retained: RetainedStore;
  readonly subscriptions: SubscriptionIndex;
  readonly sessions: SessionRegistry;
  readonly router: Router;
  readonly watchers: Watchers;

  constructor(config: CoreConfig) {
    const { options, hooks, logger, now, store } = config;
    this.options = options;
    this.hooks = hooks;
    this.logger = logger;
    this.now = now;
    this.store = store;
    const bus = this.bus = config.bus ?? new LocalBus();
    const metrics = this.metrics;
    this.retained = new RetainedStore({
      now,
      maxMessages: options.maxRetainedMessages,
      maxBytes: options.maxRetainedBytes,
      logger,
      store,
    });
    const subscriptions = this.subscriptions = new SubscriptionIndex({
      store,
      bus,
      metrics,
    });
    this.watchers = new Watchers({
      interest: (filter, delta) => subscriptions.interest(filter, delta),
      logger,
    });
    // The registry makes sessions with the router as their context, and
    // the router finds sessions in the registry: each reaches the other
    // through this core once both exist.
    const sessions = this.sessions = new SessionRegistry({
      options,
      logger,
      now,
      metrics,
      store,
      bus,
      subscriptions: this.subscriptions,
      get sessionContext() {
        return router;
      },
      publishWill: (client, message) => this.#publishWillSoon(client, message),
      sessionTerminated: (clientId, reason) =>
        this.#sessionTerminated(clientId, reason),
    });
    const router: Router = this.router = new Router({
      options,
      hooks,
      logger,
      now,
      metrics,
      store,
      bus,
      retained: this.retained,
      subscriptions: this.subscriptions,
      sessions,
      watchers: this.watchers,
    });
  }

  /**
   * Reads back what the store kept (sessions offline, their subscriptions,
   * queues and messages in flight; retained messages) and joins the bus.
   * Call it once, before the first connection.
   *
   * @returns A promise when the store or the bus answers with one.
   */
  load(): Promise<void> | undefined {
    const attached = this.bus.attach(this.router);
    const state = this.store.load();
    if (!(attached instanceof Promise) && !(state instanceof Promise)) {
      this.#restore(state);
      return undefined;
    }
    return Promise.all([attached, state]).then(([, s]) => this.#restore(s));
  }

  #restore(state: StoredState): void {
    const now = this.now();
    for (const message of state.retained) this.retained.restore(message);
    for (const stored of state.sessions) {
      if (this.sessions.get(stored.session.clientId) !== undefined) continue;
      // Not counted as created: a client made it before the restart.
      this.sessions.restore(stored, now);
    }
    // Wills of clients connected at the crash, once every subscriber is back.
    this.sessions.restored();
    if (state.sessions.length > 0 || state.retained.length > 0) {
      this.logger.info("state loaded", {
        sessions: state.sessions.length,
        retained: state.retained.length,
      });
    }
  }

  /**
   * The durability barrier before a client is told: what the store wrote
   * and what the bus sent to other nodes so far. `undefined` when nothing
   * waits.
   */
  flush(): Promise<void> | undefined {
    const stored = this.store.flush();
    const sent = this.bus.flush?.();
    if (sent === undefined) return stored;
    if (stored === undefined) return sent;
    return Promise.all([stored, sent]).then(() => {});
  }

  /**
   * Housekeeping, called by the server's timer: publishes delayed wills
   * that are due, ends expired sessions, releases publishers held too long
   * and logs drops not yet logged.
   */
  sweep(): void {
    const now = this.now();
    this.router.sweep(now);
    this.sessions.sweep(now);
  }

  /**
   * Publishes a will without waiting: through the publish hooks, then the
   * router. A failure is logged, it never becomes an unhandled rejection.
   */
  #publishWillSoon(client: ClientInfo, message: Message): void {
    this.#publishWill(client, message).catch((error: unknown) => {
      this.logger.error("will not published", {
        client_id: client.clientId,
        topic: message.topic.length > 256
          ? `${message.topic.slice(0, 256)}...`
          : message.topic,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }

  async #publishWill(client: ClientInfo, message: Message): Promise<void> {
    if (this.hooks.hasCheckPublish) {
      const verdict = await this.hooks.checkPublish(client, {
        type: "publish",
        topic: message.topic,
        payload: message.payload,
        qos: message.qos,
        retain: message.retain,
        dup: false,
        ...(message.qos > 0 ? { packetId: 1 } : {}),
      });
      if (verdict !== undefined) {
        this.router.dropped(undefined, message, "not_authorized");
        return;
      }
    }
    this.logger.debug("will published", {
      client_id: client.clientId,
      topic: message.topic,
    });
    await this.router.publish(message, client);
  }

  /**
   * Makes what was written durable and leaves the bus; the server calls it
   * once its connections have closed. The store stays open: it belongs to
   * whoever made it.
   */
  async close(): Promise<void> {
    await this.store.flush();
    await this.bus.close();
  }

  #sessionTerminated(clientId: string, reason: SessionTerminatedReason): void {
    this.hooks.notify("onSessionTerminated", clientId, reason);
  }
}
