/**
 * A pair of byte web streams as a broker transport, for `Server.handle`.
 *
 * @module
 */

import type { ConnectionInfo } from "../types.ts";
import type { Transport } from "./transport.ts";

/** A duplex byte stream, such as a `Deno.Conn` or one side of a pipe. */
export interface Duplex {
  /** Bytes from the client. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the client. */
  readonly writable: WritableStream<Uint8Array>;
}

/** Reads and writes a {@linkcode Duplex}. */
export class StreamTransport implements Transport {
  readonly info: ConnectionInfo;
  readonly flush = "microtask" as const;
  readonly reusesWrittenBytes = false;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #rest: Uint8Array | undefined;
  #closed = false;

  constructor(duplex: Duplex, info: ConnectionInfo) {
    this.info = info;
    this.#reader = duplex.readable.getReader();
    this.#writer = duplex.writable.getWriter();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    let chunk = this.#rest;
    this.#rest = undefined;
    while (chunk === undefined || chunk.length === 0) {
      const { value, done } = await this.#reader.read();
      if (done) return null;
      chunk = value;
    }
    if (chunk.length <= buffer.length) {
      buffer.set(chunk);
      return chunk.length;
    }
    buffer.set(chunk.subarray(0, buffer.length));
    this.#rest = chunk.subarray(buffer.length);
    return buffer.length;
  }

  async write(bytes: Uint8Array): Promise<number> {
    await this.#writer.write(bytes);
    return bytes.length;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.cancel().catch(() => {});
    this.#writer.close().catch(() => {});
  }
}
