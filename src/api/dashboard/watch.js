// Watch: the messages the broker routes to a topic filter, live. The broker
// sends at most its watch rate a second and says how many it skipped; the
// page keeps the last 200.

import { stream } from "./api.js";
import { field, h, number, say, time } from "./dom.js";

const KEPT = 200;

export function watch(main) {
  let controller;
  let received = 0;
  let skipped = 0;
  const filter = h("input", {
    id: "watch-filter",
    value: "#",
    required: true,
    autocomplete: "off",
  });
  const toggle = h("button", { type: "submit", id: "watch-toggle" }, "Start");
  const clear = h("button", { type: "button", class: "quiet" }, "Clear");
  const counts = h(
    "p",
    { class: "muted", id: "watch-counts" },
    "Not watching.",
  );
  const list = h("ol", {
    class: "messages",
    id: "watch-messages",
    "aria-live": "off",
  });

  const showCounts = (state) => {
    counts.textContent = `${state}: ${number(received)} received, ${
      number(skipped)
    } skipped by the rate limit.`;
  };

  const stop = () => {
    controller?.abort();
    controller = undefined;
    toggle.textContent = "Start";
    filter.disabled = false;
  };

  const add = (m) => {
    const flags = [`QoS ${m.qos}`];
    if (m.retain) flags.push("retained");
    if (m.truncated) {
      flags.push(
        `cut at ${number(m.payload.length)} of ${number(m.size)} bytes`,
      );
    }
    const properties = Object.entries(m.properties).map(([k, v]) =>
      `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
    );
    list.prepend(h(
      "li",
      {},
      h(
        "div",
        { class: "meta" },
        h("span", { class: "topic" }, m.topic),
        h("span", {}, flags.join(", ")),
        h("span", {}, m.publisher ? `from ${m.publisher}` : "from the server"),
        h("time", { datetime: m.time }, time(m.time)),
      ),
      h(
        "pre",
        {},
        m.encoding === "base64" ? `base64: ${m.payload}` : m.payload,
      ),
      properties.length > 0
        ? h("div", { class: "meta" }, properties.join(", "))
        : null,
    ));
    while (list.children.length > KEPT) list.lastElementChild.remove();
  };

  const start = () => {
    controller = new AbortController();
    toggle.textContent = "Stop";
    filter.disabled = true;
    const watched = filter.value;
    showCounts("Connecting");
    stream(`watch?${new URLSearchParams({ filter: watched })}`, {
      signal: controller.signal,
      onOpen: () => showCounts(`Watching ${watched}`),
      onError: (error) => {
        stop();
        if (error.status !== 401) say(error.message, "error");
        counts.textContent = "Not watching.";
      },
      onEvent: (name, data) => {
        if (name === "message") {
          received++;
          add(data);
        } else if (name === "skipped") {
          skipped += data.skipped;
        } else if (name !== "ready") return;
        showCounts(`Watching ${watched}`);
      },
    }).catch((error) => say(String(error), "error"));
  };

  main.append(
    h("h1", {}, "Watch"),
    h(
      "form",
      {
        class: "bar",
        onsubmit: (e) => {
          e.preventDefault();
          if (controller === undefined) start();
          else stop();
        },
      },
      field("Topic filter", filter),
      toggle,
      clear,
    ),
    counts,
    h("section", { class: "panel" }, list),
  );
  clear.addEventListener("click", () => {
    list.replaceChildren();
    received = 0;
    skipped = 0;
    if (controller === undefined) counts.textContent = "Not watching.";
    else showCounts(`Watching ${filter.value}`);
  });
  return stop;
}
