/**
 * The router: takes a message (a client's PUBLISH, a will, the server's
 * own), runs the transform hooks, retains it, hands it to the bus, and
 * delivers what the bus brings back to every matching session at the
 * right QoS, once per client, shared groups in turn. It reports what it
 * cannot deliver, and with `queueFull` "backpressure" holds a publisher
 * while the queues it fills are full.
 *
 * @module
 */

import type { QoS } from "../../packets/types.ts";
import type { ClientInfo, DropReason } from "../types.ts";
import type { Message } from "../message.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "./metrics.ts";
import type { CoreOptions } from "./options.ts";
import type {
  Bus,
  BusNode,
  CoreHooks,
  SharedGroupFilter,
  Store,
  StoredSession,
} from "./ports.ts";
import type { RetainedStore } from "./retained.ts";
import type { Session, SessionContext, SubscriptionRecord } from "./session.ts";
import type { SessionRegistry } from "./session_registry.ts";
import type { Watchers } from "./watchers.ts";
import {
  sharedGroupOf,
  subscriberOf,
  type SubscriptionIndex,
} from "./subscription_index.ts";
import { isSysTopic } from "./topic_levels.ts";
import { whenReady } from "./awaitable.ts";

/** Milliseconds between two "messages dropped" warnings about one client. */
export const DROP_LOG_INTERVAL = 10_000;
/**
 * Milliseconds a publisher waits at most for a subscriber's full queue to
 * have room (`queueFull` "backpressure"). A subscriber that makes no room in
 * that time is stalled: its messages are dropped, without waiting, until it
 * has room again, so one client that never acknowledges cannot stop others.
 */
export const BACKPRESSURE_LIMIT = 1000;

/** What the router needs around it. */
export interface RouterContext {
  readonly options: CoreOptions;
  readonly hooks: CoreHooks;
  readonly logger: Logger;
  readonly now: () => number;
  readonly metrics: Metrics;
  readonly store: Store;
  readonly bus: Bus;
  readonly retained: RetainedStore;
  readonly subscriptions: SubscriptionIndex;
  readonly sessions: SessionRegistry;
  /** Observers that see each routed message (the API's watch). */
  readonly watchers: Watchers;
}

/** A publisher waiting for subscribers' queues to have room. */
interface Hold {
  readonly sessions: Session[];
  readonly since: number;
  readonly release: () => void;
}

/** Drops of one client not yet logged, and when it was last logged. */
interface DropLog {
  loggedAt: number;
  count: number;
  byReason: Partial<Record<DropReason, number>>;
}

