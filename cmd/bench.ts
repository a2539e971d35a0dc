// deno-lint-ignore-file no-console
/**
 * An MQTT load generator built on the `@gmqtt/broker` packet codec, for any
 * broker: ours, Mosquitto or others. It opens connections or moves messages
 * in one of seven scenarios and reports rates, latency percentiles and lost,
 * duplicated and out-of-order messages.
 *
 * ```sh
 * deno run -A jsr:@gmqtt/broker/cmd/bench pairs --clients 100 --qos 1 --duration 10
 * deno task bench:mqtt fanout -c 100 -n 10000 --json
 * ```
 *
 * Every message carries its publisher, a sequence number and its send time
 * in the first 16 bytes of its payload. Each publisher keeps a bounded
 * window of messages not yet acknowledged (QoS 1, 2) and not yet delivered
 * to its subscribers (every QoS), so the tool measures a rate the broker
 * sustains rather than a queue filling up.
 *
 * @example Measure 10 publisher/subscriber pairs on an embedded broker
 * ```ts
 * import { Server } from "@gmqtt/broker";
 * import { runBench } from "@gmqtt/broker/cmd/bench";
 *
 * const server = new Server();
 * server.listen({ hostname: "127.0.0.1", port: 0 });
 * await server.start();
 * const result = await runBench({
 *   scenario: "pairs",
 *   port: server.addresses[0]!.port,
 *   clients: 10,
 *   messages: 100,
 * });
 * console.log(`${result.deliveryRate} msg/s, p99 ${result.latency.p99} ms`);
 * await server.stop();
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ProtocolVersion, QoS } from "../packets/mod.ts";
import {
  type BenchOptions,
  type BenchProgress,
  type BenchResult,
  type BenchStage,
  type Scenario,
  SCENARIOS,
} from "./_bench_options.ts";
import { runBench } from "./_bench_run.ts";

export type {
  BenchOptions,
  BenchProgress,
  BenchResult,
  BenchStage,
  ConnectResult,
  RetainedResult,
  Scenario,
  SubscribeResult,
} from "./_bench_options.ts";
export { runBench } from "./_bench_run.ts";
export type { LatencySummary } from "./_bench_stats.ts";
export type { ProtocolVersion, QoS } from "../packets/mod.ts";

const HELP = `Usage: deno run -A cmd/bench.ts SCENARIO [options]

An MQTT load generator. Scenarios:
  conn     open --clients connections (at most --inflight at once, --rate
           per second), hold them --hold seconds; connect rate and latency
  pub      --clients publishers, no subscribers
  fanin    --clients publishers -> 1 subscriber on a wildcard filter
  fanout   1 publisher -> --clients subscribers
  pairs    --clients independent publisher/subscriber pairs
  subs     --clients subscribers with --topics distinct subscriptions each
           (one SUBSCRIBE each, --inflight at once): subscribe rate; then
           --clients publishers, each to one subscriber's topics in turn
  retained --clients publishers store --topics retained messages each,
           then one subscriber to a wildcard over them gets them all:
           store rate and delivery time; the messages are cleared after

Where:
  --host HOST          broker address (default 127.0.0.1)
  --hosts A,B,...      addresses of the same broker to spread connections
                       over in turn (each local address has its own
                       ephemeral ports: 127.0.0.1,127.0.0.2 carry twice the
                       connections of one)
  --port PORT          broker port (default 1883, 8883 with --tls)
  --sub-port PORT      port the subscribers connect to, when not --port (the
                       other node of a cluster, for cross-node figures)
  --tls                connect with TLS
  --cafile FILE        PEM certificates to trust for TLS
  --insecure           accept any TLS certificate: Deno allows this only for
                       the whole process, so run
                       deno run -A --unsafely-ignore-certificate-errors=HOST ...
  --url URL            connect over WebSocket (ws:// or wss://), protocol "mqtt"
  -u, --username NAME  username in CONNECT
  -P, --password PASS  password in CONNECT
  --protocol 3|4|5     MQTT 3.1, 3.1.1 or 5.0 (default 4)
  --session-expiry S   persistent sessions (5.0): Session Expiry Interval S
                       seconds, ended when the run ends (default: clean)

What:
  -c, --clients N      connections, publishers, subscribers or pairs
                       (default 1000 for conn, 10 otherwise)
  -q, --qos 0|1|2      QoS of publishes and subscriptions (default 0)
  -s, --size BYTES     payload size, at least 16 (default 64)
  -n, --messages N     messages per publisher (default 10000 without -d)
  -d, --duration SECS  publish for this long (with -n: at most this long)
  -t, --topic PREFIX   first topic level (default "bench")
  --topics N           subs: subscriptions per subscriber; retained:
                       retained messages per publisher (default 1000)
  -r, --rate N         cap in messages per second, all publishers together
                       (conn: connections per second); no cap by default
  -w, --inflight N     window per publisher: messages not yet acknowledged
                       or delivered (default 64); conn: handshakes at once
                       (default 100)
  --hold SECS          wait this long once every client is set up
                       (connected, subscribed, retained messages stored)
                       and again once the load is over (conn: once, before
                       closing); default 1 for conn, 0 otherwise
  --timeout SECS       for a connection, a SUBACK, a stuck window, and the
                       last deliveries (default 10)

Output:
  --json               print one JSON result object on stdout
  --marks FILE         append a line to FILE at each stage: "ready" when
                       every client is set up (before --hold), "done" when
                       the load is over (before disconnecting); for a
                       script that samples the broker's memory or CPU time
  -h, --help           show this help

A progress line is drawn on stderr when it is a terminal. The exit code is
0 when the run completed (read lost/errors in the result), 1 when it could
not run, 2 for bad arguments.
`;

class UsageError extends Error {}

function toNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`Cannot parse --${name}: ${value} is not a number`);
  }
  return n;
}

/**
 * Turns command-line arguments into benchmark options.
 *
 * @example Parse a pairs run
 * ```ts
 * import { parseBenchArgs } from "@gmqtt/broker/cmd/bench";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const { options } = parseBenchArgs(["pairs", "-c", "100", "-q", "1"]);
 * deepStrictEqual(
 *   [options.scenario, options.clients, options.qos],
 *   ["pairs", 100, 1],
 * );
 * ```
 * @param args The arguments after the script name.
 * @returns The options, whether to print JSON, and whether help was asked.
 * @throws {Error} If an argument is unknown or not a number where one is due.
 */
