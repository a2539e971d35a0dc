import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import type { QoS } from "../../packets/types.ts";
import { type DroppedItem, SessionQueue } from "./session_queue.ts";

interface Item {
  readonly name: string;
  readonly qos: QoS;
  readonly expiresAt?: number;
}

function item(name: string, qos: QoS, expiresAt?: number): Item {
  return expiresAt === undefined ? { name, qos } : { name, qos, expiresAt };
}

/** A queue on a fake clock, with the items pushed onto it. */
function queueOf(limit: number, items: Item[] = []) {
  const clock = { now: 0 };
  const queue = new SessionQueue<Item>({ limit, now: () => clock.now });
  for (const i of items) deepStrictEqual(queue.push(i), []);
  return { queue, clock };
}

function names(items: Iterable<Item>): string[] {
  return [...items].map((i) => i.name);
}

function drops(dropped: DroppedItem<Item>[]): string[] {
  return dropped.map(({ item, reason }) => `${item.name} ${reason}`);
}

function drain(queue: SessionQueue<Item>): string[] {
  const out: string[] = [];
  for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
    out.push(i.name);
  }
  return out;
}

Deno.test("SessionQueue.shift() returns items in push order across QoS levels", () => {
  const { queue } = queueOf(100);
  const pushed: string[] = [];
  // Enough items to wrap and grow the ring buffers several times.
  for (let n = 0; n < 50; n++) {
    const qos = ([0, 1, 2, 0, 0, 1] as const)[n % 6] as QoS;
    queue.push(item(`m${n}`, qos));
    pushed.push(`m${n}`);
    if (n % 3 === 2) strictEqual(queue.shift()?.name, pushed.shift());
  }
  strictEqual(queue.length, pushed.length);
  deepStrictEqual(names(queue), pushed);
  deepStrictEqual(drain(queue), pushed);
  strictEqual(queue.length, 0);
  strictEqual(queue.shift(), undefined);
});

Deno.test("SessionQueue.push() drops nothing while there is room", () => {
  const { queue } = queueOf(3);
  deepStrictEqual(queue.push(item("a", 0)), []);
  deepStrictEqual(queue.push(item("b", 1)), []);
  deepStrictEqual(queue.push(item("c", 2)), []);
  strictEqual(queue.length, 3);
});

Deno.test("SessionQueue.push() on a full queue drops an expired item first", () => {
  const { queue, clock } = queueOf(3, [
    item("q0", 0),
    item("old", 1),
    item("expiring", 2, 100),
  ]);
  clock.now = 100;
  deepStrictEqual(drops(queue.push(item("new", 0))), ["expiring expired"]);
  deepStrictEqual(names(queue), ["q0", "old", "new"]);
});

Deno.test("SessionQueue.push() on a full queue drops every expired item it finds", () => {
  const { queue, clock } = queueOf(4, [
    item("e1", 0, 10),
    item("live", 1, 1000),
    item("e2", 1, 20),
    item("e3", 0, 30),
  ]);
  clock.now = 30;
  deepStrictEqual(drops(queue.push(item("new", 1))), [
    "e1 expired",
    "e2 expired",
    "e3 expired",
  ]);
  deepStrictEqual(names(queue), ["live", "new"]);
});

Deno.test("SessionQueue.push() on a full queue keeps items that have not expired yet", () => {
  const { queue, clock } = queueOf(2, [item("a", 1, 100), item("b", 1, 50)]);
  clock.now = 49;
  deepStrictEqual(drops(queue.push(item("c", 1))), ["a queue_full"]);
  clock.now = 50;
  deepStrictEqual(drops(queue.push(item("d", 1))), ["b expired"]);
  deepStrictEqual(names(queue), ["c", "d"]);
});

Deno.test("SessionQueue.push() on a full queue drops the oldest QoS 0 item next", () => {
  const { queue } = queueOf(4, [
    item("q1", 1),
    item("q0-old", 0),
    item("q2", 2),
    item("q0-new", 0),
  ]);
  deepStrictEqual(drops(queue.push(item("new", 2))), ["q0-old queue_full"]);
  deepStrictEqual(drops(queue.push(item("new0", 0))), ["q0-new queue_full"]);
  deepStrictEqual(names(queue), ["q1", "q2", "new", "new0"]);
});

Deno.test("SessionQueue.push() drops a QoS 0 item itself when only QoS 1 and 2 are queued", () => {
  const { queue } = queueOf(2, [item("a", 1), item("b", 2)]);
  deepStrictEqual(drops(queue.push(item("new", 0))), ["new queue_full"]);
  deepStrictEqual(names(queue), ["a", "b"]);
});

Deno.test("SessionQueue.push() drops the oldest item when only QoS 1 and 2 are queued", () => {
  const { queue } = queueOf(2, [item("a", 2), item("b", 1)]);
  deepStrictEqual(drops(queue.push(item("c", 1))), ["a queue_full"]);
  deepStrictEqual(drops(queue.push(item("d", 2))), ["b queue_full"]);
  deepStrictEqual(names(queue), ["c", "d"]);
});

