import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  parsePrometheus,
  sampleValue,
} from "../../tests/_prometheus_grammar.ts";
import { Metrics } from "../core/metrics.ts";
import { renderPrometheus, type ServerMetrics } from "./prometheus.ts";

/** Metrics of a broker that did a little of everything. */
function busyMetrics(): ServerMetrics {
  const m = new Metrics();
  m.connectionOpened();
  m.connectionOpened();
  m.connectionClosed();
  m.sessionCreated();
  m.sessionCreated();
  m.sessionTerminated("expired");
  m.subscriptionAdded();
  m.subscriptionAdded();
  m.subscriptionRemoved();
  m.messageReceived(1, 5);
  m.messageReceived(2, 7);
  m.messageSent(0, 5);
  m.messageDropped(1, "queue_full");
  m.messageUnrouted();
  m.packetIn("connect", 20);
  m.packetIn("publish", 12);
  m.packetIn("publish", 14);
  m.packetOut("connack", 4);
  return {
    ...m.snapshot(),
    sessionsActive: 1,
    sessionsInactive: 3,
    retainedMessages: 4,
    inflightMessages: 5,
    queuedMessages: 6,
  };
}

Deno.test("renderPrometheus() output parses by the exposition grammar", () => {
  const text = renderPrometheus(busyMetrics(), {
    memory: Deno.memoryUsage(),
    startTime: 1_700_000_000_000,
  });
  const families = parsePrometheus(text);
  for (const [name, family] of families) {
    ok(family.help && family.help.length > 0, `${name} has HELP`);
    strictEqual(
      family.type,
      name.endsWith("_total") ? "counter" : "gauge",
      `${name} type`,
    );
  }
  ok(sampleValue(families, "process_resident_memory_bytes") > 0);
  strictEqual(sampleValue(families, "process_start_time_seconds"), 1.7e9);
});

Deno.test("renderPrometheus() reports each counter and gauge with its labels", () => {
  const f = parsePrometheus(renderPrometheus(busyMetrics()));
  const v = (name: string, labels: Record<string, string> = {}) =>
    sampleValue(f, name, labels);
  strictEqual(v("gmqtt_connections_current"), 1);
  strictEqual(v("gmqtt_connections_total"), 2);
  strictEqual(v("gmqtt_clients_connected"), 1);
  strictEqual(v("gmqtt_clients_disconnected"), 3);
  strictEqual(v("gmqtt_sessions_active"), 1);
  strictEqual(v("gmqtt_sessions_inactive"), 3);
  strictEqual(v("gmqtt_sessions_created_total"), 2);
  strictEqual(v("gmqtt_sessions_terminated_total", { reason: "expired" }), 1);
  strictEqual(v("gmqtt_sessions_terminated_total", { reason: "kicked" }), 0);
  strictEqual(v("gmqtt_sessions_expired_total"), 1);
  strictEqual(v("gmqtt_subscriptions_current"), 1);
  strictEqual(v("gmqtt_subscriptions_total"), 2);
  deepStrictEqual(
    [0, 1, 2].map((q) =>
      v("gmqtt_messages_received_total", { qos: String(q) })
    ),
    [0, 1, 1],
  );
  strictEqual(v("gmqtt_messages_received_bytes_total"), 12);
  strictEqual(v("gmqtt_messages_sent_total", { qos: "0" }), 1);
  strictEqual(v("gmqtt_messages_sent_bytes_total"), 5);
  strictEqual(v("gmqtt_messages_dropped_total", { qos: "1" }), 1);
  strictEqual(
    v("gmqtt_messages_dropped_by_reason_total", { reason: "queue_full" }),
    1,
  );
  strictEqual(
    v("gmqtt_messages_dropped_by_reason_total", { reason: "expired" }),
    0,
  );
  strictEqual(v("gmqtt_messages_unrouted_total"), 1);
  strictEqual(v("gmqtt_packets_received_total", { type: "publish" }), 2);
  strictEqual(v("gmqtt_bytes_received_total", { type: "publish" }), 26);
  strictEqual(v("gmqtt_packets_received_total", { type: "auth" }), 0);
  strictEqual(v("gmqtt_packets_sent_total", { type: "connack" }), 1);
  strictEqual(v("gmqtt_bytes_sent_total", { type: "connack" }), 4);
  strictEqual(v("gmqtt_retained_messages_current"), 4);
  strictEqual(v("gmqtt_inflight_messages_current"), 5);
  strictEqual(v("gmqtt_queued_messages_current"), 6);
  strictEqual(f.has("process_resident_memory_bytes"), false);
});

Deno.test("renderPrometheus() reports client connects and disconnects", () => {
  const f = parsePrometheus(
    renderPrometheus({
      ...busyMetrics(),
      clientsConnected: 9,
      clientsDisconnected: 8,
    }),
  );
  strictEqual(sampleValue(f, "gmqtt_client_connects_total"), 9);
  strictEqual(sampleValue(f, "gmqtt_client_disconnects_total"), 8);
});

Deno.test("renderPrometheus() writes NaN and infinities by the format's spelling", () => {
  const metrics = { ...busyMetrics(), queuedMessages: Infinity };
  const f = parsePrometheus(
    renderPrometheus(metrics, {
      memory: { rss: NaN, heapTotal: -Infinity, heapUsed: 0, external: 0 },
    }),
  );
  strictEqual(sampleValue(f, "gmqtt_queued_messages_current"), Infinity);
  ok(Number.isNaN(sampleValue(f, "process_resident_memory_bytes")));
  strictEqual(sampleValue(f, "gmqtt_process_heap_total_bytes"), -Infinity);
});

Deno.test("parsePrometheus() rejects what the exposition format forbids", () => {
  const bad = [
    "# HELP a_total x\n# TYPE a_total counter\na_total 1", // no final newline
    "a 1\n", // sample without TYPE
    '# HELP a x\n# TYPE a gauge\na{b="c} 1\n', // unterminated label
    '# HELP a x\n# TYPE a gauge\na{b="\\t"} 1\n', // bad escape
    "# HELP a x\n# TYPE a gauge\na one\n", // bad value
    "# HELP a x\n# TYPE a gauge\na 1\n# HELP b y\n# TYPE b gauge\nb 1\na 2\n", // split family
    "# HELP a x\n# TYPE a gauge\na 1\na 2\n", // duplicate series
    "# HELP a x\n# TYPE a counter\na 1\n", // counter without _total
    "# HELP a_total x\n# TYPE a_total counter\na_total -1\n", // negative counter
  ];
  for (const text of bad) {
    throws(() => parsePrometheus(text), SyntaxError, JSON.stringify(text));
  }
});
