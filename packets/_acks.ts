/**
 * PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT and AUTH decoding and encoding.
 * Private to `packets/`.
 *
 * @module
 */

import {
  AUTH_REASON_CODES,
  DISCONNECT_REASON_CODES,
  PUBACK_REASON_CODES,
  PUBREL_REASON_CODES,
} from "./_reason_code_sets.ts";
import { Reader } from "./_reader.ts";
import { ACKS, AUTH, decodeProperties, DISCONNECT } from "./_properties.ts";
import { propertiesSize, writeProperties } from "./_properties_encode.ts";
import {
  checkInteger,
  MEASURE_ONLY,
  type PacketSink,
  varIntSize,
  writeU16,
} from "./_writer.ts";
import type {
  AckPacket,
  AuthPacket,
  DisconnectPacket,
  ProtocolVersion,
} from "./types.ts";

/** The four acknowledgement types. */
export type AckType = "puback" | "pubrec" | "pubrel" | "pubcomp";

const ACK_NAMES: Readonly<Record<AckType, string>> = {
  puback: "PUBACK",
  pubrec: "PUBREC",
  pubrel: "PUBREL",
  pubcomp: "PUBCOMP",
};
const ACK_FIRST_BYTES: Readonly<Record<AckType, number>> = {
  puback: 0x40,
  pubrec: 0x50,
  pubrel: 0x62, // [MQTT-3.6.1-1]
  pubcomp: 0x70,
};

function ackReasonCodes(type: AckType): ReadonlySet<number> {
  return type === "puback" || type === "pubrec"
    ? PUBACK_REASON_CODES
    : PUBREL_REASON_CODES;
}

function readReasonCode(reader: Reader, allowed: ReadonlySet<number>): number {
  const code = reader.u8("reason code");
  if (!allowed.has(code)) {
    throw reader.malformed(
      "reason code",
      `0x${code.toString(16).padStart(2, "0")} is not allowed`,
    );
  }
  return code;
}

function checkReasonCode(
  code: number,
  allowed: ReadonlySet<number>,
  name: string,
): void {
  if (!allowed.has(code)) {
    throw new RangeError(
      `Cannot encode ${name}: reason code ${code} is not allowed`,
    );
  }
}

/**
 * Decodes a PUBACK, PUBREC, PUBREL or PUBCOMP body. In 5.0 the reason code
 * and the property length may be left out [MQTT-3.4.2-1].
 *
 * @param bytes The buffer.
 * @param start First byte after the fixed header.
 * @param end One past the packet's last byte.
 * @param version Protocol version of the connection.
 * @param type Which acknowledgement.
 * @returns The packet.
 */
export function decodeAck<T extends AckType>(
  bytes: Uint8Array,
  start: number,
  end: number,
  version: ProtocolVersion,
  type: T,
): AckPacket<T> {
  if (version !== 5 && end - start === 2) {
    // 3.x: a packet id and nothing else, the form of every acknowledgement
    // on the hot path; no reader made for it.
    const packetId = (bytes[start]! << 8) | bytes[start + 1]!;
    if (packetId !== 0) return { type, packetId };
  }
  const reader = new Reader(bytes, start, end, ACK_NAMES[type]);
  const packetId = reader.u16("packet id");
  if (packetId === 0) {
    throw reader.malformed("packet id", "0 is not allowed"); // [MQTT-2.3.1-1]
  }
  const packet: AckPacket<T> = { type, packetId };
  if (version === 5) {
    packet.reasonCode = reader.left > 0
      ? readReasonCode(reader, ackReasonCodes(type))
      : 0;
    packet.properties = reader.left > 0 ? decodeProperties(reader, ACKS) : {};
  }
  reader.expectEnd();
  return packet;
}

/** Size of a 5.0 reason code and properties in their shortest form. */
function tailSize(reasonCode: number, propertiesLength: number): number {
  if (propertiesLength > 0) {
    return 1 + varIntSize(propertiesLength) + propertiesLength;
  }
  return reasonCode === 0 ? 0 : 1;
}

/**
 * Encodes a PUBACK, PUBREC, PUBREL or PUBCOMP in its shortest form into a
 * sink.
 *
 * @param packet The packet.
 * @param version Protocol version of the connection.
 * @param sink Where the bytes go.
 */