export function parseBenchArgs(args: string[]): {
  options: BenchOptions;
  json: boolean;
  help: boolean;
  insecure: boolean;
  marks: string | undefined;
} {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      host: { type: "string" },
      hosts: { type: "string" },
      port: { type: "string" },
      "sub-port": { type: "string" },
      tls: { type: "boolean" },
      cafile: { type: "string" },
      insecure: { type: "boolean" },
      url: { type: "string" },
      username: { type: "string", short: "u" },
      password: { type: "string", short: "P" },
      protocol: { type: "string" },
      "session-expiry": { type: "string" },
      clients: { type: "string", short: "c" },
      qos: { type: "string", short: "q" },
      size: { type: "string", short: "s" },
      messages: { type: "string", short: "n" },
      duration: { type: "string", short: "d" },
      topic: { type: "string", short: "t" },
      topics: { type: "string" },
      rate: { type: "string", short: "r" },
      inflight: { type: "string", short: "w" },
      hold: { type: "string" },
      timeout: { type: "string" },
      json: { type: "boolean" },
      marks: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const help = values.help ?? false;
  const json = values.json ?? false;
  const insecure = values.insecure ?? false;
  const marks = values.marks;
  const scenario = positionals[0];
  if (help) {
    return { options: { scenario: "pairs" }, json, help, insecure, marks };
  }
  if (scenario === undefined) {
    throw new UsageError(
      `Cannot run benchmark: give a scenario: ${SCENARIOS.join(", ")}`,
    );
  }
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    throw new UsageError(
      `Cannot run benchmark: unknown scenario ${
        JSON.stringify(scenario)
      }; expected one of ${SCENARIOS.join(", ")}`,
    );
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `Cannot run benchmark: unexpected argument ${
        JSON.stringify(positionals[1])
      }`,
    );
  }
  const options: BenchOptions = { scenario: scenario as Scenario };
  const numbers = {
    port: toNumber("port", values.port),
    subscriberPort: toNumber("sub-port", values["sub-port"]),
    clients: toNumber("clients", values.clients),
    topics: toNumber("topics", values.topics),
    qos: toNumber("qos", values.qos) as QoS | undefined,
    size: toNumber("size", values.size),
    messages: toNumber("messages", values.messages),
    duration: toNumber("duration", values.duration),
    rate: toNumber("rate", values.rate),
    inflight: toNumber("inflight", values.inflight),
    hold: toNumber("hold", values.hold),
    timeout: toNumber("timeout", values.timeout),
    sessionExpiry: toNumber("session-expiry", values["session-expiry"]),
    protocolVersion: toNumber("protocol", values.protocol) as
      | ProtocolVersion
      | undefined,
  };
  for (const [key, value] of Object.entries(numbers)) {
    if (value !== undefined) {
      (options as unknown as Record<string, unknown>)[key] = value;
    }
  }
  if (values.host !== undefined) options.hostname = values.host;
  if (values.hosts !== undefined) {
    options.hostnames = values.hosts.split(",").map((h) => h.trim());
  }
  if (values.tls) options.tls = true;
  if (values.url !== undefined) options.url = values.url;
  if (values.username !== undefined) options.username = values.username;
  if (values.password !== undefined) options.password = values.password;
  if (values.topic !== undefined) options.topic = values.topic;
  if (values.cafile !== undefined) {
    options.caCerts = [Deno.readTextFileSync(values.cafile)];
  }
  return { options, json, help, insecure, marks };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function ms(n: number): string {
  return n < 1 ? n.toFixed(3) : n < 100 ? n.toFixed(2) : n.toFixed(0);
}

