/**
 * Persistence in the broker command: the `--persistence` flag, and the
 * SQLite store it opens before the server starts and closes after it stops.
 *
 * @module
 */

import type { BrokerConfig } from "../src/config/config.ts";
import type { Logger } from "../src/observe/logger.ts";
import { SqliteStore, SqliteStoreError } from "../src/store/sqlite.ts";
import { RedisStore, RedisStoreError } from "../src/store/redis.ts";
import { clusterNodeId } from "./_cluster.ts";
import { UsageError } from "./_passwd.ts";

/** The flag, as `--help` shows it. */
export const PERSISTENCE_FLAG = "--persistence";

/**
 * Applies `--persistence memory`, `sqlite` (the file's path, or `gmqtt.db`)
 * or `sqlite:PATH` (relative to the working folder) over the file's choice.
 *
 * @param config The configuration, changed in place.
 * @param value The flag's value, if given.
 * @throws {UsageError} If the value is none of those.
 */
export function applyPersistenceFlag(
  config: BrokerConfig,
  value: string | undefined,
): void {
  if (value === undefined) return;
  const persistence = config.persistence;
  if (value === "memory") {
    persistence.type = "memory";
  } else if (value === "sqlite") {
    persistence.type = "sqlite";
  } else if (value.startsWith("sqlite:") && value.length > "sqlite:".length) {
    persistence.type = "sqlite";
    persistence.path = value.slice("sqlite:".length);
    delete persistence.line;
  } else {
    throw new UsageError(
      `Cannot start broker: ${PERSISTENCE_FLAG}: expected memory, sqlite or sqlite:PATH, got ${
        JSON.stringify(value)
      }`,
    );
  }
}

/**
 * Opens the store the configuration asks for: `undefined` for memory (the
 * server makes its own), else the SQLite file, logged as "store opened".
 *
 * @param config The configuration.
 * @param logger Where the store reports failed writes.
 * @returns The open store, for the server and to close after it stops.
 * @throws {UsageError} If the file cannot be used: one line naming it.
 */
export async function openStore(
  config: BrokerConfig,
  logger: Logger,
): Promise<SqliteStore | RedisStore | undefined> {
  const { type, path, sync } = config.persistence;
  if (type === "memory") return undefined;
  if (type === "redis") {
    // The cluster's Redis: the configuration checked there is one.
    const url = config.cluster!.redis;
    let redis: RedisStore;
    try {
      redis = await RedisStore.open(url, {
        nodeId: clusterNodeId(config),
        logger,
      });
    } catch (error) {
      throw new UsageError(
        `Cannot start broker: ${
          error instanceof RedisStoreError
            ? error.message
            : `cannot use the Redis store: ${String(error)}`
        }`,
      );
    }
    logger.info("store opened", { type, url: redis.url });
    return redis;
  }
  let store: SqliteStore;
  try {
    store = await SqliteStore.open(path, { sync, logger });
  } catch (error) {
    throw storeError(config, "use", error);
  }
  logger.info("store opened", { type, path, sync });
  return store;
}

/**
 * The one-line error for a store file that cannot be opened or read back:
 * where its path was set, the file, and what is wrong with it.
 *
 * @param config The configuration.
 * @param action "use" (open) or "read" (read back at start).
 * @param error What went wrong.
 * @returns The error to throw.
 */
export function storeError(
  config: BrokerConfig,
  action: "use" | "read",
  error: unknown,
): UsageError {
  const { path, line } = config.persistence;
  const where = config.file !== undefined && line !== undefined
    ? `${config.file}:${line}: persistence.path: `
    : "";
  let detail = error instanceof Error ? error.message : String(error);
  const prefix = `Cannot use the store ${path}: `;
  if (error instanceof SqliteStoreError && detail.startsWith(prefix)) {
    detail = detail.slice(prefix.length);
  }
  // node:sqlite repeats the path after some messages.
  if (detail.endsWith(`: ${path}`)) {
    detail = detail.slice(0, -`: ${path}`.length);
  }
  if (/database is locked/.test(detail)) {
    detail += " (another broker, or another program, has it open)";
  }
  return new UsageError(
    `Cannot start broker: ${where}cannot ${action} the store ${path}: ${detail}`,
  );
}

/**
 * Closes the store after the server stopped; a failure is logged, the exit
 * stays graceful (what the server flushed is already committed).
 *
 * @param store The store, if one was opened.
 * @param logger Where the close is reported.
 */
export async function closeStore(
  store: SqliteStore | RedisStore | undefined,
  logger: Logger,
): Promise<void> {
  if (store === undefined) return;
  if (store instanceof RedisStore) {
    try {
      await store.close();
      logger.info("store closed", { url: store.url });
    } catch (error) {
      logger.error("store not closed", {
        url: store.url,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return;
  }
  try {
    store.close();
    logger.info("store closed", { path: store.path });
  } catch (error) {
    logger.error("store not closed", {
      path: store.path,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
