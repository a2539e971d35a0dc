/**
 * Our own Redis client, on `Deno.connect` and `Deno.startTls`, with the
 * narrow interface a store and a cluster bus need:
 *
 * - {@linkcode RedisClient}: binary-safe commands, pipelined automatically
 *   (one write per event-loop turn), explicit pipelines whose error replies
 *   are values, RESP3 with a fall-back to RESP2, `AUTH` with a user and
 *   password, `SELECT`, connect and command timeouts, reconnection with
 *   backoff, and `duplicate()` for blocking commands;
 * - {@linkcode RedisSubscriber}: pub/sub on its own connection, subscribed
 *   again after every reconnection;
 * - {@linkcode parseRedisUrl} and {@linkcode redactRedisUrl} for
 *   `redis://` and `rediss://` URLs;
 * - `replyText`, `replyNumber`, `replyArray`, `replyMap` and friends to
 *   read replies without casts.
 *
 * It imports nothing else of the broker (its logger fits
 * {@linkcode RedisLogger}), and is the one folder of `src/` besides
 * `src/transport/` that opens connections.
 *
 * @example Read a URL and a reply
 * ```ts
 * import { parseRedisUrl, replyMap, replyNumber } from "./mod.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * const url = parseRedisUrl("rediss://broker:p%40ss@redis.internal/3");
 * strictEqual(url.tls, true);
 * strictEqual(url.port, 6379);
 * strictEqual(url.password, "p@ss");
 * strictEqual(url.redacted, "rediss://broker:***@redis.internal:6379/3");
 *
 * // HGETALL answers keys and values in turn, in RESP2 and RESP3 alike.
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * const hash = replyMap([bytes("qos"), bytes("1")]);
 * strictEqual(replyNumber(hash.get("qos") ?? null), 1);
 * ```
 *
 * @module
 */

export { RedisClient, type RedisSendOptions } from "./client.ts";
export {
  type RedisMessageHandler,
  RedisSubscriber,
  type RedisSubscriberOptions,
} from "./subscriber.ts";
export type {
  RedisClientOptions,
  RedisConnectEvent,
  RedisLogger,
} from "./options.ts";
export {
  type RedisArgument,
  RedisConnectionError,
  RedisError,
  RedisProtocolError,
  type RedisReply,
  RedisTimeoutError,
} from "./types.ts";
export {
  replyArray,
  replyBoolean,
  replyBytes,
  replyMap,
  replyNumber,
  replyOptionalBytes,
  replyOptionalNumber,
  replyOptionalText,
  replyText,
} from "./reply.ts";
export { parseRedisUrl, redactRedisUrl, type RedisUrl } from "./url.ts";
