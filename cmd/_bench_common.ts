/**
 * What the scenarios of `cmd/bench.ts` share: client options and ids, a
 * bounded error log, running tasks a few at a time, the empty result, the
 * progress timer, and the stages a caller can watch.
 *
 * @module
 */

import type {
  BenchClient,
  ClientOptions,
  LinkOptions,
} from "./_bench_client.ts";
import type { BenchResult, BenchStage, Resolved } from "./_bench_options.ts";
import { Histogram } from "./_bench_stats.ts";

/** Connections opened or closed at once while setting up and tearing down. */
export const SETUP_CONCURRENCY = 100;

/** Resolves after `ms` milliseconds (at once if not positive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** A short random id that keeps this run's client ids and topics apart. */
export function runId(): string {
  return crypto.randomUUID().slice(0, 8);
}

/** What client `clientId` sends in its CONNECT, from the options. */
export function clientOptions(o: Resolved, clientId: string): ClientOptions {
  return {
    clientId,
    protocolVersion: o.protocolVersion,
    timeout: o.timeout,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.sessionExpiry !== undefined
      ? { sessionExpiry: o.sessionExpiry }
      : {}),
  };
}

/** The distinct error messages of a run, at most 10. */
export class ErrorLog {
  readonly messages = new Set<string>();
  add(error: unknown): void {
    if (this.messages.size >= 10) return;
    this.messages.add(error instanceof Error ? error.message : String(error));
  }
}

/** Runs `task(i)` for i below `count`, `concurrency` at a time. */
export async function forEachLimited(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count && !stop()) await task(next++);
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, worker),
  );
}

/** Disconnects every client, a few at a time. */
export async function closeAll(clients: readonly BenchClient[]): Promise<void> {
  await forEachLimited(
    clients.length,
    SETUP_CONCURRENCY,
    (i) => clients[i]!.disconnect(1000),
  );
}

/** A result with nothing done yet. */
export function emptyResult(
  o: Resolved,
  publishers: number,
  subscribers: number,
): BenchResult {
  return {
    scenario: o.scenario,
    transport: o.link.transport,
    qos: o.qos,
    protocolVersion: o.protocolVersion,
    publishers,
    subscribers,
    payloadSize: o.size,
    elapsed: 0,
    published: 0,
    acked: 0,
    publishRate: 0,
    expected: 0,
    delivered: 0,
    deliveryRate: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    publisherSpread: 1,
    stalls: 0,
    latency: new Histogram().summary(),
    errors: [],
  };
}

export interface ProgressHandle {
  stop(): void;
}

/** Reports progress to `o.onProgress` about twice a second until stopped. */
export function startProgress(
  o: Resolved,
  start: number,
  done: () => number,
  delivered: () => number,
  total?: number,
): ProgressHandle {
  const report = o.onProgress;
  if (report === undefined) return { stop: () => {} };
  const timer = setInterval(() => {
    const elapsed = (performance.now() - start) / 1000;
    const count = done();
    let eta: number | undefined;
    if (o.scenario === "conn") {
      eta = count > 0 ? (o.clients - count) * elapsed / count : undefined;
    } else if (o.duration > 0) {
      eta = Math.max(0, o.duration - elapsed);
    } else if (total !== undefined && count > 0) {
      eta = (total - count) * elapsed / count;
    }
    report({
      scenario: o.scenario,
      elapsed,
      done: count,
      delivered: delivered(),
      eta,
    });
  }, 500);
  return { stop: () => clearInterval(timer) };
}

/**
 * Where connection `i` goes: `link` on the next of `hostnames` in turn, so
 * that connections spread evenly over the broker's addresses.
 */
export function linkFor(
  link: LinkOptions,
  hostnames: readonly string[],
  i: number,
): LinkOptions {
  if (hostnames.length < 2) return link;
  return { ...link, hostname: hostnames[i % hostnames.length]! };
}

/** Tells the caller a stage is reached and waits for it. */
export async function reach(o: Resolved, stage: BenchStage): Promise<void> {
  await o.onStage?.(stage);
}

/** Waits `o.hold` seconds, or less if the run is aborted. */
export async function hold(o: Resolved): Promise<void> {
  const until = performance.now() + o.hold * 1000;
  while (performance.now() < until && !o.signal?.aborted) {
    await sleep(Math.min(100, until - performance.now()));
  }
}