Deno.test("SessionQueue.push() with limit 0 drops the item itself", () => {
  const { queue } = queueOf(0);
  deepStrictEqual(drops(queue.push(item("a", 1))), ["a queue_full"]);
  deepStrictEqual(drops(queue.push(item("b", 0))), ["b queue_full"]);
  strictEqual(queue.length, 0);
});

Deno.test("SessionQueue.push() drops down to a lowered limit", () => {
  const { queue } = queueOf(5, [
    item("a", 1),
    item("b", 0),
    item("c", 2),
    item("d", 0),
    item("e", 1),
  ]);
  queue.limit = 2;
  strictEqual(queue.length, 5);
  deepStrictEqual(drops(queue.push(item("f", 1))), [
    "b queue_full",
    "d queue_full",
    "a queue_full",
    "c queue_full",
  ]);
  deepStrictEqual(names(queue), ["e", "f"]);
});

Deno.test("SessionQueue.push() with limit Infinity never drops", () => {
  const { queue } = queueOf(Infinity);
  for (let n = 0; n < 1000; n++) deepStrictEqual(queue.push(item("x", 0)), []);
  strictEqual(queue.length, 1000);
});

Deno.test("SessionQueue.shift() skips expired items and reports them", () => {
  const { queue, clock } = queueOf(10, [
    item("e1", 0, 10),
    item("e2", 1, 10),
    item("live", 2, 11),
    item("e3", 1, 5),
  ]);
  clock.now = 10;
  const expired: string[] = [];
  strictEqual(queue.shift((i) => expired.push(i.name))?.name, "live");
  deepStrictEqual(expired, ["e1", "e2"]);
  strictEqual(queue.shift((i) => expired.push(i.name)), undefined);
  deepStrictEqual(expired, ["e1", "e2", "e3"]);
  strictEqual(queue.length, 0);
});

Deno.test("SessionQueue.removeExpired() removes only expired items, oldest first", () => {
  const { queue, clock } = queueOf(10, [
    item("a", 1, 5),
    item("b", 0),
    item("c", 0, 3),
    item("d", 2, 100),
    item("e", 1, 1),
  ]);
  clock.now = 5;
  deepStrictEqual(names(queue.removeExpired()), ["a", "c", "e"]);
  deepStrictEqual(names(queue), ["b", "d"]);
  deepStrictEqual(queue.removeExpired(), []);
  // Order and wrap-around survive the compaction.
  queue.push(item("f", 0));
  queue.push(item("g", 1));
  deepStrictEqual(drain(queue), ["b", "d", "f", "g"]);
});

Deno.test("SessionQueue.clear() empties the queue and returns its items in order", () => {
  const { queue } = queueOf(3, [item("a", 1), item("b", 0), item("c", 2)]);
  deepStrictEqual(names(queue.clear()), ["a", "b", "c"]);
  strictEqual(queue.length, 0);
  deepStrictEqual([...queue], []);
  queue.push(item("d", 0));
  deepStrictEqual(drain(queue), ["d"]);
});

Deno.test("SessionQueue.limit rejects values that are not counts", () => {
  const { queue } = queueOf(1);
  for (const bad of [-1, 1.5, NaN, -Infinity]) {
    throws(() => (queue.limit = bad), RangeError);
    throws(() => new SessionQueue<Item>({ limit: bad }), RangeError);
  }
  strictEqual(queue.limit, 1);
});

