/**
 * The server's options: what can be set, the defaults, and the checks.
 *
 * @module
 */

import type { QoS } from "../../packets/types.ts";
import type { Hooks } from "../hooks/hooks.ts";
import type { Logger } from "../observe/logger.ts";
import type { ProtocolOptions } from "../protocol/options.ts";
import type { Bus, Store } from "../core/ports.ts";
import type {
  QueueFullPolicy,
  SessionOwnerChange,
  SharedSubscriptionOffline,
} from "../core/options.ts";

export type { QueueFullPolicy, SessionOwnerChange, SharedSubscriptionOffline };

/** Options for {@linkcode Server}. */
export interface ServerOptions {
  /** Hooks, called in this order; none by default. */
  hooks?: Hooks | Hooks[];
  /** Where the server reports what it does; silent by default. */
  logger?: Logger;
  /** QoS 1 and 2 messages in flight per client before more are queued; 32 by default (1 to 65,535). */
  maxInflight?: number;
  /** Messages queued per session, 1000 by default; expired go first, then QoS 0, then the oldest. */
  maxQueuedMessages?: number;
  /** Whether QoS 0 messages are queued for offline persistent sessions; true by default. */
  queueQoS0Messages?: boolean;
  /**
   * What happens when a client publishes to an online subscriber whose
   * queue is full (past `maxQueuedMessages`, `maxQueuedBytes` or
   * `maxQueuedMemory`); "backpressure" by default:
   *
   * - "backpressure": the queue holds the message over its limit and the
   *   publisher's connection is read no more (its PUBACK or PUBREC waits
   *   too) until the queue is back to half its limits, so nothing
   *   acknowledged is lost. A slow subscriber then slows the clients that
   *   publish to it, and one that never acknowledges stalls them while it
   *   stays online. Queues of offline sessions, and messages from
   *   `Server.publish`, wills and `$SYS`, drop as with "drop".
   * - "drop": the queue drops by its policy (expired, then QoS 0, then the
   *   oldest), and the publisher is never paused.
   *
   * Every drop is counted by reason and logged at warn, at most one line per
   * subscriber per 10 seconds with the count since the last line.
   */
  queueFull?: QueueFullPolicy;
  /**
   * Largest packet accepted, in bytes; 1 MiB by default (the protocol allows
   * up to 268,435,460). Past it the connection is closed (0x95 in 5.0).
   */
  maxPacketSize?: number;
  /**
   * Longest keep-alive in seconds a client may use (0 for none); 0 by
   * default. A 5.0 client is told (Server Keep Alive); a 3.1 or 3.1.1 client
   * that asks for 0 or for more is held to it all the same.
   */
  maxKeepAlive?: number;
  /** Whether retained messages are supported; true by default. */
  retainAvailable?: boolean;
  /** Whether a client may connect with an empty client id (it is given one); true by default. */
  allowEmptyClientId?: boolean;
  /** Highest QoS granted to subscriptions and accepted from 5.0 clients; 2 by default. */
  maxQoS?: QoS;
  /**
   * Seconds an offline persistent session is kept: the limit for 5.0 clients'
   * session expiry, and the expiry of 3.1.1 clean-session-0 sessions;
   * 7200 by default; 4,294,967,295 keeps them for ever.
   */
  sessionExpiry?: number;
  /** Topic aliases a 5.0 client may set per connection; 10 by default. */
  topicAliasMaximum?: number;
  /**
   * Topic aliases the server sets per 5.0 connection for the topics it
   * sends, at most as many as the client's Topic Alias Maximum; the topic
   * sent least recently gives up its alias first. 10 by default; 0 sends
   * every topic in full.
   */
  topicAliasMaximumOut?: number;
  /**
   * Bytes of unsent output per connection, 1 MiB by default. Past it QoS 0
   * messages to it are dropped, nothing more is read from it until its
   * output has drained below half (a client that sends and never reads is
   * then closed at its keep-alive), and retained messages to it wait.
   */
  maxOutputBuffer?: number;
  /**
   * Seconds a new connection has to send CONNECT; 10 by default. A CONNECT
   * that arrived and waits for async `checkConnect` hooks (a password check
   * in a queue, say) is not closed by it, but three times this after the
   * connection opened it is.
   */
  connectTimeout?: number;
  /**
   * Seconds a message without a Message Expiry Interval of its own may wait
   * in a session's queue before it is dropped as expired; 0 (the default)
   * lets it wait as long as the session lasts.
   */
  messageExpiry?: number;
  /**
   * QoS 2 messages a 5.0 client may have unreleased at once (the server's
   * Receive Maximum, 1 to 65,535); 65,535 by default. More is a protocol
   * breach (0x93).
   */
  receiveMaximum?: number;
  /** Whether filters may hold wildcards; true by default. */
  wildcardSubscriptionAvailable?: boolean;
  /** Whether 5.0 SUBSCRIBE may carry a Subscription Identifier; true by default. */
  subscriptionIdentifiersAvailable?: boolean;
  /** Whether `$share/{group}/{filter}` subscriptions are served; true by default. */
  sharedSubscriptionAvailable?: boolean;
  /**
   * Which members of a shared subscription group whose session is offline
   * get messages; "online_first" by default:
   * - "online_first": messages go in turn to the online members; an offline
   *   member gets (has queued) nothing while another member is online, and
   *   the offline members take turns only when none is online;
   * - "round_robin": every member takes its turn, online or not; an offline
   *   member's share is queued in its session until it returns (or expires).
   */
  sharedSubscriptionOffline?: SharedSubscriptionOffline;
  /** Milliseconds between checks of keep-alive and expiry; 1000 by default. */
  sweepInterval?: number;
  /**
   * Network connections served at once; 20,000 by default. Past it a new
   * connection is closed as soon as it is accepted, and a warning is logged
   * at most once a minute.
   */
  maxConnections?: number;
  /**
   * Sessions kept, online and offline; 100,000 by default. A CONNECT that
   * would make one more is refused (0x97 Quota exceeded, 3.1.1 code 3).
   */
  maxSessions?: number;
  /**
   * Subscriptions one session may hold; 1000 by default. A filter past it
   * is refused in SUBACK (0x97, or 0x80 in 3.1.1).
   */
  maxSubscriptionsPerClient?: number;
  /**
   * Topic filters one SUBSCRIBE or UNSUBSCRIBE may list; 256 by default.
   * More is a protocol error that closes the connection (0x97 in 5.0).
   */
  maxFiltersPerSubscribe?: number;
  /**
   * Levels a topic name or filter may have; 128 by default. A PUBLISH past
   * it is refused as a bad topic (0x90), a filter in SUBACK (0x8F).
   */
  maxTopicLevels?: number;
  /**
   * Retained messages kept; 100,000 by default. Past it a message on a new
   * topic is delivered but not retained (a warning is logged at most once a
   * minute); replacing or deleting a retained message always works. The
   * server's own `$SYS` topics are not counted, here or in
   * `maxRetainedBytes`.
   */
  maxRetainedMessages?: number;
  /**
   * Bytes of retained messages kept, each counting its topic length and
   * payload bytes; 64 MiB by default. Past it a message on a new topic is
   * delivered but not retained, as above; a replacement that would grow the
   * total past it deletes the old message too (no stale value is served).
   */
  maxRetainedBytes?: number;
  /**
   * Bytes of messages queued per session, each counting its topic length,
   * payload bytes and 64 bytes of overhead; 8 MiB by default. When full the
   * queue drops as it does at `maxQueuedMessages` ("queue_full").
   */
  maxQueuedBytes?: number;
  /**
   * Bytes of messages queued across all sessions, counted as for
   * `maxQueuedBytes`; 256 MiB by default. Past it a message that would be
   * queued (for an offline client, or beyond an online client's in-flight
   * window) is dropped ("queue_full").
   */
  maxQueuedMemory?: number;
  /**
   * What happens when a client connects with the client id of an existing
   * session (online or offline) that was made under another user name (or
   * with one where it had none, or the other way round); "refuse" by
   * default:
   *
   * - "refuse": the CONNECT is refused with "not authorized" (0x87; CONNACK
   *   return code 5 before 5.0), and the existing connection and session
   *   are left as they are;
   * - "clean": the old session is discarded (its connection is taken over)
   *   and the client starts with a new, empty one.
   *
   * A session never changes owner with its subscriptions and queue.
   */
  sessionOwnerChange?: SessionOwnerChange;
  /** Current time in milliseconds, `Date.now` by default; tests fake it. */
  now?: () => number;
  /**
   * Statistics published to `$SYS/broker/...` while started: `interval` in
   * seconds, 10 by default, 0 disables.
   */
  sys?: { interval?: number };
  /**
   * Where the state that must survive a restart is written (sessions,
   * subscriptions, queued and in-flight messages, retained messages) and
   * read back by `start()`: a new `MemoryStore` by default, which
   * keeps it for as long as the process runs. The server flushes it when it
   * stops but does not close it: it belongs to whoever made it.
   */
  store?: Store;
  /**
   * How messages and session takeovers reach other nodes of a cluster;
   * this node alone (`LocalBus`) by default.
   */
  bus?: Bus;
}

