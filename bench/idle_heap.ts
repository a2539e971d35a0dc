// deno-lint-ignore-file no-console -- a measuring script run by hand, not a library
/**
 * What the JavaScript heap holds per idle connection, by kind of object:
 * runs a server in a child process (the broker, or with `--floor` a bare
 * Deno program that keeps one pending 1-byte read per connection), takes a
 * V8 heap snapshot (`node:v8` `writeHeapSnapshot`, which collects garbage
 * first) with no connection, with the connections accepted, and after
 * CONNECT (3.1.1, clean session, keep-alive 60, no subscription), and
 * prints the self sizes that grew, per connection, grouped by constructor
 * (objects, closures) or by V8's kind (arrays, strings, contexts, code).
 *
 *   deno run -A bench/idle_heap.ts            # the broker, 2,000 connections
 *   deno run -A bench/idle_heap.ts 2000 --floor
 *   deno run -A bench/idle_heap.ts 2000 --v5  # CONNECT as MQTT 5.0
 *
 * Loopback only; the server is killed by PID at the end. The snapshots are
 * written to a temporary directory and removed.
 *
 * @module
 */

import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import { encodePacket } from "../packets/mod.ts";
import { Server } from "../mod.ts";
import { ServerChild } from "./_server_child.ts";

const SERVE = "--serve";

if (import.meta.main) {
  if (Deno.args[0] === SERVE) await serve(Deno.args[1] === "floor");
  else await main(Deno.args);
}

/** VmRSS of this process, in bytes. */
function rss(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) * 1024;
}

/**
 * The server: listens, prints its port, then for each line of standard
 * input prints its RSS and the size of each V8 heap space, and writes a
 * heap snapshot to the path the line gives.
 */
async function serve(floor: boolean): Promise<void> {
  let port: number;
  let stop: () => Promise<void>;
  if (floor) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = listener.addr.port;
    const accepting = (async () => {
      for await (const conn of listener) {
        const buffer = new Uint8Array(1);
        (async () => {
          try {
            while ((await conn.read(buffer)) !== null);
          } catch {
            // Reset: gone.
          } finally {
            try {
              conn.close();
            } catch {
              // Closed already.
            }
          }
        })();
      }
    })();
    stop = async () => {
      listener.close();
      await accepting.catch(() => {});
    };
  } else {
    // Time for the parent to read the snapshot of accepted connections.
    const server = new Server({ connectTimeout: 600 });
    server.listen({ hostname: "127.0.0.1", port: 0 });
    await server.start();
    port = server.addresses[0]!.port;
    stop = () => server.stop({ timeout: 100 });
  }
  console.log(JSON.stringify({ port }));
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const chunk of lines) {
    pending += chunk;
    let at;
    while ((at = pending.indexOf("\n")) >= 0) {
      const path = pending.slice(0, at);
      pending = pending.slice(at + 1);
      // Let the last reads and writes settle first.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const sizes: Record<string, number> = { rss: rss() };
      for (const space of getHeapSpaceStatistics()) {
        if (space.space_size > 0) {
          sizes[space.space_name] = space.space_size;
          sizes[space.space_name + " used"] = space.space_used_size;
        }
      }
      writeHeapSnapshot(path);
      console.log(JSON.stringify(sizes));
    }
  }
  await stop();
}

/** Self size by group, summed over a snapshot's nodes. */
async function groups(path: string): Promise<Map<string, number>> {
  const snapshot = JSON.parse(await Deno.readTextFile(path));
  const meta = snapshot.snapshot.meta;
  const fields: string[] = meta.node_fields;
  const types: string[] = meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const nodes: number[] = snapshot.nodes;
  const strings: string[] = snapshot.strings;
  const sums = new Map<string, number>();
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + typeAt]!]!;
    let name = strings[nodes[i + nameAt]!]!;
    if (type === "string" || type === "concatenated string") name = "";
    if (type === "sliced string" || type === "number") name = "";
    if (type === "code") name = "";
    name = name.replace(/ @\d+$/, "");
    if (name.length > 60) name = name.slice(0, 57) + "...";
    const key = `${type}: ${name}`;
    sums.set(key, (sums.get(key) ?? 0) + nodes[i + sizeAt]!);
  }
  return sums;
}

