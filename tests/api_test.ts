/**
 * The HTTP API over real HTTP (`fetch`), against a broker with raw MQTT
 * clients connected: what it reports matches what the clients did.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  encodePacket,
  type Packet,
  type ProtocolVersion,
  type PublishPacket,
} from "../packets/mod.ts";
import {
  type ApiOptions,
  type Hooks,
  type Message,
  serveApi,
  type ServerOptions,
} from "../mod.ts";
import { startServer, type TcpTestServer, TestClient } from "./_client.ts";
import { parsePrometheus, sampleValue } from "./_prometheus_grammar.ts";

/** A broker with the API in front of it, both stopped by `await using`. */
interface Broker extends AsyncDisposable {
  readonly mqtt: TcpTestServer;
  /** Calls the API; returns the status and the parsed JSON (or text) body. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Json; headers: Headers }>;
}

// deno-lint-ignore no-explicit-any -- JSON answers are checked field by field
type Json = any;

async function startBroker(
  options: ServerOptions = {},
  api: ApiOptions = {},
): Promise<Broker> {
  const mqtt = await startServer({ sys: { interval: 0 }, ...options });
  const http = serveApi(mqtt.server, { port: 0, ...api });
  const base = `http://127.0.0.1:${http.address.port}`;
  return {
    mqtt,
    async call(method, path, body, headers = {}) {
      const response = await fetch(base + path, {
        method,
        headers,
        ...(body === undefined
          ? {}
          : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      const type = response.headers.get("content-type") ?? "";
      return {
        status: response.status,
        body: type.startsWith("application/json") ? JSON.parse(text) : text,
        headers: response.headers,
      };
    },
    async [Symbol.asyncDispose]() {
      await http.shutdown();
      await mqtt.server.stop({ timeout: 2000 });
    },
  };
}

/** A test client that counts the packets and bytes it sends. */
class Counted implements AsyncDisposable {
  readonly client: TestClient;
  readonly version: ProtocolVersion;
  packetsSent = 0;
  bytesSent = 0;
  publishBytesSent = 0;

  private constructor(client: TestClient, version: ProtocolVersion) {
    this.client = client;
    this.version = version;
  }

  static async connect(
    port: number,
    clientId: string,
    fields: {
      protocolVersion?: ProtocolVersion;
      username?: string;
      clean?: boolean;
      keepAlive?: number;
      sessionExpiryInterval?: number;
    } = {},
  ): Promise<Counted> {
    const version = fields.protocolVersion ?? 4;
    const connect = {
      type: "connect" as const,
      protocolName: "MQTT",
      protocolVersion: version,
      clean: fields.clean ?? true,
      keepAlive: fields.keepAlive ?? 0,
      clientId,
      ...(fields.username !== undefined ? { username: fields.username } : {}),
      ...(version === 5
        ? {
          properties: fields.sessionExpiryInterval === undefined
            ? {}
            : { sessionExpiryInterval: fields.sessionExpiryInterval },
        }
        : {}),
    };
    const { client, connack } = await TestClient.connect(port, connect);
    strictEqual(connack.reasonCode, 0);
    const counted = new Counted(client, version);
    counted.#count(connect);
    return counted;
  }

  #count(packet: Packet): void {
    const bytes = encodePacket(packet, this.version).length;
    this.packetsSent++;
    this.bytesSent += bytes;
    if (packet.type === "publish") this.publishBytesSent += bytes;
  }

  async send(packet: Packet): Promise<void> {
    this.#count(packet);
    await this.client.send(packet);
  }

  /** Sends a PINGREQ and waits for its PINGRESP: what came before is done. */
  async sync(): Promise<void> {
    await this.send({ type: "pingreq" });
    deepStrictEqual(await this.client.next(), { type: "pingresp" });
  }

