/**
 * Reassembling packets from a byte stream split at arbitrary places.
 *
 * @module
 */

import { MalformedPacketError } from "./errors.ts";
import {
  checkProtocolVersion,
  decodeFrame,
  frameLengthAt,
  MQTT_MAXIMUM_PACKET_SIZE,
} from "./_frame.ts";
import type { Packet, ProtocolVersion } from "./types.ts";

/** Options for {@linkcode PacketDecoder} and {@linkcode PacketDecoderStream}. */
export interface PacketDecoderOptions {
  /**
   * Protocol level of the connection, 4 (3.1.1) by default. A decoded CONNECT
   * switches the decoder to the CONNECT's level.
   */
  protocolVersion?: ProtocolVersion;
  /**
   * Largest packet accepted, fixed header included; 268,435,460 (the MQTT
   * limit) by default. A larger packet is refused from its fixed header,
   * before its body is buffered.
   */
  maximumPacketSize?: number;
}

/** Smallest buffer allocated for a partial packet. */
const MIN_BUFFER = 64;

/**
 * Decodes packets from chunks of a byte stream: one byte at a time, many
 * packets at once, or anything in between. Packets are decoded straight from
 * the chunk; only the incomplete tail is copied. Decoded binary fields are
 * views of the chunk (or of a buffer the decoder never writes again), so a
 * caller must not reuse a chunk while it keeps packets decoded from it.
 *
 * After a CONNECT, the following packets decode with the CONNECT's protocol
 * level, so a CONNECT and the packets after it may come in one chunk.
 *
 * Once `push()` has thrown, the decoder throws the same error again: the
 * connection should be closed. Packets that came before the bad one in the
 * same chunk are lost.
 *
 * @example Decode a stream split at odd places
 * ```ts
 * import { PacketDecoder } from "@gmqtt/broker/packets";
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 *
 * const decoder = new PacketDecoder();
 * deepStrictEqual(decoder.push(Uint8Array.of(0xc0, 0x00, 0xe0)), [
 *   { type: "pingreq" },
 * ]);
 * strictEqual(decoder.buffered, 1);
 * deepStrictEqual(decoder.push(Uint8Array.of(0x00)), [{ type: "disconnect" }]);
 * strictEqual(decoder.buffered, 0);
 * ```
 */
export class PacketDecoder {
  #protocolVersion: ProtocolVersion;
  readonly #maximumPacketSize: number;
  /** Holds the incomplete packet; never written after a packet is decoded. */
  #buffer: Uint8Array | undefined = undefined;
  #length = 0;
  #error: unknown = undefined;

  /**
   * Creates a decoder with nothing buffered.
   *
   * @param options The protocol version and the maximum packet size.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options: PacketDecoderOptions = {}) {
    this.#protocolVersion = checkProtocolVersion(options.protocolVersion ?? 4);
    const maximum = options.maximumPacketSize ?? MQTT_MAXIMUM_PACKET_SIZE;
    if (!(maximum >= 2)) {
      throw new RangeError(
        `Cannot create PacketDecoder: maximum packet size ${maximum} is below 2`,
      );
    }
    this.#maximumPacketSize = maximum;
  }

  /** Protocol level the next packets are decoded with. */
  get protocolVersion(): ProtocolVersion {
    return this.#protocolVersion;
  }

  /** @throws {RangeError} If the value is not 3, 4 or 5. */
  set protocolVersion(value: ProtocolVersion) {
    this.#protocolVersion = checkProtocolVersion(value);
  }

  /** Number of bytes held of an incomplete packet. */
  get buffered(): number {
    return this.#length;
  }

