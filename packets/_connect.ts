/**
 * CONNECT and CONNACK decoding and encoding. Private to `packets/`.
 *
 * @module
 */

import { quote } from "./_quote.ts";
import { CONNACK_REASON_CODES } from "./_reason_code_sets.ts";
import { MalformedPacketError, MqttError, ProtocolError } from "./errors.ts";
import { ReasonCode } from "./reason_code.ts";
import { Reader } from "./_reader.ts";
import { CONNACK, CONNECT, decodeProperties, WILL } from "./_properties.ts";
import { propertiesSize, writeProperties } from "./_properties_encode.ts";
import {
  binarySize,
  checkInteger,
  MEASURE_ONLY,
  type PacketSink,
  stringSize,
  varIntSize,
  writeBinary,
  writeString,
  writeU16,
} from "./_writer.ts";
import type {
  ConnackPacket,
  ConnectPacket,
  ProtocolVersion,
  QoS,
  Will,
} from "./types.ts";

function invalidTopic(version: ProtocolVersion, message: string): MqttError {
  return version === 5
    ? new MqttError(ReasonCode.TopicNameInvalid, message)
    : new MalformedPacketError(message);
}

/**
 * Decodes a CONNECT body; the protocol level comes from the packet itself.
 *
 * @param bytes The buffer.
 * @param start First byte after the fixed header.
 * @param end One past the packet's last byte.
 * @returns The packet.
 */
export function decodeConnect(
  bytes: Uint8Array,
  start: number,
  end: number,
): ConnectPacket {
  const reader = new Reader(bytes, start, end, "CONNECT");
  const protocolName = reader.string("protocol name");
  const level = reader.u8("protocol level");
  // [MQTT-3.1.2-1] [MQTT-3.1.2-2] An unknown name or level gets 0x84, which
  // a 3.1.1 CONNACK reports as return code 0x01.
  if (
    !(protocolName === "MQTT" && (level === 4 || level === 5)) &&
    !(protocolName === "MQIsdp" && level === 3)
  ) {
    throw new MqttError(
      ReasonCode.UnsupportedProtocolVersion,
      `Cannot decode CONNECT: protocol "${protocolName}" level ${level} is not supported`,
    );
  }
  const version = level as ProtocolVersion;
  const flags = reader.u8("flags");
  if ((flags & 0x01) !== 0) {
    throw reader.malformed("flags", "the reserved bit is set"); // [MQTT-3.1.2-3]
  }
  const willFlag = (flags & 0x04) !== 0;
  const willQoS = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  const hasUsername = (flags & 0x80) !== 0;
  if (!willFlag && (willQoS !== 0 || willRetain)) {
    // [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-15]
    throw reader.malformed("flags", "will QoS or retain without a will");
  }
  if (willQoS === 3) {
    throw reader.malformed("flags", "will QoS 3"); // [MQTT-3.1.2-14]
  }
  if (hasPassword && !hasUsername && version !== 5) {
    // [MQTT-3.1.2-22] (5.0 allows a password alone)
    throw reader.malformed("flags", "a password without a user name");
  }
  const packet: ConnectPacket = {
    type: "connect",
    protocolName,
    protocolVersion: version,
    clean: (flags & 0x02) !== 0,
    keepAlive: reader.u16("keep alive"),
    clientId: "",
  };
  if (version === 5) packet.properties = decodeProperties(reader, CONNECT);
  packet.clientId = reader.string("client id");
  if (willFlag) {
    const properties = version === 5
      ? decodeProperties(reader, WILL)
      : undefined;
    const topic = reader.string("will topic");
    if (topic === "") {
      throw invalidTopic(
        version,
        "Cannot decode CONNECT will topic: it is empty",
      );
    }
    if (topic.includes("+") || topic.includes("#")) {
      throw invalidTopic(
        version,
        `Cannot decode CONNECT will topic: ${quote(topic)} has a wildcard`,
      );
    }
    const will: Will = {
      topic,
      payload: reader.binary("will payload"),
      qos: willQoS as QoS,
      retain: willRetain,
    };
    if (properties !== undefined) will.properties = properties;
    packet.will = will;
  }
  if (hasUsername) packet.username = reader.string("user name");
  if (hasPassword) packet.password = reader.binary("password");
  reader.expectEnd();
  return packet;
}

/**
 * Encodes a CONNECT with its own protocol version into a sink.
 *
 * @param packet The packet.
 * @param sink Where the bytes go.
 */
