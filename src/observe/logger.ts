/**
 * A leveled logger with the shape of `@std/log`, minus its global registry:
 * the broker takes a {@linkcode Logger} in its options and is silent without
 * one.
 *
 * @module
 */

/** The severity of a record, from the most verbose to the most severe. */
export type LevelName = "debug" | "info" | "warn" | "error";

/** One thing a {@linkcode Logger} reports. */
export interface LogRecord {
  /** When the record was made. */
  readonly datetime: Date;
  /** Its severity. */
  readonly level: LevelName;
  /** Name of the logger that made it, such as `broker.conn`. */
  readonly loggerName: string;
  /** What happened, in a few words. */
  readonly msg: string;
  /** Details as name/value pairs; empty when there are none. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Where a {@linkcode Logger} sends the records it lets through. */
export interface LogHandler {
  /** Takes one record; a throw is caught and ignored by the logger. */
  handle(record: LogRecord): void;
}

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /** Where records go, in this order; none by default. */
  handlers?: LogHandler[];
}

/** How {@linkcode formatRecord} writes a record. */
export type LogFormat = "text" | "json";

/** Options for {@linkcode StreamHandler}. */
export interface StreamHandlerOptions {
  /** How records are written, "text" by default. */
  format?: LogFormat;
  /** Where lines are written, `Deno.stderr` by default. */
  writer?: { writeSync(p: Uint8Array): number };
}

