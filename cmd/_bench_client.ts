/**
 * The MQTT client of `cmd/bench.ts`, built on the packet codec: TCP, TLS or
 * WebSocket, output coalesced into one write per flush (per microtask, or
 * per macrotask on WebSocket) so that the load generator measures the broker
 * and not its own write calls.
 *
 * @module
 */

import {
  encodePacket,
  type Packet,
  PacketDecoder,
  type ProtocolVersion,
  type PublishPacket,
  type QoS,
  type SubackPacket,
} from "../packets/mod.ts";
import {
  HIGH_WATER,
  type Link,
  type LinkOptions,
  openLink,
} from "./_bench_link.ts";

export type { LinkOptions } from "./_bench_link.ts";

/** What a client sends in its CONNECT. */
export interface ClientOptions {
  readonly clientId: string;
  readonly protocolVersion: ProtocolVersion;
  readonly username?: string;
  readonly password?: string;
  /**
   * Session Expiry Interval in seconds (MQTT 5.0): a persistent session
   * that starts clean and ends at `disconnect()`; none by default.
   */
  readonly sessionExpiry?: number;
  /** Milliseconds allowed for the connection and the CONNACK. */
  readonly timeout: number;
}

/**
 * A PUBLISH encoded once by the codec, copied for every message with its
 * packet id and the first bytes of its payload patched in place.
 */
export class PublishTemplate {
  /** The encoded PUBLISH. */
  readonly bytes: Uint8Array;
  /** Where the payload starts in `bytes`. */
  readonly payloadOffset: number;
  /** Where the packet id is in `bytes`, or -1 at QoS 0. */
  readonly packetIdOffset: number;

  constructor(
    topic: string,
    size: number,
    qos: QoS,
    protocolVersion: ProtocolVersion,
    retain = false,
  ) {
    const packet: PublishPacket = {
      type: "publish",
      topic,
      payload: new Uint8Array(size),
      qos,
      retain,
      dup: false,
      ...(qos > 0 ? { packetId: 1 } : {}),
    };
    this.bytes = encodePacket(packet, protocolVersion);
    this.payloadOffset = this.bytes.length - size;
    // A 5.0 PUBLISH has a property length (0, one byte) after its packet id.
    this.packetIdOffset = qos === 0
      ? -1
      : this.payloadOffset - 2 - (protocolVersion === 5 ? 1 : 0);
  }
}

/** A CONNACK or SUBACK refusal, or a connection that ended. */
export class BenchClientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BenchClientError";
  }
}

/**
 * One MQTT connection of the load generator. Incoming QoS 1 and 2 PUBLISH
 * are acknowledged at once; acknowledgements of its own PUBLISH are reported
 * to `onAcked`.
 */
export class BenchClient {
  /** Whether its session outlives the connection (ended at disconnect). */
  #persistent = false;
  readonly #link: Link;
  readonly #decoder: PacketDecoder;
  readonly #version: ProtocolVersion;
  #buf = new Uint8Array(4096);
  #spare = new Uint8Array(4096);
  #len = 0;
  #inFlight = 0;
  #writing = false;
  #flushScheduled = false;
  #drainWaiters: (() => void)[] = [];
  #waiters = new Map<
    string,
    { resolve: (packet: Packet) => void; reject: (error: Error) => void }
  >();
  #closed = false;
  #nextId = 0;
  /** Takes the SUBACKs while {@linkcode subscribeMany} runs. */
  #subacked: ((packet: SubackPacket) => void) | undefined;
  /** Wakes {@linkcode subscribeMany} when the connection ends. */
  #wakeSubscriber: (() => void) | undefined;
  /** Why the connection ended, once it has. */
  error: Error | undefined;
  /** Called with each PUBLISH received (after its acknowledgement is queued). */
  onPublish: (packet: PublishPacket) => void = () => {};
  /** Called when a QoS 1 PUBLISH is acked, or a QoS 2 one completed. */
  onAcked: () => void = () => {};
  /** Called once when the connection ends for any reason. */
  onClose: () => void = () => {};

