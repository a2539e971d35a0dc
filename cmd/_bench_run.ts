/**
 * The scenarios of `cmd/bench.ts`: who connects, who subscribes to what, how
 * publishers are paced, and what is counted.
 *
 * @module
 */

import {
  isValidTopicName,
  type ProtocolVersion,
  type QoS,
} from "../packets/mod.ts";
import {
  BenchClient,
  type ClientOptions,
  type LinkOptions,
  PublishTemplate,
} from "./_bench_client.ts";
import {
  Histogram,
  type LatencySummary,
  readStamp,
  SequenceTracker,
  type Stamp,
  STAMP_SIZE,
  writeStamp,
} from "./_bench_stats.ts";

/** A load pattern. */
export type Scenario = "conn" | "pub" | "fanin" | "fanout" | "pairs";

/** Every scenario, in the order of the help text. */
export const SCENARIOS: readonly Scenario[] = [
  "conn",
  "pub",
  "fanin",
  "fanout",
  "pairs",
];

/** What to run and where; see {@linkcode runBench} for the defaults. */
export interface BenchOptions {
  /** The load pattern. */
  scenario: Scenario;
  /** Broker host name or address; "127.0.0.1" by default. */
  hostname?: string;
  /** Broker port; 1883, or 8883 with `tls`, by default. */
  port?: number;
  /** Connect with TLS; false by default. */
  tls?: boolean;
  /** PEM certificates to trust for TLS, instead of the system's. */
  caCerts?: string[];
  /** A `ws://` or `wss://` URL: connect over WebSocket instead. */
  url?: string;
  /** Username sent in CONNECT. */
  username?: string;
  /** Password sent in CONNECT. */
  password?: string;
  /**
   * Connections (conn), publishers (pub, fanin), subscribers (fanout) or
   * pairs (pairs); 1000 for conn, 10 otherwise, by default.
   */
  clients?: number;
  /** QoS of publishes and subscriptions; 0 by default. */
  qos?: QoS;
  /** Payload bytes, at least 16 (the stamp); 64 by default. */
  size?: number;
  /** Messages per publisher; 10,000 by default unless `duration` is given. */
  messages?: number;
  /** Seconds to publish (or, with `messages`, the longest to publish for). */
  duration?: number;
  /** First topic level; "bench" by default. */
  topic?: string;
  /** Messages per second for all publishers together (conn: connections per second); no cap by default. */
  rate?: number;
  /**
   * Messages a publisher may have unacknowledged: not yet acked (QoS 1
   * and 2) or not yet delivered to every subscriber (all QoS); 64 by
   * default. For conn: connection handshakes at once, 100 by default.
   */
  inflight?: number;
  /** conn: seconds to hold the connections open; 1 by default. */
  hold?: number;
  /** 3 (3.1), 4 (3.1.1) or 5; 4 by default. */
  protocolVersion?: ProtocolVersion;
  /**
   * Seconds allowed for a connection, a SUBACK, a publisher's window to
   * move, and the deliveries after the last publish; 10 by default.
   */
  timeout?: number;
  /** Called about twice a second while running. */
  onProgress?: (progress: BenchProgress) => void;
  /** Stops the run early; the result counts what was done. */
  signal?: AbortSignal;
}

/** Where a run is. */
export interface BenchProgress {
  /** The scenario running. */
  readonly scenario: Scenario;
  /** Seconds since the load started. */
  readonly elapsed: number;
  /** Messages published (conn: connections opened). */
  readonly done: number;
  /** Messages delivered to subscribers. */
  readonly delivered: number;
  /** Estimated seconds left, if known. */
  readonly eta: number | undefined;
}

/** Connection figures of the conn scenario. */
export interface ConnectResult {
  /** Connections that got a CONNACK accepting them. */
  readonly connections: number;
  /** Connections that failed or were refused. */
  readonly failed: number;
  /** Connections per second, from the first attempt to the last CONNACK. */
  readonly rate: number;
  /** Time from opening the socket to the CONNACK. */
  readonly latency: LatencySummary;
}

