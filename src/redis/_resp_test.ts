import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { ReplyKind, RespDecoder } from "./_resp.ts";
import { RedisError, RedisProtocolError, type RedisReply } from "./types.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

interface Decoded {
  reply: RedisReply;
  kind: ReplyKind;
}

interface Fixture {
  name: string;
  wire: string;
  decoded: Decoded;
}

const reply = (value: RedisReply): Decoded => ({
  reply: value,
  kind: ReplyKind.Reply,
});

const FIXTURES: Fixture[] = [
  { name: "a simple string", wire: "+OK\r\n", decoded: reply("OK") },
  {
    name: "a simple string of text",
    wire: "+QUEUED\r\n",
    decoded: reply("QUEUED"),
  },
  {
    name: "a UTF-8 simple string",
    wire: "+h\u00c3\u00a9llo\r\n",
    decoded: reply("héllo"),
  },
  {
    name: "an error",
    wire: "-ERR unknown command\r\n",
    decoded: { reply: "ERR unknown command", kind: ReplyKind.Error },
  },
  { name: "an integer", wire: ":42\r\n", decoded: reply(42) },
  { name: "a negative integer", wire: ":-7\r\n", decoded: reply(-7) },
  {
    name: "an integer past 2^53",
    wire: ":9223372036854775807\r\n",
    decoded: reply(9223372036854775807n),
  },
  {
    name: "a bulk string",
    wire: "$5\r\nhello\r\n",
    decoded: reply(bytes("hello")),
  },
  {
    name: "a bulk string holding CRLF",
    wire: "$4\r\n\r\n\r\n\r\n",
    decoded: reply(bytes("\r\n\r\n")),
  },
  {
    name: "an empty bulk string",
    wire: "$0\r\n\r\n",
    decoded: reply(bytes("")),
  },
  { name: "a nil bulk string", wire: "$-1\r\n", decoded: reply(null) },
  { name: "a nil array", wire: "*-1\r\n", decoded: reply(null) },
  { name: "an empty array", wire: "*0\r\n", decoded: reply([]) },
  {
    name: "a nested array with an error inside",
    wire: "*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n-WRONGTYPE no\r\n",
    decoded: reply([1, ["a", bytes("b")], new RedisError("WRONGTYPE no")]),
  },
  { name: "a RESP3 null", wire: "_\r\n", decoded: reply(null) },
  { name: "a RESP3 true", wire: "#t\r\n", decoded: reply(true) },
  { name: "a RESP3 false", wire: "#f\r\n", decoded: reply(false) },
  { name: "a RESP3 double", wire: ",3.25\r\n", decoded: reply(3.25) },
  {
    name: "a RESP3 double in exponent form",
    wire: ",1e-3\r\n",
    decoded: reply(0.001),
  },
  { name: "a RESP3 infinity", wire: ",-inf\r\n", decoded: reply(-Infinity) },
  {
    name: "a RESP3 big number",
    wire: "(3492890328409238509324850943850943825024385\r\n",
    decoded: reply(3492890328409238509324850943850943825024385n),
  },
  {
    name: "a RESP3 verbatim string",
    wire: "=15\r\ntxt:Some string\r\n",
    decoded: reply(bytes("Some string")),
  },
  {
    name: "a RESP3 bulk error",
    wire: "!21\r\nSYNTAX invalid syntax\r\n",
    decoded: { reply: "SYNTAX invalid syntax", kind: ReplyKind.Error },
  },
  {
    name: "a RESP3 map, as keys and values in turn",
    wire: "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
    decoded: reply(["first", 1, "second", 2]),
  },
  {
    name: "a RESP3 set",
    wire: "~2\r\n+a\r\n+b\r\n",
    decoded: reply(["a", "b"]),
  },
  {
    name: "a RESP3 push",
    wire: ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    decoded: {
      reply: [bytes("message"), bytes("ch"), bytes("hi")],
      kind: ReplyKind.Push,
    },
  },
  {
    name: "a reply after a RESP3 attribute, which is skipped",
    wire: "|1\r\n+ttl\r\n:3600\r\n*2\r\n:1\r\n|0\r\n:2\r\n",
    decoded: reply([1, 2]),
  },
];

