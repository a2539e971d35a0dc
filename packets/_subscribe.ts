/**
 * SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK decoding and encoding. Private
 * to `packets/`.
 *
 * @module
 */

import { quote } from "./_quote.ts";
import {
  SUBACK_REASON_CODES,
  SUBACK_RETURN_CODES,
  UNSUBACK_REASON_CODES,
} from "./_reason_code_sets.ts";
import { MalformedPacketError, MqttError, ProtocolError } from "./errors.ts";
import { ReasonCode } from "./reason_code.ts";
import { Reader } from "./_reader.ts";
import {
  decodeProperties,
  SUBACK,
  SUBSCRIBE,
  UNSUBACK,
  UNSUBSCRIBE,
} from "./_properties.ts";
import { propertiesSize, writeProperties } from "./_properties_encode.ts";
import {
  checkInteger,
  MEASURE_ONLY,
  type PacketSink,
  stringSize,
  varIntSize,
  writeString,
  writeU16,
} from "./_writer.ts";
import { isValidTopicFilter, parseSharedSubscription } from "./topic.ts";
import type {
  ProtocolVersion,
  QoS,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
} from "./types.ts";

function readPacketId(reader: Reader): number {
  const packetId = reader.u16("packet id");
  if (packetId === 0) {
    throw reader.malformed("packet id", "0 is not allowed"); // [MQTT-2.3.1-1]
  }
  return packetId;
}

function readFilter(reader: Reader, version: ProtocolVersion): string {
  const filter = reader.string("topic filter");
  if (!isValidTopicFilter(filter)) {
    const message = `Cannot decode ${reader.packet} topic filter: ${
      quote(filter)
    } is not valid`;
    throw version === 5
      ? new MqttError(ReasonCode.TopicFilterInvalid, message)
      : new MalformedPacketError(message);
  }
  return filter;
}

function hex(code: number): string {
  return `0x${code.toString(16).padStart(2, "0")}`;
}

/**
 * Decodes a SUBSCRIBE body.
 *
 * @param bytes The buffer.
 * @param start First byte after the fixed header.
 * @param end One past the packet's last byte.
 * @param version Protocol version of the connection.
 * @returns The packet.
 */
export function decodeSubscribe(
  bytes: Uint8Array,
  start: number,
  end: number,
  version: ProtocolVersion,
): SubscribePacket {
  const reader = new Reader(bytes, start, end, "SUBSCRIBE");
  const packet: SubscribePacket = {
    type: "subscribe",
    packetId: readPacketId(reader),
    subscriptions: [],
  };
  if (version === 5) packet.properties = decodeProperties(reader, SUBSCRIBE);
  if (reader.left === 0) {
    // [MQTT-3.8.3-3] "A SUBSCRIBE packet with no Payload is a Protocol Error"
    throw new ProtocolError("Cannot decode SUBSCRIBE: no topic filter");
  }
  while (reader.left > 0) {
    const topicFilter = readFilter(reader, version);
    const options = reader.u8("subscription options");
    const qos = options & 3;
    if (version !== 5) {
      if ((options & 0xfc) !== 0 || qos === 3) {
        // [MQTT-3-8.3-4]
        throw reader.malformed(
          "subscription options",
          `${hex(options)} is not a QoS`,
        );
      }
      packet.subscriptions.push({ topicFilter, qos: qos as QoS });
      continue;
    }
    if ((options & 0xc0) !== 0) {
      // [MQTT-3.8.3-5]
      throw reader.malformed("subscription options", "reserved bits are set");
    }
    const retainHandling = (options >> 4) & 3;
    if (qos === 3 || retainHandling === 3) {
      throw new ProtocolError(
        `Cannot decode SUBSCRIBE subscription options: ${
          qos === 3 ? "QoS 3" : "retain handling 3"
        }`,
      );
    }
    const noLocal = (options & 4) !== 0;
    if (noLocal && parseSharedSubscription(topicFilter) !== undefined) {
      throw new ProtocolError(
        "Cannot decode SUBSCRIBE subscription options: No Local on a shared subscription", // [MQTT-3.8.3-4]
      );
    }
    packet.subscriptions.push({
      topicFilter,
      qos: qos as QoS,
      noLocal,
      retainAsPublished: (options & 8) !== 0,
      retainHandling: retainHandling as 0 | 1 | 2,
    });
  }
  return packet;
}

function checkPacketId(packetId: number, name: string): void {
  checkInteger(packetId, 1, 0xffff, `${name} packet id`); // [MQTT-2.3.1-1]
}

