/**
 * What {@linkcode RedisStore} does beyond the store contract (which
 * `src/store/contract_test.ts` runs against it): opening and refusing,
 * group commit, a commit that fails and goes again once Redis is back,
 * sessions moving between the nodes of a cluster, and bytes kept as they
 * are. Each test starts its own `redis-server` and stops it.
 *
 * @module
 */

import {
  deepStrictEqual,
  notStrictEqual,
  ok,
  rejects,
  strictEqual,
} from "node:assert/strict";
import type { Delivery, StoredSession } from "../src/core/ports.ts";
import { queuedSize } from "../src/core/session.ts";
import {
  RedisClient,
  replyBytes,
  replyMap,
  replyNumber,
  replyText,
} from "../src/redis/mod.ts";
import {
  REDIS_SCHEMA_VERSION,
  RedisStore,
  RedisStoreError,
} from "../src/store/redis.ts";
import { startRedisServer } from "./_redis.ts";
import {
  ALL_BYTES,
  delivery,
  message,
  sessionRecord,
} from "./_store_records.ts";

// -- helpers ----------------------------------------------------------------

/** A log that keeps what it is told. */
function recordingLogger(): {
  lines: { level: string; msg: string; fields: Record<string, unknown> }[];
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
} {
  const lines: {
    level: string;
    msg: string;
    fields: Record<string, unknown>;
  }[] = [];
  const at = (level: string) => (msg: string, fields = {}) =>
    void lines.push({ level, msg, fields });
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

/** A session's queue read back whole, in pages of `page`. */
async function readAll(
  store: RedisStore,
  clientId: string,
  page = 64,
): Promise<Delivery[]> {
  const all: Delivery[] = [];
  for (;;) {
    const read = await store.readQueue(clientId, all.length, page);
    all.push(...read);
    if (read.length < page) return all;
  }
}

function ids(sessions: readonly StoredSession[]): string[] {
  return sessions.map((s) => s.session.clientId).sort();
}

/** How many times Redis ran a command, from `INFO commandstats`. */
async function calls(client: RedisClient, command: string): Promise<number> {
  const info = replyText(await client.send(["INFO", "commandstats"]));
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
  return match === null ? 0 : Number(match[1]);
}

// -- opening ----------------------------------------------------------------

Deno.test("RedisStore.open() refuses an unreachable Redis with a RedisStoreError naming the URL, password masked", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  const url = `redis://app:s3cret@127.0.0.1:${port}/2`;
  const error = await RedisStore.open(url, { nodeId: "a" }).then(
    () => undefined,
    (e: unknown) => e,
  );
  ok(error instanceof RedisStoreError, String(error));
  strictEqual(error.url, `redis://app:***@127.0.0.1:${port}/2`);
  ok(
    error.message.startsWith(
      `Cannot use the Redis store at redis://app:***@127.0.0.1:${port}/2: `,
    ),
    error.message,
  );
  ok(!error.message.includes("s3cret"), error.message);
});

Deno.test("RedisStore.open() refuses a wrong password with a RedisStoreError", async () => {
  await using server = await startRedisServer({
    args: ["--requirepass", "right"],
  });
  const url = `redis://:wrong@127.0.0.1:${server.port}`;
  await rejects(
    RedisStore.open(url, { nodeId: "a" }),
    (error: unknown) =>
      error instanceof RedisStoreError && !error.message.includes("wrong") &&
      error.message.includes(`redis://:***@127.0.0.1:${server.port}`),
  );
});

Deno.test("RedisStore.open() writes the schema version, and refuses a newer one leaving it as it is", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const store = await RedisStore.open(server.url, {
    nodeId: "a",
    prefix: "p1:",
  });
  await store.close();
  strictEqual(
    replyText(await client.send(["GET", "p1:schema"])),
    String(REDIS_SCHEMA_VERSION),
  );

  await client.send(["SET", "p2:schema", String(REDIS_SCHEMA_VERSION + 1)]);
  await rejects(
    RedisStore.open(server.url, { nodeId: "a", prefix: "p2:" }),
    (error: unknown) =>
      error instanceof RedisStoreError &&
      error.message.includes("written by a newer version of the broker") &&
      error.message.includes(`schema ${REDIS_SCHEMA_VERSION + 1}`),
  );
  strictEqual(
    replyText(await client.send(["GET", "p2:schema"])),
    String(REDIS_SCHEMA_VERSION + 1),
  );
});

