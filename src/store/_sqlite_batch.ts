/**
 * The writes an SQLite store has not yet committed, and how they are run in
 * one transaction. Private to the store.
 *
 * Message rows (queued and in flight) are keyed by an integer id never
 * reused, so their writes commute: each row's pending writes fold into at
 * most one (an insert then a delete is nothing; an insert then a move to
 * phase 2 is the insert with phase 2), and all the inserts of a table go
 * out as a few multi-row statements, then its deletes. A retained message's
 * writes fold into the last one of its topic. A row of packet-id bits
 * (incoming QoS 2 ids not yet released; in-flight messages moved to phase 2
 * after their insert was committed) is written from its state at the
 * commit, once however often it changed. The other writes (sessions,
 * subscriptions) run first, in the order made.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Delivery } from "../core/ports.ts";
import {
  DELIVERY_COLUMNS,
  DELIVERY_PARAMS,
  type Param,
} from "./_sqlite_rows.ts";

/** Rows a batched statement writes at most. */
export const BATCH_ROWS = 64;

/** A table of message rows: its name, and the columns an insert gives. */
export interface MessageTable {
  readonly name: "queue" | "inflight";
  readonly columns: string;
  readonly params: string;
}

export const QUEUE: MessageTable = {
  name: "queue",
  columns: `id, client_id, ${DELIVERY_COLUMNS}`,
  params: `?, ?, ${DELIVERY_PARAMS}`,
};

export const INFLIGHT: MessageTable = {
  name: "inflight",
  columns: `id, client_id, packet_id, phase, ${DELIVERY_COLUMNS}`,
  params: `?, ?, ?, ?, ${DELIVERY_PARAMS}`,
};

/** Where an in-flight row's phase sits among its insert's values. */
const PHASE_PARAM = 3;

/** A row to insert: its values, and the delivery it holds, if any. */
export interface PendingInsert {
  readonly params: Param[];
  readonly delivery: Delivery | undefined;
}

/** The pending writes of one message table. */
class TableWrites {
  readonly table: MessageTable;
  /** Rows to insert by id, in the order added. */
  readonly inserts: Map<number, PendingInsert> = new Map();
  /** Committed rows to delete. */
  deletes: number[] = [];

  constructor(table: MessageTable) {
    this.table = table;
  }

  get empty(): boolean {
    return this.inserts.size === 0 && this.deletes.length === 0;
  }
}

/**
 * A table of packet-id bits, 32 ids to a row (see `incomingBucket`):
 * incoming QoS 2 ids not yet released, and in-flight messages in phase 2.
 */
export type BitTable = "incoming_ids" | "inflight_phase2";

/**
 * The rows of one client's packet-id bits changed since the last commit:
 * the client's bits by bucket, and the buckets to write.
 */
interface BitWrites {
  readonly buckets: ReadonlyMap<number, number>;
  readonly changed: Set<number>;
}

/** A write other than of a message row, run as it was made. */
interface Write {
  readonly kind: string;
  readonly run: () => void;
}

/**
 * The writes not yet committed. They stay here until a commit succeeds: a
 * commit that fails is rolled back, and its writes go again with the next.
 */
