/**
 * A broker on an SQLite store, for the crash tests: opens the store file
 * given as the first argument, listens on a free port of 127.0.0.1, prints
 * `{"port":N}` as one line, and serves until it is killed (SIGKILL is the
 * crash under test) or its standard input closes (then it stops gracefully
 * and closes the store).
 *
 * Queues are large enough that nothing a test publishes is dropped: a
 * message missing after a restart was lost, not dropped by a limit.
 *
 * @module
 */

import { Server, SqliteStore } from "../mod.ts";

const path = Deno.args[0];
if (path === undefined) {
  throw new TypeError("Usage: _sqlite_broker_child.ts FILE");
}
const store = await SqliteStore.open(path);
const server = new Server({
  store,
  maxQueuedMessages: 1_000_000,
  maxQueuedBytes: 256 * 1024 * 1024,
  sys: { interval: 0 },
});
server.listen({ hostname: "127.0.0.1", port: 0 });
await server.start();
await Deno.stdout.write(
  new TextEncoder().encode(
    JSON.stringify({ port: server.addresses[0]!.port }) + "\n",
  ),
);
for await (const _ of Deno.stdin.readable) {
  // Nothing to read: it serves until the parent closes stdin.
}
await server.stop({ timeout: 500 });
store.close();
