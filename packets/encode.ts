/**
 * Encoding packets.
 *
 * @module
 */

import { encodeAck, encodeDisconnect } from "./_acks.ts";
import { encodeConnack, encodeConnect } from "./_connect.ts";
import { encodePublish } from "./_publish.ts";
import {
  encodeSuback,
  encodeSubscribe,
  encodeUnsubscribe,
} from "./_subscribe.ts";
import { checkProtocolVersion } from "./_frame.ts";
import {
  MEASURE_ONLY,
  packetLength,
  type PacketSink,
  writeFixedHeader,
} from "./_writer.ts";
import type { Packet, ProtocolVersion } from "./types.ts";

const EMPTY = new Uint8Array(0);

/** A sink that allocates exactly one packet's size. */
class ExactSink implements PacketSink {
  bytes: Uint8Array = EMPTY;

  reserve(first: number, remaining: number, name: string): number {
    this.bytes = new Uint8Array(packetLength(remaining, name));
    return writeFixedHeader(this.bytes, 0, first, remaining);
  }
}

/** A sink that only records the packet's size. */
class MeasuringSink implements PacketSink {
  readonly bytes: Uint8Array = EMPTY;
  length = 0;

  reserve(_first: number, remaining: number, name: string): number {
    this.length = packetLength(remaining, name);
    return MEASURE_ONLY;
  }
}

/**
 * Encodes one packet into a new Uint8Array of exactly its size, in the
 * shortest form the specification allows. A CONNECT uses its own
 * `protocolVersion`; other packets use `protocolVersion`, ignoring
 * `properties` and 5.0 reason codes below 5.0. Properties are written in
 * identifier order.
 *
 * @example Encode a PUBLISH
 * ```ts
 * import { encodePacket } from "@gmqtt/broker/packets";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const bytes = encodePacket({
 *   type: "publish",
 *   topic: "a",
 *   payload: new TextEncoder().encode("hi!"),
 *   qos: 1,
 *   packetId: 7,
 *   retain: false,
 *   dup: false,
 * });
 * deepStrictEqual(
 *   bytes,
 *   Uint8Array.of(0x32, 0x08, 0x00, 0x01, 0x61, 0x00, 0x07, 0x68, 0x69, 0x21),
 * );
 * ```
 * @example Encode a 5.0 PUBACK with a reason code
 * ```ts
 * import { encodePacket, ReasonCode } from "@gmqtt/broker/packets";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const bytes = encodePacket(
 *   { type: "puback", packetId: 7, reasonCode: ReasonCode.NoMatchingSubscribers },
 *   5,
 * );
 * deepStrictEqual(bytes, Uint8Array.of(0x40, 0x03, 0x00, 0x07, 0x10));
 * ```
 * @param packet The packet.
 * @param protocolVersion Protocol level of the connection, 4 (3.1.1) by
 * default.
 * @returns The packet's bytes.
 * @throws {TypeError} If a field is missing, of the wrong type, or not allowed
 * here: a packet id at QoS 0 or none at QoS 1 or 2, a wildcard in a topic
 * name, a property not allowed on this packet, AUTH before 5.0...
 * @throws {RangeError} If a value is out of range: QoS 3, packet id 0, a
 * string over 65,535 bytes, a reason code this packet cannot carry...
 */
export function encodePacket(
  packet: Packet,
  protocolVersion: ProtocolVersion = 4,
): Uint8Array {
  const sink = new ExactSink();
  encodeTo(packet, protocolVersion, sink);
  return sink.bytes;
}

/**
 * Returns the number of bytes {@linkcode encodePacket} would give for a
 * packet, fixed header included, without encoding it. It validates the packet
 * as `encodePacket` does.
 *
 * @example Size a PUBLISH before encoding it
 * ```ts
 * import { encodedLength, encodePacket, type Packet } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * const packet: Packet = {
 *   type: "publish",
 *   topic: "a/b",
 *   payload: new Uint8Array(200),
 *   qos: 0,
 *   retain: false,
 *   dup: false,
 * };
 * // 1 type byte, 2 bytes of remaining length, 5 of topic, 200 of payload.
 * strictEqual(encodedLength(packet), 208);
 * strictEqual(encodedLength(packet), encodePacket(packet).length);
 * ```
 * @param packet The packet.
 * @param protocolVersion Protocol level of the connection, 4 (3.1.1) by
 * default.
 * @returns Its size in bytes.
 * @throws {TypeError} If {@linkcode encodePacket} would throw one.
 * @throws {RangeError} If {@linkcode encodePacket} would throw one.
 */
export function encodedLength(
  packet: Packet,
  protocolVersion: ProtocolVersion = 4,
): number {
  const sink = new MeasuringSink();
  encodeTo(packet, protocolVersion, sink);
  return sink.length;
}

/**
 * Encodes one packet into a sink: the one implementation behind
 * {@linkcode encodePacket}, {@linkcode encodedLength} and `PacketWriter`.
 * Everything is validated before `sink.reserve` is called.
 *
 * @param packet The packet.
 * @param protocolVersion Protocol level of the connection.
 * @param sink Where the bytes go.
 */
export function encodeTo(
  packet: Packet,
  protocolVersion: ProtocolVersion,
  sink: PacketSink,
): void {
  const version = checkProtocolVersion(protocolVersion);
  switch (packet.type) {
    case "publish":
      return encodePublish(packet, version, sink);
    case "connect":
      return encodeConnect(packet, sink);
    case "connack":
      return encodeConnack(packet, version, sink);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return encodeAck(packet, version, sink);
    case "subscribe":
      return encodeSubscribe(packet, version, sink);
    case "suback":
    case "unsuback":
      return encodeSuback(packet, version, sink);
    case "unsubscribe":
      return encodeUnsubscribe(packet, version, sink);
    case "pingreq":
      sink.reserve(0xc0, 0, "PINGREQ");
      return;
    case "pingresp":
      sink.reserve(0xd0, 0, "PINGRESP");
      return;
    case "disconnect":
    case "auth":
      return encodeDisconnect(packet, version, sink);
    default: {
      const unknown: never = packet;
      throw new TypeError(
        `Cannot encode packet: unknown type ${
          (unknown as { type: unknown }).type
        }`,
      );
    }
  }
}
