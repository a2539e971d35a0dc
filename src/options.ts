/**
 * The server's options: what can be set, the defaults, and the checks.
 *
 * @module
 */

import type { QoS } from "../packets/types.ts";
import type { Hooks } from "./hooks.ts";
import type { Logger } from "./logger.ts";

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
  /** Largest packet accepted, in bytes; 268,435,460 (the protocol's limit) by default. */
  maxPacketSize?: number;
  /** Largest keep-alive in seconds a 5.0 client may use (0 for none); 0 by default. */
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
  /** Bytes of unsent output per connection past which QoS 0 messages to it are dropped; 1 MiB by default. */
  maxOutputBuffer?: number;
  /** Seconds a new connection has to send CONNECT; 10 by default. */
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
  /** Milliseconds between checks of keep-alive and expiry; 1000 by default. */
  sweepInterval?: number;
  /** Current time in milliseconds, `Date.now` by default; tests fake it. */
  now?: () => number;
  /**
   * Statistics published to `$SYS/broker/...` while started: `interval` in
   * seconds, 10 by default, 0 disables.
   */
  sys?: { interval?: number };
}

/** Server options with every default filled in. */
export interface ResolvedOptions {
  readonly maxInflight: number;
  readonly maxQueuedMessages: number;
  readonly queueQoS0Messages: boolean;
  readonly maxPacketSize: number;
  readonly maxKeepAlive: number;
  readonly retainAvailable: boolean;
  readonly allowEmptyClientId: boolean;
  readonly maxQoS: QoS;
  readonly maxSessionExpiryInterval: number;
  readonly topicAliasMaximum: number;
  readonly maxOutputBuffer: number;
  readonly connectTimeout: number;
  readonly messageExpiry: number;
  readonly receiveMaximum: number;
  readonly wildcardSubscriptionAvailable: boolean;
  readonly subscriptionIdentifiersAvailable: boolean;
  readonly sharedSubscriptionAvailable: boolean;
}

const DEFAULTS: ResolvedOptions = {
  maxInflight: 32,
  maxQueuedMessages: 1000,
  queueQoS0Messages: true,
  maxPacketSize: 268435460,
  maxKeepAlive: 0,
  retainAvailable: true,
  allowEmptyClientId: true,
  maxQoS: 2,
  maxSessionExpiryInterval: 7200,
  topicAliasMaximum: 10,
  maxOutputBuffer: 1 << 20,
  connectTimeout: 10,
  messageExpiry: 0,
  receiveMaximum: 65535,
  wildcardSubscriptionAvailable: true,
  subscriptionIdentifiersAvailable: true,
  sharedSubscriptionAvailable: true,
};

/**
 * Checks the options and fills in the defaults.
 *
 * @throws {RangeError} If an option is out of range.
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
