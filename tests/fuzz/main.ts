/**
 * The fuzzer's command: runs mutated MQTT packets over TCP and WebSocket
 * against a broker started separately, with a health probe and the QoS 1
 * canary pair, and exits 1 if the broker stopped answering or lost an
 * acknowledged message. `--case N --dump` prints one case's packets.
 *
 * ```sh
 * deno task broker --ws-port 8080 &
 * deno run -A tests/fuzz/main.ts --port 1883 --ws-port 8080 --packets 1000000 --seed 7
 * ```
 *
 * @module
 */

// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import { makeCase } from "./cases.ts";
import { overWebSocket, runFuzz } from "./fuzz.ts";

const USAGE = `Usage: deno run -A tests/fuzz/main.ts [options]

Options:
  --host HOST        broker address (default 127.0.0.1)
  --port PORT        MQTT TCP port (default 1883)
  --ws-port PORT     MQTT WebSocket port; no WebSocket cases without it
  --ws-path PATH     WebSocket path (default /mqtt)
  --packets N        fuzz packets to send (default 100000)
  --seed N           seed (default: from the clock, printed)
  --case N           start at case N (with --cases 1: replay one case)
  --cases N          run only N cases
  --concurrency N    cases at once (default 32)
  --probe-every N    health probe every N cases (default 200)
  --no-canary        do not run the QoS 1 canary pair
  --dump             print the packets of the cases instead of sending them
`;

function int(
  name: string,
  value: string | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`--${name}: expected a whole number, got ${value}`);
  }
  return n;
}

async function main(args: string[]): Promise<number> {
  const { values: f } = parseArgs({
    args,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      "ws-port": { type: "string" },
      "ws-path": { type: "string" },
      packets: { type: "string" },
      seed: { type: "string" },
      case: { type: "string" },
      cases: { type: "string" },
      concurrency: { type: "string" },
      "probe-every": { type: "string" },
      "no-canary": { type: "boolean" },
      dump: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (f.help) {
    console.log(USAGE);
    return 0;
  }
  const seed = int("seed", f.seed, Date.now() % 0x1_0000_0000);
  const first = int("case", f.case, 0);
  const hasWs = f["ws-port"] !== undefined;
  if (f.dump) {
    for (let i = first; i < first + int("cases", f.cases, 1); i++) {
      const c = makeCase(seed, i);
      console.log(
        `case ${i} (seed ${seed}): level ${c.protocolVersion}, ${
          overWebSocket(i, hasWs) ? "WebSocket" : "TCP"
        }, ${c.delivery}, ends by ${c.ending}`,
      );
      for (const step of c.steps) console.log(`  ${step}`);
    }
    return 0;
  }
  const wsPort = f["ws-port"];
  const cases = f.cases;
  const result = await runFuzz({
    hostname: f.host ?? "127.0.0.1",
    port: int("port", f.port, 1883),
    ...(wsPort !== undefined ? { wsPort: int("ws-port", wsPort, 0) } : {}),
    ...(f["ws-path"] !== undefined ? { wsPath: f["ws-path"] } : {}),
    seed,
    packets: int("packets", f.packets, 100_000),
    firstCase: first,
    ...(cases !== undefined ? { cases: int("cases", cases, 0) } : {}),
    concurrency: int("concurrency", f.concurrency, 32),
    probeEvery: int("probe-every", f["probe-every"], 200),
    canary: !f["no-canary"],
    log: (line) => console.error(line),
  });
  const { failure, ...rest } = result;
  console.log(JSON.stringify(rest, null, 2));
  if (failure === undefined) {
    console.log(`OK: the broker held (seed ${seed})`);
    return 0;
  }
  console.log(`FAILED (${failure.kind}): ${failure.message}`);
  console.log(`seed ${seed}; cases running: ${failure.inFlight.join(", ")}`);
  console.log(
    `cases since the last good probe: ${failure.sinceProbe.join(", ")}`,
  );
  const replay = failure.inFlight[0] ?? failure.sinceProbe.at(-1);
  if (replay !== undefined) {
    console.log(
      `replay one: deno run -A tests/fuzz/main.ts --seed ${seed} --case ${replay} --cases 1 [--dump]`,
    );
  }
  return 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
