/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for
 * tests: it throws on the first line that breaks the format's rules.
 *
 * @module
 */

/** One sample line. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: its HELP, TYPE and samples. */
export interface ParsedFamily {
  help: string | undefined;
  type: string | undefined;
  readonly samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/**
 * Parses an exposition, line by line.
 *
 * @param text The whole exposition.
 * @returns The families by name, in order of appearance.
 * @throws {SyntaxError} Naming the line number and what is wrong with it.
 */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith("\n")) {
    throw new SyntaxError("Cannot parse exposition: no final newline");
  }
  const families = new Map<string, ParsedFamily>();
  const seriesSeen = new Set<string>();
  const closed = new Set<string>();
  let current: string | undefined;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new SyntaxError(
        `Cannot parse line ${i + 1} ${JSON.stringify(line)}: ${why}`,
      );
    };
    const familyOf = (name: string): ParsedFamily => {
      if (current !== name) {
        if (current !== undefined) closed.add(current);
        if (closed.has(name)) fail(`family ${name} is not contiguous`);
        current = name;
      }
      let family = families.get(name);
      if (family === undefined) {
        family = { help: undefined, type: undefined, samples: [] };
        families.set(name, family);
      }
      return family;
    };
    if (line === "") fail("empty line");
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) return; // a comment
      const [, keyword, name = "", rest = ""] = m;
      if (!METRIC_NAME.test(name)) fail(`bad metric name ${name}`);
      const family = familyOf(name);
      if (keyword === "HELP") {
        if (family.help !== undefined) fail("second HELP");
        if (/\\[^\\n]|\\$/.test(rest)) fail("bad escape in HELP");
        family.help = rest.replaceAll("\\n", "\n").replaceAll("\\\\", "\\");
      } else {
        if (family.type !== undefined) fail("second TYPE");
        if (family.samples.length > 0) fail("TYPE after samples");
        if (!TYPES.has(rest)) fail(`bad type ${rest}`);
        family.type = rest;
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (nameMatch === null) fail("no metric name");
    const name = nameMatch![0];
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === "{") {
      pos++;
      while (line[pos] !== "}") {
        const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(pos));
        if (label === null) fail(`bad label at column ${pos + 1}`);
        const labelName = label![1]!;
        if (!LABEL_NAME.test(labelName) || labelName.startsWith("__")) {
          fail(`bad label name ${labelName}`);
        }
        if (labelName in labels) fail(`label ${labelName} twice`);
        pos += label![0].length;
        let value = "";
        for (;;) {
          const c = line[pos];
          if (c === undefined) fail("unterminated label value");
          if (c === '"') break;
          if (c === "\\") {
            const e = line[pos + 1];
            if (e === "\\") value += "\\";
            else if (e === '"') value += '"';
            else if (e === "n") value += "\n";
            else fail("bad escape in label value");
            pos += 2;
          } else {
            value += c;
            pos++;
          }
        }
        labels[labelName] = value;
        pos++;
        if (line[pos] === ",") pos++;
        else if (line[pos] !== "}") {
          fail(`expected , or } at column ${pos + 1}`);
        }
      }
      pos++;
    }
    const rest = line.slice(pos);
    const parts = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
    if (parts === null) fail("bad value part");
    const raw = parts![1]!;
    let value: number;
    if (raw === "NaN") value = NaN;
    else if (raw === "+Inf" || raw === "Inf") value = Infinity;
    else if (raw === "-Inf") value = -Infinity;
    else if (FLOAT.test(raw)) value = Number(raw);
    else fail(`bad value ${raw}`);
    const family = familyOf(name);
    if (family.type === undefined) fail("sample before its TYPE");
    if (family.help === undefined) fail("sample before its HELP");
    if (family.type === "counter") {
      if (!name.endsWith("_total")) fail("counter not named *_total");
      if (!(value! >= 0)) fail("negative or NaN counter");
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seriesSeen.has(key)) fail("duplicate series");
    seriesSeen.add(key);
    family.samples.push({ name, labels, value: value! });
  });
  for (const [name, family] of families) {
    if (family.samples.length === 0) {
      throw new SyntaxError(`Cannot parse exposition: ${name} has no samples`);
    }
  }
  return families;
}

/**
 * The value of one series.
 *
 * @param families What {@linkcode parsePrometheus} returned.
 * @param name The family name.
 * @param labels The series' labels, none by default.
 * @returns Its value.
 * @throws {Error} If there is no such series.
 */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  const sample = families.get(name)?.samples.find((s) =>
    JSON.stringify(Object.entries(s.labels).sort()) === want
  );
  if (sample === undefined) {
    throw new Error(`No sample ${name}${JSON.stringify(labels)}`);
  }
  return sample.value;
}
