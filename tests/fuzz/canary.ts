/**
 * The QoS 1 canary pair: a subscriber with a persistent session and a
 * publisher sending numbered QoS 1 messages for as long as the fuzzer runs.
 * Every message the broker acknowledged must reach the subscriber at least
 * once; duplicates are allowed by QoS 1 and counted apart.
 *
 * @module
 */

import { encodePacket, type Packet, PacketDecoder } from "../../packets/mod.ts";

/** What the canary saw. */
export interface CanaryReport {
  /** Messages sent. */
  readonly sent: number;
  /** Messages the broker acknowledged with PUBACK. */
  readonly acked: number;
  /** Distinct messages the subscriber received. */
  readonly received: number;
  /** Extra copies the subscriber received. */
  readonly duplicates: number;
  /** Acknowledged messages that never arrived, first ones. */
  readonly lost: number[];
  /** How many of them were lost. */
  readonly lostCount: number;
  /** Times either side had to connect again. */
  readonly reconnects: number;
}

/** A raw MQTT 3.1.1 connection for the canary. */
class Link {
  readonly #conn: Deno.TcpConn;
  readonly #decoder = new PacketDecoder({ protocolVersion: 4 });
  readonly #reading: Promise<void>;
  #ended = false;

  constructor(conn: Deno.TcpConn, onPacket: (p: Packet) => void) {
    this.#conn = conn;
    this.#reading = this.#read(onPacket);
  }

  static async open(
    hostname: string,
    port: number,
    onPacket: (p: Packet) => void,
  ): Promise<Link> {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return new Link(conn, onPacket);
  }

  get ended(): boolean {
    return this.#ended;
  }

  async #read(onPacket: (p: Packet) => void): Promise<void> {
    const buffer = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        for (const p of this.#decoder.push(buffer.subarray(0, n))) onPacket(p);
      }
    } catch {
      // A reset, a bad packet or our own close: the link is over.
    }
    this.#ended = true;
  }

  async send(packet: Packet): Promise<void> {
    const bytes = encodePacket(packet, 4);
    let at = 0;
    while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
  }

  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
    await this.#reading;
  }
}

/** Runs the canary pair until `stop()`, then checks for losses. */
export class Canary {
  readonly #hostname: string;
  readonly #port: number;
  readonly #topic: string;
  readonly #subscriberId: string;
  readonly #publisherId: string;
  readonly #interval: number;
  readonly #ackTimeout: number;
  readonly #acked = new Set<number>();
  readonly #received = new Map<number, number>();
  #sent = 0;
  #reconnects = 0;
  #stopping = false;
  #subscriber: Link | undefined;
  #publishing: Promise<void> | undefined;
  #subscribed: (() => void) | undefined;
  #wake: (() => void) | undefined;

  /**
   * @param hostname The broker's address.
   * @param port Its MQTT TCP port.
   * @param options `tag` makes the client ids and topic unique to the run;
   * `interval` is the pause between messages in ms (5 by default);
   * `ackTimeout` how long to wait for a PUBACK before connecting again
   * (10 s by default).
   */
  constructor(
    hostname: string,
    port: number,
    options: { tag: string; interval?: number; ackTimeout?: number },
  ) {
    this.#hostname = hostname;
    this.#port = port;
    this.#topic = `fuzz-canary/${options.tag}`;
    this.#subscriberId = `fuzz-canary-sub-${options.tag}`;
    this.#publisherId = `fuzz-canary-pub-${options.tag}`;
    this.#interval = options.interval ?? 5;
    this.#ackTimeout = options.ackTimeout ?? 10_000;
  }

  /** Connects the subscriber, then starts publishing. */
  async start(): Promise<void> {
    await this.#connectSubscriber();
    this.#publishing = this.#publish();
  }

  async #connectSubscriber(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#subscribed = resolve;
    const link = await Link.open(this.#hostname, this.#port, (p) => {
      if (p.type === "suback") this.#subscribed?.();
      else if (p.type === "publish") {
        const n = Number(new TextDecoder().decode(p.payload));
        this.#received.set(n, (this.#received.get(n) ?? 0) + 1);
        if (p.packetId !== undefined) {
          link.send({ type: "puback", packetId: p.packetId }).catch(() => {});
        }
      }
    });
    this.#subscriber = link;
    await link.send({
      type: "connect",
      protocolName: "MQTT",
      protocolVersion: 4,
      clean: false,
      keepAlive: 0,
      clientId: this.#subscriberId,
    });
    await link.send({
      type: "subscribe",
      packetId: 1,
      subscriptions: [{ topicFilter: this.#topic, qos: 1 }],
    });
    await withTimeout(promise, this.#ackTimeout, "canary SUBACK");
  }

  async #publish(): Promise<void> {
    let link: Link | undefined;
    let waiting: { id: number; done: () => void } | undefined;
    const open = async () => {
      const l = await Link.open(this.#hostname, this.#port, (p) => {
        if (p.type === "puback" && waiting?.id === p.packetId) waiting.done();
      });
      await l.send({
        type: "connect",
        protocolName: "MQTT",
        protocolVersion: 4,
        clean: true,
        keepAlive: 0,
        clientId: this.#publisherId,
      });
      return l;
    };
    while (!this.#stopping) {
      try {
        if (link === undefined || link.ended) {
          if (link !== undefined) this.#reconnects++;
          await link?.close();
          link = await open();
        }
        if (this.#subscriber?.ended) {
          this.#reconnects++;
          await this.#subscriber.close();
          await this.#connectSubscriber();
        }
        const n = ++this.#sent;
        const { promise, resolve } = Promise.withResolvers<void>();
        const id = (n % 65535) + 1;
        waiting = { id, done: resolve };
        await link.send({
          type: "publish",
          topic: this.#topic,
          payload: new TextEncoder().encode(String(n)),
          qos: 1,
          retain: false,
          dup: false,
          packetId: id,
        });
        // The CONNACK comes before the PUBACK on the same link.
        await withTimeout(promise, this.#ackTimeout, "canary PUBACK");
        this.#acked.add(n);
      } catch {
        // No PUBACK in time or a broken link: this message does not count;
        // connect again.
        await link?.close();
        link = undefined;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#interval);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await link?.close();
  }

  /**
   * Stops publishing, waits up to `timeout` ms for every acknowledged
   * message to arrive, and closes both clients.
   *
   * @returns What the canary saw.
   */
  async stop(timeout = 5000): Promise<CanaryReport> {
    this.#stopping = true;
    this.#wake?.();
    await this.#publishing;
    const deadline = Date.now() + timeout;
    const missing = () =>
      [...this.#acked].filter((n) => !this.#received.has(n));
    while (missing().length > 0 && Date.now() < deadline) {
      if (this.#subscriber?.ended) {
        this.#reconnects++;
        await this.#subscriber.close();
        try {
          await this.#connectSubscriber();
        } catch {
          // Tried again below until the deadline.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.#subscriber?.close();
    const lost = missing();
    let duplicates = 0;
    for (const count of this.#received.values()) duplicates += count - 1;
    return {
      sent: this.#sent,
      acked: this.#acked.size,
      received: this.#received.size,
      duplicates,
      lost: lost.slice(0, 20),
      lostCount: lost.length,
      reconnects: this.#reconnects,
    };
  }
}

/**
 * Waits for `promise`, or rejects after `ms` milliseconds.
 *
 * @param promise What to wait for.
 * @param ms The timeout.
 * @param what Named in the error.
 * @returns What the promise resolves to.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`No ${what} within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
