import { SessionQueue } from "../src/core/session_queue.ts";

interface Item {
  readonly qos: 0 | 1 | 2;
  readonly expiresAt?: number;
}

const QOS0: Item = { qos: 0 };
const QOS1: Item = { qos: 1 };
const MIXED: Item[] = [QOS0, QOS1, { qos: 2 }, QOS1];
const EXPIRING: Item = { qos: 1, expiresAt: Number.MAX_SAFE_INTEGER };

/** A queue already holding `length` items. */
function filled(
  limit: number,
  length: number,
  items: Item[],
): SessionQueue<Item> {
  const queue = new SessionQueue<Item>({ limit });
  for (let i = 0; i < length; i++) queue.push(items[i % items.length] as Item);
  return queue;
}

{
  const queue = filled(1000, 100, MIXED);
  let i = 0;
  Deno.bench({
    name: "push then shift, 100 queued, mixed QoS",
    group: "SessionQueue steady state",
    baseline: true,
    fn: () => {
      queue.push(MIXED[i++ & 3] as Item);
      queue.shift();
    },
  });
}

{
  const array: Item[] = [];
  for (let i = 0; i < 100; i++) array.push(MIXED[i & 3] as Item);
  let i = 0;
  Deno.bench({
    name: "Array push then shift, 100 queued, for comparison",
    group: "SessionQueue steady state",
    fn: () => {
      array.push(MIXED[i++ & 3] as Item);
      array.shift();
    },
  });
}

{
  const queue = filled(1000, 100, [EXPIRING]);
  Deno.bench({
    name: "push then shift, 100 queued, items with expiry",
    group: "SessionQueue steady state",
    fn: () => {
      queue.push(EXPIRING);
      queue.shift();
    },
  });
}

{
  const queue = new SessionQueue<Item>({ limit: 1000 });
  Deno.bench({
    name: "push 1000 then shift 1000 (grows from empty)",
    group: "SessionQueue steady state",
    n: 1000,
    fn: () => {
      for (let i = 0; i < 1000; i++) queue.push(MIXED[i & 3] as Item);
      while (queue.shift() !== undefined);
    },
  });
}

for (
  const [label, items, pushed] of [
    ["QoS 1 queue, push QoS 1: drops the oldest", [QOS1], QOS1],
    ["mixed queue, push QoS 0: drops the oldest QoS 0", MIXED, QOS0],
    ["QoS 1 queue, push QoS 0: drops the pushed item", [QOS1], QOS0],
    ["queue of unexpired items with expiry, push: drops the oldest", [
      EXPIRING,
    ], EXPIRING],
  ] as const
) {
  const queue = filled(1000, 1000, [...items]);
  Deno.bench({
    name: label,
    group: "SessionQueue.push() on a full queue of 1000",
    baseline: pushed === QOS1 && items[0] === QOS1,
    fn: () => void queue.push(pushed),
  });
}
