/**
 * How the Redis store turns records into values and back. Private to the
 * store. Binary, a format byte first, the message itself in the broker's
 * message codec (payload as it is):
 *
 * - a delivery: format u8; flags u8 (bits 0-1 delivery QoS, 2 RETAIN as
 *   sent, 3 subscription ids, 4 expiry); expiresAt f64 if flagged;
 *   subscription ids as u32 count and u32 each if flagged; then the
 *   message, to the end;
 * - a session record: format u8; u32 length and the record as JSON
 *   (without its will's message); then the will's message, if any, to the
 *   end;
 * - a subscription: its record as JSON;
 * - a queue member: `{seq}:{size}`, the delivery's place in the queue and
 *   what it counts against the queue's byte limits;
 * - an in-flight score: `seq * 2 + phase - 1`, so that a phase change keeps
 *   the message's place in the sending order.
 *
 * @module
 */

import type { QoS } from "../../packets/types.ts";
import type { Message } from "../message.ts";
import {
  decodeMessage,
  encodeMessage,
  MessageCodecError,
} from "../message_codec.ts";
import type {
  Delivery,
  SessionRecord,
  StoredWill,
  SubscriptionRecord,
} from "../core/ports.ts";

/** The format byte of deliveries and session records. */
const FORMAT = 1;

const RETAIN = 0x04;
const SUBSCRIPTION_IDS = 0x08;
const EXPIRY = 0x10;

const TEXT = new TextEncoder();
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes a delivery with its message.
 *
 * @param delivery The delivery.
 * @returns Its bytes; the payload is copied in.
 */
export function encodeDelivery(delivery: Delivery): Uint8Array {
  const message = encodeMessage(delivery.message);
  const ids = delivery.subscriptionIds;
  const size = 2 + (delivery.expiresAt === undefined ? 0 : 8) +
    (ids === undefined ? 0 : 4 + 4 * ids.length) + message.length;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes[0] = FORMAT;
  bytes[1] = delivery.qos | (delivery.retain ? RETAIN : 0) |
    (ids === undefined ? 0 : SUBSCRIPTION_IDS) |
    (delivery.expiresAt === undefined ? 0 : EXPIRY);
  let at = 2;
  if (delivery.expiresAt !== undefined) {
    view.setFloat64(at, delivery.expiresAt);
    at += 8;
  }
  if (ids !== undefined) {
    view.setUint32(at, ids.length);
    at += 4;
    for (const id of ids) {
      view.setUint32(at, id);
      at += 4;
    }
  }
  bytes.set(message, at);
  return bytes;
}

/**
 * Decodes what {@linkcode encodeDelivery} made.
 *
 * @throws {MessageCodecError} If the bytes are not a delivery of this
 * format.
 */