const THRESHOLDS: Readonly<Record<LevelName | "off", number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  off: Infinity,
};
const TEXT_LEVELS: Readonly<Record<LevelName, string>> = {
  debug: "DEBUG",
  info: "INFO ",
  warn: "WARN ",
  error: "ERROR",
};
const JSON_KEYS = new Set(["time", "level", "logger", "msg"]);
const NEEDS_QUOTES_RE = /[\s"=\\\p{Cc}]/u;

/**
 * Sends records at or above its level to its handlers.
 *
 * @example Log to an array
 * ```ts
 * import { Logger, type LogRecord } from "@gmqtt/broker";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const records: LogRecord[] = [];
 * const logger = new Logger("broker", "info", {
 *   handlers: [{ handle: (record) => records.push(record) }],
 * });
 * logger.debug("dropped: below the level");
 * logger.info("client connected", { clientId: "a" });
 * deepStrictEqual(
 *   records.map(({ level, msg, fields }) => ({ level, msg, fields })),
 *   [{ level: "info", msg: "client connected", fields: { clientId: "a" } }],
 * );
 * ```
 */
export class Logger {
  /** Name put on every record, such as `broker.conn`. */
  readonly loggerName: string;
  /** Where records go, in order; a child logger shares this array. */
  handlers: LogHandler[];
  #level: LevelName | "off" = "off";
  #threshold = Infinity;

  /**
   * Creates a logger.
   *
   * @example Make a logger that prints warnings and errors
   * ```ts
   * import { Logger, StreamHandler } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * const logger = new Logger("broker", "warn", {
   *   handlers: [new StreamHandler()],
   * });
   * strictEqual(logger.isEnabledFor("info"), false);
   * ```
   * @param loggerName Name put on every record.
   * @param level The least severe level let through; "off" lets none.
   * @param options Handlers; none by default.
   * @throws {TypeError} If `level` is not a level name or "off".
   */
  constructor(
    loggerName: string,
    level: LevelName | "off",
    options: LoggerOptions = {},
  ) {
    this.loggerName = loggerName;
    this.level = level;
    this.handlers = options.handlers ?? [];
  }

  /**
   * The least severe level let through; "off" lets none.
   *
   * @example Turn debug output on and off
   * ```ts
   * import { Logger } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * const logger = new Logger("broker", "info");
   * logger.level = "debug";
   * strictEqual(logger.isEnabledFor("debug"), true);
   * logger.level = "off";
   * strictEqual(logger.isEnabledFor("error"), false);
   * ```
   * @returns The current level.
   */
  get level(): LevelName | "off" {
    return this.#level;
  }

  /**
   * Sets the least severe level let through.
   *
   * @param level A level name, or "off".
   * @throws {TypeError} If `level` is not a level name or "off".
   */
  set level(level: LevelName | "off") {
    if (!Object.hasOwn(THRESHOLDS, level)) {
      throw new TypeError(
        `Cannot set the log level: ${
          JSON.stringify(level)
        } is not debug, info, warn, error or off`,
      );
    }
    this.#level = level;
    this.#threshold = THRESHOLDS[level];
  }

  /**
   * Tells whether records at `level` get through; cheap enough to guard
   * costly debug output.
   *
   * @example Guard a costly dump
   * ```ts
   * import { Logger } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * const logger = new Logger("broker", "info");
   * let dumped = false;
   * if (logger.isEnabledFor("debug")) {
   *   dumped = true;
   *   logger.debug("packet", { bytes: new Uint8Array(1024) });
   * }
   * strictEqual(dumped, false);
   * ```
   * @param level The level to ask about.
   * @returns `true` if a record at `level` would reach the handlers.
   */
  isEnabledFor(level: LevelName): boolean {
    return THRESHOLDS[level] >= this.#threshold;
  }

  /**
   * Reports detail useful when tracing a problem.
   *
   * @example Log a debug record
   * ```ts
   * import { Logger, type LogRecord } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * const records: LogRecord[] = [];
   * const logger = new Logger("broker", "debug", {
   *   handlers: [{ handle: (record) => records.push(record) }],
   * });
   * logger.debug("packet received", { type: "publish" });
   * strictEqual(records[0]?.level, "debug");
   * ```
   * @param msg What happened.
   * @param fields Details; none by default.
   */
  debug(msg: string, fields?: Record<string, unknown>): void {
    if (10 >= this.#threshold) this.#log("debug", msg, fields);
  }

  /**
   * Reports a normal event worth knowing about.
   *
   * @example Log an info record
   * ```ts
   * import { Logger, type LogRecord } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * const records: LogRecord[] = [];
   * const logger = new Logger("broker", "info", {
   *   handlers: [{ handle: (record) => records.push(record) }],
   * });
   * logger.info("listening", { port: 1883 });
   * strictEqual(records[0]?.fields.port, 1883);
   * ```
   * @param msg What happened.
   * @param fields Details; none by default.
   */
  info(msg: string, fields?: Record<string, unknown>): void {
    if (20 >= this.#threshold) this.#log("info", msg, fields);
  }

  /**
   * Reports something unusual that the broker survives, such as a client
   * breaking the protocol.
   *
   * @example Log a warning
   * ```ts
   * import { Logger, type LogRecord } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * const records: LogRecord[] = [];
   * const logger = new Logger("broker", "warn", {
   *   handlers: [{ handle: (record) => records.push(record) }],
   * });
   * logger.warn("malformed packet", { clientId: "a" });
   * strictEqual(records[0]?.msg, "malformed packet");
   * ```
   * @param msg What happened.
   * @param fields Details; none by default.
   */
  warn(msg: string, fields?: Record<string, unknown>): void {
    if (30 >= this.#threshold) this.#log("warn", msg, fields);
  }

  /**
   * Reports a failure of the broker itself or of a hook.
   *
   * @example Log an error
   * ```ts
   * import { Logger, type LogRecord } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * const records: LogRecord[] = [];
   * const logger = new Logger("broker", "error", {
   *   handlers: [{ handle: (record) => records.push(record) }],
   * });
   * logger.error("hook failed", { error: new Error("boom") });
   * strictEqual(records.length, 1);
   * ```
   * @param msg What happened.
   * @param fields Details; none by default.
   */
  error(msg: string, fields?: Record<string, unknown>): void {
    if (40 >= this.#threshold) this.#log("error", msg, fields);
  }

  /**
   * Makes a logger named `${loggerName}.${name}` that shares this logger's
   * handlers array and starts at its current level; changing either level
   * later does not change the other.
   *
   * @example Name the logger of a part of the broker
   * ```ts
   * import { Logger } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * const logger = new Logger("broker", "info");
   * const conn = logger.child("conn");
   * strictEqual(conn.loggerName, "broker.conn");
   * strictEqual(conn.level, "info");
   * ```
   * @param name The last part of the child's name.
   * @returns The child logger.
   */
  child(name: string): Logger {
    const child = new Logger(`${this.loggerName}.${name}`, this.#level);
    child.handlers = this.handlers;
    return child;
  }

  #log(
    level: LevelName,
    msg: string,
    fields: Record<string, unknown> | undefined,
  ): void {
    const record: LogRecord = {
      datetime: new Date(),
      level,
      loggerName: this.loggerName,
      msg,
      fields: fields ?? {},
    };
    for (const handler of this.handlers) {
      try {
        handler.handle(record);
      } catch {
        // A failing handler must not break the code that logs.
      }
    }
  }
}

/**
 * Makes a logger that drops everything: the library's default.
 *
 * @example Log nothing
 * ```ts
 * import { silentLogger } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const logger = silentLogger();
 * logger.error("not shown");
 * strictEqual(logger.isEnabledFor("error"), false);
 * ```
 * @returns A logger at level "off" with no handlers.
 */
export function silentLogger(): Logger {
  return new Logger("broker", "off");
}

/**
 * Formats a record as one line, without the line break.
 *
 * "text" gives the time, the level, the logger's name, the message and the
 * fields as `name=value`; a value is quoted (as a JSON string) only when it
 * is empty or holds spaces, quotes, `=`, backslashes or control characters.
 * "json" gives one JSON object with `time`, `level`, `logger`, `msg`, then
 * the fields (one named like those four gets a leading `_`). In both,
 * `undefined` fields are left out, an `Error` prints its message, a
 * `Uint8Array` prints as base64, a bigint as its digits and a `Date` as an
 * ISO string.
 *
 * @example Format a record both ways
 * ```ts
 * import { formatRecord, type LogRecord } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const record: LogRecord = {
 *   datetime: new Date("2026-11-28T10:00:00.000Z"),
 *   level: "info",
 *   loggerName: "broker.conn",
 *   msg: "connection closed",
 *   fields: { client_id: "a b", reason: "keepalive" },
 * };
 * strictEqual(
 *   formatRecord(record, "text"),
 *   '2026-11-28T10:00:00.000Z INFO  broker.conn: connection closed client_id="a b" reason=keepalive',
 * );
 * strictEqual(
 *   formatRecord(record, "json"),
 *   '{"time":"2026-11-28T10:00:00.000Z","level":"info","logger":"broker.conn","msg":"connection closed","client_id":"a b","reason":"keepalive"}',
 * );
 * ```
 * @param record The record.
 * @param format "text" or "json".
 * @returns The line.
 */
export function formatRecord(record: LogRecord, format: LogFormat): string {
  const time = formatDate(record.datetime);
  if (format === "json") {
    let line = `{"time":${JSON.stringify(time)},"level":${
      JSON.stringify(record.level)
    },"logger":${JSON.stringify(record.loggerName)},"msg":${
      JSON.stringify(record.msg)
    }`;
    for (const [name, value] of Object.entries(record.fields)) {
      if (value === undefined) continue;
      const key = JSON_KEYS.has(name) ? `_${name}` : name;
      line += `,${JSON.stringify(key)}:${toJson(value)}`;
    }
    return line + "}";
  }
  let line = `${time} ${
    TEXT_LEVELS[record.level]
  } ${record.loggerName}: ${record.msg}`;
  for (const [name, value] of Object.entries(record.fields)) {
    if (value === undefined) continue;
    const text = toText(value);
    line += ` ${name}=${
      text === "" || NEEDS_QUOTES_RE.test(text) ? JSON.stringify(text) : text
    }`;
  }
  return line;
}

/**
 * Writes each record, formatted and followed by "\n", synchronously to a
 * writer.
 *
 * @example Capture log lines
 * ```ts
 * import { Logger, StreamHandler } from "@gmqtt/broker";
 * import { strictEqual } from "node:assert/strict";
 *
 * const chunks: Uint8Array[] = [];
 * const writer = {
 *   writeSync(p: Uint8Array): number {
 *     chunks.push(p.slice());
 *     return p.length;
 *   },
 * };
 * const logger = new Logger("broker", "info", {
 *   handlers: [new StreamHandler({ format: "json", writer })],
 * });
 * logger.info("started");
 * const line = new TextDecoder().decode(chunks[0]);
 * strictEqual(JSON.parse(line).msg, "started");
 * strictEqual(line.endsWith("}\n"), true);
 * ```
 */
export class StreamHandler implements LogHandler {
  readonly #format: LogFormat;
  readonly #writer: { writeSync(p: Uint8Array): number };
  readonly #encoder = new TextEncoder();

  /**
   * Creates a handler.
   *
   * @example Print text lines to standard error
   * ```ts
   * import { StreamHandler } from "@gmqtt/broker";
   * import { ok } from "node:assert/strict";
   *
   * ok(new StreamHandler({ format: "text" }));
   * ```
   * @param options The format ("text" by default) and the writer
   * (`Deno.stderr` by default).
   */
  constructor(options: StreamHandlerOptions = {}) {
    this.#format = options.format ?? "text";
    this.#writer = options.writer ?? Deno.stderr;
  }

  /**
   * Writes one record as a line, looping on partial writes.
   *
   * @example Write a record
   * ```ts
   * import { StreamHandler } from "@gmqtt/broker";
   * import { strictEqual } from "node:assert/strict";
   *
   * let text = "";
   * const handler = new StreamHandler({
   *   writer: {
   *     writeSync(p: Uint8Array): number {
   *       text += new TextDecoder().decode(p);
   *       return p.length;
   *     },
   *   },
   * });
   * handler.handle({
   *   datetime: new Date(0),
   *   level: "warn",
   *   loggerName: "broker",
   *   msg: "slow consumer",
   *   fields: { queued: 1000 },
   * });
   * strictEqual(
   *   text,
   *   "1970-01-01T00:00:00.000Z WARN  broker: slow consumer queued=1000\n",
   * );
   * ```
   * @param record The record to write.
   */
  handle(record: LogRecord): void {
    const bytes = this.#encoder.encode(
      formatRecord(record, this.#format) + "\n",
    );
    let offset = 0;
    while (offset < bytes.length) {
      const written = this.#writer.writeSync(bytes.subarray(offset));
      if (written <= 0) break;
      offset += written;
    }
  }
}

function formatDate(date: Date): string {
  return Number.isNaN(date.getTime()) ? "Invalid Date" : date.toISOString();
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The text form of a field value, before any quoting. */
function toText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  if (value instanceof Uint8Array) return toBase64(value);
  if (value instanceof Date) return formatDate(value);
  if (value === null || typeof value !== "object") return String(value);
  try {
    return JSON.stringify(value, jsonReplacer) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The JSON form of a field value; never throws. */
function toJson(value: unknown): string {
  try {
    return JSON.stringify(value, jsonReplacer) ?? "null";
  } catch {
    // A cycle, or a throwing toJSON: fall back to the value's string form.
    return JSON.stringify(String(value));
  }
}

function jsonReplacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message;
  if (value instanceof Uint8Array) return toBase64(value);
  return value;
}
