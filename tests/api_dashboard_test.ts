/**
 * The API endpoints behind the web dashboard, over real HTTP: its files
 * (content types, CSP, ETag, no credentials, off with `dashboard: false`),
 * the live overview stream, the watch stream with its rate limit and its
 * cap, and the searches the pages use.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  apiHandler,
  type ApiOptions,
  serveApi,
  Server,
  type ServerOptions,
} from "../mod.ts";
import { startServer, type TcpTestServer } from "./_client.ts";
import { RecordingBus } from "./_core_fakes.ts";
import {
  publish as publishPacket,
  subscribe,
} from "../packets/testdata/packets.ts";

const TOKEN = "s3cret";
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Broker extends AsyncDisposable {
  readonly mqtt: TcpTestServer;
  readonly base: string;
  shutdownApi(): Promise<void>;
}

async function startBroker(
  api: ApiOptions = {},
  options: ServerOptions = {},
): Promise<Broker> {
  const mqtt = await startServer({ sys: { interval: 0 }, ...options });
  const http = serveApi(mqtt.server, { port: 0, token: TOKEN, ...api });
  return {
    mqtt,
    base: `http://127.0.0.1:${http.address.port}`,
    shutdownApi: () => http.shutdown(),
    async [Symbol.asyncDispose]() {
      await http.shutdown();
      await mqtt.server.stop({ timeout: 2000 });
    },
  };
}

/** One server-sent event. */
interface ServerEvent {
  event: string;
  // deno-lint-ignore no-explicit-any -- JSON events are checked field by field
  data: any;
}

/** Reads the events of an event stream response one by one. */
class Events implements AsyncDisposable {
  readonly response: Response;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(response: Response) {
    this.response = response;
    this.#reader = response.body!.pipeThrough(new TextDecoderStream())
      .getReader();
  }

  /** The next event; throws after `timeout` ms or at the end of the stream. */
  async next(timeout = 3000): Promise<ServerEvent> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const lines = block.split("\n");
        const data = lines.filter((l) => l.startsWith("data: "));
        if (data.length === 0) continue; // A keep-alive comment.
        return {
          event: lines.find((l) => l.startsWith("event: "))!.slice(7),
          data: JSON.parse(data.map((l) => l.slice(6)).join("\n")),
        };
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const result = await Promise.race([
        this.#reader.read(),
        new Promise<"late">((resolve) =>
          timer = setTimeout(() => resolve("late"), deadline - Date.now())
        ),
      ]);
      clearTimeout(timer);
      if (result === "late") throw new Error(`No event in ${timeout} ms`);
      if (result.done) throw new Error("The stream ended");
      this.#buffer += result.value;
    }
  }

  /** Whether the stream ends (the server closed it) within `timeout` ms. */
  async ends(timeout = 3000): Promise<boolean> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const result = await Promise.race([
        this.#reader.read().catch(() => ({ done: true as const })),
        new Promise<"late">((resolve) =>
          timer = setTimeout(() => resolve("late"), deadline - Date.now())
        ),
      ]);
      clearTimeout(timer);
      if (result === "late") return false;
      if (result.done) return true;
    }
    return false;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

async function events(
  url: string,
  headers: Record<string, string> = AUTH,
): Promise<Events> {
  const response = await fetch(url, { headers });
  strictEqual(response.status, 200, await peek(response));
  strictEqual(
    response.headers.get("content-type"),
    "text/event-stream; charset=utf-8",
  );
  return new Events(response);
}

/** The body of a response that is not a stream, for assertion messages. */
async function peek(response: Response): Promise<string> {
  if (response.status === 200) return "";
  return await response.text();
}

/** Connects an MQTT client with this id (3.1.1 unless told). */
async function connectPublisher(
  b: Broker,
  clientId: string,
  protocolVersion: 4 | 5 = 4,
) {
  const { client } = await b.mqtt.connect({ clientId, protocolVersion });
  return client;
}

