/**
 * Store implementations: where the core's state goes to survive a restart.
 * Each implements the {@linkcode Store} port of `src/core/ports.ts` and
 * passes the one contract suite, `contract_test.ts`. This folder imports
 * only the core's ports, the shared vocabulary and message codec, the
 * logger and the Redis client ({@linkcode RedisStore}); the server picks
 * an implementation ({@linkcode MemoryStore} unless told otherwise).
 *
 * @module
 */

export { MemoryStore } from "./memory.ts";
export {
  SQLITE_SCHEMA_VERSION,
  SqliteStore,
  SqliteStoreError,
  type SqliteStoreOptions,
  type SqliteSync,
} from "./sqlite.ts";
export {
  REDIS_SCHEMA_VERSION,
  RedisStore,
  RedisStoreError,
  type RedisStoreOpenOptions,
  type RedisStoreOptions,
} from "./redis.ts";
export type { Store } from "../core/ports.ts";
