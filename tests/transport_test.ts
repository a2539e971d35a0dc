/**
 * Transports: TLS, WebSocket, secure WebSocket, in-memory streams through
 * `Server.handle`, several listeners on one server, and a graceful stop
 * with clients on every transport.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  type ClientInfo,
  type ListenOptions,
  Server,
  type ServerOptions,
} from "../mod.ts";
import {
  encodePacket,
  type Packet,
  type PublishPacket,
  type QoS,
} from "../packets/mod.ts";
import { TestClient } from "./_client.ts";
import {
  connectStream,
  connectTls,
  connectWebSocket,
  type Peer,
} from "./_peer.ts";
import { createTestCertificate } from "./_tls.ts";

const TLS = await createTestCertificate();

const CONNACK_OK: Packet = {
  type: "connack",
  sessionPresent: false,
  reasonCode: 0,
};

interface RunningServer extends AsyncDisposable {
  readonly server: Server;
  /** Bound port of each listener, in `listen` order. */
  readonly ports: number[];
}

/** Starts a server with the given listeners, all on 127.0.0.1 port 0. */
async function serve(
  listeners: ListenOptions[],
  options: ServerOptions = {},
): Promise<RunningServer> {
  const server = new Server(options);
  for (const l of listeners) {
    server.listen({ hostname: "127.0.0.1", port: 0, ...l });
  }
  await server.start();
  return {
    server,
    ports: server.addresses.map((a) => a.port),
    [Symbol.asyncDispose]: () => server.stop({ timeout: 2000 }),
  };
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function publish(
  topic: string,
  payload: string,
  qos: QoS = 0,
  packetId?: number,
): PublishPacket {
  return {
    type: "publish",
    topic,
    payload: bytes(payload),
    qos,
    retain: false,
    dup: false,
    ...(packetId === undefined ? {} : { packetId }),
  };
}

/** Sends SUBSCRIBE with one filter and asserts the SUBACK grants `qos`. */
async function subscribe(
  client: Peer | TestClient,
  topicFilter: string,
  qos: QoS = 0,
): Promise<void> {
  await client.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter, qos }],
  });
  deepStrictEqual(await client.next(), {
    type: "suback",
    packetId: 1,
    reasonCodes: [qos],
  });
}

/** Polls `condition` every 5 ms; throws after `timeout` ms. */
async function waitFor(
  condition: () => boolean,
  what: string,
  timeout = 2000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Sends a raw HTTP request and returns the status line of the answer. */
async function httpStatusLine(port: number, request: string): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(bytes(request));
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text.split("\r\n")[0]!;
}

// -- TLS ----------------------------------------------------------------------

Deno.test("Server.listen() with cert and key serves MQTT over TLS", async () => {
  await using s = await serve([{ cert: TLS.cert, key: TLS.key }, {}]);
  const [tlsPort, tcpPort] = s.ports as [number, number];
  strictEqual(s.server.addresses[0]!.transport, "tls");
  await using secure = await connectTls(tlsPort, TLS.cert);
  deepStrictEqual(await secure.connect({ clientId: "over-tls" }), CONNACK_OK);
  await subscribe(secure, "tls/in", 1);
  const { client: plain } = await TestClient.connect(tcpPort, {
    clientId: "over-tcp",
  });
  await using _plain = plain;
  await subscribe(plain, "tls/out", 1);

  // TCP to TLS.
  await plain.send(publish("tls/in", "to tls", 1, 10));
  deepStrictEqual(await plain.next(), { type: "puback", packetId: 10 });
  deepStrictEqual(await secure.next(), publish("tls/in", "to tls", 1, 1));
  await secure.send({ type: "puback", packetId: 1 });

  // TLS to TCP, QoS 2 handshake over TLS.
  await secure.send(publish("tls/out", "to tcp", 2, 20));
  deepStrictEqual(await secure.next(), { type: "pubrec", packetId: 20 });
  await secure.send({ type: "pubrel", packetId: 20 });
  deepStrictEqual(await secure.next(), { type: "pubcomp", packetId: 20 });
  deepStrictEqual(await plain.next(), publish("tls/out", "to tcp", 1, 1));
  await plain.send({ type: "puback", packetId: 1 });
});

