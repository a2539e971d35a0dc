/**
 * The broker core: sessions, subscriptions, retained messages and routing.
 * Connections and the public `Server` drive it; it does no I/O itself.
 *
 * @module
 */

import { ReasonCode, type RefusalCode } from "../../packets/reason_code.ts";
import { parseSharedSubscription } from "../../packets/topic.ts";
import type {
  PacketType,
  Properties,
  ProtocolVersion,
  PublishPacket,
  QoS,
  Will,
} from "../../packets/types.ts";
import type { HookRunner } from "../hooks/runner.ts";
import type { ClientInfo, DropReason } from "../types.ts";
import type { Logger } from "../observe/logger.ts";
import { type Message, ownProperties } from "../message.ts";
import { Metrics } from "./metrics.ts";
import { RetainedStore } from "./retained.ts";
import {
  type Delivery,
  Session,
  type SessionContext,
  type SubscriptionRecord,
} from "./session.ts";
import type { Channel, ChannelContext } from "../protocol/channel.ts";
import type { ClientLink, CloseOptions } from "./ports.ts";
import type { ResolvedOptions } from "../server/options.ts";
import { TopicTree } from "./topic_tree.ts";
import { sharedGroupKey, SharedGroups } from "./_shared_groups.ts";
import { isSysTopic } from "./topic_levels.ts";

/** Retained messages sent to a new subscription between two yields. */
const RETAINED_SLICE = 256;
/** Milliseconds a job that yields with port messages runs before I/O gets a turn. */
const IO_YIELD_INTERVAL = 4;
/** Milliseconds between two "messages dropped" warnings about one client. */
export const DROP_LOG_INTERVAL = 10_000;
/**
 * Milliseconds a publisher waits at most for a subscriber's full queue to
 * have room (`queueFull` "backpressure"). A subscriber that makes no room in
 * that time is stalled: its messages are dropped, without waiting, until it
 * has room again, so one client that never acknowledges cannot stop others.
 */
export const BACKPRESSURE_LIMIT = 1000;

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

/** A will waiting for its delay (MQTT 5.0) to pass. */
interface PendingWill {
  readonly client: ClientInfo;
  readonly message: Message;
  readonly dueAt: number;
}

/**
 * Routing state shared by every connection of one server. `L` is the
 * protocol layer's connection type, seen here only as a {@linkcode ClientLink}.
 */
