// Clients: a table searched by client id prefix and user name, filtered by
// state and paged, refreshed every two seconds; and a client's page with
// its connection, counters and subscriptions, and a kick button.

import { call } from "./api.js";
import {
  bytes,
  checkbox,
  confirmAction,
  debounce,
  fail,
  field,
  h,
  number,
  pager,
  say,
  table,
  time,
} from "./dom.js";

const PAGE = 25;
const REFRESH = 2000;

function link(clientId) {
  return h(
    "a",
    { href: `#/clients/${encodeURIComponent(clientId)}` },
    clientId,
  );
}

function state(connected) {
  return h(
    "span",
    { class: connected ? "pill on" : "pill" },
    connected ? "connected" : "offline",
  );
}

export function clients(main) {
  let shown = "";
  const prefix = h("input", {
    id: "client-prefix",
    type: "search",
    placeholder: "sensor-",
    autocomplete: "off",
  });
  const username = h("input", {
    id: "client-username",
    type: "search",
    autocomplete: "off",
  });
  const filter = h(
    "select",
    { id: "client-state" },
    h("option", { value: "" }, "All"),
    h("option", { value: "true" }, "Connected"),
    h("option", { value: "false" }, "Offline"),
  );
  const results = h("div", { id: "client-results" });
  const pages = pager(PAGE, () => reload());
  main.append(
    h("h1", {}, "Clients"),
    h(
      "form",
      { class: "bar", role: "search", onsubmit: (e) => e.preventDefault() },
      field("Client id starts with", prefix),
      field("User name", username),
      field("State", filter),
    ),
    h(
      "section",
      { class: "panel" },
      results,
      pages.element,
    ),
  );

  const load = async () => {
    const query = new URLSearchParams({
      offset: String(pages.offset),
      limit: String(PAGE),
    });
    if (prefix.value !== "") query.set("prefix", prefix.value);
    if (username.value !== "") query.set("username", username.value);
    if (filter.value !== "") query.set("connected", filter.value);
    const page = await call("GET", `clients?${query}`);
    if (page.total > 0 && pages.offset >= page.total) {
      pages.offset = Math.max(0, page.total - PAGE);
      return load();
    }
    const text = JSON.stringify(page);
    if (text === shown) return;
    shown = text;
    results.replaceChildren(table(
      [
        "Client id",
        "State",
        "User name",
        "Protocol",
        "Address",
        "Subscriptions",
        "Queued",
      ],
      page.items.map((c) => [
        link(c.clientId),
        state(c.connected),
        c.username ?? "–",
        c.protocolVersion === null ? "–" : String(c.protocolVersion),
        c.remoteAddress ?? "–",
        number(c.subscriptions),
        number(c.queued),
      ]),
      { numeric: [5, 6], empty: "No client matches." },
    ));
    pages.show(page.total, page.items.length, "clients");
  };
  const reload = () => load().catch(fail);
  const search = debounce(() => {
    pages.offset = 0;
    reload();
  }, 250);
  prefix.addEventListener("input", search);
  username.addEventListener("input", search);
  filter.addEventListener("change", search);
  reload();
  const timer = setInterval(reload, REFRESH);
  return () => clearInterval(timer);
}