Deno.test("Server.listen() with certFile and keyFile reads the PEM files", async () => {
  await using s = await serve([{
    certFile: TLS.certFile,
    keyFile: TLS.keyFile,
  }]);
  strictEqual(s.server.addresses[0]!.transport, "tls");
  await using secure = await connectTls(s.ports[0]!, TLS.cert);
  deepStrictEqual(await secure.connect(), {
    ...CONNACK_OK,
  });
  await secure.send({ type: "pingreq" });
  deepStrictEqual(await secure.next(), { type: "pingresp" });
});

Deno.test("Server.listen() with cert and key gives plaintext clients no CONNACK", async () => {
  await using s = await serve([{ cert: TLS.cert, key: TLS.key }]);
  await using plain = await TestClient.open(s.ports[0]!);
  await plain.send({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId: "plain",
  });
  // The TLS handshake fails: the server closes without an MQTT answer.
  await plain.closed();
  await plain.nothing(0);
  strictEqual(s.server.clients().length, 0);
});

// -- WebSocket -----------------------------------------------------------------

Deno.test("Server.listen() with websocket answers CONNECT over a WebSocket with subprotocol mqtt", async () => {
  await using s = await serve([{ websocket: { path: "/mqtt" } }]);
  strictEqual(s.server.addresses[0]!.transport, "ws");
  const { peer, socket } = await connectWebSocket(
    `ws://127.0.0.1:${s.ports[0]}/mqtt`,
  );
  await using _peer = peer;
  // [MQTT-6.0.0-4] The server selects "mqtt".
  strictEqual(socket.protocol, "mqtt");
  deepStrictEqual(await peer.connect({ clientId: "ws" }), CONNACK_OK);
  await peer.send({ type: "pingreq" });
  deepStrictEqual(await peer.next(), { type: "pingresp" });
  strictEqual(s.server.client("ws")?.transport, "ws");
});

Deno.test("Server.listen() with websocket routes messages between WebSocket and TCP clients", async () => {
  await using s = await serve([{ websocket: true }, {}]);
  const [wsPort, tcpPort] = s.ports as [number, number];
  const { peer: ws } = await connectWebSocket(
    `ws://127.0.0.1:${wsPort}/mqtt`,
  );
  await using _ws = ws;
  deepStrictEqual(await ws.connect({ clientId: "ws" }), CONNACK_OK);
  await subscribe(ws, "ws/in", 2);
  const { client: tcp } = await TestClient.connect(tcpPort, {
    clientId: "tcp",
  });
  await using _tcp = tcp;
  await subscribe(tcp, "ws/out");

  // TCP to WebSocket at QoS 2.
  await tcp.send(publish("ws/in", "from tcp", 2, 5));
  deepStrictEqual(await tcp.next(), { type: "pubrec", packetId: 5 });
  await tcp.send({ type: "pubrel", packetId: 5 });
  deepStrictEqual(await tcp.next(), { type: "pubcomp", packetId: 5 });
  deepStrictEqual(await ws.next(), publish("ws/in", "from tcp", 2, 1));
  await ws.send({ type: "pubrec", packetId: 1 });
  deepStrictEqual(await ws.next(), { type: "pubrel", packetId: 1 });
  await ws.send({ type: "pubcomp", packetId: 1 });

  // WebSocket to TCP at QoS 1, downgraded to the subscription's QoS 0.
  await ws.send(publish("ws/out", "from ws", 1, 6));
  deepStrictEqual(await ws.next(), { type: "puback", packetId: 6 });
  deepStrictEqual(await tcp.next(), publish("ws/out", "from ws"));
});