  async subscribe(topicFilter: string, qos: 0 | 1 | 2): Promise<void> {
    await this.send({
      type: "subscribe",
      packetId: 1,
      subscriptions: [{ topicFilter, qos }],
      ...(this.version === 5 ? { properties: {} } : {}),
    });
    const suback = await this.client.next();
    strictEqual(suback.type, "suback");
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.send({
      type: "publish",
      topic,
      payload: new TextEncoder().encode(payload),
      qos: 0,
      retain: false,
      dup: false,
      ...(this.version === 5 ? { properties: {} } : {}),
    });
  }

  async disconnect(): Promise<void> {
    await this.send({ type: "disconnect" });
    await this.client.closed();
  }

  /** The next packet, which must be a PUBLISH. */
  async nextPublish(): Promise<PublishPacket> {
    const packet = await this.client.next();
    if (packet.type !== "publish") {
      throw new Error(`Expected PUBLISH, got ${packet.type}`);
    }
    return packet;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.client.close();
  }
}

const ADDRESS = /^127\.0\.0\.1:\d+$/;

Deno.test("apiHandler() lists clients as they connected, filtered and paginated", async () => {
  await using b = await startBroker();
  await using alpha = await Counted.connect(b.mqtt.port, "alpha", {
    protocolVersion: 5,
    username: "alice",
    clean: false,
    keepAlive: 30,
    sessionExpiryInterval: 3600,
  });
  await using beta = await Counted.connect(b.mqtt.port, "beta", {
    username: "bob",
  });
  await using gamma = await Counted.connect(b.mqtt.port, "gamma", {
    clean: false,
  });
  await gamma.subscribe("g/+", 1);
  await gamma.disconnect();

  const all = await b.call("GET", "/api/v1/clients");
  strictEqual(all.status, 200);
  strictEqual(all.body.total, 3);
  deepStrictEqual(
    all.body.items.map((c: Json) => [c.clientId, c.connected, c.username]),
    [["alpha", true, "alice"], ["beta", true, "bob"], ["gamma", false, null]],
  );
  const ids = async (query: string) =>
    (await b.call("GET", `/api/v1/clients?${query}`)).body.items.map((
      c: Json,
    ) => c.clientId);
  deepStrictEqual(await ids("connected=true"), ["alpha", "beta"]);
  deepStrictEqual(await ids("connected=false"), ["gamma"]);
  deepStrictEqual(await ids("prefix=al"), ["alpha"]);
  deepStrictEqual(await ids("username=bob"), ["beta"]);
  deepStrictEqual(await ids("limit=1&offset=1"), ["beta"]);
  const paged = await b.call("GET", "/api/v1/clients?limit=2&offset=2");
  deepStrictEqual(
    [paged.body.total, paged.body.offset, paged.body.limit],
    [3, 2, 2],
  );
  await alpha.sync();
  await beta.sync();
});

