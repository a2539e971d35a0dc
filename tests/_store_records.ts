/**
 * Records for store tests (the contract suite and each store's own tests):
 * messages, deliveries and session records with defaults, and fields to
 * override.
 *
 * @module
 */

import type { Message } from "../src/message.ts";
import type { Delivery, SessionRecord } from "../src/core/ports.ts";

export const TEXT = new TextEncoder();

/** Every byte value once, 0x00 to 0xFF. */
export const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

/** A message on `topic` whose payload is the topic; `fields` override. */
export function message(topic: string, fields: Partial<Message> = {}): Message {
  return {
    topic,
    payload: TEXT.encode(topic),
    qos: 1,
    retain: false,
    createdAt: 1_000,
    ...fields,
  };
}

/** A message with every field a store must keep, properties included. */
export function fullMessage(topic: string): Message {
  return message(topic, {
    payload: ALL_BYTES,
    qos: 2,
    retain: true,
    properties: {
      payloadFormatIndicator: 0,
      messageExpiryInterval: 3_600,
      contentType: "application/octet-stream",
      responseTopic: "reply/to/me",
      correlationData: Uint8Array.of(0x00, 0x01, 0xfe, 0xff),
      userProperties: [["k", "v1"], ["k", "v2"], ["", "ü 😀"]],
    },
    expiresAt: 3_601_000,
    publisher: "publisher-1",
    createdAt: 1_000,
  });
}

/** A delivery of `msg` at its own QoS; `fields` override. */
export function delivery(
  msg: Message,
  fields: Partial<Delivery> = {},
): Delivery {
  return {
    message: msg,
    qos: msg.qos,
    retain: false,
    subscriptionIds: undefined,
    expiresAt: undefined,
    ...fields,
  };
}

/** The record of a connected session without a will; `fields` override. */
export function sessionRecord(
  clientId: string,
  fields: Partial<SessionRecord> = {},
): SessionRecord {
  return {
    clientId,
    username: undefined,
    expiryInterval: 0,
    createdAt: 1_000,
    disconnectedAt: undefined,
    will: undefined,
    ...fields,
  };
}
