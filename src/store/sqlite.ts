/**
 * The store on an embedded SQLite file, through Deno's built-in
 * `node:sqlite`: nothing to install, nothing acknowledged lost across a
 * restart or a crash.
 *
 * Every write of one event-loop turn is kept in order and written in one
 * transaction in a microtask once the turn's work is done (group commit):
 * consecutive inserts or deletes of queued and in-flight messages go as
 * one statement each, and a message removed in the turn it was added (sent
 * and acknowledged before the commit) is never written.
 * {@linkcode SqliteStore.flush} resolves when that transaction has
 * committed, so the server sends the turn's acknowledgements after one
 * commit. The file is in WAL mode, opened in
 * exclusive locking mode: a second broker on the same file is refused.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Message } from "../message.ts";
import type { Logger } from "../observe/logger.ts";
import {
  decodeDelivery,
  decodeMessage,
  decodeRecord,
  deliveryParams,
  encodeRecord,
  messageParams,
  packetIdBit,
  packetIdBucket,
  packetIdsOf,
  type Row,
  SCHEMA,
} from "./_sqlite_rows.ts";
import {
  BATCH_ROWS,
  BatchError,
  type BitTable,
  INFLIGHT,
  type MessageTable,
  QUEUE,
  WriteBatch,
} from "./_sqlite_batch.ts";
import type {
  Delivery,
  SessionRecord,
  Store,
  StoredInflight,
  StoredSession,
  StoredState,
  SubscriptionRecord,
} from "../core/ports.ts";
import { QUEUED_MESSAGE_OVERHEAD } from "../core/session.ts";

/**
 * The schema this version writes and reads. It also reads version 1, and
 * moves it to this one when it opens the file.
 */
export const SQLITE_SCHEMA_VERSION = 2;

/** How hard a commit works to survive a crash. */
export type SqliteSync = "normal" | "full";

/** Options of {@linkcode SqliteStore.open}. */
export interface SqliteStoreOptions {
  /**
   * `normal` (the default): WAL with synchronous NORMAL; what committed
   * survives a crash of the process (kill -9 included), and the last
   * commits before a power loss or OS crash may be lost. `full`: each commit
   * is synced to the disk; it survives power loss too, and costs a sync per
   * commit.
   */
  sync?: SqliteSync;
  /** Where failed writes are reported; nowhere by default. */
  logger?: Logger;
}

/** A store file that cannot be used; the message names the file. */
export class SqliteStoreError extends Error {
  /** The file. */
  readonly path: string;

  /**
   * Makes the error; its message starts "Cannot use the store PATH".
   *
   * @param path The file.
   * @param message What is wrong with it.
   * @param options The error underneath.
   */
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(`Cannot use the store ${path}: ${message}`, options);
    this.name = "SqliteStoreError";
    this.path = path;
  }
}

/** Row ids of one session's queued and in-flight messages. */
interface SessionRows {
  readonly queue: Set<number>;
  /** Row id by packet id. */
  readonly inflight: Map<number, number>;
  /** Incoming QoS 2 ids not yet released: bits by bucket (`incoming_ids`). */
  readonly incoming: Map<number, number>;
  /**
   * Packet ids of the in-flight rows moved to phase 2 after their insert
   * was committed: bits by bucket (`inflight_phase2`).
   */
  readonly phase2: Map<number, number>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Prepared statements, made once. */
interface Statements {
  saveSession: StatementSync;
  deleteSession: StatementSync[];
  saveSubscription: StatementSync;
  deleteSubscription: StatementSync;
  saveRetained: StatementSync;
  deleteRetained: StatementSync;
}

/**
 * The {@linkcode Store} on an SQLite file. Open it with
 * {@linkcode SqliteStore.open} and give it to the server; close it once
 * the server has stopped.
 *
 * @example Keep a retained message across two servers on one file
 * ```ts
 * import { Server, SqliteStore } from "@gmqtt/broker";
 *
 * const path = await Deno.makeTempFile({ suffix: ".db" });
 * const store = await SqliteStore.open(path);
 * const first = new Server({ store });
 * await first.publish({ topic: "a/b", payload: "kept", retain: true });
 * await first.stop();
 * store.close();
 *
 * const again = await SqliteStore.open(path);
 * const second = new Server({ store: again });
 * await second.start();
 * if (second.retained("a/b").length !== 1) throw new Error("lost");
 * await second.stop();
 * again.close();
 * await Deno.remove(path);
 * ```
 */
export class SqliteStore implements Store {
  /** The file. */
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements: Statements;
  readonly #logger: Logger | undefined;
  /** Client ids of the sessions saved. */
  readonly #sessionIds: Set<string> = new Set();
  /** Queued deliveries by object, with their row ids. */
  #queueIds: WeakMap<Delivery, number> = new WeakMap();
  /**
   * The rows of each session's queue and messages in flight. The message
   * tables are keyed by an integer id alone, which SQLite writes several
   * times faster than a key of client id and packet id; the store finds
   * the rows of a session here.
   */
  #rows: Map<string, SessionRows> = new Map();
  /** Next row id of the queue table, and of the in-flight table. */
  #nextQueueId = 1;
  #nextInflightId = 1;
  /** The writes not yet committed. */
  readonly #batch: WriteBatch;
  /** Whether a commit is due at the end of this turn. */
  #scheduled = false;
  /**
   * Why the last commit failed, while its writes wait to go again: until
   * `#retryAt`, a commit fails at once with it; then it is tried again.
   */
  #failure: Error | undefined;
  #retryAt = 0;
  #backoff = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resolves when the open transaction commits, once someone asked. */
  #committed: Promise<void> | undefined;
  #settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  /** Kinds of failure already logged. */
  readonly #logged: Set<string> = new Set();
  #closed = false;

