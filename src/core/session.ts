/**
 * A client's session: its subscriptions, the messages in flight to it, the
 * messages waiting for it, and the QoS 2 packet ids it has not yet released.
 * It outlives its network connection when the client asked for a persistent
 * session.
 *
 * @module
 */

import type { ClientInfo, DropReason } from "../types.ts";
import type { Message } from "../message.ts";
import type {
  Delivery,
  SessionOutput,
  SessionRecord,
  Store,
  StoredSession,
  StoredWill,
  SubscriptionRecord,
} from "./ports.ts";

export type { Delivery, SessionOutput, SubscriptionRecord };
import { SessionQueue } from "./session_queue.ts";

/** An outgoing QoS 1 or 2 message waiting for its acknowledgement. */
export interface InflightEntry {
  readonly packetId: number;
  readonly delivery: Delivery;
  /** 1: PUBLISH sent, PUBACK or PUBREC awaited; 2: PUBREL sent, PUBCOMP awaited. */
  phase: 1 | 2;
}

/** What a session needs from its server. */
export interface SessionContext {
  readonly now: () => number;
  /** Where a stored session writes its changes. */
  readonly store: Store;
  /** Messages in flight per client before more are queued. */
  readonly maxInflight: number;
  /** Whether QoS 0 messages are queued for an offline client. */
  readonly queueQoS0: boolean;
  dropped(clientId: string, message: Message, reason: DropReason): void;
  delivered(session: Session, message: Message): void;
  /**
   * Whether `bytes` more may be queued under the budget shared by every
   * session's queue.
   */
  canQueue(bytes: number): boolean;
  /** Adds `delta` (negative when messages leave) to the queued bytes. */
  queuedBytesChanged(delta: number): void;
  /**
   * Asked when a message for an online client does not fit its queue:
   * true if the publisher routing it will stop being read until the queue
   * has room (`queueFull` "backpressure"), so the queue holds the message
   * over its limits; false to drop as usual.
   */
  holdOver(session: Session): boolean;
  /** Reports a page of a queue the store could not read back. */
  storeReadFailed(clientId: string, error: unknown): void;
}

/**
 * Deliveries read back from a store that keeps offline queues
 * ({@linkcode Store.readQueue}) at a time: a returning client's queue comes
 * back into memory a page at a time, as its inflight window empties.
 */
export const QUEUE_PAGE = 256;

/**
 * Bytes a queued message counts beyond its topic and payload: the delivery
 * and queue slots that hold it, roughly.
 */
export const QUEUED_MESSAGE_OVERHEAD = 64;

/**
 * What a queued delivery counts against the queue byte limits: the length
 * of its topic, the bytes of its payload and {@linkcode QUEUED_MESSAGE_OVERHEAD}.
 */
export function queuedSize(delivery: Delivery): number {
  const { message } = delivery;
  return message.topic.length + message.payload.length +
    QUEUED_MESSAGE_OVERHEAD;
}

function addSize(sum: number, delivery: Delivery): number {
  return sum + queuedSize(delivery);
}

/** Session state of one client id. */
export class Session {
  readonly clientId: string;
  #subscriptions: Map<string, SubscriptionRecord> | undefined;
  #inflight: Map<number, InflightEntry> | undefined;
  #incomingQoS2: Set<number> | undefined;
  /** Messages waiting for the inflight window or for the client to return. */
  #queue: SessionQueue<Delivery> | undefined;
  readonly #queueLimit: number;
  readonly #queueMaxBytes: number;
  /** The queue's bytes as last reported to the context. */
  #reportedBytes = 0;
  /** Whether `drain` is running: a nested call leaves the work to it. */
  #draining = false;
  /** Who waits for the queue to have room again (see `queueRoom`). */
  #roomWaiters: (() => void)[] | undefined;
  /**
   * Deliveries of the queue kept by the store only, after those in
   * `#queue` (see {@linkcode Store.readQueue}), and their bytes.
   */
  #inStore = 0;
  #inStoreBytes = 0;
  /** Whether a page of the queue is being read from the store. */
  #reading = false;
  /** When the session was made, in server milliseconds. */
  readonly createdAt: number;
  /** What its client last connected with; the delivery checks ask for it. */
  client: ClientInfo | undefined;
  /**
   * Whether the session's state is written to the store: its expiry
   * interval is above 0, so it may outlive its connection. A session that
   * ends with its connection is kept in memory only.
   */
  stored = false;
  /** The will of its client, kept while connected or waiting for its delay. */
  will: StoredWill | undefined;

