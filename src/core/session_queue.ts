/**
 * The bounded queue of messages waiting for a session's client.
 *
 * @module
 */

import type { QoS } from "../../packets/types.ts";
import type { DropReason as AnyDropReason } from "../types.ts";

/** Why {@linkcode SessionQueue} dropped an item: a narrower `DropReason`. */
export type DropReason = Extract<AnyDropReason, "expired" | "queue_full">;

/** What a {@linkcode SessionQueue} needs to know of an item. */
export interface QueuedItem {
  /** QoS 0 items are dropped first when the queue is full. */
  readonly qos: QoS;
  /** When the item expires, in milliseconds of the queue's clock. */
  readonly expiresAt?: number | undefined;
}

/** An item that {@linkcode SessionQueue.push} dropped, and why. */
export interface DroppedItem<T> {
  /** The dropped item. */
  item: T;
  /** Why it was dropped. */
  reason: DropReason;
}

/** Options for {@linkcode SessionQueue}. */
export interface SessionQueueOptions<T extends QueuedItem = QueuedItem> {
  /**
   * Most items held; a non-negative integer or `Infinity`. 0 queues nothing.
   */
  limit: number;
  /**
   * Most bytes held, as `sizeOf` counts them; `Infinity` by default. An item
   * larger than this on its own is dropped when pushed.
   */
  maxBytes?: number;
  /**
   * The bytes an item counts against `maxBytes`; every item counts 0 by
   * default. It must give the same answer for an item every time.
   */
  sizeOf?: (item: T) => number;
  /** Current time in milliseconds, `Date.now` by default; tests fake it. */
  now?: () => number;
}

/** A growable FIFO ring buffer that tags each item with a sequence number. */
/**
 * The storage of an empty ring, shared: a ring never writes to it (it grows
 * into new arrays first), so an idle session's queue allocates nothing.
 */
const NO_ITEMS: readonly never[] = Object.freeze([]);

class Ring<T> {
  #items: (T | undefined)[] = NO_ITEMS as never[];
  #seqs: number[] = NO_ITEMS as never[];
  #head = 0;
  length = 0;

  /** Sequence number of the oldest item; `Infinity` when empty. */
  get headSeq(): number {
    return this.length === 0 ? Infinity : this.#seqs[this.#head] as number;
  }

  /** The oldest item; only call when `length > 0`. */
  peek(): T {
    return this.#items[this.#head] as T;
  }

