/**
 * What {@linkcode SqliteStore} does beyond the store contract (which
 * `contract_test.ts` runs against it): the file it keeps, the files it
 * refuses, its group commit, and how it reports a write the disk refuses.
 *
 * @module
 */

import {
  deepStrictEqual,
  ok,
  rejects,
  strictEqual,
  throws,
} from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { StoredState } from "../core/ports.ts";
import { Logger, type LogRecord } from "../observe/logger.ts";
import {
  SQLITE_SCHEMA_VERSION,
  SqliteStore,
  SqliteStoreError,
} from "./sqlite.ts";
import {
  ALL_BYTES,
  delivery,
  message,
  sessionRecord,
  TEXT,
} from "../../tests/_store_records.ts";

// -- helpers ----------------------------------------------------------------

/** Runs `fn` with the path of a store file in a new directory, then removes it. */
async function withFile(
  fn: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gmqtt-sqlite-" });
  try {
    await fn(`${dir}/store.db`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens the file, reads it back and closes it again. */
async function readBack(path: string): Promise<StoredState> {
  const store = await SqliteStore.open(path);
  try {
    return withQueues(store, store.load());
  } finally {
    store.close();
  }
}

/**
 * What `load()` gave, with each session's queue read from the file into
 * `queue` (the store keeps queues there until asked).
 */
function withQueues(store: SqliteStore, state: StoredState): StoredState {
  return {
    sessions: state.sessions.map(({ queueInStore, ...s }) => ({
      ...s,
      queue: [
        ...s.queue,
        ...store.readQueue(s.session.clientId, 0, queueInStore?.count ?? 0),
      ],
    })),
    retained: state.retained,
  };
}

/** Sets the schema version recorded in a store file, bypassing the store. */
function recordSchemaVersion(path: string, version: string): void {
  const db = new DatabaseSync(path);
  try {
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'")
      .run(version);
  } finally {
    db.close();
  }
}

/**
 * Transactions committed to the file's write-ahead log since it was last
 * reset: the frames whose header carries the database size, which only a
 * transaction's last frame does (the SQLite WAL format, with the salts of
 * the log's header).
 */
function walCommits(path: string): number {
  const wal = Deno.readFileSync(`${path}-wal`);
  if (wal.length < 32) return 0;
  const view = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const pageSize = view.getUint32(8);
  const salt1 = view.getUint32(16);
  const salt2 = view.getUint32(20);
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (
      view.getUint32(at + 8) !== salt1 || view.getUint32(at + 12) !== salt2
    ) {
      break;
    }
    if (view.getUint32(at + 4) !== 0) commits++;
  }
  return commits;
}

/** Asserts that `error` is a SqliteStoreError about `path` whose message matches. */
function refusal(path: string, pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    ok(error instanceof SqliteStoreError, `not a SqliteStoreError: ${error}`);
    strictEqual(error.path, path);
    ok(
      error.message.startsWith(`Cannot use the store ${path}: `),
      error.message,
    );
    ok(pattern.test(error.message), error.message);
    return true;
  };
}

// -- the file ---------------------------------------------------------------

Deno.test("SqliteStore.close() commits what was written and open() reads it all back", async () => {
  await withFile(async (path) => {
    const kept = message("a/kept", { qos: 2 });
    const queued = [
      delivery(message("q/1")),
      delivery(message("q/2", { qos: 0 })),
    ];
    const sent = delivery(message("f/1", { qos: 2 }), { subscriptionIds: [7] });
    const record = sessionRecord("offline", { username: "u" });

    // No flush: close() commits the turn's writes itself.
    const first = await SqliteStore.open(path);
    deepStrictEqual(first.load(), { sessions: [], retained: [] });
    first.saveSession(record);
    first.saveSubscription("offline", "q/#", { topicFilter: "q/#", qos: 1 });
    for (const d of queued) first.enqueue("offline", d);
    first.saveInflight("offline", 42, sent, 2);
    first.saveIncoming("offline", 9);
    first.saveRetained(kept);
    first.saveRetained(message("a/gone", { retain: true }));
    first.deleteRetained("a/gone");
    first.saveSession(sessionRecord("ended"));
    first.deleteSession("ended");
    first.close();
    first.close();

    // A second life adds to what the first left.
    const second = await SqliteStore.open(path);
    const state = withQueues(second, second.load());
    strictEqual(state.sessions.length, 1);
    second.dequeue("offline", state.sessions[0]!.queue[0]!);
    const later = delivery(message("q/3"));
    second.enqueue("offline", later);
    second.deleteInflight("offline", 42);
    second.close();

    deepStrictEqual(await readBack(path), {
      sessions: [{
        session: record,
        subscriptions: [["q/#", { topicFilter: "q/#", qos: 1 }]],
        queue: [queued[1]!, later],
        inflight: [],
        incomingQoS2: [9],
      }],
      retained: [kept],
    });
  });
});

Deno.test("SqliteStore.open() moves a file of schema 1 to this schema and keeps its incoming QoS 2 ids", async () => {
  await withFile(async (path) => {
    const store = await SqliteStore.open(path);
    store.load();
    const record = sessionRecord("pub");
    store.saveSession(record);
    store.saveRetained(message("a/b", { retain: true }));
    store.close();
    // Schema 1 kept one row per id in `incoming`.
    const db = new DatabaseSync(path);
    try {
      db.exec(`DROP TABLE incoming_ids;
        CREATE TABLE incoming (id INTEGER PRIMARY KEY,
          client_id TEXT NOT NULL, packet_id INTEGER NOT NULL);
        INSERT INTO incoming (client_id, packet_id) VALUES
          ('pub', 65535), ('pub', 3), ('pub', 40), ('gone', 5);
        UPDATE meta SET value = '1' WHERE key = 'schema_version';`);
    } finally {
      db.close();
    }

    const state = await readBack(path);
    deepStrictEqual(state.sessions.map((s) => s.incomingQoS2), [
      [3, 40, 65_535],
    ]);
    strictEqual(state.retained.length, 1);
    const after = new DatabaseSync(path, { readOnly: true });
    try {
      strictEqual(
        after.prepare("SELECT value FROM meta").get()?.value,
        String(SQLITE_SCHEMA_VERSION),
      );
      strictEqual(
        after.prepare("SELECT name FROM sqlite_schema WHERE name = 'incoming'")
          .get(),
        undefined,
      );
    } finally {
      after.close();
    }
  });
});

Deno.test("SqliteStore ignores and logs a write once closed", async () => {
  await withFile(async (path) => {
    const records: LogRecord[] = [];
    const logger = new Logger("store", "error", {
      handlers: [{ handle: (record) => void records.push(record) }],
    });
    const store = await SqliteStore.open(path, { logger });
    store.load();
    store.close();
    store.saveRetained(message("late", { retain: true }));
    store.saveRetained(message("later", { retain: true }));
    strictEqual(store.flush(), undefined);
    deepStrictEqual(records.map((r) => [r.msg, r.fields]), [
      ["store write failed", {
        path,
        kind: "retained",
        error: "the store is closed",
      }],
    ]);
    deepStrictEqual(await readBack(path), { sessions: [], retained: [] });
  });
});

Deno.test("SqliteStore.open() records the schema version in the meta table", async () => {
  await withFile(async (path) => {
    (await SqliteStore.open(path)).close();
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      deepStrictEqual(
        { ...db.prepare("SELECT key, value FROM meta").all()[0] },
        { key: "schema_version", value: String(SQLITE_SCHEMA_VERSION) },
      );
    } finally {
      db.close();
    }
  });
});