export function clientPage(clientId) {
  return (main) => {
    let shown = "";
    const details = h("div", { id: "client-details" });
    const subs = h("div");
    const discard = checkbox("kick-discard", "Also discard its session");
    const kick = h(
      "button",
      { type: "button", id: "kick", class: "danger" },
      "Kick",
    );
    main.append(
      h("p", {}, h("a", { href: "#/clients" }, "← Clients")),
      h("h1", {}, "Client ", h("code", {}, clientId)),
      h("section", { class: "panel" }, details),
      h("section", { class: "panel" }, h("h2", {}, "Subscriptions"), subs),
      h(
        "section",
        { class: "panel" },
        h("h2", {}, "Disconnect"),
        h(
          "p",
          { class: "muted" },
          "Kicking closes its connection (MQTT 5.0 clients are told why); its will is published.",
        ),
        discard.element,
        h("div", { class: "actions" }, kick),
      ),
    );

    const load = async () => {
      let client;
      try {
        client = await call("GET", `clients/${encodeURIComponent(clientId)}`);
      } catch (error) {
        if (error.status !== 404) throw error;
        details.replaceChildren(
          h(
            "p",
            { class: "empty" },
            "No such client: it has neither a connection nor a session.",
          ),
        );
        subs.replaceChildren();
        kick.disabled = true;
        shown = "";
        return;
      }
      const list = await call(
        "GET",
        `clients/${encodeURIComponent(clientId)}/subscriptions`,
      ).catch(() => []);
      const text = JSON.stringify([client, list]);
      if (text === shown) return;
      shown = text;
      kick.disabled = false;
      details.replaceChildren(describe(client));
      subs.replaceChildren(table(
        ["Filter", "QoS", "Options"],
        list.map((
          s,
        ) => [h("code", {}, s.topicFilter), String(s.qos), options(s)]),
        { empty: "No subscription." },
      ));
    };
    const reload = () => load().catch(fail);

    kick.addEventListener("click", async () => {
      const alsoDiscard = discard.input.checked;
      const sure = await confirmAction(
        alsoDiscard
          ? `Kick ${clientId} and discard its session (subscriptions and queued messages)?`
          : `Kick ${clientId}?`,
        alsoDiscard ? "Kick and discard" : "Kick",
      );
      if (!sure) return;
      try {
        await call("POST", `clients/${encodeURIComponent(clientId)}/kick`, {
          discardSession: alsoDiscard,
        });
        say(
          `Kicked ${clientId}${alsoDiscard ? ", session discarded" : ""}.`,
          "info",
          true,
        );
        location.hash = "#/clients";
      } catch (error) {
        fail(error);
      }
    });

    reload();
    const timer = setInterval(reload, REFRESH);
    return () => clearInterval(timer);
  };
}

function options(s) {
  const parts = [];
  if (s.shareName !== null) parts.push(`shared "${s.shareName}"`);
  if (s.noLocal) parts.push("no local");
  if (s.retainAsPublished) parts.push("retain as published");
  if (s.retainHandling !== 0) parts.push(`retain handling ${s.retainHandling}`);
  if (s.subscriptionId !== null) parts.push(`id ${s.subscriptionId}`);
  return parts.join(", ") || "–";
}

function describe(c) {
  const rows = [
    ["State", state(c.connected)],
    ["User name", c.username ?? "–"],
    ["Protocol version", c.protocolVersion ?? "–"],
    ["Transport", c.transport ?? "–"],
    ["Listener", c.listener ?? "–"],
    ["Remote address", c.remoteAddress ?? "–"],
    ["Keep-alive", c.keepAlive === null ? "–" : `${c.keepAlive} s`],
    [
      "Clean session",
      c.cleanSession === null ? "–" : c.cleanSession ? "yes" : "no",
    ],
    [
      "Session expiry",
      c.sessionExpiryInterval === null
        ? "–"
        : c.sessionExpiryInterval === 0xffffffff
        ? "never"
        : `${number(c.sessionExpiryInterval)} s`,
    ],
    ["Connected at", time(c.connectedAt)],
    ["Disconnected at", time(c.disconnectedAt)],
    [
      "In flight",
      `${number(c.inflight)}${
        c.inflightLimit === null ? "" : ` of ${number(c.inflightLimit)}`
      }`,
    ],
    [
      "Queued",
      `${number(c.queued)}${
        c.queueLimit === null ? "" : ` of ${number(c.queueLimit)}`
      }`,
    ],
    ["Messages in / out", `${number(c.messagesIn)} / ${number(c.messagesOut)}`],
    ["Bytes in / out", `${bytes(c.bytesIn)} / ${bytes(c.bytesOut)}`],
    ["Messages dropped", number(c.messagesDropped)],
  ];
  return h(
    "dl",
    { class: "details" },
    rows.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]),
  );
}