/** The drop policy written as plainly as possible, to check the queue. */
class ReferenceQueue {
  items: Item[] = [];
  constructor(public limit: number, public clock: { now: number }) {}
  #isExpired = (i: Item) =>
    i.expiresAt !== undefined && i.expiresAt <= this.clock.now;
  push(pushed: Item): string[] {
    const dropped: string[] = [];
    if (this.items.length >= this.limit) {
      for (const i of this.items.filter(this.#isExpired)) {
        dropped.push(`${i.name} expired`);
      }
      this.items = this.items.filter((i) => !this.#isExpired(i));
    }
    while (this.items.length >= this.limit) {
      let index = this.items.findIndex((i) => i.qos === 0);
      if (index === -1 && pushed.qos === 0) {
        dropped.push(`${pushed.name} queue_full`);
        return dropped;
      }
      if (index === -1) index = 0;
      const [gone] = this.items.splice(index, 1) as [Item];
      dropped.push(`${gone.name} queue_full`);
    }
    this.items.push(pushed);
    return dropped;
  }
  shift(expired: string[]): string | undefined {
    for (let i = this.items.shift(); i !== undefined; i = this.items.shift()) {
      if (!this.#isExpired(i)) return i.name;
      expired.push(i.name);
    }
    return undefined;
  }
}

Deno.test("SessionQueue agrees with a plain reference on a random workload", () => {
  // A small deterministic generator, so a failure can be replayed.
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (const limit of [1, 3, 8, 20]) {
    const { queue, clock } = queueOf(limit);
    const reference = new ReferenceQueue(limit, clock);
    for (let step = 0; step < 3000; step++) {
      const r = random();
      const name = `${limit}:${step}`;
      if (r < 0.55) {
        const qos = Math.floor(random() * 3) as QoS;
        const ttl = random() < 0.5 ? undefined : clock.now + random() * 40;
        const pushed = item(name, qos, ttl);
        deepStrictEqual(drops(queue.push(pushed)), reference.push(pushed));
      } else if (r < 0.85) {
        const expired: string[] = [];
        const expected: string[] = [];
        strictEqual(
          queue.shift((i) => expired.push(i.name))?.name,
          reference.shift(expected),
        );
        deepStrictEqual(expired, expected);
      } else if (r < 0.9) {
        const expected = reference.items.filter((i) =>
          i.expiresAt !== undefined && i.expiresAt <= clock.now
        );
        reference.items = reference.items.filter((i) => !expected.includes(i));
        deepStrictEqual(names(queue.removeExpired()), names(expected));
      } else {
        clock.now += random() * 10;
      }
      strictEqual(queue.length, reference.items.length);
      deepStrictEqual(names(queue), names(reference.items));
    }
  }
});

/** A queue where an item counts as many bytes as its name has characters. */
function byteQueueOf(maxBytes: number, items: Item[] = []) {
  const clock = { now: 0 };
  const queue = new SessionQueue<Item>({
    limit: 100,
    maxBytes,
    sizeOf: (i) => i.name.length,
    now: () => clock.now,
  });
  for (const i of items) deepStrictEqual(queue.push(i), []);
  return { queue, clock };
}

Deno.test("SessionQueue.push() past maxBytes drops QoS 0 first, then the oldest", () => {
  const { queue } = byteQueueOf(10, [
    item("aaa", 1),
    item("bbb", 0),
    item("ccc", 1),
  ]);
  strictEqual(queue.bytes, 9);
  deepStrictEqual(drops(queue.push(item("dd", 1))), ["bbb queue_full"]);
  strictEqual(queue.bytes, 8);
  deepStrictEqual(drops(queue.push(item("eeee", 2))), ["aaa queue_full"]);
  deepStrictEqual(names(queue), ["ccc", "dd", "eeee"]);
  strictEqual(queue.bytes, 9);
  // A QoS 0 item that does not fit, with no QoS 0 queued, drops itself.
  deepStrictEqual(drops(queue.push(item("ff", 0))), ["ff queue_full"]);
  strictEqual(queue.bytes, 9);
});

Deno.test("SessionQueue.push() past maxBytes drops expired items first", () => {
  const { queue, clock } = byteQueueOf(6, [
    item("aa", 1),
    item("bb", 1, 5),
    item("cc", 1),
  ]);
  clock.now = 5;
  deepStrictEqual(drops(queue.push(item("dd", 1))), ["bb expired"]);
  deepStrictEqual(names(queue), ["aa", "cc", "dd"]);
  strictEqual(queue.bytes, 6);
});

Deno.test("SessionQueue.push() drops an item larger than maxBytes on its own", () => {
  const { queue } = byteQueueOf(4, [item("aa", 1)]);
  deepStrictEqual(drops(queue.push(item("bbbbb", 1))), ["bbbbb queue_full"]);
  deepStrictEqual(names(queue), ["aa"]);
  strictEqual(queue.bytes, 2);
});

Deno.test("SessionQueue.bytes goes down as items are shifted, expire or are cleared", () => {
  const { queue, clock } = byteQueueOf(100, [
    item("a", 1),
    item("bb", 0, 5),
    item("ccc", 1),
    item("dddd", 2, 7),
  ]);
  strictEqual(queue.bytes, 10);
  strictEqual(queue.shift()?.name, "a");
  strictEqual(queue.bytes, 9);
  clock.now = 5;
  deepStrictEqual(names(queue.removeExpired()), ["bb"]);
  strictEqual(queue.bytes, 7);
  clock.now = 7;
  const expired: Item[] = [];
  strictEqual(queue.shift((i) => expired.push(i))?.name, "ccc");
  strictEqual(queue.shift((i) => expired.push(i)), undefined);
  deepStrictEqual(names(expired), ["dddd"]);
  strictEqual(queue.bytes, 0);
  queue.push(item("ee", 1));
  queue.clear();
  strictEqual(queue.bytes, 0);
});

Deno.test("SessionQueue() rejects a maxBytes that is not a non-negative integer", () => {
  throws(
    () => new SessionQueue<Item>({ limit: 1, maxBytes: -1 }),
    RangeError,
  );
});
