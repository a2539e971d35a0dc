import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { Message } from "../message.ts";
import { Logger, type LogRecord } from "../observe/logger.ts";
import { Watchers } from "./watchers.ts";

function message(topic: string): Message {
  return {
    topic,
    payload: new TextEncoder().encode(topic),
    qos: 0,
    retain: false,
    createdAt: 0,
  };
}

function watchers(): {
  watchers: Watchers;
  interest: string[];
  logged: LogRecord[];
} {
  const interest: string[] = [];
  const logged: LogRecord[] = [];
  const logger = new Logger("test", "debug", {
    handlers: [{ handle: (record) => void logged.push(record) }],
  });
  return {
    watchers: new Watchers({
      interest: (filter, delta) =>
        interest.push(`${delta > 0 ? "+" : "-"}${filter}`),
      logger,
    }),
    interest,
    logged,
  };
}

Deno.test("Watchers.notify() shows a message to each watcher whose filter matches, wildcards and $ topics as for subscribers", () => {
  const { watchers: w } = watchers();
  const seen: string[] = [];
  w.add("home/+/temp", (m) => seen.push(`plus ${m.topic}`));
  w.add("#", (m) => seen.push(`hash ${m.topic}`));
  w.add("$SYS/#", (m) => seen.push(`sys ${m.topic}`));
  w.notify(message("home/kitchen/temp"));
  w.notify(message("$SYS/broker/uptime"));
  w.notify(message("garden"));
  deepStrictEqual(seen.sort(), [
    "hash garden",
    "hash home/kitchen/temp",
    "plus home/kitchen/temp",
    "sys $SYS/broker/uptime",
  ]);
});

Deno.test("Watchers.add() counts an interest in its filter, and its remover takes it back once", () => {
  const { watchers: w, interest } = watchers();
  const stopA = w.add("a/#", () => {});
  const stopB = w.add("a/#", () => {});
  strictEqual(w.size, 2);
  stopA();
  stopA();
  stopB();
  strictEqual(w.size, 0);
  deepStrictEqual(interest, ["+a/#", "+a/#", "-a/#", "-a/#"]);
  w.notify(message("a/b"));
});

Deno.test("Watchers.notify() logs a watcher that throws and still shows the message to the others", () => {
  const { watchers: w, logged } = watchers();
  const seen: string[] = [];
  w.add("t", () => {
    throw new Error("boom");
  });
  w.add("t", (m) => seen.push(m.topic));
  w.notify(message("t"));
  deepStrictEqual(seen, ["t"]);
  deepStrictEqual(
    logged.map((r) => [r.level, r.msg, r.fields.error]),
    [["error", "watcher failed", "boom"]],
  );
});

Deno.test("Watchers.notify() lets a watcher remove itself and add another while it is called", () => {
  const { watchers: w } = watchers();
  const seen: string[] = [];
  const stop = w.add("t", (m) => {
    seen.push(`first ${m.topic}`);
    stop();
    w.add("t", (n) => seen.push(`second ${n.topic}`));
  });
  w.notify(message("t"));
  w.notify(message("t"));
  deepStrictEqual(seen, ["first t", "second t"]);
});
