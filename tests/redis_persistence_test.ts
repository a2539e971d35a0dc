/**
 * The broker on a {@linkcode RedisStore} across a restart, with
 * Mosquitto's clients: a persistent session's queue kept in Redis while
 * the broker is down, and read back a page at a time when its client
 * returns (the scenario of `_store_restart.ts`).
 *
 * @module
 */

import { RedisStore } from "../mod.ts";
import { startRedisServer } from "./_redis.ts";
import { restartKeepsSession } from "./_store_restart.ts";

Deno.test("Server on a RedisStore gives a mosquitto_sub -c session its 500 QoS 1 messages after a restart, and keeps retained messages", async () => {
  await using redis = await startRedisServer();
  await restartKeepsSession({
    open: () => RedisStore.open(redis.url, { nodeId: "node-a" }),
    close: (store) => (store as RedisStore).close(),
  }, 500);
});