Deno.test("RedisStore over a caller's client checks the schema before its first read, and close() leaves the client open", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  await client.send(["SET", "newer:schema", "99"]);
  const refused = new RedisStore(client, { nodeId: "a", prefix: "newer:" });
  await rejects(refused.load(), RedisStoreError);
  await refused.close();

  const store = new RedisStore(client, { nodeId: "a" });
  deepStrictEqual(await store.load(), { sessions: [], retained: [] });
  store.saveRetained(message("kept", { retain: true }));
  await store.close();
  strictEqual(client.connected, true);
  strictEqual(await client.send(["HEXISTS", "gmqtt:retained", "kept"]), 1);
});

// -- commits ----------------------------------------------------------------

Deno.test("RedisStore commits every write of a turn in one MULTI/EXEC, flush() resolving once it answered", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const store = await RedisStore.open(server.url, { nodeId: "a" });
  try {
    await store.load();
    strictEqual(store.flush(), undefined);
    const before = await calls(client, "exec");
    for (let s = 0; s < 10; s++) {
      store.saveSession(sessionRecord(`c${s}`));
      for (let i = 0; i < 100; i++) {
        store.enqueue(`c${s}`, delivery(message(`t/${i}`)));
      }
    }
    const flushed = store.flush();
    ok(flushed instanceof Promise);
    strictEqual(store.flush(), flushed, "one promise per commit");
    await flushed;
    strictEqual(store.flush(), undefined);
    strictEqual(await calls(client, "exec"), before + 1);
    strictEqual(await client.send(["ZCARD", "gmqtt:queue:c9"]), 100);
  } finally {
    await store.close();
  }
});

Deno.test("RedisStore never sends a delivery dequeued in the turn it was queued", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const store = await RedisStore.open(server.url, { nodeId: "a" });
  try {
    await store.load();
    store.saveSession(sessionRecord("c"));
    await store.flush();
    const before = await calls(client, "hset");
    const d = delivery(message("gone"));
    store.enqueue("c", d);
    store.dequeue("c", d);
    store.saveInflight("c", 1, delivery(message("acked")), 1);
    store.deleteInflight("c", 1);
    store.saveIncoming("c", 5);
    await store.flush();
    strictEqual(await calls(client, "hset"), before);
    strictEqual(await client.send(["EXISTS", "gmqtt:queue:c"]), 0);
  } finally {
    await store.close();
  }
});

Deno.test("RedisStore keeps the writes of a commit Redis refuses and commits them with the next, once it can", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const logger = recordingLogger();
  const store = await RedisStore.open(server.url, { nodeId: "a", logger });
  try {
    await store.load();
    // The retained hash is a string: HSET on it fails with WRONGTYPE.
    await client.send(["SET", "gmqtt:retained", "in the way"]);
    store.saveSession(sessionRecord("c"));
    store.saveRetained(message("r", { retain: true }));
    await rejects(
      store.flush()!,
      (error: unknown) =>
        error instanceof RedisStoreError && /WRONGTYPE/.test(error.message),
    );
    strictEqual(
      logger.lines.filter((l) => l.msg === "store write failed")
        .length,
      1,
    );

    await client.send(["DEL", "gmqtt:retained"]);
    store.enqueue("c", delivery(message("later")));
    const flushed = store.flush();
    ok(flushed instanceof Promise);
    // Within the backoff the next commit fails at once, then the retry
    // commits everything kept.
    await flushed.catch(() => store.flush());
    for (let i = 0; i < 100 && store.flush() !== undefined; i++) {
      await store.flush()!.catch(() => {});
    }
    strictEqual(store.flush(), undefined);
    ok(logger.lines.some((l) => l.msg === "store writes committed again"));
  } finally {
    await store.close();
  }
  const again = await RedisStore.open(server.url, { nodeId: "a" });
  try {
    const state = await again.load();
    deepStrictEqual(ids(state.sessions), ["c"]);
    deepStrictEqual(state.retained, [message("r", { retain: true })]);
    deepStrictEqual(
      (await again.readQueue("c", 0, 10)).map((d) => d.message.topic),
      ["later"],
    );
  } finally {
    await again.close();
  }
});

