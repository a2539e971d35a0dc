/**
 * Broker statistics published as retained `$SYS/broker/...` messages.
 *
 * @module
 */

import denoConfig from "../../deno.json" with { type: "json" };
import type { Logger } from "./logger.ts";
import type { ServerMetrics } from "../core/metrics.ts";
import type { ClusterStatus } from "../core/ports.ts";
import type { PublishOptions } from "../message.ts";

/** The version of this package, as `deno.json` says. */
export const VERSION: string = denoConfig.version;

/** What {@linkcode SysTopics} needs of a server: `Server` fits it. */
export interface SysTopicsSource {
  /** The server's counters now. */
  metrics(): ServerMetrics;
  /** Publishes a message as the server. */
  publish(message: PublishOptions): Promise<void>;
  /** The cluster as this node sees it, if the server is in one. */
  cluster?(): ClusterStatus | undefined;
}

/** Options for {@linkcode SysTopics}. */
export interface SysTopicsOptions {
  /** Seconds between two publications, fractions allowed; 10 by default; 0 disables. */
  interval?: number;
  /** Current time in milliseconds, `Date.now` by default; tests fake it. */
  now?: () => number;
  /** Where a failed publication is reported; nowhere by default. */
  logger?: Logger;
}

/** Windows of the load averages, in seconds, with their topic suffix. */
const WINDOWS = [[60, "1min"], [300, "5min"], [900, "15min"]] as const;

/** Counters whose rate is published under `$SYS/broker/load/...`. */
const LOADS = {
  "messages/received": (m: ServerMetrics) => sum(m.messagesReceived),
  "messages/sent": (m: ServerMetrics) => sum(m.messagesSent),
  "bytes/received": (m: ServerMetrics) => packetBytes(m.received),
  "bytes/sent": (m: ServerMetrics) => packetBytes(m.sent),
  "packets/received": (m: ServerMetrics) => packetCount(m.received),
  "packets/sent": (m: ServerMetrics) => packetCount(m.sent),
  "connections": (m: ServerMetrics) => m.connectionsTotal,
} as const;

type LoadName = keyof typeof LOADS;

/**
 * Publishes the broker's statistics every `interval` seconds as retained
 * QoS 0 messages, so a new `$SYS/#` subscriber sees them at once. A topic is
 * published again only when its value changed. The topics, below
 * `$SYS/broker/`:
 *
 * - `version`, `uptime` ("N seconds")
 * - `clients/connected`, `clients/disconnected` (offline persistent
 *   sessions), `clients/total`, `clients/maximum`, `clients/expired`
 * - `messages/received`, `messages/sent`, `messages/dropped` (application
 *   messages), `messages/sys` (these `$SYS` messages themselves), `publish/bytes/received`, `publish/bytes/sent` (their payload
 *   bytes), `packets/received`, `packets/sent`, `bytes/received`,
 *   `bytes/sent` (MQTT packets of every type, and their bytes)
 * - `subscriptions/count`, `retained messages/count`
 * - `load/{messages,packets,bytes}/{received,sent}/{1min,5min,15min}` and
 *   `load/connections/{1min,5min,15min}`: per-minute rates, exponentially
 *   weighted over 1, 5 and 15 minutes like Unix load averages
 *
 * The first publication comes one interval after {@linkcode SysTopics.start}.
 * The server counts these messages in `messages/sys`, apart from the
 * messages received from clients.
 *
 * @example Publish statistics on demand
 * ```ts
 * import { Server, SysTopics } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const server = new Server();
 * const sys = new SysTopics(server, { interval: 0 });
 * await sys.publish();
 * const [clients] = server.retained("$SYS/broker/clients/connected");
 * strictEqual(new TextDecoder().decode(clients?.payload), "0");
 * ```
 */
export class SysTopics {
  readonly #source: SysTopicsSource;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #last: Map<string, string> = new Map();
  readonly #rates: Map<string, number> = new Map();
  #timer: ReturnType<typeof setInterval> | undefined;
  #startedAt: number;
  #previous: { at: number; counters: Record<LoadName, number> } | undefined;
  #maxConnected = 0;
  #publishing: Promise<void> | undefined;

