/**
 * UTF-8 helpers for MQTT strings: strict decoding and length computation.
 * Private to `packets/`.
 *
 * @module
 */

const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** For bytes already known to be ASCII: cheaper than the fatal decoder. */
const ASCII_DECODER = new TextDecoder("utf-8", { ignoreBOM: true });

/** Longest string the JavaScript loop decodes; TextDecoder wins beyond. */
const ASCII_LOOP_MAX = 32;

/**
 * Decodes `bytes[start..end)` as a strict MQTT UTF-8 string, or returns
 * `undefined` if the bytes are malformed UTF-8 (surrogates and overlong forms
 * included) or contain U+0000 [MQTT-1.5.3-1] [MQTT-1.5.3-2]. A leading U+FEFF
 * is kept [MQTT-1.5.3-3]. ASCII, the common case, skips the fatal decoder.
 *
 * @param bytes The buffer.
 * @param start First byte of the string.
 * @param end One past its last byte.
 * @returns The string, or `undefined` if it is not valid MQTT UTF-8.
 */
export function decodeUtf8(
  bytes: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  let i = start;
  if (end - start <= ASCII_LOOP_MAX) {
    // Four characters per step: fewer intermediate strings.
    let text = "";
    for (; i + 4 <= end; i += 4) {
      const b0 = bytes[i]!;
      const b1 = bytes[i + 1]!;
      const b2 = bytes[i + 2]!;
      const b3 = bytes[i + 3]!;
      if (
        ((b0 | b1 | b2 | b3) & 0x80) !== 0 ||
        b0 === 0 || b1 === 0 || b2 === 0 || b3 === 0
      ) break;
      text += String.fromCharCode(b0, b1, b2, b3);
    }
    for (; i < end; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x80 || byte === 0) break;
      text += String.fromCharCode(byte);
    }
    if (i === end) return text;
  } else {
    for (; i < end; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x80 || byte === 0) break;
    }
    if (i === end) return ASCII_DECODER.decode(bytes.subarray(start, end));
  }
  if (bytes[i] === 0) return undefined; // [MQTT-1.5.3-2]
  let text: string;
  try {
    // [MQTT-1.5.3-1] fatal: malformed UTF-8 and encoded surrogates throw.
    text = DECODER.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
  return text.includes("\0") ? undefined : text; // [MQTT-1.5.3-2]
}

/** Slots of a {@linkcode RecentNames} table; a power of two. */
const RECENT_SLOTS = 256;
/** Longest name a {@linkcode RecentNames} table keeps. */
const RECENT_MAX = 128;

/**
 * A small table of the ASCII names (PUBLISH topics) decoded lately, each
 * in the slot of a hash of its bytes: clients publish to the same few
 * topics over and over, and a name found here is answered with the same
 * string instead of a new one. Its owner (a server) makes one; bytes that
 * differ from the slot's name only ever cost a decoding.
 */
export class RecentNames {
  readonly #slots: string[] = new Array<string>(RECENT_SLOTS).fill("");

  /**
   * Decodes a name like {@linkcode decodeUtf8}, from the table when it is
   * there.
   *
   * @param bytes The buffer.
   * @param start First byte of the name.
   * @param end One past its last byte.
   * @returns The string, or `undefined` if it is not valid MQTT UTF-8.
   */
  decode(bytes: Uint8Array, start: number, end: number): string | undefined {
    const length = end - start;
    if (length === 0 || length > RECENT_MAX) {
      return decodeUtf8(bytes, start, end);
    }
    let hash = length;
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x80 || byte === 0) return decodeUtf8(bytes, start, end);
      hash = (Math.imul(hash, 31) + byte) | 0;
    }
    const slot = (hash ^ (hash >>> 11)) & (RECENT_SLOTS - 1);
    const slots = this.#slots;
    const seen = slots[slot]!;
    if (seen.length === length) {
      let k = 0;
      while (k < length && seen.charCodeAt(k) === bytes[start + k]) k++;
      if (k === length) return seen;
    }
    // ASCII without U+0000: valid.
    const text = decodeUtf8(bytes, start, end)!;
    slots[slot] = text;
    return text;
  }
}

/**
 * Returns the length in bytes of `text` encoded as UTF-8, or -1 if it cannot
 * be an MQTT string: it holds U+0000 or a lone surrogate [MQTT-1.5.3-1]
 * [MQTT-1.5.3-2]. It does not check the 65,535-byte limit.
 *
 * @param text The string.
 * @returns Its UTF-8 length, or -1.
 */
export function utf8Length(text: string): number {
  const length = text.length;
  let bytes = length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      if (code === 0) return -1;
    } else if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      // A high surrogate must be followed by a low one: 4 bytes for the pair.
      const next = text.charCodeAt(i + 1);
      if (code > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return -1;
      bytes += 2;
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}