Deno.test("RedisStore rejects flush() while Redis is down, keeps the writes and commits them once Redis is back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gmqtt-redis-" });
  try {
    await using server = await startRedisServer({
      args: ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir],
    });
    const store = await RedisStore.open(server.url, {
      nodeId: "a",
      offlineTimeout: 200,
      reconnectMinDelay: 10,
      reconnectMaxDelay: 50,
    });
    try {
      await store.load();
      store.saveSession(sessionRecord("before"));
      await store.flush();

      await server.stop();
      store.saveSession(sessionRecord("during"));
      store.enqueue(
        "during",
        delivery(message("queued", { payload: ALL_BYTES })),
      );
      await rejects(store.flush()!, RedisStoreError);

      await server.start();
      // The kept writes go again on their own, after the backoff.
      for (let i = 0; i < 100 && store.flush() !== undefined; i++) {
        await store.flush()!.catch(() =>
          new Promise((resolve) => setTimeout(resolve, 50))
        );
      }
      strictEqual(store.flush(), undefined);
    } finally {
      await store.close();
    }
    const again = await RedisStore.open(server.url, { nodeId: "a" });
    try {
      const state = await again.load();
      deepStrictEqual(ids(state.sessions), ["before", "during"]);
      const [queued] = await again.readQueue("during", 0, 10);
      deepStrictEqual(queued?.message.payload, ALL_BYTES);
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RedisStore ignores and logs a write once closed", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const logger = recordingLogger();
  const store = await RedisStore.open(server.url, { nodeId: "a", logger });
  await store.load();
  store.saveSession(sessionRecord("c"));
  await store.close();
  await store.close();
  store.saveRetained(message("late", { retain: true }));
  store.saveSession(sessionRecord("late"));
  strictEqual(store.flush(), undefined);
  strictEqual(await client.send(["EXISTS", "gmqtt:session:c"]), 1);
  strictEqual(await client.send(["EXISTS", "gmqtt:retained"]), 0);
  deepStrictEqual(
    logger.lines.filter((l) => l.msg === "store write ignored").length,
    1,
  );
});

// -- the cluster ------------------------------------------------------------

Deno.test("RedisStore.loadSession() reads a session another node owns and moves it here", async () => {
  await using server = await startRedisServer();
  const a = await RedisStore.open(server.url, { nodeId: "node-a" });
  const b = await RedisStore.open(server.url, { nodeId: "node-b" });
  try {
    await a.load();
    await b.load();
    const queued = [1, 2, 3].map((i) => delivery(message(`q/${i}`)));
    const sent = delivery(message("sent", { qos: 2 }));
    a.saveSession(sessionRecord("c", { username: "u" }));
    a.saveSubscription("c", "q/+", { topicFilter: "q/+", qos: 1 });
    for (const d of queued) a.enqueue("c", d);
    a.saveInflight("c", 7, sent, 2);
    a.saveIncoming("c", 9);
    a.saveSession(sessionRecord("stays"));
    // Written but not yet committed: loadSession commits it first.
    b.saveSession(sessionRecord("b-own"));
    await a.flush();

    const taken = await b.loadSession("c");
    deepStrictEqual(taken, {
      session: sessionRecord("c", { username: "u" }),
      subscriptions: [["q/+", { topicFilter: "q/+", qos: 1 }]],
      queue: [],
      queueInStore: {
        count: 3,
        bytes: queued.reduce((sum, d) => sum + queuedSize(d), 0),
      },
      inflight: [{ packetId: 7, delivery: sent, phase: 2 }],
      incomingQoS2: [9],
    });
    strictEqual(await b.loadSession("nobody"), undefined);

    // B now writes the session: the queue goes on after what A queued.
    const more = delivery(message("q/4"));
    b.enqueue("c", more);
    b.deleteInflight("c", 7);
    const read = await readAll(b, "c", 2);
    deepStrictEqual(read, [...queued, more]);
    b.dequeue("c", read[0]!);
    await b.flush();

    const bState = await (await reopen(b)).load();
    deepStrictEqual(ids(bState.sessions), ["b-own", "c"]);
    const aState = await (await reopen(a)).load();
    deepStrictEqual(ids(aState.sessions), ["stays"]);
  } finally {
    await a.close();
    await b.close();
    await closeReopened();
  }
});

