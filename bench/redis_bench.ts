/**
 * Throughput of the Redis client against a local `redis-server` that this
 * file starts (and kills when the run ends): commands per batch pipelined
 * over one connection, and PUBLISH to a subscriber on another. Redis shares
 * the machine's cores with the client, so figures are only comparable
 * between runs on the same idle machine.
 *
 * `deno bench -A bench/redis_bench.ts`
 *
 * @module
 */

import { RedisClient } from "../src/redis/mod.ts";
import { CommandWriter } from "../src/redis/_command.ts";
import { RespDecoder } from "../src/redis/_resp.ts";
import { startRedisServer } from "../tests/_redis.ts";

/** Commands per timed batch. */
const BATCH = 1000;

const server = await startRedisServer();
globalThis.addEventListener("unload", () => {
  try {
    Deno.kill(server.pid, "SIGKILL");
  } catch {
    // Gone already.
  }
});

const client = new RedisClient(server.url);
const payload = new Uint8Array(64).fill(120);
const keys = Array.from({ length: BATCH }, (_, i) => `bench:key:${i}`);
let received = 0;
const subscriber = client.subscriber({ onMessage: () => received++ });
await subscriber.subscribe("bench:channel");
await client.pipeline(keys.map((key) => ["SET", key, payload]));

Deno.bench({
  name: `SET ×${BATCH} in one turn`,
  group: "pipelined over one connection",
  baseline: true,
  async fn() {
    await Promise.all(keys.map((key) => client.send(["SET", key, payload])));
  },
});

Deno.bench({
  name: `GET ×${BATCH} in one turn`,
  group: "pipelined over one connection",
  async fn() {
    await Promise.all(keys.map((key) => client.send(["GET", key])));
  },
});

Deno.bench({
  name: `pipeline() of ${BATCH} GET`,
  group: "pipelined over one connection",
  async fn() {
    await client.pipeline(keys.map((key) => ["GET", key]));
  },
});

Deno.bench({
  name: `PUBLISH ×${BATCH}, until the subscriber has them all`,
  group: "pipelined over one connection",
  async fn() {
    const target = received + BATCH;
    await Promise.all(
      keys.map(() => client.send(["PUBLISH", "bench:channel", payload])),
    );
    while (received < target) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  },
});

Deno.bench({
  name: "GET, one round trip at a time",
  group: "round trip",
  async fn() {
    await client.send(["GET", "bench:key:0"]);
  },
});

{
  const writer = new CommandWriter();
  Deno.bench({
    name: `encode SET ×${BATCH} with a 64-byte value`,
    group: "codec, no I/O",
    baseline: true,
    fn() {
      for (const key of keys) writer.write(["SET", key, payload]);
      writer.reset();
    },
  });
}

{
  const replies = new TextEncoder().encode(`$64\r\n${"x".repeat(64)}\r\n`);
  const stream = new Uint8Array(replies.length * BATCH);
  for (let i = 0; i < BATCH; i++) stream.set(replies, i * replies.length);
  const decoder = new RespDecoder();
  Deno.bench({
    name: `decode ${BATCH} bulk replies of 64 bytes`,
    group: "codec, no I/O",
    fn() {
      let n = 0;
      decoder.feed(stream);
      decoder.decode(() => n++);
      if (n !== BATCH) throw new Error(`Cannot decode: got ${n} replies`);
    },
  });
}
