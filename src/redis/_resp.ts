/**
 * RESP2 and RESP3 replies, decoded from one growing buffer as bytes arrive
 * ({@linkcode RespDecoder}). This module owns the reply side of the
 * format; `_command.ts` owns the commands.
 *
 * @module
 */

import { RedisError, RedisProtocolError, type RedisReply } from "./types.ts";

const UTF8_DECODER = new TextDecoder();

const CR = 13;
const LF = 10;
const DIGIT_0 = 48;
const MINUS = 45;
const PLUS = 43;
/** Redis refuses bulk strings longer than this (`proto-max-bulk-len`). */
const MAX_BULK = 512 * 1024 * 1024;
/** A header or simple string longer than this without CRLF is not RESP. */
const MAX_LINE = 64 * 1024;
/** Read buffers grown past this are dropped once decoded. */
const KEEP_BYTES = 1024 * 1024;

/** What a decoded value is for its receiver. */
export const ReplyKind = {
  /** An answer to a command. */
  Reply: 0,
  /** A RESP3 push frame (pub/sub message, invalidation); an array. */
  Push: 1,
  /** A top-level error reply; the value is its text. */
  Error: 2,
} as const;
/** One of {@linkcode ReplyKind}'s values. */
export type ReplyKind = typeof ReplyKind[keyof typeof ReplyKind];

/** Receives each complete reply, in order. */
export type ReplySink = (reply: RedisReply, kind: ReplyKind) => void;

const AGGREGATE = 0;
const PUSH = 1;
const ATTRIBUTE = 2;

/** An aggregate whose elements are still arriving. */
interface Frame {
  readonly items: RedisReply[];
  remaining: number;
  readonly kind: typeof AGGREGATE | typeof PUSH | typeof ATTRIBUTE;
}

/**
 * Decodes RESP2 and RESP3 replies from bytes that arrive in any pieces.
 * The bytes are read straight into its buffer ({@linkcode space}, then
 * {@linkcode commit}); each element is decoded once, however many reads an
 * aggregate spans, and a long bulk string grows the buffer once.
 */
export class RespDecoder {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  /** Bytes the element at `#start` needs in all, when known. */
  #need = 0;
  readonly #stack: Frame[] = [];
  readonly #initial: number;

  /** @param size Initial capacity in bytes. */
  constructor(size = 64 * 1024) {
    this.#initial = size;
    this.#buf = new Uint8Array(size);
  }