/** Decodes `wire` fed in the given pieces. */
function decodeIn(pieces: Uint8Array[]): Decoded[] {
  const decoder = new RespDecoder(16);
  const out: Decoded[] = [];
  for (const piece of pieces) {
    decoder.feed(piece);
    decoder.decode((reply, kind) => out.push({ reply, kind }));
  }
  strictEqual(decoder.buffered, 0, "bytes left over");
  return out;
}

/** Latin-1 text to bytes: each character is one byte. */
function wireBytes(wire: string): Uint8Array {
  return Uint8Array.from(wire, (c) => c.charCodeAt(0));
}

for (const { name, wire, decoded } of FIXTURES) {
  Deno.test(`RespDecoder decodes ${name} split at every byte`, () => {
    const all = wireBytes(wire);
    for (let split = 0; split <= all.length; split++) {
      deepStrictEqual(
        decodeIn([all.subarray(0, split), all.subarray(split)]),
        [decoded],
        `split at ${split}`,
      );
    }
    deepStrictEqual(
      decodeIn([...all].map((byte) => Uint8Array.of(byte))),
      [decoded],
      "one byte at a time",
    );
  });
}

Deno.test("RespDecoder decodes every fixture in one stream, in order, split anywhere", () => {
  const all = wireBytes(FIXTURES.map((f) => f.wire).join(""));
  const expected = FIXTURES.map((f) => f.decoded);
  for (let split = 0; split <= all.length; split += 7) {
    deepStrictEqual(
      decodeIn([all.subarray(0, split), all.subarray(split)]),
      expected,
    );
  }
});

Deno.test("RespDecoder decodes a bulk string of 1 MiB fed in 1000-byte reads", () => {
  const payload = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
  const all = new Uint8Array([
    ...bytes(`$${payload.length}\r\n`),
    ...payload,
    ...bytes("\r\n:1\r\n"),
  ]);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 1000) {
    pieces.push(all.subarray(i, i + 1000));
  }
  const out = decodeIn(pieces);
  strictEqual(out.length, 2);
  deepStrictEqual(out[0]!.reply, payload);
  strictEqual(out[1]!.reply, 1);
});

Deno.test("RespDecoder decodes an array of 100 000 elements fed in small reads", () => {
  const parts = ["*100000\r\n"];
  for (let i = 0; i < 100_000; i++) parts.push(`:${i}\r\n`);
  const all = bytes(parts.join(""));
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 100) {
    pieces.push(all.subarray(i, i + 100));
  }
  const started = performance.now();
  const out = decodeIn(pieces);
  const array = out[0]!.reply as number[];
  strictEqual(array.length, 100_000);
  strictEqual(array[99_999], 99_999);
  // Decoding each element once keeps this far below a second; decoding the
  // array from its start on every read would take minutes.
  strictEqual(performance.now() - started < 5000, true);
});

Deno.test("RespDecoder hands out bulk strings that later reads do not change", () => {
  const decoder = new RespDecoder(16);
  const out: RedisReply[] = [];
  decoder.feed(bytes("$3\r\nabc\r\n"));
  decoder.decode((reply) => out.push(reply));
  decoder.feed(bytes("$3\r\nxyz\r\n"));
  decoder.decode((reply) => out.push(reply));
  deepStrictEqual(out, [bytes("abc"), bytes("xyz")]);
});

const MALFORMED: [name: string, wire: string][] = [
  ["an unknown type byte", "?x\r\n"],
  ["a CR without LF", "+OK\rX"],
  ["a length that is not a number", "$abc\r\n"],
  ["a negative length other than -1", "$-2\r\n"],
  ["a nil verbatim string", "=-1\r\n"],
  ["a bulk string without its CRLF", "$3\r\nabcXY"],
  ["a bulk string past 512 MB", "$600000000\r\n"],
  ["an integer with letters", ":12a\r\n"],
  ["an empty integer", ":\r\n"],
  ["a boolean other than t or f", "#x\r\n"],
  ["a null with content", "_x\r\n"],
  ["a double that is not a number", ",one\r\n"],
  ["a big number with a point", "(1.5\r\n"],
  ["a verbatim string without its format", "=3\r\nabc\r\n"],
  ["a simple string without an end", `+${"a".repeat(70_000)}`],
];

for (const [name, wire] of MALFORMED) {
  Deno.test(`RespDecoder rejects ${name}`, () => {
    const decoder = new RespDecoder(16);
    decoder.feed(wireBytes(wire));
    throws(() => decoder.decode(() => {}), RedisProtocolError);
  });
}