/**
 * Formats a result as lines of text for a person.
 *
 * @example Format a result
 * ```ts
 * import { formatBenchResult, runBench } from "@gmqtt/broker/cmd/bench";
 * import { Server } from "@gmqtt/broker";
 *
 * const server = new Server();
 * server.listen({ hostname: "127.0.0.1", port: 0 });
 * await server.start();
 * const port = server.addresses[0]!.port;
 * console.log(formatBenchResult(await runBench({ scenario: "conn", port, clients: 10, hold: 0 })));
 * await server.stop();
 * ```
 * @param result A result of {@linkcode runBench}.
 * @returns The text, without a final newline.
 */
export function formatBenchResult(result: BenchResult): string {
  const lines: string[] = [];
  const r = result;
  if (r.connect !== undefined) {
    const c = r.connect;
    lines.push(
      `conn: ${fmt(c.connections)} connected, ${fmt(c.failed)} failed, ` +
        `in ${r.elapsed.toFixed(2)} s: ${fmt(c.rate)} connections/s`,
      `connect latency ms: p50 ${ms(c.latency.p50)}  p95 ${
        ms(c.latency.p95)
      }  p99 ${ms(c.latency.p99)}  max ${ms(c.latency.max)}`,
    );
  } else if (r.retained !== undefined) {
    const t = r.retained;
    lines.push(
      `retained: ${fmt(r.publishers)} publishers stored ${fmt(t.stored)} of ${
        fmt(r.published)
      } retained messages, QoS ${r.qos}, ${r.payloadSize} B ` +
        `payloads, in ${t.storeTime.toFixed(2)} s: ${fmt(t.storeRate)} msg/s`,
      `one wildcard subscriber got ${fmt(r.delivered)} of ${
        fmt(r.expected)
      } in ${t.deliveryTime.toFixed(2)} s: ${fmt(t.deliveryRate)} msg/s`,
      `lost ${fmt(r.lost)}, duplicated ${fmt(r.duplicated)}`,
    );
  } else {
    if (r.subscribe !== undefined) {
      const s = r.subscribe;
      lines.push(
        `subscribed: ${fmt(s.subscriptions)} subscriptions in ${
          s.elapsed.toFixed(2)
        } s: ${fmt(s.rate)} SUBSCRIBEs/s`,
      );
    }
    lines.push(
      `${r.scenario}: ${r.publishers} publishers -> ${r.subscribers} ` +
        `subscribers, QoS ${r.qos}, ${r.payloadSize} B payloads, ${r.transport}`,
      `published ${fmt(r.published)} at ${fmt(r.publishRate)} msg/s` +
        (r.qos > 0 ? ` (acked ${fmt(r.acked)})` : ""),
    );
    if (r.subscribers > 0) {
      lines.push(
        `delivered ${fmt(r.delivered)} of ${fmt(r.expected)} at ${
          fmt(r.deliveryRate)
        } msg/s in ${r.elapsed.toFixed(2)} s`,
        `lost ${fmt(r.lost)}, duplicated ${fmt(r.duplicated)}, ` +
          `out of order ${fmt(r.outOfOrder)}, window stalls ${r.stalls}`,
        `latency ms: p50 ${ms(r.latency.p50)}  p95 ${ms(r.latency.p95)}  p99 ${
          ms(r.latency.p99)
        }  max ${ms(r.latency.max)}  mean ${ms(r.latency.mean)}`,
      );
      if (r.publishers > 1) {
        lines.push(
          `publisher spread ${
            r.publisherSpread.toFixed(2)
          } (slowest publisher's deliveries / the median's)`,
        );
      }
    }
  }
  for (const error of r.errors) lines.push(`error: ${error}`);
  return lines.join("\n");
}

