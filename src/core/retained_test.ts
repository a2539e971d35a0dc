import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { Message } from "../message.ts";
import type { Logger } from "../observe/logger.ts";
import { RetainedStore } from "./retained.ts";

function message(
  topic: string,
  fields: { payload?: string; expiresAt?: number } = {},
): Message {
  const payload = new TextEncoder().encode(fields.payload ?? topic);
  const base = { topic, payload, qos: 1, retain: true, createdAt: 0 } as const;
  return fields.expiresAt === undefined
    ? base
    : { ...base, expiresAt: fields.expiresAt };
}

const TOPICS = [
  "a",
  "a/b",
  "a/b/c",
  "a/x/c",
  "a//c",
  "a/",
  "/a",
  "/",
  "b",
  "$SYS",
  "$SYS/x",
  "$SYS/x/y",
  "a/$x",
  "__proto__",
  "__proto__/a",
];

/** Each filter and every topic of TOPICS it matches. */
const MATCHES: [filter: string, topics: string[]][] = [
  ["#", [
    "a",
    "a/b",
    "a/b/c",
    "a/x/c",
    "a//c",
    "a/",
    "/a",
    "/",
    "b",
    "a/$x",
    "__proto__",
    "__proto__/a",
  ]],
  ["+", ["a", "b", "__proto__"]],
  ["+/+", ["a/b", "a/", "/a", "/", "a/$x", "__proto__/a"]],
  ["+/#", TOPICS.filter((t) => !t.startsWith("$"))],
  ["a/#", ["a", "a/b", "a/b/c", "a/x/c", "a//c", "a/", "a/$x"]],
  ["a/+", ["a/b", "a/", "a/$x"]],
  ["a/+/c", ["a/b/c", "a/x/c", "a//c"]],
  ["a/b", ["a/b"]],
  ["a/b/c/#", ["a/b/c"]],
  ["a/b/c/+", []],
  ["/+", ["/a", "/"]],
  ["+/", ["a/", "/"]],
  ["c/#", []],
  // [MQTT-4.7.2-1]
  ["$SYS/#", ["$SYS", "$SYS/x", "$SYS/x/y"]],
  ["$SYS/+", ["$SYS/x"]],
  ["$SYS", ["$SYS"]],
  ["+/x", []],
  ["__proto__/#", ["__proto__", "__proto__/a"]],
];

for (const [filter, topics] of MATCHES) {
  Deno.test(`RetainedStore.match() finds the topics matching "${filter}"`, () => {
    const store = new RetainedStore();
    for (const topic of TOPICS) store.set(message(topic));
    const found = store.match(filter);
    for (const m of found) {
      strictEqual(new TextDecoder().decode(m.payload), m.topic);
    }
    deepStrictEqual(found.map((m) => m.topic).sort(), [...topics].sort());
  });
}

Deno.test("RetainedStore.set() replaces the message of a topic", () => {
  const store = new RetainedStore();
  const first = message("a/b", { payload: "1" });
  const second = message("a/b", { payload: "2" });
  strictEqual(store.set(first), undefined);
  strictEqual(store.set(second), first);
  strictEqual(store.size, 1);
  strictEqual(store.get("a/b"), second);
  deepStrictEqual(store.match("a/+"), [second]);
});

Deno.test("RetainedStore.set() deletes the message when the payload is empty", () => {
  const store = new RetainedStore();
  const first = message("a/b");
  store.set(first);
  store.set(message("a"));
  // [MQTT-3.3.1-10] [MQTT-3.3.1-11]
  strictEqual(store.set(message("a/b", { payload: "" })), first);
  strictEqual(store.get("a/b"), undefined);
  strictEqual(store.size, 1);
  deepStrictEqual(store.match("a/#").map((m) => m.topic), ["a"]);
  // An empty payload on a topic with nothing retained stores nothing.
  strictEqual(store.set(message("c", { payload: "" })), undefined);
  strictEqual(store.size, 1);
  deepStrictEqual(store.match("c"), []);
});