export function encodeConnect(packet: ConnectPacket, sink: PacketSink): void {
  const version = packet.protocolVersion;
  const expected = version === 3 ? "MQIsdp" : "MQTT";
  if (version !== 3 && version !== 4 && version !== 5) {
    throw new RangeError(
      `Cannot encode CONNECT: protocol version ${version} is not 3, 4 or 5`,
    );
  }
  if (packet.protocolName !== expected) {
    throw new TypeError(
      `Cannot encode CONNECT: protocol name "${packet.protocolName}" is not "${expected}" for level ${version}`,
    );
  }
  checkInteger(packet.keepAlive, 0, 0xffff, "CONNECT keep alive");
  const { will, username, password } = packet;
  if (password !== undefined && username === undefined && version !== 5) {
    throw new TypeError(
      "Cannot encode CONNECT: a password without a user name", // [MQTT-3.1.2-22]
    );
  }
  let remaining = 2 + expected.length + 4 +
    stringSize(packet.clientId, "CONNECT client id");
  let propertiesLength = 0;
  let willPropertiesLength = 0;
  if (version === 5) {
    propertiesLength = propertiesSize(packet.properties, CONNECT, "CONNECT");
    remaining += varIntSize(propertiesLength) + propertiesLength;
  }
  let flags = packet.clean ? 0x02 : 0;
  if (will !== undefined) {
    const { qos } = will;
    if (qos !== 0 && qos !== 1 && qos !== 2) {
      throw new RangeError(
        `Cannot encode CONNECT will: QoS ${qos} is not 0, 1 or 2`,
      );
    }
    if (
      will.topic === "" || will.topic.includes("+") || will.topic.includes("#")
    ) {
      throw new TypeError(
        `Cannot encode CONNECT will topic: "${will.topic}" is not a topic name`,
      );
    }
    remaining += stringSize(will.topic, "CONNECT will topic") +
      binarySize(will.payload, "CONNECT will payload");
    if (version === 5) {
      willPropertiesLength = propertiesSize(will.properties, WILL, "will");
      remaining += varIntSize(willPropertiesLength) + willPropertiesLength;
    }
    flags |= 0x04 | (qos << 3) | (will.retain ? 0x20 : 0);
  }
  if (username !== undefined) {
    remaining += stringSize(username, "CONNECT user name");
    flags |= 0x80;
  }
  if (password !== undefined) {
    remaining += binarySize(password, "CONNECT password");
    flags |= 0x40;
  }
  const start = sink.reserve(0x10, remaining, "CONNECT");
  if (start === MEASURE_ONLY) return;
  const bytes = sink.bytes;
  let pos = writeString(bytes, start, expected);
  bytes[pos++] = version;
  bytes[pos++] = flags;
  pos = writeU16(bytes, pos, packet.keepAlive);
  if (version === 5) {
    pos = writeProperties(bytes, pos, packet.properties, propertiesLength);
  }
  pos = writeString(bytes, pos, packet.clientId);
  if (will !== undefined) {
    if (version === 5) {
      pos = writeProperties(bytes, pos, will.properties, willPropertiesLength);
    }
    pos = writeString(bytes, pos, will.topic);
    pos = writeBinary(bytes, pos, will.payload);
  }
  if (username !== undefined) pos = writeString(bytes, pos, username);
  if (password !== undefined) writeBinary(bytes, pos, password);
}

/**
 * Decodes a CONNACK body.
 *
 * @param bytes The buffer.
 * @param start First byte after the fixed header.
 * @param end One past the packet's last byte.
 * @param version Protocol version of the connection.
 * @returns The packet.
 */
export function decodeConnack(
  bytes: Uint8Array,
  start: number,
  end: number,
  version: ProtocolVersion,
): ConnackPacket {
  const reader = new Reader(bytes, start, end, "CONNACK");
  const flags = reader.u8("flags");
  const reasonCode = reader.u8("reason code");
  // MQTT 3.1 has no Session Present flag: its first byte is unused.
  const sessionPresent = version !== 3 && (flags & 1) === 1;
  if (version !== 3 && (flags & 0xfe) !== 0) {
    throw reader.malformed("flags", "reserved bits are set"); // [MQTT-3.2.2-1]
  }
  const packet: ConnackPacket = { type: "connack", sessionPresent, reasonCode };
  if (version === 5) {
    if (!CONNACK_REASON_CODES.has(reasonCode)) {
      throw reader.malformed(
        "reason code",
        `0x${reasonCode.toString(16)} is not a CONNACK reason code`,
      );
    }
    if (sessionPresent && reasonCode !== 0) {
      throw new ProtocolError(
        "Cannot decode CONNACK: session present with a refusal", // [MQTT-3.2.2-6]
      );
    }
    packet.properties = decodeProperties(reader, CONNACK);
  } else {
    if (reasonCode > 5) {
      throw reader.malformed("return code", `${reasonCode} is not 0 to 5`);
    }
    if (sessionPresent && reasonCode !== 0) {
      // [MQTT-3.2.2-4]
      throw reader.malformed("flags", "session present with a refusal");
    }
  }
  reader.expectEnd();
  return packet;
}

/**
 * Encodes a CONNACK into a sink.
 *
 * @param packet The packet.
 * @param version Protocol version of the connection.
 * @param sink Where the bytes go.
 */
export function encodeConnack(
  packet: ConnackPacket,
  version: ProtocolVersion,
  sink: PacketSink,
): void {
  const { reasonCode, sessionPresent } = packet;
  if (
    version === 5
      ? !CONNACK_REASON_CODES.has(reasonCode)
      : !(reasonCode >= 0 && reasonCode <= 5 && Number.isInteger(reasonCode))
  ) {
    throw new RangeError(
      `Cannot encode CONNACK: ${reasonCode} is not a CONNACK ${
        version === 5 ? "reason" : "return"
      } code`,
    );
  }
  if (sessionPresent && reasonCode !== 0) {
    // [MQTT-3.2.2-4] [MQTT-3.2.2-6]
    throw new TypeError(
      "Cannot encode CONNACK: session present with a refusal",
    );
  }
  let remaining = 2;
  let propertiesLength = 0;
  if (version === 5) {
    propertiesLength = propertiesSize(packet.properties, CONNACK, "CONNACK");
    remaining += varIntSize(propertiesLength) + propertiesLength;
  }
  const pos = sink.reserve(0x20, remaining, "CONNACK");
  if (pos === MEASURE_ONLY) return;
  const bytes = sink.bytes;
  bytes[pos] = sessionPresent && version !== 3 ? 1 : 0;
  bytes[pos + 1] = reasonCode;
  if (version === 5) {
    writeProperties(bytes, pos + 2, packet.properties, propertiesLength);
  }
}
