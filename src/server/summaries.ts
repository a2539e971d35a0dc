/**
 * What the embedding API reports of clients, sessions and subscriptions.
 *
 * @module
 */

import type { Subscription } from "../../packets/types.ts";
import type { Connection } from "../protocol/connection.ts";
import type { ClientInfo } from "../types.ts";
import type { Session } from "../core/session.ts";

/** A client connected now. */
export interface ClientSummary extends ClientInfo {
  /** When it connected, in milliseconds since the epoch (server clock). */
  readonly connectedAt: number;
  /** Outgoing QoS 1/2 messages waiting for an acknowledgement. */
  readonly inflight: number;
  /** Most messages in flight to it at once (the server's `maxInflight`). */
  readonly inflightLimit: number;
  /** Messages waiting in its session's queue. */
  readonly queued: number;
  /** Most messages its session's queue holds. */
  readonly queueLimit: number;
  /** Number of subscriptions. */
  readonly subscriptions: number;
  /** Bytes read from the connection. */
  readonly bytesIn: number;
  /** Bytes written to the connection. */
  readonly bytesOut: number;
  /** Packets read from the connection. */
  readonly packetsIn: number;
  /** Packets written to the connection. */
  readonly packetsOut: number;
  /** PUBLISH packets the client sent. */
  readonly messagesIn: number;
  /** PUBLISH packets sent to the client. */
  readonly messagesOut: number;
  /** QoS 0 messages to the client dropped because it did not keep up. */
  readonly messagesDropped: number;
}

/** A subscription with the client id that holds it. */
export interface SubscriptionSummary extends Subscription {
  /** The subscriber. */
  readonly clientId: string;
  /** Share name of a `$share/{name}/{filter}` subscription. */
  readonly shareName?: string;
  /** Subscription identifier (MQTT 5.0). */
  readonly subscriptionId?: number;
}

/** A session, online or not. */
export interface SessionSummary {
  /** The client id it belongs to. */
  readonly clientId: string;
  /** User name its client last connected with, if any. */
  readonly username: string | undefined;
  /** Whether its client is connected. */
  readonly connected: boolean;
  /** When it was made. */
  readonly createdAt: number;
  /** When its client disconnected, if it is offline. */
  readonly disconnectedAt: number | undefined;
  /** Seconds it outlives its connection. */
  readonly expiryInterval: number;
  /** Outgoing QoS 1/2 messages waiting for an acknowledgement. */
  readonly inflight: number;
  /** Most messages in flight at once for its client. */
  readonly inflightLimit: number;
  /** Messages waiting in its queue. */
  readonly queued: number;
  /** Most messages its queue holds. */
  readonly queueLimit: number;
  /** Its subscriptions. */
  readonly subscriptions: Subscription[];
}

/** The summary of a connected client, or undefined before CONNECT. */
export function clientSummary(c: Connection): ClientSummary | undefined {
  const client = c.client;
  const session = c.session;
  if (client === undefined || session === undefined) return undefined;
  return {
    ...client,
    connectedAt: c.openedAt,
    inflight: session.inflightCount,
    inflightLimit: session.inflightLimit,
    queued: session.queued,
    queueLimit: session.queueLimit,
    subscriptions: session.subscriptionCount,
    ...c.stats,
  };
}

/** The summary of a session. */
export function sessionSummary(s: Session): SessionSummary {
  return {
    clientId: s.clientId,
    username: s.username,
    connected: s.output !== undefined,
    createdAt: s.createdAt,
    disconnectedAt: s.disconnectedAt,
    expiryInterval: s.expiryInterval,
    inflight: s.inflightCount,
    inflightLimit: s.inflightLimit,
    queued: s.queued,
    queueLimit: s.queueLimit,
    subscriptions: [...s.subscriptionEntries()].map(([filter, r]) => ({
      ...r,
      topicFilter: filter,
    })),
  };
}