/** Server options with every default filled in. */
export type ResolvedOptions = ProtocolOptions;

const DEFAULTS: ResolvedOptions = {
  maxInflight: 32,
  maxQueuedMessages: 1000,
  queueQoS0Messages: true,
  queueFull: "backpressure",
  maxPacketSize: 1 << 20,
  maxKeepAlive: 0,
  retainAvailable: true,
  allowEmptyClientId: true,
  maxQoS: 2,
  maxSessionExpiryInterval: 7200,
  topicAliasMaximum: 10,
  topicAliasMaximumOut: 10,
  maxOutputBuffer: 1 << 20,
  connectTimeout: 10,
  messageExpiry: 0,
  receiveMaximum: 65535,
  wildcardSubscriptionAvailable: true,
  subscriptionIdentifiersAvailable: true,
  sharedSubscriptionAvailable: true,
  sharedSubscriptionOffline: "online_first",
  maxConnections: 20000,
  maxSessions: 100000,
  maxSubscriptionsPerClient: 1000,
  maxFiltersPerSubscribe: 256,
  maxTopicLevels: 128,
  maxRetainedMessages: 100000,
  maxRetainedBytes: 64 << 20,
  maxQueuedBytes: 8 << 20,
  maxQueuedMemory: 256 << 20,
  sessionOwnerChange: "refuse",
};