Deno.test("Server.listen() with websocket reads several MQTT packets from one WebSocket message", async () => {
  await using s = await serve([{ websocket: true }]);
  const { peer } = await connectWebSocket(
    `ws://127.0.0.1:${s.ports[0]}/mqtt`,
  );
  await using _peer = peer;
  // [MQTT-6.0.0-2] CONNECT, SUBSCRIBE, PUBLISH and PINGREQ in one message.
  const packets: Packet[] = [
    {
      type: "connect",
      protocolName: "MQTT",
      protocolVersion: 4,
      clean: true,
      keepAlive: 0,
      clientId: "batch",
    },
    {
      type: "subscribe",
      packetId: 1,
      subscriptions: [{ topicFilter: "batch/#", qos: 1 }],
    },
    publish("batch/a", "one", 1, 2),
    { type: "pingreq" },
  ];
  const encoded = packets.map((p) => encodePacket(p, 4));
  const message = new Uint8Array(encoded.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of encoded) {
    message.set(b, at);
    at += b.length;
  }
  await peer.sendBytes(message);
  deepStrictEqual(await peer.next(), CONNACK_OK);
  deepStrictEqual(await peer.next(), {
    type: "suback",
    packetId: 1,
    reasonCodes: [1],
  });
  // Its own message comes back (3.1.1 has no no-local), the PUBACK and the
  // PINGRESP, in an order the spec leaves open.
  const got = [await peer.next(), await peer.next(), await peer.next()];
  const byType = (a: Packet, b: Packet) => a.type.localeCompare(b.type);
  const want: Packet[] = [
    publish("batch/a", "one", 1, 1),
    { type: "puback", packetId: 2 },
    { type: "pingresp" },
  ];
  deepStrictEqual(got.sort(byType), want.sort(byType));
});

Deno.test("Server.listen() with websocket reassembles a packet split across WebSocket messages", async () => {
  await using s = await serve([{ websocket: true }]);
  const { peer } = await connectWebSocket(
    `ws://127.0.0.1:${s.ports[0]}/mqtt`,
  );
  await using _peer = peer;
  // [MQTT-6.0.0-2] CONNECT one byte per message.
  const connect = encodePacket({
    type: "connect",
    protocolName: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepAlive: 0,
    clientId: "split",
  }, 4);
  for (let i = 0; i < connect.length; i++) {
    await peer.sendBytes(connect.subarray(i, i + 1));
  }
  deepStrictEqual(await peer.next(), CONNACK_OK);
  await subscribe(peer, "split/t");
  // A 300-byte PUBLISH (two-byte remaining length) in three messages cut
  // inside the fixed header and inside the topic.
  const payload = "x".repeat(300);
  const packet = encodePacket(publish("split/t", payload), 4);
  await peer.sendBytes(packet.subarray(0, 2));
  await peer.sendBytes(packet.subarray(2, 7));
  await peer.nothing(30);
  await peer.sendBytes(packet.subarray(7));
  deepStrictEqual(await peer.next(), publish("split/t", payload));
});

Deno.test("Server.listen() with websocket answers 404 to another path", async () => {
  await using s = await serve([{ websocket: { path: "/mqtt" } }]);
  const port = s.ports[0]!;
  const upgrade = (path: string) =>
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
  strictEqual(
    await httpStatusLine(port, upgrade("/other")),
    "HTTP/1.1 404 Not Found",
  );
  strictEqual(
    await httpStatusLine(port, upgrade("/")),
    "HTTP/1.1 404 Not Found",
  );
  // The right path upgrades.
  strictEqual(
    await httpStatusLine(port, upgrade("/mqtt")),
    "HTTP/1.1 101 Switching Protocols",
  );
});

Deno.test("Server.listen() with websocket closes the connection on a text frame", async () => {
  await using s = await serve([{ websocket: true }]);
  const { peer, socket } = await connectWebSocket(
    `ws://127.0.0.1:${s.ports[0]}/mqtt`,
  );
  await using _peer = peer;
  deepStrictEqual(await peer.connect({ clientId: "texter" }), CONNACK_OK);
  // [MQTT-6.0.0-1] Anything but a binary frame closes the connection.
  socket.send(new TextDecoder().decode(encodePacket({ type: "pingreq" })));
  await peer.closed();
  await waitFor(() => s.server.clients().length === 0, "client gone");
});