Deno.test("apiHandler() serves the dashboard at /ui/ without credentials, with content types, a CSP and an ETag", async () => {
  await using b = await startBroker();
  for (const path of ["/", "/ui"]) {
    const response = await fetch(b.base + path, { redirect: "manual" });
    strictEqual(response.status, 302);
    strictEqual(response.headers.get("location"), "ui/");
    await response.body?.cancel();
  }
  const types: Record<string, string> = {
    "/ui/": "text/html; charset=utf-8",
    "/ui/index.html": "text/html; charset=utf-8",
    "/ui/style.css": "text/css; charset=utf-8",
    "/ui/app.js": "text/javascript; charset=utf-8",
    "/ui/chart.js": "text/javascript; charset=utf-8",
    "/ui/favicon.svg": "image/svg+xml",
  };
  for (const [path, type] of Object.entries(types)) {
    const response = await fetch(b.base + path);
    strictEqual(response.status, 200, path);
    strictEqual(response.headers.get("content-type"), type, path);
    const csp = response.headers.get("content-security-policy") ?? "";
    ok(csp.startsWith("default-src 'self'"), csp);
    ok(!csp.includes("unsafe-inline"), csp);
    strictEqual(response.headers.get("x-content-type-options"), "nosniff");
    const body = await response.text();
    ok(body.length > 100, path);
    if (type.startsWith("text/html")) {
      // No inline script or style: the CSP would block them.
      ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(body), "inline script");
      ok(!/<style|\sstyle=/.test(body), "inline style");
    }
    const etag = response.headers.get("etag")!;
    const again = await fetch(b.base + path, {
      headers: { "if-none-match": etag },
    });
    strictEqual(again.status, 304, path);
    await again.body?.cancel();
  }
  const head = await fetch(`${b.base}/ui/app.js`, { method: "HEAD" });
  strictEqual(head.status, 200);
  await head.body?.cancel();
  const post = await fetch(`${b.base}/ui/app.js`, { method: "POST" });
  strictEqual(post.status, 405);
  await post.body?.cancel();
  const missing = await fetch(`${b.base}/ui/..%2F..%2F_dashboard.ts`);
  strictEqual(missing.status, 404);
  await missing.body?.cancel();
  const unknown = await fetch(`${b.base}/ui/secrets.js`);
  strictEqual(unknown.status, 404);
  await unknown.body?.cancel();
  // The data behind it still asks for the token.
  const data = await fetch(`${b.base}/api/v1/broker`);
  strictEqual(data.status, 401);
  await data.body?.cancel();
});

Deno.test("apiHandler() with dashboard: false serves no dashboard", async () => {
  await using b = await startBroker({ dashboard: false });
  for (const path of ["/", "/ui/", "/ui/app.js"]) {
    const response = await fetch(b.base + path, {
      headers: AUTH,
      redirect: "manual",
    });
    strictEqual(response.status, 404, path);
    await response.body?.cancel();
  }
});

Deno.test("apiHandler() asks for the credential on the stats and watch streams", async () => {
  await using b = await startBroker({
    basic: { username: "ops", password: "pw" },
  });
  for (const path of ["/api/v1/stats/stream", "/api/v1/watch?filter=%23"]) {
    const denied = await fetch(b.base + path);
    strictEqual(denied.status, 401, path);
    deepStrictEqual((await denied.json()).field, "authorization");
    const wrong = await fetch(b.base + path, {
      headers: { authorization: "Bearer nope" },
    });
    strictEqual(wrong.status, 401, path);
    await wrong.body?.cancel();
    await using basic = await events(b.base + path, {
      authorization: `Basic ${btoa("ops:pw")}`,
    });
    ok((await basic.next()).event !== "");
  }
});

Deno.test("GET /api/v1/stats/stream sends the overview at once and then once a second, with rates from the metrics", async () => {
  await using b = await startBroker();
  await using stats = await events(`${b.base}/api/v1/stats/stream`);
  const first = await stats.next();
  strictEqual(first.event, "stats");
  strictEqual(first.data.connections, 0);
  deepStrictEqual(first.data.sessions, { online: 0, offline: 0 });
  deepStrictEqual(first.data.perSecond, {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    dropped: 0,
  });

  const sub = await connectPublisher(b, "sub");
  await sub.send(subscribe({ subscriptions: [["t/#", 0]] }));
  await sub.next();
  const pub = await connectPublisher(b, "pub");
  for (let i = 0; i < 5; i++) {
    await pub.send(
      publishPacket({ topic: `t/${i}`, payload: "x", retain: i === 0 }),
    );
  }
  for (let i = 0; i < 5; i++) await sub.next();

  // Frames until one has seen the messages.
  let frame = await stats.next(2500);
  while (frame.data.totals.messagesIn < 5) frame = await stats.next(2500);
  const { data } = frame;
  strictEqual(data.connections, 2);
  deepStrictEqual(data.sessions, { online: 2, offline: 0 });
  strictEqual(data.subscriptions, 1);
  strictEqual(data.retained, 1);
  strictEqual(data.totals.messagesIn, 5);
  strictEqual(data.totals.messagesOut, 5);
  ok(data.perSecond.messagesIn > 0, JSON.stringify(data.perSecond));
  ok(data.perSecond.bytesIn > 0);
  ok(data.totals.bytesOut > 0);
  strictEqual(data.dropped.queue_full, 0);
  ok(Date.parse(data.time) > 0);
  // The next frame comes about a second later.
  const before = Date.now();
  await stats.next(2500);
  ok(Date.now() - before > 500);
  await sub.close();
  await pub.close();
});