Deno.test("RedisStore.adoptSessions() from two nodes at once gives each session of the gone node once", async () => {
  await using server = await startRedisServer();
  const gone = await RedisStore.open(server.url, { nodeId: "gone" });
  const b = await RedisStore.open(server.url, { nodeId: "node-b" });
  const c = await RedisStore.open(server.url, { nodeId: "node-c" });
  try {
    await gone.load();
    await b.load();
    await c.load();
    const SESSIONS = 40;
    const all: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const clientId = `s${String(i).padStart(2, "0")}`;
      all.push(clientId);
      gone.saveSession(sessionRecord(clientId));
      gone.enqueue(clientId, delivery(message(`t/${i}`)));
    }
    await gone.flush();
    await gone.close();

    const [fromB, fromC] = await Promise.all([
      b.adoptSessions("gone"),
      c.adoptSessions("gone"),
    ]);
    deepStrictEqual([...ids(fromB), ...ids(fromC)].sort(), all);
    for (const s of [...fromB, ...fromC]) {
      strictEqual(s.queueInStore?.count, 1);
    }
    deepStrictEqual(await b.adoptSessions("gone"), []);
    await rejects(b.adoptSessions("node-b"), RangeError);

    // The adopting node reads their queues and owns them from now on.
    const one = fromB[0] ?? fromC[0]!;
    const owner = fromB.length > 0 ? b : c;
    const [queued] = await owner.readQueue(one.session.clientId, 0, 10);
    ok(queued !== undefined);
    const state = await (await reopen(owner)).load();
    deepStrictEqual(
      ids(state.sessions),
      ids(owner === b ? fromB : fromC),
    );
    const gone2 = await reopen(gone, false);
    deepStrictEqual((await gone2.load()).sessions, []);
  } finally {
    await b.close();
    await c.close();
    await closeReopened();
  }
});

Deno.test("RedisStore runs its scripts by SHA-1, and with their text again once Redis has forgotten them", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const store = await RedisStore.open(server.url, { nodeId: "a" });
  try {
    await store.load();
    store.saveSession(sessionRecord("c"));
    store.enqueue("c", delivery(message("t")));
    await store.flush();
    strictEqual((await store.readQueue("c", 0, 10)).length, 1);
    strictEqual(await client.send(["SCRIPT", "FLUSH"]), "OK");
    const evals = await calls(client, "eval");
    strictEqual((await store.readQueue("c", 0, 10)).length, 1);
    strictEqual(await calls(client, "eval"), evals + 1);
    const shas = await calls(client, "evalsha");
    strictEqual((await store.readQueue("c", 0, 10)).length, 1);
    strictEqual(await calls(client, "evalsha"), shas + 1);
    strictEqual(await calls(client, "eval"), evals + 1);
  } finally {
    await store.close();
  }
});

// -- bytes ------------------------------------------------------------------