export class Broker<L extends ClientLink = ClientLink>
  implements SessionContext, ChannelContext {
  readonly options: ResolvedOptions;
  readonly hooks: HookRunner;
  readonly logger: Logger;
  readonly now: () => number;
  readonly metrics: Metrics = new Metrics();
  readonly sessions: Map<string, Session> = new Map();
  readonly connections: Set<L> = new Set();
  /** Connected clients by client id. */
  readonly online: Map<string, L> = new Map();
  readonly subscriptions: TopicTree<SubscriptionRecord> = new TopicTree();
  readonly retained: RetainedStore;
  /** Options for `frameLength`, shared by every connection. */
  readonly frameOptions: { readonly maximumPacketSize: number };
  readonly #pendingWills: Map<string, PendingWill> = new Map();
  /** The PUBLISH encoded last while one message fans out. */
  #encoded: EncodedPublish | undefined;
  /** Routings under way (they nest when a hook publishes): encoded bytes
   * are shared only while one is. */
  #routing = 0;
  /** Matches of the last routing, kept to be reused by the next one. */
  #spareMatches: Map<string, MatchedSubscription> | undefined;
  /** What the current subscription walk collects into. */
  #walk: RouteWalk | undefined;
  /** The walk's callback, made once. */
  readonly #collect = (record: SubscriptionRecord, key: string): void => {
    const walk = this.#walk!;
    if (record.shareName !== undefined) {
      walk.shared ??= new Map();
      const group = sharedGroupKey(record.shareName, record.topicFilter);
      let candidates = walk.shared.get(group);
      if (candidates === undefined) walk.shared.set(group, candidates = []);
      candidates.push({ clientId: sharedClientId(key), record });
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
  /** Next member to pick, per shared subscription group with members. */
  readonly #sharedGroups: SharedGroups = new SharedGroups();
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
  /** Connections not read until a subscriber's queue has room. */
  readonly #paused: Set<L> = new Set();
  /** Publishers waiting for room, released by the sweep at the limit. */
  readonly #holds: Set<Hold> = new Set();
  /** Drop warnings per subscriber client id, to log one line per interval. */
  readonly #dropLogs: Map<string, DropLog> = new Map();

  constructor(
    options: ResolvedOptions,
    hooks: HookRunner,
    logger: Logger,
    now: () => number,
  ) {
    this.options = options;
    this.hooks = hooks;
    this.logger = logger;
    this.now = now;
    this.retained = new RetainedStore({
      now,
      maxMessages: options.maxRetainedMessages,
      maxBytes: options.maxRetainedBytes,
      logger,
    });
    this.frameOptions = { maximumPacketSize: options.maxPacketSize };
  }

  get maxInflight(): number {
    return this.options.maxInflight;
  }

  get queueQoS0(): boolean {
    return this.options.queueQoS0Messages;
  }

  /** Bytes queued by every session together, under `maxQueuedMemory`. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  canQueue(bytes: number): boolean {
    return this.#queuedBytes + bytes <= this.options.maxQueuedMemory;
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

  /** Channels with output batched, to write at the end of this tick. */
  #toFlush: Channel[] = [];
  /** Writes every batch of this tick; one microtask for all connections. */
  readonly #flushAll = (): void => {
    const channels = this.#toFlush;
    this.#toFlush = [];
    for (const channel of channels) channel.flush();
  };

  /**
   * Has a connection's batched output written once this task's work is
   * done, together with every other connection's.
   */
  flushSoon(channel: Channel): void {
    if (this.#toFlush.push(channel) === 1) queueMicrotask(this.#flushAll);
  }

  /** Channels to write in the next task (WebSocket). */
  #toFlushLater: Channel[] = [];
  /** Posts the task that writes them; made on first use. */
  #flushPort: MessagePort | undefined;

  /**
   * Has a channel's batched output written in a later task: every incoming
   * WebSocket message is a task of its own, so batching across them needs a
   * task, and a message port's task comes without a timer's delay.
   */
  flushLater(channel: Channel): void {
    if (this.#toFlushLater.push(channel) !== 1) return;
    if (this.#nextTaskWaiters.length > 0) return; // A message is posted.
    this.#taskPort().postMessage(null);
  }

  #flushPorts: MessagePort[] | undefined;
  readonly #ioYielded = (): void => {
    this.#ioYieldTimer = undefined;
    this.#lastIoYield = performance.now();
    const waiters = this.#ioYieldWaiters;
    this.#ioYieldWaiters = [];
    for (const resolve of waiters) resolve();
  };
  /** Who waits for the next task (see `#nextTask`). */
  #nextTaskWaiters: (() => void)[] = [];

  /** The port whose messages run the next task; made on first use. */
  #taskPort(): MessagePort {
    if (this.#flushPort === undefined) {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => {
        const channels = this.#toFlushLater;
        this.#toFlushLater = [];
        for (const c of channels) c.flush();
        const waiters = this.#nextTaskWaiters;
        this.#nextTaskWaiters = [];
        for (const resolve of waiters) resolve();
      };
      this.#flushPort = port2;
      this.#flushPorts = [port1, port2];
    }
    return this.#flushPort;
  }

  /** When `#nextTask` last let I/O in, from `performance.now()`. */
  #lastIoYield = 0;
  /** The timer of a `#nextTask` that lets I/O in, and who waits for it. */
  #ioYieldTimer: ReturnType<typeof setTimeout> | undefined;
  #ioYieldWaiters: (() => void)[] = [];

  /**
   * Resolves in a later task: a long job yields to other work with it. A port
   * message (about 7 µs) lets other tasks run but, in Deno 2.9.6, not the
   * I/O of other connections (a chain of them starves socket reads), so
   * once 4 ms have passed since I/O last had its turn, the yield is a
   * `setTimeout(0)` (about 2 ms, idle) instead.
   */
  #nextTask(): Promise<void> {
    const now = performance.now();
    if (now - this.#lastIoYield >= IO_YIELD_INTERVAL) {
      this.#lastIoYield = now;
      return new Promise((resolve) => {
        this.#ioYieldWaiters.push(resolve);
        this.#ioYieldTimer ??= setTimeout(this.#ioYielded, 0);
      });
    }
    return new Promise((resolve) => {
      const first = this.#nextTaskWaiters.push(resolve) === 1;
      if (first && this.#toFlushLater.length === 0) {
        this.#taskPort().postMessage(null);
      }
    });
  }

  /** Closes what keeps the event loop busy; the server calls it on stop. */
  close(): void {
    for (const port of this.#flushPorts ?? []) port.close();
    this.#flushPorts = this.#flushPort = undefined;
    // Nothing more runs on the port: let waiting jobs see the end.
    const waiters = this.#nextTaskWaiters;
    this.#nextTaskWaiters = [];
    for (const resolve of waiters) resolve();
    clearTimeout(this.#ioYieldTimer);
    this.#ioYielded();
  }

  /** A fresh client id for a client that sent none. */
  newClientId(): string {
    return `auto-${crypto.randomUUID()}`;
  }

  /** Registers a connection until it closes. */
  connectionOpened(connection: L): void {
    this.connections.add(connection);
    this.metrics.connectionOpened();
  }

  /** Forgets a closed connection. */
  connectionClosed(connection: L): void {
    if (this.connections.delete(connection)) this.metrics.connectionClosed();
    this.#paused.delete(connection);
  }

  /**
   * Whether a client that passed the connect hooks may take up the session
   * of its client id: with `sessionOwnerChange` "refuse", a session made
   * under another user name refuses it (0x87). Answers `undefined` to go
   * ahead.
   */
  checkSessionOwner(client: ClientInfo): RefusalCode | undefined {
    const session = this.sessions.get(client.clientId);
    if (
      session === undefined || session.username === client.username ||
      this.options.sessionOwnerChange !== "refuse"
    ) return undefined;
    this.logger.warn("session belongs to another user", {
      client_id: client.clientId,
      username: client.username,
      remote: client.remoteAddress,
    });
    return ReasonCode.NotAuthorized;
  }

  /**
   * Binds an accepted client to its session: takes over a connection with
   * the same client id [MQTT-3.1.4-2], resumes or replaces the stored
   * session [MQTT-3.1.2-4..6], and cancels a will still waiting for its delay.
   * Returns `undefined`, and changes nothing, when the client needs a new
   * session and `maxSessions` are kept already: the connection refuses it
   * (0x97 Quota exceeded). Resuming or replacing a session is always allowed.
   */
  attach(
    connection: L,
    client: ClientInfo,
    expiryInterval: number,
    receiveMaximum = 65535,
  ): { session: Session; present: boolean } | undefined {
    const clientId = client.clientId;
    if (
      !this.sessions.has(clientId) &&
      this.sessions.size >= this.options.maxSessions
    ) {
      return undefined;
    }
    const previous = this.online.get(clientId);
    if (previous !== undefined && previous !== connection) {
      this.logger.info("client taken over", {
        client_id: clientId,
        remote: previous.transport.info.remoteAddress,
      });
      // Detaches synchronously; the old will is published.
      this.#closeQuietly(previous, new Error("Session taken over"), {
        reasonCode: ReasonCode.SessionTakenOver,
        endReason: "taken_over",
      });
    }
    // [MQTT-3.1.3-9] A returning client cancels its delayed will.
    this.#pendingWills.delete(clientId);
    this.online.set(clientId, connection);
    let session = this.sessions.get(clientId);
    let present = false;
    // With sessionOwnerChange "clean", another user's session is not
    // taken up: it ends and a new one starts.
    if (
      session !== undefined &&
      (client.clean || session.username !== client.username)
    ) {
      this.#terminate(session, previous ? "taken_over" : "normal");
      session = undefined;
    }
    if (session === undefined) {
      session = new Session(clientId, this, {
        maxQueuedMessages: this.options.maxQueuedMessages,
        maxQueuedBytes: this.options.maxQueuedBytes,
        expiryInterval,
      });
      this.sessions.set(clientId, session);
      this.metrics.sessionCreated();
    } else {
      present = true;
      session.expiryInterval = expiryInterval;
    }
    session.inflightLimit = Math.min(this.options.maxInflight, receiveMaximum);
    session.client = client;
    this.metrics.clientConnected();
    return { session, present };
  }

  /**
   * Unbinds a closing connection from its session. The session ends now if
   * its expiry interval is 0, else it waits offline. `will` is published
   * (now, or after its delay) when given.
   */
  detach(connection: L, will: Will | undefined): void {
    const client = connection.client!;
    const session = connection.session!;
    const now = this.now();
    if (this.online.get(client.clientId) === connection) {
      this.online.delete(client.clientId);
    }
    this.metrics.clientDisconnected();
    if (session.output === connection) session.detach(now);
    if (will !== undefined) {
      const message = this.#willMessage(client, will, now);
      const delay = will.properties?.willDelayInterval ?? 0;
      if (delay > 0 && session.expiryInterval > 0) {
        this.#pendingWills.set(client.clientId, {
          client,
          message,
          dueAt: now + Math.min(delay, session.expiryInterval) * 1000,
        });
      } else {
        this.#publishWillSoon(client, message);
      }
    }
    if (
      session.expiryInterval === 0 &&
      this.sessions.get(client.clientId) === session &&
      session.output === undefined
    ) {
      this.#terminate(session, connection.endReason ?? "normal");
    }
  }

  #willMessage(client: ClientInfo, will: Will, now: number): Message {
    const properties = will.properties === undefined
      ? undefined
      : forwardedProperties(will.properties);
    const expiry = will.properties?.messageExpiryInterval;
    return {
      topic: will.topic,
      // The connection copied the will out of its read buffer already; this
      // copy keeps the message safe from whoever else holds the will.
      payload: will.payload.slice(),
      qos: will.qos,
      retain: will.retain,
      ...(properties !== undefined ? { properties } : {}),
      ...(expiry !== undefined ? { expiresAt: now + expiry * 1000 } : {}),
      publisher: client.clientId,
      createdAt: now,
    };
  }

  /**
   * Publishes a will without waiting: a failure is logged, it never becomes
   * an unhandled rejection.
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

  /** Closes a connection without waiting; a failure is logged. */
  #closeQuietly(
    connection: L,
    error: Error,
    options?: CloseOptions,
  ): void {
    connection.close(error, options).catch((failure: unknown) => {
      this.logger.error("connection not closed cleanly", {
        client_id: connection.client?.clientId,
        reason: error.message,
        error: failure instanceof Error ? failure.message : String(failure),
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
        this.dropped(undefined, message, "not_authorized");
        return;
      }
    }
    this.logger.debug("will published", {
      client_id: client.clientId,
      topic: message.topic,
    });
    await this.publish(message, client);
  }

  /** Ends a session: drops its subscriptions and queue, tells the hooks. */
  #terminate(
    session: Session,
    reason: "normal" | "taken_over" | "expired" | "kicked",
  ): void {
    if (this.sessions.get(session.clientId) !== session) return;
    this.sessions.delete(session.clientId);
    // [MQTT-3.1.3-9] A will waiting for its delay goes out when the session
    // ends first.
    const will = this.#pendingWills.get(session.clientId);
    if (will !== undefined) {
      this.#pendingWills.delete(session.clientId);
      this.#publishWillSoon(will.client, will.message);
    }
    for (const [filter] of session.subscriptionEntries()) {
      this.#removeFromTree(session.clientId, filter);
    }
    if (session.subscriptionCount > 0) session.subscriptions.clear();
    // What was still queued goes with the session: "expired" when the
    // session expired, "session_ended" when it ended otherwise.
    session.discard(reason === "expired" ? "expired" : "session_ended");
    this.metrics.sessionTerminated(reason);
    this.hooks.notify("onSessionTerminated", session.clientId, reason);
  }

  /** Ends a session from the library API (kick). */
  terminate(session: Session, reason: "kicked" | "expired"): void {
    this.#terminate(session, reason);
  }

  /** Makes the broker's own copy of a message from a client's PUBLISH. */
  makeMessage(
    packet: PublishPacket,
    topic: string,
    publisher: string | undefined,
  ): Message {
    const now = this.now();
    const message: Mutable<Message> = {
      topic,
      // The read buffer is reused: keep a copy.
      payload: packet.payload.slice(),
      qos: packet.qos,
      retain: packet.retain,
      createdAt: now,
    };
    const props = packet.properties;
    if (props !== undefined) {
      const properties = forwardedProperties(props);
      if (properties !== undefined) message.properties = properties;
      const expiry = props.messageExpiryInterval;
      if (expiry !== undefined) message.expiresAt = now + expiry * 1000;
    }
    if (publisher !== undefined) message.publisher = publisher;
    return message;
  }

  /**
   * Routes a message: the transform hooks first, then the retained store when
   * it is retained, then every matching subscription. Returns a promise only
   * when a hook answered with one, or when `pausable` (a client's PUBLISH,
   * whose connection is not read while the promise is pending) and, with
   * `queueFull` "backpressure", an online subscriber's queue was full: the
   * promise then resolves once those queues have room again.
   */
  publish(
    message: Message,
    client: ClientInfo | undefined,
    pausable = false,
  ): Promise<void> | undefined {
    if (client === undefined && isSysTopic(message.topic)) {
      // The server's own statistics are not messages from clients.
      this.metrics.sysMessagePublished();
    } else {
      this.metrics.messageReceived(message.qos, message.payload.length);
    }
    const hold = pausable && this.options.queueFull === "backpressure";
    if (!this.hooks.hasTransform) return this.#routeFrom(message, hold);
    const result = this.hooks.transformMessage(client, message);
    if (result instanceof Promise) {
      return result.then((m) => {
        if (m === null) this.dropped(undefined, message, "hook");
        else return this.#routeFrom(m, hold);
      });
    }
    if (result === null) this.dropped(undefined, message, "hook");
    else return this.#routeFrom(result, hold);
    return undefined;
  }

  /**
   * Routes a message; with `hold`, full online queues keep what they get
   * over their limits, and the answer waits until they have room.
   */
  #routeFrom(message: Message, hold: boolean): Promise<void> | undefined {
    // A hook that publishes while a client's message is routed makes a
    // routing of its own, with its own holds (none unless it may hold).
    const outerHolding = this.#holding;
    const outerHeld = this.#held;
    this.#holding = hold;
    this.#held = undefined;
    let held: Session[] | undefined;
    try {
      this.#route(message);
    } finally {
      // Filled by `holdOver` during the routing.
      held = this.#held as Session[] | undefined;
      this.#holding = outerHolding;
      this.#held = outerHeld;
    }
    if (held === undefined) return undefined;
    this.logger.debug("publisher paused: subscriber queue full", {
      client_id: message.publisher,
      subscriber: held[0]!.clientId,
    });
    const roomMade = held.length === 1
      ? held[0]!.queueRoom()
      : Promise.all(held.map((s) => s.queueRoom())).then(() => {});
    // The sweep releases a publisher that waited too long.
    const room = new Promise<void>((resolve) => {
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
    const publisher = message.publisher === undefined
      ? undefined
      : this.online.get(message.publisher);
    if (publisher === undefined) return room;
    // Not read meanwhile: its silence is the server's doing, not a lapsed
    // keep-alive.
    this.#paused.add(publisher);
    return room.then(() => {
      this.#paused.delete(publisher);
    });
  }

  #route(message: Message): void {
    if (message.retain && this.options.retainAvailable) {
      // [MQTT-3.3.1-5] [MQTT-3.3.1-10] Store, replace, or delete when empty.
      this.retained.set(message);
    }
    // One copy per client at the highest QoS of its matches, with the
    // subscription ids of every match (MQTT 5.0). The matches map is reused
    // from one routing to the next (a nested one makes its own).
    const best = this.#spareMatches ?? new Map<string, MatchedSubscription>();
    this.#spareMatches = undefined;
    const walk: RouteWalk = {
      best,
      shared: undefined,
      checked: undefined,
      publisher: message.publisher,
    };
    this.#walk = walk;
    this.subscriptions.match(message.topic, this.#collect);
    this.#walk = undefined;
    if (walk.checked !== undefined) {
      this.#checkDeliveries(walk.checked, best, message);
    }
    this.#routing++;
    let delivered = 0;
    try {
      for (const [clientId, match] of best) {
        const session = this.sessions.get(clientId);
        if (session === undefined) continue;
        this.#deliverMatch(session, message, match);
        delivered++;
      }
      if (walk.shared !== undefined) {
        for (const [group, candidates] of walk.shared) {
          const chosen = this.#pickShared(group, candidates, message);
          if (chosen === undefined) {
            // No member may receive it.
            this.dropped(undefined, message, "not_authorized");
            continue;
          }
          const session = this.sessions.get(chosen.clientId);
          if (session === undefined) continue;
          this.#deliverMatch(session, message, {
            qos: chosen.record.qos,
            retainAsPublished: chosen.record.retainAsPublished === true,
            ids: chosen.record.subscriptionId === undefined
              ? undefined
              : [chosen.record.subscriptionId],
          });
          delivered++;
        }
      }
    } finally {
      this.#routingDone();
      best.clear();
      this.#spareMatches = best;
    }
    if (delivered === 0) this.metrics.messageUnrouted();
  }

  #routingDone(): void {
    if (--this.#routing === 0) this.#encoded = undefined;
  }

  /**
   * Adds the matches of marked subscriptions (`checkDeliver`) whose client
   * may receive the message; a client none of whose matches may is told
   * "not_authorized". The hooks are asked once per client.
   */
  #checkDeliveries(
    checked: (string | SubscriptionRecord)[],
    best: Map<string, MatchedSubscription>,
    message: Message,
  ): void {
    let verdicts: Map<string, boolean> | undefined;
    for (let i = 0; i < checked.length; i += 2) {
      const clientId = checked[i] as string;
      const record = checked[i + 1] as SubscriptionRecord;
      let allowed = verdicts?.get(clientId);
      if (allowed === undefined) {
        allowed = this.#mayDeliver(clientId, message);
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
  #mayDeliver(clientId: string, message: Message): boolean {
    const client = this.sessions.get(clientId)?.client;
    return client !== undefined && this.hooks.mayDeliver(client, message);
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
    const turn = this.#sharedGroups.nextTurn(group);
    let allowed = candidates;
    if (candidates.some((c) => c.record.checkDeliver === true)) {
      allowed = candidates.filter((c) =>
        c.record.checkDeliver !== true || this.#mayDeliver(c.clientId, message)
      );
      if (allowed.length === 0) return undefined;
    }
    if (this.options.sharedSubscriptionOffline === "round_robin") {
      return allowed[turn % allowed.length];
    }
    const online = allowed.filter((c) => this.online.has(c.clientId));
    const pool = online.length > 0 ? online : allowed;
    return pool[turn % pool.length];
  }

  #deliverMatch(
    session: Session,
    message: Message,
    match: MatchedSubscription,
  ): void {
    session.deliver({
      message,
      qos: (match.qos < message.qos ? match.qos : message.qos) as QoS,
      // [MQTT-3.3.1-9] A live delivery has RETAIN 0, unless 5.0 Retain As
      // Published asks for the flag as published.
      retain: match.retainAsPublished && message.retain,
      subscriptionIds: match.ids,
      expiresAt: this.#queueExpiry(message),
    });
  }

  /**
   * Adds or replaces a subscription of a session; returns true if the filter
   * is new for it.
   */
  subscribe(session: Session, record: SubscriptionRecord): boolean {
    const shared = parseSharedSubscription(record.topicFilter);
    const full = record.topicFilter;
    const stored: SubscriptionRecord = shared === undefined ? record : {
      ...record,
      topicFilter: shared.topicFilter,
      shareName: shared.shareName,
    };
    const isNew = !session.subscriptions.has(full);
    session.subscriptions.set(full, stored);
    if (shared === undefined) {
      this.subscriptions.add(full, session.clientId, stored);
    } else if (
      this.subscriptions.add(
        shared.topicFilter,
        sharedKey(session.clientId, shared.shareName),
        stored,
      )
    ) {
      this.#sharedGroups.join(
        sharedGroupKey(shared.shareName, shared.topicFilter),
      );
    }
    if (isNew) this.metrics.subscriptionAdded();
    return isNew;
  }

  /** Removes a subscription; returns whether it existed. */
  unsubscribe(session: Session, topicFilter: string): boolean {
    if (!session.subscriptions.delete(topicFilter)) return false;
    this.#removeFromTree(session.clientId, topicFilter);
    return true;
  }

  #removeFromTree(clientId: string, filter: string): void {
    const shared = parseSharedSubscription(filter);
    if (shared === undefined) this.subscriptions.remove(filter, clientId);
    else if (
      this.subscriptions.remove(
        shared.topicFilter,
        sharedKey(clientId, shared.shareName),
      )
    ) {
      this.#sharedGroups.leave(
        sharedGroupKey(shared.shareName, shared.topicFilter),
      );
    }
    this.metrics.subscriptionRemoved();
  }

  /**
   * Sends the retained messages matching a new subscription, with RETAIN 1
   * [MQTT-3.3.1-8], at the lower of their QoS and the granted QoS. Shared
   * subscriptions get none [MQTT-3.8.4-...]. They go in slices of 256 with
   * a task between slices, so that other clients are served meanwhile, and
   * while the client's unsent output is above `maxOutputBuffer` the next
   * message waits for it to drain. Stops when the connection closes or the
   * session ends.
   */
  async sendRetained(
    session: Session,
    topicFilter: string,
    granted: QoS,
    subscriptionId: number | undefined,
  ): Promise<void> {
    if (parseSharedSubscription(topicFilter) !== undefined) return;
    const ids = subscriptionId === undefined ? undefined : [subscriptionId];
    // A marked subscription has each retained message checked too.
    const checked =
      session.subscriptions.get(topicFilter)?.checkDeliver === true;
    const messages = this.retained.match(topicFilter);
    const connection = this.online.get(session.clientId);
    const limit = this.options.maxOutputBuffer;
    for (let i = 0; i < messages.length; i++) {
      if (i > 0 && i % RETAINED_SLICE === 0) await this.#nextTask();
      if (connection !== undefined && connection.outputBytes > limit) {
        await connection.outputDrained();
      }
      if (
        session.queueFull && this.options.queueFull === "backpressure" &&
        session.output !== undefined
      ) {
        // Retained messages wait for room as a client's messages do.
        await session.queueRoom();
      }
      if (
        this.sessions.get(session.clientId) !== session ||
        (connection !== undefined &&
          (connection.isClosed || session.output !== connection))
      ) {
        return;
      }
      const message = messages[i]!;
      if (checked && !this.#mayDeliver(session.clientId, message)) {
        this.dropped(session.clientId, message, "not_authorized");
        continue;
      }
      session.deliver({
        message,
        qos: (message.qos < granted ? message.qos : granted) as QoS,
        retain: true,
        subscriptionIds: ids,
        expiresAt: this.#queueExpiry(message),
      });
    }
  }

  /**
   * When a delivery of the message expires in a queue: its own expiry, else
   * `messageExpiry` seconds after the server took it, else never.
   */
  #queueExpiry(message: Message): number | undefined {
    if (message.expiresAt !== undefined) return message.expiresAt;
    const limit = this.options.messageExpiry;
    return limit > 0 ? message.createdAt + limit * 1000 : undefined;
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
    this.metrics.messageDropped(message.qos, reason);
    if (clientId !== undefined) this.#logDrop(clientId, reason);
    if (this.hooks.observesDropped) {
      this.hooks.notify("onMessageDropped", clientId, message, reason);
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
    this.logger.warn("messages dropped", {
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

  /** Reports a message written to a subscriber. */
  delivered(session: Session, message: Message): void {
    if (this.hooks.observesDelivered) {
      const connection = this.online.get(session.clientId);
      if (connection?.client !== undefined) {
        this.hooks.notify("onDelivered", connection.client, message);
      }
    }
  }

  /** The 5.0 properties of an outgoing PUBLISH for one delivery. */
  outgoingProperties(delivery: Delivery): Properties | undefined {
    const { message } = delivery;
    const ids = delivery.subscriptionIds;
    const expiresAt = message.expiresAt;
    if (
      ids === undefined && expiresAt === undefined &&
      message.properties === undefined
    ) return undefined;
    const properties: Properties = { ...message.properties };
    if (ids !== undefined) properties.subscriptionIdentifiers = ids;
    if (expiresAt !== undefined) {
      // [MQTT-3.3.2-6] The expiry sent is what is left of it.
      properties.messageExpiryInterval = Math.max(
        0,
        Math.ceil((expiresAt - this.now()) / 1000),
      );
    }
    return properties;
  }

  /**
   * The bytes of the same PUBLISH already encoded for another subscriber
   * during this routing of the message, if its form matches (3.x or 5.0,
   * QoS, RETAIN; no per-subscriber properties, no DUP). Its packet id is
   * the other subscriber's: patch in your own.
   */
  encodedPublish(
    delivery: Delivery,
    version: ProtocolVersion,
  ): Uint8Array | undefined {
    const cached = this.#encoded;
    return cached !== undefined && cached.message === delivery.message &&
        cached.v5 === (version === 5) && cached.qos === delivery.qos &&
        cached.retain === delivery.retain
      ? cached.bytes
      : undefined;
  }

  /**
   * Offers the bytes of a PUBLISH just encoded for one subscriber to the
   * others of this routing. They must stay unchanged until the routing ends
   * (a view into a connection's output batch does: it is only appended to).
   */
  shareEncodedPublish(
    delivery: Delivery,
    version: ProtocolVersion,
    bytes: Uint8Array,
  ): void {
    if (!this.#routing) return;
    this.#encoded = {
      message: delivery.message,
      v5: version === 5,
      qos: delivery.qos,
      retain: delivery.retain,
      bytes,
    };
  }

  /** Counts a PUBLISH written to a subscriber. */
  countMessageSent(delivery: Delivery, bytes: number): void {
    this.metrics.messageSent(delivery.qos, delivery.message.payload.length);
    this.metrics.packetOut("publish", bytes);
  }

  countPacketIn(type: PacketType, bytes: number): void {
    this.metrics.packetIn(type, bytes);
  }

  countPacketOut(type: PacketType, bytes: number): void {
    this.metrics.packetOut(type, bytes);
  }

  /**
   * Periodic housekeeping: closes clients silent for 1.5 times their
   * keep-alive [MQTT-3.1.2-24] and connections that never sent CONNECT
   * (or whose CONNECT waited three connect timeouts for its hooks),
   * publishes delayed wills that are due, and ends expired sessions.
   */
  sweep(): void {
    const now = this.now();
    const connectDeadline = this.options.connectTimeout * 1000;
    for (const connection of this.connections) {
      if (connection.isClosed) continue;
      connection.trim();
      const client = connection.client;
      if (client === undefined) {
        // A CONNECT waiting for its hooks is not the client's delay; a
        // ceiling stops a hung hook from holding the connection for ever.
        const pending = connection.connectPending;
        if (now - connection.openedAt >= connectDeadline * (pending ? 3 : 1)) {
          this.#closeQuietly(
            connection,
            new Error(
              pending
                ? "Connect hooks did not answer in time"
                : "No CONNECT in time",
            ),
          );
        }
        continue;
      }
      if (
        client.keepAlive > 0 &&
        now - connection.lastActivity >= client.keepAlive * 1500 &&
        !this.#paused.has(connection)
      ) {
        this.logger.info("keep-alive timeout", { client_id: client.clientId });
        this.#closeQuietly(
          connection,
          new Error("Keep-alive timeout"),
          {
            reasonCode: ReasonCode.KeepAliveTimeout,
          },
        );
      }
    }
    if (this.#dropLogs.size > 0) this.#flushDropLogs(now);
    for (const hold of this.#holds) {
      if (now - hold.since < BACKPRESSURE_LIMIT) continue;
      for (const session of hold.sessions) {
        if (session.queueFull && !session.stalled) {
          this.logger.warn("subscriber stalled: its messages are dropped", {
            client_id: session.clientId,
            queued: session.queued,
          });
          session.stall();
        }
      }
      hold.release();
    }
    for (const [clientId, pending] of this.#pendingWills) {
      if (pending.dueAt <= now) {
        this.#pendingWills.delete(clientId);
        this.#publishWillSoon(pending.client, pending.message);
      }
    }
    for (const session of this.sessions.values()) {
      if (
        session.output !== undefined || session.disconnectedAt === undefined
      ) {
        continue;
      }
      if (
        session.expiryInterval !== 0xffffffff &&
        now - session.disconnectedAt >= session.expiryInterval * 1000
      ) {
        this.#terminate(session, "expired");
      }
    }
  }
}

/**
 * Where the packet id of an encoded QoS 1 or 2 PUBLISH sits: after the fixed
 * header and the topic.
 */
export function packetIdOffset(bytes: Uint8Array): number {
  let at = 1;
  while (bytes[at]! & 0x80) at++;
  at++;
  return at + 2 + ((bytes[at]! << 8) | bytes[at + 1]!);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface EncodedPublish {
  readonly message: Message;
  readonly v5: boolean;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly bytes: Uint8Array;
}

/** What one walk of the subscription tree collects. */
interface RouteWalk {
  readonly best: Map<string, MatchedSubscription>;
  shared: Map<string, SharedCandidate[]> | undefined;
  /** Client ids and records of marked matches, in pairs, to check. */
  checked: (string | SubscriptionRecord)[] | undefined;
  readonly publisher: string | undefined;
}

interface MatchedSubscription {
  qos: QoS;
  retainAsPublished: boolean;
  ids: number[] | undefined;
}

/** Adds one subscription's match to a client's copy of the message. */
function mergeMatch(
  best: Map<string, MatchedSubscription>,
  key: string,
  record: SubscriptionRecord,
): void {
  const seen = best.get(key);
  if (seen === undefined) {
    best.set(key, {
      qos: record.qos,
      retainAsPublished: record.retainAsPublished === true,
      ids: record.subscriptionId === undefined
        ? undefined
        : [record.subscriptionId],
    });
  } else {
    if (record.qos > seen.qos) seen.qos = record.qos;
    if (record.retainAsPublished) seen.retainAsPublished = true;
    if (record.subscriptionId !== undefined) {
      (seen.ids ??= []).push(record.subscriptionId);
    }
  }
}

interface SharedCandidate {
  readonly clientId: string;
  readonly record: SubscriptionRecord;
}

/** Tree key of a shared subscription: client ids never hold U+0000. */
function sharedKey(clientId: string, shareName: string): string {
  return `${shareName}\u0000${clientId}`;
}

function sharedClientId(key: string): string {
  return key.slice(key.indexOf("\u0000") + 1);
}

/**
 * PUBLISH properties that travel with the message to subscribers, with their
 * own copy of any bytes (correlation data is a view into the read buffer).
 */
function forwardedProperties(props: Properties): Properties | undefined {
  const {
    topicAlias: _alias,
    subscriptionIdentifiers: _ids,
    messageExpiryInterval: _expiry,
    willDelayInterval: _delay,
    ...rest
  } = props;
  for (const _ in rest) return ownProperties(rest);
  return undefined;
}
