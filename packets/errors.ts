/**
 * Errors the codec throws for bad bytes or a protocol breach by the peer.
 *
 * @module
 */

import { ReasonCode } from "./reason_code.ts";

/**
 * A breach of the MQTT protocol by the peer, carrying the reason code the peer
 * must be told (in CONNACK or DISCONNECT, as the protocol version allows).
 *
 * @example Catch a codec error
 * ```ts
 * import { decodePacket, MqttError } from "@gmqtt/broker/packets";
 * import { ok, strictEqual } from "node:assert/strict";
 *
 * try {
 *   decodePacket(Uint8Array.of(0x36, 0x00)); // PUBLISH with QoS 3
 * } catch (error) {
 *   ok(error instanceof MqttError);
 *   strictEqual(error.reasonCode, 0x81);
 * }
 * ```
 */
export class MqttError extends Error {
  /** The reason code the peer gets. */
  readonly reasonCode: number;
  /**
   * Makes an error with the code the peer gets.
   *
   * @param reasonCode The reason code the peer gets.
   * @param message What was wrong.
   * @param options The cause, if any.
   */
  constructor(reasonCode: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MqttError";
    this.reasonCode = reasonCode;
  }
}

/** Bytes that are not a valid packet: reason code 0x81 Malformed Packet. */
export class MalformedPacketError extends MqttError {
  /**
   * Makes an error with this class's reason code.
   *
   * @param message What was wrong.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(ReasonCode.MalformedPacket, message, options);
    this.name = "MalformedPacketError";
  }
}

/** A well-formed packet the protocol forbids here: 0x82 Protocol Error. */
export class ProtocolError extends MqttError {
  /**
   * Makes an error with this class's reason code.
   *
   * @param message What was wrong.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(ReasonCode.ProtocolError, message, options);
    this.name = "ProtocolError";
  }
}

/** A packet larger than the maximum packet size: 0x95 Packet Too Large. */
export class PacketTooLargeError extends MqttError {
  /**
   * Makes an error with this class's reason code.
   *
   * @param message What was wrong.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(ReasonCode.PacketTooLarge, message, options);
    this.name = "PacketTooLargeError";
  }
}
