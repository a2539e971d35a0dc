/**
 * What operators see: wrong WebSocket paths, TLS mistakes, close reasons and
 * reason codes in log lines.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Logger, type LogRecord, Server, type ServerOptions } from "../mod.ts";
import { createTestCertificate } from "./_tls.ts";
import { waitFor } from "./_harness.ts";
import { startPipeServer } from "./_client.ts";

const TLS = await createTestCertificate();

function recordingLogger(level: "debug" | "info" = "info"): {
  logger: Logger;
  records: LogRecord[];
} {
  const records: LogRecord[] = [];
  const logger = new Logger("broker", level, {
    handlers: [{ handle: (record) => void records.push(record) }],
  });
  return { logger, records };
}

async function startWith(
  listeners: Parameters<Server["listen"]>[0][],
  options: ServerOptions = {},
): Promise<{ server: Server; ports: number[] } & AsyncDisposable> {
  const server = new Server(options);
  for (const l of listeners) {
    server.listen({ hostname: "127.0.0.1", port: 0, ...l });
  }
  await server.start();
  return {
    server,
    ports: server.addresses.map((a) => a.port),
    [Symbol.asyncDispose]: () => server.stop({ timeout: 100 }),
  };
}

/** Sends an upgrade request for `path`; resolves the status line. */
async function upgradeStatus(port: number, path: string): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
  ));
  let text = "";
  const chunk = new Uint8Array(1024);
  while (!text.includes("\r\n")) {
    const n = await conn.read(chunk);
    if (n === null) break;
    text += new TextDecoder().decode(chunk.subarray(0, n));
  }
  return text.slice(0, text.indexOf("\r\n"));
}

Deno.test("Server.listen() with websocket: true upgrades any path, as Mosquitto does", async () => {
  await using s = await startWith([{ websocket: true }]);
  for (const path of ["/", "/mqtt", "/ws?x=1"]) {
    strictEqual(
      await upgradeStatus(s.ports[0]!, path),
      "HTTP/1.1 101 Switching Protocols",
    );
  }
});

Deno.test("Server.listen() with a websocket path answers 404 elsewhere and logs it once per host with the expected path", async () => {
  const { logger, records } = recordingLogger();
  await using s = await startWith([{ websocket: { path: "/mqtt" } }], {
    logger,
  });
  const port = s.ports[0]!;
  strictEqual(await upgradeStatus(port, "/"), "HTTP/1.1 404 Not Found");
  strictEqual(await upgradeStatus(port, "/other"), "HTTP/1.1 404 Not Found");
  strictEqual(
    await upgradeStatus(port, "/mqtt"),
    "HTTP/1.1 101 Switching Protocols",
  );
  const lines = records.filter((r) =>
    r.msg === "websocket request to a wrong path"
  );
  strictEqual(lines.length, 1);
  strictEqual(lines[0]!.level, "info");
  strictEqual(lines[0]!.fields.path, "/");
  strictEqual(lines[0]!.fields.expected, "/mqtt");
  ok(String(lines[0]!.fields.remote).startsWith("127.0.0.1:"));
});

/** CONNECT (3.1.1, client id "p"). */
const CONNECT = Uint8Array.of(
  0x10,
  0x0d,
  0x00,
  0x04,
  0x4d,
  0x51,
  0x54,
  0x54,
  0x04,
  0x02,
  0x00,
  0x00,
  0x00,
  0x01,
  0x70,
);

/** Resolves once the server has closed the connection. */
async function ended(conn: Deno.Conn): Promise<void> {
  const chunk = new Uint8Array(1024);
  while (await conn.read(chunk).catch(() => null) !== null);
}

function lines(records: LogRecord[], prefix: string): LogRecord[] {
  return records.filter((r) => r.msg.startsWith(prefix));
}

Deno.test("Server logs a plain MQTT client on a TLS listener once per host", async () => {
  const { logger, records } = recordingLogger();
  await using s = await startWith([{ cert: TLS.cert, key: TLS.key }], {
    logger,
  });
  for (let i = 0; i < 2; i++) {
    using conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: s.ports[0]!,
    });
    await conn.write(CONNECT);
    await ended(conn);
  }
  await waitFor(() => lines(records, "tls handshake failed").length > 0);
  const found = lines(records, "tls handshake failed");
  strictEqual(found.length, 1);
  strictEqual(
    found[0]!.msg,
    "tls handshake failed: looks like plain MQTT on a TLS listener",
  );
  ok(
    !String(found[0]!.fields.detail).includes("http"),
    found[0]!.fields.detail as string,
  );
  await waitFor(() => s.server.metrics().connectionsCurrent === 0);
});

Deno.test("Server logs a TLS client on a plain listener", async () => {
  const { logger, records } = recordingLogger();
  await using s = await startWith([{}], { logger });
  await Deno.connectTls({
    hostname: "127.0.0.1",
    port: s.ports[0]!,
    caCerts: [TLS.cert],
  }).then(async (conn) => {
    try {
      await conn.handshake();
    } finally {
      conn.close();
    }
  }).catch(() => {});
  await waitFor(
    () => lines(records, "looks like TLS on a plain listener").length > 0,
  );
  deepStrictEqual(
    lines(records, "looks like TLS").map((r) => r.level),
    ["info"],
  );
  await waitFor(() => s.server.metrics().connectionsCurrent === 0);
});

