/**
 * An output buffer that packets are encoded straight into.
 *
 * @module
 */

import { encodeTo } from "./encode.ts";
import {
  packetLength,
  type PacketSink,
  writeFixedHeader,
  writeU16,
} from "./_writer.ts";
import type { Packet, ProtocolVersion } from "./types.ts";

/** Largest buffer a writer starts a batch with after `take()`. */
const MAX_NEXT_SIZE = 65536;

/** The buffer of a writer that holds none; never handed out. */
const NO_BUFFER = new Uint8Array(0);

/** Options for {@linkcode PacketWriter}. */
export interface PacketWriterOptions {
  /**
   * Size in bytes of the first buffer, 4096 by default. The buffer doubles
   * when a packet does not fit, and each buffer after a
   * {@linkcode PacketWriter.take} starts at the size the last one reached.
   */
  initialSize?: number;
}

/**
 * The growable buffer behind a {@linkcode PacketWriter}, and the sink its
 * packets are encoded into. A packet's bytes count only once `commit` is
 * called, so a packet that fails to encode leaves nothing behind.
 */
class OutputBuffer implements PacketSink {
  /** The buffer, {@linkcode NO_BUFFER} until something is written. */
  bytes: Uint8Array = NO_BUFFER;
  /** Bytes committed. */
  length = 0;
  /** Size of the buffer, or of the next one to allocate. */
  size: number;
  /** End of the packet `reserve` made room for. */
  #end = 0;

  constructor(size: number) {
    this.size = size;
  }

  /** Makes room for `count` more bytes; returns where they start. */
  grow(count: number): number {
    const start = this.length;
    const needed = start + count;
    const bytes = this.bytes;
    if (needed > bytes.length) {
      let size = this.size;
      while (size < needed) size *= 2;
      const next = new Uint8Array(size);
      if (start > 0) next.set(bytes.subarray(0, start));
      this.bytes = next;
      this.size = size;
    }
    this.#end = needed;
    return start;
  }

  reserve(first: number, remaining: number, name: string): number {
    const start = this.grow(packetLength(remaining, name));
    return writeFixedHeader(this.bytes, start, first, remaining);
  }

  /** Counts the bytes reserved last. */
  commit(): void {
    this.length = this.#end;
  }
}

/**
 * An output buffer that packets are encoded straight into, for a connection
 * that writes in batches: append packets, then {@linkcode PacketWriter.take}
 * everything as one `Uint8Array` for one write. It saves the allocation and
 * the copy of one array per packet that {@linkcode encodePacket} makes.
 *
 * The buffer starts at `initialSize` and doubles when a packet does not fit.
 * `take` hands the buffer over; the next write allocates a fresh one of the
 * same size, so a writer that has nothing to send holds no buffer.
 *
 * @example Batch packets into one write
 * ```ts
 * import { encodePacket, PacketWriter, type Packet } from "@gmqtt/broker/packets";
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 *
 * const writer = new PacketWriter();
 * const ack: Packet = { type: "puback", packetId: 7 };
 * const ping: Packet = { type: "pingresp" };
 * strictEqual(writer.write(ack), 0);
 * strictEqual(writer.write(ping), 4);
 * strictEqual(writer.length, 6);
 *
 * const batch = writer.take(); // one conn.write(batch) sends both
 * deepStrictEqual(batch, Uint8Array.of(...encodePacket(ack), ...encodePacket(ping)));
 * strictEqual(writer.length, 0);
 * ```
 * @example Fan out one PUBLISH, patching each subscriber's packet id
 * ```ts
 * import { encodePacket, PacketWriter, decodePacket } from "@gmqtt/broker/packets";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const bytes = encodePacket({
 *   type: "publish",
 *   topic: "a/b",
 *   payload: new TextEncoder().encode("hi"),
 *   qos: 1,
 *   packetId: 1,
 *   retain: false,
 *   dup: false,
 * });
 * // The packet id follows the 2-byte fixed header and the 5-byte topic.
 * const writer = new PacketWriter();
 * const offset = writer.writeBytes(bytes);
 * writer.setUint16(offset + 2 + 5, 42);
 * deepStrictEqual(decodePacket(writer.take()), {
 *   type: "publish",
 *   topic: "a/b",
 *   payload: new TextEncoder().encode("hi"),
 *   qos: 1,
 *   packetId: 42,
 *   retain: false,
 *   dup: false,
 * });
 * ```
 */
