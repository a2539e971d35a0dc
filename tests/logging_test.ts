/**
 * What the server logs: connections, and every packet at debug level; over
 * in-memory pipes, but for the batches written to a socket.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Logger, type LogRecord } from "../mod.ts";
import { startPipeServer, startServer } from "./_client.ts";
import { waitFor } from "./_harness.ts";

function recordingLogger(level: "debug" | "info"): {
  logger: Logger;
  records: LogRecord[];
} {
  const records: LogRecord[] = [];
  const logger = new Logger("broker", level, {
    handlers: [{ handle: (record) => void records.push(record) }],
  });
  return { logger, records };
}

Deno.test("Server logs every packet in and out at debug level, without passwords", async () => {
  const { logger, records } = recordingLogger("debug");
  await using s = await startPipeServer({ logger });
  const { client } = await s.connect({
    clientId: "dumped",
    username: "u",
    password: new TextEncoder().encode("secret"),
  });
  await using _ = client;
  await client.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter: "d", qos: 1 }],
  });
  await client.next();
  await client.send({
    type: "publish",
    topic: "d",
    payload: new TextEncoder().encode("hi"),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 2,
  });
  await client.next();
  await client.next();

  const packets = records.filter((r) => r.msg.startsWith("packet "))
    .map((r) => `${r.msg} ${r.fields.type}`);
  deepStrictEqual(packets, [
    "packet received connect",
    "packet queued connack",
    "packet received subscribe",
    "packet queued suback",
    "packet received publish",
    "packet queued publish",
    "packet queued puback",
  ]);
  const connect = records.find((r) => r.fields.type === "connect")!;
  strictEqual(connect.fields.password, "(hidden)");
  strictEqual(connect.fields.username, "u");
  const out = records.find((r) =>
    r.msg === "packet queued" && r.fields.type === "publish"
  )!;
  strictEqual(out.fields.client_id, "dumped");
  strictEqual(out.fields.topic, "d");
  strictEqual(out.fields.qos, 1);
});

Deno.test("Server logs each written batch at debug level with its packets and bytes", async () => {
  const { logger, records } = recordingLogger("debug");
  // Over TCP, where a write is done before the client reads it (over a
  // pipe, only once it has), so the line is there when the answer comes.
  await using s = await startServer({ logger });
  const { client } = await s.connect({ clientId: "w" });
  await using _ = client;
  await client.send({ type: "pingreq" });
  await client.next();
  const queued = records.filter((r) => r.msg === "packet queued").length;
  const written = records.filter((r) => r.msg === "packets written");
  // CONNACK and PINGRESP, each written once it was queued.
  strictEqual(queued, 2);
  deepStrictEqual(
    written.map((r) => [r.fields.packets, r.fields.bytes]),
    [[1, 4], [1, 2]],
  );
  ok(
    records.findIndex((r) => r.msg === "packets written") >
      records.findIndex((r) => r.msg === "packet queued"),
  );
});

Deno.test("Server logs connections at info level and no packets", async () => {
  const { logger, records } = recordingLogger("info");
  await using s = await startPipeServer({ logger });
  const { client } = await s.connect({ clientId: "quiet" });
  await client.send({ type: "disconnect" });
  await client.closed();
  await client.close();
  await waitFor(() => records.some((r) => r.msg === "client disconnected"));
  ok(!records.some((r) => r.msg.startsWith("packet ")));
  const connected = records.find((r) => r.msg === "client connected")!;
  strictEqual(connected.fields.client_id, "quiet");
  strictEqual(connected.level, "info");
});
