/**
 * The store on Redis: what must survive a restart, kept where every node
 * of a cluster can read it, so that a session resumes on any node.
 *
 * **Group commit.** Every write of one event-loop turn is kept in order
 * and sent in one `MULTI` … `EXEC` at the end of the turn (a microtask), so
 * a turn's writes are applied together or not at all;
 * {@linkcode RedisStore.flush} resolves once that `EXEC` answered. One
 * commit is in flight at a time: the writes of the turns meanwhile go
 * together in the next. Every write sets a value or removes one (never an
 * increment), so a commit that failed, or whose answer was lost, is sent
 * again whole with the next one, after a growing delay (100 ms to 5 s) if
 * no write brings one sooner.
 *
 * **Keys**, each under the prefix (`gmqtt:` by default):
 *
 * | key                   | type       | holds                                                       |
 * | --------------------- | ---------- | ----------------------------------------------------------- |
 * | `schema`              | string     | the layout's version, checked at open                       |
 * | `retained`            | hash       | topic → retained message                                    |
 * | `owned:{nodeId}`      | set        | the client ids of the sessions the node owns                |
 * | `session:{clientId}`  | hash       | `r` the session record, `o` the node that owns it           |
 * | `subs:{clientId}`     | hash       | topic filter → subscription (JSON)                          |
 * | `queue:{clientId}`    | sorted set | `{seq}:{size}` per queued delivery, scored by `seq`         |
 * | `queued:{clientId}`   | hash       | `seq` → queued delivery                                     |
 * | `inflight:{clientId}` | sorted set | packet id, scored by `seq * 2 + phase - 1`                  |
 * | `sent:{clientId}`     | hash       | packet id → delivery in flight                              |
 * | `incoming:{clientId}` | set        | packet ids of incoming QoS 2 messages not yet released      |
 *
 * The cluster's bus keeps its own keys under the same prefix (`node:`,
 * `nodes`, `interest`, `stream:`, ...): none of these names is one of its.
 *
 * `seq` orders a session's queue and its messages in flight: the store
 * counts it up in memory, past the highest it read of each session it
 * loads. Deliveries, records and retained messages are binary (the
 * payload as it is), a format byte first. A session moves between nodes
 * with a Lua script that reads it and changes its owner at once.
 *
 * @module
 */

import type { Message } from "../message.ts";
import { decodeMessage, encodeMessage } from "../message_codec.ts";
import {
  RedisClient,
  type RedisClientOptions,
  RedisError,
  type RedisLogger,
  type RedisReply,
  replyArray,
  replyBytes,
  replyOptionalText,
  replyText,
} from "../redis/mod.ts";
import type {
  Delivery,
  SessionRecord,
  Store,
  StoredSession,
  StoredState,
  SubscriptionRecord,
} from "../core/ports.ts";
import { queuedSize } from "../core/session.ts";
import type { Command } from "./_redis_batch.ts";
import { Commits } from "./_redis_commit.ts";
import {
  adoptCommand,
  allKeys,
  Keys,
  readQueueCommand,
  type ReadSession,
  readSessionCommand,
  readSessionReply,
  SCRIPTS,
} from "./_redis_layout.ts";
import {
  decodeDelivery,
  encodeDelivery,
  encodeRecord,
  encodeSubscription,
  inflightScore,
  memberSeq,
  queueMember,
} from "./_redis_rows.ts";

/** The key layout this version writes and reads. */
export const REDIS_SCHEMA_VERSION = 1;

/** Sessions read per round trip when loading. */
const SESSIONS_PER_READ = 256;

/** Options of a {@linkcode RedisStore} over a client of its caller. */
export interface RedisStoreOptions {
  /**
   * This node's id, unique in the cluster and the same across its
   * restarts: `load()` gives back the sessions of this id.
   */
  nodeId: string;
  /** What every key starts with; `gmqtt:` by default. */
  prefix?: string;
  /**
   * Where failed commits are reported, such as the broker's `Logger`;
   * nowhere by default.
   */
  logger?: RedisLogger;
}

/**
 * Options of {@linkcode RedisStore.open}: the store's, and the Redis
 * client's (timeouts, reconnection, TLS roots; its `logger` is the
 * store's).
 */
export interface RedisStoreOpenOptions
  extends RedisStoreOptions, RedisClientOptions {}

/**
 * A Redis store that cannot be used; the message names the URL, its
 * password masked.
 *
 * @example Tell a store error from others
 * ```ts
 * import { RedisStoreError } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const error = new RedisStoreError("redis://127.0.0.1:6379/0", "refused");
 * strictEqual(error.message, "Cannot use the Redis store at redis://127.0.0.1:6379/0: refused");
 * ```
 */
