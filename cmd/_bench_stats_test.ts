import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  Histogram,
  readStamp,
  SequenceTracker,
  spread,
  type Stamp,
  writeStamp,
} from "./_bench_stats.ts";

Deno.test("Histogram.quantile() is exact below 128 µs", () => {
  const h = new Histogram();
  for (let us = 1; us <= 100; us++) h.record(us / 1000);
  strictEqual(h.quantile(0.5), 0.05);
  strictEqual(h.quantile(0.99), 0.099);
  strictEqual(h.summary().max, 0.1);
  strictEqual(h.count, 100);
});

Deno.test("Histogram.quantile() stays within 1.6% over a wide range", () => {
  const h = new Histogram();
  const values: number[] = [];
  for (let i = 0; i < 10_000; i++) values.push(0.1 * 1.001 ** i);
  for (const v of values) h.record(v);
  for (const q of [0.5, 0.95, 0.99, 1]) {
    const exact = values[Math.ceil(q * values.length) - 1]!;
    const got = h.quantile(q);
    ok(Math.abs(got - exact) / exact < 0.016, `q${q}: ${got} vs ${exact}`);
  }
  strictEqual(h.summary().max, values.at(-1));
});

Deno.test("Histogram.merge() adds the samples of another histogram", () => {
  const a = new Histogram();
  const b = new Histogram();
  a.record(1);
  b.record(3);
  a.merge(b);
  deepStrictEqual([a.count, a.summary().mean, a.summary().max], [2, 2, 3]);
});

Deno.test("SequenceTracker.add() counts duplicates and late messages", () => {
  const t = new SequenceTracker();
  for (const seq of [0, 1, 3, 2, 3, 100_000, 5]) t.add(seq);
  deepStrictEqual([t.unique, t.duplicated, t.outOfOrder], [6, 1, 2]);
});

Deno.test("writeStamp() and readStamp() round-trip a stamp", () => {
  const payload = new Uint8Array(32);
  writeStamp(new DataView(payload.buffer, 8, 16), 7, 123456, 98.25);
  const out: Stamp = { publisher: 0, seq: 0, sentAt: 0 };
  strictEqual(readStamp(payload.subarray(8), out), true);
  deepStrictEqual(out, { publisher: 7, seq: 123456, sentAt: 98.25 });
  strictEqual(readStamp(payload.subarray(20), out), false);
});

Deno.test("spread() is the slowest count over the median: 1 when alike or alone, 0 when one got nothing", () => {
  strictEqual(spread([]), 1);
  strictEqual(spread([7]), 1);
  strictEqual(spread([5, 5, 5]), 1);
  strictEqual(spread([2, 4, 6, 8]), 0.4);
  strictEqual(spread([0, 10, 10]), 0);
  strictEqual(spread([0, 0, 0]), 1);
});