/**
 * Checks the options and fills in the defaults.
 *
 * @throws {RangeError} If an option is out of range.
 * @throws {TypeError} If `sessionOwnerChange`, `sharedSubscriptionOffline`
 *   or `queueFull` is not one of its values.
 */
export function resolveOptions(
  options: ServerOptions,
): { resolved: ResolvedOptions; sweepInterval: number } {
  const resolved: ResolvedOptions = {
    maxInflight: int(
      "maxInflight",
      options.maxInflight,
      DEFAULTS.maxInflight,
      1,
      65535,
    ),
    maxQueuedMessages: int(
      "maxQueuedMessages",
      options.maxQueuedMessages,
      DEFAULTS.maxQueuedMessages,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    queueQoS0Messages: options.queueQoS0Messages ??
      DEFAULTS.queueQoS0Messages,
    queueFull: oneOf(
      "queueFull",
      options.queueFull,
      DEFAULTS.queueFull,
      ["backpressure", "drop"],
    ),
    maxPacketSize: int(
      "maxPacketSize",
      options.maxPacketSize,
      DEFAULTS.maxPacketSize,
      2,
      268435460,
    ),
    maxKeepAlive: int(
      "maxKeepAlive",
      options.maxKeepAlive,
      DEFAULTS.maxKeepAlive,
      0,
      65535,
    ),
    retainAvailable: options.retainAvailable ?? DEFAULTS.retainAvailable,
    allowEmptyClientId: options.allowEmptyClientId ??
      DEFAULTS.allowEmptyClientId,
    maxQoS: int("maxQoS", options.maxQoS, DEFAULTS.maxQoS, 0, 2) as QoS,
    maxSessionExpiryInterval: int(
      "sessionExpiry",
      options.sessionExpiry,
      DEFAULTS.maxSessionExpiryInterval,
      0,
      0xffffffff,
    ),
    topicAliasMaximum: int(
      "topicAliasMaximum",
      options.topicAliasMaximum,
      DEFAULTS.topicAliasMaximum,
      0,
      65535,
    ),
    topicAliasMaximumOut: int(
      "topicAliasMaximumOut",
      options.topicAliasMaximumOut,
      DEFAULTS.topicAliasMaximumOut,
      0,
      65535,
    ),
    maxOutputBuffer: int(
      "maxOutputBuffer",
      options.maxOutputBuffer,
      DEFAULTS.maxOutputBuffer,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    connectTimeout: int(
      "connectTimeout",
      options.connectTimeout,
      DEFAULTS.connectTimeout,
      1,
      86400,
    ),
    messageExpiry: int(
      "messageExpiry",
      options.messageExpiry,
      DEFAULTS.messageExpiry,
      0,
      0xffffffff,
    ),
    receiveMaximum: int(
      "receiveMaximum",
      options.receiveMaximum,
      DEFAULTS.receiveMaximum,
      1,
      65535,
    ),
    wildcardSubscriptionAvailable: options.wildcardSubscriptionAvailable ??
      DEFAULTS.wildcardSubscriptionAvailable,
    subscriptionIdentifiersAvailable:
      options.subscriptionIdentifiersAvailable ??
        DEFAULTS.subscriptionIdentifiersAvailable,
    sharedSubscriptionAvailable: options.sharedSubscriptionAvailable ??
      DEFAULTS.sharedSubscriptionAvailable,
    sharedSubscriptionOffline: oneOf(
      "sharedSubscriptionOffline",
      options.sharedSubscriptionOffline,
      DEFAULTS.sharedSubscriptionOffline,
      ["online_first", "round_robin"],
    ),
    maxConnections: int(
      "maxConnections",
      options.maxConnections,
      DEFAULTS.maxConnections,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxSessions: int(
      "maxSessions",
      options.maxSessions,
      DEFAULTS.maxSessions,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxSubscriptionsPerClient: int(
      "maxSubscriptionsPerClient",
      options.maxSubscriptionsPerClient,
      DEFAULTS.maxSubscriptionsPerClient,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxFiltersPerSubscribe: int(
      "maxFiltersPerSubscribe",
      options.maxFiltersPerSubscribe,
      DEFAULTS.maxFiltersPerSubscribe,
      1,
      65535,
    ),
    maxTopicLevels: int(
      "maxTopicLevels",
      options.maxTopicLevels,
      DEFAULTS.maxTopicLevels,
      1,
      65535,
    ),
    maxRetainedMessages: int(
      "maxRetainedMessages",
      options.maxRetainedMessages,
      DEFAULTS.maxRetainedMessages,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    maxRetainedBytes: int(
      "maxRetainedBytes",
      options.maxRetainedBytes,
      DEFAULTS.maxRetainedBytes,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    maxQueuedBytes: int(
      "maxQueuedBytes",
      options.maxQueuedBytes,
      DEFAULTS.maxQueuedBytes,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    maxQueuedMemory: int(
      "maxQueuedMemory",
      options.maxQueuedMemory,
      DEFAULTS.maxQueuedMemory,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    sessionOwnerChange: oneOf(
      "sessionOwnerChange",
      options.sessionOwnerChange,
      DEFAULTS.sessionOwnerChange,
      ["refuse", "clean"],
    ),
  };
  const sweepInterval = int(
    "sweepInterval",
    options.sweepInterval,
    1000,
    1,
    3600_000,
  );
  return { resolved, sweepInterval };
}

function int(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot create server: ${name} must be an integer from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}

function oneOf<T extends string>(
  name: string,
  value: T | undefined,
  fallback: T,
  allowed: readonly T[],
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new TypeError(
      `Cannot create server: ${name} must be ${
        allowed.map((a) => JSON.stringify(a)).join(" or ")
      }, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