  /** User name its client last connected with. */
  get username(): string | undefined {
    return this.client?.username;
  }
  /** Seconds the session outlives its connection; 0 ends it on disconnect. */
  expiryInterval: number;
  /** When the client disconnected, if it is offline. */
  disconnectedAt: number | undefined;
  /** The connection while the client is online. */
  output: SessionOutput | undefined;
  /**
   * Messages in flight at once: the server's limit, lowered to a 5.0
   * client's Receive Maximum [MQTT-3.3.4-9].
   */
  inflightLimit: number;
  readonly #context: SessionContext;
  #nextPacketId = 1;

  constructor(
    clientId: string,
    context: SessionContext,
    options: {
      maxQueuedMessages: number;
      expiryInterval: number;
      maxQueuedBytes?: number;
      createdAt?: number;
    },
  ) {
    this.clientId = clientId;
    this.#context = context;
    this.createdAt = options.createdAt ?? context.now();
    this.expiryInterval = options.expiryInterval;
    this.disconnectedAt = undefined;
    this.client = undefined;
    this.output = undefined;
    this.inflightLimit = context.maxInflight;
    this.#queueLimit = options.maxQueuedMessages;
    this.#queueMaxBytes = options.maxQueuedBytes ?? Infinity;
  }

  /** Messages waiting in the queue, those kept by the store only included. */
  get queued(): number {
    return (this.#queue?.length ?? 0) + this.#inStore;
  }

  /** Bytes of the messages waiting in the queue (see `queuedSize`). */
  get queuedBytes(): number {
    return (this.#queue?.bytes ?? 0) + this.#inStoreBytes;
  }

  /** Messages of the queue the store keeps and memory does not. */
  get queuedInStore(): number {
    return this.#inStore;
  }

  /**
   * Whether the queue lives in the store while the client is offline: the
   * session is stored, and its store reads queues back a page at a time.
   */
  get #pages(): boolean {
    return this.stored && this.#context.store.readQueue !== undefined;
  }

  /** Most messages the queue holds. */
  get queueLimit(): number {
    return this.#queueLimit;
  }

  /**
   * Whether the queue is at or over its message or byte limit, so that the
   * next message queued would drop one (or be held over the limit).
   */
  get queueFull(): boolean {
    return this.queued >= this.#queueLimit ||
      this.queuedBytes >= this.#queueMaxBytes;
  }

  /**
   * Whether the session is stalled: its queue stayed full while publishers
   * waited for it (`BACKPRESSURE_LIMIT`), so its messages are dropped
   * instead of held until the queue has room again.
   */
  get stalled(): boolean {
    return this.#stalled;
  }

  #stalled = false;

  /** Marks the session stalled until its queue has room again. */
  stall(): void {
    if (this.#stalled) return;
    this.#stalled = true;
    const unstall = (): void => {
      this.#stalled = false;
    };
    this.queueRoom().then(unstall, unstall);
  }

  /**
   * Resolves once the queue is back to half its limits (messages and bytes),
   * or the client is offline, or the session has ended: what a publisher
   * paused by `queueFull` "backpressure" waits for.
   */
  queueRoom(): Promise<void> {
    if (this.#hasRoom()) return Promise.resolve();
    return new Promise((resolve) => (this.#roomWaiters ??= []).push(resolve));
  }

  /** Whether a publisher waiting in `queueRoom` may go on. */
  #hasRoom(): boolean {
    return this.output === undefined ||
      (this.queued <= this.#queueLimit / 2 &&
        this.queuedBytes <= this.#queueMaxBytes / 2);
  }

  /** Wakes who waits in `queueRoom`, if the queue has room. */
  #wakeRoomWaiters(): void {
    const waiting = this.#roomWaiters;
    if (waiting === undefined || !this.#hasRoom()) return;
    this.#roomWaiters = undefined;
    for (const resolve of waiting) resolve();
  }

  /** Number of subscriptions, without making the map. */
  get subscriptionCount(): number {
    return this.#subscriptions?.size ?? 0;
  }

  /** The subscriptions by filter, for reading, without making the map. */
  subscriptionEntries(): Iterable<[string, SubscriptionRecord]> {
    return this.#subscriptions?.entries() ?? [];
  }

  /** Number of messages in flight, without making the map. */
  get inflightCount(): number {
    return this.#inflight?.size ?? 0;
  }

  /** Subscriptions by topic filter (the full filter, `$share/...` included). */
  get subscriptions(): Map<string, SubscriptionRecord> {
    // Made on first use, as are the two below: most sessions of idle
    // clients never need all three.
    return this.#subscriptions ??= new Map();
  }

  /** Outgoing QoS 1/2 messages by packet id, oldest first. */
  get inflight(): Map<number, InflightEntry> {
    return this.#inflight ??= new Map();
  }

  /** Incoming QoS 2 packet ids received and not yet released by PUBREL. */
  get incomingQoS2(): ReadonlySet<number> {
    return this.#incomingQoS2 ??= new Set();
  }

  /** Holds the packet id of an incoming QoS 2 message until its PUBREL. */
  holdIncoming(packetId: number): void {
    const ids = this.#incomingQoS2 ??= new Set();
    if (ids.has(packetId)) return;
    ids.add(packetId);
    if (this.stored) this.#context.store.saveIncoming(this.clientId, packetId);
  }

  /** Releases an incoming QoS 2 packet id (PUBREL); false if unknown. */
  releaseIncoming(packetId: number): boolean {
    if (this.#incomingQoS2?.delete(packetId) !== true) return false;
    if (this.stored) {
      this.#context.store.deleteIncoming(this.clientId, packetId);
    }
    return true;
  }

  /**
   * Takes a message for this subscriber: written at once when the client is
   * online and its inflight window has room, else queued (QoS 0 only when
   * the server queues QoS 0; else reported as dropped, `offline`), else
   * dropped and reported.
   */
  deliver(delivery: Delivery): void {
    const { message } = delivery;
    if (
      message.expiresAt !== undefined &&
      message.expiresAt <= this.#context.now()
    ) {
      this.#context.dropped(this.clientId, message, "expired");
      return;
    }
    const output = this.output;
    if (delivery.qos === 0) {
      if (output !== undefined) {
        if (output.sendPublish(delivery, undefined, false)) {
          this.#context.delivered(this, message);
        } else {
          this.#context.dropped(this.clientId, message, "output_full");
        }
        return;
      }
      if (this.#context.queueQoS0) this.#enqueue(delivery);
      else this.#context.dropped(this.clientId, message, "offline");
      return;
    }
    if (
      output !== undefined && (this.#queue?.length ?? 0) === 0 &&
      this.#inStore === 0 && this.inflightCount < this.inflightLimit
    ) {
      this.#sendInflight(output, delivery);
      return;
    }
    this.#enqueue(delivery);
  }

  /** Handles PUBACK (QoS 1) or PUBCOMP (QoS 2); false if the id is unknown. */
  complete(packetId: number): boolean {
    const inflight = this.#inflight;
    if (inflight === undefined || !inflight.delete(packetId)) return false;
    if (this.stored) {
      this.#context.store.deleteInflight(this.clientId, packetId);
    }
    this.drain();
    return true;
  }

  /** Handles PUBREC: moves the message to phase 2; false if unknown. */
  received(packetId: number): boolean {
    const entry = this.#inflight?.get(packetId);
    if (entry === undefined || entry.delivery.qos !== 2) return false;
    if (entry.phase !== 2) {
      entry.phase = 2;
      if (this.stored) {
        this.#context.store.saveInflight(
          this.clientId,
          packetId,
          entry.delivery,
          2,
        );
      }
    }
    return true;
  }

  /**
   * Sends what the queue holds while the inflight window has room. Called
   * after an acknowledgement and when a client comes back.
   */
  drain(): void {
    const output = this.output;
    if (output === undefined) return;
    if (this.#queue === undefined && this.#inStore === 0) return;
    // A PUBLISH too large for the client completes at once, and completing
    // drains again: that nested call leaves the work to this loop, so a long
    // queue does not recurse once per message.
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.output === output) {
        const queue = this.#queue;
        if (queue === undefined || queue.length === 0) {
          if (this.#inStore === 0 || !this.#readPage()) break;
          continue;
        }
        const next = queue.shift(this.#expired ??= this.#makeExpired());
        this.#reportBytes();
        // Only expired ones were left: the store may keep more.
        if (next === undefined) continue;
        if (this.stored) this.#context.store.dequeue(this.clientId, next);
        if (next.qos === 0) {
          if (output.sendPublish(next, undefined, false)) {
            this.#context.delivered(this, next.message);
          } else {
            this.#context.dropped(this.clientId, next.message, "output_full");
          }
          continue;
        }
        this.#sendInflight(output, next);
        if (this.inflightCount >= this.inflightLimit) break;
      }
    } finally {
      this.#draining = false;
    }
    if (this.#roomWaiters !== undefined) this.#wakeRoomWaiters();
  }

  /**
   * Resends every unacknowledged message to a returning client: PUBLISH with
   * DUP set for phase 1, PUBREL for phase 2 [MQTT-4.4.0-1], in their
   * original order; then drains the queue.
   */
  resume(output: SessionOutput): void {
    this.output = output;
    this.disconnectedAt = undefined;
    // Resends complete the queue's turn first: no drain in between.
    this.#draining = true;
    try {
      for (const entry of this.#inflight?.values() ?? []) {
        if (entry.phase === 2) output.sendPubrel(entry.packetId);
        else output.sendPublish(entry.delivery, entry.packetId, true);
      }
    } finally {
      this.#draining = false;
    }
    // [MQTT-3.3.4-9] With the window already full of resent messages, the
    // queue waits for an acknowledgement.
    if (this.inflightCount < this.inflightLimit) this.drain();
  }

  /** Detaches the connection; the session waits offline. */
  detach(now: number): void {
    this.output = undefined;
    this.disconnectedAt = now;
    // An offline queue drops as it always did: nobody waits for it.
    this.#wakeRoomWaiters();
    // The store has every queued message: memory lets go of them.
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0 && this.#pages) {
      this.#inStore += queue.length;
      this.#inStoreBytes += queue.bytes;
      queue.clear();
      this.#reportBytes();
    }
  }

  /**
   * Marks the session no longer stored (its expiry interval fell to 0),
   * first reading back into memory what the store alone kept of its queue.
   * Call it before the session is deleted from the store.
   */
  unstore(): void {
    if (this.#inStore > 0) this.#readPage(this.#inStore);
    this.stored = false;
  }

  /**
   * Drops everything queued, reporting each message; for an ended session.
   * Call it before the session is deleted from the store, which still has
   * the messages it kept alone to report.
   */
  discard(reason: DropReason = "queue_full"): void {
    const items = this.#queue?.clear() ?? [];
    this.#reportBytes();
    for (const d of items) {
      this.#context.dropped(this.clientId, d.message, reason);
    }
    if (this.#inStore > 0) {
      const count = this.#inStore;
      this.#inStore = this.#inStoreBytes = 0;
      const report = (page: readonly Delivery[]): void => {
        for (const d of page) {
          this.#context.dropped(this.clientId, d.message, reason);
        }
      };
      // The store still has the ones memory held: skip them.
      const page = this.#readQueue(items.length, count);
      if (page instanceof Promise) {
        page.then(report, (error) => {
          this.#context.storeReadFailed(this.clientId, error);
        });
      } else if (page !== undefined) report(page);
    }
    this.#inflight = undefined;
    this.#incomingQoS2 = undefined;
    const waiting = this.#roomWaiters;
    this.#roomWaiters = undefined;
    for (const resolve of waiting ?? []) resolve();
  }

  /** What the store keeps of the session besides its messages. */
  record(): SessionRecord {
    return {
      clientId: this.clientId,
      username: this.username,
      expiryInterval: this.expiryInterval,
      createdAt: this.createdAt,
      disconnectedAt: this.disconnectedAt,
      will: this.will,
    };
  }

  /**
   * Writes the whole session to the store (its record, subscriptions,
   * queue, messages in flight and unreleased packet ids) and marks it
   * stored: for a session whose expiry interval rose above 0.
   */
  storeAll(): void {
    const store = this.#context.store;
    this.stored = true;
    store.saveSession(this.record());
    for (const [filter, record] of this.subscriptionEntries()) {
      store.saveSubscription(this.clientId, filter, record);
    }
    for (const delivery of this.#queue ?? []) {
      store.enqueue(this.clientId, delivery);
    }
    for (const entry of this.#inflight?.values() ?? []) {
      store.saveInflight(
        this.clientId,
        entry.packetId,
        entry.delivery,
        entry.phase,
      );
    }
    for (const packetId of this.#incomingQoS2 ?? []) {
      store.saveIncoming(this.clientId, packetId);
    }
  }

  /**
   * Puts back what a store kept of the session, without writing it again:
   * its user name, queue, messages in flight (resent when the client
   * returns) and unreleased packet ids. The subscriptions go through the
   * subscription index.
   */
  restore(stored: StoredSession): void {
    this.stored = true;
    this.will = stored.session.will;
    for (const delivery of stored.queue) this.#enqueueRestored(delivery);
    if (stored.queueInStore !== undefined) {
      this.#inStore = stored.queueInStore.count;
      this.#inStoreBytes = stored.queueInStore.bytes;
    }
    for (const entry of stored.inflight) {
      this.inflight.set(entry.packetId, { ...entry });
    }
    for (const packetId of stored.incomingQoS2) {
      (this.#incomingQoS2 ??= new Set()).add(packetId);
    }
  }

  #enqueueRestored(delivery: Delivery): void {
    const queue = this.#queue ??= new SessionQueue<Delivery>({
      limit: this.#queueLimit,
      maxBytes: this.#queueMaxBytes,
      sizeOf: queuedSize,
      now: this.#context.now,
    });
    // What the store kept goes back whole, over the limits if they shrank.
    queue.append(delivery);
    this.#reportBytes();
  }

  /**
   * Reports a queued delivery that expired, and takes it from the store;
   * made on the first use of the queue.
   */
  #expired: ((expired: Delivery) => void) | undefined;

  #makeExpired(): (expired: Delivery) => void {
    return (expired) => {
      if (this.stored) this.#context.store.dequeue(this.clientId, expired);
      this.#context.dropped(this.clientId, expired.message, "expired");
    };
  }

  /**
   * Reads the oldest deliveries of the queue from the store; `undefined`
   * if it keeps none (or cannot read), so that the session counts none
   * either. Never rejects: a failed read is reported and gives nothing.
   */
  #readQueue(
    skip: number,
    limit: number,
  ): readonly Delivery[] | Promise<readonly Delivery[]> | undefined {
    try {
      return this.#context.store.readQueue?.(this.clientId, skip, limit);
    } catch (error) {
      this.#context.storeReadFailed(this.clientId, error);
      return undefined;
    }
  }

  /**
   * Brings the next page of the queue from the store into memory, after
   * what it holds. True if the page came at once; else it comes later (and
   * drains then), or not at all.
   */
  #readPage(limit = QUEUE_PAGE): boolean {
    if (this.#reading) return false;
    const page = this.#readQueue(this.#queue?.length ?? 0, limit);
    if (!(page instanceof Promise)) return this.#takePage(page);
    this.#reading = true;
    page.then((read) => {
      this.#reading = false;
      if (this.#takePage(read)) this.drain();
    }, (error) => {
      this.#reading = false;
      this.#context.storeReadFailed(this.clientId, error);
    });
    return false;
  }

  /** Appends a page read from the store; false if it held nothing. */
  #takePage(page: readonly Delivery[] | undefined): boolean {
    if (page === undefined || page.length === 0) {
      // The store holds fewer than counted: count what it holds.
      this.#inStore = this.#inStoreBytes = 0;
      return false;
    }
    const queue = this.#queue ??= new SessionQueue<Delivery>({
      limit: this.#queueLimit,
      maxBytes: this.#queueMaxBytes,
      sizeOf: queuedSize,
      now: this.#context.now,
    });
    for (const delivery of page) queue.append(delivery);
    this.#inStore = Math.max(0, this.#inStore - page.length);
    this.#inStoreBytes = this.#inStore === 0
      ? 0
      : Math.max(0, this.#inStoreBytes - page.reduce(addSize, 0));
    this.#reportBytes();
    return true;
  }

  /**
   * Queues in the store only: while offline, or while earlier messages
   * still wait there. A full queue keeps what it has and drops the new
   * message.
   */
  #enqueueInStore(delivery: Delivery): void {
    const size = queuedSize(delivery);
    if (
      (this.queued >= this.#queueLimit ||
        this.queuedBytes + size > this.#queueMaxBytes) &&
      !(this.output !== undefined && this.#context.holdOver(this))
    ) {
      this.#context.dropped(this.clientId, delivery.message, "queue_full");
      return;
    }
    this.#context.store.enqueue(this.clientId, delivery);
    this.#inStore++;
    this.#inStoreBytes += size;
  }

  #enqueue(delivery: Delivery): void {
    if (this.#inStore > 0 || (this.output === undefined && this.#pages)) {
      this.#enqueueInStore(delivery);
      return;
    }
    const size = queuedSize(delivery);
    const fits = this.#context.canQueue(size);
    // The queue is made on first use: an idle client's session has none.
    const queue = this.#queue ??= new SessionQueue<Delivery>({
      limit: this.#queueLimit,
      maxBytes: this.#queueMaxBytes,
      sizeOf: queuedSize,
      now: this.#context.now,
    });
    if (
      this.output !== undefined &&
      (!fits || queue.length >= this.#queueLimit ||
        queue.bytes + size > this.#queueMaxBytes) &&
      this.#context.holdOver(this)
    ) {
      // Backpressure: its publisher is read no more until the queue has
      // room, so the queue goes over its limits by this message only.
      queue.append(delivery);
      this.#reportBytes();
      if (this.stored) this.#context.store.enqueue(this.clientId, delivery);
      return;
    }
    if (!fits) {
      // Past the budget of all queues: the new message goes.
      this.#context.dropped(this.clientId, delivery.message, "queue_full");
      return;
    }
    const dropped = queue.push(delivery);
    this.#reportBytes();
    const store = this.stored ? this.#context.store : undefined;
    store?.enqueue(this.clientId, delivery);
    for (const { item, reason } of dropped) {
      store?.dequeue(this.clientId, item);
      this.#context.dropped(this.clientId, item.message, reason);
    }
  }

  /** Tells the context how the queue's bytes changed since last told. */
  #reportBytes(): void {
    const bytes = this.#queue?.bytes ?? 0;
    const delta = bytes - this.#reportedBytes;
    if (delta === 0) return;
    this.#reportedBytes = bytes;
    this.#context.queuedBytesChanged(delta);
  }

  #sendInflight(output: SessionOutput, delivery: Delivery): void {
    const packetId = this.#allocatePacketId();
    this.inflight.set(packetId, { packetId, delivery, phase: 1 });
    if (this.stored) {
      this.#context.store.saveInflight(this.clientId, packetId, delivery, 1);
    }
    output.sendPublish(delivery, packetId, false);
    this.#context.delivered(this, delivery.message);
  }

  /** The next packet id not in flight, cycling 1 to 65,535 [MQTT-2.3.1-2]. */
  #allocatePacketId(): number {
    for (;;) {
      const id = this.#nextPacketId;
      this.#nextPacketId = id === 0xffff ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
  }
}