Deno.test("apiHandler() reports one client's details and traffic as the client made it", async () => {
  await using b = await startBroker({ maxInflight: 7, maxQueuedMessages: 50 });
  await using alpha = await Counted.connect(b.mqtt.port, "alpha", {
    protocolVersion: 5,
    username: "alice",
    clean: false,
    keepAlive: 30,
    sessionExpiryInterval: 3600,
  });
  await using beta = await Counted.connect(b.mqtt.port, "beta");
  await alpha.subscribe("a/#", 0);
  for (let i = 0; i < 3; i++) await beta.publish("a/x", `m${i}`);
  await beta.sync();
  for (let i = 0; i < 3; i++) await alpha.nextPublish();
  await alpha.sync();

  const { status, body } = await b.call("GET", "/api/v1/clients/alpha");
  strictEqual(status, 200);
  ok(ADDRESS.test(body.remoteAddress), body.remoteAddress);
  strictEqual(body.localAddress, `127.0.0.1:${b.mqtt.port}`);
  ok(Date.parse(body.connectedAt) <= Date.now());
  // CONNECT, SUBSCRIBE, PINGREQ in; CONNACK, SUBACK, 3 PUBLISH, PINGRESP out.
  deepStrictEqual(
    { ...body, remoteAddress: "", connectedAt: "" },
    {
      clientId: "alpha",
      connected: true,
      node: null,
      username: "alice",
      protocolVersion: 5,
      transport: "tcp",
      listener: b.mqtt.server.addresses[0]!.name,
      remoteAddress: "",
      localAddress: `127.0.0.1:${b.mqtt.port}`,
      keepAlive: 30,
      cleanSession: false,
      sessionExpiryInterval: 3600,
      connectedAt: "",
      disconnectedAt: null,
      inflight: 0,
      inflightLimit: 7,
      queued: 0,
      queueLimit: 50,
      subscriptions: 1,
      bytesIn: alpha.bytesSent,
      bytesOut: body.bytesOut,
      packetsIn: alpha.packetsSent,
      packetsOut: 6,
      messagesIn: 0,
      messagesOut: 3,
      messagesDropped: 0,
    },
  );
  ok(body.bytesOut > 0);
  const betaView = (await b.call("GET", "/api/v1/clients/beta")).body;
  deepStrictEqual(
    [betaView.packetsIn, betaView.bytesIn, betaView.messagesIn],
    [beta.packetsSent, beta.bytesSent, 3],
  );
  deepStrictEqual(
    await b.call("GET", "/api/v1/clients/nobody").then((
      r,
    ) => [r.status, r.body.field]),
    [404, "clientId"],
  );
});

Deno.test("apiHandler() kicks a client, and with discardSession ends its session", async () => {
  await using b = await startBroker();
  await using alpha = await Counted.connect(b.mqtt.port, "alpha", {
    clean: false,
  });
  await using beta = await Counted.connect(b.mqtt.port, "beta", {
    clean: false,
  });
  const kicked = await b.call("POST", "/api/v1/clients/alpha/kick");
  deepStrictEqual([kicked.status, kicked.body.kicked], [200, true]);
  await alpha.client.closed();
  // The persistent session stays, offline.
  const offline = await b.call("GET", "/api/v1/clients/alpha");
  deepStrictEqual([offline.body.connected, offline.body.clientId], [
    false,
    "alpha",
  ]);
  ok(offline.body.disconnectedAt !== null);

  const gone = await b.call("POST", "/api/v1/clients/beta/kick", {
    discardSession: true,
  });
  strictEqual(gone.status, 200);
  await beta.client.closed();
  strictEqual((await b.call("GET", "/api/v1/clients/beta")).status, 404);
  strictEqual((await b.call("GET", "/api/v1/sessions/beta")).status, 404);

  const discarded = await b.call("DELETE", "/api/v1/sessions/alpha");
  strictEqual(discarded.status, 200);
  strictEqual((await b.call("GET", "/api/v1/sessions/alpha")).status, 404);
  const unknown = await b.call("POST", "/api/v1/clients/nobody/kick");
  deepStrictEqual([unknown.status, unknown.body.field], [404, "clientId"]);
  const badFlag = await b.call("POST", "/api/v1/clients/x/kick", {
    discardSession: "yes",
  });
  deepStrictEqual([badFlag.status, badFlag.body.field], [
    400,
    "discardSession",
  ]);
});

