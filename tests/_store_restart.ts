/**
 * A broker restarted on the store it wrote, with Mosquitto's clients: the
 * scenario the persistence tests of every durable store run (SQLite,
 * Redis). A persistent `mosquitto_sub -c` session subscribes and leaves,
 * `count` QoS 1 messages and a retained one are published, the broker
 * stops; a new broker on the same store gives the session every message,
 * once, in order, and the retained message; afterwards nothing waits in
 * the store.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Server, type Store } from "../mod.ts";
import { waitFor } from "./_harness.ts";
import {
  brokerArgs,
  type MosquittoResult,
  runMosquitto,
} from "./_mosquitto.ts";

/** How the scenario opens the store under test, and lets go of it. */
export interface StoreUnderTest {
  /** Opens the store: the same data each time. */
  open(): Promise<Store>;
  /** Closes what `open` gave. */
  close(store: Store): Promise<void>;
}

/** A server on a store, listening on 127.0.0.1; `await using` stops it, then closes the store. */
export async function startOn(
  stores: StoreUnderTest,
): Promise<{ server: Server; port: number } & AsyncDisposable> {
  const store = await stores.open();
  const server = new Server({ store });
  server.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await server.start();
  } catch (error) {
    await stores.close(store);
    throw error;
  }
  return {
    server,
    port: server.addresses[0]!.port,
    async [Symbol.asyncDispose]() {
      try {
        await server.stop({ timeout: 2000 });
      } finally {
        await stores.close(store);
      }
    },
  };
}

/** Asserts that a Mosquitto client exited with 0 and returns what it printed. */
export function succeeded(result: MosquittoResult): MosquittoResult {
  strictEqual(result.code, 0, `exit code ${result.code}: ${result.stderr}`);
  return result;
}

/** Runs the scenario on the store; see the module's doc. */
export async function restartKeepsSession(
  stores: StoreUnderTest,
  count: number,
): Promise<void> {
  const lines = Array.from(
    { length: count },
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
    await using broker = await startOn(stores);
    // -E: subscribe (answered once the subscription is committed), leave.
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
    strictEqual(broker.server.session("keeper")?.queued, count);
  }

  {
    // Another server on the same store, on another port.
    await using broker = await startOn(stores);
    const session = broker.server.session("keeper");
    strictEqual(session?.connected, false);
    strictEqual(session?.queued, count);
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
    const later = succeeded(
      await runMosquitto("mosquitto_sub", [
        ...brokerArgs(broker.port),
        "-q",
        "1",
        "-t",
        "persist/#",
        "-C",
        "1",
        "-F",
        "%r %q %t %p",
      ]),
    );
    strictEqual(later.text, "1 1 persist/retained kept\n");
  }

  // What was delivered stays delivered: nothing waits in the store.
  const store = await stores.open();
  try {
    const { sessions, retained } = await store.load();
    deepStrictEqual(
      sessions.map((s) => [
        s.session.clientId,
        s.queue.length + (s.queueInStore?.count ?? 0),
        s.inflight.length,
      ]),
      [["keeper", 0, 0]],
    );
    strictEqual(retained.length, 1);
  } finally {
    await stores.close(store);
  }
}