Deno.test("Server.listen() with websocket and cert serves MQTT over secure WebSocket", async () => {
  await using s = await serve([
    { websocket: { path: "/mqtt" }, cert: TLS.cert, key: TLS.key },
    {},
  ]);
  const [wssPort, tcpPort] = s.ports as [number, number];
  strictEqual(s.server.addresses[0]!.transport, "wss");
  const { peer: wss, socket } = await connectWebSocket(
    `wss://127.0.0.1:${wssPort}/mqtt`,
    { caCert: TLS.cert },
  );
  await using _wss = wss;
  strictEqual(socket.protocol, "mqtt");
  deepStrictEqual(await wss.connect({ clientId: "wss" }), CONNACK_OK);
  strictEqual(s.server.client("wss")?.transport, "wss");
  await subscribe(wss, "wss/t", 1);
  const { client: tcp } = await TestClient.connect(tcpPort);
  await using _tcp = tcp;
  await tcp.send(publish("wss/t", "secure", 1, 3));
  deepStrictEqual(await tcp.next(), { type: "puback", packetId: 3 });
  deepStrictEqual(await wss.next(), publish("wss/t", "secure", 1, 1));
  await wss.send({ type: "puback", packetId: 1 });
});

// -- Server.handle ---------------------------------------------------------------

Deno.test("Server.handle() serves MQTT over a pair of web streams", async () => {
  await using s = await serve([{}]);
  const { peer, served } = connectStream(s.server);
  await using _peer = peer;
  deepStrictEqual(await peer.connect({ clientId: "piped" }), CONNACK_OK);
  strictEqual(s.server.client("piped")?.transport, "stream");
  await subscribe(peer, "pipe/t", 1);
  const { client: tcp } = await TestClient.connect(s.ports[0]!);
  await using _tcp = tcp;
  await subscribe(tcp, "pipe/back");

  await tcp.send(publish("pipe/t", "into the pipe", 1, 9));
  deepStrictEqual(await tcp.next(), { type: "puback", packetId: 9 });
  deepStrictEqual(await peer.next(), publish("pipe/t", "into the pipe", 1, 1));
  await peer.send({ type: "puback", packetId: 1 });

  await peer.send(publish("pipe/back", "out of the pipe"));
  deepStrictEqual(await tcp.next(), publish("pipe/back", "out of the pipe"));

  // DISCONNECT ends the connection: the server closes its side and the
  // promise handle() returned resolves.
  await peer.send({ type: "disconnect" });
  await peer.closed();
  await served;
  strictEqual(s.server.client("piped"), undefined);
});

Deno.test("Server.handle() works without any listener", async () => {
  const server = new Server();
  try {
    const { peer } = connectStream(server);
    await using _peer = peer;
    deepStrictEqual(await peer.connect({ clientId: "alone" }), CONNACK_OK);
    await subscribe(peer, "self", 0);
    await peer.send(publish("self", "echo"));
    deepStrictEqual(await peer.next(), publish("self", "echo"));
  } finally {
    await server.stop({ timeout: 1000 });
  }
});

// -- several listeners ----------------------------------------------------------

Deno.test("Server.addresses lists every listener with its real port, and all of them serve", async () => {
  await using s = await serve([{}, {}, { websocket: true }]);
  const addresses = s.server.addresses;
  deepStrictEqual(
    addresses.map((a) => [a.transport, a.hostname]),
    [["tcp", "127.0.0.1"], ["tcp", "127.0.0.1"], ["ws", "127.0.0.1"]],
  );
  const [tcp1Port, tcp2Port, wsPort] = s.ports as [number, number, number];
  ok(tcp1Port > 0 && tcp2Port > 0 && wsPort > 0, `ports ${s.ports}`);
  strictEqual(new Set(s.ports).size, 3);

  const { client: a } = await TestClient.connect(tcp1Port, { clientId: "a" });
  await using _a = a;
  const { client: b } = await TestClient.connect(tcp2Port, { clientId: "b" });
  await using _b = b;
  const { peer: c } = await connectWebSocket(`ws://127.0.0.1:${wsPort}/mqtt`);
  await using _c = c;
  deepStrictEqual(await c.connect({ clientId: "c" }), CONNACK_OK);
  for (const client of [a, b, c]) await subscribe(client, "all");
  for (const [from, name] of [[a, "a"], [b, "b"], [c, "c"]] as const) {
    await from.send(publish("all", `from ${name}`));
    for (const to of [a, b, c]) {
      deepStrictEqual(await to.next(), publish("all", `from ${name}`));
    }
  }
});

