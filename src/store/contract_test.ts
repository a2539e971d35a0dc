/**
 * The contract of the {@linkcode Store} port, written once and run against
 * every implementation in {@linkcode MAKERS}: a new store passes when it is
 * one more entry there.
 *
 * Each test uses a store the way the server does: open it and `load()` it
 * once, write, then restart it (`flush()`, then the maker's `reopen`) and
 * `load()` once more to see what survived. What the port does not order
 * (sessions, subscriptions, incoming QoS 2 ids, retained messages) is sorted
 * before comparing; queues and messages in flight keep their order. Records
 * are compared by deep equality, never identity: a durable store gives back
 * copies. A required field that is `undefined` must come back as a present
 * `undefined` and an optional field left out must stay left out, as the
 * core builds them.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type {
  Delivery,
  SessionRecord,
  Store,
  StoredInflight,
  StoredSession,
  StoredState,
  StoredWill,
  SubscriptionRecord,
} from "../core/ports.ts";
import { queuedSize } from "../core/session.ts";
import {
  delivery,
  fullMessage,
  message,
  sessionRecord,
  TEXT,
} from "../../tests/_store_records.ts";
import { MemoryStore } from "./memory.ts";
import { SqliteStore } from "./sqlite.ts";
import { RedisStore } from "./redis.ts";
import { type RedisServer, startRedisServer } from "../../tests/_redis.ts";

/** Files the SQLite maker made, removed after each test. */
const sqliteFiles: string[] = [];

/**
 * The redis-server the Redis maker started, stopped after each test: one
 * per test, so that each test runs with the sanitizers on and leaves no
 * process behind whatever runs or fails.
 */
const redisServers: RedisServer[] = [];

/** One store implementation under test. */
interface StoreMaker {
  /** Its name in the test names. */
  name: string;
  /** Opens a new, empty store. */
  open(): Promise<Store>;
  /**
   * What a server restart does to the store, after `flush()`: the same
   * object for a store in memory; close, then open the same file for one
   * on disk.
   */
  reopen(previous: Store): Promise<Store>;
  /**
   * Removes what `open` made; runs after each test, once the test's last
   * store is closed.
   */
  cleanup?(): Promise<
    void
  >; /** Whether it keeps offline queues on its side (`readQueue`). */
  pages?: boolean;
}

const MAKERS: StoreMaker[] = [
  {
    name: "MemoryStore",
    open: () => Promise.resolve(new MemoryStore()),
    reopen: (store) => Promise.resolve(store),
  },
  {
    name: "SqliteStore",
    pages: true,
    async open() {
      const dir = await Deno.makeTempDir({ prefix: "gmqtt-store-" });
      sqliteFiles.push(dir);
      return await SqliteStore.open(`${dir}/store.db`);
    },
    async reopen(previous) {
      const store = previous as SqliteStore;
      store.close();
      return await SqliteStore.open(store.path);
    },
    async cleanup() {
      for (const dir of sqliteFiles.splice(0)) {
        await Deno.remove(dir, { recursive: true });
      }
    },
  },
  {
    name: "RedisStore",
    pages: true,
    async open() {
      const server = await startRedisServer();
      redisServers.push(server);
      return await RedisStore.open(server.url, { nodeId: "node-a" });
    },
    async reopen(previous) {
      const store = previous as RedisStore;
      await store.close();
      return await RedisStore.open(store.url, {
        nodeId: store.nodeId,
        prefix: store.prefix,
      });
    },
    async cleanup() {
      for (const server of redisServers.splice(0)) await server.stop();
    },
  },
];

// -- builders ---------------------------------------------------------------

/** A will with a message that has properties; `fields` override. */
function will(fields: Partial<StoredWill> = {}): StoredWill {
  return {
    message: message("clients/gone", {
      payload: TEXT.encode("offline"),
      retain: true,
      properties: {
        payloadFormatIndicator: 1,
        contentType: "text/plain",
        userProperties: [["reason", "lost"]],
      },
      publisher: "client-a",
    }),
    messageExpiryInterval: undefined,
    delayInterval: 30,
    dueAt: undefined,
    ...fields,
  };
}

/** A QoS 1 subscription to `topicFilter`; `fields` override. */
function subscription(
  topicFilter: string,
  fields: Partial<SubscriptionRecord> = {},
): SubscriptionRecord {
  return { topicFilter, qos: 1, ...fields };
}

