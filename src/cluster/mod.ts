/**
 * Brokers that share one Redis form a cluster: {@linkcode RedisBus} routes
 * messages between them by interest, carries session takeovers, and adopts
 * the sessions of a node that is gone. Sessions and retained messages live
 * in Redis through the store port (`RedisStore`). It may import the core,
 * the Redis client and the logger; nothing above it.
 *
 * @example A bus for a node (it connects when the server starts)
 * ```ts
 * import { RedisBus } from "./mod.ts";
 *
 * const bus = new RedisBus("redis://127.0.0.1:6379", { nodeId: "a" });
 * console.log(bus.nodeId);
 * ```
 *
 * @module
 */

export { RedisBus, type RedisBusOptions } from "./redis_bus.ts";