  private constructor(
    path: string,
    db: DatabaseSync,
    logger: Logger | undefined,
  ) {
    this.path = path;
    this.#db = db;
    this.#logger = logger;
    this.#statements = prepare(db);
    this.#batch = new WriteBatch(db);
    for (
      const row of db.prepare("SELECT client_id FROM sessions").all() as Row[]
    ) {
      this.#sessionIds.add(row.client_id as string);
    }
  }

  /**
   * Opens (or makes) a store file.
   *
   * @param path The file; made with the schema when missing.
   * @param options Sync level and logger.
   * @returns The open store.
   * @throws {SqliteStoreError} If the file is not an SQLite database, is
   * locked by another process, cannot be read or written, or was written
   * by a newer version of the broker.
   */
  static async open(
    path: string,
    options: SqliteStoreOptions = {},
  ): Promise<SqliteStore> {
    const sync = options.sync ?? "normal";
    if (sync !== "normal" && sync !== "full") {
      throw new TypeError(
        `Cannot open the store ${path}: sync must be "normal" or "full", got ${
          JSON.stringify(sync)
        }`,
      );
    }
    // Loaded here, not at the top: a broker in memory never loads it.
    const { DatabaseSync } = await import("node:sqlite");
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (error) {
      throw new SqliteStoreError(path, describe(error), { cause: error });
    }
    try {
      db.exec("PRAGMA busy_timeout = 0");
      // Held until closed: a second broker on the file is refused.
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      // A new file gets pages of 8 KiB (SQLite's default is 4 KiB): a commit
      // then logs fewer, fuller pages. A file made before keeps its size.
      db.exec("PRAGMA page_size = 8192");
      const mode = db.prepare("PRAGMA journal_mode = WAL").get() as Row;
      if (mode.journal_mode !== "wal") {
        throw new Error(`cannot switch to WAL mode (${mode.journal_mode})`);
      }
      db.exec(`PRAGMA synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
      // The message tables are written at one end and deleted at the other,
      // so the same few pages change commit after commit: copying them back
      // every 10,000 pages of log rather than every 1,000 (SQLite's default)
      // copies each far fewer times. The log keeps at most 64 MB on disk.
      db.exec("PRAGMA wal_autocheckpoint = 10000");
      db.exec(`PRAGMA journal_size_limit = ${64 * 1024 * 1024}`);
      db.exec("BEGIN IMMEDIATE");
      try {
        db.exec(SCHEMA);
        const row = db.prepare(
          "SELECT value FROM meta WHERE key = 'schema_version'",
        ).get() as Row | undefined;
        if (row === undefined) {
          db.prepare(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
          ).run(String(SQLITE_SCHEMA_VERSION));
        } else if (Number(row.value) === 1) {
          upgradeFromVersion1(db);
        } else if (Number(row.value) !== SQLITE_SCHEMA_VERSION) {
          throw new Error(
            Number(row.value) > SQLITE_SCHEMA_VERSION
              ? `it was written by a newer version of the broker (schema ${row.value}; this one reads schema ${SQLITE_SCHEMA_VERSION})`
              : `its schema ${row.value} is not one this version reads (${SQLITE_SCHEMA_VERSION})`,
          );
        }
        db.exec("COMMIT");
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      }
      return new SqliteStore(path, db, options.logger);
    } catch (error) {
      db.close();
      throw new SqliteStoreError(path, describe(error), { cause: error });
    }
  }

  load(): StoredState {
    this.#commitNow();
    const db = this.#db;
    const sessions = new Map<string, Mutable<StoredSession>>();
    for (const row of db.prepare("SELECT * FROM sessions").all() as Row[]) {
      const clientId = row.client_id as string;
      sessions.set(clientId, {
        session: decodeRecord(clientId, row.record as string),
        subscriptions: [],
        queue: [],
        inflight: [],
        incomingQoS2: [],
      });
    }
    for (
      const row of db.prepare("SELECT * FROM subscriptions").all() as Row[]
    ) {
      const s = sessions.get(row.client_id as string);
      (s?.subscriptions as [string, SubscriptionRecord][] | undefined)?.push([
        row.filter as string,
        JSON.parse(row.record as string) as SubscriptionRecord,
      ]);
    }
    this.#queueIds = new WeakMap();
    this.#rows = new Map();
    // Queues stay in the file: the core reads them back with `readQueue`
    // when their clients return. Only their row ids, counts and sizes are
    // read now, a row at a time.
    for (
      const row of db.prepare(
        "SELECT id, client_id, length(topic) + length(payload) AS size " +
          "FROM queue ORDER BY id",
      ).iterate() as Iterable<Row>
    ) {
      const id = Number(row.id);
      this.#nextQueueId = Math.max(this.#nextQueueId, id + 1);
      const clientId = row.client_id as string;
      const s = sessions.get(clientId);
      if (s === undefined) continue;
      this.#rowsOf(clientId).queue.add(id);
      const count = s.queueInStore ?? { count: 0, bytes: 0 };
      s.queueInStore = {
        count: count.count + 1,
        bytes: count.bytes + Number(row.size) + QUEUED_MESSAGE_OVERHEAD,
      };
    }
    for (const table of ["incoming_ids", "inflight_phase2"] as const) {
      for (
        const row of db.prepare(
          `SELECT client_id, bucket, bits FROM ${table} ` +
            "ORDER BY client_id, bucket",
        ).all() as Row[]
      ) {
        const clientId = row.client_id as string;
        const s = sessions.get(clientId);
        if (s === undefined) continue;
        const bucket = Number(row.bucket);
        const bits = Number(row.bits) | 0;
        const rows = this.#rowsOf(clientId);
        if (table === "inflight_phase2") {
          rows.phase2.set(bucket, bits);
          continue;
        }
        rows.incoming.set(bucket, bits);
        (s.incomingQoS2 as number[]).push(...packetIdsOf(bucket, bits));
      }
    }
    for (
      const row of db.prepare("SELECT * FROM inflight ORDER BY id")
        .all() as Row[]
    ) {
      const id = Number(row.id);
      this.#nextInflightId = Math.max(this.#nextInflightId, id + 1);
      const clientId = row.client_id as string;
      const s = sessions.get(clientId);
      if (s === undefined) continue;
      const packetId = Number(row.packet_id);
      const rows = this.#rowsOf(clientId);
      rows.inflight.set(packetId, id);
      const bits = rows.phase2.get(packetIdBucket(packetId)) ?? 0;
      (s.inflight as StoredInflight[]).push({
        packetId,
        delivery: decodeDelivery(row),
        phase: Number(row.phase) === 2 || (bits & packetIdBit(packetId)) !== 0
          ? 2
          : 1,
      });
    }
    const retained: Message[] = [];
    for (const row of db.prepare("SELECT * FROM retained").all() as Row[]) {
      retained.push(decodeMessage(row));
    }
    return { sessions: [...sessions.values()], retained };
  }

  saveSession(record: SessionRecord): void {
    this.#sessionIds.add(record.clientId);
    this.#write(
      "session",
      (s) => s.saveSession.run(record.clientId, encodeRecord(record)),
    );
  }

  deleteSession(clientId: string): void {
    if (!this.#sessionIds.delete(clientId)) return;
    const rows = this.#rows.get(clientId);
    this.#rows.delete(clientId);
    if (this.#usable("session")) {
      for (const id of rows?.queue ?? []) this.#batch.remove(QUEUE, id);
      for (const id of rows?.inflight.values() ?? []) {
        this.#batch.remove(INFLIGHT, id);
      }
      this.#batch.forgetBits(clientId);
    }
    this.#write("session", (s) => {
      for (const statement of s.deleteSession) statement.run(clientId);
    });
  }

  saveSubscription(
    clientId: string,
    topicFilter: string,
    record: SubscriptionRecord,
  ): void {
    if (!this.#hasSession(clientId)) return;
    this.#write(
      "subscription",
      (s) =>
        s.saveSubscription.run(clientId, topicFilter, JSON.stringify(record)),
    );
  }

  deleteSubscription(clientId: string, topicFilter: string): void {
    this.#write(
      "subscription",
      (s) => s.deleteSubscription.run(clientId, topicFilter),
    );
  }

  enqueue(clientId: string, delivery: Delivery): void {
    if (!this.#hasSession(clientId) || !this.#usable(QUEUE.name)) return;
    const id = this.#nextQueueId++;
    this.#queueIds.set(delivery, id);
    this.#rowsOf(clientId).queue.add(id);
    this.#batch.insert(
      QUEUE,
      id,
      [id, clientId, ...deliveryParams(delivery)],
      delivery,
    );
    this.#schedule();
  }

  /**
   * Reads deliveries of a session's queue, oldest first, after the oldest
   * `skip`: what is not yet committed is committed first (or, if that
   * fails, read from what waits to be).
   */
  readQueue(clientId: string, skip: number, limit: number): Delivery[] {
    const queue = this.#rows.get(clientId)?.queue;
    if (queue === undefined || limit <= 0 || skip >= queue.size) return [];
    this.#commitNow();
    const page: (Delivery | number)[] = [];
    const stored: number[] = [];
    // Row ids grow, and a session's set holds them in the order added.
    let i = 0;
    for (const id of queue) {
      if (i++ < skip) continue;
      const pending = this.#batch.pendingInsert(QUEUE, id)?.delivery;
      page.push(pending ?? id);
      if (pending === undefined) stored.push(id);
      if (page.length === limit) break;
    }
    const read = new Map<number, Delivery>();
    for (let start = 0; start < stored.length; start += BATCH_ROWS) {
      const ids = stored.slice(start, start + BATCH_ROWS);
      const select = this.#batch.statement(QUEUE, "select", ids.length);
      for (const row of select.all(...ids) as Row[]) {
        const delivery = decodeDelivery(row);
        this.#queueIds.set(delivery, Number(row.id));
        read.set(Number(row.id), delivery);
      }
    }
    const deliveries: Delivery[] = [];
    for (const entry of page) {
      const delivery = typeof entry === "number" ? read.get(entry) : entry;
      if (delivery !== undefined) deliveries.push(delivery);
    }
    return deliveries;
  }

  dequeue(clientId: string, delivery: Delivery): void {
    const id = this.#queueIds.get(delivery);
    if (id === undefined) return;
    this.#queueIds.delete(delivery);
    this.#rows.get(clientId)?.queue.delete(id);
    this.#removeRow(QUEUE, id);
  }

  saveInflight(
    clientId: string,
    packetId: number,
    delivery: Delivery,
    phase: 1 | 2,
  ): void {
    if (!this.#hasSession(clientId) || !this.#usable(INFLIGHT.name)) return;
    const session = this.#rowsOf(clientId);
    const rows = session.inflight;
    const known = rows.get(packetId);
    if (known !== undefined) {
      // A phase change keeps the message's place in the sending order.
      if (phase === 2 && !this.#batch.setPhase2(known)) {
        this.#setBit(
          "inflight_phase2",
          clientId,
          session.phase2,
          packetId,
          true,
        );
      }
      return;
    }
    const id = this.#nextInflightId++;
    rows.set(packetId, id);
    this.#batch.insert(INFLIGHT, id, [
      id,
      clientId,
      packetId,
      phase,
      ...deliveryParams(delivery),
    ]);
    this.#schedule();
  }

  deleteInflight(clientId: string, packetId: number): void {
    const session = this.#rows.get(clientId);
    const id = session?.inflight.get(packetId);
    if (id === undefined) return;
    session!.inflight.delete(packetId);
    this.#setBit("inflight_phase2", clientId, session!.phase2, packetId, false);
    this.#removeRow(INFLIGHT, id);
  }

  /**
   * Sets or clears a packet id in a client's rows of bits, and marks its
   * row to be written if that changed it.
   */
  #setBit(
    table: BitTable,
    clientId: string,
    buckets: Map<number, number>,
    packetId: number,
    on: boolean,
  ): void {
    const bucket = packetIdBucket(packetId);
    const bits = buckets.get(bucket) ?? 0;
    const bit = packetIdBit(packetId);
    if (((bits & bit) !== 0) === on || !this.#usable(table)) return;
    const next = on ? bits | bit : bits & ~bit;
    if (next === 0) buckets.delete(bucket);
    else buckets.set(bucket, next);
    this.#batch.bits(table, clientId, buckets, bucket);
    this.#schedule();
  }

  /** The rows of a session's queue and messages in flight. */
  #rowsOf(clientId: string): SessionRows {
    let rows = this.#rows.get(clientId);
    if (rows === undefined) {
      rows = {
        queue: new Set(),
        inflight: new Map(),
        incoming: new Map(),
        phase2: new Map(),
      };
      this.#rows.set(clientId, rows);
    }
    return rows;
  }

  saveIncoming(clientId: string, packetId: number): void {
    if (!this.#hasSession(clientId)) return;
    const rows = this.#rowsOf(clientId);
    this.#setBit("incoming_ids", clientId, rows.incoming, packetId, true);
  }

  deleteIncoming(clientId: string, packetId: number): void {
    const rows = this.#rows.get(clientId);
    if (rows === undefined) return;
    this.#setBit("incoming_ids", clientId, rows.incoming, packetId, false);
  }

  saveRetained(message: Message): void {
    if (!this.#usable("retained")) return;
    const statement = this.#statements.saveRetained;
    this.#batch.retained(
      message.topic,
      () => statement.run(...messageParams(message)),
    );
    this.#schedule();
  }

  deleteRetained(topic: string): void {
    if (!this.#usable("retained")) return;
    const statement = this.#statements.deleteRetained;
    this.#batch.retained(topic, () => statement.run(topic));
    this.#schedule();
  }

  /**
   * Resolves once every write so far has committed; `undefined` when none
   * waits for a commit. Rejects when the commit that held them failed: its
   * writes are rolled back and go again with the next commit, so that the
   * file catches up with memory once it can be written.
   */
  flush(): Promise<void> | undefined {
    if (this.#batch.empty) return undefined;
    // One promise per transaction, whoever many wait for it.
    return this.#committed ??= new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
  }

  /** Commits what is pending and closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#commitNow();
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#db.close();
  }

  /** Whether a session is saved: writes for unknown client ids are ignored. */
  #hasSession(clientId: string): boolean {
    return this.#sessionIds.has(clientId);
  }

  /** Whether the store takes writes: not once closed (logged). */
  #usable(kind: string): boolean {
    if (!this.#closed) return true;
    this.#failed(kind, new Error("the store is closed"));
    return false;
  }

  /** Adds a write other than of a message row. */
  #write(kind: string, write: (s: Statements) => void): void {
    if (!this.#usable(kind)) return;
    this.#batch.write(kind, () => write(this.#statements));
    this.#schedule();
  }

  #removeRow(table: MessageTable, id: number): void {
    if (!this.#usable(table.name)) return;
    this.#batch.remove(table, id);
    this.#schedule();
  }

  /**
   * Commits at the end of this turn: every write it makes, from any
   * connection, goes into one transaction.
   */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#commit);
  }

  readonly #commit = (): void => {
    this.#scheduled = false;
    if (this.#failure !== undefined && Date.now() < this.#retryAt) {
      // The file could not be written a moment ago: what waits for this
      // turn fails at once, and the writes go again when the retry is due.
      this.#settleWith(this.#failure);
      return;
    }
    this.#commitNow();
  };

  /**
   * Runs every pending write in one transaction; rolls it all back if one
   * fails, and keeps the writes for the next commit, tried again after a
   * growing delay (100 ms to 5 s) if no write brings one sooner.
   */
  #commitNow(): void {
    if (this.#closed || this.#batch.empty) {
      this.#settleWith(undefined);
      return;
    }
    let failure: Error | undefined;
    const db = this.#db;
    try {
      db.exec("BEGIN");
      this.#batch.run();
      db.exec("COMMIT");
    } catch (error) {
      failure = error instanceof BatchError
        ? this.#failed(error.kind, error.cause)
        : this.#failed("commit", error);
    }
    if (failure === undefined) {
      this.#batch.clear();
      this.#failure = undefined;
      this.#backoff = 0;
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    } else {
      if (db.isTransaction) {
        try {
          db.exec("ROLLBACK");
        } catch (error) {
          this.#failed("rollback", error);
        }
      }
      this.#failure = failure;
      this.#backoff = Math.min(Math.max(this.#backoff * 2, 100), 5_000);
      this.#retryAt = Date.now() + this.#backoff;
      if (this.#retryTimer === undefined) {
        const timer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.#commitNow();
        }, this.#backoff);
        Deno.unrefTimer(timer as unknown as number);
        this.#retryTimer = timer;
      }
    }
    this.#settleWith(failure);
  }

  /** Settles who waits in `flush()`: resolved, or rejected with `failure`. */
  #settleWith(failure: Error | undefined): void {
    const settle = this.#settle;
    if (settle === undefined) return;
    this.#settle = this.#committed = undefined;
    if (failure === undefined) settle.resolve();
    else settle.reject(failure);
  }

  /** Logs a failure once per kind; returns it as an error naming the file. */
  #failed(kind: string, error: unknown): Error {
    const failure = new SqliteStoreError(this.path, describe(error), {
      cause: error,
    });
    if (!this.#logged.has(kind)) {
      this.#logged.add(kind);
      this.#logger?.error("store write failed", {
        path: this.path,
        kind,
        error: describe(error),
      });
    }
    return failure;
  }
}

function prepare(db: DatabaseSync): Statements {
  return {
    saveSession: db.prepare(
      "INSERT INTO sessions (client_id, record) VALUES (?, ?) " +
        "ON CONFLICT (client_id) DO UPDATE SET record = excluded.record",
    ),
    deleteSession: [
      "sessions",
      "subscriptions",
      "incoming_ids",
      "inflight_phase2",
    ]
      .map((table) => db.prepare(`DELETE FROM ${table} WHERE client_id = ?`)),
    saveSubscription: db.prepare(
      "INSERT INTO subscriptions (client_id, filter, record) VALUES (?, ?, ?) " +
        "ON CONFLICT (client_id, filter) DO UPDATE SET record = excluded.record",
    ),
    deleteSubscription: db.prepare(
      "DELETE FROM subscriptions WHERE client_id = ? AND filter = ?",
    ),
    saveRetained: db.prepare(
      "INSERT INTO retained (topic, payload, qos, retain, properties, " +
        "expires_at, publisher, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (topic) DO UPDATE SET payload = excluded.payload, " +
        "qos = excluded.qos, retain = excluded.retain, " +
        "properties = excluded.properties, expires_at = excluded.expires_at, " +
        "publisher = excluded.publisher, created_at = excluded.created_at",
    ),
    deleteRetained: db.prepare("DELETE FROM retained WHERE topic = ?"),
  };
}

/**
 * Moves a file of schema 1 to this one, in the open transaction: its
 * incoming QoS 2 ids, one row each in `incoming`, become rows of 32 in
 * `incoming_ids`.
 */
function upgradeFromVersion1(db: DatabaseSync): void {
  const buckets = new Map<string, Map<number, number>>();
  for (
    const row of db.prepare(
      "SELECT client_id, packet_id FROM incoming " +
        "WHERE client_id IN (SELECT client_id FROM sessions)",
    ).all() as Row[]
  ) {
    const clientId = row.client_id as string;
    const packetId = Number(row.packet_id);
    let bits = buckets.get(clientId);
    if (bits === undefined) buckets.set(clientId, bits = new Map());
    const bucket = packetIdBucket(packetId);
    bits.set(bucket, (bits.get(bucket) ?? 0) | packetIdBit(packetId));
  }
  const insert = db.prepare(
    "INSERT INTO incoming_ids (client_id, bucket, bits) VALUES (?, ?, ?)",
  );
  for (const [clientId, bits] of buckets) {
    for (const [bucket, value] of bits) insert.run(clientId, bucket, value);
  }
  db.exec("DROP TABLE incoming");
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'")
    .run(String(SQLITE_SCHEMA_VERSION));
}

/** An error's message, without a stack. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