/** What `load()` gives back for a session; parts left out are empty. */
function stored(
  record: SessionRecord,
  parts: Partial<StoredSession> = {},
): StoredSession {
  return {
    session: record,
    subscriptions: [],
    queue: [],
    inflight: [],
    incomingQoS2: [],
    ...parts,
  };
}

/** A message in flight as `load()` gives it back. */
function inflight(
  packetId: number,
  d: Delivery,
  phase: 1 | 2 = 1,
): StoredInflight {
  return { packetId, delivery: d, phase };
}

// -- running a store as the server does -------------------------------------

/** `state` with what the port does not order sorted, as plain arrays. */
function sorted(state: StoredState): StoredState {
  const sessions = state.sessions.map((s) => ({
    session: s.session,
    subscriptions: [...s.subscriptions].sort(([a], [b]) => compare(a, b)),
    queue: [...s.queue],
    inflight: [...s.inflight],
    incomingQoS2: [...s.incomingQoS2].sort((a, b) => a - b),
  }));
  return {
    sessions: sessions.sort((a, b) =>
      compare(a.session.clientId, b.session.clientId)
    ),
    retained: [...state.retained].sort((a, b) => compare(a.topic, b.topic)),
  };
}

function addSize(sum: number, d: Delivery): number {
  return sum + queuedSize(d);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One test's store, opened and loaded as the server opens it. */
class Run {
  readonly #maker: StoreMaker;
  #store: Store;

  constructor(maker: StoreMaker, store: Store) {
    this.#maker = maker;
    this.#store = store;
  }

  /** The store to write to; a new object after a restart, maybe. */
  get store(): Store {
    return this.#store;
  }

  /** Flushes, restarts the store and loads what survived, sorted. */
  async restart(): Promise<StoredState> {
    await this.#store.flush();
    return await this.reopen();
  }

  /**
   * Restarts the store without flushing it first and loads it, sorted. A
   * store that keeps queues on its side (`readQueue`) has its counts
   * checked against what it reads back, which stands in the queue.
   */
  async reopen(): Promise<StoredState> {
    this.#store = await this.#maker.reopen(this.#store);
    const state = await this.#store.load();
    const sessions: StoredSession[] = [];
    for (const s of state.sessions) {
      const { queueInStore, ...rest } = s;
      if (queueInStore === undefined) {
        sessions.push(rest);
        continue;
      }
      const kept = await this.#store.readQueue!(
        s.session.clientId,
        s.queue.length,
        queueInStore.count + 1,
      );
      strictEqual(queueInStore.count, kept.length);
      strictEqual(queueInStore.bytes, kept.reduce(addSize, 0));
      sessions.push({ ...rest, queue: [...s.queue, ...kept] });
    }
    return sorted({ sessions, retained: state.retained });
  }

  /** Closes the store and removes what the maker made. */
  async end(): Promise<void> {
    try {
      await this.#store.close();
    } finally {
      await this.#maker.cleanup?.();
    }
  }
}

/**
 * Registers one test of the contract for every store in MAKERS, or only
 * for those that keep queues on their side (`readQueue`) when `paging`.
 */
function contract(
  name: string,
  fn: (run: Run) => Promise<void>,
  paging = false,
): void {
  for (const maker of MAKERS.filter((m) => !paging || m.pages === true)) {
    Deno.test(`Store (${maker.name}) ${name}`, async () => {
      const run = new Run(maker, await maker.open());
      try {
        deepStrictEqual(
          sorted(await run.store.load()),
          { sessions: [], retained: [] },
          "A new store is not empty",
        );
        await fn(run);
      } finally {
        await run.end();
      }
    });
  }
}

// -- the contract -----------------------------------------------------------

contract("load() gives back nothing from an empty store", async (run) => {
  deepStrictEqual(await run.restart(), { sessions: [], retained: [] });
});

contract("saveSession() keeps every field of the record", async (run) => {
  const records = [
    sessionRecord("a-connected", {
      username: "alice",
      expiryInterval: 0xffffffff,
      createdAt: 1_700_000_000_000,
      will: will(),
    }),
    sessionRecord("b-gone", {
      expiryInterval: 3_600,
      createdAt: 2_000,
      disconnectedAt: 5_000,
      will: will({
        messageExpiryInterval: 120,
        delayInterval: 60,
        dueAt: 65_000,
      }),
    }),
    sessionRecord("c-plain", { username: "" }),
  ];
  for (const r of records) run.store.saveSession(r);
  deepStrictEqual(await run.restart(), {
    sessions: records.map((r) => stored(r)),
    retained: [],
  });
});

