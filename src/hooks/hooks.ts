/**
 * Hooks let an embedding program decide on and observe what the broker does.
 *
 * `checkX` members decide: they answer with a reason code of 0x80 and above
 * (a {@linkcode RefusalCode}) to refuse, or `undefined` to let the action go
 * ahead; each member's answer type says what else it may answer. `onX`
 * members only observe. All are optional and may be async. Hooks run in the
 * order given to the server; for a decision the first refusal wins and later
 * hooks are not asked. A hook that throws (or rejects) never crashes the
 * broker: the error is logged, a `check` hook's throw counts as a refusal
 * (Unspecified error, 0x80 / CONNACK 3), and an `on` hook's throw is ignored.
 * A `check` hook that answers something its type does not allow (from
 * JavaScript, say a 3.1.1 return code such as 5 from `checkPublish`) is
 * treated as one that throws: the answer is logged as a hook error and counts
 * as a refusal with Unspecified error (0x80), so an answer the broker does
 * not understand never lets an action through.
 *
 * @module
 */

import type {
  ConnackRefusalCode,
  RefusalCode,
} from "../../packets/reason_code.ts";
import type {
  ConnectPacket,
  PublishPacket,
  QoS,
  Subscription,
} from "../../packets/types.ts";
import type { Awaitable } from "../core/awaitable.ts";
import type { Message } from "../message.ts";
import type {
  ClientInfo,
  ConnectionInfo,
  DropReason,
  SessionTerminatedReason,
} from "../types.ts";

export type {
  ClientInfo,
  ConnectionInfo,
  DropReason,
  SessionTerminatedReason,
  TransportKind,
} from "../types.ts";

export type { Awaitable };

/**
 * The answer of {@linkcode Hooks.checkPublish} and
 * {@linkcode Hooks.checkUnsubscribe}: a {@linkcode RefusalCode} (0x80 and
 * above) refuses; `undefined` lets the action go ahead.
 */
export type Verdict = Awaitable<RefusalCode | undefined | void>;

/**
 * The answer of {@linkcode Hooks.checkConnect}: a {@linkcode RefusalCode}
 * (0x80 and above) or a 3.1.1 return code ({@linkcode ConnackRefusalCode},
 * 1 to 5) refuses the connection; `undefined` accepts it.
 */
export type ConnectVerdict = Awaitable<
  RefusalCode | ConnackRefusalCode | undefined | void
>;

/**
 * A grant from {@linkcode Hooks.checkSubscribe} that asks for a check of
 * each message the subscription would receive.
 */
export interface SubscribeGrant {
  /** The highest QoS granted; what was asked by default. */
  readonly qos?: QoS;
  /**
   * Whether each message bound to this subscription first goes through the
   * {@linkcode Hooks.checkDeliver} hooks; `false` by default.
   */
  readonly checkDeliver?: boolean;
}

/**
 * The answer of {@linkcode Hooks.checkSubscribe}: a QoS (0, 1, 2) grants at
 * most that QoS, a {@linkcode SubscribeGrant} grants and may mark the
 * subscription, a {@linkcode RefusalCode} (0x80 and above) refuses the
 * filter, and `undefined` grants what was asked.
 */
export type SubscribeVerdict = Awaitable<
  QoS | RefusalCode | SubscribeGrant | undefined | void
>;

/**
 * The answer of {@linkcode Hooks.checkDeliver}: a {@linkcode RefusalCode}
 * (0x80 and above) withholds the message, `undefined` lets it go; it is
 * synchronous, never a promise.
 */
export type DeliverVerdict = RefusalCode | undefined | void;

/** The answer of {@linkcode Hooks.transformMessage}. */
export type MessageVerdict = Awaitable<Message | null | undefined | void>;

