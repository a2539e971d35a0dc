// The overview: the broker's figures now, live charts of messages and bytes
// per second, drops by reason, listeners, and cluster nodes when the
// broker is part of a cluster.

import { call, stream } from "./api.js";
import { binaryCeiling, LineChart } from "./chart.js";
import { bytes, duration, fail, h, number, table } from "./dom.js";

const CARDS = [
  ["uptime", "Uptime", (s) => duration(s.uptime)],
  ["connections", "Connections", (s) => number(s.connections)],
  ["online", "Sessions online", (s) => number(s.sessions.online)],
  ["offline", "Sessions offline", (s) => number(s.sessions.offline)],
  ["subscriptions", "Subscriptions", (s) => number(s.subscriptions)],
  ["retained", "Retained messages", (s) => number(s.retained)],
  ["inflight", "In flight", (s) => number(s.inflight)],
  ["queued", "Queued", (s) => number(s.queued)],
];

const REASONS = {
  expired: "Expired",
  queue_full: "Queue full",
  output_full: "Output full",
  not_authorized: "Not authorized",
  hook: "Dropped by a hook",
  packet_too_large: "Packet too large",
  session_ended: "Session ended",
  offline: "QoS 0 for an offline session",
};

export function overview(main) {
  const controller = new AbortController();
  const values = new Map(
    CARDS.map(([id]) => [id, h("dd", { id: `stat-${id}` }, "–")]),
  );
  const messages = new LineChart({
    title: "Messages per second",
    series: [
      { label: "in", className: "series-in" },
      { label: "out", className: "series-out" },
    ],
    format: (v) => `${number(v)}/s`,
  });
  const traffic = new LineChart({
    title: "Bytes per second",
    series: [
      { label: "in", className: "series-in" },
      { label: "out", className: "series-out" },
    ],
    format: (v) => `${bytes(v)}/s`,
    round: binaryCeiling,
  });
  const dropped = h("div", {}, h("p", { class: "empty" }, "–"));
  const about = h("p", { class: "muted" });
  const listeners = h("div");
  const cluster = h("section", {
    class: "panel",
    id: "cluster-nodes",
    hidden: true,
  });
  main.append(
    h("h1", {}, "Overview"),
    about,
    h(
      "dl",
      { class: "cards" },
      CARDS.map(([id, label]) =>
        h("div", { class: "card" }, h("dt", {}, label), values.get(id))
      ),
    ),
    h(
      "div",
      { class: "grid2" },
      h("section", { class: "panel" }, messages.element),
      h("section", { class: "panel" }, traffic.element),
    ),
    h(
      "div",
      { class: "grid2" },
      h(
        "section",
        { class: "panel" },
        h("h2", {}, "Dropped messages"),
        dropped,
      ),
      h("section", { class: "panel" }, h("h2", {}, "Listeners"), listeners),
    ),
    cluster,
  );

  call("GET", "broker").then((broker) => {
    about.textContent = `${broker.name} ${broker.version}, started ${
      new Date(broker.startedAt).toLocaleString()
    }`;
    listeners.replaceChildren(table(
      ["Name", "Transport", "Address"],
      broker.listeners.map((l) => [
        l.name,
        l.transport,
        h("code", {}, `${l.hostname}:${l.port}`),
      ]),
      { empty: "No listener is open." },
    ));
  }, fail);

  // The nodes panel shows only when the broker answers for a cluster.
  call("GET", "cluster").then((answer) => showCluster(cluster, answer), (e) => {
    if (e.status !== 404) fail(e);
  });

  stream("stats/stream", {
    signal: controller.signal,
    onError: fail,
    onEvent: (name, stats) => {
      if (name !== "stats") return;
      for (const [id, , format] of CARDS) {
        values.get(id).textContent = format(stats);
      }
      const rate = stats.perSecond;
      messages.push([rate.messagesIn, rate.messagesOut]);
      traffic.push([rate.bytesIn, rate.bytesOut]);
      dropped.replaceChildren(
        h(
          "p",
          { class: "muted" },
          `${number(rate.dropped)} a second now, ${
            number(stats.totals.dropped)
          } since the start.`,
        ),
        table(
          ["Reason", "Messages"],
          Object.entries(stats.dropped).filter(([, n]) => n > 0).map((
            [reason, n],
          ) => [REASONS[reason] ?? reason, number(n)]),
          { numeric: [1], empty: "No message was dropped." },
        ),
      );
    },
  }).catch(fail);

  return () => controller.abort();
}

function showCluster(section, answer) {
  const nodes = Array.isArray(answer) ? answer : answer?.nodes;
  if (!Array.isArray(nodes)) return;
  const columns = [
    ["nodeId", "Node"],
    ["self", "This one"],
    ["heartbeatAge", "Heartbeat age, ms"],
    ["clients", "Clients"],
    ["subscriptions", "Filters"],
  ];
  const figures = answer !== null && typeof answer === "object" &&
      !Array.isArray(answer)
    ? [
      `Redis ${answer.connected ? "reachable" : "unreachable"}`,
      `${answer.messagesSent ?? 0} messages sent to other nodes`,
      `${answer.messagesReceived ?? 0} received`,
      `${answer.messagesDropped ?? 0} dropped (Redis behind)`,
      `backlog ${answer.backlog ?? 0}`,
      `round trip ${Number(answer.roundTrip ?? 0).toFixed(2)} ms`,
    ].join(", ")
    : "";
  section.replaceChildren(
    h("h2", {}, "Cluster nodes"),
    h("p", {}, figures),
    table(
      columns.map(([, label]) => label),
      nodes.map((node) =>
        columns.map(([key]) =>
          key === "self" ? (node[key] ? "yes" : "") : String(node[key] ?? "–")
        )
      ),
      { empty: "No node answered." },
    ),
  );
  section.hidden = false;
}
