/**
 * The broker on an {@linkcode SqliteStore} across a restart and a crash:
 * a graceful restart with Mosquitto's clients, a broker process killed with
 * SIGKILL while publishers wait for their acknowledgements, and the wills
 * of clients connected at the crash.
 *
 * @module
 */

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import type { Packet } from "../packets/mod.ts";
import { SqliteStore, SqliteStoreError } from "../mod.ts";
import { type ConnectFields, TestClient } from "./_client.ts";
import { BrokerProcess, crashRound } from "./_crash.ts";
import { restartKeepsSession, type StoreUnderTest } from "./_store_restart.ts";

/** Runs `fn` with a new directory, removed afterwards. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gmqtt-persist-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The SQLite store on one file, for the restart scenario. */
function onFile(path: string): StoreUnderTest {
  return {
    open: () => SqliteStore.open(path),
    close: (store) => Promise.resolve((store as SqliteStore).close()),
  };
}

Deno.test("Server on an SqliteStore gives a mosquitto_sub -c session its 1000 QoS 1 messages after a restart, and keeps retained messages", async () => {
  await withDir((dir) => restartKeepsSession(onFile(`${dir}/broker.db`), 1000));
});

Deno.test("Server on an SqliteStore killed with SIGKILL delivers every acknowledged message after a restart", async () => {
  await withDir(async (dir) => {
    const report = await crashRound(dir, {
      qos1Publishers: 4,
      qos2Publishers: 1,
      messages: 2000,
      killBetween: [200, 700],
    });
    const summary = JSON.stringify({ ...report, lost: report.lost.length });
    // Killed while publishers waited for acknowledgements.
    ok(report.publishingAtKill > 0, summary);
    ok(report.acknowledged.qos1 > 0, summary);
    ok(report.acknowledged.qos2 > 0, summary);
    // Zero lost: at least once at QoS 1, exactly once at QoS 2.
    deepStrictEqual(report.lost, [], summary);
    strictEqual(report.duplicates.qos2, 0, summary);
    ok(report.delivered.qos1 >= report.acknowledged.qos1, summary);
    ok(report.delivered.qos2 >= report.acknowledged.qos2, summary);
    // What survives of each publisher is its first messages, in order.
    deepStrictEqual(report.outOfOrder, [], summary);
  });
});

/** Connects a 5.0 client whose session outlives it by 60 s. */
async function connectV5(
  port: number,
  clientId: string,
  fields: ConnectFields = {},
): Promise<{ client: TestClient; sessionPresent: boolean }> {
  const { client, connack } = await TestClient.connect(port, {
    clientId,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 60 },
    ...fields,
  });
  strictEqual(connack.reasonCode, 0);
  return { client, sessionPresent: connack.sessionPresent };
}

/** Subscribes and waits for the SUBACK, sent once the store has committed. */
async function subscribed(
  client: TestClient,
  topicFilter: string,
): Promise<void> {
  await client.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter, qos: 1 }],
  });
  strictEqual((await client.next()).type, "suback");
}

/** The next PUBLISH, acknowledged; its topic and payload. */
async function nextMessage(
  client: TestClient,
  timeout = 3000,
): Promise<[string, string]> {
  const packet: Packet = await client.next(timeout);
  if (packet.type !== "publish") {
    throw new Error(`Expected PUBLISH, got ${packet.type}`);
  }
  if (packet.qos > 0) {
    await client.send({ type: "puback", packetId: packet.packetId! });
  }
  return [packet.topic, new TextDecoder().decode(packet.payload)];
}

/** Ends a client's connection with DISCONNECT: no will. */
async function leave(client: TestClient): Promise<void> {
  await client.send({ type: "disconnect" });
  await client.closed();
  await client.close();
}

Deno.test("Server on an SqliteStore killed with SIGKILL publishes the wills of clients connected at the crash, once", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/broker.db`;
    const will = (topic: string, delay?: number) => ({
      will: {
        topic,
        payload: new TextEncoder().encode(`${topic} gone`),
        qos: 1 as const,
        retain: false,
        ...(delay === undefined ? {} : {
          properties: { willDelayInterval: delay },
        }),
      },
    });

    {
      await using broker = await BrokerProcess.start(path);
      // Another process holds the file: a second broker is refused.
      await rejects(
        SqliteStore.open(path),
        (error: unknown) =>
          error instanceof SqliteStoreError && /locked/.test(error.message),
      );
      const { client: watcher } = await connectV5(broker.port, "watcher", {
        properties: { sessionExpiryInterval: 600 },
      });
      await subscribed(watcher, "wills/#");
      await leave(watcher);

      const dying: TestClient[] = [];
      try {
        for (
          const [clientId, fields] of [
            ["now", { ...will("wills/now") }],
            ["later", { ...will("wills/later", 1) }],
          ] as const
        ) {
          dying.push((await connectV5(broker.port, clientId, fields)).client);
        }
        const { client: v311 } = await TestClient.connect(broker.port, {
          clientId: "v311",
          clean: false,
          ...will("wills/v311"),
        });
        dying.push(v311);
        // Their sessions, wills included, are committed with the SUBACK.
        for (const client of dying) await subscribed(client, "unused/#");
        await broker.crash();
      } finally {
        for (const client of dying) await client.close();
      }
    }

    {
      const restarting = Date.now();
      await using broker = await BrokerProcess.start(path);
      const { client: watcher, sessionPresent } = await connectV5(
        broker.port,
        "watcher",
        { clean: false, properties: { sessionExpiryInterval: 600 } },
      );
      try {
        ok(sessionPresent);
        // Will delay 0 (and 3.1.1, which has none): published at start.
        const atStart = [await nextMessage(watcher), await nextMessage(watcher)]
          .sort();
        deepStrictEqual(atStart, [
          ["wills/now", "wills/now gone"],
          ["wills/v311", "wills/v311 gone"],
        ]);
        // Will delay 1 s: published a second after the restart.
        deepStrictEqual(await nextMessage(watcher), [
          "wills/later",
          "wills/later gone",
        ]);
        const after = Date.now() - restarting;
        ok(after >= 950, `the delayed will came ${after} ms after the restart`);
        await watcher.nothing(200);
        await leave(watcher);
      } finally {
        await watcher.close();
      }
      await broker.crash();
    }

    {
      // A second crash, after the wills went out: none goes out again.
      await using broker = await BrokerProcess.start(path);
      const { client: watcher, sessionPresent } = await connectV5(
        broker.port,
        "watcher",
        { clean: false, properties: { sessionExpiryInterval: 600 } },
      );
      try {
        ok(sessionPresent);
        await watcher.nothing(1_200);
        await leave(watcher);
      } finally {
        await watcher.close();
      }
      await broker.stop();
    }
  });
});