/** The hooks of a server; every member is optional. */
export interface Hooks {
  /**
   * Decides on a new network connection before anything is read from it, for
   * block lists and rate limits. `false` closes the connection at once.
   */
  checkAccept?(
    connection: ConnectionInfo,
  ): Awaitable<boolean | undefined | void>;
  /**
   * Authenticates a CONNECT before the CONNACK is sent. A reason code refuses
   * the connection: MQTT 5.0 codes (0x86 bad user name or password, 0x87 not
   * authorized, ...) are sent as the nearest 3.1.1 return code (4, 5, ...) to
   * older clients; 3.1.1 return codes 1 to 5 are also understood, and are
   * sent to 5.0 clients as the matching 5.0 code (5 as 0x87, 4 as 0x86, 3 as
   * 0x88, 2 as 0x85, 1 as 0x84).
   *
   * `signal` aborts when the connection closes before the hooks have
   * answered (the client left, the server stopped, or the CONNACK took more
   * than three times the connect timeout): a slow check (a password hash, a
   * call to another service) may then give up, as its answer goes nowhere.
   * The broker always passes one; it is optional for callers of the hook.
   * While a CONNECT waits for these hooks, the connect timeout does not
   * apply to its connection; three times the connect timeout closes it.
   */
  checkConnect?(
    client: ClientInfo,
    packet: ConnectPacket,
    signal?: AbortSignal,
  ): ConnectVerdict;
  /** Observes a client whose CONNACK accepted it. */
  onConnected?(client: ClientInfo): void | Promise<void>;
  /** Observes a new session, made for a client that had none or asked for a clean one. */
  onSessionCreated?(client: ClientInfo): void | Promise<void>;
  /** Observes a client taking up its stored session again. */
  onSessionResumed?(client: ClientInfo): void | Promise<void>;
  /** Observes the end of a session and why. */
  onSessionTerminated?(
    clientId: string,
    reason: SessionTerminatedReason,
  ): void | Promise<void>;
  /**
   * Decides on one topic filter of a SUBSCRIBE: this is the subscription ACL.
   * Answer a QoS (0, 1, 2) to grant at most that QoS, a failure code (0x80 and
   * above) to refuse the filter (3.1.1 clients see 0x80), or `undefined` to
   * grant what was asked. Answer a {@linkcode SubscribeGrant} with
   * `checkDeliver: true` to grant a subscription that may receive some topics
   * the client must not get: the subscription is marked, and every message
   * bound to it goes through {@linkcode Hooks.checkDeliver} first. Other
   * subscriptions pay nothing for it.
   */
  checkSubscribe?(
    client: ClientInfo,
    subscription: Subscription,
  ): SubscribeVerdict;
  /**
   * Decides on one message bound for a subscription that a `checkSubscribe`
   * hook marked (see {@linkcode SubscribeGrant}), and on nothing else. A
   * failure code (0x80 and above) withholds the message from that
   * subscription: live deliveries, messages queued for an offline session
   * (checked when queued), retained messages sent on subscribe and wills
   * alike; a shared subscription picks another member instead, or drops the
   * message when no member may receive it. A withheld message is reported
   * to `onMessageDropped` as "not_authorized", unless another subscription
   * of the client delivers it. `client` is what the session's current owner
   * connected with (its last connection while it is offline), so a check
   * answers for the user who holds the session now.
   *
   * It runs while a message is routed and must answer synchronously: a
   * promise (or a throw) counts as a refusal and is logged.
   */
  checkDeliver?(client: ClientInfo, message: Message): DeliverVerdict;
  /** Observes a subscription that was made, with the QoS granted. */
  onSubscribed?(
    client: ClientInfo,
    subscription: Subscription,
    grantedQoS: QoS,
  ): void | Promise<void>;
  /** Decides on one topic filter of an UNSUBSCRIBE; a reason code keeps the subscription. */
  checkUnsubscribe?(client: ClientInfo, topicFilter: string): Verdict;
  /** Observes a removed subscription. */
  onUnsubscribed?(
    client: ClientInfo,
    topicFilter: string,
  ): void | Promise<void>;
  /**
   * Decides on a PUBLISH from a client before it is routed: the publish ACL.
   * A refused QoS 1 or 2 publish is still acknowledged (with this reason code
   * in 5.0) and is reported to `onMessageDropped` as "not_authorized".
   */
  checkPublish?(client: ClientInfo, packet: PublishPacket): Verdict;
  /**
   * Sees every message before it is routed, the server's own included
   * (`client` is `undefined` then). Return a message to route instead,
   * `null` to drop it (reported as "hook"), or `undefined` to route it as is.
   * A dropped QoS 1 or 2 publish is still acknowledged.
   */
  transformMessage?(
    client: ClientInfo | undefined,
    message: Message,
  ): MessageVerdict;
  /** Observes a message written to a subscriber's connection. */
  onDelivered?(client: ClientInfo, message: Message): void | Promise<void>;
  /**
   * Observes a message that was not delivered: `clientId` is the subscriber
   * it was meant for, or `undefined` when it was not routed at all.
   */
  onMessageDropped?(
    clientId: string | undefined,
    message: Message,
    reason: DropReason,
  ): void | Promise<void>;
  /**
   * Observes the end of a network connection. `client` is `undefined` when
   * it ended before a successful CONNECT; `error` says why it ended when not
   * by DISCONNECT.
   */
  onClosed?(
    connection: ConnectionInfo,
    client: ClientInfo | undefined,
    error: Error | undefined,
  ): void | Promise<void>;
  /** Observes the end of a graceful stop, after every connection closed. */
  onStop?(): void | Promise<void>;
}