/** Routes messages to sessions; what sessions report comes back here. */
export class Router implements SessionContext, BusNode {
  readonly now: () => number;
  readonly store: Store;
  readonly #context: RouterContext;
  readonly #options: CoreOptions;
  /** Routings under way (they nest when a hook publishes). */
  #routing = 0;
  /** Called when the outermost routing ends. */
  #onRoutingEnd: (() => void) | undefined;
  /**
   * The walk of the last routing, kept to be reused by the next one (a
   * nested routing makes its own).
   */
  #spareWalk: RouteWalk | undefined;
  /** What the current subscription walk collects into. */
  #walk: RouteWalk | undefined;
  /** The walk whose matches are being delivered (see `#deliverBest`). */
  #delivering: RouteWalk | undefined;
  /** The walk's callback, made once. */
  readonly #collect = (record: SubscriptionRecord, key: string): void => {
    const walk = this.#walk!;
    if (record.shareName !== undefined) {
      walk.shared ??= new Map();
      const group = sharedGroupOf(record);
      let candidates = walk.shared.get(group);
      if (candidates === undefined) walk.shared.set(group, candidates = []);
      candidates.push({ clientId: subscriberOf(record, key), record });
      return;
    }
    // [MQTT-3.8.3-3] No Local: not back to the publisher.
    if (record.noLocal && key === walk.publisher) return;
    if (record.checkDeliver === true) {
      // Checked once the walk is over (see `#checkDeliveries`).
      (walk.checked ??= []).push(key, record);
      return;
    }
    mergeMatch(walk.best, key, record);
  };
  /** Bytes queued by every session together (see `queuedSize`). */
  #queuedBytes = 0;
  /**
   * While a client's PUBLISH is routed with `queueFull` "backpressure": the
   * online sessions whose full queue held one of its messages over the
   * limit. The publisher waits for them before it is read again.
   */
  #held: Session[] | undefined;
  /** Whether the routing under way may hold messages over (see `#held`). */
  #holding = false;
  /** Publishers waiting for room, released by the sweep at the limit. */
  readonly #holds: Set<Hold> = new Set();
  /** Drop warnings per subscriber client id, to log one line per interval. */
  readonly #dropLogs: Map<string, DropLog> = new Map();

  constructor(context: RouterContext) {
    this.#context = context;
    this.#options = context.options;
    this.now = context.now;
    this.store = context.store;
  }

  // -- what sessions ask (SessionContext) -----------------------------------

  get maxInflight(): number {
    return this.#options.maxInflight;
  }

  get queueQoS0(): boolean {
    return this.#options.queueQoS0Messages;
  }

  /** Bytes queued by every session together, under `maxQueuedMemory`. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  canQueue(bytes: number): boolean {
    return this.#queuedBytes + bytes <= this.#options.maxQueuedMemory;
  }

  queuedBytesChanged(delta: number): void {
    this.#queuedBytes += delta;
  }

  holdOver(session: Session): boolean {
    if (!this.#holding || session.stalled) return false;
    const held = this.#held ??= [];
    if (!held.includes(session)) held.push(session);
    return true;
  }

  storeReadFailed(clientId: string, error: unknown): void {
    this.#context.logger.error("store read failed", {
      client_id: clientId,
      error: String(error),
    });
  }

  /** Reports a message written to a subscriber. */
  delivered(session: Session, message: Message): void {
    const hooks = this.#context.hooks;
    if (hooks.observesDelivered) {
      const client = this.#context.sessions.link(session.clientId)?.client;
      if (client !== undefined) hooks.notify("onDelivered", client, message);
    }
  }

  /**
   * Reports an undelivered message: counts it by reason, tells the hooks,
   * and for a subscriber's message logs a warning, at most one line per
   * client per `DROP_LOG_INTERVAL` with the count since the last line.
   */
  dropped(
    clientId: string | undefined,
    message: Message,
    reason: DropReason,
  ): void {
    this.#context.metrics.messageDropped(message.qos, reason);
    if (clientId !== undefined) this.#logDrop(clientId, reason);
    const hooks = this.#context.hooks;
    if (hooks.observesDropped) {
      hooks.notify("onMessageDropped", clientId, message, reason);
    }
  }

  // -- routing -----------------------------------------------------------------

  /**
   * Whether the routing under way delivers the message to more than one
   * client: what is made for one delivery may be worth sharing.
   */
  get fanningOut(): boolean {
    const walk = this.#delivering;
    return walk !== undefined &&
      walk.best.size + (walk.shared?.size ?? 0) > 1;
  }

  /**
   * Has `fn` called each time the outermost routing ends (the protocol
   * layer lets go of what it shared between the deliveries of one message).
   */
  onRoutingEnd(fn: () => void): void {
    this.#onRoutingEnd = fn;
  }

  /**
   * Routes a message: the transform hooks first, then the bus, which brings
   * it back to {@linkcode Router.routeLocal} (and to other nodes). Returns a
   * promise only when a hook answered with one, or when `pausable` (a
   * client's PUBLISH, whose connection is not read while the promise is
   * pending) and, with `queueFull` "backpressure", an online subscriber's
   * queue was full: the promise then resolves once those queues have room.
   */
  publish(
    message: Message,
    client: ClientInfo | undefined,
    pausable = false,
  ): Promise<void> | undefined {
    const { metrics, hooks, bus } = this.#context;
    if (client === undefined && isSysTopic(message.topic)) {
      // The server's own statistics are not messages from clients.
      metrics.sysMessagePublished();
    } else {
      metrics.messageReceived(message.qos, message.payload.length);
    }
    const hold = pausable && this.#options.queueFull === "backpressure";
    if (!hooks.hasTransform) return bus.publish(message, hold);
    return whenReady(
      hooks.transformMessage(client, message),
      this.#afterTransform,
      message,
      hold,
    );
  }

  /** Routes what the transform hooks made of a message, or drops it. */
  readonly #afterTransform = (
    transformed: Message | null,
    message: Message,
    hold: boolean,
  ): Promise<void> | undefined => {
    if (transformed !== null) {
      return this.#context.bus.publish(transformed, hold);
    }
    this.dropped(undefined, message, "hook");
    return undefined;
  };

  /**
   * Routes a message to this node's subscribers; with `hold`, full online
   * queues keep what they get over their limits, and the answer waits until
   * they have room.
   */
  routeLocal(
    message: Message,
    hold: boolean,
    groups?: SharedGroupFilter,
  ): Promise<void> | undefined {
    // A hook that publishes while a client's message is routed makes a
    // routing of its own, with its own holds (none unless it may hold).
    const outerHolding = this.#holding;
    const outerHeld = this.#held;
    this.#holding = hold;
    this.#held = undefined;
    let held: Session[] | undefined;
    try {
      this.#route(message, groups);
    } finally {
      // Filled by `holdOver` during the routing.
      held = this.#held as Session[] | undefined;
      this.#holding = outerHolding;
      this.#held = outerHeld;
    }
    if (held === undefined) return undefined;
    this.#context.logger.debug("publisher paused: subscriber queue full", {
      client_id: message.publisher,
      subscriber: held[0]!.clientId,
    });
    const roomMade = held.length === 1
      ? held[0]!.queueRoom()
      : Promise.all(held.map((s) => s.queueRoom())).then(() => {});
    // The sweep releases a publisher that waited too long.
    return new Promise<void>((resolve) => {
      const hold: Hold = {
        sessions: held,
        since: this.now(),
        release: () => {
          this.#holds.delete(hold);
          resolve();
        },
      };
      this.#holds.add(hold);
      roomMade.then(hold.release, hold.release);
    });
  }

  #route(message: Message, groups: SharedGroupFilter | undefined): void {
    const { retained, subscriptions, sessions, metrics, watchers } =
      this.#context;
    if (message.retain && this.#options.retainAvailable) {
      // [MQTT-3.3.1-5] [MQTT-3.3.1-10] Store, replace, or delete when empty.
      retained.set(message);
    }
    if (watchers.size > 0) watchers.notify(message);
    // One copy per client at the highest QoS of its matches, with the
    // subscription ids of every match (MQTT 5.0). The walk and its map are
    // reused from one routing to the next (a nested one makes its own).
    const walk = this.#spareWalk ?? newRouteWalk();
    this.#spareWalk = undefined;
    walk.publisher = message.publisher;
    walk.message = message;
    walk.delivered = 0;
    const best = walk.best;
    this.#walk = walk;
    subscriptions.match(message.topic, this.#collect);
    this.#walk = undefined;
    if (walk.checked !== undefined) {
      this.#checkDeliveries(walk.checked, best, message);
    }
    this.#routing++;
    const outerDelivering = this.#delivering;
    try {
      // A callback made once: no iterator or entry array per match.
      this.#delivering = walk;
      best.forEach(this.#deliverBest);
      if (walk.shared !== undefined) {
        for (const [group, candidates] of walk.shared) {
          // In a cluster, another node may serve this group this time.
          const { shareName, topicFilter } = candidates[0]!.record;
          if (groups !== undefined && !groups(shareName!, topicFilter)) {
            continue;
          }
          const chosen = this.#pickShared(group, candidates, message);
          if (chosen === undefined) {
            // No member may receive it.
            this.dropped(undefined, message, "not_authorized");
            continue;
          }
          const session = sessions.get(chosen.clientId);
          if (session === undefined) continue;
          this.#deliverMatch(session, message, chosen.record);
          walk.delivered++;
        }
      }
    } finally {
      this.#delivering = outerDelivering;
      if (--this.#routing === 0) this.#onRoutingEnd?.();
    }
    const delivered = walk.delivered;
    best.clear();
    walk.shared = undefined;
    walk.checked = undefined;
    walk.message = undefined;
    this.#spareWalk = walk;
    if (delivered === 0) metrics.messageUnrouted();
  }

  /** Delivers one client's copy of the message being routed. */
  readonly #deliverBest = (match: Match, clientId: string): void => {
    const walk = this.#delivering!;
    const session = this.#context.sessions.get(clientId);
    if (session === undefined) return;
    this.#deliverMatch(session, walk.message!, match);
    walk.delivered++;
  };

  /**
   * Adds the matches of marked subscriptions (`checkDeliver`) whose client
   * may receive the message; a client none of whose matches may is told
   * "not_authorized". The hooks are asked once per client.
   */
  #checkDeliveries(
    checked: (string | SubscriptionRecord)[],
    best: Map<string, Match>,
    message: Message,
  ): void {
    let verdicts: Map<string, boolean> | undefined;
    for (let i = 0; i < checked.length; i += 2) {
      const clientId = checked[i] as string;
      const record = checked[i + 1] as SubscriptionRecord;
      let allowed = verdicts?.get(clientId);
      if (allowed === undefined) {
        allowed = this.mayDeliver(clientId, message);
        (verdicts ??= new Map()).set(clientId, allowed);
      }
      if (allowed) mergeMatch(best, clientId, record);
    }
    for (const [clientId, allowed] of verdicts ?? []) {
      if (!allowed && !best.has(clientId)) {
        this.dropped(clientId, message, "not_authorized");
      }
    }
  }

  /**
   * Whether the `checkDeliver` hooks let a message go to a client's
   * session, asked with what its client last connected with.
   */
  mayDeliver(clientId: string, message: Message): boolean {
    const client = this.#context.sessions.get(clientId)?.client;
    return client !== undefined &&
      this.#context.hooks.mayDeliver(client, message);
  }

  /**
   * Picks a shared subscriber in turn, among the members that may receive
   * the message (marked subscriptions ask `checkDeliver`): with
   * `sharedSubscriptionOffline` "online_first", online members first, and
   * offline ones only when none is online; with "round_robin", every member
   * in turn, so an offline member's share is queued for it. `undefined`
   * when no member may receive the message.
   */
  #pickShared(
    group: string,
    candidates: SharedCandidate[],
    message: Message,
  ): SharedCandidate | undefined {
    const turn = this.#context.subscriptions.nextTurn(group);
    let allowed = candidates;
    if (candidates.some((c) => c.record.checkDeliver === true)) {
      allowed = candidates.filter((c) =>
        c.record.checkDeliver !== true || this.mayDeliver(c.clientId, message)
      );
      if (allowed.length === 0) return undefined;
    }
    if (this.#options.sharedSubscriptionOffline === "round_robin") {
      return allowed[turn % allowed.length];
    }
    const sessions = this.#context.sessions;
    const online = allowed.filter((c) => sessions.isOnline(c.clientId));
    const pool = online.length > 0 ? online : allowed;
    return pool[turn % pool.length];
  }

  #deliverMatch(session: Session, message: Message, match: Match): void {
    let ids: number[] | undefined;
    if (match instanceof MergedMatch) {
      ids = match.ids;
    } else if (match.subscriptionId !== undefined) {
      ids = [match.subscriptionId];
    }
    session.deliver({
      message,
      qos: (match.qos < message.qos ? match.qos : message.qos) as QoS,
      // [MQTT-3.3.1-9] A live delivery has RETAIN 0, unless 5.0 Retain As
      // Published asks for the flag as published.
      retain: match.retainAsPublished === true && message.retain,
      subscriptionIds: ids,
      expiresAt: this.#queueExpiry(message),
    });
  }

  // -- retained messages for a new subscription ------------------------------

  /**
   * The retained messages a new subscription gets: none for a shared one
   * [MQTT-3.8.4-...].
   */
  retainedFor(topicFilter: string, shared: boolean): Message[] {
    return shared ? [] : this.#context.retained.match(topicFilter);
  }

  /**
   * Delivers a retained message to a new subscription, with RETAIN 1
   * [MQTT-3.3.1-8], at the lower of its QoS and the granted QoS. A marked
   * subscription (`checked`) has it checked first; a message its client
   * may not receive is reported "not_authorized".
   */
  deliverRetained(
    session: Session,
    message: Message,
    granted: QoS,
    subscriptionIds: number[] | undefined,
    checked: boolean,
  ): void {
    if (checked && !this.mayDeliver(session.clientId, message)) {
      this.dropped(session.clientId, message, "not_authorized");
      return;
    }
    session.deliver({
      message,
      qos: (message.qos < granted ? message.qos : granted) as QoS,
      retain: true,
      subscriptionIds,
      expiresAt: this.#queueExpiry(message),
    });
  }

  /**
   * When a delivery of the message expires in a queue: its own expiry, else
   * `messageExpiry` seconds after the server took it, else never.
   */
  #queueExpiry(message: Message): number | undefined {
    if (message.expiresAt !== undefined) return message.expiresAt;
    const limit = this.#options.messageExpiry;
    return limit > 0 ? message.createdAt + limit * 1000 : undefined;
  }

  // -- housekeeping ------------------------------------------------------------

  /**
   * Releases publishers held longer than `BACKPRESSURE_LIMIT` (stalling the
   * subscribers that made no room), and logs drops still unlogged.
   */
  sweep(now: number): void {
    if (this.#dropLogs.size > 0) this.#flushDropLogs(now);
    for (const hold of this.#holds) {
      if (now - hold.since < BACKPRESSURE_LIMIT) continue;
      for (const session of hold.sessions) {
        if (session.queueFull && !session.stalled) {
          this.#context.logger.warn(
            "subscriber stalled: its messages are dropped",
            { client_id: session.clientId, queued: session.queued },
          );
          session.stall();
        }
      }
      hold.release();
    }
  }

  #logDrop(clientId: string, reason: DropReason): void {
    const now = this.now();
    let log = this.#dropLogs.get(clientId);
    if (log === undefined) {
      log = { loggedAt: -Infinity, count: 0, byReason: {} };
      this.#dropLogs.set(clientId, log);
    }
    log.count++;
    log.byReason[reason] = (log.byReason[reason] ?? 0) + 1;
    if (now - log.loggedAt >= DROP_LOG_INTERVAL) {
      this.#writeDropLog(clientId, log, now);
    }
  }

  #writeDropLog(clientId: string, log: DropLog, now: number): void {
    this.#context.logger.warn("messages dropped", {
      client_id: clientId,
      count: log.count,
      ...log.byReason,
    });
    log.loggedAt = now;
    log.count = 0;
    log.byReason = {};
  }

  /**
   * Logs the drops still unlogged whose interval has passed, and forgets the
   * clients with nothing to log.
   */
  #flushDropLogs(now: number): void {
    for (const [clientId, log] of this.#dropLogs) {
      if (now - log.loggedAt < DROP_LOG_INTERVAL) continue;
      if (log.count > 0) this.#writeDropLog(clientId, log, now);
      else this.#dropLogs.delete(clientId);
    }
  }

  // -- the bus's other call ---------------------------------------------------

  /** Ends this node's connection of a client id taken over elsewhere. */
  release(clientId: string): Promise<void> | undefined {
    return this.#context.sessions.release(clientId);
  }

  adopt(
    nodeId: string,
  ): readonly string[] | Promise<readonly string[]> | undefined {
    const read = this.store.adoptSessions?.(nodeId);
    if (read === undefined) return undefined;
    const take = (sessions: readonly StoredSession[]): string[] => {
      this.#context.sessions.adopt(sessions, this.now());
      return sessions.map((s) => s.session.clientId);
    };
    return read instanceof Promise ? read.then(take) : take(read);
  }

  flush(): Promise<void> | undefined {
    return this.store.flush();
  }
}

