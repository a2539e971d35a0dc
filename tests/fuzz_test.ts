/**
 * The bounded fuzz run: 100,000 mutated and valid packets over TCP and
 * WebSocket against an in-process broker, with the QoS 1 canary pair and
 * health probes. A failure names the seed and the cases to replay with
 * tests/fuzz/main.ts.
 */

import { ok, strictEqual } from "node:assert/strict";
import { Server } from "../mod.ts";
import { runFuzz } from "./fuzz/fuzz.ts";

const SEED = 20_240_909;
const PACKETS = 100_000;

Deno.test("Server survives 100,000 fuzzed packets over TCP and WebSocket and loses no acknowledged QoS 1 message", async () => {
  const server = new Server({ connectTimeout: 2 });
  server.listen({ hostname: "127.0.0.1", port: 0 });
  server.listen({ hostname: "127.0.0.1", port: 0, websocket: true });
  await server.start();
  // If the broker throws where nothing catches it, the test process dies:
  // name the cases that were running first, without handling the error.
  const inFlight = new Set<number>();
  const onDeath = () => {
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        `Fuzz seed ${SEED}: cases running when the broker failed: ${
          [...inFlight].join(", ")
        }\n`,
      ),
    );
  };
  globalThis.addEventListener("unhandledrejection", onDeath);
  globalThis.addEventListener("error", onDeath);
  try {
    const [tcp, ws] = server.addresses;
    const result = await runFuzz({
      port: tcp!.port,
      wsPort: ws!.port,
      seed: SEED,
      packets: PACKETS,
      concurrency: 32,
      inFlight,
    });
    const { failure, ...stats } = result;
    const summary = JSON.stringify(stats);
    strictEqual(
      failure,
      undefined,
      `Fuzz run failed: ${JSON.stringify(failure)}; ${summary}; replay with ` +
        `deno run -A tests/fuzz/main.ts --seed ${SEED} --case N --cases 1`,
    );
    ok(result.packets >= PACKETS, summary);
    ok(result.wsPackets > 0 && result.wsPackets < result.packets, summary);
    ok(result.canary !== undefined && result.canary.acked > 0, summary);
    strictEqual(result.canary.lostCount, 0, summary);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onDeath);
    globalThis.removeEventListener("error", onDeath);
    await server.stop({ timeout: 2000 });
  }
});
