/**
 * Makes a packet the server is about to send legal for the client: a reason
 * code its type allows, a reason string of bounded length, and no optional
 * properties that would make it larger than the client takes.
 *
 * @module
 */

import { allowedReasonCode } from "../../packets/reason_code.ts";
import { encodedLength } from "../../packets/encode.ts";
import type { Packet, Properties } from "../../packets/types.ts";

/** Longest reason string sent, in UTF-8 bytes. */
export const MAX_REASON_STRING_BYTES = 256;

/**
 * The 5.0 packet to send in place of `packet`: the reason code mapped onto
 * one its type allows (see `allowedReasonCode`), the reason string cut to
 * 256 bytes, and the Reason String and User Properties left out when the
 * packet would exceed the client's Maximum Packet Size [MQTT-3.1.2-25]
 * [MQTT-3.2.2-19] [MQTT-3.14.2-3] [MQTT-3.4.2-2]. PUBLISH and packets with
 * nothing to fix come back as they are.
 */
export function legalReply(packet: Packet, maxPacketSize: number): Packet {
  switch (packet.type) {
    case "connack":
    case "disconnect":
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp": {
      const code = packet.reasonCode;
      let fixed: Packet = packet;
      if (code !== undefined) {
        const allowed = allowedReasonCode(packet.type, code);
        if (allowed !== code) fixed = { ...packet, reasonCode: allowed };
      }
      return withLegalProperties(fixed, maxPacketSize);
    }
    case "suback":
    case "unsuback": {
      const codes = packet.reasonCodes;
      let fixed: Packet = packet;
      if (codes?.some((c) => allowedReasonCode(packet.type, c) !== c)) {
        fixed = {
          ...packet,
          reasonCodes: codes.map((c) => allowedReasonCode(packet.type, c)),
        };
      }
      return withLegalProperties(fixed, maxPacketSize);
    }
    default:
      return packet;
  }
}

function withLegalProperties(packet: Packet, maxPacketSize: number): Packet {
  const properties = (packet as { properties?: Properties }).properties;
  if (properties === undefined) return packet;
  let fitted = properties;
  const reason = properties.reasonString;
  if (reason !== undefined && reason.length > MAX_REASON_STRING_BYTES / 3) {
    const cut = cutUtf8(reason, MAX_REASON_STRING_BYTES);
    if (cut !== reason) fitted = { ...properties, reasonString: cut };
  }
  let fixed = fitted === properties
    ? packet
    : { ...packet, properties: fitted } as Packet;
  if (maxPacketSize < 268435460 && encodedLength(fixed, 5) > maxPacketSize) {
    // Only the Reason String and User Properties may be dropped.
    const {
      reasonString: _reason,
      userProperties: _user,
      ...rest
    } = fitted;
    fixed = { ...packet, properties: rest } as Packet;
  }
  return fixed;
}

/**
 * `text` cut to at most `maxBytes` bytes of UTF-8, on a character boundary,
 * with "…" at the end when it was cut.
 */
export function cutUtf8(text: string, maxBytes: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes - 3; // Room for "…" (3 bytes).
  // Back up to the first byte of a character (not 0b10xxxxxx).
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end)) + "…";
}