Deno.test("apiHandler() shows sessions with their queue, offline ones included", async () => {
  await using b = await startBroker({ maxQueuedMessages: 2 });
  await using gamma = await Counted.connect(b.mqtt.port, "gamma", {
    clean: false,
  });
  await gamma.subscribe("g/+", 1);
  await gamma.disconnect();
  await using delta = await Counted.connect(b.mqtt.port, "delta");
  for (const n of [1, 2, 3]) {
    const r = await b.call("POST", "/api/v1/publish", {
      topic: `g/${n}`,
      payload: "x",
      qos: 1,
    });
    strictEqual(r.status, 200);
  }
  const list = await b.call("GET", "/api/v1/sessions");
  deepStrictEqual(
    list.body.items.map((s: Json) => [s.clientId, s.connected, s.queued]),
    [["delta", true, 0], ["gamma", false, 2]],
  );
  const { body } = await b.call("GET", "/api/v1/sessions/gamma");
  deepStrictEqual(
    { ...body, createdAt: "", disconnectedAt: "", expiresAt: "" },
    {
      clientId: "gamma",
      connected: false,
      createdAt: "",
      disconnectedAt: "",
      expiryInterval: 7200,
      expiresAt: "",
      inflight: 0,
      queued: 2,
      queueLimit: 2,
      subscriptions: [{
        clientId: "gamma",
        topicFilter: "g/+",
        qos: 1,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 0,
        shareName: null,
        subscriptionId: null,
      }],
    },
  );
  strictEqual(
    Date.parse(body.expiresAt) - Date.parse(body.disconnectedAt),
    7200_000,
  );
  const online = await b.call("GET", "/api/v1/sessions?connected=true");
  deepStrictEqual(online.body.items.map((s: Json) => s.clientId), ["delta"]);
  const metrics = parsePrometheus((await b.call("GET", "/metrics")).body);
  strictEqual(sampleValue(metrics, "gmqtt_queued_messages_current"), 2);
  strictEqual(
    sampleValue(metrics, "gmqtt_messages_dropped_by_reason_total", {
      reason: "queue_full",
    }),
    1,
  );
  await delta.sync();
});

Deno.test("apiHandler() lists subscriptions, by client and by matching topic", async () => {
  await using b = await startBroker();
  await using alpha = await Counted.connect(b.mqtt.port, "alpha");
  await using beta = await Counted.connect(b.mqtt.port, "beta");
  await alpha.subscribe("a/#", 1);
  await alpha.subscribe("x/y", 0);
  await beta.subscribe("a/+/c", 2);
  const filters = async (query: string) =>
    (await b.call("GET", `/api/v1/subscriptions${query}`)).body.items
      .map((s: Json) => `${s.clientId} ${s.topicFilter} ${s.qos}`).sort();
  deepStrictEqual(await filters(""), [
    "alpha a/# 1",
    "alpha x/y 0",
    "beta a/+/c 2",
  ]);
  deepStrictEqual(await filters("?clientId=beta"), ["beta a/+/c 2"]);
  deepStrictEqual(await filters("?topic=a/b/c"), [
    "alpha a/# 1",
    "beta a/+/c 2",
  ]);
  deepStrictEqual(await filters("?topic=a/b"), ["alpha a/# 1"]);
  deepStrictEqual(await filters("?topic=a/b/c&clientId=beta"), [
    "beta a/+/c 2",
  ]);
  const own = await b.call("GET", "/api/v1/clients/alpha/subscriptions");
  deepStrictEqual(own.body.map((s: Json) => s.topicFilter).sort(), [
    "a/#",
    "x/y",
  ]);
  const wild = await b.call("GET", "/api/v1/subscriptions?topic=a/%2B");
  deepStrictEqual([wild.status, wild.body.field], [400, "topic"]);
  const nobody = await b.call("GET", "/api/v1/subscriptions?clientId=zz");
  deepStrictEqual([nobody.status, nobody.body.field], [404, "clientId"]);
});