export function decodeDelivery(bytes: Uint8Array): Delivery {
  if (bytes.length < 2) throw new MessageCodecError("delivery too short");
  if (bytes[0] !== FORMAT) {
    throw new MessageCodecError(`unknown delivery format ${bytes[0]}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const flags = bytes[1]!;
  const qos = flags & 0x03;
  if (qos === 3 || flags & 0xe0) {
    throw new MessageCodecError(`bad delivery flags 0x${flags.toString(16)}`);
  }
  let at = 2;
  const need = (n: number): void => {
    if (at + n > bytes.length) {
      throw new MessageCodecError("delivery truncated");
    }
  };
  let expiresAt: number | undefined;
  if (flags & EXPIRY) {
    need(8);
    expiresAt = view.getFloat64(at);
    at += 8;
  }
  let subscriptionIds: number[] | undefined;
  if (flags & SUBSCRIPTION_IDS) {
    need(4);
    const count = view.getUint32(at);
    at += 4;
    need(4 * count);
    subscriptionIds = [];
    for (let i = 0; i < count; i++, at += 4) {
      subscriptionIds.push(view.getUint32(at));
    }
  }
  return {
    message: decodeMessage(bytes.subarray(at)),
    qos: qos as QoS,
    retain: (flags & RETAIN) !== 0,
    subscriptionIds,
    expiresAt,
  };
}

/** A session record as JSON, its will's message apart. */
interface EncodedRecord {
  username: string | null;
  expiryInterval: number;
  createdAt: number;
  disconnectedAt: number | null;
  will: {
    messageExpiryInterval: number | null;
    delayInterval: number;
    dueAt: number | null;
  } | null;
}

/**
 * Encodes a session record (the client id is the key, not in the value).
 *
 * @param record The record.
 * @returns Its bytes.
 */
export function encodeRecord(record: SessionRecord): Uint8Array {
  const will = record.will;
  const fields: EncodedRecord = {
    username: record.username ?? null,
    expiryInterval: record.expiryInterval,
    createdAt: record.createdAt,
    disconnectedAt: record.disconnectedAt ?? null,
    will: will === undefined ? null : {
      messageExpiryInterval: will.messageExpiryInterval ?? null,
      delayInterval: will.delayInterval,
      dueAt: will.dueAt ?? null,
    },
  };
  const json = TEXT.encode(JSON.stringify(fields));
  const message = will === undefined ? undefined : encodeMessage(will.message);
  const bytes = new Uint8Array(5 + json.length + (message?.length ?? 0));
  bytes[0] = FORMAT;
  new DataView(bytes.buffer).setUint32(1, json.length);
  bytes.set(json, 5);
  if (message !== undefined) bytes.set(message, 5 + json.length);
  return bytes;
}

/**
 * Decodes what {@linkcode encodeRecord} made.
 *
 * @throws {MessageCodecError} If the bytes are not a record of this
 * format.
 */
export function decodeRecord(
  clientId: string,
  bytes: Uint8Array,
): SessionRecord {
  if (bytes.length < 5) throw new MessageCodecError("record too short");
  if (bytes[0] !== FORMAT) {
    throw new MessageCodecError(`unknown record format ${bytes[0]}`);
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
    .getUint32(1);
  if (5 + length > bytes.length) {
    throw new MessageCodecError("record truncated");
  }
  let r: EncodedRecord;
  try {
    r = JSON.parse(UTF8.decode(bytes.subarray(5, 5 + length)));
  } catch {
    throw new MessageCodecError("bad record");
  }
  let will: StoredWill | undefined;
  if (r.will !== null) {
    const message: Message = decodeMessage(bytes.subarray(5 + length));
    will = {
      message,
      messageExpiryInterval: r.will.messageExpiryInterval ?? undefined,
      delayInterval: r.will.delayInterval,
      dueAt: r.will.dueAt ?? undefined,
    };
  }
  return {
    clientId,
    username: r.username ?? undefined,
    expiryInterval: r.expiryInterval,
    createdAt: r.createdAt,
    disconnectedAt: r.disconnectedAt ?? undefined,
    will,
  };
}

/** A subscription record as JSON text. */
export function encodeSubscription(record: SubscriptionRecord): string {
  return JSON.stringify(record);
}

/** Decodes what {@linkcode encodeSubscription} made. */
export function decodeSubscription(text: string): SubscriptionRecord {
  return JSON.parse(text) as SubscriptionRecord;
}

/** The member of a queued delivery in its session's queue. */
export function queueMember(seq: number, size: number): string {
  return `${seq}:${size}`;
}

/** The place in the queue a member names. */
export function memberSeq(member: string): number {
  return Number(member.slice(0, member.indexOf(":")));
}

/** The score of a message in flight: its place, and its phase. */
export function inflightScore(seq: number, phase: 1 | 2): number {
  return seq * 2 + phase - 1;
}

/** The place and phase an in-flight score holds. */
export function readInflightScore(
  score: number,
): { seq: number; phase: 1 | 2 } {
  return { seq: Math.floor(score / 2), phase: score % 2 === 1 ? 2 : 1 };
}
