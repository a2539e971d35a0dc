/**
 * The byte side of one connection: reads from its transport into a buffer
 * that grows and shrinks with the traffic, frames and decodes packets in
 * place, and writes everything sent in one tick as one batch.
 *
 * @module
 */

import { PacketWriter } from "../../packets/mod.ts";
import { decodeFrame, frameLengthAt } from "../../packets/_frame.ts";
import type { FrameDecoding } from "../../packets/_publish.ts";
import { MqttError, ProtocolError } from "../../packets/errors.ts";
import type {
  Packet,
  PacketType,
  ProtocolVersion,
} from "../../packets/types.ts";
import type { Logger } from "../observe/logger.ts";
import type { Transport } from "../transport/transport.ts";

/**
 * First size of a read buffer, and the size it shrinks back to: small, since
 * a pending read keeps its buffer alive and most connections are idle most
 * of the time. It holds a typical CONNECT, a PINGREQ, a small PUBLISH.
 */
const MIN_READ_BUFFER = 128;
/**
 * The least a buffer grows to once reads fill it (or a packet does not fit),
 * so that a larger packet takes one more read, not several.
 */
const GROWN_READ_BUFFER = 1024;
/** First size of the buffer a batch of output is encoded into. */
const OUTPUT_BUFFER = 256;
/**
 * Reads of under a quarter of the buffer in a row before a buffer grown
 * past `GROWN_READ_BUFFER` shrinks to it.
 */
const SHRINK_AFTER_SMALL_READS = 16;
/** Milliseconds without a read after which a buffer shrinks to its first size. */
const QUIET_SHRINK = 1000;
/** Largest size a buffer grows to when reads keep filling it. */
const MAX_GROWN_READ_BUFFER = 65536;
/** How long closing waits for batched output to be written. */
const CLOSE_FLUSH_TIMEOUT = 1000;
/**
 * How long a channel closed by the server reads and drops what the peer
 * still sends, after its last output, before it closes.
 */
const CLOSE_LINGER = 1000;
/** A lingering channel closes once the peer has sent nothing for this long. */
const CLOSE_LINGER_IDLE = 100;
/** Bytes read into, and dropped, while a closing channel lingers. */
const DISCARD_BUFFER = 16384;

/** `Channel` flag: reading should stop. */
const STOPPED = 1;
/** `Channel` flag: the transport is closed. */
const TRANSPORT_CLOSED = 2;
/** `Channel` flag: a batch is being written. */
const WRITING = 4;
/** `Channel` flag: a flush was asked for. */
const FLUSH_SCHEDULED = 8;
/** `Channel` flag: a read ended or failed. */
const PEER_ENDED = 16;
/** `Channel` flag: a write failed. */
const WRITE_FAILED = 32;
/** `Channel` flag: the chunk being written is a lone packet's shared bytes. */
const CHUNK_SHARED = 64;

/** What `#awaitWatchingPeer` races a read against. */
const ANSWERED: unique symbol = Symbol("answered");

/** What a channel needs from its server. */
export interface ChannelContext {
  /** Options for `frameLength`, shared by every channel. */
  readonly frameOptions: { readonly maximumPacketSize: number };
  /**
   * How PUBLISHes are decoded: payloads copied out of the read buffer, and
   * topics from a table of names shared by every channel.
   */
  readonly decoding: FrameDecoding;
  /** The server clock. */
  now(): number;
  /**
   * `maxOutputBuffer`: past that many unsent bytes the channel stops reading
   * until its output has drained below half of it.
   */
  readonly options: { readonly maxOutputBuffer: number };
  /** Counts a packet read. */
  countPacketIn(type: PacketType, bytes: number): void;
  /** Counts a packet written. */
  countPacketOut(type: PacketType, bytes: number): void;
  /**
   * The bytes of a packet a channel sends alone, if it is one the server
   * shares (CONNACK, PINGRESP): the same array for the same bytes, never
   * written into. Undefined for other packets.
   */
  soloBytes(packet: Packet, version: ProtocolVersion): Uint8Array | undefined;
  /** Calls `channel.flush()` once the current task's work is done. */
  flushSoon(channel: Channel): void;
  /** Calls `channel.flush()` in a later task, after the tasks queued now. */
  flushLater(channel: Channel): void;
  /** Where errors that nobody else can take are logged. */
  readonly logger: Logger;
}