contract(
  "saveSession() replaces the record and keeps what the session holds",
  async (run) => {
    const msg = message("a/b");
    const queued = delivery(msg);
    const sent = delivery(msg, { qos: 2 });
    run.store.saveSession(sessionRecord("c", { will: will() }));
    run.store.saveSubscription("c", "a/+", subscription("a/+"));
    run.store.enqueue("c", queued);
    run.store.saveInflight("c", 1, sent, 1);
    run.store.saveIncoming("c", 9);
    await run.restart();

    const replaced = sessionRecord("c", {
      username: "bob",
      expiryInterval: 60,
      disconnectedAt: 9_000,
    });
    run.store.saveSession(replaced);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(replaced, {
        subscriptions: [["a/+", subscription("a/+")]],
        queue: [queued],
        inflight: [inflight(1, sent)],
        incomingQoS2: [9],
      })],
      retained: [],
    });
  },
);

contract("saveSubscription() keeps every field of the record", async (run) => {
  const subscriptions: [string, SubscriptionRecord][] = [
    ["$share/g/a/+", subscription("a/+", { shareName: "g" })],
    [
      "a/#",
      subscription("a/#", {
        qos: 2,
        noLocal: true,
        retainAsPublished: true,
        retainHandling: 2,
        subscriptionId: 268_435_455,
        checkDeliver: true,
      }),
    ],
    [
      "b",
      subscription("b", {
        qos: 0,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 0,
        subscriptionId: 1,
        checkDeliver: false,
      }),
    ],
    ["c/+/d", subscription("c/+/d", { retainHandling: 1 })],
  ];
  run.store.saveSession(sessionRecord("c"));
  for (const [filter, record] of subscriptions) {
    run.store.saveSubscription("c", filter, record);
  }
  deepStrictEqual(await run.restart(), {
    sessions: [stored(sessionRecord("c"), { subscriptions })],
    retained: [],
  });
});

contract(
  "saveSubscription() replaces the subscription of the same filter",
  async (run) => {
    run.store.saveSession(sessionRecord("c"));
    run.store.saveSubscription("c", "a/b", subscription("a/b", { qos: 2 }));
    run.store.saveSubscription(
      "c",
      "$share/g/a/+",
      subscription("a/+", { shareName: "g" }),
    );
    await run.restart();

    const plain = subscription("a/b", { qos: 0, subscriptionId: 7 });
    const shared = subscription("a/+", { shareName: "g", qos: 2 });
    run.store.saveSubscription("c", "a/b", plain);
    run.store.saveSubscription("c", "$share/g/a/+", shared);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), {
        subscriptions: [["$share/g/a/+", shared], ["a/b", plain]],
      })],
      retained: [],
    });
  },
);

contract(
  "deleteSubscription() removes one subscription and keeps the others",
  async (run) => {
    run.store.saveSession(sessionRecord("c"));
    run.store.saveSubscription("c", "a/+", subscription("a/+"));
    run.store.saveSubscription(
      "c",
      "$share/g/a/+",
      subscription("a/+", { shareName: "g" }),
    );
    run.store.saveSubscription("c", "b", subscription("b"));
    await run.restart();

    run.store.deleteSubscription("c", "$share/g/a/+");
    run.store.deleteSubscription("c", "b");
    run.store.deleteSubscription("c", "never/subscribed");
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), {
        subscriptions: [["a/+", subscription("a/+")]],
      })],
      retained: [],
    });
  },
);

contract(
  "enqueue() keeps the queue's order and every field of a delivery",
  async (run) => {
    const queue = [
      delivery(message("t/1", { qos: 0 })),
      delivery(fullMessage("t/2"), {
        qos: 1,
        retain: true,
        subscriptionIds: [1, 268_435_455],
        expiresAt: 3_601_000,
      }),
      delivery(message("t/3", { payload: new Uint8Array(0), qos: 2 }), {
        subscriptionIds: [],
        expiresAt: 0,
      }),
      delivery(message("t/1", { qos: 2 }), { qos: 1 }),
    ];
    run.store.saveSession(sessionRecord("c"));
    for (const d of queue) run.store.enqueue("c", d);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), { queue })],
      retained: [],
    });
  },
);