Deno.test("apiHandler() subscribes and unsubscribes on behalf of a client id", async () => {
  await using b = await startBroker();
  await using alpha = await Counted.connect(b.mqtt.port, "alpha");
  await using gamma = await Counted.connect(b.mqtt.port, "gamma", {
    clean: false,
  });
  await gamma.disconnect();
  const sub = await b.call("POST", "/api/v1/subscribe", {
    clientId: "alpha",
    topic: "z/#",
    qos: 1,
  });
  deepStrictEqual(sub.body.subscriptions, [{
    topic: "z/#",
    qos: 1,
    created: true,
  }]);
  await b.call("POST", "/api/v1/publish", { topic: "z/1", payload: "hey" });
  const got = await alpha.nextPublish();
  deepStrictEqual([got.topic, new TextDecoder().decode(got.payload)], [
    "z/1",
    "hey",
  ]);
  // An offline persistent session, several subscriptions at once.
  const many = await b.call("POST", "/api/v1/subscribe", {
    clientId: "gamma",
    subscriptions: [{ topic: "h/#", qos: 2 }, { topic: "i", qos: 0 }],
  });
  strictEqual(many.status, 200);
  deepStrictEqual(
    (await b.call("GET", "/api/v1/sessions/gamma")).body.subscriptions.map((
      s: Json,
    ) => `${s.topicFilter} ${s.qos}`).sort(),
    ["h/# 2", "i 0"],
  );
  const unsub = await b.call("POST", "/api/v1/unsubscribe", {
    clientId: "alpha",
    topics: ["z/#", "nope"],
  });
  deepStrictEqual(unsub.body.topics, [
    { topic: "z/#", removed: true },
    { topic: "nope", removed: false },
  ]);
  await b.call("POST", "/api/v1/publish", { topic: "z/1", payload: "hey" });
  await alpha.client.nothingPending();

  const bad: [unknown, number, string][] = [
    [{ topic: "a" }, 400, "clientId"],
    [{ clientId: "nobody", topic: "a" }, 404, "clientId"],
    [{ clientId: "alpha" }, 400, "topic"],
    [{ clientId: "alpha", topic: "a/#/b" }, 400, "topic"],
    [{ clientId: "alpha", topic: "a", qos: 3 }, 400, "qos"],
    [{ clientId: "alpha", topic: "a", qos: "high" }, 400, "qos"],
    [{ clientId: "alpha", subscriptions: "a" }, 400, "subscriptions"],
  ];
  for (const [body, status, field] of bad) {
    const r = await b.call("POST", "/api/v1/subscribe", body);
    deepStrictEqual(
      [r.status, r.body.field],
      [status, field],
      JSON.stringify(body),
    );
  }
  const noTopic = await b.call("POST", "/api/v1/unsubscribe", {
    clientId: "alpha",
  });
  deepStrictEqual([noTopic.status, noTopic.body.field], [400, "topic"]);
});

Deno.test("apiHandler() publishes text and base64 payloads through the hooks to subscribers", async () => {
  const seen: [string | undefined, string][] = [];
  const hooks: Hooks = {
    transformMessage(client, message: Message) {
      seen.push([client?.clientId, message.topic]);
    },
  };
  await using b = await startBroker({ hooks });
  await using alpha = await Counted.connect(b.mqtt.port, "alpha", {
    protocolVersion: 5,
  });
  await alpha.subscribe("p/#", 2);
  const text = await b.call("POST", "/api/v1/publish", {
    topic: "p/text",
    payload: "héllo",
    qos: 1,
    contentType: "text/plain",
    userProperties: { a: "b" },
  });
  deepStrictEqual([text.status, text.body], [200, { published: true }]);
  const first = await alpha.nextPublish();
  deepStrictEqual(
    [first.topic, new TextDecoder().decode(first.payload), first.qos],
    ["p/text", "héllo", 1],
  );
  strictEqual(first.properties?.contentType, "text/plain");
  deepStrictEqual(first.properties?.userProperties, [["a", "b"]]);
  await alpha.send({
    type: "puback",
    packetId: first.packetId!,
    reasonCode: 0,
    properties: {},
  });
  await b.call("POST", "/api/v1/publish", {
    topic: "p/bin",
    payload: "AAEC/w==",
    encoding: "base64",
  });
  const second = await alpha.nextPublish();
  deepStrictEqual(second.payload, Uint8Array.of(0, 1, 2, 255));
  deepStrictEqual(seen, [[undefined, "p/text"], [undefined, "p/bin"]]);
});

