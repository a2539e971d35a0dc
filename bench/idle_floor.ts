// deno-lint-ignore-file no-console -- a measuring script run by hand, not a library
/**
 * The floor under the broker's memory per idle connection: a bare Deno
 * program that accepts TCP connections and keeps one pending read on each,
 * with a read buffer of a given size, and nothing else. Prints its RSS per
 * connection (VmRSS after minus before, over the connections).
 *
 *   deno run -A bench/idle_floor.ts                # 10,000 connections
 *   deno run -A bench/idle_floor.ts 10000 1 16 1024 16384
 *   deno run -A bench/idle_floor.ts --connack 10000 128
 *   deno run -A bench/idle_floor.ts --connack --settle 120 10000 128
 *
 * The arguments after the count are read buffer sizes in bytes, one run
 * each (1 byte by default: the smallest buffer that works). With
 * `--connack`, each client then sends a 14-byte CONNECT and the server
 * answers its first read with a 4-byte CONNACK (a constant array) and
 * reads on: the floor for a connection that has said one thing each way.
 * With `--settle SECONDS`, RSS is read again after the connections have
 * idled that long (V8 gives back the young generation a burst grew only
 * when its memory reducer runs, up to 100 s after the last full
 * collection); the server then ticks a timer each second, as a broker's
 * sweep does, so that its event loop runs V8's delayed tasks. The server is
 * a child process of its own, so that the clients' memory is not counted;
 * both listen and connect on 127.0.0.1 only. Linux (reads /proc).
 *
 * @module
 */

import { ServerChild } from "./_server_child.ts";

const SERVE = "--serve";
const CONNACK = Uint8Array.of(0x20, 0x02, 0x00, 0x00);
// deno-fmt-ignore
const CONNECT = Uint8Array.of(
  0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // CONNECT, "MQTT"
  0x04, 0x02, 0x00, 0x00, 0x00, 0x00,             // 3.1.1, clean, id ""
);

if (import.meta.main) {
  if (Deno.args[0] === SERVE) {
    await serve(Number(Deno.args[1] ?? 1), Deno.args[2] === "tick");
  } else await main(Deno.args);
}

/** VmRSS of this process, in KB. */
function rssKb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/**
 * The server: accepts connections, keeps a read of `size` bytes pending on
 * each, and answers each line on standard input with its RSS and count.
 */
async function serve(size: number, tick: boolean): Promise<void> {
  if (tick) setInterval(() => {}, 1000);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let open = 0;
  console.log(JSON.stringify({ port: listener.addr.port }));
  const accepting = (async () => {
    for await (const conn of listener) {
      open++;
      const buffer = new Uint8Array(size);
      (async () => {
        try {
          let answered = false;
          while ((await conn.read(buffer)) !== null) {
            if (!answered) await conn.write(CONNACK);
            answered = true;
          }
        } catch {
          // Reset: gone.
        } finally {
          open--;
          try {
            conn.close();
          } catch {
            // Closed already.
          }
        }
      })();
    }
  })();
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const chunk of lines) {
    for (const _ of chunk.split("\n").slice(1)) {
      console.log(JSON.stringify({ rss: rssKb(), open }));
    }
  }
  listener.close();
  await accepting.catch(() => {});
}

async function main(all: string[]): Promise<void> {
  const connack = all.includes("--connack");
  const at = all.indexOf("--settle");
  const settle = at === -1 ? 0 : Number(all[at + 1]);
  if (!(settle >= 0)) throw new RangeError("--settle takes seconds");
  const args = all.filter((a, i) =>
    a !== "--connack" && i !== at && (at === -1 || i !== at + 1)
  );
  const count = Number(args[0] ?? 10_000);
  const sizes = args.length > 1 ? args.slice(1).map(Number) : [1];
  const later = settle > 0 ? ` after ${settle} s idle |` : "";
  console.log(
    `| read buffer | connections | RSS per connection, KB |${later}\n` +
      `|---:|---:|---:|${later ? "---:|" : ""}`,
  );
  for (const size of sizes) {
    const [first, settled] = await measure(count, size, connack, settle);
    console.log(
      `| ${size} B | ${count} | ${first.toFixed(2)} |` +
        (later ? ` ${settled.toFixed(2)} |` : ""),
    );
  }
}

/**
 * Runs a server with `size`-byte reads, connects `count` clients (which
 * send CONNECT and read CONNACK with `connack`), measures RSS per
 * connection once they are all open and again `settle` seconds later.
 */
async function measure(
  count: number,
  size: number,
  connack: boolean,
  settle: number,
): Promise<[number, number]> {
  const child = ServerChild.start(new URL(import.meta.url).pathname, [
    SERVE,
    String(size),
    settle > 0 ? "tick" : "",
  ]);
  const ask = () => child.ask("rss");
  const conns: Deno.Conn[] = [];
  try {
    const { port } = await child.next();
    // Let the server settle before the first reading.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await ask();
    for (let i = 0; i < count; i += 100) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(100, count - i) },
          () => Deno.connect({ hostname: "127.0.0.1", port: port! }),
        ),
      );
      conns.push(...batch);
    }
    if (connack) {
      const answer = new Uint8Array(4);
      for (let i = 0; i < conns.length; i += 100) {
        await Promise.all(
          conns.slice(i, i + 100).map(async (conn) => {
            await conn.write(CONNECT);
            let got = 0;
            while (got < 4) {
              const n = await conn.read(answer.subarray(got));
              if (n === null) throw new Error("Closed before CONNACK");
              got += n;
            }
          }),
        );
      }
    }
    let after = await ask();
    for (let i = 0; i < 100 && after.open! < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await ask();
    }
    const first = (after.rss! - before.rss!) / count;
    if (settle === 0) return [first, first];
    await new Promise((resolve) => setTimeout(resolve, settle * 1000));
    const settled = await ask();
    return [first, (settled.rss! - before.rss!) / count];
  } finally {
    for (const conn of conns) conn.close();
    await child.stop();
  }
}
