import { RetainedStore } from "../src/core/retained.ts";
import type { Message } from "../src/message.ts";
import { TopicTree } from "../src/core/topic_tree.ts";

/** 10,000 subscriptions of a plausible IoT deployment. */
function subscriptions(): [filter: string, key: string][] {
  const subs: [string, string][] = [];
  for (let i = 0; i < 4000; i++) subs.push([`devices/${i}/status`, `c${i}`]);
  for (let i = 0; i < 2000; i++) subs.push([`devices/${i}/+/status`, `d${i}`]);
  for (let n = 0; n < 50; n++) {
    for (let m = 0; m < 40; m++) {
      subs.push([`site/${n}/floor/${m}/#`, `s${n}.${m}`]);
    }
    for (let m = 0; m < 20; m++) {
      subs.push([`site/${n}/+/${m}/temp`, `t${n}.${m}`]);
    }
  }
  for (let k = 0; k < 10; k++) subs.push(["devices/#", `logger${k}`]);
  for (let k = 0; k < 10; k++) subs.push(["+/+/status", `monitor${k}`]);
  for (let i = 0; subs.length < 10_000; i++) {
    subs.push([`app/${i}/events`, `a${i}`]);
  }
  return subs;
}

const tree = new TopicTree<number>();
for (const [filter, key] of subscriptions()) tree.add(filter, key, 1);

let sink = 0;
const count = (value: number) => {
  sink += value;
};

for (
  const [topic, label] of [
    ["devices/1234/status", "exact + devices/# + +/+/status (21 hits)"],
    ["devices/1234/battery/status", "devices/+/+/status + devices/# (11 hits)"],
    ["site/7/floor/3/room/5/temp", "site/+/floor/+/# (1 hit)"],
    ["app/42/events", "exact (1 hit)"],
    ["other/topic/nobody/wants", "no subscriber"],
    ["$SYS/broker/uptime", "$SYS topic (0 hits)"],
  ] as const
) {
  Deno.bench({
    name: `${topic}: ${label}`,
    group: "TopicTree.match() among 10k filters",
    baseline: topic === "app/42/events",
    fn: () => tree.match(topic, count),
  });
}

// V8's Map makes a set then delete of the same key cost time proportional to
// the map's size (11 µs for 6000 entries): the first case shows that worst
// case, the second the usual churn of many different clients.
Deno.bench({
  name: "add then remove one new filter, again and again",
  group: "TopicTree add/remove among 10k filters",
  fn: () => {
    tree.add("devices/99999/+/status", "bench", 1);
    tree.remove("devices/99999/+/status", "bench");
  },
});

const CHURN = Array.from(
  { length: 1000 },
  (_, i) => `devices/${i + 10_000}/+/status`,
);
let churn = 0;
Deno.bench({
  name: "add then remove a new filter, 1000 different ones in turn",
  group: "TopicTree add/remove among 10k filters",
  baseline: true,
  fn: () => {
    const filter = CHURN[churn++ % CHURN.length] as string;
    tree.add(filter, "bench", 1);
    tree.remove(filter, "bench");
  },
});

Deno.bench({
  name: "add then remove a key on an existing filter",
  group: "TopicTree add/remove among 10k filters",
  fn: () => {
    tree.add("devices/#", "bench", 1);
    tree.remove("devices/#", "bench");
  },
});

const store = new RetainedStore();
const payload = Uint8Array.of(1);
function retained(topic: string): Message {
  return { topic, payload, qos: 0, retain: true, createdAt: 0 };
}
for (let i = 0; i < 5000; i++) store.set(retained(`devices/${i}/status`));
for (let n = 0; n < 50; n++) {
  for (let m = 0; m < 10; m++) {
    for (let r = 0; r < 10; r++) {
      store.set(retained(`site/${n}/floor/${m}/room/${r}/temp`));
    }
  }
}

for (
  const [filter, label] of [
    ["devices/1234/status", "exact (1 of 10k)"],
    ["site/7/floor/+/room/+/temp", "two + (100 of 10k)"],
    ["site/7/#", "# (100 of 10k)"],
    ["devices/+/status", "+ (5000 of 10k)"],
  ] as const
) {
  Deno.bench({
    name: `${filter}: ${label}`,
    group: "RetainedStore.match() among 10k topics",
    baseline: filter === "devices/1234/status",
    fn: () => {
      sink += store.match(filter).length;
    },
  });
}

const RETAINED_CHURN = Array.from(
  { length: 1000 },
  (_, i) => `site/${i + 100}/floor/1/room/1/temp`,
);
let retainedChurn = 0;
Deno.bench({
  name: "set, replace, then delete a topic, 1000 different ones in turn",
  group: "RetainedStore set/delete among 10k topics",
  fn: () => {
    const topic = RETAINED_CHURN[retainedChurn++ % 1000] as string;
    store.set(retained(topic));
    store.set(retained(topic));
    store.delete(topic);
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === -1) throw new Error("Cannot happen: sink");
});