function progressLine(p: BenchProgress): string {
  const rate = p.elapsed > 0 ? p.done / p.elapsed : 0;
  const what = p.scenario === "conn" ? "connected" : "published";
  const delivered = p.scenario === "conn" || p.scenario === "pub"
    ? ""
    : `  delivered ${fmt(p.delivered)}`;
  const eta = p.eta === undefined ? "" : `  ETA ${p.eta.toFixed(0)} s`;
  return `${p.scenario} ${p.elapsed.toFixed(1)} s  ${what} ${fmt(p.done)} ` +
    `(${fmt(rate)}/s)${delivered}${eta}`;
}

/**
 * Runs the command: parses `args`, runs the scenario, prints the result.
 *
 * @example Show the help
 * ```ts
 * import { main } from "@gmqtt/broker/cmd/bench";
 *
 * await main(["--help"]);
 * ```
 * @param args Command-line arguments, without the script name.
 * @returns The exit code: 0 when the run completed, 1 when it could not
 * run, 2 for bad arguments.
 */
export async function main(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(args);
  } catch (error) {
    console.error(`error: ${(error as Error).message}\nRun with --help.`);
    return 2;
  }
  if (parsed.help) {
    console.log(HELP);
    return 0;
  }
  if (parsed.insecure) {
    console.error(
      "note: --insecure cannot be set per connection in Deno; unless this " +
        "process runs with --unsafely-ignore-certificate-errors, " +
        "certificates are still checked",
    );
  }
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  const terminal = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const marks = parsed.marks;
  const options: BenchOptions = {
    ...parsed.options,
    signal: controller.signal,
    ...(marks !== undefined
      ? {
        onStage: (stage: BenchStage) =>
          Deno.writeTextFile(marks, `${stage}\n`, { append: true }),
      }
      : {}),
    ...(terminal
      ? {
        onProgress: (p: BenchProgress) =>
          Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${progressLine(p)}`)),
      }
      : {}),
  };
  Deno.addSignalListener("SIGINT", interrupt);
  try {
    const result = await runBench(options);
    if (terminal) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    console.log(
      parsed.json ? JSON.stringify(result) : formatBenchResult(result),
    );
    return 0;
  } catch (error) {
    if (terminal) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    const usage = error instanceof RangeError || error instanceof TypeError;
    console.error(`error: ${(error as Error).message}`);
    return usage ? 2 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", interrupt);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
