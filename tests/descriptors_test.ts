/**
 * Running out of file descriptors: a broker under a 64-descriptor limit
 * keeps running with 100 connections open to its WebSocket, TCP and API
 * ports, and serves again once some are closed.
 *
 * @module
 */

import { ok, strictEqual } from "node:assert/strict";
import { connectWebSocket } from "./_peer.ts";

const CHILD = new URL("./_fd_child.ts", import.meta.url).pathname;

Deno.test({
  name:
    "Server.listen() with websocket and serveApi() survive running out of file descriptors",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        `ulimit -n 64 && exec "$0" run -A "$1"`,
        Deno.execPath(),
        CHILD,
      ],
      // No background update check: it needs descriptors too.
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      line += value;
    }
    const ports = JSON.parse(line) as { tcp: number; ws: number; api: number };
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        const port = i % 3 === 0
          ? ports.tcp
          : i % 3 === 1
          ? ports.ws
          : ports.api;
        conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
      // One API request and one upgrade while out of descriptors.
      await fetch(`http://127.0.0.1:${ports.api}/healthz`, {
        signal: AbortSignal.timeout(500),
      }).then((r) => r.body?.cancel(), () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      ok(!exited, "the broker exited");
      for (const conn of conns.splice(0)) conn.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Serves again: the API, and MQTT over WebSocket.
      const response = await fetch(`http://127.0.0.1:${ports.api}/healthz`);
      strictEqual(response.status, 200);
      await response.body?.cancel();
      const { peer } = await connectWebSocket(
        `ws://127.0.0.1:${ports.ws}/mqtt`,
      );
      await using _peer = peer;
      strictEqual((await peer.connect({ clientId: "after" })).type, "connack");
      ok(!exited, "the broker exited");
    } finally {
      for (const conn of conns) conn.close();
      await child.stdin.close();
      await reader.cancel();
      const stderr = await new Response(child.stderr).text();
      const { code } = await status;
      strictEqual(code, 0, stderr);
    }
  },
});
