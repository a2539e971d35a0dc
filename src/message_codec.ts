/**
 * A {@linkcode Message} as bytes and back: what travels between the nodes
 * of a cluster, and what a store on a network service keeps. Binary, with
 * the payload as it is (no base64) and a version byte first.
 *
 * Layout (version 1): version u8; flags u8 (bits 0-1 QoS, 2 retain, 3
 * properties, 4 expiry, 5 publisher); createdAt f64; expiresAt f64 if
 * flagged; topic as u32 length and UTF-8; publisher likewise if flagged;
 * properties as u32 length and JSON (byte arrays as `{"$b": base64}`) if
 * flagged; then the payload, to the end.
 *
 * @example A message there and back
 * ```ts
 * import { decodeMessage, encodeMessage } from "./message_codec.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const message = {
 *   topic: "a/b",
 *   payload: new Uint8Array([1, 2, 3]),
 *   qos: 1 as const,
 *   retain: false,
 *   properties: { correlationData: new Uint8Array([9]) },
 *   createdAt: 1_700_000_000_000,
 * };
 * deepStrictEqual(decodeMessage(encodeMessage(message)), message);
 * ```
 *
 * @module
 */

import type { Properties, QoS } from "../packets/types.ts";
import type { Message } from "./message.ts";

/** The encoding's version, its first byte. */
export const MESSAGE_CODEC_VERSION = 1;

const TEXT = new TextEncoder();
const UTF8 = new TextDecoder("utf-8", { fatal: true });

const RETAIN = 0x04;
const PROPERTIES = 0x08;
const EXPIRY = 0x10;
const PUBLISHER = 0x20;

/** A message that cannot be read back: malformed or of another version. */
export class MessageCodecError extends Error {
  /**
   * Makes the error.
   *
   * @param message What is wrong.
   */
  constructor(message: string) {
    super(`Cannot read a message: ${message}`);
    this.name = "MessageCodecError";
  }
}

/**
 * Encodes a message.
 *
 * @param message The message.
 * @returns Its bytes; the payload is copied in.
 */
export function encodeMessage(message: Message): Uint8Array {
  const properties = propertiesText(message);
  const out = new Uint8Array(encodedLengthAtMost(message, properties));
  return out.subarray(0, writeMessage(message, properties, out, 0));
}

/**
 * A message's properties as the encoding keeps them (JSON, byte arrays as
 * `{"$b": base64}`), for {@linkcode encodedLengthAtMost} and
 * {@linkcode writeMessage}; `undefined` when it has none.
 *
 * @param message The message.
 * @returns The text, or `undefined`.
 */
export function propertiesText(message: Message): string | undefined {
  return message.properties === undefined ? undefined : JSON.stringify(
    message.properties,
    (_key, value: unknown) =>
      value instanceof Uint8Array ? { $b: toBase64(value) } : value,
  );
}

/**
 * How many bytes {@linkcode writeMessage} writes at most for a message:
 * texts are counted at the worst case of UTF-8 (3 bytes per UTF-16 unit).
 *
 * @param message The message.
 * @param properties Its {@linkcode propertiesText}.
 * @returns The bytes to have room for.
 */
export function encodedLengthAtMost(
  message: Message,
  properties: string | undefined,
): number {
  const { topic, publisher } = message;
  return 2 + 8 + (message.expiresAt === undefined ? 0 : 8) + 4 +
    3 * topic.length +
    (publisher === undefined ? 0 : 4 + 3 * publisher.length) +
    (properties === undefined ? 0 : 4 + 3 * properties.length) +
    message.payload.length;
}

/**
 * Writes a message where a larger buffer has room for it, as
 * {@linkcode encodeMessage} would: a batch of messages in one buffer, with
 * no array of its own for each.
 *
 * @param message The message.
 * @param properties Its {@linkcode propertiesText}.
 * @param out The buffer, with {@linkcode encodedLengthAtMost} bytes of
 * room from `at`.
 * @param at Where the message starts.
 * @returns Where it ends.
 */
export function writeMessage(
  message: Message,
  properties: string | undefined,
  out: Uint8Array,
  at: number,
): number {
  const { topic, publisher, payload, expiresAt } = message;
  out[at] = MESSAGE_CODEC_VERSION;
  out[at + 1] = message.qos | (message.retain ? RETAIN : 0) |
    (properties === undefined ? 0 : PROPERTIES) |
    (expiresAt === undefined ? 0 : EXPIRY) |
    (publisher === undefined ? 0 : PUBLISHER);
  writeNumber(out, at + 2, message.createdAt);
  at += 10;
  if (expiresAt !== undefined) {
    writeNumber(out, at, expiresAt);
    at += 8;
  }
  at = writeText(out, at, topic);
  if (publisher !== undefined) at = writeText(out, at, publisher);
  if (properties !== undefined) at = writeText(out, at, properties);
  out.set(payload, at);
  return at + payload.length;
}

