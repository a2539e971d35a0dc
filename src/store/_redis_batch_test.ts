/**
 * The Redis store's pending writes: grouped by key in their order on each
 * key, merged where Redis takes many members, changed or cancelled until
 * sent, and given back to go first after a failed commit.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { commandsOf, WriteBatch } from "./_redis_batch.ts";

Deno.test("commandsOf() groups commands by key in their order and merges the ones that take many members", () => {
  const batch = new WriteBatch();
  batch.add([["ZADD", "q:a", 1, "1:70"], ["HSET", "d:a", 1, "x"]]);
  batch.add([["ZADD", "q:b", 2, "2:70"], ["HSET", "d:b", 2, "y"]]);
  batch.add([["ZADD", "q:a", 3, "3:70"], ["HSET", "d:a", 3, "z"]]);
  batch.add([["DEL", "q:b"]]);
  batch.add([["ZADD", "q:b", "XX", 5, "7"], ["ZADD", "q:b", 6, "8"]]);
  deepStrictEqual(commandsOf(batch.take()), [
    ["ZADD", "q:a", 1, "1:70", 3, "3:70"],
    ["HSET", "d:a", 1, "x", 3, "z"],
    ["ZADD", "q:b", 2, "2:70"],
    ["DEL", "q:b"],
    ["ZADD", "q:b", "XX", 5, "7"],
    ["ZADD", "q:b", 6, "8"],
    ["HSET", "d:b", 2, "y"],
  ]);
});

Deno.test("commandsOf() leaves the writes it merges unchanged", () => {
  const first = ["SADD", "s", "a"];
  const batch = new WriteBatch();
  batch.add([first]);
  batch.add([["SADD", "s", "b"]]);
  const writes = batch.take();
  deepStrictEqual(commandsOf(writes), [["SADD", "s", "a", "b"]]);
  deepStrictEqual(first, ["SADD", "s", "a"]);
  deepStrictEqual(commandsOf(writes), [["SADD", "s", "a", "b"]]);
});

Deno.test("WriteBatch changes or cancels a named write until it is taken, and keeps a failed commit's writes first", () => {
  const batch = new WriteBatch();
  strictEqual(batch.empty, true);
  batch.add([["HSET", "k", "f", "1"]], "one");
  batch.add([["HSET", "k", "g", "2"]], "two");
  strictEqual(batch.cancel("one"), true);
  strictEqual(batch.cancel("one"), false);
  batch.pending("two")!.commands[0] = ["HSET", "k", "g", "3"];
  const failed = batch.take();
  strictEqual(batch.empty, true);
  strictEqual(batch.pending("two"), undefined);
  batch.add([["HDEL", "k", "g"]]);
  batch.keep(failed);
  strictEqual(batch.empty, false);
  deepStrictEqual(commandsOf(batch.take()), [["HSET", "k", "g", "3"], [
    "HDEL",
    "k",
    "g",
  ]]);
});