/** The outcome of a run; JSON-ready. */
export interface BenchResult {
  /** The scenario run. */
  readonly scenario: Scenario;
  /** How the clients connected. */
  readonly transport: "tcp" | "tls" | "ws";
  /** QoS of publishes and subscriptions. */
  readonly qos: QoS;
  /** MQTT protocol level of the clients. */
  readonly protocolVersion: ProtocolVersion;
  /** Publishing clients (conn: connections opened). */
  readonly publishers: number;
  /** Subscribing clients. */
  readonly subscribers: number;
  /** Payload bytes of each message. */
  readonly payloadSize: number;
  /** Seconds from the start of the load to the last delivery (or publish). */
  readonly elapsed: number;
  /** Messages written by publishers. */
  readonly published: number;
  /** QoS 1 and 2 messages acknowledged by the broker (PUBACK, PUBCOMP). */
  readonly acked: number;
  /** Published messages per second, while publishing. */
  readonly publishRate: number;
  /** Deliveries expected: each published message times its subscribers. */
  readonly expected: number;
  /** Distinct messages delivered to subscribers. */
  readonly delivered: number;
  /** Deliveries per second, from the start to the last delivery. */
  readonly deliveryRate: number;
  /** Expected deliveries that never came. */
  readonly lost: number;
  /** Messages a subscriber got again. */
  readonly duplicated: number;
  /** Messages that came after a later one of the same publisher. */
  readonly outOfOrder: number;
  /** Times a publisher's window did not move for `timeout` and was reset. */
  readonly stalls: number;
  /** Publish-to-delivery latency of distinct deliveries. */
  readonly latency: LatencySummary;
  /** The conn scenario's figures. */
  readonly connect?: ConnectResult;
  /** Distinct error messages seen (at most 10). */
  readonly errors: string[];
}

