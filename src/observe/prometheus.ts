/**
 * Renders a server's metrics in the Prometheus text exposition format
 * (version 0.0.4): one `# HELP` and one `# TYPE` line per metric family,
 * then its samples. Counter families end in `_total`; gauges never do.
 *
 * @module
 */

import { PACKET_TYPES } from "../../packets/types.ts";
import type { DropReason, SessionTerminatedReason } from "../types.ts";
import type { MetricsSnapshot, ServerMetrics } from "../core/metrics.ts";
import type { ClusterStatus } from "../core/ports.ts";

export type { ServerMetrics };

/** The `Content-Type` of a Prometheus text exposition. */
export const PROMETHEUS_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

/** Process figures, as `Deno.memoryUsage()` returns them. */
export interface ProcessMemory {
  /** Resident set size in bytes. */
  readonly rss: number;
  /** V8 heap reserved, in bytes. */
  readonly heapTotal: number;
  /** V8 heap in use, in bytes. */
  readonly heapUsed: number;
  /** Memory of objects outside the V8 heap, in bytes. */
  readonly external: number;
}

/** Options for {@linkcode renderPrometheus}. */
export interface PrometheusOptions {
  /** Process memory to report; none by default. */
  memory?: ProcessMemory;
  /** When the process started, in milliseconds since the epoch; not reported by default. */
  startTime?: number;
  /** The cluster as this node sees it; not reported by default. */
  cluster?: ClusterStatus;
}

type Labels = Readonly<Record<string, string>>;
type Sample = readonly [Labels, number];

/**
 * Renders metrics in the Prometheus text exposition format. Every label
 * value the server knows (each QoS, packet type, drop and termination
 * reason) is present even at zero, so series do not appear from nowhere.
 *
 * @example Render the metrics of a server
 * ```ts
 * import { renderPrometheus, Server } from "@gmqtt/broker";
 * import { ok } from "node:assert/strict";
 *
 * const server = new Server();
 * await server.publish({ topic: "a/b", payload: "hi", qos: 1 });
 * const text = renderPrometheus(server.metrics(), {
 *   memory: Deno.memoryUsage(),
 * });
 * ok(text.includes("# TYPE gmqtt_messages_received_total counter\n"));
 * ok(text.includes('gmqtt_messages_received_total{qos="1"} 1\n'));
 * ```
 * @param metrics A snapshot such as `Server.metrics()` returns.
 * @param options Process figures to add.
 * @returns The exposition, ending with a newline.
 */