Deno.test("GET /api/v1/watch streams the messages routed to a filter with their flags and properties", async () => {
  await using b = await startBroker();
  await using watch = await events(
    `${b.base}/api/v1/watch?filter=${encodeURIComponent("w/+")}`,
  );
  deepStrictEqual((await watch.next()).data, {
    filter: "w/+",
    rate: 50,
    payloadLimit: 16384,
  });
  const pub = await connectPublisher(b, "pub", 5);
  await pub.send(publishPacket({ topic: "other", payload: "not shown" }, 5));
  await pub.send(publishPacket({
    topic: "w/text",
    payload: "hello",
    qos: 1,
    packetId: 1,
    retain: true,
    properties: {
      contentType: "text/plain",
      correlationData: Uint8Array.of(1, 2),
      userProperties: [["k", "v"]],
    },
  }, 5));
  await pub.next();
  await pub.send(publishPacket({
    topic: "w/bin",
    payload: Uint8Array.of(0xff, 0x00),
  }, 5));
  const text = await watch.next();
  strictEqual(text.event, "message");
  const { time, ...rest } = text.data;
  ok(Date.parse(time) > 0);
  deepStrictEqual(rest, {
    topic: "w/text",
    payload: "hello",
    encoding: "utf8",
    size: 5,
    truncated: false,
    qos: 1,
    retain: true,
    publisher: "pub",
    properties: {
      contentType: "text/plain",
      correlationData: "AQI=",
      userProperties: [["k", "v"]],
    },
  });
  const binary = await watch.next();
  strictEqual(binary.data.topic, "w/bin");
  strictEqual(binary.data.payload, "/wA=");
  strictEqual(binary.data.encoding, "base64");
  // The API's own publish is watched too; a long payload is cut.
  const long = "é".repeat(10_000);
  const published = await fetch(`${b.base}/api/v1/publish`, {
    method: "POST",
    headers: AUTH,
    body: JSON.stringify({ topic: "w/long", payload: long }),
  });
  strictEqual(published.status, 200);
  await published.body?.cancel();
  const cut = await watch.next();
  strictEqual(cut.data.truncated, true);
  strictEqual(cut.data.size, 20_000);
  strictEqual(cut.data.encoding, "utf8");
  strictEqual(cut.data.payload, "é".repeat(8192));
  strictEqual(cut.data.publisher, null);
  await pub.close();
});

Deno.test("GET /api/v1/watch refuses a missing, invalid or shared filter with 400 naming it", async () => {
  await using b = await startBroker();
  for (const query of ["", "?filter=a/%23/b", "?filter=%24share/g/a"]) {
    const response = await fetch(`${b.base}/api/v1/watch${query}`, {
      headers: AUTH,
    });
    strictEqual(response.status, 400, query);
    strictEqual((await response.json()).field, "filter", query);
  }
});

Deno.test("GET /api/v1/watch sends at most watchRate messages a second and reports the rest as skipped", async () => {
  await using b = await startBroker({ watchRate: 3 });
  await using watch = await events(`${b.base}/api/v1/watch?filter=r`);
  strictEqual((await watch.next()).data.rate, 3);
  const pub = await connectPublisher(b, "pub");
  for (let i = 0; i < 10; i++) {
    await pub.send(publishPacket({ topic: "r", payload: `${i}` }));
  }
  const got: string[] = [];
  let skipped = 0;
  while (got.length + skipped < 10) {
    const e = await watch.next(2500);
    if (e.event === "message") got.push(e.data.payload);
    if (e.event === "skipped") skipped += e.data.skipped;
  }
  deepStrictEqual(got, ["0", "1", "2"]);
  strictEqual(skipped, 7);
  // A new second brings a new budget.
  await pub.send(publishPacket({ topic: "r", payload: "later" }));
  strictEqual((await watch.next(2500)).data.payload, "later");
  await pub.close();
});

