// Small helpers to build the page with DOM calls (never HTML strings, so a
// topic or a payload is always text), to format numbers and to ask for a
// confirmation.

/**
 * Makes an element: `h("button", { type: "button", onclick: f }, "Go")`.
 * Attributes named on* become listeners; `true` sets an empty attribute,
 * `false`, `null` and `undefined` leave it out. Children are nodes, text,
 * or arrays of them; `null` and `false` are skipped.
 */
export function h(tag, attributes = {}, ...children) {
  const svg = tag === "svg" || tag === "polyline" || tag === "line" ||
    tag === "g";
  const element = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.append(child);
    else element.append(String(child));
  }
}

/** Replaces what an element holds. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** A table with a header row; `rows` are arrays of cells (nodes or text). */
export function table(headers, rows, options = {}) {
  if (rows.length === 0) {
    return h("p", { class: "empty" }, options.empty ?? "Nothing to show.");
  }
  const numeric = new Set(options.numeric ?? []);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      {},
      options.caption
        ? h("caption", { class: "muted" }, options.caption)
        : null,
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((text, i) =>
            h(
              "th",
              { scope: "col", class: numeric.has(i) ? "num" : null },
              text,
            )
          ),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((cells) =>
          h(
            "tr",
            {},
            cells.map((cell, i) =>
              h("td", { class: numeric.has(i) ? "num" : null }, cell)
            ),
          )
        ),
      ),
    ),
  );
}

/** A labelled field: `field("Topic", input)`; the input needs an id. */
export function field(label, input, hint) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: input.id }, label),
    input,
    hint ? h("span", { class: "muted" }, hint) : null,
  );
}

/** A checkbox with its label after it. */
export function checkbox(id, label, checked = false) {
  const input = h("input", { type: "checkbox", id, checked });
  return {
    input,
    element: h(
      "div",
      { class: "check" },
      input,
      h("label", { for: id }, label),
    ),
  };
}

/** `1234567` as "1,234,567"; fractions as one decimal. */
export function number(n) {
  if (n === null || n === undefined) return "–";
  return n.toLocaleString("en", {
    maximumFractionDigits: Number.isInteger(n) ? 0 : 1,
  });
}

/** Bytes as B, KiB, MiB, GiB. */
export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

/** Seconds as "3d 4h", "5h 6m", "7m 8s" or "9s". */
export function duration(seconds) {
  const d = Math.floor(seconds / 86400);
  const hours = Math.floor(seconds % 86400 / 3600);
  const m = Math.floor(seconds % 3600 / 60);
  const s = Math.floor(seconds % 60);
  if (d > 0) return `${d}d ${hours}h`;
  if (hours > 0) return `${hours}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** An ISO time as local date and time, or "–". */
export function time(iso) {
  return iso ? new Date(iso).toLocaleString() : "–";
}

/** The bytes of a payload as the API sends it (text or base64). */
export function payloadBytes(payload, encoding) {
  if (encoding === "base64") {
    return Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
  }
  return new TextEncoder().encode(payload);
}

/** Bytes as lines of offset, 16 hex bytes and their ASCII. */
export function hexDump(data) {
  const lines = [];
  for (let at = 0; at < data.length; at += 16) {
    const row = data.subarray(at, at + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = [...row].map((b) =>
      b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "."
    ).join("");
    lines.push(
      `${at.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`,
    );
  }
  return lines.join("\n");
}

/**
 * Says something in the status line (read out by screen readers). With
 * `keep`, it stays when the page goes to another view next.
 */
export function say(text, kind = "info", keep = false) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = kind === "error" ? "error" : "";
  if (keep) status.dataset.keep = "";
  else delete status.dataset.keep;
}

/**
 * Asks for a confirmation in the page's dialog; resolves true when the
 * user confirms, false when they cancel (or press Escape).
 */
export function confirmAction(text, confirmLabel) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  const ok = document.getElementById("confirm-ok");
  const cancel = document.getElementById("confirm-cancel");
  ok.textContent = confirmLabel;
  return new Promise((resolve) => {
    const done = (answer) => {
      ok.removeEventListener("click", yes);
      cancel.removeEventListener("click", no);
      dialog.removeEventListener("close", no);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const yes = () => done(true);
    const no = () => done(false);
    ok.addEventListener("click", yes);
    cancel.addEventListener("click", no);
    dialog.addEventListener("close", no);
    dialog.showModal();
    cancel.focus();
  });
}

/** Calls `fn` once `ms` have passed without another call. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Says what went wrong, unless it is a refused credential (the sign-in form shows). */
export function fail(error) {
  if (error?.status === 401) return;
  say(error?.message ?? String(error), "error");
}

/**
 * A pager of `size` items a page: Previous and Next buttons around the range
 * shown. `onMove` runs when a button moves the offset; `show` sets the range
 * after each load.
 */
export function pager(size, onMove) {
  let offset = 0;
  const range = h("span", { class: "muted" });
  const previous = h("button", { type: "button", class: "quiet" }, "Previous");
  const next = h("button", { type: "button", class: "quiet" }, "Next");
  previous.addEventListener("click", () => {
    offset = Math.max(0, offset - size);
    onMove();
  });
  next.addEventListener("click", () => {
    offset += size;
    onMove();
  });
  return {
    element: h("div", { class: "pager" }, previous, range, next),
    get offset() {
      return offset;
    },
    set offset(value) {
      offset = value;
    },
    /** Shows `count` items of `total` from the offset, naming them `noun`. */
    show(total, count, noun) {
      const last = Math.min(total, offset + count);
      range.textContent = total === 0
        ? `0 ${noun}`
        : `${offset + 1}–${last} of ${number(total)}`;
      previous.disabled = offset === 0;
      next.disabled = last >= total;
    },
  };
}
