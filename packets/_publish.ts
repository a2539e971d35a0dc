/**
 * PUBLISH decoding and encoding, the codec's hot path. Private to `packets/`.
 *
 * @module
 */

import { quote } from "./_quote.ts";
import { MalformedPacketError, MqttError, ProtocolError } from "./errors.ts";
import { ReasonCode } from "./reason_code.ts";
import { Reader } from "./_reader.ts";
import type { RecentNames } from "./_utf8.ts";
import { decodeProperties, PUBLISH } from "./_properties.ts";
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
import type { ProtocolVersion, PublishPacket, QoS } from "./types.ts";

/**
 * How a server decodes the PUBLISHes it reads, beyond what
 * `decodePacket()` does: the payload copied out of a read buffer that is
 * reused, and the topic answered from a table of names decoded lately.
 */
export interface FrameDecoding {
  /** Whether a PUBLISH's payload is a copy rather than a view. */
  readonly copyPayload: boolean;
  /** Where a PUBLISH's topic is looked up first; none by default. */
  readonly names?: RecentNames | undefined;
}

/**
 * Decodes a PUBLISH body.
 *
 * @param bytes The buffer.
 * @param flags The low nibble of the first byte.
 * @param start First byte after the fixed header.
 * @param end One past the packet's last byte.
 * @param version Protocol version of the connection.
 * @param decoding How a server decodes it: the payload copied, the topic
 * from a table of recent names; by default a view and a new string.
 * @returns The packet; its payload is a view of `bytes` unless copied.
 */
export function decodePublish(
  bytes: Uint8Array,
  flags: number,
  start: number,
  end: number,
  version: ProtocolVersion,
  decoding?: FrameDecoding,
): PublishPacket {
  const qos = (flags >> 1) & 3;
  const dup = (flags & 8) !== 0;
  if (qos === 3) {
    throw new MalformedPacketError(
      "Cannot decode PUBLISH: both QoS bits are set", // [MQTT-3.3.1-4]
    );
  }
  if (dup && qos === 0) {
    throw new MalformedPacketError(
      "Cannot decode PUBLISH: DUP is set at QoS 0", // [MQTT-3.3.1-2]
    );
  }
  const reader = new Reader(bytes, start, end, "PUBLISH");
  const topic = reader.name("topic", decoding?.names);
  if (topic.includes("+") || topic.includes("#")) {
    const message = `Cannot decode PUBLISH topic: ${
      quote(topic)
    } has a wildcard`;
    // [MQTT-3.3.2-2]
    throw version === 5
      ? new MqttError(ReasonCode.TopicNameInvalid, message)
      : new MalformedPacketError(message);
  }
  const packet: PublishPacket = {
    type: "publish",
    topic,
    payload: bytes, // replaced below
    qos: qos as QoS,
    retain: (flags & 1) !== 0,
    dup,
  };
  if (qos !== 0) {
    const packetId = reader.u16("packet id");
    if (packetId === 0) {
      throw reader.malformed("packet id", "0 is not allowed"); // [MQTT-2.3.1-1]
    }
    packet.packetId = packetId;
  }
  if (version === 5) {
    const properties = decodeProperties(reader, PUBLISH);
    if (topic === "" && properties.topicAlias === undefined) {
      // [MQTT-3.3.2-1] [MQTT-4.7.3-1] An empty topic needs a Topic Alias.
      throw new ProtocolError(
        "Cannot decode PUBLISH topic: it is empty and there is no topic alias",
      );
    }
    packet.properties = properties;
  } else if (topic === "") {
    throw reader.malformed("topic", "it is empty"); // [MQTT-4.7.3-1]
  }
  packet.payload = decoding?.copyPayload === true
    ? reader.restCopy()
    : reader.rest();
  return packet;
}

/**
 * Encodes a PUBLISH into a sink.
 *
 * @param packet The packet.
 * @param version Protocol version of the connection.
 * @param sink Where the bytes go.
 */
export function encodePublish(
  packet: PublishPacket,
  version: ProtocolVersion,
  sink: PacketSink,
): void {
  const { topic, payload, qos, packetId } = packet;
  if (qos !== 0 && qos !== 1 && qos !== 2) {
    throw new RangeError(`Cannot encode PUBLISH: QoS ${qos} is not 0, 1 or 2`);
  }
  let remaining = stringSize(topic, "PUBLISH topic");
  if (topic.includes("+") || topic.includes("#")) {
    throw new TypeError(
      `Cannot encode PUBLISH topic: ${quote(topic)} has a wildcard`, // [MQTT-3.3.2-2]
    );
  }
  if (qos === 0) {
    if (packetId !== undefined) {
      throw new TypeError("Cannot encode PUBLISH: a packet id at QoS 0");
    }
    if (packet.dup) {
      throw new TypeError("Cannot encode PUBLISH: DUP at QoS 0"); // [MQTT-3.3.1-2]
    }
  } else {
    if (packetId === undefined) {
      throw new TypeError(`Cannot encode PUBLISH: no packet id at QoS ${qos}`);
    }
    checkInteger(packetId, 1, 0xffff, "PUBLISH packet id"); // [MQTT-2.3.1-1]
    remaining += 2;
  }
  if (!(payload instanceof Uint8Array)) {
    throw new TypeError("Cannot encode PUBLISH payload: not a Uint8Array");
  }
  remaining += payload.length;
  let propertiesLength = 0;
  if (version === 5) {
    propertiesLength = propertiesSize(packet.properties, PUBLISH, "PUBLISH");
    remaining += varIntSize(propertiesLength) + propertiesLength;
    if (topic === "" && packet.properties?.topicAlias === undefined) {
      throw new TypeError(
        "Cannot encode PUBLISH topic: it is empty and there is no topic alias",
      );
    }
  } else if (topic === "") {
    throw new TypeError("Cannot encode PUBLISH topic: it is empty");
  }
  const first = 0x30 | (packet.dup ? 8 : 0) | (qos << 1) |
    (packet.retain ? 1 : 0);
  const start = sink.reserve(first, remaining, "PUBLISH");
  if (start === MEASURE_ONLY) return;
  const bytes = sink.bytes;
  let pos = writeString(bytes, start, topic);
  if (qos !== 0) pos = writeU16(bytes, pos, packetId!);
  if (version === 5) {
    pos = writeProperties(bytes, pos, packet.properties, propertiesLength);
  }
  bytes.set(payload, pos);
}
