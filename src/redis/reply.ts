/**
 * Reading replies without a cast at every call site: each helper takes a
 * {@linkcode RedisReply}, returns the type asked for, and throws a
 * `TypeError` that says what the reply was instead. A {@linkcode RedisError}
 * value (from a pipeline or inside an array) is thrown as is.
 *
 * @module
 */

import { RedisError, type RedisReply } from "./types.ts";

const UTF8_DECODER = new TextDecoder();

/** Describes a reply for an error message. */
function describe(reply: RedisReply): string {
  if (reply === null) return "nil";
  if (reply instanceof Uint8Array) return `${reply.length} bytes`;
  if (Array.isArray(reply)) return `an array of ${reply.length}`;
  if (typeof reply === "string") return `the text ${JSON.stringify(reply)}`;
  return `the ${typeof reply} ${String(reply)}`;
}

function unexpected(reply: RedisReply, wanted: string): never {
  if (reply instanceof RedisError) throw reply;
  throw new TypeError(
    `Cannot read a Redis reply as ${wanted}: got ${describe(reply)}`,
  );
}

/**
 * Reads a reply as text: a simple string as is, bytes as UTF-8, a number
 * in decimal.
 *
 * @example Read GET's answer
 * ```ts
 * import { replyText } from "./mod.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(replyText(new TextEncoder().encode("héllo")), "héllo");
 * strictEqual(replyText("OK"), "OK");
 * ```
 * @param reply The reply.
 * @returns The text.
 * @throws {TypeError} If the reply is nil, an array or a boolean.
 * @throws {RedisError} If the reply is an error.
 */
export function replyText(reply: RedisReply): string {
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return UTF8_DECODER.decode(reply);
  if (typeof reply === "number" || typeof reply === "bigint") {
    return String(reply);
  }
  return unexpected(reply, "text");
}

/**
 * Reads a reply as text, nil as `undefined` (a missing key).
 *
 * @param reply The reply.
 * @returns The text, or `undefined` for nil.
 * @throws {TypeError} If the reply is an array or a boolean.
 * @throws {RedisError} If the reply is an error.
 */
export function replyOptionalText(reply: RedisReply): string | undefined {
  return reply === null ? undefined : replyText(reply);
}

/**
 * Reads a reply as bytes: a bulk string as is, text as UTF-8.
 *
 * @param reply The reply.
 * @returns The bytes; the caller may keep them.
 * @throws {TypeError} If the reply is nil, a number, an array or a boolean.
 * @throws {RedisError} If the reply is an error.
 */
export function replyBytes(reply: RedisReply): Uint8Array {
  if (reply instanceof Uint8Array) return reply;
  if (typeof reply === "string") return new TextEncoder().encode(reply);
  return unexpected(reply, "bytes");
}

/**
 * Reads a reply as bytes, nil as `undefined` (a missing key).
 *
 * @param reply The reply.
 * @returns The bytes, or `undefined` for nil.
 * @throws {TypeError} If the reply is a number, an array or a boolean.
 * @throws {RedisError} If the reply is an error.
 */
export function replyOptionalBytes(reply: RedisReply): Uint8Array | undefined {
  return reply === null ? undefined : replyBytes(reply);
}

/**
 * Reads a reply as a number: an integer or double as is, a safe bigint
 * converted, text (RESP2 sends scores and `INCRBYFLOAT` as text) parsed.
 *
 * @example Read a score that RESP2 sends as text
 * ```ts
 * import { replyNumber } from "./mod.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(replyNumber(new TextEncoder().encode("1.5")), 1.5);
 * strictEqual(replyNumber(42), 42);
 * ```
 * @param reply The reply.
 * @returns The number.
 * @throws {TypeError} If the reply is not a number or numeric text.
 * @throws {RangeError} If a bigint is beyond 2^53.
 * @throws {RedisError} If the reply is an error.
 */
export function replyNumber(reply: RedisReply): number {
  if (typeof reply === "number") return reply;
  if (typeof reply === "bigint") {
    const n = Number(reply);
    if (!Number.isSafeInteger(n)) {
      throw new RangeError(
        `Cannot read a Redis reply as a number: ${reply} is beyond 2^53`,
      );
    }
    return n;
  }
  if (typeof reply === "string" || reply instanceof Uint8Array) {
    const text = replyText(reply);
    const n = parseNumber(text);
    if (n !== undefined) return n;
  }
  return unexpected(reply, "a number");
}

function parseNumber(text: string): number | undefined {
  switch (text) {
    case "inf":
    case "+inf":
      return Infinity;
    case "-inf":
      return -Infinity;
  }
  if (text === "" || text.trim() !== text) return undefined;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

/**
 * Reads a reply as a number, nil as `undefined` (a missing score).
 *
 * @param reply The reply.
 * @returns The number, or `undefined` for nil.
 * @throws {TypeError} If the reply is not nil, a number or numeric text.
 * @throws {RangeError} If a bigint is beyond 2^53.
 * @throws {RedisError} If the reply is an error.
 */
export function replyOptionalNumber(reply: RedisReply): number | undefined {
  return reply === null ? undefined : replyNumber(reply);
}

/**
 * Reads a reply as a boolean: RESP3 booleans, and the integers 0 and 1
 * that RESP2 (and many commands in RESP3) answer with.
 *
 * @param reply The reply.
 * @returns The boolean.
 * @throws {TypeError} If the reply is neither a boolean nor 0 or 1.
 * @throws {RedisError} If the reply is an error.
 */
export function replyBoolean(reply: RedisReply): boolean {
  if (typeof reply === "boolean") return reply;
  if (reply === 0 || reply === 1) return reply === 1;
  return unexpected(reply, "a boolean");
}

/**
 * Reads a reply as an array: an array or set. Nil is an empty array, as
 * Redis answers a missing key of `LRANGE` or `SMEMBERS`.
 *
 * @param reply The reply.
 * @returns The elements.
 * @throws {TypeError} If the reply is not an array or nil.
 * @throws {RedisError} If the reply is an error.
 */
export function replyArray(reply: RedisReply): RedisReply[] {
  if (Array.isArray(reply)) return reply;
  if (reply === null) return [];
  return unexpected(reply, "an array");
}

/**
 * Reads a reply as a map with text keys: a RESP3 map or a RESP2 array of
 * keys and values in turn (`HGETALL`, `CONFIG GET`, `HELLO`).
 *
 * @example Read HGETALL's answer
 * ```ts
 * import { replyMap, replyText } from "./mod.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * const hash = replyMap([bytes("name"), bytes("a"), bytes("age"), 7]);
 * strictEqual(replyText(hash.get("name") ?? null), "a");
 * strictEqual(hash.get("age"), 7);
 * ```
 * @param reply The reply.
 * @returns The map, in the order Redis sent it; nil is an empty map.
 * @throws {TypeError} If the reply is not an array of pairs with text keys.
 * @throws {RedisError} If the reply is an error.
 */
export function replyMap(reply: RedisReply): Map<string, RedisReply> {
  const items = replyArray(reply);
  if (items.length % 2 !== 0) {
    throw new TypeError(
      `Cannot read a Redis reply as a map: an array of ${items.length} is not pairs`,
    );
  }
  const map = new Map<string, RedisReply>();
  for (let i = 0; i < items.length; i += 2) {
    map.set(replyText(items[i]!), items[i + 1]!);
  }
  return map;
}
