import { strictEqual } from "node:assert/strict";
import { decodeUtf8, RecentNames, utf8Length } from "./_utf8.ts";

const ENCODER = new TextEncoder();
const VALID = [
  "",
  "a",
  "abcd",
  "abcde",
  "x".repeat(31),
  "x".repeat(32),
  "x".repeat(33),
  "x".repeat(100),
  "€",
  "ab€cd",
  "\ufeffa", // [MQTT-1.5.3-3] a BOM is kept
  "x".repeat(40) + "日本",
  "\u{1f600}",
];

Deno.test("decodeUtf8() decodes ASCII and non-ASCII strings of every length", () => {
  for (const text of VALID) {
    const bytes = ENCODER.encode(text);
    strictEqual(decodeUtf8(bytes, 0, bytes.length), text);
    strictEqual(utf8Length(text), bytes.length);
  }
});

Deno.test("decodeUtf8() refuses U+0000, surrogates, overlong and cut sequences", () => {
  const bad = [
    [0x00],
    [0x61, 0x00],
    [0x61, 0x62, 0x63, 0x64, 0x00],
    [...new Array(40).fill(0x61), 0x00],
    [...new Array(40).fill(0x61), 0xc3, 0xa9, 0x00],
    [0xc3, 0xa9, 0x00],
    [0xed, 0xa0, 0x80], // U+D800
    [0xc0, 0x80], // overlong U+0000
    [0xff],
    [0x61, 0x62, 0x63, 0x64, 0xe2, 0x82], // cut short
  ];
  for (const bytes of bad) {
    strictEqual(decodeUtf8(Uint8Array.from(bytes), 0, bytes.length), undefined);
  }
});

Deno.test("utf8Length() refuses U+0000 and lone surrogates", () => {
  for (
    const text of ["\0", "a\0", "\ud800", "\udc00", "a\ud800b", "\udc00\ud800"]
  ) {
    strictEqual(utf8Length(text), -1);
  }
});

Deno.test("RecentNames.decode() answers a repeated ASCII name with the same string, and any other name with its own", () => {
  const names = new RecentNames();
  const texts = [
    "sensors/1/temperature",
    "sensors/2/temperature",
    "a",
    "b",
    "x".repeat(128),
    "x".repeat(129),
    "ab€cd",
  ];
  // Many names, so that some share a slot of the table and replace each other.
  for (let i = 0; i < 2000; i++) texts.push(`devices/${i}/state`);
  for (let round = 0; round < 3; round++) {
    for (const name of texts) {
      // At an offset, as inside a read buffer.
      const bytes = ENCODER.encode(`##${name}##`);
      strictEqual(names.decode(bytes, 2, bytes.length - 2), name);
    }
  }
  const bytes = ENCODER.encode("home/kitchen/light");
  const first = names.decode(bytes, 0, bytes.length);
  strictEqual(names.decode(bytes.slice(), 0, bytes.length), first);
});

Deno.test("RecentNames.decode() refuses what decodeUtf8() refuses", () => {
  const names = new RecentNames();
  for (const bytes of [[0x61, 0x00, 0x62], [0xc0, 0x80], [0xed, 0xa0, 0x80]]) {
    const array = Uint8Array.from(bytes);
    strictEqual(names.decode(array, 0, array.length), undefined);
  }
});
