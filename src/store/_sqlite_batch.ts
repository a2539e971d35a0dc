/**
 * The writes an SQLite store has not yet committed, and how they are run in
 * one transaction. Private to the store.
 *
 * Message rows (queued and in flight) are keyed by an integer id never
 * reused, so their writes commute: each row's pending
 * writes fold into at most one (an insert then a delete is nothing; an
 * insert then a phase change is the insert with the new phase; a phase
 * change then a delete is the delete), and all the inserts of a table go
 * out as a few multi-row statements, then its phase changes, then its
 * deletes. A retained message's writes fold into the last one of its
 * topic. A row of incoming QoS 2 ids is written from its state at the
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
  /** Committed in-flight rows to move to phase 2. */
  readonly phase2: Set<number> = new Set();
  /** Committed rows to delete. */
  deletes: number[] = [];

  constructor(table: MessageTable) {
    this.table = table;
  }

  get empty(): boolean {
    return this.inserts.size === 0 && this.phase2.size === 0 &&
      this.deletes.length === 0;
  }
}

/**
 * The rows of one client's incoming QoS 2 ids changed since the last
 * commit: the client's bits by bucket, and the buckets to write.
 */
interface IncomingWrites {
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
  /** Changed rows of incoming QoS 2 ids, by client id. */
  readonly #incoming: Map<string, IncomingWrites> = new Map();
  /** Statements on many rows at once, by table, kind and count. */
  readonly #statements: Map<string, StatementSync> = new Map();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Whether nothing waits for a commit. */
  get empty(): boolean {
    if (
      this.#writes.length > 0 || this.#retained.size > 0 ||
      this.#incoming.size > 0
    ) {
      return false;
    }
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
   * Marks a row of a client's incoming QoS 2 ids as changed: it is written
   * with the bits `buckets` holds for it at the commit, or deleted if none.
   */
  incoming(
    clientId: string,
    buckets: ReadonlyMap<number, number>,
    bucket: number,
  ): void {
    let writes = this.#incoming.get(clientId);
    if (writes === undefined || writes.buckets !== buckets) {
      writes = { buckets, changed: new Set() };
      this.#incoming.set(clientId, writes);
    }
    writes.changed.add(bucket);
  }

  /**
   * Forgets the changed rows of a client's incoming QoS 2 ids: its session
   * ends, and its rows are deleted with it.
   */
  forgetIncoming(clientId: string): void {
    this.#incoming.delete(clientId);
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

  /** Moves an in-flight row to phase 2. */
  setPhase2(id: number): void {
    const writes = this.#of(INFLIGHT);
    const insert = writes.inserts.get(id);
    if (insert !== undefined) insert.params[PHASE_PARAM] = 2;
    else writes.phase2.add(id);
  }

  /**
   * Adds the delete of a message row, or cancels its insert when that
   * still waits: a message acknowledged before the commit never reaches
   * the file.
   */
  remove(table: MessageTable, id: number): void {
    const writes = this.#of(table);
    if (writes.inserts.delete(id)) return;
    writes.phase2.delete(id);
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
    if (this.#incoming.size > 0) {
      try {
        this.#runIncoming();
      } catch (error) {
        throw new BatchError("incoming", error);
      }
    }
  }

  /** Forgets every write: they are committed. */
  clear(): void {
    this.#writes = [];
    this.#retained.clear();
    this.#incoming.clear();
    for (const writes of this.#tables.values()) {
      writes.inserts.clear();
      writes.phase2.clear();
      writes.deletes = [];
    }
  }

  /**
   * The statement that inserts, deletes, moves to phase 2 or selects
   * `rows` rows of a table at once.
   */
  statement(
    table: MessageTable,
    kind: "insert" | "delete" | "phase2" | "select",
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
          : kind === "phase2"
          ? `UPDATE ${table.name} SET phase = 2 WHERE ${ids}`
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
    this.#byIds(table, "phase2", [...writes.phase2]);
    this.#byIds(table, "delete", writes.deletes);
  }

  /** Writes the changed rows of incoming QoS 2 ids: set bits, or none. */
  #runIncoming(): void {
    let params: Param[] = [];
    let rows = 0;
    for (const [clientId, { buckets, changed }] of this.#incoming) {
      for (const bucket of changed) {
        const bits = buckets.get(bucket);
        if (bits === undefined) {
          this.#one(
            "incoming delete",
            () => "DELETE FROM incoming_ids WHERE client_id = ? AND bucket = ?",
          ).run(clientId, bucket);
          continue;
        }
        params.push(clientId, bucket, bits);
        if (++rows === BATCH_ROWS) {
          this.#upsertIncoming(rows).run(...params);
          params = [];
          rows = 0;
        }
      }
    }
    if (rows > 0) this.#upsertIncoming(rows).run(...params);
  }

  #upsertIncoming(rows: number): StatementSync {
    return this.#one(
      `incoming upsert ${rows}`,
      () =>
        "INSERT OR REPLACE INTO incoming_ids (client_id, bucket, bits) " +
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

  #byIds(table: MessageTable, kind: "phase2" | "delete", ids: number[]): void {
    for (let start = 0; start < ids.length; start += BATCH_ROWS) {
      const batch = ids.slice(start, start + BATCH_ROWS);
      this.statement(table, kind, batch.length).run(...batch);
    }
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