Deno.test("SqliteStore.open() refuses a file written by a newer schema version and leaves it as it is", async () => {
  await withFile(async (path) => {
    const store = await SqliteStore.open(path);
    store.saveRetained(message("a/b", { retain: true }));
    store.close();
    const newer = String(SQLITE_SCHEMA_VERSION + 1);
    recordSchemaVersion(path, newer);

    await rejects(
      SqliteStore.open(path),
      refusal(path, new RegExp(`newer version .*schema ${newer}`)),
    );
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      deepStrictEqual(
        { ...db.prepare("SELECT value FROM meta").get() },
        { value: newer },
      );
      strictEqual(
        db.prepare("SELECT count(*) AS n FROM retained").get()?.n,
        1,
      );
    } finally {
      db.close();
    }

    // An older schema is refused too: this version reads only its own.
    recordSchemaVersion(path, "0");
    await rejects(
      SqliteStore.open(path),
      refusal(path, /schema 0 is not one this version reads/),
    );
  });
});

Deno.test("SqliteStore.open() refuses a text file and random bytes without changing them", async () => {
  await withFile(async (path) => {
    const random = new Uint8Array(8192);
    crypto.getRandomValues(random);
    const text = TEXT.encode("broker:\n  port: 1883\n".repeat(200));
    for (const content of [text, random]) {
      await Deno.writeFile(path, content);
      await rejects(
        SqliteStore.open(path),
        refusal(path, /not a database/),
      );
      deepStrictEqual(await Deno.readFile(path), content);
    }
  });
});

Deno.test("SqliteStore.open() refuses a file another SqliteStore holds open, which goes on working", async () => {
  await withFile(async (path) => {
    const holder = await SqliteStore.open(path);
    holder.load();
    try {
      await rejects(SqliteStore.open(path), refusal(path, /locked/));
      holder.saveRetained(message("still/written", { retain: true }));
      await holder.flush();
      await rejects(SqliteStore.open(path), refusal(path, /locked/));
    } finally {
      holder.close();
    }
    // Let go by close(): the next broker opens it.
    deepStrictEqual(await readBack(path), {
      sessions: [],
      retained: [message("still/written", { retain: true })],
    });
  });
});

