/**
 * Counters and gauges of one server. Counters only ever grow.
 *
 * @module
 */

import {
  PACKET_TYPES,
  type PacketType,
  type QoS,
} from "../../packets/types.ts";
import type { DropReason, SessionTerminatedReason } from "../types.ts";

/** Packets and bytes by packet type. */
export type PacketCounts = Record<
  PacketType,
  { packets: number; bytes: number }
>;

function packetCounts(): PacketCounts {
  const counts = {} as PacketCounts;
  for (const t of PACKET_TYPES) counts[t] = { packets: 0, bytes: 0 };
  return counts;
}

/** A snapshot of a server's counters. */
export interface MetricsSnapshot {
  /** Network connections open now. */
  readonly connectionsCurrent: number;
  /** Network connections accepted since start. */
  readonly connectionsTotal: number;
  /** Clients accepted by CONNACK since start. */
  readonly clientsConnected: number;
  /** Clients whose connection ended since start. */
  readonly clientsDisconnected: number;
  /** Sessions made since start. */
  readonly sessionsCreated: number;
  /** Sessions ended since start, by reason. */
  readonly sessionsTerminated: Readonly<
    Record<SessionTerminatedReason, number>
  >;
  /** Subscriptions held now. */
  readonly subscriptionsCurrent: number;
  /** Subscriptions made since start. */
  readonly subscriptionsTotal: number;
  /**
   * Messages accepted for routing from clients and the embedding API, by
   * QoS; the server's own `$SYS` messages are counted apart.
   */
  readonly messagesReceived: readonly [number, number, number];
  /** `$SYS` messages the server published itself. */
  readonly sysMessagesPublished: number;
  /** Payload bytes accepted for routing. */
  readonly messageBytesReceived: number;
  /** Messages written to subscribers, by delivery QoS. */
  readonly messagesSent: readonly [number, number, number];
  /** Payload bytes written to subscribers. */
  readonly messageBytesSent: number;
  /** Messages not delivered, by QoS. */
  readonly messagesDropped: readonly [number, number, number];
  /** Messages not delivered, by reason. */
  readonly messagesDroppedByReason: Readonly<Record<DropReason, number>>;
  /** Messages that matched no subscription. */
  readonly messagesUnrouted: number;
  /** Packets and bytes read, by packet type. */
  readonly received: Readonly<PacketCounts>;
  /** Packets and bytes written, by packet type. */
  readonly sent: Readonly<PacketCounts>;
}

/**
 * What `Server.metrics()` returns: the counters and the state of sessions,
 * retained and queued messages now. `renderPrometheus` and `$SYS` read it.
 */
export interface ServerMetrics extends MetricsSnapshot {
  /** Sessions whose client is connected. */
  readonly sessionsActive: number;
  /** Persistent sessions whose client is not connected. */
  readonly sessionsInactive: number;
  /** Retained messages held now. */
  readonly retainedMessages: number;
  /** Outgoing QoS 1/2 messages waiting for an acknowledgement, all sessions. */
  readonly inflightMessages: number;
  /** Messages waiting in session queues, all sessions. */
  readonly queuedMessages: number;
}

/** The mutable counters behind {@linkcode MetricsSnapshot}. */
export class Metrics {
  connectionsCurrent = 0;
  connectionsTotal = 0;
  clientsConnected = 0;
  clientsDisconnected = 0;
  sessionsCreated = 0;
  sessionsTerminated: Record<SessionTerminatedReason, number> = {
    normal: 0,
    taken_over: 0,
    expired: 0,
    kicked: 0,
  };
  subscriptionsCurrent = 0;
  subscriptionsTotal = 0;
  messagesReceived: [number, number, number] = [0, 0, 0];
  messageBytesReceived = 0;
  sysMessagesPublished = 0;
  messagesSent: [number, number, number] = [0, 0, 0];
  messageBytesSent = 0;
  messagesDropped: [number, number, number] = [0, 0, 0];
  messagesDroppedByReason: Record<DropReason, number> = {
    expired: 0,
    queue_full: 0,
    output_full: 0,
    not_authorized: 0,
    hook: 0,
    packet_too_large: 0,
    session_ended: 0,
    offline: 0,
  };
  messagesUnrouted = 0;
  received: PacketCounts = packetCounts();
  sent: PacketCounts = packetCounts();

  connectionOpened(): void {
    this.connectionsCurrent++;
    this.connectionsTotal++;
  }
  connectionClosed(): void {
    this.connectionsCurrent--;
  }
  clientConnected(): void {
    this.clientsConnected++;
  }
  clientDisconnected(): void {
    this.clientsDisconnected++;
  }
  sessionCreated(): void {
    this.sessionsCreated++;
  }
  sessionTerminated(reason: SessionTerminatedReason): void {
    this.sessionsTerminated[reason]++;
  }
  subscriptionAdded(): void {
    this.subscriptionsCurrent++;
    this.subscriptionsTotal++;
  }
  subscriptionRemoved(): void {
    this.subscriptionsCurrent--;
  }
  messageReceived(qos: QoS, bytes: number): void {
    this.messagesReceived[qos]++;
    this.messageBytesReceived += bytes;
  }
  sysMessagePublished(): void {
    this.sysMessagesPublished++;
  }
  messageSent(qos: QoS, bytes: number): void {
    this.messagesSent[qos]++;
    this.messageBytesSent += bytes;
  }
  messageDropped(qos: QoS, reason: DropReason): void {
    this.messagesDropped[qos]++;
    this.messagesDroppedByReason[reason]++;
  }
  messageUnrouted(): void {
    this.messagesUnrouted++;
  }
  packetIn(type: PacketType, bytes: number): void {
    const c = this.received[type];
    c.packets++;
    c.bytes += bytes;
  }
  packetOut(type: PacketType, bytes: number): void {
    const c = this.sent[type];
    c.packets++;
    c.bytes += bytes;
  }

  /** A deep copy of the counters. */
  snapshot(): MetricsSnapshot {
    return structuredClone({
      connectionsCurrent: this.connectionsCurrent,
      connectionsTotal: this.connectionsTotal,
      clientsConnected: this.clientsConnected,
      clientsDisconnected: this.clientsDisconnected,
      sessionsCreated: this.sessionsCreated,
      sessionsTerminated: this.sessionsTerminated,
      subscriptionsCurrent: this.subscriptionsCurrent,
      subscriptionsTotal: this.subscriptionsTotal,
      messagesReceived: this.messagesReceived,
      messageBytesReceived: this.messageBytesReceived,
      messagesSent: this.messagesSent,
      messageBytesSent: this.messageBytesSent,
      messagesDropped: this.messagesDropped,
      messagesDroppedByReason: this.messagesDroppedByReason,
      messagesUnrouted: this.messagesUnrouted,
      sysMessagesPublished: this.sysMessagesPublished,
      received: this.received,
      sent: this.sent,
    });
  }
}