  /**
   * Takes the next chunk of the stream and returns the packets it completes.
   *
   * @param chunk The next bytes, possibly empty.
   * @returns The packets completed, in order; often none.
   * @throws {MqttError} If a packet is malformed, breaks the protocol or is
   * larger than the maximum packet size.
   */
  push(chunk: Uint8Array): Packet[] {
    if (this.#error !== undefined) throw this.#error;
    try {
      return this.#push(chunk);
    } catch (error) {
      this.#error = error;
      this.#buffer = undefined;
      this.#length = 0;
      throw error;
    }
  }

  #decode(bytes: Uint8Array, start: number, end: number): Packet {
    const packet = decodeFrame(bytes, start, end, this.#protocolVersion);
    if (packet.type === "connect") {
      this.#protocolVersion = packet.protocolVersion;
    }
    return packet;
  }

  #push(chunk: Uint8Array): Packet[] {
    const packets: Packet[] = [];
    const size = chunk.length;
    const maximum = this.#maximumPacketSize;
    let offset = 0;
    // Complete the packet held in the buffer first.
    while (this.#length > 0) {
      const total = frameLengthAt(this.#buffer!, 0, this.#length, maximum);
      if (total > 0 && this.#length === total) {
        const bytes = this.#buffer!;
        this.#buffer = undefined;
        this.#length = 0;
        packets.push(this.#decode(bytes, 0, total));
        break;
      }
      if (offset === size) return packets;
      if (total < 0) {
        // The fixed header is incomplete: take one more byte and look again.
        this.#append(chunk.subarray(offset, offset + 1), 1 + 4);
        offset++;
      } else {
        const take = Math.min(total - this.#length, size - offset);
        this.#append(chunk.subarray(offset, offset + take), total);
        offset += take;
      }
    }
    // Decode whole packets straight from the chunk.
    while (offset < size) {
      const total = frameLengthAt(chunk, offset, size, maximum);
      if (total < 0 || total > size - offset) break;
      packets.push(this.#decode(chunk, offset, offset + total));
      offset += total;
    }
    if (offset < size) {
      const total = frameLengthAt(chunk, offset, size, maximum);
      this.#append(chunk.subarray(offset), total < 0 ? 1 + 4 : total);
    }
    return packets;
  }

  /** Copies `bytes` after the buffered ones, growing the buffer up to `cap`. */
  #append(bytes: Uint8Array, cap: number): void {
    const needed = this.#length + bytes.length;
    let buffer = this.#buffer;
    if (buffer === undefined || buffer.length < needed) {
      const grown = Math.max(needed, MIN_BUFFER, (buffer?.length ?? 0) * 2);
      const next = new Uint8Array(Math.max(needed, Math.min(grown, cap)));
      if (buffer !== undefined) next.set(buffer.subarray(0, this.#length));
      this.#buffer = buffer = next;
    }
    buffer.set(bytes, this.#length);
    this.#length = needed;
  }
}

/**
 * A web `TransformStream` from bytes to packets, built on
 * {@linkcode PacketDecoder}. The stream errors with the decoder's
 * `MqttError`, or with a {@linkcode MalformedPacketError} if it ends inside a
 * packet.
 *
 * @example Decode a ReadableStream of bytes
 * ```ts
 * import { PacketDecoderStream } from "@gmqtt/broker/packets";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const bytes = ReadableStream.from([
 *   Uint8Array.of(0xc0),
 *   Uint8Array.of(0x00, 0xd0, 0x00),
 * ]);
 * const packets = await Array.fromAsync(
 *   bytes.pipeThrough(new PacketDecoderStream()),
 * );
 * deepStrictEqual(packets, [{ type: "pingreq" }, { type: "pingresp" }]);
 * ```
 */
export class PacketDecoderStream extends TransformStream<Uint8Array, Packet> {
  readonly #decoder: PacketDecoder;

  /**
   * Creates the stream and its decoder.
   *
   * @param options The protocol version and the maximum packet size.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options: PacketDecoderOptions = {}) {
    const decoder = new PacketDecoder(options);
    super({
      transform(chunk, controller) {
        for (const packet of decoder.push(chunk)) controller.enqueue(packet);
      },
      flush() {
        if (decoder.buffered > 0) {
          throw new MalformedPacketError(
            `Cannot decode packet: the stream ended ${decoder.buffered} bytes into a packet`,
          );
        }
      },
    });
    this.#decoder = decoder;
  }

  /** Protocol level the next packets are decoded with. */
  get protocolVersion(): ProtocolVersion {
    return this.#decoder.protocolVersion;
  }

  /** @throws {RangeError} If the value is not 3, 4 or 5. */
  set protocolVersion(value: ProtocolVersion) {
    this.#decoder.protocolVersion = value;
  }
}
