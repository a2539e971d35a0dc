/**
 * Messages published by the embedding program and the HTTP API are checked
 * before the broker takes them, and the API is not served beyond loopback
 * without credentials.
 *
 * @module
 */

import {
  deepStrictEqual,
  rejects,
  strictEqual,
  throws,
} from "node:assert/strict";
import { apiHandler, serveApi, Server } from "../mod.ts";
import { startPipeServer } from "./_client.ts";
import { subscribe } from "../packets/testdata/packets.ts";

const LONG = "x".repeat(70_000);

const BAD: [
  name: string,
  properties: Record<string, unknown>,
  error: typeof TypeError | typeof RangeError,
  field: string,
][] = [
  ["a 70 KB contentType", { contentType: LONG }, RangeError, "contentType"],
  [
    "a 70 KB responseTopic",
    { responseTopic: LONG },
    RangeError,
    "responseTopic",
  ],
  [
    "a responseTopic with a wildcard",
    { responseTopic: "a/+" },
    TypeError,
    "responseTopic",
  ],
  [
    "70 KB of correlationData",
    { correlationData: new Uint8Array(70_000) },
    RangeError,
    "correlationData",
  ],
  [
    "correlationData as text",
    { correlationData: "abc" },
    TypeError,
    "correlationData",
  ],
  [
    "a 70 KB user property name",
    { userProperties: [[LONG, "v"]] },
    RangeError,
    "userProperties",
  ],
  [
    "a 70 KB user property value",
    { userProperties: [["n", LONG]] },
    RangeError,
    "userProperties",
  ],
  [
    "a user property holding U+0000",
    { userProperties: [["n", "a\u0000b"]] },
    TypeError,
    "userProperties",
  ],
  [
    "a contentType with a lone surrogate",
    { contentType: "\ud800" },
    TypeError,
    "contentType",
  ],
  ["a topic alias", { topicAlias: 1 }, TypeError, "topicAlias"],
  [
    "subscription identifiers",
    { subscriptionIdentifiers: [1] },
    TypeError,
    "subscriptionIdentifiers",
  ],
  [
    "a CONNECT property",
    { sessionExpiryInterval: 1 },
    TypeError,
    "sessionExpiryInterval",
  ],
  [
    "payloadFormatIndicator 2",
    { payloadFormatIndicator: 2 },
    TypeError,
    "payloadFormatIndicator",
  ],
];

for (const [name, properties, error, field] of BAD) {
  Deno.test(`Server.publish() refuses ${name}, naming ${field}`, async () => {
    const server = new Server();
    await rejects(
      server.publish({ topic: "t", payload: "p", properties }),
      (e: unknown) => {
        strictEqual(e instanceof error, true, String(e));
        strictEqual((e as Error).message.includes(field), true, String(e));
        return true;
      },
    );
  });
}

Deno.test("Server.publish() refuses a payload that is not UTF-8 under payloadFormatIndicator 1", async () => {
  const server = new Server();
  await rejects(
    server.publish({
      topic: "t",
      payload: Uint8Array.of(0xff),
      properties: { payloadFormatIndicator: 1 },
    }),
    TypeError,
  );
});

Deno.test("Server.publish() refuses a PUBLISH larger than maxPacketSize and takes one that fits", async () => {
  const server = new Server({ maxPacketSize: 1000 });
  await rejects(
    server.publish({ topic: "t", payload: new Uint8Array(995) }),
    /more than the largest packet \(maxPacketSize 1000\)/,
  );
  await rejects(
    server.publish({
      topic: "t",
      payload: new Uint8Array(500),
      properties: { userProperties: [["n", "v".repeat(600)]] },
    }),
    RangeError,
  );
  // Fixed header 1 + remaining length 2, topic 2 + 1, properties length
  // 1: a payload of 993 bytes makes 1000.
  await server.publish({ topic: "t", payload: new Uint8Array(993) });
  await rejects(
    server.publish({ topic: "t", payload: new Uint8Array(994) }),
    RangeError,
  );
});

Deno.test("Server.publish() delivers a message whose properties are all at their limit to a 5.0 subscriber", async () => {
  await using s = await startPipeServer({ maxPacketSize: 1 << 20 });
  const client = await s.open(5);
  await using _ = client;
  await client.connect({ protocolVersion: 5, clientId: "sub" });
  await client.send(subscribe({ packetId: 1, subscriptions: [["t", 0]] }));
  strictEqual((await client.next()).type, "suback");
  const max = "y".repeat(65_535);
  await s.server.publish({
    topic: "t",
    payload: "p",
    properties: {
      contentType: max,
      correlationData: new Uint8Array(65_535),
      userProperties: [[max, max]],
    },
  });
  const message = await client.next();
  strictEqual(message.type, "publish");
  strictEqual(
    message.type === "publish" && message.properties?.contentType?.length,
    65_535,
  );
});

Deno.test("apiHandler() answers 400 naming the field for a publish with a 70 KB contentType, and routes nothing", async () => {
  const server = new Server();
  const handle = apiHandler(server);
  const response = await handle(
    new Request("http://localhost/api/v1/publish", {
      method: "POST",
      body: JSON.stringify({
        topic: "t",
        payload: "p",
        contentType: LONG,
        retain: true,
      }),
    }),
  );
  strictEqual(response.status, 400);
  const body = await response.json();
  strictEqual(body.field, "contentType");
  strictEqual(
    body.error.startsWith("Cannot publish: contentType is 70000 bytes"),
    true,
  );
  deepStrictEqual(server.retained("#"), []);
});

Deno.test("apiHandler() answers 400 naming userProperties when one is too long", async () => {
  const handle = apiHandler(new Server());
  const response = await handle(
    new Request("http://localhost/api/v1/publish", {
      method: "POST",
      body: JSON.stringify({ topic: "t", userProperties: { n: LONG } }),
    }),
  );
  strictEqual(response.status, 400);
  strictEqual((await response.json()).field, "userProperties");
});

Deno.test("serveApi() throws a TypeError on an address beyond loopback without credentials", () => {
  const server = new Server();
  for (const hostname of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) {
    throws(
      () => serveApi(server, { hostname, port: 0 }),
      (e: unknown) =>
        e instanceof TypeError && e.message.includes("without credentials"),
    );
  }
});

Deno.test("serveApi() serves on loopback without credentials", async () => {
  const server = new Server();
  for (const hostname of ["127.0.0.1", "localhost"]) {
    await using api = serveApi(server, { hostname, port: 0 });
    const response = await fetch(
      `http://127.0.0.1:${api.address.port}/healthz`,
    );
    strictEqual(response.status, 200);
    await response.body?.cancel();
  }
});

Deno.test("apiHandler() takes a non-loopback hostname with a token, basic credentials or allowUnauthenticated", () => {
  const server = new Server();
  for (
    const extra of [
      { token: "t" },
      { basic: { username: "u", password: "p" } },
      { allowUnauthenticated: true },
    ]
  ) {
    // serveApi() passes its options, hostname included, to apiHandler().
    apiHandler(server, { hostname: "0.0.0.0", ...extra } as never);
  }
});