Deno.test("apiHandler() lists, finds and deletes retained messages", async () => {
  await using b = await startBroker();
  await b.call("POST", "/api/v1/publish", {
    topic: "r/1",
    payload: "one",
    retain: true,
  });
  await b.call("POST", "/api/v1/publish", {
    topic: "r/2",
    payload: "//79",
    encoding: "base64",
    retain: true,
  });
  await b.call("POST", "/api/v1/publish", {
    topic: "s",
    payload: "s",
    retain: true,
  });
  const list = await b.call("GET", "/api/v1/retained?filter=r/%2B");
  deepStrictEqual(
    list.body.items.map((m: Json) => [m.topic, m.payload, m.encoding]),
    [["r/1", "one", "utf8"], ["r/2", "//79", "base64"]],
  );
  strictEqual((await b.call("GET", "/api/v1/retained")).body.total, 3);
  const one = await b.call("GET", "/api/v1/retained?topic=r/1");
  deepStrictEqual([one.status, one.body.payload, one.body.qos], [
    200,
    "one",
    0,
  ]);
  // A new subscriber gets what the API says is retained.
  await using sub = await Counted.connect(b.mqtt.port, "sub");
  await sub.subscribe("r/1", 0);
  deepStrictEqual((await sub.nextPublish()).retain, true);

  const deleted = await b.call("DELETE", "/api/v1/retained?topic=r/1");
  deepStrictEqual([deleted.status, deleted.body.deleted], [200, true]);
  const again = await b.call("DELETE", "/api/v1/retained?topic=r/1");
  deepStrictEqual([again.status, again.body.field], [404, "topic"]);
  strictEqual((await b.call("GET", "/api/v1/retained?topic=r/1")).status, 404);
  const badFilter = await b.call("GET", "/api/v1/retained?filter=a/%23/b");
  deepStrictEqual([badFilter.status, badFilter.body.field], [400, "filter"]);
  const noTopic = await b.call("DELETE", "/api/v1/retained");
  deepStrictEqual([noTopic.status, noTopic.body.field], [400, "topic"]);
});