export class WriteBatch {
  readonly #db: DatabaseSync;
  #writes: Write[] = [];
  /** The last write of each retained topic. */
  readonly #retained: Map<string, () => void> = new Map();
  readonly #tables: Map<MessageTable, TableWrites> = new Map(
    [QUEUE, INFLIGHT].map((t) => [t, new TableWrites(t)]),
  );
  /** Changed rows of packet-id bits, by table and client id. */
  readonly #bits: Map<BitTable, Map<string, BitWrites>> = new Map([
    ["incoming_ids", new Map()],
    ["inflight_phase2", new Map()],
  ]);
  /** Statements on many rows at once, by table, kind and count. */
  readonly #statements: Map<string, StatementSync> = new Map();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Whether nothing waits for a commit. */
  get empty(): boolean {
    if (this.#writes.length > 0 || this.#retained.size > 0) return false;
    for (const t of this.#bits.values()) if (t.size > 0) return false;
    for (const t of this.#tables.values()) if (!t.empty) return false;
    return true;
  }

  /** Adds a write other than of a message row. */
  write(kind: string, run: () => void): void {
    this.#writes.push({ kind, run });
  }

  /** Sets the write of a retained topic, in place of any not yet run. */
  retained(topic: string, run: () => void): void {
    this.#retained.set(topic, run);
  }

  /**
   * Marks a row of a client's packet-id bits as changed: it is written with
   * the bits `buckets` holds for it at the commit, or deleted if none.
   */
  bits(
    table: BitTable,
    clientId: string,
    buckets: ReadonlyMap<number, number>,
    bucket: number,
  ): void {
    const clients = this.#bits.get(table)!;
    let writes = clients.get(clientId);
    if (writes === undefined || writes.buckets !== buckets) {
      writes = { buckets, changed: new Set() };
      clients.set(clientId, writes);
    }
    writes.changed.add(bucket);
  }

  /**
   * Forgets the changed rows of a client's packet-id bits: its session
   * ends, and its rows are deleted with it.
   */
  forgetBits(clientId: string): void {
    for (const clients of this.#bits.values()) clients.delete(clientId);
  }

  /** Adds the insert of a message row. */
  insert(
    table: MessageTable,
    id: number,
    params: Param[],
    delivery?: Delivery,
  ): void {
    this.#of(table).inserts.set(id, { params, delivery });
  }

  /** The insert of a row not yet committed, if it waits. */
  pendingInsert(table: MessageTable, id: number): PendingInsert | undefined {
    return this.#of(table).inserts.get(id);
  }

  /**
   * Moves an in-flight row to phase 2 while its insert still waits; false
   * if it was committed (its phase is then kept in `inflight_phase2`).
   */
  setPhase2(id: number): boolean {
    const insert = this.#of(INFLIGHT).inserts.get(id);
    if (insert === undefined) return false;
    insert.params[PHASE_PARAM] = 2;
    return true;
  }

  /**
   * Adds the delete of a message row, or cancels its insert when that
   * still waits: a message acknowledged before the commit never reaches
   * the file.
   */
  remove(table: MessageTable, id: number): void {
    const writes = this.#of(table);
    if (writes.inserts.delete(id)) return;
    writes.deletes.push(id);
  }

  /**
   * Runs every write in the open transaction; throws the first failure,
   * named by the kind of write. The writes stay until {@linkcode clear}.
   */
  run(): void {
    for (const write of this.#writes) {
      try {
        write.run();
      } catch (error) {
        throw new BatchError(write.kind, error);
      }
    }
    for (const run of this.#retained.values()) {
      try {
        run();
      } catch (error) {
        throw new BatchError("retained", error);
      }
    }
    for (const writes of this.#tables.values()) {
      if (writes.empty) continue;
      try {
        this.#runTable(writes);
      } catch (error) {
        throw new BatchError(writes.table.name, error);
      }
    }
    for (const [table, clients] of this.#bits) {
      if (clients.size === 0) continue;
      try {
        this.#runBits(table, clients);
      } catch (error) {
        throw new BatchError(table, error);
      }
    }
  }

  /** Forgets every write: they are committed. */
  clear(): void {
    this.#writes = [];
    this.#retained.clear();
    for (const clients of this.#bits.values()) clients.clear();
    for (const writes of this.#tables.values()) {
      writes.inserts.clear();
      writes.deletes = [];
    }
  }

  /**
   * The statement that inserts, deletes or selects
   * `rows` rows of a table at once.
   */
  statement(
    table: MessageTable,
    kind: "insert" | "delete" | "select",
    rows: number,
  ): StatementSync {
    const key = `${table.name} ${kind} ${rows}`;
    let statement = this.#statements.get(key);
    if (statement === undefined) {
      const ids = `id IN (${Array(rows).fill("?").join(", ")})`;
      statement = this.#db.prepare(
        kind === "insert"
          ? `INSERT INTO ${table.name} (${table.columns}) VALUES ` +
            Array(rows).fill(`(${table.params})`).join(", ")
          : kind === "delete"
          ? `DELETE FROM ${table.name} WHERE ${ids}`
          : `SELECT * FROM ${table.name} WHERE ${ids} ORDER BY id`,
      );
      this.#statements.set(key, statement);
    }
    return statement;
  }

  #of(table: MessageTable): TableWrites {
    return this.#tables.get(table)!;
  }

  #runTable(writes: TableWrites): void {
    const { table } = writes;
    let params: Param[] = [];
    let rows = 0;
    for (const insert of writes.inserts.values()) {
      for (const p of insert.params) params.push(p);
      if (++rows === BATCH_ROWS) {
        this.statement(table, "insert", rows).run(...params);
        params = [];
        rows = 0;
      }
    }
    if (rows > 0) this.statement(table, "insert", rows).run(...params);
    const ids = writes.deletes;
    for (let start = 0; start < ids.length; start += BATCH_ROWS) {
      const batch = ids.slice(start, start + BATCH_ROWS);
      this.statement(table, "delete", batch.length).run(...batch);
    }
  }

  /** Writes the changed rows of a table of bits: set bits, or none. */
  #runBits(table: BitTable, clients: Map<string, BitWrites>): void {
    let params: Param[] = [];
    let rows = 0;
    for (const [clientId, { buckets, changed }] of clients) {
      for (const bucket of changed) {
        const bits = buckets.get(bucket);
        if (bits === undefined) {
          this.#one(
            `${table} delete`,
            () => `DELETE FROM ${table} WHERE client_id = ? AND bucket = ?`,
          ).run(clientId, bucket);
          continue;
        }
        params.push(clientId, bucket, bits);
        if (++rows === BATCH_ROWS) {
          this.#upsertBits(table, rows).run(...params);
          params = [];
          rows = 0;
        }
      }
    }
    if (rows > 0) this.#upsertBits(table, rows).run(...params);
  }

  #upsertBits(table: BitTable, rows: number): StatementSync {
    return this.#one(
      `${table} upsert ${rows}`,
      () =>
        `INSERT OR REPLACE INTO ${table} (client_id, bucket, bits) ` +
        `VALUES ${Array(rows).fill("(?, ?, ?)").join(", ")}`,
    );
  }

  /** A statement by a key, prepared once from the text `sql` makes. */
  #one(key: string, sql: () => string): StatementSync {
    let statement = this.#statements.get(key);
    if (statement === undefined) {
      statement = this.#db.prepare(sql());
      this.#statements.set(key, statement);
    }
    return statement;
  }
}

/** A write of a batch that failed: `kind` names what it wrote. */
export class BatchError extends Error {
  readonly kind: string;

  constructor(kind: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.kind = kind;
  }
}