Deno.test("SqliteStore.open() refuses a directory and a path in a missing directory", async () => {
  await withFile(async (_path, dir) => {
    await rejects(SqliteStore.open(dir), refusal(dir, /unable to open/));
    const missing = `${dir}/missing/store.db`;
    await rejects(
      SqliteStore.open(missing),
      refusal(missing, /unable to open/),
    );
    deepStrictEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("SqliteStore.open() refuses an unknown sync level with a TypeError", async () => {
  await withFile(async (path) => {
    await rejects(
      // @ts-expect-error: what a config file could say.
      SqliteStore.open(path, { sync: "off" }),
      (error: unknown) =>
        error instanceof TypeError && /sync must be/.test(error.message),
    );
    throws(() => Deno.statSync(path), Deno.errors.NotFound);
  });
});

// -- group commit -------------------------------------------------------------

Deno.test("SqliteStore.flush() waits for one commit of every write of the turn", async () => {
  await withFile(async (path) => {
    const store = await SqliteStore.open(path, { sync: "full" });
    try {
      store.load();
      const before = walCommits(path);
      store.saveSession(sessionRecord("c"));
      for (let i = 0; i < 200; i++) {
        store.saveRetained(message(`r/${i}`, { retain: true }));
        store.enqueue("c", delivery(message(`q/${i}`)));
      }
      const first = store.flush();
      const second = store.flush();
      ok(first instanceof Promise && second instanceof Promise);
      // Nothing is committed before the turn's work is done.
      strictEqual(walCommits(path), before);
      await Promise.all([first, second]);
      strictEqual(walCommits(path), before + 1);

      // A write per turn is a commit per turn.
      for (let i = 0; i < 3; i++) {
        store.deleteRetained(`r/${i}`);
        await store.flush();
      }
      strictEqual(walCommits(path), before + 4);
    } finally {
      store.close();
    }
    const state = await readBack(path);
    strictEqual(state.retained.length, 197);
    strictEqual(state.sessions[0]?.queue.length, 200);
  });
});

Deno.test("SqliteStore.flush() is undefined with nothing to commit, a promise until the commit", async () => {
  await withFile(async (path) => {
    const store = await SqliteStore.open(path);
    try {
      strictEqual(store.flush(), undefined);
      store.load();
      strictEqual(store.flush(), undefined);
      // A write for a session never saved is ignored: nothing to wait for.
      store.enqueue("nobody", delivery(message("a")));
      strictEqual(store.flush(), undefined);

      store.saveRetained(message("a", { retain: true }));
      const flushed = store.flush();
      ok(flushed instanceof Promise);
      strictEqual(await flushed, undefined);
      strictEqual(store.flush(), undefined);

      // Committed once the turn is done, even when nobody waits for it.
      store.saveRetained(message("b", { retain: true }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      strictEqual(store.flush(), undefined);
    } finally {
      store.close();
    }
    strictEqual((await readBack(path)).retained.length, 2);
  });
});

// -- failing writes -----------------------------------------------------------

/**
 * A program run with a file size limit (`ulimit -f`) and SIGXFSZ ignored,
 * so that writing past the limit fails with EFBIG as on a full disk: it
 * writes what does not fit twice, then something else that does not fit,
 * then something small, and prints how each flush ended and what was logged.
 */
const DISK_FULL_PROGRAM = `
import { SqliteStore } from ${
  JSON.stringify(import.meta.resolve("./sqlite.ts"))
};
import { Logger } from ${
  JSON.stringify(import.meta.resolve("../observe/logger.ts"))
};
const logs = [];
const logger = new Logger("store", "error", {
  handlers: [{ handle: (r) => void logs.push([r.msg, r.fields]) }],
});
const store = await SqliteStore.open(Deno.args[0], { logger });
store.load();
const big = new Uint8Array(4 * 1024 * 1024);
const message = (topic, payload) =>
  ({ topic, payload, qos: 1, retain: true, createdAt: 1 });
const flushes = [];
async function flushed() {
  try {
    await store.flush();
    flushes.push("resolved");
  } catch (error) {
    flushes.push(error.name + ": " + error.message);
  }
  const again = store.flush();
  again?.catch(() => {});
  flushes.push(again === undefined ? "done" : "still pending");
}
const retry = () => new Promise((resolve) => setTimeout(resolve, 400));
// Too big for the file: it fails, and stays to go again.
store.saveRetained(message("big/1", big));
await flushed();
// Within the retry delay, a commit fails at once.
store.saveRetained(message("small", Uint8Array.of(1, 2, 3)));
await flushed();
// The big one gone before the retry: what waited commits.
store.deleteRetained("big/1");
await retry();
await flushed();
store.saveSession({ clientId: "c", username: undefined, expiryInterval: 60,
  createdAt: 1, disconnectedAt: 1, will: undefined });
store.enqueue("c", { message: message("big/3", big), qos: 1, retain: false,
  subscriptionIds: undefined, expiresAt: undefined });
await flushed();
store.deleteSession("c");
await retry();
await flushed();
store.close();
console.log(JSON.stringify({ flushes, logs }));
`;

Deno.test({
  name:
    "SqliteStore.flush() rejects when the disk refuses a write, logs it once per kind, keeps the writes, and commits them with the next commit that fits",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withFile(async (path) => {
      // 1024 blocks: 512 KiB (or 1 MiB), far from the 4 MiB written.
      const { code, stdout, stderr } = await new Deno.Command("sh", {
        args: [
          "-c",
          `trap "" XFSZ; ulimit -f 1024; exec "$0" eval --ext=js "$1" "$2"`,
          Deno.execPath(),
          DISK_FULL_PROGRAM,
          path,
        ],
        env: { DENO_NO_UPDATE_CHECK: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const errors = new TextDecoder().decode(stderr);
      strictEqual(code, 0, errors);
      const { flushes, logs } = JSON.parse(
        new TextDecoder().decode(stdout),
      ) as { flushes: string[]; logs: unknown[] };
      const failed = `SqliteStoreError: Cannot use the store ${path}: ` +
        "disk I/O error";
      deepStrictEqual(flushes, [
        failed,
        "still pending",
        failed,
        "still pending",
        "resolved",
        "done",
        failed,
        "still pending",
        "resolved",
        "done",
      ]);
      // Once per kind: the retried retained writes add no line.
      deepStrictEqual(logs, [
        ["store write failed", {
          path,
          kind: "retained",
          error: "disk I/O error",
        }],
        ["store write failed", {
          path,
          kind: "queue",
          error: "disk I/O error",
        }],
      ]);
      // What failed was rolled back, then went again: the session saved and
      // deleted, the big message saved and deleted, the small one kept.
      deepStrictEqual(await readBack(path), {
        sessions: [],
        retained: [message("small", {
          payload: Uint8Array.of(1, 2, 3),
          retain: true,
          createdAt: 1,
        })],
      });
    });
  },
});

// -- bytes ----------------------------------------------------------------------

Deno.test("SqliteStore keeps payloads, correlation data and user properties byte for byte", async () => {
  await withFile(async (path) => {
    // Past the 32 KiB chunks a will's payload is encoded in.
    const large = Uint8Array.from(
      { length: 100_000 },
      (_, i) => (i * 131 + (i >> 8)) & 0xff,
    );
    const properties = {
      correlationData: ALL_BYTES,
      userProperties: [
        ["", ""],
        ["nul", "\u0000"],
        ["$bytes", "not bytes"],
        ["ü 😀 \ud7ff", '\t\n"\\'],
        ["k", "v"],
        ["k", "v"],
      ] as [string, string][],
    };
    const full = message("bytes/full", {
      payload: ALL_BYTES,
      properties,
      retain: true,
    });
    const will = {
      message: message("bytes/will", {
        payload: large,
        properties: { ...properties, correlationData: new Uint8Array(0) },
      }),
      messageExpiryInterval: undefined,
      delayInterval: 0,
      dueAt: undefined,
    };
    const empty = message("bytes/empty", { payload: new Uint8Array(0) });

    const store = await SqliteStore.open(path);
    store.load();
    store.saveSession(sessionRecord("c", { will }));
    store.enqueue("c", delivery(full));
    store.enqueue("c", delivery(message("bytes/large", { payload: large })));
    store.enqueue("c", delivery(empty));
    store.saveInflight("c", 1, delivery(full, { qos: 1 }), 1);
    store.saveRetained(full);
    await store.flush();
    store.close();

    const state = await readBack(path);
    const session = state.sessions[0]!;
    deepStrictEqual(session.session.will, will);
    deepStrictEqual(session.queue.map((d) => d.message.payload), [
      ALL_BYTES,
      large,
      new Uint8Array(0),
    ]);
    deepStrictEqual(session.queue[0]?.message, full);
    deepStrictEqual(session.inflight[0]?.delivery.message, full);
    deepStrictEqual(state.retained, [full]);
    // Its own bytes, not a view into something larger.
    const payload = state.retained[0]!.payload;
    strictEqual(payload.byteOffset, 0);
    strictEqual(payload.buffer.byteLength, 256);
  });
});