interface Resolved {
  readonly scenario: Scenario;
  readonly link: LinkOptions;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly clients: number;
  readonly qos: QoS;
  readonly size: number;
  readonly messages: number;
  readonly duration: number;
  readonly topic: string;
  readonly rate: number;
  readonly inflight: number;
  readonly hold: number;
  readonly protocolVersion: ProtocolVersion;
  readonly timeout: number;
  readonly onProgress: ((progress: BenchProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

const MAX_CLIENTS = 100_000;
const MAX_MESSAGES = 1_000_000_000;
const MAX_SECONDS = 24 * 3600;
/** Connections opened or closed at once while setting up and tearing down. */
const SETUP_CONCURRENCY = 100;
/** Messages queued by a publisher between two awaits. */
const BATCH = 256;

function number(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
  integer = true,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" || Number.isNaN(value) || value < min ||
    value > max || (integer && !Number.isInteger(value))
  ) {
    throw new RangeError(
      `Cannot run benchmark: ${name} must be ${
        integer ? "an integer" : "a number"
      } from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}

function resolve(options: BenchOptions): Resolved {
  const scenario = options.scenario;
  if (!SCENARIOS.includes(scenario)) {
    throw new TypeError(
      `Cannot run benchmark: unknown scenario ${JSON.stringify(scenario)}`,
    );
  }
  const tls = options.tls ?? false;
  let link: LinkOptions;
  const hostname = options.hostname ?? "127.0.0.1";
  const port = number("port", options.port, tls ? 8883 : 1883, 1, 65535);
  if (options.url !== undefined) {
    const url = new URL(options.url);
    if (url.protocol !== "ws:" && url.protocol !== "wss:") {
      throw new TypeError(
        `Cannot run benchmark: url ${options.url} is not ws: or wss:`,
      );
    }
    link = { transport: "ws", hostname, port, url: url.href };
  } else {
    link = {
      transport: tls ? "tls" : "tcp",
      hostname,
      port,
      ...(options.caCerts ? { caCerts: options.caCerts } : {}),
    };
  }
  const qos = number("qos", options.qos, 0, 0, 2) as QoS;
  const version = number(
    "protocolVersion",
    options.protocolVersion,
    4,
    3,
    5,
  ) as ProtocolVersion;
  const duration = number(
    "duration",
    options.duration,
    0,
    0,
    MAX_SECONDS,
    false,
  );
  const messages = number(
    "messages",
    options.messages,
    duration > 0 ? MAX_MESSAGES : 10_000,
    1,
    MAX_MESSAGES,
  );
  const topic = options.topic ?? "bench";
  if (topic === "" || !isValidTopicName(topic)) {
    throw new TypeError(
      `Cannot run benchmark: topic ${
        JSON.stringify(topic)
      } must be a non-empty topic name`,
    );
  }
  return {
    scenario,
    link,
    username: options.username,
    password: options.password,
    clients: number(
      "clients",
      options.clients,
      scenario === "conn" ? 1000 : 10,
      1,
      MAX_CLIENTS,
    ),
    qos,
    size: number("size", options.size, 64, STAMP_SIZE, 256 * 1024 * 1024),
    messages,
    duration,
    topic,
    rate: number("rate", options.rate, 0, 0, 1e9, false),
    inflight: number(
      "inflight",
      options.inflight,
      scenario === "conn" ? 100 : 64,
      1,
      // Packet ids must not wrap onto an unacknowledged one.
      qos > 0 ? 65535 : 1_000_000,
    ),
    hold: number("hold", options.hold, 1, 0, MAX_SECONDS, false),
    protocolVersion: version,
    timeout: number("timeout", options.timeout, 10, 0.001, 3600, false) * 1000,
    onProgress: options.onProgress,
    signal: options.signal,
  };
}

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
  const o = resolve(options);
  return await (o.scenario === "conn" ? runConn(o) : runMessages(o));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function runId(): string {
  return crypto.randomUUID().slice(0, 8);
}

function clientOptions(o: Resolved, clientId: string): ClientOptions {
  return {
    clientId,
    protocolVersion: o.protocolVersion,
    timeout: o.timeout,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
  };
}

class ErrorLog {
  readonly messages = new Set<string>();
  add(error: unknown): void {
    if (this.messages.size >= 10) return;
    this.messages.add(error instanceof Error ? error.message : String(error));
  }
}

/** Runs `task(i)` for i below `count`, `concurrency` at a time. */
async function forEachLimited(
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

async function closeAll(clients: readonly BenchClient[]): Promise<void> {
  await forEachLimited(
    clients.length,
    SETUP_CONCURRENCY,
    (i) => clients[i]!.disconnect(1000),
  );
}

// -- conn ---------------------------------------------------------------------

async function runConn(o: Resolved): Promise<BenchResult> {
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
          o.link,
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
    const holdUntil = performance.now() + o.hold * 1000;
    while (performance.now() < holdUntil && !o.signal?.aborted) {
      await sleep(Math.min(100, holdUntil - performance.now()));
    }
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

function emptyResult(
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
    stalls: 0,
    latency: new Histogram().summary(),
    errors: [],
  };
}

// -- message scenarios --------------------------------------------------------

/** One publisher's counters and its window. */
class Publisher {
  readonly index: number;
  readonly client: BenchClient;
  readonly template: PublishTemplate;
  /** Subscribers each of its messages goes to. */
  readonly fanout: number;
  sent = 0;
  acked = 0;
  /** Distinct deliveries, summed over subscribers. */
  delivered = 0;
  /** Acks and deliveries given up on after a stall. */
  ackCredit = 0;
  deliveryCredit = 0;
  wake: (() => void) | undefined;

  constructor(
    index: number,
    client: BenchClient,
    template: PublishTemplate,
    fanout: number,
  ) {
    this.index = index;
    this.client = client;
    this.template = template;
    this.fanout = fanout;
  }

  /** Messages in the window: unacknowledged, or not delivered everywhere. */
  outstanding(qos: QoS): number {
    const acks = qos > 0 ? this.sent - this.acked - this.ackCredit : 0;
    const deliveries = this.fanout > 0
      ? Math.ceil(
        (this.sent * this.fanout - this.delivered - this.deliveryCredit) /
          this.fanout,
      )
      : 0;
    return Math.max(acks, deliveries);
  }

  /** Forgets what it waits for, so a lost message does not stop it. */
  forgive(): void {
    this.ackCredit = this.sent - this.acked;
    this.deliveryCredit = this.sent * this.fanout - this.delivered;
  }
}

interface Plan {
  publishers: number;
  subscribers: number;
  /** Topic each publisher publishes to. */
  topicOf: (publisher: number) => string;
  /** Filter each subscriber subscribes to. */
  filterOf: (subscriber: number) => string;
  /** Subscribers that get each message of a publisher. */
  fanout: number;
}

function plan(o: Resolved, base: string): Plan {
  const c = o.clients;
  switch (o.scenario) {
    case "pub":
      return {
        publishers: c,
        subscribers: 0,
        topicOf: (i) => `${base}/${i}`,
        filterOf: () => "",
        fanout: 0,
      };
    case "fanin":
      return {
        publishers: c,
        subscribers: 1,
        topicOf: (i) => `${base}/${i}`,
        filterOf: () => `${base}/+`,
        fanout: 1,
      };
    case "fanout":
      return {
        publishers: 1,
        subscribers: c,
        topicOf: () => `${base}/all`,
        filterOf: () => `${base}/all`,
        fanout: c,
      };
    default:
      return {
        publishers: c,
        subscribers: c,
        topicOf: (i) => `${base}/${i}`,
        filterOf: (i) => `${base}/${i}`,
        fanout: 1,
      };
  }
}

async function runMessages(o: Resolved): Promise<BenchResult> {
  const run = runId();
  const p = plan(o, `${o.topic}/${run}`);
  const errors = new ErrorLog();
  const latency = new Histogram();
  const trackers = new Map<number, SequenceTracker>();
  const publishers: Publisher[] = [];
  const window = o.inflight;
  let deliveredTotal = 0;
  let lastDelivery = 0;
  let foreign = 0;
  let drained: (() => void) | undefined;
  let expectedTotal = 0;
  const stamp: Stamp = { publisher: 0, seq: 0, sentAt: 0 };

  const receive = (subscriber: number, payload: Uint8Array) => {
    const now = performance.now();
    if (!readStamp(payload, stamp) || stamp.publisher >= p.publishers) {
      foreign++;
      return;
    }
    const key = subscriber * p.publishers + stamp.publisher;
    let tracker = trackers.get(key);
    if (tracker === undefined) {
      tracker = new SequenceTracker();
      trackers.set(key, tracker);
    }
    if (!tracker.add(stamp.seq)) return;
    latency.record(now - stamp.sentAt);
    lastDelivery = now;
    deliveredTotal++;
    const publisher = publishers[stamp.publisher];
    if (publisher === undefined) return;
    publisher.delivered++;
    if (publisher.wake && publisher.outstanding(o.qos) < window) {
      publisher.wake();
    }
    if (drained && deliveredTotal >= expectedTotal) drained();
  };

  const everyone: BenchClient[] = [];
  try {
    // Subscribers first, so that no message is published before they listen.
    await forEachLimited(p.subscribers, SETUP_CONCURRENCY, async (i) => {
      const client = await BenchClient.connect(
        o.link,
        clientOptions(o, `bench-${run}-s${i}`),
      );
      everyone.push(client);
      client.onPublish = (packet) => receive(i, packet.payload);
      await client.subscribe(p.filterOf(i), o.qos, o.timeout);
    });
    const pubs: (Publisher | undefined)[] = new Array(p.publishers);
    await forEachLimited(p.publishers, SETUP_CONCURRENCY, async (i) => {
      const client = await BenchClient.connect(
        o.link,
        clientOptions(o, `bench-${run}-p${i}`),
      );
      everyone.push(client);
      const publisher = new Publisher(
        i,
        client,
        new PublishTemplate(p.topicOf(i), o.size, o.qos, o.protocolVersion),
        p.fanout,
      );
      client.onAcked = () => {
        publisher.acked++;
        if (publisher.wake && publisher.outstanding(o.qos) < window) {
          publisher.wake();
        }
        if (drained && publisher.acked === publisher.sent) drained();
      };
      client.onClose = () => publisher.wake?.();
      pubs[i] = publisher;
    });
    publishers.push(...pubs.filter((x) => x !== undefined));

    const start = performance.now();
    const deadline = o.duration > 0 ? start + o.duration * 1000 : Infinity;
    const totalMessages = o.messages * p.publishers;
    let published = 0;
    let stalls = 0;
    const progress = startProgress(
      o,
      start,
      () => published,
      () => deliveredTotal,
      totalMessages,
    );
    const ratePerPublisher = o.rate / p.publishers;

    const publish = async (pub: Publisher) => {
      const client = pub.client;
      const index = pub.index;
      const stampWith = (view: DataView) =>
        writeStamp(view, index, pub.sent, performance.now());
      while (
        pub.sent < o.messages && !client.closed && !o.signal?.aborted
      ) {
        const now = performance.now();
        if (now >= deadline) break;
        const space = window - pub.outstanding(o.qos);
        if (space <= 0) {
          const moved = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(
              () => resolve(false),
              Math.min(o.timeout, deadline - now),
            );
            pub.wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          pub.wake = undefined;
          if (!moved && performance.now() < deadline && !client.closed) {
            stalls++;
            pub.forgive();
          }
          continue;
        }
        let n = Math.min(space, o.messages - pub.sent, BATCH);
        if (ratePerPublisher > 0) {
          const due = Math.floor((now - start) / 1000 * ratePerPublisher) +
            1 - pub.sent;
          if (due <= 0) {
            await sleep(
              start + (pub.sent / ratePerPublisher) * 1000 - now,
            );
            continue;
          }
          n = Math.min(n, due);
        }
        for (let k = 0; k < n; k++) {
          client.sendPublish(pub.template, stampWith);
          pub.sent++;
        }
        published += n;
        await client.drained();
      }
      if (client.error) errors.add(client.error);
    };
    await Promise.all(publishers.map(publish));
    const publishEnd = performance.now();

    // Wait for the last deliveries and acks, as long as they keep coming.
    expectedTotal = publishers.reduce((sum, x) => sum + x.sent * x.fanout, 0);
    const complete = () =>
      deliveredTotal >= expectedTotal &&
      (o.qos === 0 || publishers.every((x) => x.acked >= x.sent));
    const drainDeadline = publishEnd + o.timeout;
    let seen = -1;
    while (
      !complete() && !o.signal?.aborted && performance.now() < drainDeadline
    ) {
      const acked = publishers.reduce((sum, x) => sum + x.acked, 0);
      if (deliveredTotal + acked === seen) break;
      seen = deliveredTotal + acked;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          resolve,
          Math.max(0, Math.min(2000, drainDeadline - performance.now())),
        );
        drained = () => {
          if (complete()) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      drained = undefined;
    }
    progress.stop();

    const end = Math.max(publishEnd, lastDelivery);
    let duplicated = 0, outOfOrder = 0;
    for (const t of trackers.values()) {
      duplicated += t.duplicated;
      outOfOrder += t.outOfOrder;
    }
    for (const client of everyone) {
      if (client.error) errors.add(client.error);
    }
    if (foreign > 0) {
      errors.add(`${foreign} messages without a stamp of this run`);
    }
    const acked = publishers.reduce((sum, x) => sum + x.acked, 0);
    return {
      ...emptyResult(o, p.publishers, p.subscribers),
      elapsed: (end - start) / 1000,
      published,
      acked,
      publishRate: publishEnd > start
        ? published / ((publishEnd - start) / 1000)
        : 0,
      expected: expectedTotal,
      delivered: deliveredTotal,
      deliveryRate: lastDelivery > start
        ? deliveredTotal / ((lastDelivery - start) / 1000)
        : 0,
      lost: expectedTotal - deliveredTotal,
      duplicated,
      outOfOrder,
      stalls,
      latency: latency.summary(),
      errors: [...errors.messages],
    };
  } finally {
    drained = undefined;
    await closeAll(everyone);
  }
}

interface ProgressHandle {
  stop(): void;
}

function startProgress(
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