contract(
  "dequeue() removes a delivery from the middle and from the head",
  async (run) => {
    const queue = ["a", "b", "c", "d", "e"].map((t) => delivery(message(t)));
    const [a, b, c, d, e] = queue as [
      Delivery,
      Delivery,
      Delivery,
      Delivery,
      Delivery,
    ];
    run.store.saveSession(sessionRecord("c"));
    for (const q of queue) run.store.enqueue("c", q);
    run.store.dequeue("c", c);
    run.store.dequeue("c", a);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), { queue: [b, d, e] })],
      retained: [],
    });
  },
);

contract(
  "dequeue() removes a delivery that load() gave back after a restart",
  async (run) => {
    const queue = ["a", "b", "c"].map((t) => delivery(message(t)));
    run.store.saveSession(sessionRecord("c"));
    for (const q of queue) run.store.enqueue("c", q);
    const loaded = (await run.restart()).sessions[0]?.queue ?? [];
    strictEqual(loaded.length, 3);

    run.store.dequeue("c", loaded[1]!);
    run.store.dequeue("c", loaded[0]!);
    const d = delivery(message("d"));
    run.store.enqueue("c", d);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), { queue: [queue[2]!, d] })],
      retained: [],
    });
  },
);

contract(
  "dequeue() removes only the delivery given when another is equal",
  async (run) => {
    const msg = message("a/b");
    const first = delivery(msg);
    const second = delivery(msg);
    run.store.saveSession(sessionRecord("c"));
    run.store.enqueue("c", first);
    run.store.enqueue("c", second);
    run.store.dequeue("c", first);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), { queue: [second] })],
      retained: [],
    });
  },
);

contract(
  "enqueue() keeps a message shared by two sessions in both",
  async (run) => {
    const msg = fullMessage("shared/topic");
    const forA = delivery(msg, { qos: 1, subscriptionIds: [3] });
    const forB = delivery(msg, { qos: 2, expiresAt: 10_000 });
    const alsoForA = delivery(msg, { qos: 0 });
    run.store.saveSession(sessionRecord("a"));
    run.store.saveSession(sessionRecord("b"));
    run.store.enqueue("a", forA);
    run.store.enqueue("b", forB);
    run.store.enqueue("a", alsoForA);
    const state = await run.restart();
    deepStrictEqual(state, {
      sessions: [
        stored(sessionRecord("a"), { queue: [forA, alsoForA] }),
        stored(sessionRecord("b"), { queue: [forB] }),
      ],
      retained: [],
    });

    // The session the client resumes lets its deliveries go; b keeps its own.
    for (const d of state.sessions[0]?.queue ?? []) run.store.dequeue("a", d);
    deepStrictEqual(await run.restart(), {
      sessions: [
        stored(sessionRecord("a")),
        stored(sessionRecord("b"), { queue: [forB] }),
      ],
      retained: [],
    });
  },
);

contract(
  "saveInflight() keeps messages in flight in the order they were sent",
  async (run) => {
    const sent = [
      inflight(65_535, delivery(fullMessage("t/1"), { subscriptionIds: [2] })),
      inflight(1, delivery(message("t/2", { qos: 2 })), 2),
      inflight(300, delivery(message("t/3"), { expiresAt: 9_000 })),
    ];
    run.store.saveSession(sessionRecord("c"));
    for (const { packetId, delivery: d, phase } of sent) {
      run.store.saveInflight("c", packetId, d, phase);
    }
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), { inflight: sent })],
      retained: [],
    });
  },
);

contract(
  "saveInflight() moves a message to phase 2 in its place",
  async (run) => {
    const [a, b, c] = ["a", "b", "c"].map((t) =>
      delivery(message(t, { qos: 2 }))
    ) as [Delivery, Delivery, Delivery];
    run.store.saveSession(sessionRecord("c"));
    run.store.saveInflight("c", 1, a, 1);
    run.store.saveInflight("c", 65_535, b, 1);
    run.store.saveInflight("c", 2, c, 1);
    run.store.saveInflight("c", 65_535, b, 2);
    const state = await run.restart();
    deepStrictEqual(state, {
      sessions: [stored(sessionRecord("c"), {
        inflight: [inflight(1, a), inflight(65_535, b, 2), inflight(2, c)],
      })],
      retained: [],
    });

    const loaded = state.sessions[0]?.inflight ?? [];
    run.store.saveInflight("c", 1, loaded[0]!.delivery, 2);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), {
        inflight: [inflight(1, a, 2), inflight(65_535, b, 2), inflight(2, c)],
      })],
      retained: [],
    });

    // Its packet id, acknowledged and used again, starts at phase 1.
    const d = delivery(message("d", { qos: 2 }));
    run.store.deleteInflight("c", 65_535);
    await run.store.flush();
    run.store.saveInflight("c", 65_535, d, 1);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), {
        inflight: [inflight(1, a, 2), inflight(2, c), inflight(65_535, d)],
      })],
      retained: [],
    });
  },
);

