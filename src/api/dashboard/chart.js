// A small SVG line chart of a few series over the last points, one point a
// second: the overview's messages and bytes per second.

import { h } from "./dom.js";

const WIDTH = 600;
const HEIGHT = 160;

/** The smallest "round" number (1, 2 or 5 times a power of ten) >= n. */
function ceiling(n) {
  if (n <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= n) return step * power;
  }
  return 10 * power;
}

/** The same in units of 1024 (bytes): 500 KiB rather than 976.6 KiB. */
export function binaryCeiling(n) {
  let unit = 1;
  while (n >= 1024 * unit) unit *= 1024;
  const top = ceiling(n / unit);
  return (top >= 1000 ? 1024 : top) * unit;
}

export class LineChart {
  /**
   * @param title What the chart shows, such as "Messages per second".
   * @param series `[{ label, className }]`, one line each.
   * @param format Formats a value for the axis and the legend.
   * @param capacity Points kept: 300 is five minutes at one a second.
   * @param round Rounds the highest value up to the top of the chart.
   */
  constructor({ title, series, format, capacity = 300, round = ceiling }) {
    this.round = round;
    this.title = title;
    this.series = series;
    this.format = format;
    this.capacity = capacity;
    this.points = series.map(() => []);
    this.lines = series.map((s) =>
      h("polyline", { class: s.className, points: "" })
    );
    this.grid = [0.25, 0.5, 0.75].map((f) =>
      h("line", {
        class: "grid",
        x1: 0,
        x2: WIDTH,
        y1: HEIGHT * f,
        y2: HEIGHT * f,
      })
    );
    this.svg = h(
      "svg",
      {
        viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
        preserveAspectRatio: "none",
        role: "img",
        "aria-label": title,
      },
      this.grid,
      this.lines,
    );
    this.top = h("span", {}, format(0));
    this.legend = series.map((s) => h("li", { class: s.className }, s.label));
    this.element = h(
      "figure",
      { class: "chart" },
      h("figcaption", {}, h("h2", {}, title)),
      h("div", { class: "axis" }, h("span", {}, "max"), this.top),
      this.svg,
      h(
        "div",
        { class: "axis" },
        h("span", {}, `${Math.round(capacity / 60)} min ago`),
        h("span", {}, "now"),
      ),
      h("ul", { class: "legend" }, this.legend),
    );
  }

  /** Adds one value per series and draws again. */
  push(values) {
    values.forEach((v, i) => {
      const points = this.points[i];
      points.push(v);
      if (points.length > this.capacity) points.shift();
    });
    this.draw();
  }

  draw() {
    const max = this.round(Math.max(0, ...this.points.flat()));
    const step = WIDTH / (this.capacity - 1);
    this.points.forEach((points, i) => {
      // The newest point at the right edge.
      const offset = this.capacity - points.length;
      const coords = points.map((v, j) =>
        `${((offset + j) * step).toFixed(1)},${
          (HEIGHT - v / max * HEIGHT).toFixed(1)
        }`
      );
      this.lines[i].setAttribute("points", coords.join(" "));
      const last = points.at(-1) ?? 0;
      this.legend[i].textContent = `${this.series[i].label} ${
        this.format(last)
      }`;
    });
    this.top.textContent = this.format(max);
    const now = this.legend.map((li) => li.textContent).join(", ");
    this.svg.setAttribute("aria-label", `${this.title}: ${now}`);
  }
}