  push(item: T, seq: number): void {
    const capacity = this.#items.length;
    if (this.length === capacity) this.#grow(capacity);
    const index = (this.#head + this.length) & (this.#items.length - 1);
    this.#items[index] = item;
    this.#seqs[index] = seq;
    this.length++;
  }

  /** Removes the oldest item; only call when `length > 0`. */
  shift(): T {
    const head = this.#head;
    const item = this.#items[head] as T;
    this.#items[head] = undefined;
    this.#head = (head + 1) & (this.#items.length - 1);
    this.length--;
    return item;
  }

  /** The item at position `i` from the oldest. */
  at(i: number): T {
    return this.#items[(this.#head + i) & (this.#items.length - 1)] as T;
  }

  /** The sequence number of the item at position `i` from the oldest. */
  seqAt(i: number): number {
    return this.#seqs[(this.#head + i) & (this.#items.length - 1)] as number;
  }

  /**
   * Removes the items for which `drop` is true, keeping the order of the
   * others, and appends them with their sequence numbers to `out`.
   */
  removeWhere(drop: (item: T) => boolean, out: [T, number][]): void {
    const mask = this.#items.length - 1;
    let kept = 0;
    for (let i = 0; i < this.length; i++) {
      const from = (this.#head + i) & mask;
      const item = this.#items[from] as T;
      const seq = this.#seqs[from] as number;
      if (drop(item)) {
        out.push([item, seq]);
        continue;
      }
      const to = (this.#head + kept) & mask;
      this.#items[to] = item;
      this.#seqs[to] = seq;
      kept++;
    }
    for (let i = kept; i < this.length; i++) {
      this.#items[(this.#head + i) & mask] = undefined;
    }
    this.length = kept;
  }

  /** Empties the ring and releases its storage. */
  clear(): void {
    this.#items = NO_ITEMS as never[];
    this.#seqs = NO_ITEMS as never[];
    this.#head = 0;
    this.length = 0;
  }

  #grow(capacity: number): void {
    const size = capacity === 0 ? 8 : capacity * 2;
    const items = new Array<T | undefined>(size).fill(undefined);
    const seqs = new Array<number>(size).fill(0);
    for (let i = 0; i < this.length; i++) {
      const from = (this.#head + i) & (capacity - 1);
      items[i] = this.#items[from];
      seqs[i] = this.#seqs[from] as number;
    }
    this.#items = items;
    this.#seqs = seqs;
    this.#head = 0;
  }
}

/**
 * A session's bounded queue of outgoing messages, oldest first, for a client
 * that is offline or whose inflight window is full.
 *
 * When an item is pushed onto a full queue (one holding `limit` items, or
 * without room for the item's bytes under `maxBytes`), the queue drops items
 * to make room, in this order:
 * 1. expired items (`expiresAt <= now()`), all of those it finds;
 * 2. else the oldest QoS 0 item, which is the pushed item itself if it is
 *    QoS 0 and no QoS 0 item is queued;
 * 3. else the oldest item.
 *
 * `push` returns every dropped item with its reason. `push` and `shift` take
 * constant amortized time; a push onto a full queue looks for expired items
 * only once the earliest expiry it has seen has passed.
 *
 * @example Queue messages for an offline client
 * ```ts
 * import { SessionQueue } from "./session_queue.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * interface Item {
 *   qos: 0 | 1 | 2;
 *   name: string;
 * }
 * const queue = new SessionQueue<Item>({ limit: 2 });
 * queue.push({ qos: 1, name: "a" });
 * queue.push({ qos: 0, name: "b" });
 * const dropped = queue.push({ qos: 1, name: "c" });
 *
 * // The queue was full: the QoS 0 item went first.
 * deepStrictEqual(dropped.map((d) => [d.item.name, d.reason]), [
 *   ["b", "queue_full"],
 * ]);
 * deepStrictEqual([...queue].map((item) => item.name), ["a", "c"]);
 * ```
 *
 * @typeParam T The queued items, such as messages.
 */
export class SessionQueue<T extends QueuedItem> {
  #qos0: Ring<T> = new Ring();
  #qos12: Ring<T> = new Ring();
  #seq = 0;
  #limit: number;
  #maxBytes: number;
  #sizeOf: ((item: T) => number) | undefined;
  #bytes = 0;
  #now: () => number;
  /**
   * No item queued expires before this: the earliest expiry pushed since the
   * last scan for expired items.
   */
  #earliestExpiry = Infinity;

  /**
   * Makes an empty queue.
   *
   * @param options The limits and the clock; see
   * {@linkcode SessionQueueOptions}.
   * @throws {RangeError} If `limit` or `maxBytes` is not a non-negative
   * integer or `Infinity`.
   */
  constructor(options: SessionQueueOptions<T>) {
    this.#limit = checkLimit(options.limit);
    this.#maxBytes = checkLimit(options.maxBytes ?? Infinity, "maxBytes");
    this.#sizeOf = options.sizeOf;
    this.#now = options.now ?? Date.now;
  }

  /** The number of items queued, expired ones not yet removed included. */
  get length(): number {
    return this.#qos0.length + this.#qos12.length;
  }

  /** The bytes of the items queued, as `sizeOf` counts them. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Most items held. Lowering it drops nothing at once: the next `push` drops
   * items down to the new limit.
   *
   * @throws {RangeError} If set to anything but a non-negative integer or
   * `Infinity`.
   */
  get limit(): number {
    return this.#limit;
  }

  set limit(value: number) {
    this.#limit = checkLimit(value);
  }

  /**
   * Appends `item`, first dropping items if the queue is full (see the
   * class's drop policy).
   *
   * @example Push onto a full queue of QoS 1 items
   * ```ts
   * import { SessionQueue } from "./session_queue.ts";
   * import { deepStrictEqual } from "node:assert/strict";
   *
   * const queue = new SessionQueue<{ qos: 0 | 1 | 2; id: number }>({
   *   limit: 1,
   * });
   * queue.push({ qos: 1, id: 1 });
   * // A QoS 0 item is dropped before any QoS 1 item, so it drops itself.
   * deepStrictEqual(queue.push({ qos: 0, id: 2 }), [
   *   { item: { qos: 0, id: 2 }, reason: "queue_full" },
   * ]);
   * // Otherwise the oldest item goes.
   * deepStrictEqual(queue.push({ qos: 2, id: 3 }), [
   *   { item: { qos: 1, id: 1 }, reason: "queue_full" },
   * ]);
   * ```
   * @param item The item to queue.
   * @returns The dropped items, oldest first, each with its reason; usually
   * empty.
   */
  push(item: T): DroppedItem<T>[] {
    const sizeOf = this.#sizeOf;
    const size = sizeOf === undefined ? 0 : sizeOf(item);
    if (
      this.#qos0.length + this.#qos12.length < this.#limit &&
      this.#bytes + size <= this.#maxBytes
    ) {
      this.#append(item, size);
      return [];
    }
    return this.#pushFull(item, size);
  }

  /**
   * Appends `item` over the queue's limits, dropping nothing: for a caller
   * that bounds the excess itself (a publisher paused until the queue has
   * room). The next `push` drops down to the limits again.
   *
   * @example Hold one item over the limit
   * ```ts
   * import { SessionQueue } from "./session_queue.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const queue = new SessionQueue<{ qos: 0 | 1 | 2 }>({ limit: 1 });
   * queue.push({ qos: 1 });
   * queue.append({ qos: 1 });
   * strictEqual(queue.length, 2);
   * ```
   * @param item The item to queue.
   */
  append(item: T): void {
    const sizeOf = this.#sizeOf;
    this.#append(item, sizeOf === undefined ? 0 : sizeOf(item));
  }

  /** `push` when the item does not fit: drops by the class's policy. */
  #pushFull(item: T, size: number): DroppedItem<T>[] {
    const dropped: DroppedItem<T>[] = [];
    const limit = this.#limit;
    const maxBytes = this.#maxBytes - size;
    if (limit === 0 || maxBytes < 0) {
      dropped.push({ item, reason: "queue_full" });
      return dropped;
    }
    if (this.#now() >= this.#earliestExpiry) {
      for (const expired of this.#removeExpired()) {
        dropped.push({ item: expired, reason: "expired" });
      }
    }
    const sizeOf = this.#sizeOf;
    while (this.length >= limit || this.#bytes > maxBytes) {
      let removed: T;
      if (this.#qos0.length > 0) {
        removed = this.#qos0.shift();
      } else if (item.qos === 0) {
        dropped.push({ item, reason: "queue_full" });
        return dropped;
      } else {
        removed = this.#qos12.shift();
      }
      if (sizeOf !== undefined) this.#bytes -= sizeOf(removed);
      dropped.push({ item: removed, reason: "queue_full" });
    }
    this.#append(item, size);
    return dropped;
  }

  #append(item: T, size: number): void {
    const expiresAt = item.expiresAt;
    if (expiresAt !== undefined && expiresAt < this.#earliestExpiry) {
      this.#earliestExpiry = expiresAt;
    }
    (item.qos === 0 ? this.#qos0 : this.#qos12).push(item, this.#seq++);
    this.#bytes += size;
  }

  /**
   * Removes and returns the oldest item that has not expired. Expired items
   * before it are removed too and handed to `onExpired`.
   *
   * @example Take the next message to send
   * ```ts
   * import { SessionQueue } from "./session_queue.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * let now = 0;
   * const queue = new SessionQueue<{ qos: 0 | 1 | 2; expiresAt?: number }>({
   *   limit: 10,
   *   now: () => now,
   * });
   * const stale = { qos: 1, expiresAt: 5 } as const;
   * const fresh = { qos: 0 } as const;
   * queue.push(stale);
   * queue.push(fresh);
   *
   * now = 5;
   * const expired: unknown[] = [];
   * strictEqual(queue.shift((item) => expired.push(item)), fresh);
   * strictEqual(expired[0], stale);
   * strictEqual(queue.shift(), undefined);
   * ```
   * @param onExpired Called with each expired item removed on the way.
   * @returns The oldest live item, or `undefined` if there is none.
   */
  shift(onExpired?: (item: T) => void): T | undefined {
    const qos0 = this.#qos0;
    const qos12 = this.#qos12;
    let now: number | undefined;
    const sizeOf = this.#sizeOf;
    while (qos0.length + qos12.length > 0) {
      const ring = qos0.headSeq < qos12.headSeq ? qos0 : qos12;
      const item = ring.shift();
      if (sizeOf !== undefined) this.#bytes -= sizeOf(item);
      const expiresAt = item.expiresAt;
      if (expiresAt !== undefined && expiresAt <= (now ??= this.#now())) {
        onExpired?.(item);
        continue;
      }
      return item;
    }
    return undefined;
  }

  /**
   * Removes the expired items.
   *
   * @example Purge expired messages
   * ```ts
   * import { SessionQueue } from "./session_queue.ts";
   * import { deepStrictEqual } from "node:assert/strict";
   *
   * let now = 0;
   * const queue = new SessionQueue<{ qos: 0 | 1 | 2; expiresAt?: number }>({
   *   limit: 10,
   *   now: () => now,
   * });
   * queue.push({ qos: 1, expiresAt: 10 });
   * queue.push({ qos: 1 });
   * now = 10;
   * deepStrictEqual(queue.removeExpired(), [{ qos: 1, expiresAt: 10 }]);
   * deepStrictEqual([...queue], [{ qos: 1 }]);
   * ```
   * @returns The removed items, oldest first.
   */
  removeExpired(): T[] {
    return this.#removeExpired();
  }

  /**
   * Removes every item.
   *
   * @example Empty a queue
   * ```ts
   * import { SessionQueue } from "./session_queue.ts";
   * import { strictEqual } from "node:assert/strict";
   *
   * const queue = new SessionQueue<{ qos: 0 | 1 | 2 }>({ limit: 10 });
   * queue.push({ qos: 0 });
   * queue.push({ qos: 2 });
   * strictEqual(queue.clear().length, 2);
   * strictEqual(queue.length, 0);
   * ```
   * @returns The removed items, oldest first.
   */
  clear(): T[] {
    const items = [...this];
    this.#qos0.clear();
    this.#qos12.clear();
    this.#earliestExpiry = Infinity;
    this.#bytes = 0;
    return items;
  }

  /**
   * Lists the items, oldest first, without removing them.
   *
   * @example List a queue
   * ```ts
   * import { SessionQueue } from "./session_queue.ts";
   * import { deepStrictEqual } from "node:assert/strict";
   *
   * const queue = new SessionQueue<{ qos: 0 | 1 | 2; n: number }>({
   *   limit: 10,
   * });
   * queue.push({ qos: 1, n: 1 });
   * queue.push({ qos: 0, n: 2 });
   * deepStrictEqual([...queue].map((item) => item.n), [1, 2]);
   * ```
   * @returns An iterator of the items.
   */
  *[Symbol.iterator](): IterableIterator<T> {
    const qos0 = this.#qos0;
    const qos12 = this.#qos12;
    let i = 0;
    let j = 0;
    while (i < qos0.length || j < qos12.length) {
      const seq0 = i < qos0.length ? qos0.seqAt(i) : Infinity;
      const seq12 = j < qos12.length ? qos12.seqAt(j) : Infinity;
      yield seq0 < seq12 ? qos0.at(i++) : qos12.at(j++);
    }
  }

  /** Removes expired items and makes `#earliestExpiry` exact again. */
  #removeExpired(): T[] {
    const now = this.#now();
    let earliest = Infinity;
    const isExpired = (item: T): boolean => {
      const expiresAt = item.expiresAt;
      if (expiresAt === undefined) return false;
      if (expiresAt <= now) return true;
      if (expiresAt < earliest) earliest = expiresAt;
      return false;
    };
    const removed0: [T, number][] = [];
    const removed12: [T, number][] = [];
    this.#qos0.removeWhere(isExpired, removed0);
    this.#qos12.removeWhere(isExpired, removed12);
    this.#earliestExpiry = earliest;
    const sizeOf = this.#sizeOf;
    if (sizeOf !== undefined) {
      for (const [item] of removed0) this.#bytes -= sizeOf(item);
      for (const [item] of removed12) this.#bytes -= sizeOf(item);
    }
    if (removed0.length === 0) return removed12.map(([item]) => item);
    if (removed12.length === 0) return removed0.map(([item]) => item);
    return merge(removed0, removed12);
  }
}

/** Merges two lists sorted by sequence number into one list of items. */
function merge<T>(a: [T, number][], b: [T, number][]): T[] {
  const items: T[] = [];
  let i = 0;
  let j = 0;
  for (;;) {
    const x = a[i];
    const y = b[j];
    if (x === undefined && y === undefined) return items;
    if (y === undefined || (x !== undefined && x[1] < y[1])) {
      items.push((x as [T, number])[0]);
      i++;
    } else {
      items.push(y[0]);
      j++;
    }
  }
}

/** Returns `limit` if it is a non-negative integer or `Infinity`. */
function checkLimit(limit: number, name = "limit"): number {
  if (limit === Infinity || (Number.isInteger(limit) && limit >= 0)) {
    return limit;
  }
  throw new RangeError(
    `Cannot set the session queue ${name}: ${limit} is not a non-negative integer or Infinity`,
  );
}