Deno.test("RedisStore keeps payloads, correlation data and user properties byte for byte, the payload unencoded in Redis", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const store = await RedisStore.open(server.url, { nodeId: "a" });
  const full = message("bytes/ü", {
    payload: ALL_BYTES,
    qos: 2,
    retain: true,
    properties: {
      correlationData: ALL_BYTES,
      userProperties: [["k", "v"], ["ünï", "😀\u0000"]],
      contentType: "application/octet-stream",
    },
  });
  const queued = delivery(full, { subscriptionIds: [1, 268_435_455] });
  const sent = delivery(full, { qos: 1, expiresAt: 9_000 });
  const record = sessionRecord("c", {
    will: {
      message: full,
      messageExpiryInterval: 60,
      delayInterval: 5,
      dueAt: undefined,
    },
  });
  try {
    await store.load();
    store.saveSession(record);
    store.enqueue("c", queued);
    store.saveInflight("c", 1, sent, 1);
    store.saveRetained(full);
    await store.flush();

    const raw = replyMap(await client.send(["HGETALL", "gmqtt:queued:c"]));
    const bytes = replyBytes([...raw.values()][0]!);
    ok(
      indexOf(bytes, ALL_BYTES) >= 0,
      "the payload is stored as it is, not encoded",
    );
  } finally {
    await store.close();
  }
  const again = await RedisStore.open(server.url, { nodeId: "a" });
  try {
    const state = await again.load();
    deepStrictEqual(state.retained, [full]);
    deepStrictEqual(state.sessions[0]?.session, record);
    deepStrictEqual(state.sessions[0]?.inflight, [{
      packetId: 1,
      delivery: sent,
      phase: 1,
    }]);
    deepStrictEqual(await again.readQueue("c", 0, 1), [queued]);
  } finally {
    await again.close();
  }
});

Deno.test("RedisStore gives back 50 sessions of 200 queued each, read in pages", async () => {
  await using server = await startRedisServer();
  await using client = new RedisClient(server.url);
  const SESSIONS = 50;
  const QUEUED = 200;
  const store = await RedisStore.open(server.url, { nodeId: "a" });
  const messages = Array.from(
    { length: QUEUED },
    (_, i) => message(`load/${i}`, { payload: new Uint8Array(i) }),
  );
  const expected = new Map<string, Delivery[]>();
  try {
    await store.load();
    for (let s = 0; s < SESSIONS; s++) {
      const clientId = `client-${s}`;
      store.saveSession(sessionRecord(clientId));
      const queue = messages.map((m, i) =>
        delivery(m, { subscriptionIds: [s, i] })
      );
      for (const d of queue) store.enqueue(clientId, d);
      expected.set(clientId, queue);
    }
    await store.flush();
  } finally {
    await store.close();
  }
  const again = await RedisStore.open(server.url, { nodeId: "a" });
  try {
    const state = await again.load();
    strictEqual(state.sessions.length, SESSIONS);
    for (const s of state.sessions) {
      const queue = expected.get(s.session.clientId)!;
      deepStrictEqual(s.queueInStore, {
        count: QUEUED,
        bytes: queue.reduce((sum, d) => sum + queuedSize(d), 0),
      });
      const read = await readAll(again, s.session.clientId, 64);
      deepStrictEqual(read, queue);
      for (const d of read) again.dequeue(s.session.clientId, d);
    }
    await again.flush();
    notStrictEqual(replyNumber(await client.send(["DBSIZE"])), 0);
    strictEqual(await client.send(["EXISTS", "gmqtt:queue:client-0"]), 0);
  } finally {
    await again.close();
  }
});

// -- reopening --------------------------------------------------------------

/** Stores opened by `reopen`, closed at the end of each test. */
const reopened: RedisStore[] = [];

/** A new store on the same Redis, prefix and node id; closes `store` first. */
async function reopen(store: RedisStore, close = true): Promise<RedisStore> {
  if (close) await store.close();
  const again = await RedisStore.open(store.url, {
    nodeId: store.nodeId,
    prefix: store.prefix,
  });
  reopened.push(again);
  return again;
}

async function closeReopened(): Promise<void> {
  for (const store of reopened.splice(0)) await store.close();
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