export class PacketWriter {
  #buffer: OutputBuffer;
  /** The whole buffer of the last batch taken, until it is recycled. */
  #taken: Uint8Array | undefined;
  readonly #initialSize: number;

  /**
   * Creates an empty writer; it allocates its first buffer on the first
   * write.
   *
   * @param options Buffer sizing.
   * @throws {RangeError} If `initialSize` is not a positive integer.
   */
  constructor(options: PacketWriterOptions = {}) {
    const { initialSize = 4096 } = options;
    if (!Number.isSafeInteger(initialSize) || initialSize < 1) {
      throw new RangeError(
        `Cannot create PacketWriter: initialSize ${initialSize} is not a positive integer`,
      );
    }
    this.#initialSize = initialSize;
    this.#buffer = new OutputBuffer(initialSize);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.#buffer.length;
  }

  /**
   * Encodes a packet at the end of the buffer, with the same validation and
   * bytes as {@linkcode encodePacket}. If it throws, the writer is left as it
   * was.
   *
   * @param packet The packet.
   * @param protocolVersion Protocol level of the connection, 4 (3.1.1) by
   * default.
   * @returns The offset the packet starts at, for
   * {@linkcode PacketWriter.setUint16}.
   * @throws {TypeError} If {@linkcode encodePacket} would throw one.
   * @throws {RangeError} If {@linkcode encodePacket} would throw one.
   */
  write(packet: Packet, protocolVersion: ProtocolVersion = 4): number {
    const buffer = this.#buffer;
    const offset = buffer.length;
    encodeTo(packet, protocolVersion, buffer);
    buffer.commit();
    return offset;
  }