export class RedisStoreError extends Error {
  /** The Redis URL, its password masked. */
  readonly url: string;

  /**
   * Makes the error; its message starts "Cannot use the Redis store at URL".
   *
   * @param url The URL, its password masked.
   * @param message What is wrong.
   * @param options The error underneath.
   */
  constructor(url: string, message: string, options?: ErrorOptions) {
    super(`Cannot use the Redis store at ${url}: ${message}`, options);
    this.name = "RedisStoreError";
    this.url = url;
  }
}

/** Where a queued delivery is, for `dequeue`. */
interface QueuedAt {
  readonly clientId: string;
  readonly seq: number;
  readonly member: string;
}

/**
 * The {@linkcode Store} on Redis (7.x, or Valkey), shared by the nodes of
 * a cluster: each node owns the sessions of its clients, and a session
 * moves to the node its client connects to
 * ({@linkcode RedisStore.loadSession}) or to a node that adopts it when
 * its own is gone ({@linkcode RedisStore.adoptSessions}). Offline queues
 * stay in Redis and are read a page at a time when their client returns.
 *
 * While Redis cannot be reached, a commit waits for the client to
 * reconnect (up to its `offlineTimeout`, 10 s by default) before it fails
 * and its writes wait for the next. A node writes only the sessions it
 * saved, loaded or adopted; the cluster makes sure that one node at a time
 * holds a session.
 *
 * Open it with {@linkcode RedisStore.open}, or make one over a
 * {@linkcode RedisClient} of your own; close it once the server has
 * stopped.
 *
 * @example Keep a retained message across two servers
 * ```ts ignore
 * import { RedisStore, Server } from "@gmqtt/broker";
 *
 * const url = "redis://127.0.0.1:6379/0";
 * const store = await RedisStore.open(url, { nodeId: "broker-a" });
 * const first = new Server({ store });
 * await first.publish({ topic: "a/b", payload: "kept", retain: true });
 * await first.stop();
 * await store.close();
 *
 * const again = await RedisStore.open(url, { nodeId: "broker-a" });
 * const second = new Server({ store: again });
 * await second.start();
 * console.log(second.retained("a/b").length); // 1
 * await second.stop();
 * await again.close();
 * ```
 */
export class RedisStore implements Store {
  /** This node's id. */
  readonly nodeId: string;
  /** What every key starts with. */
  readonly prefix: string;
  /** The Redis URL, its password masked. */
  readonly url: string;
  readonly #client: RedisClient;
  #owned = false;
  readonly #keys: Keys;
  readonly #logger: RedisLogger | undefined;
  /** Client ids of the sessions this store writes. */
  readonly #sessions: Set<string> = new Set();
  /** The place of each message in flight, by client id and packet id. */
  readonly #inflight: Map<string, Map<number, number>> = new Map();
  /** Queued deliveries by object. */
  readonly #queued: WeakMap<Delivery, QueuedAt> = new WeakMap();
  /** The next place in a session's queue or messages in flight. */
  #nextSeq = 1;
  readonly #commits: Commits;
  /** Resolves once the schema version is checked. */
  #checked: Promise<void> | undefined;
  #closed = false;
  #logged = false;

