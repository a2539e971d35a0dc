/**
 * CONNECT handling over in-memory pipes: protocol name and level, the first
 * and a second CONNECT, reserved flags, client identifiers and MQTT 3.1.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  ack,
  connack,
  PINGREQ,
  PINGRESP,
  publish,
} from "../packets/testdata/packets.ts";
import { startPipeServer } from "./_client.ts";
import { connectBytes, packetsUntilClosed, subscribeTo } from "./_harness.ts";

Deno.test("Server closes a connection whose CONNECT has a wrong protocol name [MQTT-3.1.2-1]", async () => {
  await using s = await startPipeServer();
  await using client = await s.open();
  await client.sendBytes(connectBytes({ protocolName: "MQTX", level: 4 }));
  const got = await packetsUntilClosed(client);
  // The server may say "unacceptable protocol version" first, never accept.
  ok(
    got.every((p) => p.type === "connack" && p.reasonCode === 0x01),
    JSON.stringify(got),
  );
  deepStrictEqual(s.server.clients(), []);
});

Deno.test("Server answers an unsupported protocol level with CONNACK 0x01 and closes [MQTT-3.1.2-2]", async () => {
  await using s = await startPipeServer();
  await using client = await s.open();
  await client.sendBytes(connectBytes({ level: 6 }));
  deepStrictEqual(await packetsUntilClosed(client), [
    connack({ reasonCode: 0x01 }),
  ]);
});

Deno.test("Server closes a connection that sends a second CONNECT [MQTT-3.1.0-2]", async () => {
  await using s = await startPipeServer();
  const { client, connack: first } = await s.connect({
    clientId: "twice",
  });
  await using _ = client;
  deepStrictEqual(first, connack());
  await client.send({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId: "twice",
  });
  deepStrictEqual(await packetsUntilClosed(client), []);
});

Deno.test("Server closes a connection whose first packet is not CONNECT [MQTT-3.1.0-1]", async () => {
  await using s = await startPipeServer();
  await using client = await s.open();
  await client.send(PINGREQ);
  // No PINGRESP: nothing but CONNECT is processed first.
  deepStrictEqual(await packetsUntilClosed(client), []);
});

Deno.test("Server closes a connection whose CONNECT sets the reserved flag [MQTT-3.1.2-3]", async () => {
  await using s = await startPipeServer();
  await using client = await s.open();
  await client.sendBytes(connectBytes({ flags: 0x03 }));
  deepStrictEqual(await packetsUntilClosed(client), []);
  deepStrictEqual(s.server.clients(), []);
});

Deno.test("Server accepts any UTF-8 client id, spaces and non-ASCII included", async () => {
  await using s = await startPipeServer();
  const clientId = "my client \u00e9\u65e5\u672c \u{1f600}";
  const { client, connack: answer } = await s.connect({
    clientId,
  });
  await using _ = client;
  deepStrictEqual(answer, connack());
  deepStrictEqual(s.server.clients().map((c) => c.clientId), [clientId]);
});

Deno.test("Server gives each clean client with an empty id its own id [MQTT-3.1.3-6]", async () => {
  await using s = await startPipeServer();
  const a = await s.connect({ clientId: "", clean: true });
  await using _a = a.client;
  const b = await s.connect({ clientId: "", clean: true });
  await using _b = b.client;
  deepStrictEqual([a.connack, b.connack], [connack(), connack()]);
  const ids = s.server.clients().map((c) => c.clientId);
  strictEqual(ids.length, 2);
  ok(ids.every((id) => id.length > 0), JSON.stringify(ids));
  ok(ids[0] !== ids[1], JSON.stringify(ids));
  // Neither took the other over: both still answer.
  await a.client.send(PINGREQ);
  await b.client.send(PINGREQ);
  deepStrictEqual(await a.client.next(), PINGRESP);
  deepStrictEqual(await b.client.next(), PINGRESP);
});

Deno.test("Server refuses an empty client id with clean session 0 with CONNACK 0x02 [MQTT-3.1.3-8]", async () => {
  await using s = await startPipeServer();
  const { client, connack: answer } = await s.connect({
    clientId: "",
    clean: false,
  });
  await using _ = client;
  deepStrictEqual(answer, connack({ reasonCode: 0x02 }));
  deepStrictEqual(await packetsUntilClosed(client), []);
  deepStrictEqual(s.server.sessions(), []);
});

Deno.test("Server with allowEmptyClientId false refuses an empty client id with CONNACK 0x02", async () => {
  await using s = await startPipeServer({ allowEmptyClientId: false });
  const { client, connack: answer } = await s.connect({
    clientId: "",
    clean: true,
  });
  await using _ = client;
  deepStrictEqual(answer, connack({ reasonCode: 0x02 }));
  deepStrictEqual(await packetsUntilClosed(client), []);
});

Deno.test("Server with allowEmptyClientId false still accepts a client with an id", async () => {
  await using s = await startPipeServer({ allowEmptyClientId: false });
  const { client, connack: answer } = await s.connect({
    clientId: "named",
  });
  await using _ = client;
  deepStrictEqual(answer, connack());
});

Deno.test("Server refuses an empty client id from an MQTT 3.1 client with CONNACK 0x02", async () => {
  await using s = await startPipeServer();
  const { client, connack: answer } = await s.connect({
    protocolVersion: 3,
    clientId: "",
    clean: true,
  });
  await using _ = client;
  // MQTT 3.1 allows client ids of 1 to 23 characters only.
  deepStrictEqual(answer, connack({ reasonCode: 0x02 }));
  deepStrictEqual(await packetsUntilClosed(client), []);
});

Deno.test("Server accepts an MQTT 3.1 (MQIsdp, level 3) client that subscribes and publishes", async () => {
  await using s = await startPipeServer();
  const { client, connack: answer } = await s.connect({
    protocolVersion: 3,
    clientId: "old-client",
  });
  await using _ = client;
  deepStrictEqual(answer, connack());
  deepStrictEqual(s.server.clients().map((c) => c.protocolVersion), [3]);
  await subscribeTo(client, "legacy/#", 1);
  await client.send(
    publish({ topic: "legacy/a", payload: "hi", qos: 1, packetId: 5 }),
  );
  const got = [await client.next(), await client.next()];
  const puback = got.find((p) => p.type === "puback");
  const delivered = got.find((p) => p.type === "publish");
  deepStrictEqual(puback, ack({ type: "puback", packetId: 5 }));
  deepStrictEqual(
    delivered,
    publish({ topic: "legacy/a", payload: "hi", qos: 1, packetId: 1 }),
  );
});
