import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { checkArguments, CommandWriter } from "./_command.ts";
import type { RedisArgument } from "./types.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Encodes commands and returns the wire as Latin-1 text. */
function encode(...commands: RedisArgument[][]): string {
  const writer = new CommandWriter(8);
  for (const args of commands) writer.write(args);
  return String.fromCharCode(...writer.bytes());
}

Deno.test("CommandWriter encodes a command as an array of bulk strings", () => {
  strictEqual(
    encode(["SET", "key", "value"]),
    "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
  );
});

Deno.test("CommandWriter encodes numbers as decimal text", () => {
  strictEqual(
    encode(["ZADD", "z", 1.5, 0, 1234567890, -3, Infinity, -Infinity]),
    "*8\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\n1.5\r\n$1\r\n0\r\n" +
      "$10\r\n1234567890\r\n$2\r\n-3\r\n$4\r\n+inf\r\n$4\r\n-inf\r\n",
  );
});

Deno.test("CommandWriter sends bytes as they are", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const writer = new CommandWriter(8);
  writer.write(["SET", all]);
  const wire = writer.bytes();
  const header = bytes("*2\r\n$3\r\nSET\r\n$256\r\n");
  deepStrictEqual(wire.subarray(0, header.length), header);
  deepStrictEqual(wire.subarray(header.length, header.length + 256), all);
  deepStrictEqual(wire.subarray(header.length + 256), bytes("\r\n"));
});

Deno.test("CommandWriter counts UTF-8 bytes, not characters", () => {
  // 4 characters of 3 bytes: the length grows from 1 digit to 2.
  const text = "\u20ac\u20ac\u20ac\u20ac";
  const writer = new CommandWriter(8);
  writer.write(["ECHO", text, "é".repeat(100)]);
  deepStrictEqual(
    writer.bytes(),
    bytes(
      `*3\r\n$4\r\nECHO\r\n$12\r\n${text}\r\n$200\r\n${"é".repeat(100)}\r\n`,
    ),
  );
});

Deno.test("CommandWriter appends commands one after another", () => {
  strictEqual(
    encode(["PING"], ["GET", "a"]),
    "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n",
  );
});

Deno.test("CommandWriter refuses a bad argument and keeps what it had", () => {
  const writer = new CommandWriter(8);
  writer.write(["PING"]);
  const before = writer.length;
  throws(
    () => writer.write(["SET", "a", undefined as unknown as string]),
    /Cannot encode argument 2 of SET: expected a string, a number or a Uint8Array, got undefined/,
  );
  throws(() => writer.write(["SET", "a", NaN]), RangeError);
  throws(() => writer.write([]), TypeError);
  strictEqual(writer.length, before);
});

Deno.test("checkArguments() finds the same faults as the writer", () => {
  checkArguments(["SET", "a", 1, bytes("x")]);
  throws(() => checkArguments(["SET", null as unknown as string]), TypeError);
  throws(() => checkArguments(["SET", NaN]), RangeError);
  throws(() => checkArguments([]), TypeError);
});
