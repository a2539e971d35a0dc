/**
 * The MQTT packet codec of `@gmqtt/broker`: encodes and decodes every packet
 * of MQTT 3.1, 3.1.1 and 5.0, strictly, with no I/O. It runs in Deno and in
 * browsers, for brokers, clients and tests.
 *
 * - {@linkcode decodePacket} and {@linkcode encodePacket} convert one packet;
 *   {@linkcode encodedLength} sizes one.
 * - {@linkcode PacketWriter} encodes packets straight into one growable
 *   output buffer, for batched writes.
 * - {@linkcode PacketDecoder} and {@linkcode PacketDecoderStream} reassemble
 *   packets from a byte stream; {@linkcode frameLength} finds where one ends.
 * - {@linkcode isValidTopicName}, {@linkcode isValidTopicFilter},
 *   {@linkcode topicMatches} and {@linkcode parseSharedSubscription} handle
 *   topics.
 * - Bad bytes throw an {@linkcode MqttError} carrying the reason code the peer
 *   must get; bad arguments throw a `TypeError` or `RangeError`.
 *
 * @example Encode and decode a 5.0 PUBLISH
 * ```ts
 * import { decodePacket, encodePacket, type PublishPacket } from "@gmqtt/broker/packets";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const packet: PublishPacket = {
 *   type: "publish",
 *   topic: "sensors/kitchen",
 *   payload: new TextEncoder().encode("21.5"),
 *   qos: 1,
 *   packetId: 1,
 *   retain: false,
 *   dup: false,
 *   properties: { contentType: "text/plain", userProperties: [["unit", "°C"]] },
 * };
 * const bytes = encodePacket(packet, 5);
 * deepStrictEqual(decodePacket(bytes, 5), packet);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./reason_code.ts";
export * from "./errors.ts";
export {
  decodePacket,
  frameLength,
  type FrameLengthOptions,
} from "./decode.ts";
export { encodedLength, encodePacket } from "./encode.ts";
export { PacketWriter, type PacketWriterOptions } from "./writer.ts";
export {
  PacketDecoder,
  type PacketDecoderOptions,
  PacketDecoderStream,
} from "./decoder_stream.ts";
export {
  isValidTopicFilter,
  isValidTopicName,
  parseSharedSubscription,
  type SharedSubscription,
  topicMatches,
} from "./topic.ts";