Deno.test("RetainedStore.delete() removes one topic and keeps its neighbours", () => {
  const store = new RetainedStore();
  for (const topic of ["a", "a/b", "a/b/c"]) store.set(message(topic));
  strictEqual(store.delete("a/b"), true);
  strictEqual(store.delete("a/b"), false);
  strictEqual(store.delete("a/+"), false);
  strictEqual(store.size, 2);
  deepStrictEqual(store.match("#").map((m) => m.topic).sort(), ["a", "a/b/c"]);
  strictEqual(store.delete("a/b/c"), true);
  strictEqual(store.delete("a"), true);
  strictEqual(store.size, 0);
  deepStrictEqual(store.match("#"), []);
  // The pruned store still works.
  store.set(message("a/b/c"));
  deepStrictEqual(store.match("a/+/c").map((m) => m.topic), ["a/b/c"]);
});

Deno.test("RetainedStore.match() skips and deletes expired messages", () => {
  let now = 1000;
  const store = new RetainedStore({ now: () => now });
  store.set(message("a/1", { expiresAt: 1500 }));
  store.set(message("a/2", { expiresAt: 2000 }));
  store.set(message("a/3"));
  strictEqual(store.match("a/+").length, 3);

  now = 1500;
  // An exact filter leaves the other expired messages alone.
  deepStrictEqual(store.match("a/2").map((m) => m.topic), ["a/2"]);
  strictEqual(store.size, 3);
  deepStrictEqual(store.match("a/+").map((m) => m.topic).sort(), [
    "a/2",
    "a/3",
  ]);
  strictEqual(store.size, 2);
  strictEqual(store.get("a/1"), undefined);

  now = 5000;
  deepStrictEqual(store.match("#").map((m) => m.topic), ["a/3"]);
  strictEqual(store.size, 1);
});

Deno.test("RetainedStore.get() deletes an expired message instead of returning it", () => {
  let now = 0;
  const store = new RetainedStore({ now: () => now });
  const expiring = message("a", { expiresAt: 10 });
  store.set(expiring);
  now = 9;
  strictEqual(store.get("a"), expiring);
  now = 10;
  strictEqual(store.get("a"), undefined);
  strictEqual(store.size, 0);
});

Deno.test("RetainedStore.entries() lists every retained message", () => {
  const store = new RetainedStore();
  for (const topic of TOPICS) store.set(message(topic));
  store.delete("a/b");
  const listed = [...store.entries()].map((m) => m.topic).sort();
  deepStrictEqual(listed, TOPICS.filter((t) => t !== "a/b").sort());
  strictEqual(store.size, TOPICS.length - 1);
});

Deno.test("RetainedStore.match() finds a message on a topic of 100,000 levels", () => {
  const store = new RetainedStore();
  const deep = "/".repeat(100_000);
  store.set(message(deep, { payload: "deep" }));
  store.set(message(`a${deep}`, { payload: "a" }));
  deepStrictEqual(store.match("#").map((m) => m.topic).sort(), [
    deep,
    `a${deep}`,
  ]);
  deepStrictEqual(store.match(deep).map((m) => m.topic), [deep]);
  deepStrictEqual(store.match(`${"+/".repeat(50_000)}#`).length, 2);
  deepStrictEqual(store.match(`+${deep}`).length, 2);
  strictEqual(store.delete(deep), true);
  strictEqual(store.delete(`a${deep}`), true);
  strictEqual(store.size, 0);
  strictEqual(store.bytes, 0);
});

Deno.test("RetainedStore.match() returns messages in depth-first order of insertion", () => {
  const store = new RetainedStore();
  for (const topic of ["b", "a/y", "a", "a/x/1", "c/z"]) {
    store.set(message(topic));
  }
  deepStrictEqual(store.match("#").map((m) => m.topic), [
    "b",
    "a",
    "a/y",
    "a/x/1",
    "c/z",
  ]);
  deepStrictEqual(store.match("+/+").map((m) => m.topic), ["a/y", "c/z"]);
});

Deno.test("RetainedStore.set() refuses a new topic past maxMessages and still replaces and deletes", () => {
  const store = new RetainedStore({ maxMessages: 2 });
  store.set(message("a"));
  store.set(message("b"));
  strictEqual(store.set(message("c")), undefined);
  strictEqual(store.get("c"), undefined);
  strictEqual(store.refused, 1);
  // Replacing works at the limit.
  store.set(message("a", { payload: "new" }));
  strictEqual(new TextDecoder().decode(store.get("a")?.payload), "new");
  // Deleting makes room.
  store.set(message("b", { payload: "" }));
  store.set(message("c"));
  deepStrictEqual(store.match("#").map((m) => m.topic).sort(), ["a", "c"]);
});

