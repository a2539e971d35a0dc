/**
 * The options and results of `cmd/bench.ts`, and the checks and defaults of
 * the options.
 *
 * @module
 */

import {
  isValidTopicName,
  type ProtocolVersion,
  type QoS,
} from "../packets/mod.ts";
import type { LinkOptions } from "./_bench_client.ts";
import { type LatencySummary, STAMP_SIZE } from "./_bench_stats.ts";

/** A load pattern. */
export type Scenario =
  | "conn"
  | "pub"
  | "fanin"
  | "fanout"
  | "pairs"
  | "subs"
  | "retained";

/** Every scenario, in the order of the help text. */
export const SCENARIOS: readonly Scenario[] = [
  "conn",
  "pub",
  "fanin",
  "fanout",
  "pairs",
  "subs",
  "retained",
];

/** A point a run has reached: its clients set up, or its load over. */
export type BenchStage = "ready" | "done";

/** What to run and where; see {@linkcode runBench} for the defaults. */
export interface BenchOptions {
  /** The load pattern. */
  scenario: Scenario;
  /** Broker host name or address; "127.0.0.1" by default. */
  hostname?: string;
  /**
   * Addresses of the same broker to spread the connections over, in turn,
   * instead of `hostname` (TCP and TLS). Each local address has its own
   * ephemeral ports, about 28,000 by default on Linux: two loopback
   * addresses (127.0.0.1, 127.0.0.2) carry twice the connections.
   */
  hostnames?: string[];
  /** Broker port; 1883, or 8883 with `tls`, by default. */
  port?: number;
  /**
   * Port the subscribers connect to, on the same host, when it is not
   * `port`: another node of a cluster, so that every message crosses from
   * one node to the other. `port` by default.
   */
  subscriberPort?: number;
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
   * Connections (conn), publishers (pub, fanin, retained), subscribers
   * (fanout) or pairs (pairs, subs); 1000 for conn, 10 otherwise, by
   * default.
   */
  clients?: number;
  /**
   * subs: distinct topics each subscriber subscribes to, one SUBSCRIBE
   * each, and its publisher publishes to in turn; retained: retained
   * messages each publisher stores, one topic each. 1000 by default.
   */
  topics?: number;
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
  /**
   * Seconds to wait once every client is set up (connected, subscribed,
   * its retained messages stored) before the load goes on, and again once
   * the load is over before the clients disconnect; conn: once, before the
   * connections are closed. 1 for conn, 0 otherwise, by default.
   */
  hold?: number;
  /** 3 (3.1), 4 (3.1.1) or 5; 4 by default. */
  protocolVersion?: ProtocolVersion;
  /**
   * Session Expiry Interval of every client in seconds (needs protocol 5):
   * persistent sessions, which the broker stores, ended when the run ends;
   * none by default.
   */
  sessionExpiry?: number;
  /**
   * Seconds allowed for a connection, a SUBACK, a publisher's window to
   * move, and the deliveries after the last publish; 10 by default.
   */
  timeout?: number;
  /**
   * Called when every client is set up ("ready", before the hold) and when
   * the load is over ("done", before the clients disconnect), for a caller
   * that samples the broker (its memory, its CPU time) at those points; the
   * run waits for a promise it returns.
   */
  onStage?: (stage: BenchStage) => void | Promise<void>;
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

/** Subscribing figures of the subs scenario. */
export interface SubscribeResult {
  /** Subscriptions acknowledged by a SUBACK that grants them. */
  readonly subscriptions: number;
  /** Seconds from the first SUBSCRIBE to the last SUBACK. */
  readonly elapsed: number;
  /** SUBSCRIBEs (one filter each) acknowledged per second. */
  readonly rate: number;
}

/** Figures of the retained scenario. */
export interface RetainedResult {
  /** Retained messages published (and acknowledged at QoS 1 and 2). */
  readonly stored: number;
  /**
   * Seconds from the first PUBLISH to the last acknowledgement (at QoS 0,
   * to the PINGRESP that follows each publisher's last PUBLISH).
   */
  readonly storeTime: number;
  /** Retained messages stored per second. */
  readonly storeRate: number;
  /**
   * Seconds from the SUBSCRIBE of one wildcard subscriber to the last
   * retained message it got.
   */
  readonly deliveryTime: number;
  /** Retained messages delivered per second to that subscriber. */
  readonly deliveryRate: number;
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
  /**
   * How evenly publishers got through: the deliveries of the slowest
   * publisher over the median publisher's (1: all alike; 1 with one).
   */
  readonly publisherSpread: number;
  /** Times a publisher's window did not move for `timeout` and was reset. */
  readonly stalls: number;
  /** Publish-to-delivery latency of distinct deliveries. */
  readonly latency: LatencySummary;
  /** The conn scenario's figures. */
  readonly connect?: ConnectResult;
  /** The subs scenario's subscribing figures. */
  readonly subscribe?: SubscribeResult;
  /** The retained scenario's figures. */
  readonly retained?: RetainedResult;
  /** Distinct error messages seen (at most 10). */
  readonly errors: string[];
}

/** Options with every default filled in. */
export interface Resolved {
  readonly scenario: Scenario;
  readonly link: LinkOptions;
  /** Addresses to spread connections over; `[link.hostname]` without. */
  readonly hostnames: readonly string[];
  /** Where subscribers connect: `link`, or the same on `subscriberPort`. */
  readonly subscriberLink: LinkOptions;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly clients: number;
  readonly topics: number;
  readonly qos: QoS;
  readonly size: number;
  readonly messages: number;
  readonly duration: number;
  readonly topic: string;
  readonly rate: number;
  readonly inflight: number;
  readonly hold: number;
  readonly protocolVersion: ProtocolVersion;
  readonly sessionExpiry: number | undefined;
  readonly timeout: number;
  readonly onStage: ((stage: BenchStage) => void | Promise<void>) | undefined;
  readonly onProgress: ((progress: BenchProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

const MAX_CLIENTS = 100_000;
const MAX_TOPICS = 1_000_000;
const MAX_MESSAGES = 1_000_000_000;
const MAX_SECONDS = 24 * 3600;

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

/**
 * Checks options and fills in the defaults.
 *
 * @throws {RangeError | TypeError} If an option is invalid.
 */
export function resolveOptions(options: BenchOptions): Resolved {
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
  let sessionExpiry: number | undefined;
  if (options.sessionExpiry !== undefined) {
    if (version !== 5) {
      throw new TypeError(
        "Cannot run benchmark: sessionExpiry needs protocolVersion 5",
      );
    }
    sessionExpiry = number(
      "sessionExpiry",
      options.sessionExpiry,
      0,
      1,
      0xffffffff,
    );
  }
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
  const subscriberPort = options.subscriberPort === undefined
    ? undefined
    : number("subscriberPort", options.subscriberPort, port, 1, 65535);
  if (subscriberPort !== undefined && link.transport === "ws") {
    throw new TypeError(
      "Cannot run benchmark: subscriberPort needs TCP or TLS, not a WebSocket url",
    );
  }
  const hostnames = options.hostnames ?? [hostname];
  if (
    hostnames.length === 0 ||
    hostnames.some((h) => typeof h !== "string" || h === "")
  ) {
    throw new TypeError(
      "Cannot run benchmark: hostnames must be a non-empty list of addresses",
    );
  }
  if (options.hostnames !== undefined && link.transport === "ws") {
    throw new TypeError(
      "Cannot run benchmark: hostnames needs TCP or TLS, not a WebSocket url",
    );
  }
  link = { ...link, hostname: hostnames[0]! };
  return {
    scenario,
    link,
    hostnames,
    subscriberLink: subscriberPort === undefined
      ? link
      : { ...link, port: subscriberPort },
    username: options.username,
    password: options.password,
    clients: number(
      "clients",
      options.clients,
      scenario === "conn" ? 1000 : 10,
      1,
      MAX_CLIENTS,
    ),
    topics: number("topics", options.topics, 1000, 1, MAX_TOPICS),
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
    hold: number(
      "hold",
      options.hold,
      scenario === "conn" ? 1 : 0,
      0,
      MAX_SECONDS,
      false,
    ),
    protocolVersion: version,
    sessionExpiry,
    timeout: number("timeout", options.timeout, 10, 0.001, 3600, false) * 1000,
    onStage: options.onStage,
    onProgress: options.onProgress,
    signal: options.signal,
  };
}
