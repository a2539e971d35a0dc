/**
 * What a node sends to the other nodes in one turn, and what the
 * acknowledgements of its publishers wait for: the messages of a turn for
 * one node go as one PUBLISH (QoS 0) and one stream entry (QoS 1 and 2),
 * so that Redis sees a few commands per turn rather than one per message.
 * Private to the cluster bus.
 *
 * @module
 */

import type { RedisClient, RedisReply } from "../redis/mod.ts";
import { BatchWriter } from "./_frames.ts";

/**
 * Bytes of commands waiting to be written to Redis past which a turn's QoS
 * 0 messages for other nodes are dropped (and counted) rather than queued:
 * a Redis that reads slower than a node produces, or that is unreachable,
 * would otherwise hold their bytes in this process without bound. QoS 1
 * and 2 are not dropped: their publishers wait for Redis.
 */
export const MAX_UNWRITTEN_BYTES = 16 * 1024 * 1024;

/** Where the batches go, and whom to tell when they cannot. */
export interface SenderTarget {
  /** The channel (`q0`) or stream of a node. */
  key(kind: "q0" | "stream", nodeId: string): string;
  /** Whether a node is still known: the writers of a node gone go. */
  known(nodeId: string): boolean;
  /** Reports a failure of a kind. */
  failed(kind: string, error: unknown): void;
  /** Reports QoS 0 messages dropped, with the bytes Redis had not taken. */
  dropped(count: number, unwritten: number): void;
}

export class BatchSender {
  readonly #redis: RedisClient;
  readonly #target: SenderTarget;
  /**
   * This turn's messages for each node, sent when the turn's work is done;
   * the writers stay from turn to turn, for their buffers.
   */
  readonly #batches: Map<string, { q0: BatchWriter; q12: BatchWriter }> =
    new Map();
  #sending = false;
  /** Settles what `flush()` waits for with this turn's appends. */
  #turnAppended: ((added: Promise<unknown>) => void) | undefined;
  /** Stream appends not yet answered, and what waits for them all. */
  #appends = 0;
  #appended: Promise<void> | undefined;
  /** Messages sent to other nodes (one per node). */
  sent = 0;
  /** QoS 0 messages for other nodes dropped (see `MAX_UNWRITTEN_BYTES`). */
  dropped = 0;

  constructor(redis: RedisClient, target: SenderTarget) {
    this.#redis = redis;
    this.#target = target;
  }

  /** The batch a message for a node goes into, sent at the end of this turn. */
  batchOf(nodeId: string, qos: number): BatchWriter {
    this.sent++;
    let batches = this.#batches.get(nodeId);
    if (batches === undefined) {
      batches = { q0: new BatchWriter(), q12: new BatchWriter() };
      this.#batches.set(nodeId, batches);
    }
    // What the publisher's acknowledgement waits for, from now on.
    if (qos !== 0 && this.#turnAppended === undefined) {
      let settle!: (added: Promise<unknown>) => void;
      this.#track(new Promise<unknown>((resolve) => settle = resolve));
      this.#turnAppended = settle;
    }
    if (!this.#sending) {
      this.#sending = true;
      queueMicrotask(this.#send);
    }
    return qos === 0 ? batches.q0 : batches.q12;
  }

  /**
   * Resolves once every QoS 1 and 2 message sent to other nodes so far is
   * in their streams; rejects if one could not be added.
   */
  flush(): Promise<void> | undefined {
    return this.#appended;
  }

  /** Sends this turn's batches, one PUBLISH and one XADD per node. */
  readonly #send = (): void => {
    this.#sending = false;
    const target = this.#target;
    const appends: Promise<RedisReply>[] = [];
    for (const [nodeId, batch] of this.#batches) {
      if (batch.q0.count > 0 && this.#shedding()) {
        const count = batch.q0.count;
        batch.q0.clear();
        this.sent -= count;
        this.dropped += count;
        target.dropped(count, this.#redis.unwritten);
      } else if (batch.q0.count > 0) {
        this.#redis.send([
          "PUBLISH",
          target.key("q0", nodeId),
          batch.q0.take(),
        ]).catch((error) => target.failed("publish", error));
      }
      if (batch.q12.count > 0) {
        appends.push(this.#redis.send([
          "XADD",
          target.key("stream", nodeId),
          "*",
          "b",
          batch.q12.take(),
        ]));
      }
      // The writers of a node gone go with it, once its last batch is out.
      if (!target.known(nodeId)) this.#batches.delete(nodeId);
    }
    const settle = this.#turnAppended;
    this.#turnAppended = undefined;
    settle?.(Promise.all(appends));
  };

  /** Whether Redis holds so many unwritten bytes that QoS 0 is dropped. */
  #shedding(): boolean {
    return this.#redis.unwritten > MAX_UNWRITTEN_BYTES;
  }

  /** Counts an append in what `flush()` waits for. */
  #track(added: Promise<unknown>): void {
    this.#appends++;
    const done = added.then(
      () => {},
      (error) => {
        this.#target.failed("append", error);
        throw error;
      },
    ).finally(() => {
      if (--this.#appends === 0) this.#appended = undefined;
    });
    const all: Promise<void> = this.#appended === undefined
      ? done
      : Promise.all([this.#appended, done]).then(() => {});
    all.catch(() => {});
    this.#appended = all;
  }
}
