/**
 * The HTTP/1.1 server under the API and the WebSocket listener: timeouts,
 * limits, keep-alive and streaming responses, over real sockets.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { silentLogger } from "../src/observe/logger.ts";
import { type HttpLimits, HttpServer } from "../src/transport/http1.ts";

function serveHttp(
  handler: (request: Request) => Response | Promise<Response>,
  limits: Partial<HttpLimits> = {},
): HttpServer & AsyncDisposable {
  const server = new HttpServer(
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
    { name: "test", logger: silentLogger(), scheme: "http", handler, limits },
  );
  return Object.assign(server, {
    [Symbol.asyncDispose]: () => server.close(),
  });
}

/** Reads until the peer closes; resolves the text and the milliseconds it took. */
async function readToEnd(
  conn: Deno.Conn,
): Promise<{ text: string; ms: number }> {
  const start = performance.now();
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  while (true) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      break;
    }
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return {
    text: new TextDecoder().decode(bytes),
    ms: performance.now() - start,
  };
}

async function send(port: number, text: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(text));
  return conn;
}

const hello = () => new Response("hello\n");

Deno.test("HttpServer closes a partial request after the header timeout", async () => {
  await using server = serveHttp(hello, { headerTimeout: 150 });
  using idle = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.address.port,
  });
  using partial = await send(server.address.port, "GET / HTTP/1.1\r\nHo");
  const [a, b] = await Promise.all([readToEnd(idle), readToEnd(partial)]);
  strictEqual(a.text, "");
  strictEqual(b.text, "");
  ok(a.ms < 2000 && b.ms < 2000, `closed after ${a.ms} and ${b.ms} ms`);
  strictEqual(server.connections, 0);
});

Deno.test("HttpServer keeps a connection alive between requests, then closes it when idle", async () => {
  let calls = 0;
  await using server = serveHttp(() => {
    calls++;
    return new Response(`call ${calls}`);
  }, { idleTimeout: 150 });
  using conn = await send(
    server.address.port,
    "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const { text, ms } = await readToEnd(conn);
  strictEqual(text.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
  ok(text.includes("content-length: 6\r\n\r\ncall 1"));
  ok(text.includes("call 2"));
  ok(ms < 2000);
});

Deno.test("HttpServer honours Connection: close", async () => {
  await using server = serveHttp(hello);
  using conn = await send(
    server.address.port,
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  const { text } = await readToEnd(conn);
  ok(text.startsWith("HTTP/1.1 200 OK\r\n"));
  ok(text.includes("connection: close\r\n"));
  ok(text.endsWith("\r\n\r\nhello\n"));
});

Deno.test("HttpServer refuses a head too large with 431, a body too large with 413 and a chunked body with 411", async () => {
  await using server = serveHttp(hello, {
    maxHeaderBytes: 1024,
    maxBodyBytes: 10,
  });
  const port = server.address.port;
  const status = async (text: string) => {
    using conn = await send(port, text);
    return (await readToEnd(conn)).text.split("\r\n")[0];
  };
  strictEqual(
    await status(`GET / HTTP/1.1\r\nX: ${"a".repeat(2000)}\r\n\r\n`),
    "HTTP/1.1 431 Request Header Fields Too Large",
  );
  strictEqual(
    await status("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"),
    "HTTP/1.1 413 Content Too Large",
  );
  strictEqual(
    await status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
    "HTTP/1.1 411 Length Required",
  );
  strictEqual(await status("GARBAGE\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  strictEqual(
    await status("GET / HTTP/2.0\r\n\r\n"),
    "HTTP/1.1 505 HTTP Version Not Supported",
  );
});

Deno.test("HttpServer hands the handler a Request with URL, headers and body", async () => {
  let seen: [string, string, string | null, string] | undefined;
  await using server = serveHttp(async (request) => {
    seen = [
      request.method,
      request.url,
      request.headers.get("x-test"),
      await request.text(),
    ];
    return new Response(null, { status: 204 });
  });
  using conn = await send(
    server.address.port,
    "POST /p?q=1 HTTP/1.1\r\nHost: example:1\r\nX-Test: yes\r\n" +
      "Content-Length: 5\r\nConnection: close\r\n\r\nhello",
  );
  const { text } = await readToEnd(conn);
  ok(text.startsWith("HTTP/1.1 204 No Content\r\n"));
  deepStrictEqual(seen, ["POST", "http://example:1/p?q=1", "yes", "hello"]);
});

Deno.test("HttpServer streams a body chunked and cancels it when the client goes away", async () => {
  const { promise: cancelled, resolve: onCancel } = Promise.withResolvers<
    void
  >();
  await using server = serveHttp(() => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: 1\n\n"));
      },
      cancel() {
        onCancel();
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream" },
    });
  });
  const conn = await send(
    server.address.port,
    "GET /events HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const buffer = new Uint8Array(1024);
  let text = "";
  while (!text.includes("data: 1")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  ok(text.includes("transfer-encoding: chunked\r\n"));
  ok(text.includes("9\r\ndata: 1\n\n\r\n"));
  conn.close();
  await cancelled;
});

Deno.test("HttpServer closes connections past maxConnections at once", async () => {
  await using server = serveHttp(hello, { maxConnections: 1 });
  const port = server.address.port;
  using first = await Deno.connect({ hostname: "127.0.0.1", port });
  // Let the server count the first connection.
  await first.write(new TextEncoder().encode("G"));
  using second = await Deno.connect({ hostname: "127.0.0.1", port });
  strictEqual((await readToEnd(second)).text, "");
  strictEqual(server.connections, 1);
});

/** A response body that sends an event now and then, until cancelled. */
function eventStream(
  every: number,
  onCancel: () => void,
): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setInterval> | undefined;
  let n = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = () =>
        controller.enqueue(new TextEncoder().encode(`data: ${n++}\n\n`));
      send();
      timer = setInterval(send, every);
    },
    cancel() {
      clearInterval(timer);
      onCancel();
    },
  });
}