contract("deleteInflight() forgets an acknowledged message", async (run) => {
  const [a, b, c] = ["a", "b", "c"].map((t) => delivery(message(t))) as [
    Delivery,
    Delivery,
    Delivery,
  ];
  run.store.saveSession(sessionRecord("c"));
  run.store.saveInflight("c", 1, a, 1);
  run.store.saveInflight("c", 65_535, b, 2);
  run.store.saveInflight("c", 2, c, 1);
  run.store.deleteInflight("c", 65_535);
  run.store.deleteInflight("c", 1);
  run.store.deleteInflight("c", 3);
  deepStrictEqual(await run.restart(), {
    sessions: [stored(sessionRecord("c"), { inflight: [inflight(2, c)] })],
    retained: [],
  });

  // A packet id free again goes to a new message, sent last.
  const d = delivery(message("d"));
  run.store.saveInflight("c", 1, d, 1);
  deepStrictEqual(await run.restart(), {
    sessions: [stored(sessionRecord("c"), {
      inflight: [inflight(2, c), inflight(1, d)],
    })],
    retained: [],
  });
});

contract(
  "saveInflight() takes a delivery that moves out of the queue",
  async (run) => {
    const first = delivery(message("a"));
    const second = delivery(message("b"));
    run.store.saveSession(sessionRecord("c"));
    run.store.enqueue("c", first);
    run.store.enqueue("c", second);
    run.store.dequeue("c", first);
    run.store.saveInflight("c", 1, first, 1);
    run.store.saveInflight("c", 2, second, 1);
    run.store.dequeue("c", second);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), {
        inflight: [inflight(1, first), inflight(2, second)],
      })],
      retained: [],
    });
  },
);

contract(
  "saveIncoming() and deleteIncoming() keep the ids not yet released",
  async (run) => {
    run.store.saveSession(sessionRecord("c"));
    for (const id of [65_535, 7, 1, 7, 300]) run.store.saveIncoming("c", id);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), {
        incomingQoS2: [1, 7, 300, 65_535],
      })],
      retained: [],
    });

    // 7 was saved twice and counts once: one delete forgets it.
    run.store.deleteIncoming("c", 7);
    run.store.deleteIncoming("c", 300);
    run.store.deleteIncoming("c", 2);
    run.store.saveIncoming("c", 1);
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), { incomingQoS2: [1, 65_535] })],
      retained: [],
    });
  },
);

contract("saveRetained() keeps every field of a message", async (run) => {
  const retained = [
    fullMessage("a/full"),
    message("b/plain", { retain: true, qos: 0 }),
    message("c/$odd/ünï", { retain: true, payload: Uint8Array.of(0) }),
  ];
  for (const m of retained) run.store.saveRetained(m);
  deepStrictEqual(await run.restart(), { sessions: [], retained });
});

contract(
  "saveRetained() replaces the message of the same topic",
  async (run) => {
    run.store.saveRetained(fullMessage("a/b"));
    run.store.saveRetained(message("c", { retain: true }));
    await run.restart();

    const replacement = message("a/b", {
      payload: TEXT.encode("new"),
      retain: true,
      createdAt: 2_000,
    });
    run.store.saveRetained(replacement);
    deepStrictEqual(await run.restart(), {
      sessions: [],
      retained: [replacement, message("c", { retain: true })],
    });
  },
);

contract("deleteRetained() removes the message of one topic", async (run) => {
  run.store.saveRetained(message("a", { retain: true }));
  run.store.saveRetained(message("a/b", { retain: true }));
  run.store.saveRetained(message("b", { retain: true }));
  await run.restart();

  run.store.deleteRetained("a");
  run.store.deleteRetained("never/retained");
  deepStrictEqual(await run.restart(), {
    sessions: [],
    retained: [
      message("a/b", { retain: true }),
      message("b", { retain: true }),
    ],
  });
});