export function renderPrometheus(
  metrics: ServerMetrics,
  options: PrometheusOptions = {},
): string {
  const out: string[] = [];
  const family = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: readonly Sample[],
  ): void => {
    out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      out.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    }
  };
  const one = (value: number): Sample[] => [[{}, value]];
  const byQoS = (values: readonly number[]): Sample[] =>
    values.map((v, qos) => [{ qos: String(qos) }, v]);
  const byReason = (record: Readonly<Record<string, number>>): Sample[] =>
    Object.entries(record).map(([reason, v]) => [{ reason }, v]);
  const byType = (
    counts: MetricsSnapshot["received"],
    field: "packets" | "bytes",
  ): Sample[] => PACKET_TYPES.map((type) => [{ type }, counts[type][field]]);
  const m = metrics;

  family(
    "gmqtt_connections_current",
    "gauge",
    "Network connections open now.",
    one(m.connectionsCurrent),
  );
  family(
    "gmqtt_connections_total",
    "counter",
    "Network connections accepted since start.",
    one(m.connectionsTotal),
  );
  family(
    "gmqtt_clients_connected",
    "gauge",
    "Clients connected now.",
    one(m.sessionsActive),
  );
  family(
    "gmqtt_clients_disconnected",
    "gauge",
    "Clients offline now whose persistent session is kept.",
    one(m.sessionsInactive),
  );
  family(
    "gmqtt_client_connects_total",
    "counter",
    "Clients whose CONNECT was accepted since start.",
    one(m.clientsConnected),
  );
  family(
    "gmqtt_client_disconnects_total",
    "counter",
    "Connected clients that went offline since start.",
    one(m.clientsDisconnected),
  );
  family(
    "gmqtt_sessions_active",
    "gauge",
    "Sessions whose client is connected.",
    one(m.sessionsActive),
  );
  family(
    "gmqtt_sessions_inactive",
    "gauge",
    "Persistent sessions whose client is offline.",
    one(m.sessionsInactive),
  );
  family(
    "gmqtt_sessions_created_total",
    "counter",
    "Sessions made since start.",
    one(m.sessionsCreated),
  );
  family(
    "gmqtt_sessions_terminated_total",
    "counter",
    "Sessions ended since start, by reason.",
    byReason(
      m.sessionsTerminated satisfies Record<SessionTerminatedReason, number>,
    ),
  );
  family(
    "gmqtt_sessions_expired_total",
    "counter",
    "Offline sessions ended by their expiry since start.",
    one(m.sessionsTerminated.expired),
  );
  family(
    "gmqtt_subscriptions_current",
    "gauge",
    "Subscriptions held now.",
    one(m.subscriptionsCurrent),
  );
  family(
    "gmqtt_subscriptions_total",
    "counter",
    "Subscriptions made since start.",
    one(m.subscriptionsTotal),
  );
  family(
    "gmqtt_messages_received_total",
    "counter",
    "Messages accepted for routing, by QoS.",
    byQoS(m.messagesReceived),
  );
  family(
    "gmqtt_messages_received_bytes_total",
    "counter",
    "Payload bytes of the messages accepted for routing.",
    one(m.messageBytesReceived),
  );
  family(
    "gmqtt_messages_sent_total",
    "counter",
    "Messages written to subscribers, by delivery QoS.",
    byQoS(m.messagesSent),
  );
  family(
    "gmqtt_messages_sent_bytes_total",
    "counter",
    "Payload bytes of the messages written to subscribers.",
    one(m.messageBytesSent),
  );
  family(
    "gmqtt_messages_dropped_total",
    "counter",
    "Messages not delivered to a subscriber, by QoS.",
    byQoS(m.messagesDropped),
  );
  family(
    "gmqtt_messages_dropped_by_reason_total",
    "counter",
    "Messages not delivered to a subscriber, by reason.",
    byReason(m.messagesDroppedByReason satisfies Record<DropReason, number>),
  );
  family(
    "gmqtt_sys_messages_published_total",
    "counter",
    "$SYS messages the server published itself (not counted as received).",
    one(m.sysMessagesPublished),
  );
  family(
    "gmqtt_messages_unrouted_total",
    "counter",
    "Messages that matched no subscription.",
    one(m.messagesUnrouted),
  );
  family(
    "gmqtt_packets_received_total",
    "counter",
    "MQTT packets read, by packet type.",
    byType(m.received, "packets"),
  );
  family(
    "gmqtt_packets_sent_total",
    "counter",
    "MQTT packets written, by packet type.",
    byType(m.sent, "packets"),
  );
  family(
    "gmqtt_bytes_received_total",
    "counter",
    "Bytes of the MQTT packets read, by packet type.",
    byType(m.received, "bytes"),
  );
  family(
    "gmqtt_bytes_sent_total",
    "counter",
    "Bytes of the MQTT packets written, by packet type.",
    byType(m.sent, "bytes"),
  );
  family(
    "gmqtt_retained_messages_current",
    "gauge",
    "Retained messages held now.",
    one(m.retainedMessages),
  );
  family(
    "gmqtt_inflight_messages_current",
    "gauge",
    "Outgoing QoS 1 and 2 messages waiting for an acknowledgement.",
    one(m.inflightMessages),
  );
  family(
    "gmqtt_queued_messages_current",
    "gauge",
    "Messages waiting in session queues.",
    one(m.queuedMessages),
  );
  const memory = options.memory;
  if (memory !== undefined) {
    family(
      "process_resident_memory_bytes",
      "gauge",
      "Resident memory size in bytes.",
      one(memory.rss),
    );
    family(
      "gmqtt_process_heap_total_bytes",
      "gauge",
      "V8 heap reserved, in bytes.",
      one(memory.heapTotal),
    );
    family(
      "gmqtt_process_heap_used_bytes",
      "gauge",
      "V8 heap in use, in bytes.",
      one(memory.heapUsed),
    );
    family(
      "gmqtt_process_external_memory_bytes",
      "gauge",
      "Memory of objects outside the V8 heap, in bytes.",
      one(memory.external),
    );
  }
  if (options.startTime !== undefined) {
    family(
      "process_start_time_seconds",
      "gauge",
      "Start time of the process since the Unix epoch in seconds.",
      one(options.startTime / 1000),
    );
  }
  const cluster = options.cluster;
  if (cluster !== undefined) {
    family(
      "gmqtt_cluster_nodes",
      "gauge",
      "Live nodes of the cluster, this one included.",
      one(cluster.nodes.length),
    );
    family(
      "gmqtt_cluster_connected",
      "gauge",
      "Whether this node reaches the cluster's Redis (1) or not (0).",
      one(cluster.connected ? 1 : 0),
    );
    family(
      "gmqtt_cluster_messages_sent_total",
      "counter",
      "Messages sent to other nodes, one per node.",
      one(cluster.messagesSent),
    );
    family(
      "gmqtt_cluster_messages_dropped_total",
      "counter",
      "QoS 0 messages for other nodes dropped because Redis took them slower than they came, one per node.",
      one(cluster.messagesDropped),
    );
    family(
      "gmqtt_cluster_messages_received_total",
      "counter",
      "Messages received from other nodes.",
      one(cluster.messagesReceived),
    );
    family(
      "gmqtt_cluster_backlog_messages",
      "gauge",
      "QoS 1 and 2 messages sent to this node and not yet taken.",
      one(cluster.backlog),
    );
    family(
      "gmqtt_cluster_redis_round_trip_seconds",
      "gauge",
      "The last heartbeat's round trip to Redis.",
      one(cluster.roundTrip / 1000),
    );
  }
  out.push("");
  return out.join("\n");
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) =>
    `${name}="${
      value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll(
        "\n",
        "\\n",
      )
    }"`
  );
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
