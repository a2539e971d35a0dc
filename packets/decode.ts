/**
 * Decoding whole packets, and finding where a packet ends in a byte stream.
 *
 * @module
 */

import {
  checkProtocolVersion,
  decodeFrame,
  frameLengthAt,
  MQTT_MAXIMUM_PACKET_SIZE,
} from "./_frame.ts";
import type { Packet, ProtocolVersion } from "./types.ts";

/** Options for {@linkcode frameLength}. */
export interface FrameLengthOptions {
  /**
   * Largest packet accepted, fixed header included; 268,435,460 (the MQTT
   * limit) by default.
   */
  maximumPacketSize?: number;
}

/**
 * Returns the length in bytes of the first packet in `bytes`, fixed header
 * included, as soon as its fixed header is complete; the rest of the packet
 * need not have arrived. Compare the result with `bytes.length` to know
 * whether the whole packet is there.
 *
 * @example Find where a packet ends
 * ```ts
 * import { frameLength } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(frameLength(Uint8Array.of(0x30)), -1); // length not there yet
 * strictEqual(frameLength(Uint8Array.of(0x30, 0x07, 0x00)), 9);
 * strictEqual(frameLength(Uint8Array.of(0xc0, 0x00, 0xd0, 0x00)), 2);
 * ```
 * @param bytes Bytes starting at a packet's first byte.
 * @param options The maximum packet size.
 * @returns The packet's length, or -1 if `bytes` does not yet hold the whole
 * fixed header.
 * @throws {MalformedPacketError} If the packet type is 0 or the remaining
 * length takes more than 4 bytes or more bytes than needed [MQTT-1.5.5-1].
 * @throws {PacketTooLargeError} If the packet is longer than
 * `options.maximumPacketSize`.
 */
export function frameLength(
  bytes: Uint8Array,
  options?: FrameLengthOptions,
): number {
  return frameLengthAt(
    bytes,
    0,
    bytes.length,
    options?.maximumPacketSize ?? MQTT_MAXIMUM_PACKET_SIZE,
  );
}

/**
 * Decodes exactly one whole packet, fixed header included. A CONNECT is
 * decoded whatever `protocolVersion` says: it carries its own level. Binary
 * fields (payload, password, correlation and authentication data) are views
 * of `bytes`, not copies.
 *
 * @example Decode a PUBLISH
 * ```ts
 * import { decodePacket } from "@gmqtt/broker/packets";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const bytes = Uint8Array.of(0x30, 0x06, 0x00, 0x01, 0x61, 0x68, 0x69, 0x21);
 * deepStrictEqual(decodePacket(bytes), {
 *   type: "publish",
 *   topic: "a",
 *   payload: new TextEncoder().encode("hi!"),
 *   qos: 0,
 *   retain: false,
 *   dup: false,
 * });
 * ```
 * @param bytes One whole packet.
 * @param protocolVersion Protocol level of the connection, 4 (3.1.1) by
 * default.
 * @returns The packet.
 * @throws {MqttError} If the bytes are not a valid packet of that version:
 * usually a `MalformedPacketError` or `ProtocolError`,
 * 0x84 for a CONNECT of an unsupported protocol, 0x8F, 0x90 or 0x94 for a bad
 * topic filter, topic name or topic alias in 5.0.
 * @throws {RangeError} If `protocolVersion` is not 3, 4 or 5.
 */
export function decodePacket(
  bytes: Uint8Array,
  protocolVersion: ProtocolVersion = 4,
): Packet {
  return decodeFrame(
    bytes,
    0,
    bytes.length,
    checkProtocolVersion(protocolVersion),
  );
}