  /** Bytes received and not yet decoded into a whole element. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Room to read into: at least `min` bytes, more if a bulk string being
   * received needs more.
   *
   * @param min The least number of bytes wanted.
   * @returns A view of the free space; fill it, then call `commit`.
   */
  space(min = 16 * 1024): Uint8Array {
    const pending = this.#end - this.#start;
    const want = Math.max(min, this.#need - pending);
    if (this.#buf.length - this.#end >= want) {
      return this.#buf.subarray(this.#end);
    }
    if (pending + want <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const grown = new Uint8Array(
        Math.max(pending + want, this.#buf.length * 2),
      );
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
    }
    this.#start = 0;
    this.#end = pending;
    return this.#buf.subarray(this.#end);
  }

  /** Marks `n` more bytes of the last `space()` as received. */
  commit(n: number): void {
    this.#end += n;
  }

  /** Copies bytes in, as if read; for tests and callers without a reader. */
  feed(bytes: Uint8Array): void {
    this.space(bytes.length).set(bytes);
    this.commit(bytes.length);
  }

  /**
   * Decodes every complete reply received so far and hands each to `sink`;
   * a partial reply stays until more bytes come.
   *
   * @param sink Receives the replies in order.
   * @throws {RedisProtocolError} If the bytes are not RESP; the decoder is
   * then unusable.
   */
  decode(sink: ReplySink): void {
    const stack = this.#stack;
    let pos = this.#start;
    while (pos < this.#end) {
      const buf = this.#buf;
      const end = this.#end;
      const type = buf[pos]!;
      const cr = findLineEnd(buf, pos + 1, end);
      if (cr < 0) break;
      const next = cr + 2;
      let value: RedisReply;
      let error = false;
      let after = next;
      switch (type) {
        case 43: // '+' simple string
          value = text(buf, pos + 1, cr);
          break;
        case 45: // '-' error
          value = text(buf, pos + 1, cr);
          error = true;
          break;
        case 58: // ':' integer
          value = integer(buf, pos + 1, cr);
          break;
        case 36: // '$' bulk string
        case 61: // '=' verbatim string
        case 33: { // '!' bulk error
          const length = count(buf, pos + 1, cr, type === 36);
          if (length < 0) {
            value = null;
            break;
          }
          if (length > MAX_BULK) {
            throw malformed(`a bulk string of ${length} bytes is too long`);
          }
          after = next + length + 2;
          if (after > end) {
            this.#need = after - pos;
            this.#start = pos;
            return;
          }
          if (buf[after - 2] !== CR || buf[after - 1] !== LF) {
            throw malformed(`a bulk string of ${length} bytes lacks its CRLF`);
          }
          if (type === 36) {
            value = buf.slice(next, next + length);
          } else if (type === 33) {
            value = text(buf, next, next + length);
            error = true;
          } else {
            if (length < 4 || buf[next + 3] !== 58) {
              throw malformed("a verbatim string lacks its format prefix");
            }
            value = buf.slice(next + 4, next + length);
          }
          break;
        }
        case 42: // '*' array
        case 126: // '~' set
        case 37: // '%' map
        case 62: // '>' push
        case 124: { // '|' attribute
          const n = count(buf, pos + 1, cr, type === 42);
          if (n < 0) {
            value = null;
            break;
          }
          const items = type === 37 || type === 124 ? n * 2 : n;
          if (items === 0) {
            if (type === 124) {
              pos = next;
              this.#start = pos;
              continue;
            }
            value = [];
            break;
          }
          stack.push({
            items: [],
            remaining: items,
            kind: type === 62 ? PUSH : type === 124 ? ATTRIBUTE : AGGREGATE,
          });
          pos = next;
          this.#start = pos;
          continue;
        }
        case 95: // '_' null
          if (cr !== pos + 1) throw malformed("a null has content");
          value = null;
          break;
        case 35: // '#' boolean
          if (
            cr !== pos + 2 || (buf[pos + 1] !== 116 && buf[pos + 1] !== 102)
          ) {
            throw malformed("a boolean is neither t nor f");
          }
          value = buf[pos + 1] === 116;
          break;
        case 44: // ',' double
          value = double(text(buf, pos + 1, cr));
          break;
        case 40: // '(' big number
          value = bigNumber(text(buf, pos + 1, cr));
          break;
        default:
          throw malformed(`unknown type byte 0x${type.toString(16)}`);
      }
      pos = after;
      this.#start = pos;
      this.#need = 0;
      // Hand the value to its aggregate, closing those it completes.
      for (;;) {
        const frame = stack[stack.length - 1];
        if (frame === undefined) {
          if (error) sink(value, ReplyKind.Error);
          else sink(value, ReplyKind.Reply);
          break;
        }
        frame.items.push(error ? new RedisError(value as string) : value);
        error = false;
        if (--frame.remaining > 0) break;
        stack.pop();
        if (frame.kind === ATTRIBUTE) break; // Attributes are skipped.
        value = frame.items;
        if (frame.kind === PUSH && stack.length === 0) {
          sink(value, ReplyKind.Push);
          break;
        }
      }
    }
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (this.#buf.length > KEEP_BYTES) {
        this.#buf = new Uint8Array(this.#initial);
      }
    }
  }
}

function malformed(detail: string): RedisProtocolError {
  return new RedisProtocolError(`Cannot decode a reply from Redis: ${detail}`);
}

/** The index of the CR ending the line that starts at `from`, or -1. */
function findLineEnd(buf: Uint8Array, from: number, end: number): number {
  const limit = Math.min(end - 1, from + MAX_LINE);
  for (let i = from; i < limit; i++) {
    if (buf[i] === CR) {
      if (buf[i + 1] !== LF) throw malformed("a CR is not followed by LF");
      return i;
    }
  }
  if (end - from > MAX_LINE) {
    throw malformed(`a line is longer than ${MAX_LINE} bytes`);
  }
  return -1;
}

/** Decodes bytes as text; ASCII without a decoder call. */
function text(buf: Uint8Array, from: number, to: number): string {
  const length = to - from;
  if (length === 2 && buf[from] === 79 && buf[from + 1] === 75) return "OK";
  if (length <= 32) {
    let ascii = "";
    for (let i = from; i < to; i++) {
      const code = buf[i]!;
      if (code >= 0x80) return UTF8_DECODER.decode(buf.subarray(from, to));
      ascii += String.fromCharCode(code);
    }
    return ascii;
  }
  return UTF8_DECODER.decode(buf.subarray(from, to));
}

/** A length or count: a non-negative integer, or -1 (nil) if allowed. */
function count(
  buf: Uint8Array,
  from: number,
  to: number,
  nilAllowed: boolean,
): number {
  if (
    nilAllowed && to === from + 2 && buf[from] === MINUS && buf[from + 1] === 49
  ) {
    return -1;
  }
  if (to === from || to - from > 10) {
    throw malformed(`bad length "${text(buf, from, to)}"`);
  }
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = buf[i]! - DIGIT_0;
    if (digit < 0 || digit > 9) {
      throw malformed(`bad length "${text(buf, from, to)}"`);
    }
    n = n * 10 + digit;
  }
  return n;
}

/** A RESP integer: a number, or a bigint past 2^53. */
function integer(buf: Uint8Array, from: number, to: number): number | bigint {
  let i = from;
  const negative = buf[i] === MINUS;
  if (negative || buf[i] === PLUS) i++;
  if (i === to || to - i > 19) {
    throw malformed(`bad integer "${text(buf, from, to)}"`);
  }
  let n = 0;
  for (let j = i; j < to; j++) {
    const digit = buf[j]! - DIGIT_0;
    if (digit < 0 || digit > 9) {
      throw malformed(`bad integer "${text(buf, from, to)}"`);
    }
    n = n * 10 + digit;
  }
  if (n <= Number.MAX_SAFE_INTEGER) return negative ? -n : n;
  const big = BigInt(text(buf, i, to));
  return negative ? -big : big;
}

function double(value: string): number {
  switch (value) {
    case "inf":
    case "+inf":
      return Infinity;
    case "-inf":
      return -Infinity;
    case "nan":
    case "-nan":
      return NaN;
  }
  const n = value.trim() === value && value !== "" ? Number(value) : NaN;
  if (Number.isNaN(n)) throw malformed(`bad double "${value}"`);
  return n;
}

function bigNumber(value: string): bigint {
  if (!/^[-+]?\d+$/.test(value)) throw malformed(`bad big number "${value}"`);
  return BigInt(value);
}
