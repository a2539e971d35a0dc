import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  formatRecord,
  type LevelName,
  Logger,
  type LogRecord,
  silentLogger,
  StreamHandler,
} from "./logger.ts";

/** A handler that keeps what it gets. */
function collector(): { records: LogRecord[]; handle(r: LogRecord): void } {
  const records: LogRecord[] = [];
  return { records, handle: (record) => void records.push(record) };
}

/** A writer that keeps what is written, at most `max` bytes per call. */
function capture(max = Infinity): {
  text(): string;
  calls: number;
  writeSync(p: Uint8Array): number;
} {
  const chunks: Uint8Array[] = [];
  return {
    calls: 0,
    text: () => chunks.map((c) => new TextDecoder().decode(c)).join(""),
    writeSync(p: Uint8Array): number {
      this.calls++;
      const n = Math.min(p.length, max);
      chunks.push(p.slice(0, n));
      return n;
    },
  };
}

const AT = new Date("2026-11-28T10:00:00.000Z");

function record(
  level: LevelName,
  fields: Record<string, unknown>,
  msg = "connection closed",
): LogRecord {
  return { datetime: AT, level, loggerName: "broker.conn", msg, fields };
}

const LEVELS: readonly LevelName[] = ["debug", "info", "warn", "error"];

function logAll(logger: Logger): void {
  logger.debug("d");
  logger.info("i");
  logger.warn("w");
  logger.error("e");
}

for (
  const [level, expected] of [
    ["debug", ["d", "i", "w", "e"]],
    ["info", ["i", "w", "e"]],
    ["warn", ["w", "e"]],
    ["error", ["e"]],
    ["off", []],
  ] as const
) {
  Deno.test(`Logger at level ${level} passes ${expected.length} of the four levels`, () => {
    const sink = collector();
    const logger = new Logger("broker", level, { handlers: [sink] });
    logAll(logger);
    deepStrictEqual(sink.records.map((r) => r.msg), [...expected]);
    deepStrictEqual(
      LEVELS.map((l) => logger.isEnabledFor(l)),
      LEVELS.map((l) => expected.includes(l[0] as never)),
    );
  });
}

Deno.test("Logger records the level, name, message, fields and time", () => {
  const sink = collector();
  const logger = new Logger("broker", "debug", { handlers: [sink] });
  const before = Date.now();
  logger.warn("slow consumer", { clientId: "a", queued: 10 });
  logger.info("no fields");
  const [first, second] = sink.records;
  ok(first && second);
  strictEqual(first.level, "warn");
  strictEqual(first.loggerName, "broker");
  strictEqual(first.msg, "slow consumer");
  deepStrictEqual(first.fields, { clientId: "a", queued: 10 });
  ok(first.datetime.getTime() >= before);
  ok(first.datetime.getTime() <= Date.now());
  deepStrictEqual(second.fields, {});
});

Deno.test("Logger.level can be changed after creation", () => {
  const sink = collector();
  const logger = new Logger("broker", "error", { handlers: [sink] });
  logger.info("dropped");
  logger.level = "info";
  strictEqual(logger.level, "info");
  logger.info("kept");
  logger.level = "off";
  logger.error("dropped");
  deepStrictEqual(sink.records.map((r) => r.msg), ["kept"]);
});

Deno.test("Logger refuses an unknown level with a TypeError", () => {
  throws(
    () => new Logger("broker", "verbose" as LevelName),
    new TypeError(
      'Cannot set the log level: "verbose" is not debug, info, warn, error or off',
    ),
  );
  const logger = new Logger("broker", "info");
  throws(() => (logger.level = "toString" as LevelName), TypeError);
  strictEqual(logger.level, "info");
});

Deno.test("Logger sends each record to every handler in order", () => {
  const order: string[] = [];
  const logger = new Logger("broker", "info", {
    handlers: [
      { handle: (r) => void order.push(`a:${r.msg}`) },
      { handle: (r) => void order.push(`b:${r.msg}`) },
    ],
  });
  logger.info("x");
  deepStrictEqual(order, ["a:x", "b:x"]);
});

Deno.test("Logger ignores a handler that throws and still calls the next", () => {
  const sink = collector();
  const logger = new Logger("broker", "info", {
    handlers: [{
      handle() {
        throw new Error("disk full");
      },
    }, sink],
  });
  logger.error("still reported");
  strictEqual(sink.records.length, 1);
});

Deno.test("Logger.child() names the child after its parent", () => {
  const logger = new Logger("broker", "info");
  const conn = logger.child("conn");
  strictEqual(conn.loggerName, "broker.conn");
  strictEqual(conn.child("tls").loggerName, "broker.conn.tls");
});

Deno.test("Logger.child() shares handlers and copies the level once", () => {
  const sink = collector();
  const parent = new Logger("broker", "info", { handlers: [sink] });
  const child = parent.child("session");
  strictEqual(child.level, "info");
  child.info("from child");
  parent.level = "debug";
  child.debug("dropped: the child stays at info");
  child.level = "error";
  parent.info("parent keeps its own level");
  const late = collector();
  parent.handlers.push(late);
  child.error("seen by both handlers");
  deepStrictEqual(sink.records.map((r) => [r.loggerName, r.msg]), [
    ["broker.session", "from child"],
    ["broker", "parent keeps its own level"],
    ["broker.session", "seen by both handlers"],
  ]);
  strictEqual(late.records.length, 1);
});

