/**
 * Runs a scenario of `cmd/bench.ts`: checks the options and hands them to
 * the scenario's runner.
 *
 * @module
 */

import { runConn } from "./_bench_conn.ts";
import { runMessages } from "./_bench_messages.ts";
import { runRetained } from "./_bench_retained.ts";
import {
  type BenchOptions,
  type BenchResult,
  resolveOptions,
} from "./_bench_options.ts";

/**
 * Runs one scenario against a broker and measures it.
 *
 * @example Open 20 connections to an embedded broker
 * ```ts
 * import { Server } from "@gmqtt/broker";
 * import { runBench } from "@gmqtt/broker/cmd/bench";
 * import { strictEqual } from "node:assert/strict";
 *
 * const server = new Server();
 * server.listen({ hostname: "127.0.0.1", port: 0 });
 * await server.start();
 * const port = server.addresses[0]!.port;
 * const result = await runBench({ scenario: "conn", port, clients: 20, hold: 0 });
 * strictEqual(result.connect?.connections, 20);
 * await server.stop();
 * ```
 *
 * @param options The scenario and its parameters.
 * @returns What was published, delivered, lost, and how fast.
 * @throws {RangeError | TypeError} If an option is invalid.
 * @throws {BenchClientError} If the clients cannot all connect and
 * subscribe before the load starts (message scenarios).
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const o = resolveOptions(options);
  switch (o.scenario) {
    case "conn":
      return await runConn(o);
    case "retained":
      return await runRetained(o);
    default:
      return await runMessages(o);
  }
}
