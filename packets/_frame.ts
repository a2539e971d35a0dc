/**
 * Fixed headers: finding where a packet ends and decoding one whole packet.
 * Private to `packets/`.
 *
 * @module
 */

import { MalformedPacketError, PacketTooLargeError } from "./errors.ts";
import { decodeAck, decodeDisconnect } from "./_acks.ts";
import { decodeConnack, decodeConnect } from "./_connect.ts";
import { decodePublish, type FrameDecoding } from "./_publish.ts";
import {
  decodeSuback,
  decodeSubscribe,
  decodeUnsubscribe,
} from "./_subscribe.ts";
import type { Packet, ProtocolVersion } from "./types.ts";

/**
 * The largest packet MQTT allows: 1 type byte, 4 length bytes and a remaining
 * length of 268,435,455.
 */
export const MQTT_MAXIMUM_PACKET_SIZE = 268_435_460;

const NAMES = [
  "reserved type 0",
  "CONNECT",
  "CONNACK",
  "PUBLISH",
  "PUBACK",
  "PUBREC",
  "PUBREL",
  "PUBCOMP",
  "SUBSCRIBE",
  "SUBACK",
  "UNSUBSCRIBE",
  "UNSUBACK",
  "PINGREQ",
  "PINGRESP",
  "DISCONNECT",
  "AUTH",
] as const;

/**
 * The internal form of `frameLength()`, on `bytes[start..end)`.
 *
 * @param bytes The buffer.
 * @param start Where the packet starts.
 * @param end One past the last byte held.
 * @param maximumPacketSize Largest packet accepted.
 * @returns The packet's length, or -1 if the fixed header is incomplete.
 */
export function frameLengthAt(
  bytes: Uint8Array,
  start: number,
  end: number,
  maximumPacketSize: number,
): number {
  if (start >= end) return -1;
  if (bytes[start]! < 0x10) {
    throw new MalformedPacketError(
      "Cannot decode packet: the packet type 0 is reserved",
    );
  }
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (start + i >= end) return -1;
    const byte = bytes[start + i]!;
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 1) {
        throw new MalformedPacketError(
          "Cannot decode packet: the remaining length is not encoded in the fewest bytes", // [MQTT-1.5.5-1]
        );
      }
      const total = 1 + i + remaining;
      if (total > maximumPacketSize) {
        throw new PacketTooLargeError(
          `Cannot decode packet: ${total} bytes exceed the maximum packet size of ${maximumPacketSize}`,
        );
      }
      return total;
    }
    multiplier *= 128;
  }
  throw new MalformedPacketError(
    "Cannot decode packet: the remaining length exceeds 4 bytes", // [MQTT-1.5.5-1]
  );
}

/**
 * Checks a protocol version passed by a caller.
 *
 * @param version The value.
 * @returns It, typed.
 */
export function checkProtocolVersion(version: number): ProtocolVersion {
  if (version !== 3 && version !== 4 && version !== 5) {
    throw new RangeError(
      `Cannot use protocol version ${version}: it is not 3, 4 or 5`,
    );
  }
  return version;
}

/**
 * The internal form of `decodePacket()`, on `bytes[start..end)`,
 * which must hold exactly one packet.
 *
 * @param bytes The buffer.
 * @param start Where the packet starts.
 * @param end One past its last byte.
 * @param version Protocol version of the connection.
 * @param decoding How a server decodes a PUBLISH (see
 * {@linkcode FrameDecoding}); by default as `decodePacket()` does.
 * @returns The packet.
 */
export function decodeFrame(
  bytes: Uint8Array,
  start: number,
  end: number,
  version: ProtocolVersion,
  decoding?: FrameDecoding,
): Packet {
  if (end - start < 2) {
    throw new MalformedPacketError(
      `Cannot decode packet: ${end - start} bytes cannot hold a fixed header`,
    );
  }
  const first = bytes[start]!;
  const type = first >> 4;
  const flags = first & 0x0f;
  let remaining = 0;
  let multiplier = 1;
  let body = start + 1;
  for (;;) {
    if (body >= end) {
      throw new MalformedPacketError(
        "Cannot decode packet: the remaining length is cut short",
      );
    }
    const byte = bytes[body++]!;
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && body - start > 2) {
        throw new MalformedPacketError(
          "Cannot decode packet: the remaining length is not encoded in the fewest bytes", // [MQTT-1.5.5-1]
        );
      }
      break;
    }
    if (body - start === 5) {
      throw new MalformedPacketError(
        "Cannot decode packet: the remaining length exceeds 4 bytes", // [MQTT-1.5.5-1]
      );
    }
    multiplier *= 128;
  }
  if (body + remaining !== end) {
    throw new MalformedPacketError(
      `Cannot decode ${
        NAMES[type]
      }: remaining length ${remaining} disagrees with the ${
        end - body
      } bytes given`,
    );
  }
  if (type === 3) {
    return decodePublish(bytes, flags, body, end, version, decoding);
  }
  // [MQTT-2.2.2-1] [MQTT-2.2.2-2] PUBREL, SUBSCRIBE and UNSUBSCRIBE have flags
  // 0010, the others 0000. MQTT 3.1 also allowed DUP on the first three.
  const expected = type === 6 || type === 8 || type === 10 ? 2 : 0;
  if (
    flags !== expected && !(version === 3 && expected === 2 && flags === 10)
  ) {
    throw new MalformedPacketError(
      `Cannot decode ${
        NAMES[type]
      }: the fixed header flags are ${flags}, not ${expected}`,
    );
  }
  switch (type) {
    case 1:
      return decodeConnect(bytes, body, end);
    case 2:
      return decodeConnack(bytes, body, end, version);
    case 4:
      return decodeAck(bytes, body, end, version, "puback");
    case 5:
      return decodeAck(bytes, body, end, version, "pubrec");
    case 6:
      return decodeAck(bytes, body, end, version, "pubrel");
    case 7:
      return decodeAck(bytes, body, end, version, "pubcomp");
    case 8:
      return decodeSubscribe(bytes, body, end, version);
    case 9:
      return decodeSuback(bytes, body, end, version, "suback");
    case 10:
      return decodeUnsubscribe(bytes, body, end, version);
    case 11:
      return decodeSuback(bytes, body, end, version, "unsuback");
    case 12:
    case 13:
      if (remaining !== 0) {
        throw new MalformedPacketError(
          `Cannot decode ${
            NAMES[type]
          }: remaining length ${remaining} is not 0`,
        );
      }
      return { type: type === 12 ? "pingreq" : "pingresp" };
    case 14:
      return decodeDisconnect(bytes, body, end, version, "disconnect");
    case 15:
      if (version === 5) {
        return decodeDisconnect(bytes, body, end, version, "auth");
      }
      break;
  }
  throw new MalformedPacketError(
    `Cannot decode packet: the packet type ${type} is reserved in MQTT ${
      version === 4 ? "3.1.1" : "3.1"
    }`,
  );
}
