/** `maxConnections`: connections past the limit are closed when accepted. */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Logger, type LogRecord } from "../mod.ts";
import { startServer, TestClient } from "./_client.ts";
import { FakeClock, waitFor } from "./_harness.ts";

function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = new Logger("broker", "warn", {
    handlers: [{ handle: (record) => void records.push(record) }],
  });
  return { logger, records };
}

/** Opens a TCP connection and waits until the server closes it. */
async function refused(port: number): Promise<void> {
  await using client = await TestClient.open(port);
  await client.closed();
}

Deno.test("Server closes connections past maxConnections before reading, and warns once a minute", async () => {
  const clock = new FakeClock();
  const { logger, records } = recordingLogger();
  await using s = await startServer({
    maxConnections: 2,
    logger,
    now: clock.now,
  });
  const a = await TestClient.connect(s.port, { clientId: "a" });
  await using _a = a.client;
  const b = await TestClient.connect(s.port, { clientId: "b" });
  await using _b = b.client;
  await refused(s.port);
  await refused(s.port);
  const warnings = () =>
    records.filter((r) => r.msg.startsWith("connection limit reached"));
  strictEqual(warnings().length, 1);
  strictEqual(warnings()[0]!.fields.maxConnections, 2);
  strictEqual(warnings()[0]!.fields.refused, 1);
  // The open clients are served as before.
  await a.client.send({ type: "pingreq" });
  deepStrictEqual(await a.client.next(), { type: "pingresp" });
  clock.advance(60_000);
  await refused(s.port);
  strictEqual(warnings().length, 2);
  // The one refused while the warning was held back is counted too.
  strictEqual(warnings()[1]!.fields.refused, 2);
  strictEqual(s.server.metrics().connectionsCurrent, 2);
});

Deno.test("Server accepts a connection again once one below maxConnections has closed", async () => {
  await using s = await startServer({ maxConnections: 1 });
  const a = await TestClient.connect(s.port, { clientId: "a" });
  await refused(s.port);
  await a.client.close();
  await waitFor(() => s.server.metrics().connectionsCurrent === 0);
  const { client, connack } = await TestClient.connect(s.port, {
    clientId: "c",
  });
  await using _ = client;
  strictEqual(connack.reasonCode, 0);
});
