/**
 * A broker with TCP, WebSocket and API listeners for the descriptor
 * exhaustion test: prints its ports as one JSON line, serves until stdin
 * closes.
 *
 * @module
 */

import { serveApi, Server } from "../mod.ts";

// As cmd/broker.ts does at start. Without any signal listener, Deno 2.9.6
// sets up signal handling lazily and panics if descriptors have run out
// by then (ext/signals: "Too many open files").
Deno.addSignalListener("SIGTERM", () => {});
const server = new Server();
server.listen({ hostname: "127.0.0.1", port: 0 });
server.listen({ hostname: "127.0.0.1", port: 0, websocket: true });
await server.start();
const api = serveApi(server, { port: 0 });
const [tcp, ws] = server.addresses;
await Deno.stdout.write(
  new TextEncoder().encode(
    JSON.stringify({ tcp: tcp!.port, ws: ws!.port, api: api.address.port }) +
      "\n",
  ),
);
// Serve until the parent closes stdin.
for await (const _ of Deno.stdin.readable) {
  // Nothing to read.
}
await api.shutdown();
await server.stop({ timeout: 100 });