contract(
  "deleteSession() removes everything of the session and nothing of another",
  async (run) => {
    const msg = message("a/b");
    for (const clientId of ["again", "gone", "kept"]) {
      run.store.saveSession(sessionRecord(clientId, { will: will() }));
      run.store.saveSubscription(clientId, "a/+", subscription("a/+"));
      run.store.enqueue(clientId, delivery(msg));
      run.store.saveInflight(clientId, 1, delivery(msg), 2);
      run.store.saveIncoming(clientId, 5);
    }
    run.store.saveRetained(message("a/b", { retain: true }));
    await run.restart();

    run.store.deleteSession("gone");
    // A clean start: the old session ends and a new one takes its id.
    run.store.deleteSession("again");
    run.store.saveSession(sessionRecord("again"));
    const kept = stored(sessionRecord("kept", { will: will() }), {
      subscriptions: [["a/+", subscription("a/+")]],
      queue: [delivery(msg)],
      inflight: [inflight(1, delivery(msg), 2)],
      incomingQoS2: [5],
    });
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("again")), kept],
      retained: [message("a/b", { retain: true })],
    });

    // A session made again later under the same client id starts empty.
    run.store.saveSession(sessionRecord("gone"));
    deepStrictEqual(await run.restart(), {
      sessions: [
        stored(sessionRecord("again")),
        stored(sessionRecord("gone")),
        kept,
      ],
      retained: [message("a/b", { retain: true })],
    });
  },
);

contract(
  "ignores writes for a client id never saved or deleted",
  async (run) => {
    run.store.saveSession(sessionRecord("deleted"));
    run.store.saveSession(sessionRecord("kept"));
    run.store.deleteSession("deleted");
    await run.restart();

    const d = delivery(message("a"));
    for (const clientId of ["never", "deleted"]) {
      run.store.deleteSession(clientId);
      run.store.saveSubscription(clientId, "a", subscription("a"));
      run.store.deleteSubscription(clientId, "a");
      run.store.saveSubscription(clientId, "b", subscription("b"));
      run.store.enqueue(clientId, d);
      run.store.dequeue(clientId, d);
      run.store.enqueue(clientId, delivery(message("b")));
      run.store.saveInflight(clientId, 1, d, 1);
      run.store.saveInflight(clientId, 1, d, 2);
      run.store.saveInflight(clientId, 2, delivery(message("c")), 1);
      run.store.deleteInflight(clientId, 1);
      run.store.saveIncoming(clientId, 3);
      run.store.saveIncoming(clientId, 4);
      run.store.deleteIncoming(clientId, 3);
    }
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("kept"))],
      retained: [],
    });

    // Nothing written while they did not exist shows up once they do.
    run.store.saveSession(sessionRecord("never"));
    run.store.saveSession(sessionRecord("deleted"));
    deepStrictEqual(await run.restart(), {
      sessions: [
        stored(sessionRecord("deleted")),
        stored(sessionRecord("kept")),
        stored(sessionRecord("never")),
      ],
      retained: [],
    });
  },
);

contract(
  "flush() makes every write so far survive a restart",
  async (run) => {
    const msg = fullMessage("a/b");
    const queued = delivery(msg, { subscriptionIds: [4] });
    const sent = delivery(msg, { qos: 1 });
    const record = sessionRecord("c", {
      username: "u",
      will: will({ messageExpiryInterval: 0, delayInterval: 0 }),
    });
    run.store.saveSession(record);
    run.store.saveSubscription("c", "a/#", subscription("a/#"));
    run.store.enqueue("c", queued);
    run.store.saveInflight("c", 10, sent, 1);
    run.store.saveIncoming("c", 11);
    run.store.saveRetained(msg);

    const flushed = run.store.flush();
    ok(
      flushed === undefined || flushed instanceof Promise,
      "flush() returns undefined or a promise",
    );
    strictEqual(await flushed, undefined);
    deepStrictEqual(await run.reopen(), {
      sessions: [stored(record, {
        subscriptions: [["a/#", subscription("a/#")]],
        queue: [queued],
        inflight: [inflight(10, sent)],
        incomingQoS2: [11],
      })],
      retained: [msg],
    });
  },
);