Deno.test("GET /api/v1/watch opens at most maxWatchStreams streams, and a closed one leaves the server's routing", async () => {
  const bus = new RecordingBus();
  await using b = await startBroker({ maxWatchStreams: 1 }, { bus });
  const first = await events(`${b.base}/api/v1/watch?filter=a/%23`);
  await first.next();
  deepStrictEqual(bus.interest, ["+a/#"]);
  const refused = await fetch(`${b.base}/api/v1/watch?filter=b`, {
    headers: AUTH,
  });
  strictEqual(refused.status, 429);
  ok((await refused.json()).error.includes("maxWatchStreams"));
  await first[Symbol.asyncDispose]();
  // The server sees the client go, removes the watch and frees the slot.
  const deadline = Date.now() + 3000;
  while (bus.interest.length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  deepStrictEqual(bus.interest, ["+a/#", "-a/#"]);
  await using second = await events(`${b.base}/api/v1/watch?filter=b`);
  strictEqual((await second.next()).event, "ready");
});

Deno.test("ApiServer.shutdown() ends the open stats and watch streams", async () => {
  await using b = await startBroker();
  await using stats = await events(`${b.base}/api/v1/stats/stream`);
  await using watch = await events(`${b.base}/api/v1/watch?filter=%23`);
  await stats.next();
  await watch.next();
  const start = Date.now();
  await b.shutdownApi();
  ok(Date.now() - start < 2000);
  strictEqual(await stats.ends(), true);
  strictEqual(await watch.ends(), true);
});

Deno.test("GET /api/v1/subscriptions?search= keeps those whose client id or filter holds the text", async () => {
  await using b = await startBroker();
  const a = await connectPublisher(b, "kitchen-1");
  await a.send(
    subscribe({ subscriptions: [["home/+/temp", 0], ["alerts", 1]] }),
  );
  await a.next();
  const search = async (text: string) => {
    const response = await fetch(
      `${b.base}/api/v1/subscriptions?search=${encodeURIComponent(text)}`,
      { headers: AUTH },
    );
    const body = await response.json();
    return body.items.map((s: { topicFilter: string }) => s.topicFilter)
      .sort();
  };
  deepStrictEqual(await search("temp"), ["home/+/temp"]);
  deepStrictEqual(await search("kitchen"), ["alerts", "home/+/temp"]);
  deepStrictEqual(await search("nothing"), []);
  await a.close();
});

Deno.test("GET /api/v1/clients finds an offline client by the user name its session keeps", async () => {
  await using b = await startBroker();
  const { client } = await b.mqtt.connect({
    clientId: "away",
    username: "alice",
    clean: false,
  });
  await client.send({ type: "disconnect" });
  await client.closed();
  const response = await fetch(
    `${b.base}/api/v1/clients?username=alice&connected=false`,
    { headers: AUTH },
  );
  const body = await response.json();
  deepStrictEqual(
    body.items.map((c: { clientId: string; username: string }) => [
      c.clientId,
      c.username,
    ]),
    [["away", "alice"]],
  );
});

Deno.test("apiHandler() serves every file of src/api/dashboard/", async () => {
  await using b = await startBroker();
  const folder = new URL("../src/api/dashboard/", import.meta.url);
  let files = 0;
  for await (const entry of Deno.readDir(folder)) {
    const response = await fetch(`${b.base}/ui/${entry.name}`);
    strictEqual(response.status, 200, entry.name);
    deepStrictEqual(
      new Uint8Array(await response.arrayBuffer()),
      await Deno.readFile(new URL(entry.name, folder)),
      entry.name,
    );
    files++;
  }
  ok(files >= 10);
});

Deno.test("serveApi() serves the dashboard when the package is loaded from an http(s) URL, as from JSR", async () => {
  const root = new URL("../", import.meta.url);
  const types: Record<string, string> = {
    ts: "application/typescript",
    js: "text/javascript",
    json: "application/json",
  };
  // The checkout served over HTTP, as JSR serves the published files.
  await using files = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      try {
        const body = await Deno.readFile(new URL(`.${path}`, root));
        const ext = path.slice(path.lastIndexOf(".") + 1);
        return new Response(body, {
          headers: {
            "content-type": types[ext] ?? "application/octet-stream",
          },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const cache = await Deno.makeTempDir({ prefix: "gmqtt-deno-dir-" });
  try {
    const code = `
      const { Server, serveApi } = await import(
        "http://127.0.0.1:${files.addr.port}/mod.ts"
      );
      const api = serveApi(new Server(), { port: 0 });
      const response = await fetch(
        "http://127.0.0.1:" + api.address.port + "/ui/app.js",
      );
      console.log(response.status, (await response.text()).includes("VIEWS"));
      await api.shutdown();
    `;
    // Outside the checkout and without a lock file, which it must not touch.
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-lock", "--ext=ts", code],
      cwd: cache,
      env: { DENO_DIR: cache, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout);
    const err = new TextDecoder().decode(run.stderr);
    strictEqual(run.code, 0, err);
    strictEqual(out.trim(), "200 true", err);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("apiHandler() refuses a watch limit that is not a positive integer", () => {
  const server = new Server();
  for (const options of [{ watchRate: 0 }, { maxWatchStreams: 1.5 }]) {
    throws(() => apiHandler(server, options), RangeError);
  }
});
