/**
 * The README's configuration for the Eclipse Paho interoperability suites
 * gives what those suites expect of a broker.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { parseConfig, toServerOptions } from "../mod.ts";
import { startServer, TestClient } from "./_client.ts";
import { subscribe } from "./_pubsub.ts";

/** The YAML block of the README's Paho section. */
async function pahoConfig(): Promise<string> {
  const readme = await Deno.readTextFile(
    new URL("../README.md", import.meta.url),
  );
  const start = readme.indexOf("# paho.yml:");
  strictEqual(start > 0, true, "README has no paho.yml example");
  return readme.slice(start, readme.indexOf("```", start));
}

Deno.test("README's Paho config refuses test/nosubscribe with 0x80, grants # and +/+, and announces keep-alive 60 and Receive Maximum 100 to 5.0 clients", async () => {
  const config = parseConfig(await pahoConfig(), "paho.yml");
  await using s = await startServer(toServerOptions(config));
  const { client, connack } = await TestClient.connect(s.port, {
    clientId: "paho",
    protocolVersion: 5,
    keepAlive: 120,
  });
  await using _ = client;
  strictEqual(connack.reasonCode, 0);
  strictEqual(connack.properties?.serverKeepAlive, 60);
  strictEqual(connack.properties?.receiveMaximum, 100);
  const suback = await subscribe(client, [
    ["test/nosubscribe", 2],
    ["#", 2],
    ["+/+", 2],
  ]);
  deepStrictEqual(suback.reasonCodes, [0x80, 2, 2]);
});