  private constructor(link: Link, version: ProtocolVersion) {
    this.#link = link;
    this.#version = version;
    this.#decoder = new PacketDecoder({ protocolVersion: version });
    link.start((bytes) => this.#receive(bytes), (e) => this.#end(e));
  }

  /**
   * Opens a connection, sends CONNECT (clean session, no keep-alive) and
   * waits for the CONNACK.
   *
   * @throws {BenchClientError} If it is refused or times out.
   */
  static async connect(
    link: LinkOptions,
    options: ClientOptions,
  ): Promise<BenchClient> {
    const opening = openLink(link);
    let opened: Link;
    try {
      opened = await withTimeout(
        opening,
        options.timeout,
        `Cannot connect: no connection within ${options.timeout} ms`,
      );
    } catch (error) {
      opening.then((late) => late.close(), () => {});
      throw error;
    }
    const client = new BenchClient(opened, options.protocolVersion);
    client.#persistent = options.sessionExpiry !== undefined;
    const version = options.protocolVersion;
    const connack = client.#expect("connack", options.timeout);
    client.send({
      type: "connect",
      protocolName: version === 3 ? "MQIsdp" : "MQTT",
      protocolVersion: version,
      clean: true,
      keepAlive: 0,
      clientId: options.clientId,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined
        ? { password: new TextEncoder().encode(options.password) }
        : {}),
      ...(version === 5
        ? {
          properties: {
            receiveMaximum: 65535,
            ...(options.sessionExpiry !== undefined
              ? { sessionExpiryInterval: options.sessionExpiry }
              : {}),
          },
        }
        : {}),
    });
    try {
      const packet = await connack;
      if (packet.type === "connack" && packet.reasonCode !== 0) {
        throw new BenchClientError(
          `Cannot connect: CONNACK refused with code 0x${
            packet.reasonCode.toString(16).padStart(2, "0")
          }`,
        );
      }
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /**
   * Subscribes to one filter and waits for the SUBACK.
   *
   * @throws {BenchClientError} If it is refused or times out.
   */
  async subscribe(
    topicFilter: string,
    qos: QoS,
    timeout: number,
  ): Promise<void> {
    const suback = this.#expect("suback", timeout);
    this.send({
      type: "subscribe",
      packetId: this.nextPacketId(),
      subscriptions: [{ topicFilter, qos }],
    });
    const packet = await suback;
    if (packet.type === "suback" && (packet.reasonCodes[0] ?? 0x80) >= 0x80) {
      throw new BenchClientError(
        `Cannot subscribe to ${topicFilter}: SUBACK refused with code 0x${
          (packet.reasonCodes[0] ?? 0x80).toString(16)
        }`,
      );
    }
  }

  /**
   * Subscribes to each filter with a SUBSCRIBE of its own, at most `window`
   * of them waiting for their SUBACK at once, and waits for the last SUBACK.
   *
   * @throws {BenchClientError} If one is refused, the connection ends, or
   * no SUBACK comes for `timeout` ms.
   */
  async subscribeMany(
    filters: readonly string[],
    qos: QoS,
    timeout: number,
    window: number,
  ): Promise<void> {
    let sent = 0;
    let acked = 0;
    let refused: string | undefined;
    let wake: (() => void) | undefined;
    this.#subacked = (packet) => {
      const code = packet.reasonCodes[0] ?? 0x80;
      if (code >= 0x80 && refused === undefined) {
        refused = `Cannot subscribe: SUBACK refused with code 0x${
          code.toString(16)
        }`;
      }
      acked++;
      wake?.();
    };
    this.#wakeSubscriber = () => wake?.();
    try {
      while (acked < filters.length && refused === undefined) {
        while (sent < filters.length && sent - acked < window) {
          this.send({
            type: "subscribe",
            packetId: this.nextPacketId(),
            subscriptions: [{ topicFilter: filters[sent++]!, qos }],
          });
        }
        if (this.#closed) {
          throw this.error ?? new BenchClientError("Connection closed");
        }
        await withTimeout(
          new Promise<void>((resolve) => wake = resolve),
          timeout,
          `Cannot subscribe: no SUBACK within ${timeout} ms`,
        );
        wake = undefined;
      }
    } finally {
      this.#subacked = undefined;
      this.#wakeSubscriber = undefined;
    }
    if (refused !== undefined) throw new BenchClientError(refused);
  }

  /**
   * Sends PINGREQ and waits for the PINGRESP: the broker has handled every
   * packet sent before it.
   *
   * @throws {BenchClientError} If it times out or the connection ends.
   */
  async ping(timeout: number): Promise<void> {
    const pingresp = this.#expect("pingresp", timeout);
    this.send({ type: "pingreq" });
    await pingresp;
  }

  /** A packet id, 1 to 65,535 in turn. */
  nextPacketId(): number {
    this.#nextId = this.#nextId === 65535 ? 1 : this.#nextId + 1;
    return this.#nextId;
  }

  /** Queues one packet; it is written with the rest of this flush. */
  send(packet: Packet): void {
    this.#append(encodePacket(packet, this.#version));
  }

  /**
   * Queues a copy of a PUBLISH template with a packet id and a stamp, and
   * returns the payload of the copy for the caller to stamp.
   */
  sendPublish(
    template: PublishTemplate,
    stamp: (view: DataView) => void,
  ): void {
    const bytes = template.bytes;
    const start = this.#reserve(bytes.length);
    const buf = this.#buf;
    buf.set(bytes, start);
    if (template.packetIdOffset >= 0) {
      const id = this.nextPacketId();
      buf[start + template.packetIdOffset] = id >>> 8;
      buf[start + template.packetIdOffset + 1] = id & 0xff;
    }
    stamp(new DataView(buf.buffer, start + template.payloadOffset, 16));
    this.#len += bytes.length;
    this.#schedule();
  }

  /** Bytes queued or being written. */
  get pendingBytes(): number {
    return this.#len + this.#inFlight;
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once less than 64 KiB is waiting to be written. */
  drained(): Promise<void> {
    if (this.pendingBytes < HIGH_WATER || this.#closed) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Sends DISCONNECT, waits (up to `timeout` ms) for the output, closes. */
  async disconnect(timeout: number): Promise<void> {
    if (this.#closed) return;
    // A persistent session ends with the run: nothing is left subscribed.
    this.send(
      this.#persistent
        ? { type: "disconnect", properties: { sessionExpiryInterval: 0 } }
        : { type: "disconnect" },
    );
    const deadline = Date.now() + timeout;
    while (this.pendingBytes > 0 && !this.#closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    this.close();
  }

  /** Closes the connection at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.close();
    this.#wakeDrain();
    this.#wakeSubscriber?.();
    this.onClose();
  }

  #end(error?: unknown): void {
    if (this.#closed) return;
    this.error = error instanceof Error
      ? error
      : new BenchClientError("Connection closed by the broker");
    for (const waiter of this.#waiters.values()) waiter.reject(this.error);
    this.#waiters.clear();
    this.close();
  }

  #expect(
    type: "connack" | "suback" | "pingresp",
    timeout: number,
  ): Promise<Packet> {
    return withTimeout(
      new Promise<Packet>((resolve, reject) =>
        this.#waiters.set(type, { resolve, reject })
      ),
      timeout,
      `Cannot connect: no ${type.toUpperCase()} within ${timeout} ms`,
      () => this.#waiters.delete(type),
    );
  }

  #resolve(packet: Packet): void {
    const waiter = this.#waiters.get(packet.type);
    this.#waiters.delete(packet.type);
    waiter?.resolve(packet);
  }

  #receive(bytes: Uint8Array): void {
    for (const packet of this.#decoder.push(bytes)) {
      switch (packet.type) {
        case "publish":
          if (packet.qos === 1) {
            this.send({ type: "puback", packetId: packet.packetId! });
          } else if (packet.qos === 2) {
            this.send({ type: "pubrec", packetId: packet.packetId! });
          }
          this.onPublish(packet);
          break;
        case "puback":
        case "pubcomp":
          this.onAcked();
          break;
        case "pubrec":
          this.send({ type: "pubrel", packetId: packet.packetId });
          break;
        case "pubrel":
          this.send({ type: "pubcomp", packetId: packet.packetId });
          break;
        case "suback":
          if (this.#subacked) {
            this.#subacked(packet);
            break;
          }
          this.#resolve(packet);
          break;
        case "connack":
        case "pingresp":
          this.#resolve(packet);
          break;
        case "disconnect":
          this.#end(
            new BenchClientError(
              `Connection closed by the broker: DISCONNECT 0x${
                (packet.reasonCode ?? 0).toString(16)
              }`,
            ),
          );
          return;
        default:
          break;
      }
    }
  }

  #append(bytes: Uint8Array): void {
    const start = this.#reserve(bytes.length);
    this.#buf.set(bytes, start);
    this.#len += bytes.length;
    this.#schedule();
  }

  /** Makes room for `n` more bytes; returns where they go. */
  #reserve(n: number): number {
    if (this.#len + n > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < this.#len + n) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    return this.#len;
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#writing || this.#closed) return;
    this.#flushScheduled = true;
    if (this.#link.later) this.#link.later(() => this.#flush());
    else queueMicrotask(() => this.#flush());
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    if (this.#writing) return;
    this.#writing = true;
    try {
      // One write in flight; what is queued meanwhile goes in the next one.
      while (this.#len > 0 && !this.#closed) {
        const chunk = this.#buf.subarray(0, this.#len);
        const written = this.#buf;
        this.#buf = this.#spare;
        this.#spare = written;
        this.#len = 0;
        this.#inFlight = chunk.length;
        await this.#link.write(chunk);
        this.#inFlight = 0;
        this.#wakeDrain();
      }
    } catch (error) {
      this.#end(error);
    } finally {
      this.#inFlight = 0;
      this.#writing = false;
    }
  }

  #wakeDrain(): void {
    if (this.pendingBytes >= HIGH_WATER && !this.#closed) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

/** Races a promise against a timer that is always cleared. */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  message: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          onTimeout?.();
          reject(new BenchClientError(message));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
