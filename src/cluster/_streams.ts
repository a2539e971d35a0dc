/**
 * The Redis streams the nodes of a cluster send QoS 1 and 2 messages
 * through: one per node, read with one consumer group by its node (and by
 * the node that adopts it when it is gone). Each batch read is routed,
 * made durable by the store, then acknowledged and deleted. Private to the
 * cluster bus.
 *
 * @module
 */

import type { Message } from "../message.ts";
import { decodeMessage } from "../message_codec.ts";
import { type RedisClient, RedisError, replyArray } from "../redis/mod.ts";
import { decodeBatch, streamEntries } from "./_frames.ts";
import type { GroupKey } from "./_interest.ts";

/** The consumer group every node reads its stream with. */
const GROUP = "gmqtt";
/** Stream entries read at once. */
const READ_BATCH = 256;
/** Milliseconds a read blocks waiting for new entries. */
const READ_BLOCK = 1000;

/** What a {@linkcode StreamReader} hands what it reads to. */
export interface StreamTarget {
  /** Routes a message here, serving only the shared groups given. */
  route(
    message: Message,
    groups: readonly GroupKey[],
  ): Promise<void> | undefined;
  /** The store's durability barrier. */
  flush(): Promise<void> | undefined;
  /** Reports a failure of a kind (logged once until things work). */
  failed(kind: string, error: unknown, fields?: Record<string, unknown>): void;
}

/** Reads streams as one node's consumer. */
export class StreamReader {
  readonly #redis: RedisClient;
  /** The connection of the blocking reads. */
  readonly #reader: RedisClient;
  readonly #consumer: string;
  readonly #target: StreamTarget;
  /** Messages read from streams. */
  received = 0;

  constructor(
    redis: RedisClient,
    reader: RedisClient,
    consumer: string,
    target: StreamTarget,
  ) {
    this.#redis = redis;
    this.#reader = reader;
    this.#consumer = consumer;
    this.#target = target;
  }

  /** Makes a stream and its group, unless they are there. */
  async createGroup(stream: string): Promise<void> {
    try {
      await this.#redis.send([
        "XGROUP",
        "CREATE",
        stream,
        GROUP,
        "0",
        "MKSTREAM",
      ]);
    } catch (error) {
      if (!(error instanceof RedisError && error.code === "BUSYGROUP")) {
        throw error;
      }
    }
  }

  /**
   * Reads a stream until `closed()`: first what this consumer was given
   * before and did not acknowledge, then what comes.
   */
  async readUntil(stream: string, closed: () => boolean): Promise<void> {
    let from = "0";
    let delay = 100;
    while (!closed()) {
      try {
        const done = await this.#take(
          stream,
          this.#readGroup(stream, from, READ_BLOCK),
        );
        // Once nothing is left of before, only what is new.
        if (done === 0 && from === "0") from = ">";
        delay = 100;
      } catch (error) {
        if (closed()) return;
        if (error instanceof RedisError && error.code === "NOGROUP") {
          // Redis lost the stream (a restart): make it again.
          await this.createGroup(stream).catch(() => {});
        } else {
          this.#target.failed("read", error);
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 2000);
        }
        from = "0";
      }
    }
  }

  /**
   * Takes everything from the stream of a node that is gone: what it never
   * read, then what it was given and did not acknowledge (claimed from
   * it). A stream that is not there is nothing to take.
   */
  async drain(stream: string): Promise<void> {
    try {
      while (await this.#take(stream, this.#readGroup(stream, ">")) > 0);
      for (;;) {
        const claimed = await this.#redis.send([
          "XAUTOCLAIM",
          stream,
          GROUP,
          this.#consumer,
          0,
          "0",
          "COUNT",
          READ_BATCH,
        ]);
        const entries = replyArray(claimed)[1];
        if (!Array.isArray(entries) || entries.length === 0) break;
        await this.#take(stream, this.#readGroup(stream, "0"));
      }
    } catch (error) {
      if (!(error instanceof RedisError && error.code === "NOGROUP")) {
        throw error;
      }
    }
  }

  /**
   * The XREADGROUP of a batch of a stream as this consumer: from `0` (what
   * it was given and did not acknowledge) or `>` (what is new), blocking
   * for `block` milliseconds when given.
   */
  #readGroup(
    stream: string,
    from: string,
    block?: number,
  ): (string | number)[] {
    return [
      "XREADGROUP",
      "GROUP",
      GROUP,
      this.#consumer,
      "COUNT",
      READ_BATCH,
      ...(block === undefined ? [] : ["BLOCK", block]),
      "STREAMS",
      stream,
      from,
    ];
  }

  /**
   * Runs a read of stream entries, routes them, waits for the store, then
   * acknowledges and deletes them; resolves with how many there were.
   */
  async #take(stream: string, read: (string | number)[]): Promise<number> {
    const reply = await this.#reader.send(read, {
      timeout: READ_BLOCK + 10_000,
    });
    const entries = streamEntries(reply);
    if (entries.length === 0) return 0;
    const target = this.#target;
    const routed: Promise<void>[] = [];
    const ids: string[] = [];
    for (const [id, fields] of entries) {
      ids.push(id);
      if (fields === undefined) continue;
      try {
        for (const [bytes, groups] of decodeBatch(fields)) {
          this.received++;
          const done = target.route(decodeMessage(bytes), groups);
          if (done !== undefined) routed.push(done);
        }
      } catch (error) {
        target.failed("message", error, { stream });
      }
    }
    if (routed.length > 0) await Promise.all(routed);
    await target.flush();
    // Not waited for: the next read goes at once. An acknowledgement lost
    // (or a crash before it) leaves the entries pending, read again at the
    // next start or by the adopter: between nodes, at least once.
    this.#redis.pipeline([
      ["XACK", stream, GROUP, ...ids],
      ["XDEL", stream, ...ids],
    ]).catch((error) => target.failed("acknowledge", error));
    return entries.length;
  }
}
