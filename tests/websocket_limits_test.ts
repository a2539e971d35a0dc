/**
 * WebSocket listener hardening over raw sockets: message cap, masking,
 * ping, close handshake and reaping of connections that never CONNECT.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Server, type ServerOptions } from "../mod.ts";
import { decodePacket, encodePacket } from "../packets/mod.ts";
import { FakeClock, sleep, waitFor } from "./_harness.ts";

async function wsServer(
  options: ServerOptions = {},
): Promise<{ server: Server; port: number } & AsyncDisposable> {
  const server = new Server(options);
  server.listen({ hostname: "127.0.0.1", port: 0, websocket: true });
  await server.start();
  return {
    server,
    port: server.addresses[0]!.port,
    [Symbol.asyncDispose]: () => server.stop({ timeout: 100 }),
  };
}

/** A raw WebSocket client: handshake done, frames written by hand. */
class RawWs implements Disposable {
  readonly conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  static async open(port: number): Promise<RawWs> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const ws = new RawWs(conn);
    await conn.write(new TextEncoder().encode(
      `GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
    ));
    const head = await ws.#readUntil("\r\n\r\n");
    ok(head.startsWith("HTTP/1.1 101 "), head);
    // RFC 6455 section 1.3's example key and answer.
    ok(
      head.includes("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
      head,
    );
    return ws;
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(4096);
    const n = await this.conn.read(chunk).catch(() => null);
    if (n === null) return false;
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
    return true;
  }

  async #readUntil(end: string): Promise<string> {
    while (true) {
      const text = new TextDecoder().decode(this.#buffer);
      const at = text.indexOf(end);
      if (at >= 0) {
        this.#buffer = this.#buffer.slice(at + end.length);
        return text.slice(0, at);
      }
      if (!await this.#fill()) throw new Error("Connection ended");
    }
  }

  /** Sends one masked frame. */
  async send(
    opcode: number,
    payload: Uint8Array,
    options: { fin?: boolean; masked?: boolean; length?: number } = {},
  ): Promise<void> {
    const length = options.length ?? payload.length;
    const masked = options.masked ?? true;
    const head: number[] = [(options.fin ?? true ? 0x80 : 0) | opcode];
    const maskBit = masked ? 0x80 : 0;
    if (length < 126) head.push(maskBit | length);
    else if (length < 65536) {
      head.push(maskBit | 126, length >> 8, length & 255);
    } else {
      head.push(maskBit | 127);
      const big = BigInt(length);
      for (let i = 7; i >= 0; i--) {
        head.push(Number((big >> BigInt(8 * i)) & 255n));
      }
    }
    const mask = [0x12, 0x34, 0x56, 0x78];
    if (masked) head.push(...mask);
    const body = payload.map((b, i) => masked ? b ^ mask[i & 3]! : b);
    const frame = new Uint8Array(head.length + body.length);
    frame.set(head);
    frame.set(body, head.length);
    await this.conn.write(frame);
  }

  /** The next frame from the server, or null at the end. */
  async next(): Promise<{ opcode: number; payload: Uint8Array } | null> {
    while (true) {
      const b = this.#buffer;
      if (b.length >= 2) {
        let size = b[1]! & 0x7f;
        let at = 2;
        if (size === 126 && b.length >= 4) {
          size = (b[2]! << 8) | b[3]!;
          at = 4;
        }
        if (size < 126 && b.length >= at + size) {
          this.#buffer = b.slice(at + size);
          return { opcode: b[0]! & 0x0f, payload: b.slice(at, at + size) };
        }
      }
      if (!await this.#fill()) return null;
    }
  }

  /** Resolves the milliseconds until the server closes the socket. */
  async ended(): Promise<number> {
    const start = performance.now();
    while (await this.#fill());
    return performance.now() - start;
  }

  [Symbol.dispose](): void {
    try {
      this.conn.close();
    } catch {
      // Closed already.
    }
  }
}

const closeCode = (frame: { payload: Uint8Array } | null) =>
  frame === null ? undefined : (frame.payload[0]! << 8) | frame.payload[1]!;

/** CONNECT (3.1.1, client id "w", keep-alive 0). */
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
  0x77,
);

Deno.test("Server.listen() with websocket answers a message larger than maxPacketSize plus its allowance with close 1009 and ends the connection", async () => {
  await using s = await wsServer({ maxPacketSize: 1024 });
  using ws = await RawWs.open(s.port);
  await ws.send(0x2, CONNECT);
  strictEqual((await ws.next())?.opcode, 0x2);
  // A frame announcing 60 MiB of PINGREQs: every packet is small, but the
  // message passes the cap (1024 + 1024 bytes).
  const pings = new Uint8Array(2200);
  for (let i = 0; i < pings.length; i += 2) pings[i] = 0xc0;
  await ws.send(0x2, pings, { length: 60 * 1024 * 1024 });
  let frame = await ws.next();
  while (frame?.opcode === 0x2) frame = await ws.next();
  strictEqual(frame?.opcode, 0x8);
  strictEqual(closeCode(frame), 1009);
  ok(await ws.ended() < 3000);
});

Deno.test("Server.listen() with websocket announces maxPacketSize in the 5.0 CONNACK and refuses a larger PUBLISH with DISCONNECT 0x95", async () => {
  await using s = await wsServer({ maxPacketSize: 1024 });
  using ws = await RawWs.open(s.port);
  await ws.send(
    0x2,
    encodePacket({
      type: "connect",
      protocolName: "MQTT",
      protocolVersion: 5,
      clientId: "big",
      clean: true,
      keepAlive: 0,
    }),
  );
  const connack = decodePacket((await ws.next())!.payload, 5);
  strictEqual(connack.type, "connack");
  strictEqual(
    connack.type === "connack" ? connack.properties?.maximumPacketSize : 0,
    1024,
  );
  // One PUBLISH of 64 MiB in one message, of which only the start is sent.
  const publish = encodePacket({
    type: "publish",
    topic: "t",
    payload: new Uint8Array(100),
    qos: 0,
    retain: false,
    dup: false,
  }, 5);
  const head = Uint8Array.of(0x30, 0x80, 0x80, 0x80, 0x20); // 64 MiB
  const start = new Uint8Array(head.length + publish.length - 2);
  start.set(head);
  start.set(publish.subarray(2), head.length);
  await ws.send(0x2, start, { length: 64 * 1024 * 1024 + 5 });
  const frame = await ws.next();
  strictEqual(frame?.opcode, 0x2);
  const disconnect = decodePacket(frame!.payload, 5);
  strictEqual(disconnect.type, "disconnect");
  strictEqual(
    disconnect.type === "disconnect" ? disconnect.reasonCode : 0,
    0x95,
  );
  ok(await ws.ended() < 3000);
});

/** Sends an upgrade request; resolves the response head. */
async function handshake(
  port: number,
  path: string,
  protocolHeader: string | undefined,
): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\n" +
      (protocolHeader === undefined
        ? ""
        : `Sec-WebSocket-Protocol: ${protocolHeader}\r\n`) +
      "\r\n",
  ));
  let text = "";
  const chunk = new Uint8Array(1024);
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(chunk);
    if (n === null) break;
    text += new TextDecoder().decode(chunk.subarray(0, n));
  }
  return text.slice(0, text.indexOf("\r\n\r\n"));
}

for (
  const [offered, chosen] of [
    ["mqtt,mqttv3.1", "mqtt"],
    ["mqtt, mqttv3.1", "mqtt"],
    ["mqttv3.1 ,mqtt", "mqtt"],
    ["mqttv3.1,\tmqtt", "mqtt"],
    ["\tmqttv3.1\t", "mqttv3.1"],
    ["foo,mqttv3.1", "mqttv3.1"],
    ["mqtt ,  foo", "mqtt"],
  ] as const
) {
  Deno.test(
    `Server.listen() with websocket upgrades Sec-WebSocket-Protocol ${
      JSON.stringify(offered)
    } choosing ${chosen}`,
    async () => {
      await using s = await wsServer();
      const head = await handshake(s.port, "/mqtt", offered);
      ok(head.startsWith("HTTP/1.1 101 "), head);
      ok(head.includes(`sec-websocket-protocol: ${chosen}\r\n`), head);
    },
  );
}

Deno.test("Server.listen() with websocket upgrades a request that offers no subprotocol, answering none", async () => {
  await using s = await wsServer();
  const head = await handshake(s.port, "/mqtt", undefined);
  ok(head.startsWith("HTTP/1.1 101 "), head);
  ok(!head.includes("sec-websocket-protocol"), head);
});

Deno.test("Server.listen() with websocket refuses a request offering only other subprotocols with 400", async () => {
  await using s = await wsServer();
  const head = await handshake(s.port, "/mqtt", "chat,superchat");
  ok(head.startsWith("HTTP/1.1 400 "), head);
});

Deno.test("Server.listen() with websocket accepts a message up to maxPacketSize, in fragments", async () => {
  await using s = await wsServer();
  using ws = await RawWs.open(s.port);
  await ws.send(0x2, CONNECT.subarray(0, 5), { fin: false });
  await ws.send(0x9, new TextEncoder().encode("hi"));
  await ws.send(0x0, CONNECT.subarray(5));
  deepStrictEqual(await ws.next(), {
    opcode: 0xa,
    payload: new TextEncoder().encode("hi"),
  });
  deepStrictEqual(await ws.next(), {
    opcode: 0x2,
    payload: Uint8Array.of(0x20, 0x02, 0x00, 0x00),
  });
  // The client closes: the server answers with the same code and ends.
  await ws.send(0x8, Uint8Array.of(0x03, 0xe8));
  const frame = await ws.next();
  strictEqual(frame?.opcode, 0x8);
  strictEqual(closeCode(frame), 1000);
  ok(await ws.ended() < 1000);
});

Deno.test("Server.listen() with websocket refuses an unmasked frame with close 1002", async () => {
  await using s = await wsServer();
  using ws = await RawWs.open(s.port);
  await ws.send(0x2, CONNECT, { masked: false });
  const frame = await ws.next();
  strictEqual(closeCode(frame), 1002);
  // What the client sends after the error is dropped; its end closes the
  // socket at once.
  await ws.send(0x8, Uint8Array.of(0x03, 0xea));
  await ws.conn.closeWrite();
  ok(await ws.ended() < 1000);
});

Deno.test("Server.listen() with websocket closes the socket of a client that never sends CONNECT, even if it never answers the close frame", async () => {
  const clock = new FakeClock();
  await using s = await wsServer({
    connectTimeout: 1,
    now: clock.now,
    sweepInterval: 5,
  });
  using ws = await RawWs.open(s.port);
  await waitFor(() => s.server.metrics().connectionsCurrent === 1);
  // Sweeps run; the connect timeout has not passed.
  clock.advance(999);
  await sleep(30);
  strictEqual(s.server.metrics().connectionsCurrent, 1);
  clock.advance(1);
  const frame = await ws.next();
  const start = performance.now();
  strictEqual(frame?.opcode, 0x8);
  await ws.ended();
  const ms = performance.now() - start;
  // The 2 s close grace, since the client never answers the close frame.
  ok(ms > 1500 && ms < 5000, `closed ${ms} ms after the close frame`);
  strictEqual(s.server.metrics().connectionsCurrent ?? 0, 0);
});

Deno.test("Server.listen() with websocket closes a partial upgrade request after connectTimeout", async () => {
  await using s = await wsServer({ connectTimeout: 1 });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await conn.write(new TextEncoder().encode("GET /mqtt HTTP/1.1\r\nHost"));
  const start = performance.now();
  strictEqual(await conn.read(new Uint8Array(16)).catch(() => null), null);
  const ms = performance.now() - start;
  ok(ms > 800 && ms < 3000, `closed after ${ms} ms`);
});