Deno.test("Server.addresses names each listener after its bound port", async () => {
  const listeners: string[] = [];
  await using s = await serve([{}, {}, { websocket: true }], {
    hooks: {
      onConnected(client: ClientInfo) {
        listeners.push(client.listener);
      },
    },
  });
  const [p1, p2, p3] = s.ports;
  // "{transport}:{port}" by default: the real port, so that two listeners
  // on port 0 still have names of their own in logs and hooks.
  deepStrictEqual(s.server.addresses.map((a) => a.name), [
    `tcp:${p1}`,
    `tcp:${p2}`,
    `ws:${p3}`,
  ]);
  const { client } = await TestClient.connect(p2!, { clientId: "second" });
  await using _client = client;
  await waitFor(() => listeners.length === 1, "onConnected");
  deepStrictEqual(listeners, [`tcp:${p2}`]);
});

Deno.test("Server.addresses uses the name given to listen()", async () => {
  await using s = await serve([{ name: "inside" }, { name: "outside" }]);
  deepStrictEqual(s.server.addresses.map((a) => a.name), [
    "inside",
    "outside",
  ]);
  const { client } = await TestClient.connect(s.ports[1]!, { clientId: "o" });
  await using _client = client;
  strictEqual(s.server.client("o")?.listener, "outside");
});

// -- graceful stop -----------------------------------------------------------------

Deno.test("Server.stop() closes TLS, WebSocket and secure WebSocket clients within its timeout", async () => {
  const server = new Server();
  server.listen({
    hostname: "127.0.0.1",
    port: 0,
    cert: TLS.cert,
    key: TLS.key,
  });
  server.listen({ hostname: "127.0.0.1", port: 0, websocket: true });
  server.listen({
    hostname: "127.0.0.1",
    port: 0,
    websocket: true,
    cert: TLS.cert,
    key: TLS.key,
  });
  await server.start();
  const [tlsPort, wsPort, wssPort] = server.addresses.map((a) => a.port);
  const peers: Peer[] = [];
  try {
    const tls3 = await connectTls(tlsPort!, TLS.cert);
    peers.push(tls3);
    await tls3.connect({ clientId: "tls3" });
    const tls5 = await connectTls(tlsPort!, TLS.cert);
    peers.push(tls5);
    await tls5.connect({ clientId: "tls5", protocolVersion: 5 });
    const { peer: ws } = await connectWebSocket(
      `ws://127.0.0.1:${wsPort}/mqtt`,
    );
    peers.push(ws);
    await ws.connect({ clientId: "ws" });
    const { peer: wss } = await connectWebSocket(
      `wss://127.0.0.1:${wssPort}/mqtt`,
      { caCert: TLS.cert },
    );
    peers.push(wss);
    await wss.connect({ clientId: "wss" });
    strictEqual(server.clients().length, 4);

    const started = Date.now();
    await server.stop({ timeout: 3000 });
    const took = Date.now() - started;
    // Closing is prompt: it does not wait out the timeout.
    ok(took < 1500, `stop() took ${took} ms`);
    // A 5.0 client is told why: 0x8B Server shutting down.
    deepStrictEqual(await tls5.next(), {
      type: "disconnect",
      reasonCode: 0x8b,
      properties: {},
    });
    for (const peer of peers) await peer.closed(1000);
    strictEqual(server.clients().length, 0);
    // The listeners are closed too.
    let refused = 0;
    for (const port of [tlsPort!, wsPort!, wssPort!]) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conn.close();
      } catch (error) {
        ok(error instanceof Deno.errors.ConnectionRefused, String(error));
        refused++;
      }
    }
    strictEqual(refused, 3);
  } finally {
    await server.stop({ timeout: 1000 });
    for (const peer of peers) await peer.close();
  }
});