  /**
   * Makes a store over a client of the caller's, who closes it; the
   * schema version is checked before the first command.
   *
   * @example Share one client
   * ```ts ignore
   * import { RedisClient, RedisStore } from "@gmqtt/broker";
   *
   * await using client = new RedisClient("redis://127.0.0.1:6379/0");
   * const store = new RedisStore(client, { nodeId: "broker-a" });
   * const state = await store.load();
   * await store.close(); // The client stays open.
   * ```
   * @param client The Redis client.
   * @param options The node id, key prefix and logger.
   * @throws {TypeError} If the node id is empty or the prefix not a string.
   */
  constructor(client: RedisClient, options: RedisStoreOptions) {
    const { nodeId, prefix = "gmqtt:" } = options;
    if (typeof nodeId !== "string" || nodeId === "") {
      throw new TypeError(
        `Cannot make a Redis store: nodeId must be a non-empty string, got ${
          JSON.stringify(nodeId)
        }`,
      );
    }
    if (typeof prefix !== "string") {
      throw new TypeError(
        `Cannot make a Redis store: prefix must be a string, got ${typeof prefix}`,
      );
    }
    this.nodeId = nodeId;
    this.prefix = prefix;
    this.url = client.url.redacted;
    this.#client = client;
    this.#keys = new Keys(prefix);
    this.#logger = options.logger;
    this.#commits = new Commits(client, {
      url: this.url,
      logger: options.logger,
      ready: () => this.#ready(),
      error: (cause) =>
        cause instanceof RedisStoreError
          ? cause
          : new RedisStoreError(this.url, cause.message, { cause }),
      scripts: SCRIPTS,
    });
  }

  /**
   * Connects to Redis and checks the schema version (writing it to an
   * empty database).
   *
   * @param url A Redis URL: `redis://user:password@host:port/db`, or
   * `rediss://` for TLS.
   * @param options The node id, key prefix and logger, and the Redis
   * client's options.
   * @returns The open store; `close()` closes its client.
   * @throws {RedisStoreError} If Redis cannot be reached, refuses the
   * credentials, or holds a layout of a newer version of the broker.
   * @throws {TypeError} If the URL does not parse or the node id is empty.
   */
  static async open(
    url: string,
    options: RedisStoreOpenOptions,
  ): Promise<RedisStore> {
    const { nodeId: _nodeId, prefix: _prefix, ...clientOptions } = options;
    const client = new RedisClient(url, clientOptions);
    let store: RedisStore;
    try {
      store = new RedisStore(client, options);
    } catch (error) {
      await client.close();
      throw error;
    }
    store.#owned = true;
    try {
      await client.connect();
      await store.#ready();
    } catch (error) {
      await client.close();
      throw error instanceof RedisStoreError
        ? error
        : new RedisStoreError(store.url, describe(error), { cause: error });
    }
    return store;
  }

  /**
   * Reads the sessions this node owns (their queues as counts, read with
   * {@linkcode RedisStore.readQueue}) and every retained message, once
   * the writes so far are committed.
   */
  async load(): Promise<StoredState> {
    const [ids, retained] = await this.#commits.read([
      ["SMEMBERS", this.#keys.node(this.nodeId)],
      ["HGETALL", this.#keys.retained],
    ]);
    const sessions = await this.#readSessions(
      replyArray(ids ?? null).map(replyText),
    );
    const messages: Message[] = [];
    const items = replyArray(retained ?? null);
    for (let i = 1; i < items.length; i += 2) {
      messages.push(decodeMessage(replyBytes(items[i]!)));
    }
    return { sessions, retained: messages };
  }

  /**
   * Reads a session whoever owns it, and makes this node its owner: in
   * one Lua script, once the writes so far are committed.
   */
  async loadSession(clientId: string): Promise<StoredSession | undefined> {
    const [reply] = await this.#commits.read([
      readSessionCommand(this.#keys, this.nodeId, clientId, "take"),
    ]);
    const read = this.#decodeSession(clientId, reply ?? null);
    if (read === undefined) {
      this.#forget(clientId);
      return undefined;
    }
    return this.#own(clientId, read);
  }

  /**
   * Moves every session of a node that is gone to this node, in one Lua
   * script (of two nodes asking at once, the first gets them all), and
   * reads them.
   *
   * @throws {RangeError} If `nodeId` is this node's.
   */
  async adoptSessions(nodeId: string): Promise<StoredSession[]> {
    if (nodeId === this.nodeId) {
      throw new RangeError(
        `Cannot adopt the sessions of node ${nodeId}: it is this node`,
      );
    }
    const [moved] = await this.#commits.read([
      adoptCommand(this.#keys, nodeId, this.nodeId),
    ]);
    return await this.#readSessions(replyArray(moved ?? null).map(replyText));
  }

  saveSession(record: SessionRecord): void {
    if (!this.#usable()) return;
    const { clientId } = record;
    const keys = this.#keys.session(clientId);
    const commands: Command[] = [];
    if (!this.#sessions.has(clientId)) {
      // A new session starts empty, whatever an older one left.
      this.#sessions.add(clientId);
      this.#inflight.delete(clientId);
      for (const key of allKeys(keys)) commands.push(["DEL", key]);
    }
    commands.push(
      ["HSET", keys.session, "r", encodeRecord(record), "o", this.nodeId],
      ["SADD", this.#keys.node(this.nodeId), clientId],
    );
    this.#write(commands);
  }

  deleteSession(clientId: string): void {
    if (!this.#usable() || !this.#sessions.delete(clientId)) return;
    this.#inflight.delete(clientId);
    const commands: Command[] = allKeys(this.#keys.session(clientId))
      .map((key) => ["DEL", key]);
    commands.push(["SREM", this.#keys.node(this.nodeId), clientId]);
    this.#write(commands);
  }

  saveSubscription(
    clientId: string,
    topicFilter: string,
    record: SubscriptionRecord,
  ): void {
    if (!this.#writes(clientId)) return;
    this.#write([[
      "HSET",
      this.#keys.session(clientId).subscriptions,
      topicFilter,
      encodeSubscription(record),
    ]]);
  }

  deleteSubscription(clientId: string, topicFilter: string): void {
    if (!this.#writes(clientId)) return;
    this.#write([[
      "HDEL",
      this.#keys.session(clientId).subscriptions,
      topicFilter,
    ]]);
  }

  enqueue(clientId: string, delivery: Delivery): void {
    if (!this.#writes(clientId)) return;
    const keys = this.#keys.session(clientId);
    const seq = this.#nextSeq++;
    const member = queueMember(seq, queuedSize(delivery));
    this.#queued.set(delivery, { clientId, seq, member });
    this.#write([
      ["ZADD", keys.queue, seq, member],
      ["HSET", keys.queued, seq, encodeDelivery(delivery)],
    ], `q${seq}`);
  }

  dequeue(clientId: string, delivery: Delivery): void {
    const at = this.#queued.get(delivery);
    if (at === undefined || at.clientId !== clientId) return;
    this.#queued.delete(delivery);
    if (!this.#writes(clientId)) return;
    // Dequeued in the turn it was queued: it never reaches Redis.
    if (this.#commits.cancel(`q${at.seq}`)) return;
    const keys = this.#keys.session(clientId);
    this.#write([
      ["ZREM", keys.queue, at.member],
      ["HDEL", keys.queued, at.seq],
    ]);
  }

  /**
   * Reads deliveries of a session's queue, oldest first, after the oldest
   * `skip`: the writes so far are committed first, in the same pipeline.
   * Rejects if that commit fails, or Redis cannot be read.
   */
  readQueue(
    clientId: string,
    skip: number,
    limit: number,
  ): Delivery[] | Promise<Delivery[]> {
    if (!this.#sessions.has(clientId) || limit <= 0) return [];
    const keys = this.#keys.session(clientId);
    return this.#commits.read([readQueueCommand(keys, skip, limit)]).then(
      ([reply]) => {
        const items = replyArray(reply ?? null);
        const page: Delivery[] = [];
        for (let i = 0; i + 1 < items.length; i += 2) {
          const data = items[i + 1]!;
          if (data === null) continue;
          const member = replyText(items[i]!);
          const delivery = decodeDelivery(replyBytes(data));
          this.#queued.set(delivery, {
            clientId,
            seq: memberSeq(member),
            member,
          });
          page.push(delivery);
        }
        return page;
      },
    );
  }

  saveInflight(
    clientId: string,
    packetId: number,
    delivery: Delivery,
    phase: 1 | 2,
  ): void {
    if (!this.#writes(clientId)) return;
    const keys = this.#keys.session(clientId);
    let places = this.#inflight.get(clientId);
    if (places === undefined) {
      places = new Map();
      this.#inflight.set(clientId, places);
    }
    const known = places.get(packetId);
    if (known !== undefined) {
      // A phase change keeps the message's place in the sending order.
      if (phase !== 2) return;
      const score = inflightScore(known, 2);
      const pending = this.#commits.pending(`i${known}`);
      if (pending !== undefined) {
        pending.commands[0] = ["ZADD", keys.inflight, score, packetId];
      } else {
        this.#write([["ZADD", keys.inflight, "XX", score, packetId]]);
      }
      return;
    }
    const seq = this.#nextSeq++;
    places.set(packetId, seq);
    this.#write([
      ["ZADD", keys.inflight, inflightScore(seq, phase), packetId],
      ["HSET", keys.sent, packetId, encodeDelivery(delivery)],
    ], `i${seq}`);
  }

  deleteInflight(clientId: string, packetId: number): void {
    const places = this.#inflight.get(clientId);
    const seq = places?.get(packetId);
    if (seq === undefined || !this.#writes(clientId)) return;
    places!.delete(packetId);
    if (this.#commits.cancel(`i${seq}`)) return;
    const keys = this.#keys.session(clientId);
    this.#write([
      ["ZREM", keys.inflight, packetId],
      ["HDEL", keys.sent, packetId],
    ]);
  }

  saveIncoming(clientId: string, packetId: number): void {
    if (!this.#writes(clientId)) return;
    this.#write([["SADD", this.#keys.session(clientId).incoming, packetId]]);
  }

  deleteIncoming(clientId: string, packetId: number): void {
    if (!this.#writes(clientId)) return;
    this.#write([["SREM", this.#keys.session(clientId).incoming, packetId]]);
  }

  saveRetained(message: Message): void {
    if (!this.#usable()) return;
    const name = `r${message.topic}`;
    this.#commits.cancel(name);
    this.#write([[
      "HSET",
      this.#keys.retained,
      message.topic,
      encodeMessage(message),
    ]], name);
  }

  deleteRetained(topic: string): void {
    if (!this.#usable()) return;
    const name = `r${topic}`;
    this.#commits.cancel(name);
    this.#write([["HDEL", this.#keys.retained, topic]], name);
  }

  /**
   * Resolves once every write so far is committed (its `EXEC` answered);
   * `undefined` when none waits. Rejects when the commit that held them
   * failed: they go again with the next one, so that Redis catches up
   * with memory once it can be written.
   */
  flush(): Promise<void> | undefined {
    return this.#commits.flush();
  }

  /**
   * Commits what is pending and waits for it (a failure is logged), then
   * closes the client if the store opened it. Later writes are ignored
   * and logged. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#commits.close();
    } catch (error) {
      this.#logger?.error("store closed with writes not committed", {
        url: this.url,
        error: describe(error),
      });
    }
    if (this.#owned) await this.#client.close();
  }

  // -- writes -----------------------------------------------------------------

  /** Whether the store takes writes: not once closed (logged once). */
  #usable(): boolean {
    if (!this.#closed) return true;
    if (!this.#logged) {
      this.#logged = true;
      this.#logger?.error("store write ignored", {
        url: this.url,
        error: "the store is closed",
      });
    }
    return false;
  }

  /** Whether a write for a session goes to Redis: a session saved here. */
  #writes(clientId: string): boolean {
    return this.#sessions.has(clientId) && this.#usable();
  }

  #write(commands: Command[], name?: string): void {
    this.#commits.write(commands, name);
  }

  /** Checks the schema version once; a failure is checked again next time. */
  #ready(): Promise<void> {
    this.#checked ??= this.#checkSchema().catch((error) => {
      this.#checked = undefined;
      throw error;
    });
    return this.#checked;
  }

  async #checkSchema(): Promise<void> {
    const key = this.#keys.schema;
    const [, reply] = await this.#client.pipeline([
      ["SET", key, String(REDIS_SCHEMA_VERSION), "NX"],
      ["GET", key],
    ]);
    const text = replyOptionalText(reply ?? null);
    const version = Number(text);
    if (version === REDIS_SCHEMA_VERSION) return;
    throw new RedisStoreError(
      this.url,
      Number.isInteger(version) && version > REDIS_SCHEMA_VERSION
        ? `it was written by a newer version of the broker (schema ${version} at ${key}; this one reads schema ${REDIS_SCHEMA_VERSION})`
        : `its schema ${
          JSON.stringify(text)
        } at ${key} is not one this version reads (${REDIS_SCHEMA_VERSION})`,
    );
  }

  // -- sessions read ----------------------------------------------------------

  /** Reads sessions this node owns; those it no longer owns are left out. */
  async #readSessions(clientIds: string[]): Promise<StoredSession[]> {
    const sessions: StoredSession[] = [];
    for (let at = 0; at < clientIds.length; at += SESSIONS_PER_READ) {
      const ids = clientIds.slice(at, at + SESSIONS_PER_READ);
      const replies = await this.#commits.read(
        ids.map((id) =>
          readSessionCommand(this.#keys, this.nodeId, id, "load")
        ),
      );
      ids.forEach((clientId, i) => {
        const read = this.#decodeSession(clientId, replies[i] ?? null);
        if (read !== undefined) sessions.push(this.#own(clientId, read));
      });
    }
    return sessions;
  }

  #decodeSession(
    clientId: string,
    reply: RedisReply,
  ): ReadSession | undefined {
    try {
      return readSessionReply(clientId, reply);
    } catch (error) {
      if (error instanceof RedisError) {
        throw new RedisStoreError(this.url, error.message, { cause: error });
      }
      throw new RedisStoreError(
        this.url,
        `cannot read the session ${JSON.stringify(clientId)}: ${
          describe(error)
        }`,
        { cause: error },
      );
    }
  }

  /** Takes a session read from Redis as one this store writes. */
  #own(clientId: string, read: ReadSession): StoredSession {
    this.#sessions.add(clientId);
    this.#inflight.set(clientId, read.inflight);
    this.#nextSeq = Math.max(this.#nextSeq, read.lastSeq + 1);
    return read.stored;
  }

  /** Forgets a session Redis no longer has. */
  #forget(clientId: string): void {
    this.#sessions.delete(clientId);
    this.#inflight.delete(clientId);
  }
}

/** An error's message, without a stack. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
