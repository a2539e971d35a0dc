/**
 * Commands in RESP: arrays of bulk strings, encoded into one growing
 * buffer ({@linkcode CommandWriter}) without a temporary array per
 * argument. This module owns the request side of the format; `_resp.ts`
 * owns the replies.
 *
 * @module
 */

import type { RedisArgument } from "./types.ts";

const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder();

const CR = 13;
const LF = 10;
const DIGIT_0 = 48;
/** Write buffers grown past this are dropped once written. */
const KEEP_BYTES = 1024 * 1024;

/** Number of decimal digits of a non-negative integer. */
function digitCount(n: number): number {
  let count = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    count++;
  }
  return count;
}

/**
 * Encodes commands as RESP arrays of bulk strings into one growing buffer,
 * without a temporary array per argument.
 */
export class CommandWriter {
  #buf: Uint8Array;
  #pos = 0;
  readonly #initial: number;

  /** @param size Initial capacity in bytes. */
  constructor(size = 16 * 1024) {
    this.#initial = size;
    this.#buf = new Uint8Array(size);
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.#pos;
  }

  /** The bytes written since the last reset; valid until the next write. */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  /** Forgets what was written; a buffer grown very large is dropped. */
  reset(): void {
    this.#pos = 0;
    if (this.#buf.length > KEEP_BYTES) {
      this.#buf = new Uint8Array(this.#initial);
    }
  }

  /**
   * Appends one command.
   *
   * @param args The command's name and arguments.
   * @throws {TypeError} If there are no arguments or one is not a string,
   * a number or bytes; nothing is appended then.
   * @throws {RangeError} If a number is `NaN`.
   */
  write(args: readonly RedisArgument[]): void {
    if (args.length === 0) {
      throw new TypeError("Cannot send an empty command: name it first");
    }
    const start = this.#pos;
    try {
      this.#header(42, args.length); // '*'
      for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (typeof arg === "string") this.#string(arg);
        else if (arg instanceof Uint8Array) this.#bytes(arg);
        else if (typeof arg === "number") this.#number(arg);
        else throw badArgument(args, i);
      }
    } catch (error) {
      this.#pos = start;
      throw error;
    }
  }

  /** Appends bytes that are already RESP. */
  append(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  #ensure(extra: number): void {
    const needed = this.#pos + extra;
    if (needed <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#buf.length * 2));
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
  }

  /** Writes `<type><n>\r\n`. */
  #header(type: number, n: number): void {
    this.#ensure(20);
    const buf = this.#buf;
    let pos = this.#pos;
    buf[pos++] = type;
    pos = writeDigits(buf, pos, n);
    buf[pos++] = CR;
    buf[pos++] = LF;
    this.#pos = pos;
  }

  #bytes(bytes: Uint8Array): void {
    this.#header(36, bytes.length); // '$'
    this.#ensure(bytes.length + 2);
    const buf = this.#buf;
    buf.set(bytes, this.#pos);
    let pos = this.#pos + bytes.length;
    buf[pos++] = CR;
    buf[pos++] = LF;
    this.#pos = pos;
  }

  #string(text: string): void {
    const length = text.length;
    // The header is written for `length` bytes, right for ASCII; if UTF-8
    // turns out longer, the text moves right by the extra digits.
    this.#ensure(length * 3 + 24);
    const buf = this.#buf;
    const guess = digitCount(length);
    const textStart = this.#pos + guess + 3;
    let written = -1;
    if (length <= 64) {
      written = length;
      for (let i = 0; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) {
          written = -1;
          break;
        }
        buf[textStart + i] = code;
      }
    }
    if (written < 0) {
      written = UTF8_ENCODER.encodeInto(text, buf.subarray(textStart)).written;
    }
    const digits = digitCount(written);
    if (digits !== guess) {
      buf.copyWithin(
        textStart + digits - guess,
        textStart,
        textStart + written,
      );
    }
    let pos = this.#pos;
    buf[pos++] = 36; // '$'
    pos = writeDigits(buf, pos, written);
    buf[pos++] = CR;
    buf[pos++] = LF;
    pos += written;
    buf[pos++] = CR;
    buf[pos++] = LF;
    this.#pos = pos;
  }

  #number(n: number): void {
    if (Number.isSafeInteger(n) && n >= 0) {
      const digits = digitCount(n);
      this.#header(36, digits);
      this.#ensure(digits + 2);
      const buf = this.#buf;
      let pos = writeDigits(buf, this.#pos, n);
      buf[pos++] = CR;
      buf[pos++] = LF;
      this.#pos = pos;
      return;
    }
    if (Number.isNaN(n)) {
      throw new RangeError("Cannot encode NaN as a Redis argument");
    }
    this.#string(
      n === Infinity ? "+inf" : n === -Infinity ? "-inf" : String(n),
    );
  }
}

/** Writes the digits of a non-negative safe integer; returns the new end. */
function writeDigits(buf: Uint8Array, pos: number, n: number): number {
  if (n < 10) {
    buf[pos] = DIGIT_0 + n;
    return pos + 1;
  }
  const end = pos + digitCount(n);
  let at = end;
  while (n >= 10) {
    const rest = Math.floor(n / 10);
    buf[--at] = DIGIT_0 + n - rest * 10;
    n = rest;
  }
  buf[--at] = DIGIT_0 + n;
  return end;
}

/**
 * The name of a command for messages: its first argument as text.
 *
 * @param name The command's first argument, if any.
 * @returns The name, upper case.
 */
export function commandName(name: RedisArgument | undefined): string {
  if (name === undefined) return "(empty command)";
  const text = typeof name === "string"
    ? name
    : typeof name === "number"
    ? String(name)
    : UTF8_DECODER.decode(name);
  return text.toUpperCase();
}

/**
 * Checks that a command can be encoded, without encoding it.
 *
 * @param args The command.
 * @throws {TypeError} If it is empty or an argument has the wrong type.
 * @throws {RangeError} If a number is `NaN`.
 */
export function checkArguments(args: readonly RedisArgument[]): void {
  if (args.length === 0) {
    throw new TypeError("Cannot send an empty command: name it first");
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg === "number") {
      if (Number.isNaN(arg)) {
        throw new RangeError("Cannot encode NaN as a Redis argument");
      }
    } else if (typeof arg !== "string" && !(arg instanceof Uint8Array)) {
      throw badArgument(args, i);
    }
  }
}

function badArgument(
  args: readonly RedisArgument[],
  i: number,
): TypeError {
  const arg: unknown = args[i];
  return new TypeError(
    `Cannot encode argument ${i} of ${
      commandName(args[0])
    }: expected a string, a number or a Uint8Array, got ${
      arg === null ? "null" : typeof arg
    }`,
  );
}
