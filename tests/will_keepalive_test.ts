/**
 * Wills and keep-alive over in-memory pipes, with fake time: when a will is
 * published and when it is not, keep-alive timeouts, and the CONNECT timeout.
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  ack,
  PINGREQ,
  PINGRESP,
  publish,
} from "../packets/testdata/packets.ts";
import type { QoS } from "../packets/mod.ts";
import {
  startPipeServer,
  type TestClient,
  type TestServer,
} from "./_client.ts";
import { FakeClock, sleep, subscribeTo, waitFor } from "./_harness.ts";

/** A will on "will/{clientId}" with payload "gone". */
function will(clientId: string, qos: QoS, retain = false) {
  return {
    topic: `will/${clientId}`,
    payload: new TextEncoder().encode("gone"),
    qos,
    retain,
  };
}

/** A client subscribed to every will at QoS 2. */
async function watcher(s: TestServer): Promise<TestClient> {
  const { client } = await s.connect({ clientId: "watcher" });
  await subscribeTo(client, "will/#", 2);
  return client;
}

Deno.test("Server publishes the will with its QoS when the keep-alive times out [MQTT-3.1.2-8]", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({ now: clock.now, sweepInterval: 5 });
  await using watch = await watcher(s);
  const { client } = await s.connect({
    clientId: "sleepy",
    keepAlive: 2,
    will: will("sleepy", 1),
  });
  await using _ = client;
  clock.advance(3000);
  await client.closed();
  deepStrictEqual(
    await watch.next(),
    publish({ topic: "will/sleepy", payload: "gone", qos: 1, packetId: 1 }),
  );
  await watch.send(ack({ type: "puback", packetId: 1 }));
});

Deno.test("Server publishes the will when the client closes the network connection [MQTT-3.1.2-8]", async () => {
  await using s = await startPipeServer();
  await using watch = await watcher(s);
  const { client } = await s.connect({
    clientId: "dropped",
    will: will("dropped", 2),
  });
  await client.close();
  deepStrictEqual(
    await watch.next(),
    publish({ topic: "will/dropped", payload: "gone", qos: 2, packetId: 1 }),
  );
  await watch.send(ack({ type: "pubrec", packetId: 1 }));
  deepStrictEqual(await watch.next(), ack({ type: "pubrel", packetId: 1 }));
  await watch.send(ack({ type: "pubcomp", packetId: 1 }));
  await watch.nothingPending();
});

Deno.test("Server publishes the will after a protocol error [MQTT-3.1.2-8]", async () => {
  await using s = await startPipeServer();
  await using watch = await watcher(s);
  const { client } = await s.connect({
    clientId: "garbled",
    will: will("garbled", 0),
  });
  await using _ = client;
  // Packet type 0 is reserved: a malformed packet.
  await client.sendBytes(Uint8Array.of(0x00, 0x00));
  await client.closed();
  deepStrictEqual(
    await watch.next(),
    publish({ topic: "will/garbled", payload: "gone" }),
  );
});

Deno.test("Server publishes the will of a connection taken over by the same client id [MQTT-3.1.4-2]", async () => {
  await using s = await startPipeServer();
  await using watch = await watcher(s);
  const first = await s.connect({
    clientId: "twin",
    will: will("twin", 0),
  });
  await using _first = first.client;
  const second = await s.connect({ clientId: "twin" });
  await using _second = second.client;
  await first.client.closed();
  deepStrictEqual(
    await watch.next(),
    publish({ topic: "will/twin", payload: "gone" }),
  );
});

Deno.test("Server does not publish the will after DISCONNECT [MQTT-3.14.4-3]", async () => {
  await using s = await startPipeServer();
  await using watch = await watcher(s);
  const { client } = await s.connect({
    clientId: "polite",
    will: will("polite", 1),
  });
  await using _ = client;
  await client.send({ type: "disconnect" });
  await client.closed();
  await watch.nothingPending();
});

Deno.test("Server stores a retained will as the topic's retained message [MQTT-3.1.2-17]", async () => {
  await using s = await startPipeServer();
  {
    const { client } = await s.connect({
      clientId: "keeper",
      will: will("keeper", 1, true),
    });
    await client.close();
  }
  await waitFor(() => s.server.retained("will/#").length === 1);
  // A subscriber that comes later gets it with RETAIN 1 [MQTT-3.3.1-8].
  const { client } = await s.connect({ clientId: "late" });
  await using _ = client;
  await subscribeTo(client, "will/#", 1);
  deepStrictEqual(
    await client.next(),
    publish({
      topic: "will/keeper",
      payload: "gone",
      qos: 1,
      retain: true,
      packetId: 1,
    }),
  );
});

Deno.test("Server disconnects a client silent for 1.5 times its keep-alive [MQTT-3.1.2-24]", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({ now: clock.now, sweepInterval: 5 });
  const { client } = await s.connect({
    clientId: "quiet",
    keepAlive: 10,
  });
  await using _ = client;
  clock.advance(14_999);
  await sleep(30);
  strictEqual(client.ended, false);
  clock.advance(1);
  await client.closed();
  deepStrictEqual(s.server.clients(), []);
});

Deno.test("Server keeps a client that sends PINGREQ within its keep-alive, and answers PINGRESP [MQTT-3.12.4-1]", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({ now: clock.now, sweepInterval: 5 });
  const { client } = await s.connect({
    clientId: "pinger",
    keepAlive: 10,
  });
  await using _ = client;
  for (let i = 0; i < 4; i++) {
    clock.advance(10_000);
    await client.send(PINGREQ);
    deepStrictEqual(await client.next(), PINGRESP);
  }
  // 40 s since CONNECT, more than 1.5 times the keep-alive.
  await sleep(30);
  strictEqual(client.ended, false);
  deepStrictEqual(s.server.clients().map((c) => c.clientId), ["pinger"]);
});

Deno.test("Server never times out a client with keep-alive 0 [MQTT-3.1.2-10]", async () => {
  const clock = new FakeClock();
  await using s = await startPipeServer({ now: clock.now, sweepInterval: 5 });
  const { client } = await s.connect({
    clientId: "forever",
    keepAlive: 0,
  });
  await using _ = client;
  clock.advance(7 * 24 * 3600 * 1000);
  await sleep(30);
  strictEqual(client.ended, false);
  await client.send(PINGREQ);
  deepStrictEqual(await client.next(), PINGRESP);
});

Deno.test("Server closes a connection that sends no CONNECT within connectTimeout", async () => {
  const clock = new FakeClock();
  let accepted = false;
  await using s = await startPipeServer({
    now: clock.now,
    sweepInterval: 5,
    connectTimeout: 3,
    hooks: { checkAccept: () => void (accepted = true) },
  });
  await using client = await s.open();
  // Time moves only once the server has the connection.
  await waitFor(() => accepted);
  clock.advance(2_999);
  await sleep(30);
  strictEqual(client.ended, false);
  clock.advance(1);
  await client.closed();
});

Deno.test("Server does not publish the will of a client that checkConnect refused", async () => {
  await using s = await startPipeServer({
    hooks: {
      checkConnect: (client) =>
        client.clientId === "intruder" ? 0x87 : undefined,
    },
  });
  await using watch = await watcher(s);
  const { client, connack: answer } = await s.connect({
    clientId: "intruder",
    will: will("intruder", 0),
  });
  await using _ = client;
  strictEqual(answer.reasonCode, 5);
  await client.closed();
  await watch.nothingPending();
});
