// deno-lint-ignore-file no-console -- a measuring script run by hand, not a library
/**
 * Where the broker's memory per idle connection goes: runs `cmd/broker.ts`
 * (with its API, for the heap figures of `/metrics`), opens connections to
 * it from this process, and reads the broker's RSS (`/proc/PID/status`),
 * V8 heap (total and in use) and external memory per connection at two stages: TCP
 * connections accepted and waiting for CONNECT, then the same after
 * CONNECT (3.1.1, clean session, keep-alive 0, no subscription).
 *
 *   deno run -A bench/idle_broker.ts          # 10,000 connections
 *   deno run -A bench/idle_broker.ts 2000
 *
 * Compare with `bench/idle_floor.ts`, the same for a bare Deno program.
 * Loopback only; the broker is killed by PID at the end. Linux.
 *
 * @module
 */

import { encodePacket } from "../packets/mod.ts";

const count = Number(Deno.args[0] ?? 10_000);
const root = new URL("..", import.meta.url).pathname;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

const port = freePort();
const apiPort = freePort();
const broker = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    "cmd/broker.ts",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--api-port",
    String(apiPort),
    "--log-level",
    "warn",
    "--sys-interval",
    "0",
  ],
  cwd: root,
  stdout: "null",
  stderr: "inherit",
}).spawn();

interface Reading {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

/** The broker's memory now, after a moment for its GC to settle. */
async function read(): Promise<Reading> {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const status = await Deno.readTextFile(`/proc/${broker.pid}/status`);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) * 1024;
  const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`))
    .text();
  const metric = (name: string): number =>
    Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  return {
    rss,
    heapTotal: metric("gmqtt_process_heap_total_bytes"),
    heapUsed: metric("gmqtt_process_heap_used_bytes"),
    external: metric("gmqtt_process_external_memory_bytes"),
  };
}

function row(stage: string, from: Reading, to: Reading): string {
  const kb = (a: number, b: number) => ((b - a) / count / 1024).toFixed(2);
  return `| ${stage} | ${kb(from.rss, to.rss)} | ${
    kb(from.heapTotal, to.heapTotal)
  } | ${kb(from.heapUsed, to.heapUsed)} | ${kb(from.external, to.external)} |`;
}

const conns: Deno.Conn[] = [];
try {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${apiPort}/healthz`).then((r) =>
        r.body?.cancel()
      );
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const before = await read();
  for (let i = 0; i < count; i += 100) {
    conns.push(
      ...await Promise.all(
        Array.from(
          { length: Math.min(100, count - i) },
          () => Deno.connect({ hostname: "127.0.0.1", port }),
        ),
      ),
    );
  }
  const accepted = await read();
  const connect = (id: number) =>
    encodePacket({
      type: "connect",
      protocolName: "MQTT",
      protocolVersion: 4,
      clean: true,
      keepAlive: 0,
      clientId: `idle-${id}`,
    });
  const connack = new Uint8Array(4);
  for (let i = 0; i < conns.length; i += 100) {
    await Promise.all(
      conns.slice(i, i + 100).map(async (conn, j) => {
        await conn.write(connect(i + j));
        let got = 0;
        while (got < 4) {
          const n = await conn.read(connack.subarray(got));
          if (n === null) throw new Error("closed before CONNACK");
          got += n;
        }
      }),
    );
  }
  const connected = await read();
  console.log(
    `${count} connections; per connection, KB:\n\n` +
      "| stage | RSS | V8 heap | V8 heap in use | external |\n" +
      "|---|---:|---:|---:|---:|",
  );
  console.log(row("TCP accepted, before CONNECT", before, accepted));
  console.log(row("after CONNECT", before, connected));
  console.log(row("CONNECT alone (the difference)", accepted, connected));
} finally {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // Closed by the broker.
    }
  }
  broker.kill("SIGKILL");
  await broker.status;
}