Deno.test("Server logs a TLS handshake that fails because the client does not trust the certificate", async () => {
  const { logger, records } = recordingLogger();
  await using s = await startWith([{ cert: TLS.cert, key: TLS.key }], {
    logger,
  });
  await Deno.connectTls({ hostname: "127.0.0.1", port: s.ports[0]! }).then(
    async (conn) => {
      try {
        await conn.handshake();
      } finally {
        conn.close();
      }
    },
  ).catch(() => {});
  await waitFor(() => lines(records, "tls handshake failed").length > 0);
  const found = lines(records, "tls handshake failed");
  strictEqual(found.length, 1);
  strictEqual(found[0]!.msg, "tls handshake failed");
  ok(String(found[0]!.fields.detail).length > 0);
  ok(!String(found[0]!.fields.detail).includes("http"));
  await waitFor(() => s.server.metrics().connectionsCurrent === 0);
});

function disconnects(records: LogRecord[]): Record<string, unknown>[] {
  return records.filter((r) => r.msg === "client disconnected").map((r) => ({
    client_id: r.fields.client_id,
    reason: r.fields.reason,
  }));
}

Deno.test("Server logs client disconnected with a reason token: client_disconnect, kicked, protocol_error, server_stop", async () => {
  const { logger, records } = recordingLogger();
  const s = await startPipeServer({ logger });
  try {
    const { client: a } = await s.connect({ clientId: "a" });
    await a.send({ type: "disconnect" });
    await a.closed();
    await a.close();
    const { client: b } = await s.connect({ clientId: "b" });
    await s.server.kick("b");
    await b.closed();
    await b.close();
    const { client: c } = await s.connect({ clientId: "c" });
    await c.send({ type: "connack", sessionPresent: false, reasonCode: 0 });
    await c.closed();
    await c.close();
    const { client: d } = await s.connect({
      clientId: "d",
      protocolVersion: 5,
    });
    await waitFor(() => disconnects(records).length === 3);
    await s.server.stop({ timeout: 1000 });
    await d.close();
  } finally {
    await s[Symbol.asyncDispose]();
  }
  deepStrictEqual(disconnects(records), [
    { client_id: "a", reason: "client_disconnect" },
    { client_id: "b", reason: "kicked" },
    { client_id: "c", reason: "protocol_error" },
    { client_id: "d", reason: "server_stop" },
  ]);
  const protocol = records.find((r) =>
    r.msg === "client disconnected" && r.fields.reason === "protocol_error"
  )!;
  ok(String(protocol.fields.detail).startsWith("Cannot accept CONNACK"));
});

Deno.test("Server logs refused connections, publishes and subscriptions at info with reason code names", async () => {
  const { logger, records } = recordingLogger();
  await using s = await startPipeServer({
    logger,
    hooks: [{
      checkConnect: (client) => client.clientId === "nobody" ? 0x87 : undefined,
      checkPublish: (_c, packet) => packet.topic === "no" ? 0x87 : undefined,
      checkSubscribe: (_c, sub) =>
        sub.topicFilter === "secret/#" ? 0x87 : undefined,
    }],
  });
  const refused = await s.connect({ clientId: "nobody" });
  await refused.client.close();
  const { client } = await s.connect({ clientId: "ok" });
  await using _ = client;
  await client.send({
    type: "subscribe",
    packetId: 1,
    subscriptions: [{ topicFilter: "secret/#", qos: 1 }, {
      topicFilter: "open",
      qos: 0,
    }],
  });
  deepStrictEqual(await client.next(), {
    type: "suback",
    packetId: 1,
    reasonCodes: [0x80, 0],
  });
  await client.send({
    type: "publish",
    topic: "no",
    payload: new Uint8Array(0),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 2,
  });
  await client.next();
  const codes = Object.fromEntries(
    records.filter((r) => r.msg.endsWith(" refused")).map((
      r,
    ) => [r.msg, [r.level, r.fields.reason_code]]),
  );
  deepStrictEqual(codes, {
    "connection refused": ["info", "not_authorized (0x87)"],
    "subscribe refused": ["info", "not_authorized (0x87)"],
    "publish refused": ["info", "not_authorized (0x87)"],
  });
});

Deno.test("Server debug dumps show UTF-8 payloads as text and others as base64", async () => {
  const { logger, records } = recordingLogger("debug");
  await using s = await startPipeServer({ logger });
  const { client } = await s.connect({ clientId: "dump" });
  await using _ = client;
  for (
    const payload of [
      new TextEncoder().encode("héllo"),
      Uint8Array.of(0xff, 0xfe),
    ]
  ) {
    await client.send({
      type: "publish",
      topic: "t",
      payload,
      qos: 1,
      retain: false,
      dup: false,
      packetId: 1,
    });
    await client.next();
  }
  const dumps = records.filter((r) =>
    r.msg === "packet received" && r.fields.type === "publish"
  ).map((r) => [r.fields.payload, r.fields.payload_encoding]);
  deepStrictEqual(dumps, [
    ["héllo", undefined],
    [Uint8Array.of(0xff, 0xfe), "base64"],
  ]);
});
