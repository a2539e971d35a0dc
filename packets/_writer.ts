/**
 * Writing MQTT data types into a pre-sized buffer, and measuring them first.
 * Private to `packets/`. Measuring functions validate the caller's values and
 * throw `TypeError` or `RangeError`; writing functions trust them.
 *
 * @module
 */

import { utf8Length } from "./_utf8.ts";

const ENCODER = new TextEncoder();

/** Largest value of a variable byte integer. */
export const VAR_INT_MAX = 268_435_455;

/**
 * Returns the encoded size of a length-prefixed UTF-8 string.
 *
 * @param text The string.
 * @param field What it is, for the error message.
 * @returns 2 plus its UTF-8 length.
 * @throws {TypeError} If it is not a string, holds U+0000 or a lone surrogate.
 * @throws {RangeError} If it is longer than 65,535 bytes.
 */
export function stringSize(text: string, field: string): number {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot encode ${field}: not a string`);
  }
  const length = utf8Length(text);
  if (length < 0) {
    // [MQTT-1.5.3-1] [MQTT-1.5.3-2]
    throw new TypeError(
      `Cannot encode ${field}: it contains U+0000 or a lone surrogate`,
    );
  }
  if (length > 0xffff) {
    throw new RangeError(
      `Cannot encode ${field}: ${length} bytes exceed 65535`,
    );
  }
  return 2 + length;
}

/**
 * Returns the encoded size of length-prefixed binary data.
 *
 * @param data The bytes.
 * @param field What they are, for the error message.
 * @returns 2 plus their length.
 */
export function binarySize(data: Uint8Array, field: string): number {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`Cannot encode ${field}: not a Uint8Array`);
  }
  if (data.length > 0xffff) {
    throw new RangeError(
      `Cannot encode ${field}: ${data.length} bytes exceed 65535`,
    );
  }
  return 2 + data.length;
}

/**
 * Returns the number of bytes of a variable byte integer.
 *
 * @param value An integer from 0 to 268,435,455.
 * @returns 1 to 4.
 */
export function varIntSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

/**
 * Checks that `value` is an integer from `min` to `max`.
 *
 * @param value The value.
 * @param min Smallest allowed.
 * @param max Largest allowed.
 * @param field What it is, for the error message.
 */
export function checkInteger(
  value: number,
  min: number,
  max: number,
  field: string,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot encode ${field}: ${value} is not an integer from ${min} to ${max}`,
    );
  }
}

/** Writes a two-byte big-endian integer; returns the next position. */
export function writeU16(
  bytes: Uint8Array,
  pos: number,
  value: number,
): number {
  bytes[pos] = value >>> 8;
  bytes[pos + 1] = value;
  return pos + 2;
}

/** Writes a four-byte big-endian integer; returns the next position. */
export function writeU32(
  bytes: Uint8Array,
  pos: number,
  value: number,
): number {
  bytes[pos] = value >>> 24;
  bytes[pos + 1] = value >>> 16;
  bytes[pos + 2] = value >>> 8;
  bytes[pos + 3] = value;
  return pos + 4;
}

/** Writes a variable byte integer; returns the next position. */
export function writeVarInt(
  bytes: Uint8Array,
  pos: number,
  value: number,
): number {
  while (value >= 0x80) {
    bytes[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  bytes[pos++] = value;
  return pos;
}

/**
 * Writes a length-prefixed UTF-8 string already checked by
 * {@linkcode stringSize}; returns the next position.
 */
export function writeString(
  bytes: Uint8Array,
  pos: number,
  text: string,
): number {
  const length = text.length;
  const start = pos + 2;
  let i = 0;
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) break;
    bytes[start + i] = code;
  }
  if (i === length) {
    writeU16(bytes, pos, length);
    return start + length;
  }
  const { written } = ENCODER.encodeInto(text, bytes.subarray(start));
  writeU16(bytes, pos, written);
  return start + written;
}

/** Writes length-prefixed binary data; returns the next position. */
export function writeBinary(
  bytes: Uint8Array,
  pos: number,
  data: Uint8Array,
): number {
  writeU16(bytes, pos, data.length);
  bytes.set(data, pos + 2);
  return pos + 2 + data.length;
}

/**
 * Where an encoder puts a packet. The encoder validates and sizes the whole
 * packet first, then calls `reserve` once, then writes the body into `bytes`
 * from the position `reserve` returned, unless that is
 * {@linkcode MEASURE_ONLY}. Nothing throws after `reserve`, so a sink that
 * fails to get a packet is left as it was.
 */
export interface PacketSink {
  /** The buffer `reserve` made room in. */
  readonly bytes: Uint8Array;
  /**
   * Makes room for a packet and writes its fixed header.
   *
   * @param first The first byte: type and flags.
   * @param remaining The remaining length.
   * @param name The packet's name, for the error message.
   * @returns Where the body starts in `bytes`, or {@linkcode MEASURE_ONLY}.
   * @throws {RangeError} If the packet is larger than MQTT allows.
   */
  reserve(first: number, remaining: number, name: string): number;
}

/** What {@linkcode PacketSink.reserve} returns when the body is not wanted. */
export const MEASURE_ONLY = -1;

/**
 * Returns the size of a whole packet from its remaining length.
 *
 * @param remaining The remaining length.
 * @param name The packet's name, for the error message.
 * @returns The size, fixed header included.
 * @throws {RangeError} If the packet is larger than MQTT allows.
 */
export function packetLength(remaining: number, name: string): number {
  if (remaining > VAR_INT_MAX) {
    throw new RangeError(
      `Cannot encode ${name}: remaining length ${remaining} exceeds ${VAR_INT_MAX}`,
    );
  }
  return 1 + varIntSize(remaining) + remaining;
}

/** Writes a fixed header; returns the position of the body. */
export function writeFixedHeader(
  bytes: Uint8Array,
  pos: number,
  first: number,
  remaining: number,
): number {
  bytes[pos] = first;
  return writeVarInt(bytes, pos + 1, remaining);
}