/** What handles the packets a channel reads. */
export interface PacketHandler {
  /** Whether only a CONNECT may come next. */
  readonly expectsConnect: boolean;
  /**
   * Handles one packet; a promise pauses reading until it settles. A
   * PUBLISH's payload is the handler's own; other binary fields view the
   * read buffer, which is reused once the call returns.
   */
  handlePacket(packet: Packet): Promise<void> | undefined;
  /** Learns that a write failed: the connection is gone. */
  writeFailed(error: Error): void;
  /**
   * Learns that reading has ended, and why (see `Channel.readPackets`);
   * called once, unless `readFailed` is.
   */
  readEnded(error: Error | undefined): void;
  /**
   * Learns that handling a packet threw something other than an
   * `MqttError` (a bug of the server's): reading has ended.
   */
  readFailed(error: unknown): void;
}

/** Reads packets from a transport and writes batches to it. */
export class Channel {
  readonly transport: Transport;
  /** Protocol level packets are decoded and encoded with. */
  version: ProtocolVersion = 4;
  /** When anything was last read, in server milliseconds. */
  lastActivity: number;
  #bytesIn = 0;
  #bytesOut = 0;
  #packetsIn = 0;
  #packetsOut = 0;
  /** Packets counted in `#packetsOut` when the last write ended. */
  #packetsTaken = 0;
  readonly #context: ChannelContext;
  #readBuffer = new Uint8Array(MIN_READ_BUFFER);
  #smallReads = 0;
  /** Bytes of the packet being received, as its fixed header announced. */
  #needed = 0;
  #start = 0;
  #end = 0;
  /**
   * `STOPPED`, `TRANSPORT_CLOSED`, `WRITING`, `FLUSH_SCHEDULED`,
   * `PEER_ENDED` and `WRITE_FAILED`, as bits: one field, not six.
   */
  #flags = 0;
  /**
   * Output batched since the last write began; made on first use, and let
   * go of by `trim()` while nothing is batched.
   */
  #out: PacketWriter | undefined;
  /**
   * A lone packet batched without a writer: bytes shared with other
   * connections (see `ChannelContext.soloBytes`), never written into.
   */
  #solo: Uint8Array | undefined;
  /** The bytes being written, until all are. */
  #chunk: Uint8Array | undefined;
  /** Bytes of `#chunk` written so far. */
  #written = 0;
  /**
   * Takes the outcome of each write; made on the first, let go of by
   * `trim()` between writes.
   */
  #afterWrite: ((result: number | Error) => void) | undefined;
  #flushed: (() => void)[] | undefined;
  /** Who reads, told when a write fails. */
  #handler: PacketHandler | undefined;
  /** A read begun while a CONNECT waited, for the read loop to take. */
  #lateRead: Promise<number | null> | undefined;
  /** Who waits for the output to drain below half of `maxOutputBuffer`. */
  #drainWaiters: (() => void)[] | undefined;
  /** The read loop's wait that `stop()` ends (see `#unlessStopped`). */
  #stopWaiter: (() => void) | undefined;
  /** The read on the transport now, whoever started it. */
  #inflight: Promise<number | null> | undefined;

  constructor(transport: Transport, context: ChannelContext) {
    this.transport = transport;
    this.#context = context;
    this.lastActivity = context.now();
  }

  /** Set once reading should stop. */
  get #stopped(): boolean {
    return (this.#flags & STOPPED) !== 0;
  }

  /** Set once the transport is closed: nothing more is written. */
  get #transportClosed(): boolean {
    return (this.#flags & TRANSPORT_CLOSED) !== 0;
  }

  /** Set while a batch is being written. */
  get #writing(): boolean {
    return (this.#flags & WRITING) !== 0;
  }

  /** Set once a flush was asked for and has not begun. */
  get #flushScheduled(): boolean {
    return (this.#flags & FLUSH_SCHEDULED) !== 0;
  }

  /** Set once a read ended (null) or failed: nothing more will come. */
  get #peerEnded(): boolean {
    return (this.#flags & PEER_ENDED) !== 0;
  }

  /** Set once a write failed: the peer cannot read any more. */
  get #writeFailed(): boolean {
    return (this.#flags & WRITE_FAILED) !== 0;
  }

