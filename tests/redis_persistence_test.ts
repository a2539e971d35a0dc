/**
 * The broker on a {@linkcode RedisStore} across a restart, with
 * Mosquitto's clients: a persistent session's queue kept in Redis while
 * the broker is down, and read back a page at a time when its client
 * returns.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { RedisStore, Server } from "../mod.ts";
import { waitFor } from "./_harness.ts";
import {
  brokerArgs,
  type MosquittoResult,
  runMosquitto,
} from "./_mosquitto.ts";
import { startRedisServer } from "./_redis.ts";

/** A server on a Redis store; `await using` stops it, then closes the store. */
async function startOnRedis(
  url: string,
): Promise<{ server: Server; port: number } & AsyncDisposable> {
  const store = await RedisStore.open(url, { nodeId: "node-a" });
  const server = new Server({ store });
  server.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await server.start();
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    server,
    port: server.addresses[0]!.port,
    async [Symbol.asyncDispose]() {
      try {
        await server.stop({ timeout: 2000 });
      } finally {
        await store.close();
      }
    },
  };
}

function succeeded(result: MosquittoResult): MosquittoResult {
  strictEqual(result.code, 0, `exit code ${result.code}: ${result.stderr}`);
  return result;
}

Deno.test("Server on a RedisStore gives a mosquitto_sub -c session its 500 QoS 1 messages after a restart, and keeps retained messages", async () => {
  await using redis = await startRedisServer();
  const lines = Array.from(
    { length: 500 },
    (_, i) => `message ${String(i).padStart(4, "0")}`,
  );
  const keeper = (port: number) => [
    ...brokerArgs(port),
    "-c",
    "-i",
    "keeper",
    "-q",
    "1",
    "-t",
    "persist/q",
  ];

  {
    await using broker = await startOnRedis(redis.url);
    succeeded(
      await runMosquitto("mosquitto_sub", [...keeper(broker.port), "-E"]),
    );
    await waitFor(() => broker.server.session("keeper")?.connected === false);
    // Each PUBACK waits for the commit of the queued message.
    succeeded(
      await runMosquitto("mosquitto_pub", [
        ...brokerArgs(broker.port),
        "-q",
        "1",
        "-t",
        "persist/q",
        "-l",
      ], { stdin: lines.join("\n") + "\n", timeout: 20_000 }),
    );
    succeeded(
      await runMosquitto("mosquitto_pub", [
        ...brokerArgs(broker.port),
        "-q",
        "1",
        "-r",
        "-t",
        "persist/retained",
        "-m",
        "kept",
      ]),
    );
    strictEqual(broker.server.session("keeper")?.queued, lines.length);
  }

  {
    await using broker = await startOnRedis(redis.url);
    const session = broker.server.session("keeper");
    strictEqual(session?.connected, false);
    strictEqual(session?.queued, lines.length);
    deepStrictEqual(
      broker.server.retained().map((m) => [m.topic, m.payload]),
      [["persist/retained", new TextEncoder().encode("kept")]],
    );
    // [MQTT-3.1.2-4] The session resumes: every message, once, in order.
    const back = succeeded(
      await runMosquitto("mosquitto_sub", [
        ...keeper(broker.port),
        "-C",
        String(lines.length),
        "-F",
        "%q %p",
      ], { timeout: 20_000 }),
    );
    strictEqual(back.text, lines.map((l) => `1 ${l}\n`).join(""));
    await waitFor(() => broker.server.session("keeper")?.connected === false);
    strictEqual(broker.server.session("keeper")?.queued, 0);
    strictEqual(broker.server.session("keeper")?.inflight, 0);
  }

  // What was delivered stays delivered: nothing waits in Redis.
  const store = await RedisStore.open(redis.url, { nodeId: "node-a" });
  try {
    const { sessions, retained } = await store.load();
    deepStrictEqual(
      sessions.map((s) => [s.session.clientId, s.queueInStore]),
      [["keeper", undefined]],
    );
    strictEqual(sessions[0]?.inflight.length, 0);
    strictEqual(retained.length, 1);
  } finally {
    await store.close();
  }
});