export function encodeAck(
  packet: AckPacket<AckType>,
  version: ProtocolVersion,
  sink: PacketSink,
): void {
  const name = ACK_NAMES[packet.type];
  checkInteger(packet.packetId, 1, 0xffff, `${name} packet id`);
  let remaining = 2;
  let propertiesLength = 0;
  const reasonCode = packet.reasonCode ?? 0;
  if (version === 5) {
    checkReasonCode(reasonCode, ackReasonCodes(packet.type), name);
    propertiesLength = propertiesSize(packet.properties, ACKS, name);
    remaining += tailSize(reasonCode, propertiesLength);
  }
  const start = sink.reserve(ACK_FIRST_BYTES[packet.type], remaining, name);
  if (start === MEASURE_ONLY) return;
  const bytes = sink.bytes;
  const pos = writeU16(bytes, start, packet.packetId);
  if (remaining > 2) bytes[pos] = reasonCode;
  if (remaining > 3) {
    writeProperties(bytes, pos + 1, packet.properties, propertiesLength);
  }
}

/**
 * Decodes a DISCONNECT or AUTH body. In 5.0 the reason code and the property
 * length may be left out [MQTT-3.14.2-1]; AUTH exists only in 5.0.
 *
 * @param bytes The buffer.
 * @param start First byte after the fixed header.
 * @param end One past the packet's last byte.
 * @param version Protocol version of the connection.
 * @param type Which of the two.
 * @returns The packet.
 */
export function decodeDisconnect(
  bytes: Uint8Array,
  start: number,
  end: number,
  version: ProtocolVersion,
  type: "disconnect" | "auth",
): DisconnectPacket | AuthPacket {
  const isDisconnect = type === "disconnect";
  const reader = new Reader(
    bytes,
    start,
    end,
    isDisconnect ? "DISCONNECT" : "AUTH",
  );
  const packet: DisconnectPacket | AuthPacket = { type };
  if (version === 5) {
    packet.reasonCode = reader.left > 0
      ? readReasonCode(
        reader,
        isDisconnect ? DISCONNECT_REASON_CODES : AUTH_REASON_CODES,
      )
      : 0;
    packet.properties = reader.left > 0
      ? decodeProperties(reader, isDisconnect ? DISCONNECT : AUTH)
      : {};
  }
  reader.expectEnd();
  return packet;
}

/**
 * Encodes a DISCONNECT or AUTH in its shortest form into a sink. An AUTH with
 * a reason code other than 0x00 always carries its property length.
 *
 * @param packet The packet.
 * @param version Protocol version of the connection.
 * @param sink Where the bytes go.
 */
export function encodeDisconnect(
  packet: DisconnectPacket | AuthPacket,
  version: ProtocolVersion,
  sink: PacketSink,
): void {
  const isDisconnect = packet.type === "disconnect";
  const name = isDisconnect ? "DISCONNECT" : "AUTH";
  if (!isDisconnect && version !== 5) {
    throw new TypeError(
      `Cannot encode AUTH: MQTT ${version === 4 ? "3.1.1" : "3.1"} has no AUTH`,
    );
  }
  const first = isDisconnect ? 0xe0 : 0xf0;
  if (version !== 5) {
    sink.reserve(first, 0, name);
    return;
  }
  const reasonCode = packet.reasonCode ?? 0;
  checkReasonCode(
    reasonCode,
    isDisconnect ? DISCONNECT_REASON_CODES : AUTH_REASON_CODES,
    name,
  );
  const at = isDisconnect ? DISCONNECT : AUTH;
  const propertiesLength = propertiesSize(packet.properties, at, name);
  let remaining = tailSize(reasonCode, propertiesLength);
  if (remaining === 1 && !isDisconnect) remaining = 2;
  const pos = sink.reserve(first, remaining, name);
  if (pos === MEASURE_ONLY) return;
  const bytes = sink.bytes;
  if (remaining > 0) bytes[pos] = reasonCode;
  if (remaining > 1) {
    writeProperties(bytes, pos + 1, packet.properties, propertiesLength);
  }
}