  /**
   * Appends raw bytes, such as a packet already encoded once for many
   * subscribers. The bytes are copied.
   *
   * @param bytes The bytes.
   * @returns The offset they start at.
   * @throws {TypeError} If `bytes` is not a Uint8Array.
   */
  writeBytes(bytes: Uint8Array): number {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError("Cannot write bytes: not a Uint8Array");
    }
    const buffer = this.#buffer;
    const offset = buffer.grow(bytes.length);
    buffer.bytes.set(bytes, offset);
    buffer.commit();
    return offset;
  }

  /**
   * Overwrites two bytes already written with a big-endian integer, such as
   * the packet id of a PUBLISH appended with
   * {@linkcode PacketWriter.writeBytes}.
   *
   * @param offset Where the integer goes, from the start of the bytes not yet
   * taken.
   * @param value An integer from 0 to 65,535.
   * @throws {RangeError} If `offset` is not within the bytes written, or
   * `value` is out of range.
   */
  setUint16(offset: number, value: number): void {
    const buffer = this.#buffer;
    if (
      !Number.isInteger(offset) || offset < 0 || offset + 2 > buffer.length
    ) {
      throw new RangeError(
        `Cannot set Uint16: offset ${offset} is not within the ${buffer.length} bytes written`,
      );
    }
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new RangeError(
        `Cannot set Uint16: ${value} is not an integer from 0 to 65535`,
      );
    }
    writeU16(buffer.bytes, offset, value);
  }

  /**
   * A view of bytes already written, for reading them back (such as to copy
   * one encoded packet to other writers). The bytes stay as they are until
   * `setUint16` changes them: the writer only appends, and a buffer it has
   * grown out of or handed over with `take()` is never written again.
   *
   * @example Copy an encoded packet to a second writer
   * ```ts
   * import { PacketWriter } from "@gmqtt/broker/packets";
   * import { deepStrictEqual } from "node:assert/strict";
   *
   * const a = new PacketWriter();
   * const b = new PacketWriter();
   * const at = a.write({ type: "pingresp" });
   * b.writeBytes(a.view(at, a.length - at));
   * deepStrictEqual(b.take(), Uint8Array.of(0xd0, 0x00));
   * ```
   * @param offset Where the bytes start, from the start of the bytes not yet
   * taken.
   * @param length How many bytes.
   * @returns A view of them.
   * @throws {RangeError} If they are not all within the bytes written.
   */
  view(offset: number, length: number): Uint8Array {
    const buffer = this.#buffer;
    if (
      !Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 ||
      length < 0 || offset + length > buffer.length
    ) {
      throw new RangeError(
        `Cannot view bytes: ${offset} to ${
          offset + length
        } is not within the ${buffer.length} bytes written`,
      );
    }
    return buffer.bytes.subarray(offset, offset + length);
  }

  /**
   * Forgets the bytes written after `length`, such as a packet written and
   * then found too large for its receiver.
   *
   * @example Undo the last packet
   * ```ts
   * import { PacketWriter } from "@gmqtt/broker/packets";
   * import { strictEqual } from "node:assert/strict";
   *
   * const writer = new PacketWriter();
   * writer.write({ type: "pingreq" });
   * const at = writer.write({ type: "pingresp" });
   * writer.truncate(at);
   * strictEqual(writer.length, 2);
   * ```
   * @param length The number of bytes to keep.
   * @throws {RangeError} If `length` is more than the bytes written.
   */
  truncate(length: number): void {
    const buffer = this.#buffer;
    if (!Number.isInteger(length) || length < 0 || length > buffer.length) {
      throw new RangeError(
        `Cannot truncate to ${length} bytes: ${buffer.length} are written`,
      );
    }
    buffer.length = length;
  }

  /**
   * Gives back bytes from `take()` once they have been sent, so the writer
   * can write its next batch into their buffer instead of allocating one. The
   * caller must not use the bytes again. Ignored when the writer already has
   * a buffer, or when the buffer is larger than the writer would start with.
   *
   * @example Reuse one buffer for batch after batch
   * ```ts
   * import { PacketWriter } from "@gmqtt/broker/packets";
   * import { strictEqual } from "node:assert/strict";
   *
   * const writer = new PacketWriter();
   * writer.write({ type: "pingresp" });
   * const first = writer.take();
   * writer.recycle(first); // after it was written to the socket
   * writer.write({ type: "pingresp" });
   * strictEqual(writer.take().buffer, first.buffer);
   * ```
   * @param bytes What `take()` returned, fully sent.
   */
  recycle(bytes: Uint8Array): void {
    const buffer = this.#buffer;
    const taken = this.#taken;
    this.#taken = undefined;
    if (buffer.bytes !== NO_BUFFER || buffer.length !== 0) return;
    // The whole buffer of the last batch taken is at hand: no new view.
    const whole = taken?.buffer === bytes.buffer
      ? taken
      : new Uint8Array(bytes.buffer as ArrayBuffer);
    if (whole.length < this.#initialSize || whole.length > buffer.size) return;
    buffer.bytes = whole;
  }

  /**
   * Lets go of the buffer when nothing is written, so an idle writer holds no
   * memory; the next write allocates one again.
   *
   * @example Release an idle writer's buffer
   * ```ts
   * import { PacketWriter } from "@gmqtt/broker/packets";
   * import { strictEqual } from "node:assert/strict";
   *
   * const writer = new PacketWriter();
   * writer.write({ type: "pingresp" });
   * writer.recycle(writer.take());
   * writer.release();
   * strictEqual(writer.length, 0);
   * ```
   */
  release(): void {
    const buffer = this.#buffer;
    if (buffer.length === 0) buffer.bytes = NO_BUFFER;
  }

  /**
   * Hands over everything written as one `Uint8Array`, a view of the
   * writer's buffer, and empties the writer. The writer gives that buffer up:
   * the next write allocates a fresh one, so the bytes taken stay valid.
   *
   * @returns The bytes written since the last `take`, maybe none.
   */
  take(): Uint8Array {
    const buffer = this.#buffer;
    if (buffer.length === 0) return new Uint8Array(0);
    const bytes = buffer.bytes.subarray(0, buffer.length);
    this.#taken = buffer.bytes;
    // The next buffer fits a batch like this one, from the initial size up
    // to 64 KiB, so one large packet does not make every later batch large.
    let size = this.#initialSize;
    while (size < buffer.length && size < MAX_NEXT_SIZE) size *= 2;
    buffer.size = size;
    buffer.bytes = NO_BUFFER;
    buffer.length = 0;
    return bytes;
  }
}
