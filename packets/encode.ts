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
import type { Packet, ProtocolVersion } from "./types.ts";

const PINGREQ = Uint8Array.of(0xc0, 0x00);
const PINGRESP = Uint8Array.of(0xd0, 0x00);

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
  const version = checkProtocolVersion(protocolVersion);
  switch (packet.type) {
    case "publish":
      return encodePublish(packet, version);
    case "connect":
      return encodeConnect(packet);
    case "connack":
      return encodeConnack(packet, version);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return encodeAck(packet, version);
    case "subscribe":
      return encodeSubscribe(packet, version);
    case "suback":
    case "unsuback":
      return encodeSuback(packet, version);
    case "unsubscribe":
      return encodeUnsubscribe(packet, version);
    case "pingreq":
      return PINGREQ.slice();
    case "pingresp":
      return PINGRESP.slice();
    case "disconnect":
    case "auth":
      return encodeDisconnect(packet, version);
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