function checkFilters(filters: readonly string[], name: string): number {
  if (!Array.isArray(filters) || filters.length === 0) {
    // [MQTT-3.8.3-3] [MQTT-3.10.3-2]
    throw new TypeError(`Cannot encode ${name}: no topic filter`);
  }
  let size = 0;
  for (const filter of filters) {
    size += stringSize(filter, `${name} topic filter`);
    if (!isValidTopicFilter(filter)) {
      throw new TypeError(
        `Cannot encode ${name} topic filter: ${quote(filter)} is not valid`,
      );
    }
  }
  return size;
}

function subscriptionOptions(
  subscription: Subscription,
  version: ProtocolVersion,
): number {
  const { qos, retainHandling = 0 } = subscription;
  if (qos !== 0 && qos !== 1 && qos !== 2) {
    throw new RangeError(
      `Cannot encode SUBSCRIBE: QoS ${qos} is not 0, 1 or 2`,
    );
  }
  if (version !== 5) return qos;
  if (retainHandling !== 0 && retainHandling !== 1 && retainHandling !== 2) {
    throw new RangeError(
      `Cannot encode SUBSCRIBE: retain handling ${retainHandling} is not 0, 1 or 2`,
    );
  }
  if (
    subscription.noLocal &&
    parseSharedSubscription(subscription.topicFilter) !== undefined
  ) {
    throw new TypeError(
      "Cannot encode SUBSCRIBE: No Local on a shared subscription", // [MQTT-3.8.3-4]
    );
  }
  return qos | (subscription.noLocal ? 4 : 0) |
    (subscription.retainAsPublished ? 8 : 0) | (retainHandling << 4);
}

/**
 * Encodes a SUBSCRIBE into a sink.
 *
 * @param packet The packet.
 * @param version Protocol version of the connection.
 * @param sink Where the bytes go.
 */
export function encodeSubscribe(
  packet: SubscribePacket,
  version: ProtocolVersion,
  sink: PacketSink,
): void {
  checkPacketId(packet.packetId, "SUBSCRIBE");
  const { subscriptions } = packet;
  if (!Array.isArray(subscriptions)) {
    throw new TypeError("Cannot encode SUBSCRIBE: no subscriptions array");
  }
  let remaining = 2 +
    checkFilters(subscriptions.map((s) => s.topicFilter), "SUBSCRIBE") +
    subscriptions.length;
  const options = subscriptions.map((s) => subscriptionOptions(s, version));
  let propertiesLength = 0;
  if (version === 5) {
    propertiesLength = propertiesSize(
      packet.properties,
      SUBSCRIBE,
      "SUBSCRIBE",
    );
    remaining += varIntSize(propertiesLength) + propertiesLength;
  }
  const start = sink.reserve(0x82, remaining, "SUBSCRIBE");
  if (start === MEASURE_ONLY) return;
  const bytes = sink.bytes;
  let pos = writeU16(bytes, start, packet.packetId);
  if (version === 5) {
    pos = writeProperties(bytes, pos, packet.properties, propertiesLength);
  }
  for (let i = 0; i < subscriptions.length; i++) {
    pos = writeString(bytes, pos, subscriptions[i]!.topicFilter);
    bytes[pos++] = options[i]!;
  }
}

/**
 * Decodes an UNSUBSCRIBE body.
 *
 * @param bytes The buffer.
 * @param start First byte after the fixed header.
 * @param end One past the packet's last byte.
 * @param version Protocol version of the connection.
 * @returns The packet.
 */
export function decodeUnsubscribe(
  bytes: Uint8Array,
  start: number,
  end: number,
  version: ProtocolVersion,
): UnsubscribePacket {
  const reader = new Reader(bytes, start, end, "UNSUBSCRIBE");
  const packet: UnsubscribePacket = {
    type: "unsubscribe",
    packetId: readPacketId(reader),
    topicFilters: [],
  };
  if (version === 5) {
    packet.properties = decodeProperties(reader, UNSUBSCRIBE);
  }
  if (reader.left === 0) {
    // [MQTT-3.10.3-2] "An UNSUBSCRIBE packet with no Payload is a Protocol Error"
    throw new ProtocolError("Cannot decode UNSUBSCRIBE: no topic filter");
  }
  while (reader.left > 0) packet.topicFilters.push(readFilter(reader, version));
  return packet;
}

/**
 * Encodes an UNSUBSCRIBE into a sink.
 *
 * @param packet The packet.
 * @param version Protocol version of the connection.
 * @param sink Where the bytes go.
 */