/** What one walk of the subscription tree collects. */
interface RouteWalk {
  /** Per client id, its one match, or its matches merged. */
  readonly best: Map<string, Match>;
  shared: Map<string, SharedCandidate[]> | undefined;
  /** Client ids and records of marked matches, in pairs, to check. */
  checked: (string | SubscriptionRecord)[] | undefined;
  publisher: string | undefined;
  /** The message being routed. */
  message: Message | undefined;
  /** Copies delivered so far. */
  delivered: number;
}

function newRouteWalk(): RouteWalk {
  return {
    best: new Map(),
    shared: undefined,
    checked: undefined,
    publisher: undefined,
    message: undefined,
    delivered: 0,
  };
}

/**
 * What a client's copy of a message is sent by: the one subscription of
 * the client that matched (the common case, with nothing made for it), or
 * several merged.
 */
type Match = SubscriptionRecord | MergedMatch;

/**
 * Several subscriptions of one client matched: one copy at the highest of
 * their QoS, with the subscription ids of every one (MQTT 5.0).
 */
class MergedMatch {
  qos: QoS;
  retainAsPublished: boolean;
  ids: number[] | undefined;

  constructor(first: SubscriptionRecord) {
    this.qos = first.qos;
    this.retainAsPublished = first.retainAsPublished === true;
    this.ids = first.subscriptionId === undefined
      ? undefined
      : [first.subscriptionId];
  }

  add(record: SubscriptionRecord): void {
    if (record.qos > this.qos) this.qos = record.qos;
    if (record.retainAsPublished) this.retainAsPublished = true;
    if (record.subscriptionId !== undefined) {
      (this.ids ??= []).push(record.subscriptionId);
    }
  }
}

interface SharedCandidate {
  readonly clientId: string;
  readonly record: SubscriptionRecord;
}

/** Adds one subscription's match to a client's copy of the message. */
function mergeMatch(
  best: Map<string, Match>,
  key: string,
  record: SubscriptionRecord,
): void {
  const seen = best.get(key);
  if (seen === undefined) {
    best.set(key, record);
  } else if (seen instanceof MergedMatch) {
    seen.add(record);
  } else {
    const merged = new MergedMatch(seen);
    merged.add(record);
    best.set(key, merged);
  }
}
