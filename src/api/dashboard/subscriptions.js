// Subscriptions: search them by client id or filter, and ask which ones
// would receive a message published to a topic.

import { call } from "./api.js";
import { debounce, fail, field, h, number, table } from "./dom.js";

const PAGE = 50;

function rows(items) {
  return items.map((s) => [
    h("a", { href: `#/clients/${encodeURIComponent(s.clientId)}` }, s.clientId),
    h("code", {}, s.topicFilter),
    String(s.qos),
    s.shareName === null ? "–" : s.shareName,
  ]);
}

const HEADERS = ["Client id", "Filter", "QoS", "Shared group"];

export function subscriptions(main) {
  let offset = 0;
  const search = h("input", {
    id: "subscription-search",
    type: "search",
    autocomplete: "off",
  });
  const results = h("div", { id: "subscription-results" });
  const range = h("span", { class: "muted" });
  const previous = h("button", { type: "button", class: "quiet" }, "Previous");
  const next = h("button", { type: "button", class: "quiet" }, "Next");
  const topic = h("input", {
    id: "receives-topic",
    required: true,
    autocomplete: "off",
    placeholder: "home/kitchen/temp",
  });
  const receivers = h("div", { id: "receivers" });

  const load = async () => {
    const query = new URLSearchParams({
      offset: String(offset),
      limit: String(PAGE),
    });
    if (search.value !== "") query.set("search", search.value);
    const page = await call("GET", `subscriptions?${query}`);
    results.replaceChildren(
      table(HEADERS, rows(page.items), {
        empty: "No subscription matches.",
        numeric: [2],
      }),
    );
    const last = Math.min(page.total, offset + page.items.length);
    range.textContent = page.total === 0
      ? "0 subscriptions"
      : `${offset + 1}–${last} of ${number(page.total)}`;
    previous.disabled = offset === 0;
    next.disabled = last >= page.total;
  };
  const reload = () => load().catch(fail);

  const receive = async (event) => {
    event.preventDefault();
    const query = new URLSearchParams({ topic: topic.value, limit: "1000" });
    const page = await call("GET", `subscriptions?${query}`);
    const shared = page.items.some((s) => s.shareName !== null);
    receivers.replaceChildren(
      h(
        "p",
        { class: "muted" },
        `${number(page.total)} ${
          page.total === 1 ? "subscription matches" : "subscriptions match"
        } "${topic.value}".`,
        shared ? " Of each shared group, one member receives the message." : "",
      ),
      table(HEADERS, rows(page.items), {
        numeric: [2],
        empty: "Nobody would receive it.",
      }),
    );
  };

  main.append(
    h("h1", {}, "Subscriptions"),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Who would receive a topic"),
      h(
        "form",
        { class: "bar", onsubmit: (e) => receive(e).catch(fail) },
        field("Topic name", topic),
        h("button", { type: "submit" }, "Find"),
      ),
      receivers,
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "All subscriptions"),
      h(
        "form",
        { class: "bar", role: "search", onsubmit: (e) => e.preventDefault() },
        field("Client id or filter contains", search),
        h(
          "button",
          { type: "button", class: "quiet", onclick: reload },
          "Refresh",
        ),
      ),
      results,
      h("div", { class: "pager" }, previous, range, next),
    ),
  );
  search.addEventListener(
    "input",
    debounce(() => {
      offset = 0;
      reload();
    }, 250),
  );
  previous.addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE);
    reload();
  });
  next.addEventListener("click", () => {
    offset += PAGE;
    reload();
  });
  reload();
  return () => {};
}