function diff(
  from: Map<string, number>,
  to: Map<string, number>,
  count: number,
): void {
  const rows: [string, number][] = [];
  let total = 0;
  for (const key of new Set([...from.keys(), ...to.keys()])) {
    const bytes = ((to.get(key) ?? 0) - (from.get(key) ?? 0)) / count;
    total += bytes;
    if (Math.abs(bytes) >= 4) rows.push([key, bytes]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  console.log("| group | bytes per connection |\n|---|---:|");
  for (const [key, bytes] of rows) {
    console.log(`| ${key.replaceAll("|", "\\|")} | ${bytes.toFixed(1)} |`);
  }
  console.log(`| total | ${total.toFixed(1)} |\n`);
}

/** What one stage measured: sizes before the snapshot, and its groups. */
interface Stage {
  sizes: Record<string, number>;
  sums: Map<string, number>;
}

/** Prints RSS and each heap space's size (and use) per connection. */
function spaces(count: number, stages: [string, Stage, Stage][]): void {
  console.log(
    "RSS and V8 heap spaces before the snapshots' collections, KB per " +
      "connection:\n",
  );
  console.log(
    `| space | ${stages.map((s) => s[0]).join(" | ")} |\n|---|${
      stages.map(() => "---:|").join("")
    }`,
  );
  const keys = new Set(stages.flatMap(([, a, b]) => [
    ...Object.keys(a.sizes),
    ...Object.keys(b.sizes),
  ]));
  for (const key of keys) {
    const cells = stages.map(([, a, b]) =>
      (((b.sizes[key] ?? 0) - (a.sizes[key] ?? 0)) / count / 1024).toFixed(2)
    );
    console.log(`| ${key} | ${cells.join(" | ")} |`);
  }
  console.log();
}

async function main(args: string[]): Promise<void> {
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 2000);
  const floor = args.includes("--floor");
  const v5 = args.includes("--v5");
  const dir = await Deno.makeTempDir();
  const child = ServerChild.start(new URL(import.meta.url).pathname, [
    SERVE,
    floor ? "floor" : "broker",
  ]);
  const snap = async (name: string): Promise<Stage> => {
    const path = `${dir}/${name}.heapsnapshot`;
    const sizes = await child.ask(path);
    const sums = await groups(path);
    await Deno.remove(path);
    return { sizes, sums };
  };
  const conns: Deno.Conn[] = [];
  try {
    const { port } = await child.next();
    await snap("warm-up");
    const none = await snap("none");
    for (let i = 0; i < count; i += 100) {
      conns.push(
        ...await Promise.all(
          Array.from(
            { length: Math.min(100, count - i) },
            () => Deno.connect({ hostname: "127.0.0.1", port: port! }),
          ),
        ),
      );
    }
    const accepted = await snap("accepted");
    console.log(
      `${floor ? "Floor" : "Broker"}, ${count} connections accepted:\n`,
    );
    diff(none.sums, accepted.sums, count);
    if (floor) {
      spaces(count, [["accepted", none, accepted]]);
      return;
    }
    const connack = new Uint8Array(256);
    for (let i = 0; i < conns.length; i += 100) {
      await Promise.all(
        conns.slice(i, i + 100).map(async (conn, j) => {
          await conn.write(encodePacket({
            type: "connect",
            protocolName: "MQTT",
            protocolVersion: v5 ? 5 : 4,
            clean: true,
            keepAlive: 60,
            clientId: `idle-${i + j}`,
          }));
          let got = 0;
          while (got < 2 || got < 2 + connack[1]!) {
            const n = await conn.read(connack.subarray(got));
            if (n === null) throw new Error("Closed before CONNACK");
            got += n;
          }
        }),
      );
    }
    const connected = await snap("connected");
    console.log(`After CONNECT (MQTT ${v5 ? "5.0" : "3.1.1"}):\n`);
    diff(none.sums, connected.sums, count);
    console.log("CONNECT alone:\n");
    diff(accepted.sums, connected.sums, count);
    spaces(count, [
      ["accepted", none, accepted],
      ["after CONNECT", none, connected],
    ]);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Closed by the server.
      }
    }
    await child.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
