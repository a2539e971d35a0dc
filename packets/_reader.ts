/**
 * Bounds-checked reading of MQTT data types from a packet's bytes. Private to
 * `packets/`.
 *
 * @module
 */

import { MalformedPacketError } from "./errors.ts";
import { decodeUtf8, type RecentNames } from "./_utf8.ts";

/**
 * Reads one packet's fields in order. Every read checks what is left and
 * throws a {@linkcode MalformedPacketError} naming the packet and the field.
 */
export class Reader {
  readonly #bytes: Uint8Array;
  readonly #end: number;
  readonly #packet: string;
  #pos: number;

  /**
   * @param bytes The buffer holding the packet.
   * @param start First byte to read.
   * @param end One past the packet's last byte.
   * @param packet Name of the packet for error messages, e.g. "PUBLISH".
   */
  constructor(bytes: Uint8Array, start: number, end: number, packet: string) {
    this.#bytes = bytes;
    this.#pos = start;
    this.#end = end;
    this.#packet = packet;
  }

  /** The buffer being read. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Index of the next byte to read. */
  get position(): number {
    return this.#pos;
  }

  /** Bytes left in the packet. */
  get left(): number {
    return this.#end - this.#pos;
  }

  /** Name of the packet, e.g. "PUBLISH". */
  get packet(): string {
    return this.#packet;
  }

  /**
   * Builds the error for a bad field: "Cannot decode PUBLISH topic: detail".
   *
   * @param field The field.
   * @param detail What was wrong with it.
   * @returns The error, to throw.
   */
  malformed(field: string, detail: string): MalformedPacketError {
    return new MalformedPacketError(
      `Cannot decode ${this.#packet} ${field}: ${detail}`,
    );
  }

  #need(field: string, size: number): void {
    if (this.#end - this.#pos < size) {
      throw this.malformed(
        field,
        `${size} bytes needed but ${this.#end - this.#pos} left`,
      );
    }
  }

  /** Reads a byte. */
  u8(field: string): number {
    if (this.#pos >= this.#end) this.#need(field, 1);
    return this.#bytes[this.#pos++]!;
  }

  /** Reads a two-byte big-endian integer. */
  u16(field: string): number {
    if (this.#end - this.#pos < 2) this.#need(field, 2);
    const bytes = this.#bytes;
    const pos = this.#pos;
    this.#pos = pos + 2;
    return (bytes[pos]! << 8) | bytes[pos + 1]!;
  }

  /** Reads a four-byte big-endian integer. */
  u32(field: string): number {
    if (this.#end - this.#pos < 4) this.#need(field, 4);
    const bytes = this.#bytes;
    const pos = this.#pos;
    this.#pos = pos + 4;
    return (bytes[pos]! * 0x1000000) +
      ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!);
  }

  /**
   * Reads a variable byte integer: at most four bytes, in the fewest bytes
   * that hold the value [MQTT-1.5.5-1].
   */
  varInt(field: string): number {
    const bytes = this.#bytes;
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      if (this.#pos >= this.#end) {
        throw this.malformed(field, "the variable byte integer is cut short");
      }
      const byte = bytes[this.#pos++]!;
      value += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) {
          throw this.malformed(
            field,
            "the variable byte integer is not minimal",
          );
        }
        return value;
      }
      multiplier *= 128;
    }
    throw this.malformed(field, "the variable byte integer exceeds 4 bytes");
  }

  /** Reads a length-prefixed UTF-8 string [MQTT-1.5.3-1] [MQTT-1.5.3-2]. */
  string(field: string): string {
    return this.#string(field, undefined);
  }

  /**
   * Reads a string that is likely to repeat (a PUBLISH topic), as `string`
   * does, answered from `names` when it was decoded lately.
   */
  name(field: string, names: RecentNames | undefined): string {
    return this.#string(field, names);
  }

  #string(field: string, names: RecentNames | undefined): string {
    const length = this.u16(field);
    const start = this.#pos;
    if (length > this.#end - start) this.#overrun(field, length);
    const end = start + length;
    this.#pos = end;
    const bytes = this.#bytes;
    const text = names === undefined
      ? decodeUtf8(bytes, start, end)
      : names.decode(bytes, start, end);
    if (text === undefined) {
      throw this.malformed(field, "not valid UTF-8 or contains U+0000");
    }
    return text;
  }

  /** Reads length-prefixed binary data as a view of the input. */
  binary(field: string): Uint8Array {
    const length = this.u16(field);
    const start = this.#pos;
    if (length > this.#end - start) this.#overrun(field, length);
    this.#pos = start + length;
    return this.#bytes.subarray(start, start + length);
  }

  /** Returns the rest of the packet as a view, and reaches its end. */
  rest(): Uint8Array {
    const start = this.#pos;
    this.#pos = this.#end;
    return this.#bytes.subarray(start, this.#end);
  }

  /** Returns a copy of the rest of the packet, and reaches its end. */
  restCopy(): Uint8Array {
    const start = this.#pos;
    this.#pos = this.#end;
    return this.#bytes.slice(start, this.#end);
  }

  /** Moves past `count` bytes already read another way. */
  skip(count: number): void {
    this.#pos += count;
  }

  /** Throws unless the whole packet has been read. */
  expectEnd(): void {
    if (this.#pos !== this.#end) {
      throw new MalformedPacketError(
        `Cannot decode ${this.#packet}: ${
          this.#end - this.#pos
        } unexpected bytes after its content`,
      );
    }
  }

  #overrun(field: string, length: number): never {
    throw this.malformed(
      field,
      `length ${length} exceeds the ${this.#end - this.#pos} bytes left`,
    );
  }
}