export function encodeUnsubscribe(
  packet: UnsubscribePacket,
  version: ProtocolVersion,
  sink: PacketSink,
): void {
  checkPacketId(packet.packetId, "UNSUBSCRIBE");
  let remaining = 2 + checkFilters(packet.topicFilters, "UNSUBSCRIBE");
  let propertiesLength = 0;
  if (version === 5) {
    propertiesLength = propertiesSize(
      packet.properties,
      UNSUBSCRIBE,
      "UNSUBSCRIBE",
    );
    remaining += varIntSize(propertiesLength) + propertiesLength;
  }
  const start = sink.reserve(0xa2, remaining, "UNSUBSCRIBE");
  if (start === MEASURE_ONLY) return;
  const bytes = sink.bytes;
  let pos = writeU16(bytes, start, packet.packetId);
  if (version === 5) {
    pos = writeProperties(bytes, pos, packet.properties, propertiesLength);
  }
  for (const filter of packet.topicFilters) {
    pos = writeString(bytes, pos, filter);
  }
}

/**
 * Decodes a SUBACK or UNSUBACK body.
 *
 * @param bytes The buffer.
 * @param start First byte after the fixed header.
 * @param end One past the packet's last byte.
 * @param version Protocol version of the connection.
 * @param type Which of the two.
 * @returns The packet.
 */
export function decodeSuback(
  bytes: Uint8Array,
  start: number,
  end: number,
  version: ProtocolVersion,
  type: "suback" | "unsuback",
): SubackPacket | UnsubackPacket {
  const name = type === "suback" ? "SUBACK" : "UNSUBACK";
  const reader = new Reader(bytes, start, end, name);
  const packetId = readPacketId(reader);
  if (type === "unsuback" && version !== 5) {
    reader.expectEnd();
    return { type, packetId };
  }
  const properties = version === 5
    ? decodeProperties(reader, type === "suback" ? SUBACK : UNSUBACK)
    : undefined;
  if (reader.left === 0) throw reader.malformed("payload", "no reason code");
  const allowed = type === "unsuback"
    ? UNSUBACK_REASON_CODES
    : version === 5
    ? SUBACK_REASON_CODES
    : SUBACK_RETURN_CODES;
  const reasonCodes: number[] = [];
  while (reader.left > 0) {
    const code = reader.u8("reason code");
    if (!allowed.has(code)) {
      throw reader.malformed("reason code", `${hex(code)} is not allowed`);
    }
    reasonCodes.push(code);
  }
  const packet: SubackPacket | UnsubackPacket = { type, packetId, reasonCodes };
  if (properties !== undefined) packet.properties = properties;
  return packet;
}

/**
 * Encodes a SUBACK or UNSUBACK into a sink.
 *
 * @param packet The packet.
 * @param version Protocol version of the connection.
 * @param sink Where the bytes go.
 */
export function encodeSuback(
  packet: SubackPacket | UnsubackPacket,
  version: ProtocolVersion,
  sink: PacketSink,
): void {
  const isSuback = packet.type === "suback";
  const name = isSuback ? "SUBACK" : "UNSUBACK";
  checkPacketId(packet.packetId, name);
  const first = isSuback ? 0x90 : 0xb0;
  if (!isSuback && version !== 5) {
    const start = sink.reserve(first, 2, name);
    if (start !== MEASURE_ONLY) writeU16(sink.bytes, start, packet.packetId);
    return;
  }
  const { reasonCodes } = packet;
  if (!Array.isArray(reasonCodes) || reasonCodes.length === 0) {
    throw new TypeError(`Cannot encode ${name}: no reason code`);
  }
  const allowed = !isSuback
    ? UNSUBACK_REASON_CODES
    : version === 5
    ? SUBACK_REASON_CODES
    : SUBACK_RETURN_CODES;
  for (const code of reasonCodes) {
    if (!allowed.has(code)) {
      throw new RangeError(`Cannot encode ${name}: ${code} is not allowed`);
    }
  }
  let remaining = 2 + reasonCodes.length;
  let propertiesLength = 0;
  if (version === 5) {
    propertiesLength = propertiesSize(
      packet.properties,
      isSuback ? SUBACK : UNSUBACK,
      name,
    );
    remaining += varIntSize(propertiesLength) + propertiesLength;
  }
  const start = sink.reserve(first, remaining, name);
  if (start === MEASURE_ONLY) return;
  const bytes = sink.bytes;
  let pos = writeU16(bytes, start, packet.packetId);
  if (version === 5) {
    pos = writeProperties(bytes, pos, packet.properties, propertiesLength);
  }
  bytes.set(reasonCodes, pos);
}