contract(
  "load() gives back 50 sessions of 200 queued, half dequeued, and 100 in flight",
  async (run) => {
    const SESSIONS = 50;
    const QUEUED = 200;
    const INFLIGHT = 100;
    // One message per position, shared by every session, as routing does.
    const messages = Array.from(
      { length: QUEUED + INFLIGHT },
      (_, i) => message(`load/${i}`, { createdAt: i }),
    );
    const expected: StoredSession[] = [];
    for (let s = 0; s < SESSIONS; s++) {
      const clientId = `client-${String(s).padStart(2, "0")}`;
      run.store.saveSession(sessionRecord(clientId));
      const queue = messages.slice(0, QUEUED).map((m, i) =>
        delivery(m, { subscriptionIds: [s, i] })
      );
      for (const d of queue) run.store.enqueue(clientId, d);
      const sent: StoredInflight[] = [];
      for (let i = 0; i < INFLIGHT; i++) {
        const d = delivery(messages[QUEUED + i]!, { qos: 2 });
        const packetId = 65_535 - i;
        run.store.saveInflight(clientId, packetId, d, 1);
        sent.push(inflight(packetId, d, (i % 2 + 1) as 1 | 2));
      }
      for (let i = 1; i < INFLIGHT; i += 2) {
        run.store.saveInflight(clientId, 65_535 - i, sent[i]!.delivery, 2);
      }
      // Half the queue leaves: every other delivery, the head included.
      for (let i = 0; i < QUEUED; i += 2) {
        run.store.dequeue(clientId, queue[i]!);
      }
      expected.push(stored(sessionRecord(clientId), {
        queue: queue.filter((_, i) => i % 2 === 1),
        inflight: sent,
      }));
    }
    const state = await run.restart();
    strictEqual(state.sessions.length, SESSIONS);
    for (const s of state.sessions) {
      strictEqual(s.queue.length, QUEUED / 2);
      strictEqual(s.inflight.length, INFLIGHT);
    }
    deepStrictEqual(state, { sessions: expected, retained: [] });
  },
);

contract(
  "readQueue() reads a queue in pages after the ones skipped, this turn's writes included, and dequeue() takes what it read",
  async (run) => {
    const queue = ["a", "b", "c", "d", "e"].map((t) => delivery(message(t)));
    run.store.saveSession(sessionRecord("c"));
    run.store.saveSession(sessionRecord("other"));
    for (const q of queue) run.store.enqueue("c", q);
    run.store.enqueue("other", delivery(message("x")));
    await run.store.flush();
    const later = delivery(message("f"));
    run.store.enqueue("c", later);
    run.store.dequeue("c", queue[0]!);

    const topics = async (skip: number, limit: number): Promise<string[]> =>
      (await run.store.readQueue!("c", skip, limit)).map((d) =>
        d.message.topic
      );
    deepStrictEqual(await topics(0, 2), ["b", "c"]);
    deepStrictEqual(await topics(2, 2), ["d", "e"]);
    deepStrictEqual(await topics(4, 10), ["f"]);
    deepStrictEqual(await topics(5, 10), []);
    deepStrictEqual(await run.store.readQueue!("nobody", 0, 10), []);

    const [b] = await run.store.readQueue!("c", 0, 1);
    deepStrictEqual(b, queue[1]);
    run.store.dequeue("c", b!);
    const state = await run.restart();
    deepStrictEqual(
      state.sessions.map((s) => s.queue.map((d) => d.message.topic)),
      [["c", "d", "e", "f"], ["x"]],
    );
  },
  true,
);

contract(
  "keeps the last of a row's writes made in one turn: phase 2 then acknowledged, a packet id used again, a retained topic set, cleared and set again",
  async (run) => {
    const [a, b, d] = ["a", "b", "d"].map((t) =>
      delivery(message(t, { qos: 2 }))
    ) as [Delivery, Delivery, Delivery];
    run.store.saveSession(sessionRecord("c"));
    run.store.saveInflight("c", 1, a, 1);
    run.store.saveInflight("c", 2, b, 1);
    run.store.saveRetained(message("r", { payload: TEXT.encode("first") }));
    await run.store.flush();

    run.store.saveInflight("c", 1, a, 2);
    run.store.deleteInflight("c", 1);
    run.store.saveInflight("c", 1, d, 1);
    run.store.saveInflight("c", 2, b, 2);
    run.store.deleteRetained("r");
    run.store.saveRetained(message("r", { payload: TEXT.encode("last") }));
    deepStrictEqual(await run.restart(), {
      sessions: [stored(sessionRecord("c"), {
        inflight: [inflight(2, b, 2), inflight(1, d)],
      })],
      retained: [message("r", { payload: TEXT.encode("last") })],
    });
  },
);