Deno.test("RetainedStore.set() keeps maxMessages client messages besides the server's $SYS topics, which no limit refuses", () => {
  const store = new RetainedStore({ maxMessages: 2, maxBytes: 40 });
  store.set(message("$SYS/broker/uptime", { payload: "1" }));
  store.set(message("$SYS/broker/clients/connected", { payload: "1" }));
  store.set(message("a"));
  store.set(message("b"));
  strictEqual(store.size, 4);
  strictEqual(store.set(message("c")), undefined);
  strictEqual(store.get("c"), undefined);
  strictEqual(store.refused, 1);
  // Past maxBytes too, $SYS is still kept and replaced.
  store.set(message("$SYS/broker/version", { payload: "x".repeat(50) }));
  store.set(message("$SYS/broker/uptime", { payload: "2".repeat(50) }));
  strictEqual(store.get("$SYS/broker/version")?.payload.length, 50);
  strictEqual(store.get("$SYS/broker/uptime")?.payload.length, 50);
  strictEqual(store.refused, 1);
  // A $SYS topic deleted counts no more; nor does it make room for clients.
  store.set(message("$SYS/broker/version", { payload: "" }));
  strictEqual(store.set(message("c")), undefined);
  strictEqual(store.refused, 2);
  store.set(message("a", { payload: "" }));
  store.set(message("c"));
  strictEqual(store.get("c")?.topic, "c");
});

Deno.test("RetainedStore.set() counts topic and payload bytes against maxBytes", () => {
  const store = new RetainedStore({ maxBytes: 20 });
  store.set(message("a", { payload: "123456789" })); // 10 bytes
  strictEqual(store.bytes, 10);
  store.set(message("b", { payload: "12345678" })); // 9 bytes
  strictEqual(store.bytes, 19);
  store.set(message("c", { payload: "1" })); // 2 bytes: past 20
  strictEqual(store.get("c"), undefined);
  strictEqual(store.bytes, 19);
  // A replacement counts by its difference: 10 -> 11 bytes fits.
  store.set(message("a", { payload: "1234567890" }));
  strictEqual(store.bytes, 20);
  // Shrinking always fits.
  store.set(message("b", { payload: "1" }));
  strictEqual(store.bytes, 13);
  strictEqual(store.refused, 1);
});

Deno.test("RetainedStore.set() deletes the old message when its replacement passes maxBytes", () => {
  const store = new RetainedStore({ maxBytes: 10 });
  store.set(message("a", { payload: "1234" }));
  store.set(message("b", { payload: "1234" }));
  const previous = store.set(message("a", { payload: "12345678" }));
  strictEqual(new TextDecoder().decode(previous?.payload), "1234");
  strictEqual(store.get("a"), undefined);
  strictEqual(store.size, 1);
  strictEqual(store.bytes, 5);
  strictEqual(store.refused, 1);
});

Deno.test("RetainedStore.set() warns about refused messages at most once a minute", () => {
  let now = 0;
  const warnings: unknown[] = [];
  const logger = {
    warn: (msg: string, fields?: Record<string, unknown>) =>
      warnings.push([msg, fields?.topic, fields?.limit]),
  } as unknown as Logger;
  const store = new RetainedStore({ maxMessages: 1, now: () => now, logger });
  store.set(message("a"));
  store.set(message("b"));
  store.set(message("c"));
  now = 59_999;
  store.set(message("d"));
  now = 60_000;
  store.set(message("e"));
  deepStrictEqual(warnings, [
    [
      "retained message not stored: limit reached",
      "b",
      "max_retained_messages",
    ],
    [
      "retained message not stored: limit reached",
      "e",
      "max_retained_messages",
    ],
  ]);
  strictEqual(store.refused, 4);
});

Deno.test("RetainedStore.bytes goes back down as messages expire or are deleted", () => {
  let now = 0;
  const store = new RetainedStore({ now: () => now });
  store.set(message("a", { payload: "xx", expiresAt: 10 }));
  store.set(message("b", { payload: "xx" }));
  strictEqual(store.bytes, 6);
  now = 10;
  deepStrictEqual(store.match("#").map((m) => m.topic), ["b"]);
  strictEqual(store.bytes, 3);
  store.delete("b");
  strictEqual(store.bytes, 0);
});