  /** Bytes read. */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** Bytes written. */
  get bytesOut(): number {
    return this.#bytesOut;
  }

  /** Packets read. */
  get packetsIn(): number {
    return this.#packetsIn;
  }

  /** Packets written. */
  get packetsOut(): number {
    return this.#packetsOut;
  }

  /** Bytes batched or being written, not yet taken by the OS. */
  get outputBytes(): number {
    return (this.#out?.length ?? 0) + (this.#solo?.length ?? 0) +
      (this.#chunk?.length ?? 0);
  }

  /** The batch packets are encoded into; call `sent()` after writing one. */
  get output(): PacketWriter {
    let out = this.#out;
    if (out === undefined) {
      out = this.#out = new PacketWriter({ initialSize: OUTPUT_BUFFER });
      // A lone packet batched so far goes first.
      if (this.#solo !== undefined) out.writeBytes(this.#solo);
      this.#solo = undefined;
    }
    return out;
  }

  /**
   * Reads and handles packets until the transport ends, `stop()` is called,
   * or the peer breaks the protocol, then tells the handler why with
   * `readEnded`: an `MqttError` for a breach, another error for a failed
   * read, "Connection lost" for an end the peer did not announce, undefined
   * after `stop()`. A handler that throws anything but an `MqttError` ends
   * the reading too, told with `readFailed`.
   *
   * @param handler Takes each packet; reading waits while it works.
   */
  readPackets(handler: PacketHandler): void {
    this.#handler = handler;
    // Nothing is chained on the loop's promise: an idle connection holds its
    // pending read and this loop's frame, no more.
    // deno-lint-ignore gmqtt/no-dropped-promise -- it catches everything and tells the handler
    void this.#readLoop(handler);
  }

  /** The read loop: one suspended async function per connection. */
  async #readLoop(handler: PacketHandler): Promise<void> {
    let ended: Error | undefined;
    try {
      reading: while (!this.#stopped) {
        let read = this.#lateRead;
        this.#lateRead = undefined;
        if (read === undefined) {
          if (this.#end === this.#readBuffer.length) {
            // Grow with the bytes that arrive, never by what a header
            // announces, so a peer cannot reserve memory it has not sent.
            this.#makeRoom(Math.min(this.#needed, this.#grownSize()));
          }
          // Read into the whole buffer when it is empty (an idle connection
          // keeps no view object alive while it waits).
          read = this.#read(
            this.#end === 0
              ? this.#readBuffer
              : this.#readBuffer.subarray(this.#end),
          );
        }
        let n: number | null;
        try {
          n = await read;
        } catch (e) {
          this.#readSettled(read, null);
          if (!this.#stopped) {
            ended = e instanceof Error ? e : new Error(String(e));
          }
          break;
        }
        this.#readSettled(read, n);
        if (n === null) {
          if (!this.#stopped) ended = new Error("Connection lost");
          break;
        }
        if (this.#stopped) break;
        this.#end += n;
        this.#bytesIn += n;
        const now = this.#context.now();
        const quiet = now - this.lastActivity;
        this.lastActivity = now;
        const filled = this.#end === this.#readBuffer.length;
        for (let wait = this.#handleInput(handler); wait !== undefined;) {
          const gone = await wait;
          if (gone !== undefined) {
            ended = gone;
            break reading;
          }
          wait = this.#handleInput(handler);
        }
        this.#afterRead(n, filled, quiet);
      }
    } catch (e) {
      if (!(e instanceof MqttError)) {
        this.#tellHandler(handler, undefined, e);
        return;
      }
      ended = e;
    }
    this.#tellHandler(handler, ended, undefined);
  }

  /** Tells the handler that reading ended; what it throws is logged. */
  #tellHandler(
    handler: PacketHandler,
    ended: Error | undefined,
    failure: unknown,
  ): void {
    try {
      if (failure === undefined) handler.readEnded(ended);
      else handler.readFailed(failure);
    } catch (e) {
      this.#internalError(e);
    }
  }

  /**
   * Decodes and handles the whole packets read so far. Returns undefined
   * once it needs more bytes, or what to wait for first: it resolves an
   * error if the connection has gone, undefined to handle the rest.
   */
  #handleInput(
    handler: PacketHandler,
  ): Promise<Error | undefined | void> | undefined {
    const context = this.#context;
    while (!this.#stopped) {
      const available = this.#end - this.#start;
      if (available < 1) break;
      if (handler.expectsConnect && this.#readBuffer[this.#start] !== 0x10) {
        // [MQTT-3.1.0-1] Refuse at once what cannot be a CONNECT.
        throw new ProtocolError(
          "Cannot accept a packet before CONNECT: CONNECT must come first",
        );
      }
      if (available < 2) break;
      // Framed and decoded where it lies: no view per packet.
      const buffer = this.#readBuffer;
      const start = this.#start;
      const length = frameLengthAt(
        buffer,
        start,
        this.#end,
        context.frameOptions.maximumPacketSize,
      );
      if (length < 0) break;
      if (length > available) {
        this.#needed = length;
        break;
      }
      this.#needed = 0;
      if (this.outputBytes > context.options.maxOutputBuffer) {
        // Backpressure: every reply (PINGRESP, PUBCOMP...) adds output; a
        // peer that sends and never reads gets no more read from it until
        // what it was sent has drained.
        return this.outputDrained();
      }
      // A PUBLISH's payload is copied out of the buffer as it is decoded.
      const packet = decodeFrame(
        buffer,
        start,
        start + length,
        this.version,
        context.decoding,
      );
      this.#start = start + length;
      this.#packetsIn++;
      context.countPacketIn(packet.type, length);
      const pending = handler.handlePacket(packet);
      if (pending === undefined) continue;
      // A publisher paused for a full subscriber queue (queueFull
      // "backpressure") or a slow hook: stop() ends the wait, and the time
      // it took is not the peer's silence. A CONNECT waits for its hooks (a
      // password check may wait its turn): a peer that leaves meanwhile
      // ends the wait.
      return handler.expectsConnect
        ? this.#awaitWatchingPeer(pending)
        : this.#unlessStopped(pending);
    }
    return undefined;
  }

  /**
   * After the input of a read was handled: leaves the buffer alone while a
   * read started during a CONNECT is in flight into it; else shrinks a
   * buffer back to its first size once the connection was quiet (nothing
   * read for `QUIET_SHRINK` ms), so an idle connection holds little memory;
   * shrinks a buffer grown past `GROWN_READ_BUFFER` once reads have been
   * small for a while; or grows one that reads fill. A busy connection
   * keeps at least `GROWN_READ_BUFFER`: between 128 B and 1 KB, a
   * connection whose reads alternate small and full would change buffers
   * and read twice for what one read takes.
   *
   * @param quiet Milliseconds between this read and the one before.
   */
  #afterRead(n: number, filled: boolean, quiet: number): void {
    if (this.#lateRead !== undefined || this.#stopped) return;
    const length = this.#readBuffer.length;
    this.#smallReads = n * 4 < length ? this.#smallReads + 1 : 0;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (filled && length < MAX_GROWN_READ_BUFFER) {
        // Filled with whole packets (a run of 4-byte acknowledgements fills
        // 128 B exactly): nothing to keep, a larger buffer for the next.
        this.#readBuffer = new Uint8Array(this.#grownSize());
        this.#smallReads = 0;
      } else if (quiet >= QUIET_SHRINK && length > MIN_READ_BUFFER) {
        this.#readBuffer = new Uint8Array(MIN_READ_BUFFER);
        this.#smallReads = 0;
      } else if (
        this.#smallReads >= SHRINK_AFTER_SMALL_READS &&
        length > GROWN_READ_BUFFER
      ) {
        this.#readBuffer = new Uint8Array(GROWN_READ_BUFFER);
        this.#smallReads = 0;
      }
    } else if (filled && this.#readBuffer.length < MAX_GROWN_READ_BUFFER) {
      this.#makeRoom(this.#grownSize());
    }
  }

  /**
   * Resolves when `pending` settles (rejecting as it does) or the channel
   * stops, whichever comes first; the wait is not the peer's silence.
   */
  #unlessStopped(pending: Promise<void>): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    // Only the read loop waits here, one wait at a time; a race with a
    // shared "stopped" promise would pile up reactions on it.
    return new Promise<void>((resolve, reject) => {
      this.#stopWaiter = resolve;
      pending.then(
        () => {
          if (this.#stopWaiter === resolve) this.#stopWaiter = undefined;
          this.lastActivity = this.#context.now();
          resolve();
        },
        (error: unknown) => {
          if (this.#stopWaiter === resolve) this.#stopWaiter = undefined;
          reject(error);
        },
      );
    });
  }

  /**
   * Waits for a CONNECT's hooks while reading on into the free end of the
   * buffer (never growing it, never moving bytes the CONNECT still views),
   * so that a peer that closes is seen at once. Resolves an error when the
   * peer has gone, undefined when the hooks answered first; a read still
   * in flight then is taken by the next turn of the read loop.
   */
  async #awaitWatchingPeer(
    pending: Promise<void>,
  ): Promise<Error | undefined> {
    const answered = pending.then((): typeof ANSWERED => ANSWERED);
    while (!this.#stopped && this.#end < this.#readBuffer.length) {
      const read = this.#read(this.#readBuffer.subarray(this.#end));
      const outcome = read.then(
        (n) => {
          this.#readSettled(read, n);
          return { n };
        },
        (error: unknown) => {
          this.#readSettled(read, null);
          return { error };
        },
      );
      let first: typeof ANSWERED | { n: number | null } | { error: unknown };
      try {
        first = await Promise.race([answered, outcome]);
      } catch (e) {
        // The hooks failed: the read loop takes the read, the caller the
        // failure.
        this.#lateRead = read;
        throw e;
      }
      if (first === ANSWERED) {
        this.#lateRead = read;
        return undefined;
      }
      if ("error" in first || first.n === null) {
        // The peer has gone: the hooks' answer no longer matters.
        answered.catch(() => {});
        if (this.#stopped) return undefined;
        const e = "error" in first ? first.error : undefined;
        return e instanceof Error ? e : new Error("Connection lost");
      }
      this.#end += first.n;
      this.#bytesIn += first.n;
      this.lastActivity = this.#context.now();
    }
    await pending;
    return undefined;
  }

  /** Reads from the transport, remembering the read while it is pending. */
  #read(buffer: Uint8Array): Promise<number | null> {
    const read = this.transport.read(buffer);
    this.#inflight = read;
    return read;
  }

  /**
   * Notes the outcome of a read (`null` for an end or a failure); whoever
   * awaits a read calls it, so that no reaction is kept per pending read.
   */
  #readSettled(read: Promise<number | null>, n: number | null): void {
    if (this.#inflight === read) this.#inflight = undefined;
    if (n === null) this.#flags |= PEER_ENDED;
  }

  /** The next size of a read buffer that reads fill. */
  #grownSize(): number {
    return Math.max(this.#readBuffer.length * 2, GROWN_READ_BUFFER);
  }

  /**
   * Makes the read buffer hold at least `size` bytes from the start of the
   * unparsed tail, and leaves room to read. The tail moves to the front;
   * no packet still in use views the buffer (payloads are copied on routing).
   */
  #makeRoom(size: number): void {
    const tail = this.#end - this.#start;
    const want = Math.max(size, tail + 1);
    if (want > this.#readBuffer.length) {
      let grown = this.#readBuffer.length;
      while (grown < want) grown *= 2;
      const next = new Uint8Array(grown);
      next.set(this.#readBuffer.subarray(this.#start, this.#end));
      this.#readBuffer = next;
    } else {
      this.#readBuffer.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = tail;
  }

  /** Encodes a packet into the batch. */
  send(packet: Packet): void {
    if (this.#transportClosed) return;
    if (
      this.#out === undefined && this.#solo === undefined && !this.#writing &&
      this.transport.reusesWrittenBytes
    ) {
      // Alone so far (a CONNACK, a PINGRESP): shared bytes, no buffer.
      const bytes = this.#context.soloBytes(packet, this.version);
      if (bytes !== undefined) {
        this.#solo = bytes;
        this.#context.countPacketOut(packet.type, bytes.length);
        this.sent();
        return;
      }
    }
    const out = this.output;
    const before = out.length;
    out.write(packet, this.version);
    this.#context.countPacketOut(packet.type, out.length - before);
    this.sent();
  }

  /** Counts a packet written into `output` and has the batch written soon. */
  sent(): void {
    this.#packetsOut++;
    if (this.#flushScheduled || this.#writing) return;
    this.#flags |= FLUSH_SCHEDULED;
    if (this.transport.flush === "microtask") {
      this.#context.flushSoon(this);
    } else {
      this.#context.flushLater(this);
    }
  }

  /**
   * Starts writing what was batched, one write at a time until none is
   * left; the server calls it once per tick. Each write's outcome is taken
   * by one reaction (`#afterWrite`) rather than an async function that
   * waits: less garbage per write on the hot path.
   */
  flush(): void {
    this.#flags &= ~FLUSH_SCHEDULED;
    if (this.#writing) return;
    this.#flags |= WRITING;
    this.#writeNext();
  }

  /** Logs what a handler threw where nobody else can take it. */
  #internalError(error: unknown): void {
    this.#context.logger.error("internal error", {
      remote: this.transport.info.remoteAddress,
      error: error instanceof Error ? error.stack ?? error.message : error,
    });
  }

  /** Writes the next chunk (a lone packet's shared bytes, or the batch). */
  #writeNext(): void {
    let chunk = this.#solo;
    const out = this.#out;
    if (chunk !== undefined) {
      this.#solo = undefined;
      this.#flags |= CHUNK_SHARED;
    } else if (out !== undefined && out.length > 0) {
      chunk = out.take();
      this.#flags &= ~CHUNK_SHARED;
    } else {
      this.#flags &= ~WRITING;
      this.#notifyFlushed();
      return;
    }
    this.#chunk = chunk;
    this.#written = 0;
    this.#writeChunk(chunk);
  }

  /** Writes what is left of `chunk`. */
  #writeChunk(chunk: Uint8Array): void {
    const written = this.#written;
    let pending: Promise<number>;
    try {
      pending = this.transport.write(
        written === 0 ? chunk : chunk.subarray(written),
      );
    } catch (e) {
      this.#endWrites(e);
      return;
    }
    const after = this.#afterWrite ??= (result: number | Error) =>
      this.#wrote(result);
    pending.then(after, after);
  }

  /** Takes the outcome of a write: bytes written, or why it failed. */
  #wrote(result: number | Error): void {
    const chunk = this.#chunk;
    if (typeof result !== "number" || chunk === undefined) {
      this.#endWrites(result);
      return;
    }
    try {
      this.#written += result;
      if (this.#written < chunk.length) {
        this.#writeChunk(chunk);
        return;
      }
      this.#chunk = undefined;
      this.#bytesOut += chunk.length;
      const logger = this.#context.logger;
      if (logger.isEnabledFor("debug")) {
        // The packets logged "packet queued" since the last such line.
        logger.debug("packets written", {
          remote: this.transport.info.remoteAddress,
          packets: this.#packetsOut - this.#packetsTaken,
          bytes: chunk.length,
        });
      }
      this.#packetsTaken = this.#packetsOut;
      if (this.#drainWaiters !== undefined) this.#drainProgress();
      // Sent: the next batch may go into the same buffer (never the shared
      // bytes of a lone packet).
      if (
        (this.#flags & CHUNK_SHARED) === 0 && this.transport.reusesWrittenBytes
      ) {
        this.#out?.recycle(chunk);
      }
      this.#writeNext();
    } catch (e) {
      this.#endWrites(e);
    }
  }

  /** Ends the write loop after a failed write: nothing more is written. */
  #endWrites(error: unknown): void {
    this.#flags |= WRITE_FAILED;
    this.#solo = undefined;
    this.#out?.take();
    this.#chunk = undefined;
    this.#flags &= ~WRITING;
    this.#notifyFlushed();
    this.#wakeDrainWaiters();
    if (!this.#transportClosed) {
      try {
        this.#handler?.writeFailed(
          error instanceof Error ? error : new Error(String(error)),
        );
      } catch (failure) {
        this.#internalError(failure);
      }
    }
  }

  /**
   * Resolves once the unsent output is at most half of `maxOutputBuffer`, or
   * the channel stops. While something waits for it, each completed write
   * counts as activity for keep-alive: reading is paused by the server, not
   * by the peer, and a peer that takes its output is alive. A peer that
   * takes nothing makes no progress and is closed at its keep-alive.
   */
  outputDrained(): Promise<void> {
    if (
      this.#stopped ||
      this.outputBytes <= this.#context.options.maxOutputBuffer / 2
    ) {
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  #drainProgress(): void {
    this.lastActivity = this.#context.now();
    if (this.outputBytes <= this.#context.options.maxOutputBuffer / 2) {
      this.#wakeDrainWaiters();
    }
  }

  #wakeDrainWaiters(): void {
    const waiting = this.#drainWaiters;
    if (waiting === undefined) return;
    this.#drainWaiters = undefined;
    for (const resolve of waiting) resolve();
  }

  #notifyFlushed(): void {
    const waiting = this.#flushed;
    if (waiting === undefined) return;
    this.#flushed = undefined;
    for (const resolve of waiting) resolve();
  }

  /** Resolves when all output so far was written (or failed). */
  #drained(): Promise<void> {
    if (!this.#writing && this.outputBytes === 0) return Promise.resolve();
    return new Promise((resolve) => {
      (this.#flushed ??= []).push(resolve);
      if (!this.#writing && !this.#flushScheduled) this.flush();
    });
  }

  /**
   * Lets go of the output buffer kept for reuse when nothing is batched or
   * being written; the server does it now and then, so that idle
   * connections hold no output memory.
   */
  trim(): void {
    if (this.#writing) return;
    if (this.#out?.length === 0) this.#out = undefined;
    this.#afterWrite = undefined;
  }

  /** Stops reading; what is batched still goes out on `close()`. */
  stop(): void {
    this.#flags |= STOPPED;
    this.#wakeDrainWaiters();
    this.#wakeStopWaiters();
  }

  #wakeStopWaiters(): void {
    const resolve = this.#stopWaiter;
    this.#stopWaiter = undefined;
    resolve?.();
  }

  /**
   * Stops reading, writes what is batched (for up to a second), then closes
   * the transport.
   *
   * With `linger`, a peer that has not ended its side gets time to read
   * what it was sent (a DISCONNECT saying why) rather than a reset: the
   * write side is closed first where the transport can (`closeWrite`), and
   * what the peer still sends is read and dropped until it closes or has
   * sent nothing for 100 ms, for a second at most.
   */
  async close(options: { linger?: boolean } = {}): Promise<void> {
    this.#flags |= STOPPED;
    this.#wakeDrainWaiters();
    this.#wakeStopWaiters();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flushed = await Promise.race([
      this.#drained().then(() => true),
      new Promise<false>((resolve) =>
        timer = setTimeout(() => resolve(false), CLOSE_FLUSH_TIMEOUT)
      ),
    ]);
    clearTimeout(timer);
    this.#flags |= TRANSPORT_CLOSED;
    const transport = this.transport;
    if (
      flushed && options.linger && !this.#peerEnded && !this.#writeFailed &&
      transport.closeWrite !== undefined
    ) {
      try {
        await transport.closeWrite();
        await this.#discardInput();
      } catch {
        // The peer has gone: nothing to wait for.
      }
    }
    try {
      transport.close();
    } catch {
      // Already closed by the peer.
    }
  }

  /**
   * Reads and drops input until the peer ends, is silent for
   * `CLOSE_LINGER_IDLE` or `CLOSE_LINGER` has passed.
   */
  async #discardInput(): Promise<void> {
    let stop: (value: null) => void = () => {};
    const stopped = new Promise<null>((resolve) => stop = resolve);
    let heard = false;
    const idle = setInterval(() => {
      if (!heard) stop(null);
      heard = false;
    }, CLOSE_LINGER_IDLE);
    const limit = setTimeout(() => stop(null), CLOSE_LINGER);
    let scratch: Uint8Array | undefined;
    try {
      while (!this.#peerEnded) {
        const read = this.#inflight ??
          this.#read(scratch ??= new Uint8Array(DISCARD_BUFFER));
        const settled = read.then((n) => {
          this.#readSettled(read, n);
          return n;
        }, () => {
          this.#readSettled(read, null);
          return null;
        });
        const n = await Promise.race([settled, stopped]);
        if (n === null) return;
        heard = true;
      }
    } finally {
      clearInterval(idle);
      clearTimeout(limit);
    }
  }
}
