// Subscriptions: search them by client id or filter, and ask which ones
// would receive a message published to a topic.

import { call } from "./api.js";
import { debounce, fail, field, h, number, pager, table } from "./dom.js";

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
  const search = h("input", {
    id: "subscription-search",
    type: "search",
    autocomplete: "off",
  });
  const results = h("div", { id: "subscription-results" });
  const pages = pager(PAGE, () => reload());
  const topic = h("input", {
    id: "receives-topic",
    required: true,
    autocomplete: "off",
    placeholder: "home/kitchen/temp",
  });
  const receivers = h("div", { id: "receivers" });

  const load = async () => {
    const query = new URLSearchParams({
      offset: String(pages.offset),
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
    pages.show(page.total, page.items.length, "subscriptions");
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
      pages.element,
    ),
  );
  search.addEventListener(
    "input",
    debounce(() => {
      pages.offset = 0;
      reload();
    }, 250),
  );
  reload();
  return () => {};
}
