/**
 * The live overview of `GET /api/v1/stats/stream`: one sampler per API
 * that reads the server's metrics once a second while a stream is open,
 * and sends every open stream the same frame.
 *
 * @module
 */

import type { ServerMetrics } from "../core/metrics.ts";
import type { Server } from "../server/server.ts";
import type { DropReason } from "../types.ts";
import { EventStream } from "./_sse.ts";

/** Milliseconds between two frames. */
export const STATS_INTERVAL = 1000;

/** The counters a frame turns into rates. */
interface Totals {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  dropped: number;
}

/** One frame of the overview, as sent. */
export interface StatsFrame {
  time: string;
  uptime: number;
  connections: number;
  sessions: { online: number; offline: number };
  subscriptions: number;
  retained: number;
  inflight: number;
  queued: number;
  /** Per second since the frame before (0 in the first). */
  perSecond: Totals;
  /** Since the server started. */
  totals: Totals;
  /** Messages not delivered since the server started, by reason. */
  dropped: Record<DropReason, number>;
}

function totalsOf(m: ServerMetrics): Totals {
  const sum = (counts: ServerMetrics["received"]) =>
    Object.values(counts).reduce((n, c) => n + c.bytes, 0);
  const [d0, d1, d2] = m.messagesDropped;
  return {
    messagesIn: m.messagesReceived[0] + m.messagesReceived[1] +
      m.messagesReceived[2],
    messagesOut: m.messagesSent[0] + m.messagesSent[1] + m.messagesSent[2],
    bytesIn: sum(m.received),
    bytesOut: sum(m.sent),
    dropped: d0 + d1 + d2,
  };
}

/** Sends the overview to every open stats stream. */
export class StatsFeed {
  readonly #server: Server;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #streams = new Set<EventStream>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The last sample: its totals, when it was taken, and its frame. */
  #last: { totals: Totals; at: number; json: string } | undefined;

  constructor(
    server: Server,
    options: { now: () => number; startedAt: number },
  ) {
    this.#server = server;
    this.#now = options.now;
    this.#startedAt = options.startedAt;
  }

  /** Opens a stream: the latest frame at once, then one per interval. */
  open(): Response {
    const stream = new EventStream(() => {
      this.#streams.delete(stream);
      if (this.#streams.size === 0) this.#stop();
    });
    this.#streams.add(stream);
    if (this.#timer === undefined) {
      this.#last = undefined;
      this.#sample();
      this.#timer = setInterval(() => this.#tick(), STATS_INTERVAL);
    }
    stream.sendRaw("stats", this.#last!.json);
    return stream.response;
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#last = undefined;
  }

  #tick(): void {
    this.#sample();
    const json = this.#last!.json;
    // A reader that is behind misses frames rather than piling them up.
    for (const stream of this.#streams) {
      if (!stream.full) stream.sendRaw("stats", json);
    }
  }

  /** Takes a sample and makes its frame. */
  #sample(): void {
    const metrics = this.#server.metrics();
    const now = this.#now();
    const totals = totalsOf(metrics);
    const last = this.#last;
    const seconds = last === undefined ? 0 : (now - last.at) / 1000;
    const rate = (key: keyof Totals) =>
      seconds <= 0
        ? 0
        : Math.round((totals[key] - last!.totals[key]) / seconds * 100) / 100;
    const frame: StatsFrame = {
      time: new Date(now).toISOString(),
      uptime: Math.max(0, Math.floor((now - this.#startedAt) / 1000)),
      connections: metrics.connectionsCurrent,
      sessions: {
        online: metrics.sessionsActive,
        offline: metrics.sessionsInactive,
      },
      subscriptions: metrics.subscriptionsCurrent,
      retained: metrics.retainedMessages,
      inflight: metrics.inflightMessages,
      queued: metrics.queuedMessages,
      perSecond: {
        messagesIn: rate("messagesIn"),
        messagesOut: rate("messagesOut"),
        bytesIn: rate("bytesIn"),
        bytesOut: rate("bytesOut"),
        dropped: rate("dropped"),
      },
      totals,
      dropped: { ...metrics.messagesDroppedByReason },
    };
    this.#last = { totals, at: now, json: JSON.stringify(frame) };
  }
}