Deno.test("silentLogger() drops everything and calls no handler", () => {
  const logger = silentLogger();
  strictEqual(logger.level, "off");
  deepStrictEqual(logger.handlers, []);
  for (const level of LEVELS) strictEqual(logger.isEnabledFor(level), false);
  logAll(logger);
  ok(silentLogger() !== logger, "each call makes a new logger");
});

const TEXT_CASES: readonly {
  name: string;
  record: LogRecord;
  line: string;
}[] = [
  {
    name: "the brief's example line",
    record: record("info", {
      client_id: "a b",
      remote: "127.0.0.1:5000",
      reason: "keepalive",
    }),
    line: "2026-11-28T10:00:00.000Z INFO  broker.conn: connection closed " +
      'client_id="a b" remote=127.0.0.1:5000 reason=keepalive',
  },
  {
    name: "padded level names",
    record: record("debug", {}, "m"),
    line: "2026-11-28T10:00:00.000Z DEBUG broker.conn: m",
  },
  {
    name: "values that need quotes",
    record: record("warn", {
      quote: 'say "hi"',
      eq: "a=b",
      empty: "",
      newline: "a\nb",
      backslash: "c:\\x",
    }, "m"),
    line: "2026-11-28T10:00:00.000Z WARN  broker.conn: m " +
      'quote="say \\"hi\\"" eq="a=b" empty="" newline="a\\nb" ' +
      'backslash="c:\\\\x"',
  },
  {
    name: "non-string values",
    record: record("error", {
      error: new Error("socket reset"),
      bytes: Uint8Array.of(0x10, 0x00, 0xff),
      big: 12345678901234567890n,
      n: 1.5,
      ok: false,
      none: null,
      skipped: undefined,
      at: new Date(0),
      list: [1, "a"],
    }, "m"),
    line: "2026-11-28T10:00:00.000Z ERROR broker.conn: m " +
      'error="socket reset" bytes=EAD/ big=12345678901234567890 n=1.5 ' +
      'ok=false none=null at=1970-01-01T00:00:00.000Z list="[1,\\"a\\"]"',
  },
];

for (const { name, record, line } of TEXT_CASES) {
  Deno.test(`formatRecord() writes text with ${name}`, () => {
    strictEqual(formatRecord(record, "text"), line);
  });
}

Deno.test("formatRecord() writes one JSON object with the fields last", () => {
  const line = formatRecord(
    record("info", {
      client_id: "a b",
      error: new Error("socket reset"),
      bytes: Uint8Array.of(0x10, 0x00, 0xff),
      big: 2n ** 70n,
      nested: { payload: Uint8Array.of(1), id: 3n },
      skipped: undefined,
    }),
    "json",
  );
  strictEqual(
    line,
    '{"time":"2026-11-28T10:00:00.000Z","level":"info",' +
      '"logger":"broker.conn","msg":"connection closed","client_id":"a b",' +
      '"error":"socket reset","bytes":"EAD/","big":"1180591620717411303424",' +
      '"nested":{"payload":"AQ==","id":"3"}}',
  );
  ok(!line.includes("\n"));
  strictEqual(JSON.parse(line).msg, "connection closed");
});

Deno.test("formatRecord() keeps JSON fields named like record keys apart", () => {
  const line = formatRecord(
    record("warn", { msg: "field", level: 9, time: "t", logger: "l" }, "m"),
    "json",
  );
  deepStrictEqual(JSON.parse(line), {
    time: "2026-11-28T10:00:00.000Z",
    level: "warn",
    logger: "broker.conn",
    msg: "m",
    _msg: "field",
    _level: 9,
    _time: "t",
    _logger: "l",
  });
});

Deno.test("formatRecord() does not throw on a cyclic field", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const fields = { cyclic };
  strictEqual(
    formatRecord(record("info", fields, "m"), "json"),
    '{"time":"2026-11-28T10:00:00.000Z","level":"info",' +
      '"logger":"broker.conn","msg":"m","cyclic":"[object Object]"}',
  );
  ok(
    formatRecord(record("info", fields, "m"), "text").endsWith(
      ' m cyclic="[object Object]"',
    ),
  );
});

Deno.test("StreamHandler writes each record as a text line by default", () => {
  const writer = capture();
  const logger = new Logger("broker", "info", {
    handlers: [new StreamHandler({ writer })],
  });
  logger.info("started", { port: 1883 });
  logger.warn("stopping");
  const lines = writer.text().split("\n");
  strictEqual(lines.length, 3);
  strictEqual(lines[2], "");
  strictEqual(lines[0]?.slice(24), " INFO  broker: started port=1883");
  ok(!Number.isNaN(Date.parse(lines[0]?.slice(0, 24) ?? "")));
  ok(lines[1]?.endsWith(" WARN  broker: stopping"));
});

Deno.test("StreamHandler writes JSON lines and finishes partial writes", () => {
  const writer = capture(7);
  const handler = new StreamHandler({ format: "json", writer });
  const fixed = record("error", { reason: "é ünïcode" });
  handler.handle(fixed);
  strictEqual(writer.text(), formatRecord(fixed, "json") + "\n");
  ok(writer.calls > 1);
});

Deno.test("StreamHandler gives up on a writer that writes nothing", () => {
  const handler = new StreamHandler({ writer: { writeSync: () => 0 } });
  handler.handle(record("info", {}));
});
