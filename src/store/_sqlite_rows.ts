/**
 * How the SQLite store lays out its tables and turns records into rows and
 * back: a message's columns, properties as JSON with byte arrays in base64,
 * a session record as JSON. Private to the store.
 *
 * @module
 */

import type { Properties, QoS } from "../../packets/types.ts";
import type { Message } from "../message.ts";
import { fromBase64, toBase64 } from "../message_codec.ts";
import type { Delivery, SessionRecord, StoredWill } from "../core/ports.ts";

/** A row as `node:sqlite` gives it. */
export type Row = Record<string, unknown>;
/** A value `node:sqlite` binds. */
export type Param = string | number | bigint | null | Uint8Array;

/** The tables, made when missing. */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  client_id TEXT PRIMARY KEY,
  record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
  client_id TEXT NOT NULL,
  filter TEXT NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (client_id, filter)
);
CREATE TABLE IF NOT EXISTS queue (
  id INTEGER PRIMARY KEY,
  client_id TEXT NOT NULL,
  ${deliveryColumnTypes()}
);
CREATE TABLE IF NOT EXISTS inflight (
  id INTEGER PRIMARY KEY,
  client_id TEXT NOT NULL,
  packet_id INTEGER NOT NULL,
  phase INTEGER NOT NULL,
  ${deliveryColumnTypes()}
);
CREATE TABLE IF NOT EXISTS incoming_ids (
  client_id TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  bits INTEGER NOT NULL,
  PRIMARY KEY (client_id, bucket)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inflight_phase2 (
  client_id TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  bits INTEGER NOT NULL,
  PRIMARY KEY (client_id, bucket)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS retained (
  topic TEXT PRIMARY KEY,
  payload BLOB NOT NULL,
  qos INTEGER NOT NULL,
  retain INTEGER NOT NULL,
  properties TEXT,
  expires_at INTEGER,
  publisher TEXT,
  created_at INTEGER NOT NULL
);
`;

/** The columns of a delivery and its message, with their types. */
function deliveryColumnTypes(): string {
  return `topic TEXT NOT NULL,
  payload BLOB NOT NULL,
  qos INTEGER NOT NULL,
  retain INTEGER NOT NULL,
  properties TEXT,
  expires_at INTEGER,
  publisher TEXT,
  created_at INTEGER NOT NULL,
  d_qos INTEGER NOT NULL,
  d_retain INTEGER NOT NULL,
  d_subscription_ids TEXT,
  d_expires_at INTEGER`;
}

/** The columns of a delivery, in the order of {@linkcode deliveryParams}. */
export const DELIVERY_COLUMNS =
  "topic, payload, qos, retain, properties, expires_at, publisher, " +
  "created_at, d_qos, d_retain, d_subscription_ids, d_expires_at";
/** One parameter per delivery column. */
export const DELIVERY_PARAMS = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A message's columns, the first eight of `DELIVERY_COLUMNS` (and of `retained`). */
export function messageParams(message: Message): Param[] {
  return [
    message.topic,
    message.payload,
    message.qos,
    message.retain ? 1 : 0,
    encodeProperties(message.properties),
    message.expiresAt ?? null,
    message.publisher ?? null,
    message.createdAt,
  ];
}

/** A delivery's columns, in `DELIVERY_COLUMNS` order. */
export function deliveryParams(delivery: Delivery): Param[] {
  return [
    ...messageParams(delivery.message),
    delivery.qos,
    delivery.retain ? 1 : 0,
    delivery.subscriptionIds === undefined
      ? null
      : JSON.stringify(delivery.subscriptionIds),
    delivery.expiresAt ?? null,
  ];
}

export function decodeMessage(row: Row): Message {
  const message: Mutable<Message> = {
    topic: row.topic as string,
    payload: new Uint8Array(row.payload as Uint8Array),
    qos: Number(row.qos) as QoS,
    retain: Number(row.retain) === 1,
    createdAt: Number(row.created_at),
  };
  if (row.properties !== null) {
    message.properties = decodeProperties(row.properties as string);
  }
  if (row.expires_at !== null) message.expiresAt = Number(row.expires_at);
  if (row.publisher !== null) message.publisher = row.publisher as string;
  return message;
}

export function decodeDelivery(row: Row): Delivery {
  return {
    message: decodeMessage(row),
    qos: Number(row.d_qos) as QoS,
    retain: Number(row.d_retain) === 1,
    subscriptionIds: row.d_subscription_ids === null
      ? undefined
      : JSON.parse(row.d_subscription_ids as string) as number[],
    expiresAt: row.d_expires_at === null ? undefined : Number(row.d_expires_at),
  };
}

/** Properties as JSON; byte arrays as `{ "$bytes": base64 }`. */
export function encodeProperties(
  properties: Properties | undefined,
): string | null {
  if (properties === undefined) return null;
  return JSON.stringify(
    properties,
    (_key, value: unknown) =>
      value instanceof Uint8Array ? { $bytes: toBase64(value) } : value,
  );
}

export function decodeProperties(text: string): Properties {
  return JSON.parse(
    text,
    (_key, value: unknown) =>
      typeof value === "object" && value !== null && "$bytes" in value
        ? fromBase64((value as { $bytes: string }).$bytes)
        : value,
  ) as Properties;
}

/** A session record as JSON; its will's message with encoded properties. */
export function encodeRecord(record: SessionRecord): string {
  const will = record.will;
  return JSON.stringify({
    username: record.username ?? null,
    expiryInterval: record.expiryInterval,
    createdAt: record.createdAt,
    disconnectedAt: record.disconnectedAt ?? null,
    will: will === undefined ? null : {
      topic: will.message.topic,
      payload: toBase64(will.message.payload),
      qos: will.message.qos,
      retain: will.message.retain,
      properties: encodeProperties(will.message.properties),
      expiresAt: will.message.expiresAt ?? null,
      publisher: will.message.publisher ?? null,
      createdAt: will.message.createdAt,
      messageExpiryInterval: will.messageExpiryInterval ?? null,
      delayInterval: will.delayInterval,
      dueAt: will.dueAt ?? null,
    },
  });
}

interface EncodedRecord {
  username: string | null;
  expiryInterval: number;
  createdAt: number;
  disconnectedAt: number | null;
  will: {
    topic: string;
    payload: string;
    qos: QoS;
    retain: boolean;
    properties: string | null;
    expiresAt: number | null;
    publisher: string | null;
    createdAt: number;
    messageExpiryInterval: number | null;
    delayInterval: number;
    dueAt: number | null;
  } | null;
}

export function decodeRecord(clientId: string, text: string): SessionRecord {
  const r = JSON.parse(text) as EncodedRecord;
  let will: StoredWill | undefined;
  if (r.will !== null) {
    const w = r.will;
    const message: Mutable<Message> = {
      topic: w.topic,
      payload: fromBase64(w.payload),
      qos: w.qos,
      retain: w.retain,
      createdAt: w.createdAt,
    };
    if (w.properties !== null) {
      message.properties = decodeProperties(w.properties);
    }
    if (w.expiresAt !== null) message.expiresAt = w.expiresAt;
    if (w.publisher !== null) message.publisher = w.publisher;
    will = {
      message,
      messageExpiryInterval: w.messageExpiryInterval ?? undefined,
      delayInterval: w.delayInterval,
      dueAt: w.dueAt ?? undefined,
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

/**
 * Sets of packet ids (incoming QoS 2 ids not yet released in
 * `incoming_ids`; in-flight messages in phase 2 in `inflight_phase2`) are
 * kept 32 to a row, as the bits of one number: packet id `p` is bit
 * `p & 31` of bucket `p >>> 5`. A client's ids are given in sequence, so the
 * ids of a turn share a few rows, and each row is written once per commit
 * instead of one write per message.
 */
export function packetIdBucket(packetId: number): number {
  return packetId >>> 5;
}

/** The bit of a packet id in its bucket. */
export function packetIdBit(packetId: number): number {
  return 1 << (packetId & 31);
}

/** The packet ids a row of bits holds, in ascending order. */
export function packetIdsOf(bucket: number, bits: number): number[] {
  const ids: number[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if ((bits & (1 << bit)) !== 0) ids.push(bucket * 32 + bit);
  }
  return ids;
}