/** Reads from a connection until the text read so far holds `wanted`. */
async function readUntil(conn: Deno.Conn, wanted: string): Promise<string> {
  const buffer = new Uint8Array(1024);
  let text = "";
  while (!text.includes(wanted)) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`Closed before ${JSON.stringify(wanted)}`);
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text;
}

Deno.test("HttpServer keeps a streaming response open past the header and idle timeouts", async () => {
  const { promise: cancelled, resolve: onCancel } = Promise.withResolvers<
    void
  >();
  await using server = serveHttp(
    () =>
      new Response(eventStream(100, onCancel), {
        headers: { "content-type": "text/event-stream" },
      }),
    { headerTimeout: 100, idleTimeout: 100 },
  );
  using conn = await send(
    server.address.port,
    "GET /events HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const start = performance.now();
  // Six events at 100 ms apart: three times both timeouts.
  const text = await readUntil(conn, "data: 5\n\n");
  ok(performance.now() - start >= 300);
  ok(text.startsWith("HTTP/1.1 200 OK\r\n"));
  ok(text.includes("content-type: text/event-stream\r\n"));
  strictEqual(server.connections, 1);
  conn.close();
  await cancelled;
});

Deno.test("HttpServer.close() ends open streaming responses at once and cancels their bodies", async () => {
  let cancels = 0;
  const server = serveHttp(() =>
    new Response(eventStream(60_000, () => cancels++), {
      headers: { "content-type": "text/event-stream" },
    })
  );
  const conns = await Promise.all(
    [1, 2].map(() =>
      send(server.address.port, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    ),
  );
  for (const conn of conns) await readUntil(conn, "data: 0\n\n");
  const start = performance.now();
  await server.close();
  ok(
    performance.now() - start < 1000,
    `closed in ${performance.now() - start} ms`,
  );
  strictEqual(cancels, 2);
  for (const conn of conns) {
    // The chunked body is ended properly, then the connection closes.
    const { text } = await readToEnd(conn);
    strictEqual(text, "0\r\n\r\n");
    conn.close();
  }
  strictEqual(server.connections, 0);
});

Deno.test("HttpServer.close() closes a streaming response whose client stopped reading", async () => {
  let produced = 0;
  const chunk = new Uint8Array(64 * 1024);
  const server = serveHttp(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          produced += chunk.length;
          controller.enqueue(chunk);
        },
      }),
    )
  );
  using _conn = await send(
    server.address.port,
    "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  // The socket buffers fill up: the server's write waits for a reader.
  let last = -1;
  while (produced !== last) {
    last = produced;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const start = performance.now();
  await server.close();
  const ms = performance.now() - start;
  ok(ms < 3000, `closed in ${ms} ms`);
  strictEqual(server.connections, 0);
});
