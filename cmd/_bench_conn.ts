/**
 * The conn scenario of `cmd/bench.ts`: open connections at a bounded
 * concurrency (and rate), hold them, count and time them.
 *
 * @module
 */

import { BenchClient } from "./_bench_client.ts";
import {
  clientOptions,
  closeAll,
  emptyResult,
  ErrorLog,
  forEachLimited,
  hold,
  linkFor,
  reach,
  runId,
  sleep,
  startProgress,
} from "./_bench_common.ts";
import type { BenchResult, Resolved } from "./_bench_options.ts";
import { Histogram } from "./_bench_stats.ts";

/** Opens `o.clients` connections, holds them `o.hold` seconds, closes them. */
export async function runConn(o: Resolved): Promise<BenchResult> {
  const run = runId();
  const errors = new ErrorLog();
  const latency = new Histogram();
  const clients: BenchClient[] = [];
  let failed = 0;
  let lastConnack = 0;
  const start = performance.now();
  const progress = startProgress(o, start, () => clients.length, () => 0);
  try {
    await forEachLimited(o.clients, o.inflight, async (i) => {
      if (o.rate > 0) {
        await sleep(start + (i * 1000) / o.rate - performance.now());
      }
      const t = performance.now();
      try {
        const client = await BenchClient.connect(
          linkFor(o.link, o.hostnames, i),
          clientOptions(o, `bench-${run}-c${i}`),
        );
        lastConnack = performance.now();
        latency.record(lastConnack - t);
        clients.push(client);
      } catch (error) {
        failed++;
        errors.add(error);
      }
    }, () => o.signal?.aborted === true);
    const connectTime = (lastConnack - start) / 1000;
    await reach(o, "ready");
    await hold(o);
    await reach(o, "done");
    let dropped = 0;
    for (const client of clients) {
      if (client.closed) {
        dropped++;
        errors.add(client.error);
      }
    }
    if (dropped > 0) {
      errors.add(`${dropped} connections closed by the broker while held`);
    }
    return {
      ...emptyResult(o, clients.length, 0),
      elapsed: connectTime,
      connect: {
        connections: clients.length,
        failed,
        rate: connectTime > 0 ? clients.length / connectTime : 0,
        latency: latency.summary(),
      },
      errors: [...errors.messages],
    };
  } finally {
    progress.stop();
    await closeAll(clients);
  }
}