Deno.test("apiHandler() answers each class of bad input with a 4xx naming the field", async () => {
  await using b = await startBroker({}, { maxBodySize: 1024 });
  const publishes: [unknown, number, string][] = [
    [{}, 400, "topic"],
    [{ topic: 7 }, 400, "topic"],
    [{ topic: "" }, 400, "topic"],
    [{ topic: "a/+" }, 400, "topic"],
    [{ topic: "a/#" }, 400, "topic"],
    [{ topic: "a", qos: 3 }, 400, "qos"],
    [{ topic: "a", qos: 1.5 }, 400, "qos"],
    [{ topic: "a", qos: -1 }, 400, "qos"],
    [{ topic: "a", payload: "!!", encoding: "base64" }, 400, "payload"],
    [{ topic: "a", payload: "QQ=", encoding: "base64" }, 400, "payload"],
    [{ topic: "a", encoding: "hex" }, 400, "encoding"],
    [{ topic: "a", payload: 5 }, 400, "payload"],
    [{ topic: "a", retain: "yes" }, 400, "retain"],
    [{ topic: "a", userProperties: { a: 1 } }, 400, "userProperties"],
    [{ topic: "a", messageExpiryInterval: -1 }, 400, "messageExpiryInterval"],
    [{ topic: "a\u0000b" }, 400, "topic"],
    [{ topic: "a".repeat(900) + "/+" }, 400, "topic"],
    [{ topic: "a", contentType: "x\u0000" }, 400, "contentType"],
    [{ topic: "a", responseTopic: "r/#" }, 400, "responseTopic"],
    [{ topic: "a", userProperties: [["a"]] }, 400, "userProperties"],
    ["{not json", 400, "body"],
    ["[1, 2]", 400, "body"],
    [JSON.stringify({ topic: "a", payload: "x".repeat(2000) }), 413, "body"],
  ];
  for (const [body, status, field] of publishes) {
    const r = await b.call("POST", "/api/v1/publish", body);
    deepStrictEqual(
      [r.status, r.body.field, typeof r.body.error],
      [status, field, "string"],
      JSON.stringify(body).slice(0, 80),
    );
    ok(/^Cannot /.test(r.body.error), r.body.error);
    ok(r.body.error.length < 200, "the message quotes a short excerpt");
  }
  const queries: [string, string][] = [
    ["/api/v1/clients?limit=0", "limit"],
    ["/api/v1/clients?limit=abc", "limit"],
    ["/api/v1/clients?offset=-1", "offset"],
    ["/api/v1/clients?connected=maybe", "connected"],
    ["/api/v1/sessions?connected=1", "connected"],
    ["/api/v1/clients/%E0%A4%A", "clientId"],
  ];
  for (const [path, field] of queries) {
    const r = await b.call("GET", path);
    deepStrictEqual([r.status, r.body.field], [400, field], path);
  }
  const method = await b.call("DELETE", "/api/v1/publish");
  deepStrictEqual([method.status, method.headers.get("allow")], [405, "POST"]);
  strictEqual((await b.call("GET", "/api/v2/nothing")).status, 404);
  strictEqual(b.mqtt.server.metrics().messagesReceived[0], 0);
  // A payload is bytes: U+0000 is fine in it.
  const nul = await b.call("POST", "/api/v1/publish", {
    topic: "a",
    payload: "x\u0000y",
    retain: true,
  });
  strictEqual(nul.status, 200);
  deepStrictEqual(
    b.mqtt.server.retained("a")[0]?.payload,
    Uint8Array.of(0x78, 0, 0x79),
  );
});

