import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  replyArray,
  replyBoolean,
  replyBytes,
  replyMap,
  replyNumber,
  replyOptionalNumber,
  replyOptionalText,
  replyText,
} from "./reply.ts";
import { RedisError } from "./types.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("replyText() reads simple strings, bulk strings and numbers", () => {
  strictEqual(replyText("OK"), "OK");
  strictEqual(replyText(bytes("héllo")), "héllo");
  strictEqual(replyText(12), "12");
  strictEqual(replyText(12n), "12");
  throws(() => replyText(null), /Cannot read a Redis reply as text: got nil/);
  throws(() => replyText([1]), /got an array of 1/);
});

Deno.test("replyOptionalText() reads nil as undefined", () => {
  strictEqual(replyOptionalText(null), undefined);
  strictEqual(replyOptionalText(bytes("a")), "a");
});

Deno.test("replyNumber() reads integers, doubles, safe bigints and numeric text", () => {
  strictEqual(replyNumber(3), 3);
  strictEqual(replyNumber(2.5), 2.5);
  strictEqual(replyNumber(9007199254740991n), 9007199254740991);
  strictEqual(replyNumber(bytes("-1.25")), -1.25);
  strictEqual(replyNumber(bytes("inf")), Infinity);
  strictEqual(replyOptionalNumber(null), undefined);
  throws(() => replyNumber(2n ** 60n), RangeError);
  throws(() => replyNumber(bytes("twelve")), TypeError);
  throws(() => replyNumber(bytes("")), TypeError);
});

Deno.test("replyBoolean() reads RESP3 booleans and the integers 0 and 1", () => {
  strictEqual(replyBoolean(true), true);
  strictEqual(replyBoolean(0), false);
  strictEqual(replyBoolean(1), true);
  throws(() => replyBoolean(2), TypeError);
});

Deno.test("replyBytes() reads bulk strings as they are and text as UTF-8", () => {
  const value = Uint8Array.of(0, 255, 13, 10);
  strictEqual(replyBytes(value), value);
  deepStrictEqual(replyBytes("OK"), bytes("OK"));
  throws(() => replyBytes(null), TypeError);
});

Deno.test("replyArray() reads arrays, and nil as empty", () => {
  deepStrictEqual(replyArray([1, "a"]), [1, "a"]);
  deepStrictEqual(replyArray(null), []);
  throws(() => replyArray("OK"), TypeError);
});

Deno.test("replyMap() reads keys and values in turn, in order", () => {
  const map = replyMap([bytes("b"), 1, "a", bytes("x")]);
  deepStrictEqual([...map.keys()], ["b", "a"]);
  strictEqual(map.get("b"), 1);
  throws(() => replyMap([bytes("odd")]), /an array of 1 is not pairs/);
});

Deno.test("reply helpers throw an error reply rather than read it", () => {
  const error = new RedisError("WRONGTYPE no");
  throws(() => replyText(error), (e: unknown) => e === error);
  throws(() => replyNumber(error), (e: unknown) => e === error);
  throws(() => replyArray(error), (e: unknown) => e === error);
});