  /**
   * Makes a publisher; nothing is published until `start()`.
   *
   * @param source The server whose statistics to publish.
   * @param options Interval, clock and logger.
   * @throws {RangeError} If `interval` is negative or not a number.
   */
  constructor(source: SysTopicsSource, options: SysTopicsOptions = {}) {
    const interval = options.interval ?? 10;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new RangeError(
        `Cannot publish $SYS topics: interval must be 0 or more seconds, got ${interval}`,
      );
    }
    this.#source = source;
    this.#interval = interval;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.#startedAt = this.#now();
  }

  /** Seconds between two publications; 0 when disabled. */
  get interval(): number {
    return this.#interval;
  }

  /** Starts the timer; does nothing when the interval is 0 or it runs already. */
  start(): void {
    if (this.#interval === 0 || this.#timer !== undefined) return;
    this.#startedAt = this.#now();
    this.#previous = undefined;
    this.#sample(this.#source.metrics());
    this.#timer = setInterval(() => {
      // One publication at a time: skip a tick while one is still routing.
      this.#publishing ??= this.publish()
        .catch((error: unknown) =>
          this.#logger?.warn("cannot publish $SYS topics", {
            error: String(error),
          })
        )
        .finally(() => this.#publishing = undefined);
    }, this.#interval * 1000);
  }

  /** Stops the timer; the retained messages stay. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Updates the rates and publishes every topic whose value changed (all of
   * them the first time).
   *
   * @returns A promise that resolves when the messages have been routed.
   */
  async publish(): Promise<void> {
    const m = this.#source.metrics();
    const now = this.#now();
    this.#sample(m);
    this.#maxConnected = Math.max(this.#maxConnected, m.sessionsActive);
    const values: [string, string][] = [
      ["version", `gmqtt ${VERSION}`],
      ["uptime", `${Math.floor((now - this.#startedAt) / 1000)} seconds`],
      ["clients/connected", String(m.sessionsActive)],
      ["clients/disconnected", String(m.sessionsInactive)],
      ["clients/total", String(m.sessionsActive + m.sessionsInactive)],
      ["clients/maximum", String(this.#maxConnected)],
      ["clients/expired", String(m.sessionsTerminated.expired)],
      ["messages/received", String(sum(m.messagesReceived))],
      ["messages/sent", String(sum(m.messagesSent))],
      ["messages/dropped", String(sum(m.messagesDropped))],
      ["messages/sys", String(m.sysMessagesPublished)],
      ["publish/bytes/received", String(m.messageBytesReceived)],
      ["publish/bytes/sent", String(m.messageBytesSent)],
      ["packets/received", String(packetCount(m.received))],
      ["packets/sent", String(packetCount(m.sent))],
      ["bytes/received", String(packetBytes(m.received))],
      ["bytes/sent", String(packetBytes(m.sent))],
      ["subscriptions/count", String(m.subscriptionsCurrent)],
      ["retained messages/count", String(m.retainedMessages)],
    ];
    const cluster = this.#source.cluster?.();
    if (cluster !== undefined) {
      values.push(
        ["cluster/node", cluster.nodeId],
        ["cluster/nodes", String(cluster.nodes.length)],
        ["cluster/connected", cluster.connected ? "1" : "0"],
        ["cluster/messages/sent", String(cluster.messagesSent)],
        ["cluster/messages/dropped", String(cluster.messagesDropped)],
        ["cluster/messages/received", String(cluster.messagesReceived)],
        ["cluster/backlog", String(cluster.backlog)],
        ["cluster/round trip", cluster.roundTrip.toFixed(3)],
      );
    }
    for (const name of Object.keys(LOADS) as LoadName[]) {
      for (const [, suffix] of WINDOWS) {
        const key = `${name}/${suffix}`;
        values.push([`load/${key}`, (this.#rates.get(key) ?? 0).toFixed(2)]);
      }
    }
    const publishing: Promise<void>[] = [];
    for (const [topic, payload] of values) {
      if (this.#last.get(topic) === payload) continue;
      this.#last.set(topic, payload);
      publishing.push(this.#source.publish({
        topic: `$SYS/broker/${topic}`,
        payload,
        qos: 0,
        retain: true,
      }));
    }
    await Promise.all(publishing);
  }

  /** Folds the counters' change since the last sample into the rates. */
  #sample(m: ServerMetrics): void {
    const at = this.#now();
    const counters = {} as Record<LoadName, number>;
    for (const name of Object.keys(LOADS) as LoadName[]) {
      counters[name] = LOADS[name](m);
    }
    const previous = this.#previous;
    if (previous !== undefined) {
      const seconds = (at - previous.at) / 1000;
      if (seconds <= 0) return;
      for (const name of Object.keys(LOADS) as LoadName[]) {
        const perMinute = (counters[name] - previous.counters[name]) /
          seconds * 60;
        for (const [window, suffix] of WINDOWS) {
          const key = `${name}/${suffix}`;
          const rate = this.#rates.get(key) ?? 0;
          const weight = 1 - Math.exp(-seconds / window);
          this.#rates.set(key, rate + weight * (perMinute - rate));
        }
      }
    }
    this.#previous = { at, counters };
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function packetCount(
  counts: Readonly<Record<string, { readonly packets: number }>>,
): number {
  let total = 0;
  for (const c of Object.values(counts)) total += c.packets;
  return total;
}

function packetBytes(
  counts: Readonly<Record<string, { readonly bytes: number }>>,
): number {
  let total = 0;
  for (const c of Object.values(counts)) total += c.bytes;
  return total;
}