Deno.test("apiHandler() serves Prometheus metrics that parse and match the traffic", async () => {
  await using b = await startBroker();
  await using alpha = await Counted.connect(b.mqtt.port, "alpha");
  await using beta = await Counted.connect(b.mqtt.port, "beta", {
    clean: false,
  });
  await alpha.subscribe("m/#", 0);
  for (let i = 0; i < 5; i++) await beta.publish(`m/${i}`, "payload");
  await beta.sync();
  for (let i = 0; i < 5; i++) await alpha.nextPublish();
  await alpha.sync();
  await b.call("POST", "/api/v1/publish", {
    topic: "m/r",
    payload: "kept",
    retain: true,
    qos: 1,
  });
  await alpha.nextPublish();

  const first = await b.call("GET", "/metrics");
  strictEqual(first.status, 200);
  strictEqual(
    first.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  const f = parsePrometheus(first.body);
  const v = (name: string, labels: Record<string, string> = {}) =>
    sampleValue(f, name, labels);
  strictEqual(v("gmqtt_connections_current"), 2);
  strictEqual(v("gmqtt_connections_total"), 2);
  strictEqual(v("gmqtt_clients_connected"), 2);
  strictEqual(v("gmqtt_sessions_created_total"), 2);
  strictEqual(v("gmqtt_subscriptions_current"), 1);
  strictEqual(v("gmqtt_messages_received_total", { qos: "0" }), 5);
  strictEqual(v("gmqtt_messages_received_total", { qos: "1" }), 1);
  strictEqual(v("gmqtt_messages_received_bytes_total"), 5 * 7 + 4);
  strictEqual(v("gmqtt_messages_sent_total", { qos: "0" }), 6);
  strictEqual(v("gmqtt_packets_received_total", { type: "publish" }), 5);
  strictEqual(
    v("gmqtt_bytes_received_total", { type: "publish" }),
    beta.publishBytesSent,
  );
  strictEqual(
    v("gmqtt_packets_received_total", { type: "pingreq" }),
    2,
  );
  strictEqual(v("gmqtt_packets_sent_total", { type: "connack" }), 2);
  strictEqual(v("gmqtt_packets_sent_total", { type: "publish" }), 6);
  strictEqual(v("gmqtt_retained_messages_current"), 1);
  ok(v("process_resident_memory_bytes") > 0);

  await beta.disconnect();
  const second = parsePrometheus((await b.call("GET", "/metrics")).body);
  strictEqual(sampleValue(second, "gmqtt_connections_current"), 1);
  strictEqual(sampleValue(second, "gmqtt_clients_disconnected"), 1);
  strictEqual(sampleValue(second, "gmqtt_sessions_inactive"), 1);
  for (const [name, family] of second) {
    if (family.type !== "counter") continue;
    for (const s of family.samples) {
      ok(
        s.value >= sampleValue(f, name, s.labels),
        `${name} ${JSON.stringify(s.labels)} went backwards`,
      );
    }
  }
});

Deno.test("apiHandler() reports liveness, version, uptime and listeners", async () => {
  let now = 1_700_000_000_000;
  await using b = await startBroker({}, {
    now: () => now,
    startedAt: now,
  });
  const health = await b.call("GET", "/healthz");
  deepStrictEqual([health.status, health.body], [200, { status: "ok" }]);
  now += 90_500;
  const info = await b.call("GET", "/api/v1/broker");
  const version = JSON.parse(await Deno.readTextFile("deno.json")).version;
  deepStrictEqual(info.body, {
    name: "gmqtt",
    version,
    startedAt: new Date(1_700_000_000_000).toISOString(),
    uptime: 90,
    listeners: [{
      name: b.mqtt.server.addresses[0]!.name,
      transport: "tcp",
      hostname: "127.0.0.1",
      port: b.mqtt.port,
    }],
  });
});

Deno.test("apiHandler() enforces a bearer token or basic credentials when configured", async () => {
  await using b = await startBroker({}, {
    token: "t0ken",
    basic: { username: "admin", password: "pa:ss" },
  });
  const basic = (user: string, password: string) =>
    `Basic ${new TextEncoder().encode(`${user}:${password}`).toBase64()}`;
  const cases: [Record<string, string>, number][] = [
    [{}, 401],
    [{ authorization: "Bearer wrong" }, 401],
    [{ authorization: "Bearer t0ken" }, 200],
    [{ authorization: "bearer t0ken" }, 200],
    [{ authorization: basic("admin", "pa:ss") }, 200],
    [{ authorization: basic("admin", "pa") }, 401],
    [{ authorization: basic("root", "pa:ss") }, 401],
    [{ authorization: "Basic !!!" }, 401],
    [{ authorization: "t0ken" }, 401],
  ];
  for (const path of ["/metrics", "/api/v1/clients", "/api/v1/broker"]) {
    for (const [headers, status] of cases) {
      const r = await b.call("GET", path, undefined, headers);
      strictEqual(r.status, status, `${path} ${JSON.stringify(headers)}`);
      if (status === 401) {
        strictEqual(r.body.field, "authorization");
        ok(r.headers.get("www-authenticate")?.startsWith("Basic"));
      }
    }
  }
  const publish = await b.call("POST", "/api/v1/publish", { topic: "a" });
  strictEqual(publish.status, 401);
  strictEqual(b.mqtt.server.metrics().messagesReceived[0], 0);
  // Liveness probes need no credentials.
  strictEqual((await b.call("GET", "/healthz")).status, 200);
});

Deno.test("serveApi() listens on 127.0.0.1 by default and shuts down", async () => {
  await using b = await startBroker();
  const api = serveApi(b.mqtt.server, { port: 0, token: "x" });
  strictEqual(api.address.hostname, "127.0.0.1");
  const r = await fetch(`http://127.0.0.1:${api.address.port}/healthz`);
  await r.body?.cancel();
  await api.shutdown();
  await api.finished;
});