/** A number as 8 bytes, big-endian (as `DataView.getFloat64` reads it). */
const NUMBER = new Float64Array(1);
const NUMBER_BYTES = new Uint8Array(NUMBER.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function writeNumber(out: Uint8Array, at: number, value: number): void {
  NUMBER[0] = value;
  for (let i = 0; i < 8; i++) {
    out[at + i] = NUMBER_BYTES[LITTLE_ENDIAN ? 7 - i : i]!;
  }
}

/**
 * A text as a 32-bit big-endian length and its UTF-8, at `at`; returns
 * where it ends. ASCII is written here, without a call into the runtime.
 */
function writeText(out: Uint8Array, at: number, text: string): number {
  const start = at + 4;
  const length = text.length;
  let written = length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) {
      written = TEXT.encodeInto(text, out.subarray(start)).written;
      break;
    }
    out[start + i] = code;
  }
  out[at] = written >>> 24;
  out[at + 1] = (written >>> 16) & 0xff;
  out[at + 2] = (written >>> 8) & 0xff;
  out[at + 3] = written & 0xff;
  return start + written;
}

/**
 * Decodes what {@linkcode encodeMessage} made.
 *
 * @param bytes The bytes; the payload is copied out of them.
 * @returns The message.
 * @throws {MessageCodecError} If they are not a message of this version.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.length < 14) throw new MessageCodecError("too short");
  if (bytes[0] !== MESSAGE_CODEC_VERSION) {
    throw new MessageCodecError(`unknown version ${bytes[0]}`);
  }
  const flags = bytes[1]!;
  const qos = flags & 0x03;
  if (qos === 3 || flags & 0xc0) {
    throw new MessageCodecError(`bad flags 0x${flags.toString(16)}`);
  }
  const reader: Reader = { bytes, at: 2 };
  const createdAt = readNumber(reader);
  const expiresAt = flags & EXPIRY ? readNumber(reader) : undefined;
  const topic = readText(reader);
  const publisher = flags & PUBLISHER ? readText(reader) : undefined;
  let properties: Properties | undefined;
  if (flags & PROPERTIES) {
    const json = readText(reader);
    try {
      properties = JSON.parse(
        json,
        (_key, value: unknown) =>
          typeof value === "object" && value !== null && "$b" in value
            ? fromBase64((value as { $b: string }).$b)
            : value,
      ) as Properties;
    } catch {
      throw new MessageCodecError("bad properties");
    }
  }
  const message: {
    -readonly [K in keyof Message]: Message[K];
  } = {
    topic,
    payload: bytes.slice(reader.at),
    qos: qos as QoS,
    retain: (flags & RETAIN) !== 0,
    createdAt,
  };
  if (properties !== undefined) message.properties = properties;
  if (expiresAt !== undefined) message.expiresAt = expiresAt;
  if (publisher !== undefined) message.publisher = publisher;
  return message;
}

/** Where `decodeMessage` is in its bytes. */
interface Reader {
  readonly bytes: Uint8Array;
  at: number;
}

function readNumber(reader: Reader): number {
  const { bytes, at } = reader;
  if (at + 8 > bytes.length) throw new MessageCodecError("truncated");
  for (let i = 0; i < 8; i++) {
    NUMBER_BYTES[LITTLE_ENDIAN ? 7 - i : i] = bytes[at + i]!;
  }
  reader.at = at + 8;
  return NUMBER[0]!;
}

/** Texts this long or shorter, in ASCII, are read without `TextDecoder`. */
const SHORT_TEXT = 64;

function readText(reader: Reader): string {
  const { bytes, at } = reader;
  if (at + 4 > bytes.length) throw new MessageCodecError("truncated");
  const length = (bytes[at]! << 24 | bytes[at + 1]! << 16 |
    bytes[at + 2]! << 8 | bytes[at + 3]!) >>> 0;
  const start = at + 4;
  const end = start + length;
  if (end > bytes.length) throw new MessageCodecError("truncated");
  reader.at = end;
  if (length <= SHORT_TEXT) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return String.fromCharCode.apply(
        null,
        bytes.subarray(start, end) as unknown as number[],
      );
    }
  }
  try {
    return UTF8.decode(bytes.subarray(start, end));
  } catch {
    throw new MessageCodecError("bad UTF-8");
  }
}

/**
 * Base64 of bytes, for the byte fields of properties kept as JSON.
 *
 * @param bytes The bytes.
 * @returns Their base64.
 */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/**
 * The bytes of a base64 text made by {@linkcode toBase64}.
 *
 * @param text The base64.
 * @returns The bytes.
 */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
