import { deepStrictEqual, throws } from "node:assert/strict";
import type { Message } from "./message.ts";
import {
  decodeMessage,
  encodeMessage,
  MessageCodecError,
} from "./message_codec.ts";

const FULL: Message = {
  topic: "sensors/ü/😀",
  payload: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
  qos: 2,
  retain: true,
  properties: {
    payloadFormatIndicator: 0,
    contentType: "application/octet-stream",
    responseTopic: "replies/1",
    correlationData: Uint8Array.of(0, 255, 7),
    userProperties: [["k", "v"], ["k", "second"], ["", "\u0000"]],
  },
  expiresAt: 1_700_000_060_000,
  publisher: "client-1",
  createdAt: 1_700_000_000_000,
};

Deno.test("encodeMessage() and decodeMessage() keep every field of a message byte for byte", () => {
  deepStrictEqual(decodeMessage(encodeMessage(FULL)), FULL);
  const bare: Message = {
    topic: "a",
    payload: new Uint8Array(0),
    qos: 0,
    retain: false,
    createdAt: 0,
  };
  const back = decodeMessage(encodeMessage(bare));
  deepStrictEqual(back, bare);
  deepStrictEqual(Object.keys(back).sort(), Object.keys(bare).sort());
});

Deno.test("decodeMessage() refuses every truncation, another version, bad flags and bad UTF-8, with MessageCodecError", () => {
  const bytes = encodeMessage({ ...FULL, payload: new Uint8Array(0) });
  // The payload is the rest: every cut before it is truncated.
  for (let end = 0; end < bytes.length; end++) {
    throws(() => decodeMessage(bytes.subarray(0, end)), MessageCodecError);
  }
  const other = bytes.slice();
  other[0] = 2;
  throws(() => decodeMessage(other), /unknown version 2/);
  const flags = bytes.slice();
  flags[1] = flags[1]! | 0x03;
  throws(() => decodeMessage(flags), /bad flags/);
  const topic = encodeMessage({
    topic: "ab",
    payload: new Uint8Array(0),
    qos: 0,
    retain: false,
    expiresAt: 1,
    createdAt: 0,
  });
  // The topic's bytes follow version, flags, two times and its length.
  topic[22] = 0xff;
  throws(() => decodeMessage(topic), /bad UTF-8/);
});
