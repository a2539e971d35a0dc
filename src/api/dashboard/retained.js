// Retained messages: browse those a filter matches, show one's payload as
// text, pretty-printed JSON or hex, and delete it.

import { call } from "./api.js";
import {
  bytes,
  confirmAction,
  fail,
  field,
  h,
  hexDump,
  pager,
  payloadBytes,
  say,
  table,
  time,
} from "./dom.js";

const PAGE = 50;

export function retained(main) {
  const filter = h("input", {
    id: "retained-filter",
    value: "#",
    required: true,
    autocomplete: "off",
  });
  const results = h("div", { id: "retained-results" });
  const pages = pager(PAGE, () => reload());
  const detail = h("section", {
    class: "panel",
    id: "retained-detail",
    hidden: true,
  });

  const load = async () => {
    const query = new URLSearchParams({
      filter: filter.value,
      offset: String(pages.offset),
      limit: String(PAGE),
    });
    const page = await call("GET", `retained?${query}`);
    results.replaceChildren(table(
      ["Topic", "Size", "QoS", "Published"],
      page.items.map((m) => [
        h("button", {
          type: "button",
          class: "link",
          onclick: () => open(m),
        }, m.topic),
        bytes(payloadBytes(m.payload, m.encoding).length),
        String(m.qos),
        time(m.createdAt),
      ]),
      { numeric: [1, 2], empty: "No retained message matches." },
    ));
    pages.show(page.total, page.items.length, "messages");
  };
  const reload = () => load().catch(fail);

  const open = (message) => {
    const data = payloadBytes(message.payload, message.encoding);
    const text = message.encoding === "utf8" ? message.payload : undefined;
    const pre = h("pre", {
      class: "payload",
      id: "retained-payload",
      tabindex: 0,
    });
    const modes = [
      ["text", "Text"],
      ["json", "JSON"],
      ["hex", "Hex"],
    ];
    const render = (mode) => {
      if (mode === "hex") pre.textContent = hexDump(data);
      else if (text === undefined) {
        pre.textContent = "Binary payload: see Hex.";
      } else if (mode === "json") {
        try {
          pre.textContent = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          pre.textContent = "Not JSON: see Text.";
        }
      } else pre.textContent = text;
    };
    let initial = text === undefined ? "hex" : "text";
    if (text !== undefined) {
      try {
        JSON.parse(text);
        initial = "json";
      } catch {
        // Plain text.
      }
    }
    const remove = h("button", {
      type: "button",
      class: "danger",
      id: "retained-delete",
    }, "Delete");
    remove.addEventListener("click", async () => {
      if (
        !await confirmAction(
          `Delete the retained message of ${message.topic}?`,
          "Delete",
        )
      ) {
        return;
      }
      try {
        await call(
          "DELETE",
          `retained?${new URLSearchParams({ topic: message.topic })}`,
        );
        say(`Deleted the retained message of ${message.topic}.`);
        detail.hidden = true;
        await load();
      } catch (error) {
        fail(error);
      }
    });
    const properties = [
      ["QoS", String(message.qos)],
      ["Publisher", message.publisher ?? "the server"],
      ["Published", time(message.createdAt)],
      ["Expires", time(message.expiresAt)],
      ["Content type", message.contentType ?? "–"],
      ["Response topic", message.responseTopic ?? "–"],
      [
        "User properties",
        message.userProperties.length === 0
          ? "–"
          : message.userProperties.map(([k, v]) => `${k}=${v}`).join(", "),
      ],
    ];
    detail.replaceChildren(
      h("h2", {}, "Topic ", h("code", {}, message.topic)),
      h(
        "dl",
        { class: "details" },
        properties.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Show the payload as"),
        modes.map(([value, label]) => {
          const input = h("input", {
            type: "radio",
            name: "payload-mode",
            id: `mode-${value}`,
            value,
            checked: value === initial,
          });
          input.addEventListener("change", () => render(value));
          return h("label", { class: "check" }, input, label);
        }),
      ),
      pre,
      h("div", { class: "actions" }, remove),
    );
    render(initial);
    detail.hidden = false;
    pre.focus();
  };

  main.append(
    h("h1", {}, "Retained messages"),
    h(
      "form",
      {
        class: "bar",
        role: "search",
        onsubmit: (e) => {
          e.preventDefault();
          pages.offset = 0;
          reload();
        },
      },
      field("Topic filter", filter),
      h("button", { type: "submit" }, "Show"),
    ),
    h(
      "section",
      { class: "panel" },
      results,
      pages.element,
    ),
    detail,
  );
  reload();
  return () => {};
}
