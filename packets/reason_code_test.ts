import { ok, strictEqual } from "node:assert/strict";
import { encodePacket } from "./encode.ts";
import { allowedReasonCode, type ReasonCodePacketType } from "./reason_code.ts";
import type { Packet } from "./types.ts";

/** A 5.0 packet of `type` carrying `code`. */
function withCode(type: ReasonCodePacketType, code: number): Packet {
  switch (type) {
    case "connack":
      return { type, sessionPresent: false, reasonCode: code };
    case "disconnect":
      return { type, reasonCode: code };
    case "suback":
    case "unsuback":
      return { type, packetId: 1, reasonCodes: [code] };
    default:
      return { type, packetId: 1, reasonCode: code };
  }
}

const TYPES: ReasonCodePacketType[] = [
  "connack",
  "disconnect",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "suback",
  "unsuback",
];

for (const type of TYPES) {
  Deno.test(`allowedReasonCode() gives ${type.toUpperCase()} a code the encoder takes, for every code 0x00 to 0xFF`, () => {
    for (let code = 0; code <= 0xff; code++) {
      const mapped = allowedReasonCode(type, code);
      encodePacket(withCode(type, mapped), 5);
      if (code >= 0x80) {
        ok(mapped >= 0x80, `0x${code.toString(16)} stays an error`);
      }
    }
  });
}

Deno.test("allowedReasonCode() keeps a code the packet allows", () => {
  strictEqual(allowedReasonCode("disconnect", 0x97), 0x97);
  strictEqual(allowedReasonCode("connack", 0x90), 0x90);
  strictEqual(allowedReasonCode("puback", 0x87), 0x87);
  strictEqual(allowedReasonCode("suback", 0x8f), 0x8f);
});

Deno.test("allowedReasonCode() maps 0x84 in DISCONNECT to 0x82 Protocol Error", () => {
  strictEqual(allowedReasonCode("disconnect", 0x84), 0x82);
  strictEqual(allowedReasonCode("disconnect", 0x81), 0x81);
  strictEqual(allowedReasonCode("disconnect", 0x86), 0x87);
});

Deno.test("allowedReasonCode() maps codes CONNACK does not allow to 0x80, 0x8B to 0x88", () => {
  strictEqual(allowedReasonCode("connack", 0x8e), 0x80);
  strictEqual(allowedReasonCode("connack", 0x8b), 0x88);
  strictEqual(allowedReasonCode("connack", 0x01), 0x80);
});
