/**
 * What the connections of one server share: the core, the options and
 * hooks, the set of open connections with their keep-alive and connect
 * timeouts, when batched output is written, the bytes of a PUBLISH encoded
 * once for every subscriber of a routing, and the paced sending of
 * retained messages to a new subscription.
 *
 * @module
 */

import { ReasonCode } from "../../packets/reason_code.ts";
import { PacketWriter } from "../../packets/mod.ts";
import type { FrameDecoding } from "../../packets/_publish.ts";
import { RecentNames } from "../../packets/_utf8.ts";
import type {
  Packet,
  PacketType,
  Properties,
  ProtocolVersion,
  QoS,
} from "../../packets/types.ts";
import type { Core } from "../core/core.ts";
import type { ClientLink, CloseOptions } from "../core/ports.ts";
import type { Delivery, Session } from "../core/session.ts";
import type { HookRunner } from "../hooks/runner.ts";
import type { Logger } from "../observe/logger.ts";
import type { Channel, ChannelContext } from "./channel.ts";
import type { ProtocolOptions } from "./options.ts";

/** Lone packets' bytes a hub keeps for sharing (see `soloBytes`). */
const SOLO_KEPT = 8;
/** Retained messages sent to a new subscription between two yields. */
const RETAINED_SLICE = 256;
/** Milliseconds a job that yields with port messages runs before I/O gets a turn. */
const IO_YIELD_INTERVAL = 4;

/** What the hub needs of a connection. */
export interface HubConnection extends ClientLink {
  /** When the connection was accepted, in server milliseconds. */
  readonly openedAt: number;
  /** When anything was last read, in server milliseconds. */
  readonly lastActivity: number;
  /** Whether a CONNECT waits for its hooks. */
  readonly connectPending: boolean;
  /**
   * Whether the server stopped reading it until subscribers' queues have
   * room: its silence is not a lapsed keep-alive.
   */
  readonly paused: boolean;
  /** Bytes written to the connection and not yet taken by the OS. */
  readonly outputBytes: number;
  /** Resolves once the unsent output has drained to half its limit. */
  outputDrained(): Promise<void>;
  /** Lets go of memory kept for reuse while the connection is busy. */
  trim(): void;
}

/** The PUBLISH encoded last while one message fans out. */
interface EncodedPublish {
  readonly delivery: Delivery;
  readonly v5: boolean;
  readonly bytes: Uint8Array;
}

/** Shared state of every connection of one server. */
export class ConnectionHub<C extends HubConnection = HubConnection>
  implements ChannelContext {
  readonly core: Core;
  readonly options: ProtocolOptions;
  readonly hooks: HookRunner;
  readonly logger: Logger;
  readonly now: () => number;
  /** Options for `frameLength`, shared by every connection. */
  readonly frameOptions: { readonly maximumPacketSize: number };
  /** How every connection decodes PUBLISHes (see `ChannelContext`). */
  readonly decoding: FrameDecoding = {
    copyPayload: true,
    names: new RecentNames(),
  };
  readonly #connections: Set<C> = new Set();
  #encoded: EncodedPublish | undefined;

  constructor(core: Core, options: ProtocolOptions, hooks: HookRunner) {
    this.core = core;
    this.options = options;
    this.hooks = hooks;
    this.logger = core.logger;
    this.now = core.now;
    this.frameOptions = { maximumPacketSize: options.maxPacketSize };
    core.router.onRoutingEnd(() => {
      this.#encoded = undefined;
    });
  }

  // -- connections -------------------------------------------------------------

  /** The open connections. */
  get connections(): ReadonlySet<C> {
    return this.#connections;
  }

  /** Registers a connection until it closes. */
  connectionOpened(connection: C): void {
    this.#connections.add(connection);
    this.core.metrics.connectionOpened();
  }

  /** Forgets a closed connection. */
  connectionClosed(connection: C): void {
    if (this.#connections.delete(connection)) {
      this.core.metrics.connectionClosed();
    }
  }

  /** The connection of a connected client id, if any. */
  online(clientId: string): C | undefined {
    // Every link the registry holds is one of this hub's connections.
    return this.core.sessions.link(clientId) as C | undefined;
  }

  /** The connections of connected clients. */
  *onlineConnections(): IterableIterator<C> {
    for (const link of this.core.sessions.links()) yield link as C;
  }

  /** A fresh client id for a client that sent none. */
  newClientId(): string {
    return `auto-${crypto.randomUUID()}`;
  }

  /**
   * Closes connections silent for 1.5 times their keep-alive
   * [MQTT-3.1.2-24] and connections that never sent CONNECT (or whose
   * CONNECT waited three connect timeouts for its hooks).
   */
  sweep(): void {
    const now = this.now();
    const connectDeadline = this.options.connectTimeout * 1000;
    // forEach, not for-of: a walk of every connection each second makes no
    // object per connection, optimized or not.
    this.#connections.forEach((connection) => {
      if (connection.isClosed) return;
      connection.trim();
      const client = connection.client;
      if (client === undefined) {
        // A CONNECT waiting for its hooks is not the client's delay; a
        // ceiling stops a hung hook from holding the connection for ever.
        const pending = connection.connectPending;
        if (now - connection.openedAt >= connectDeadline * (pending ? 3 : 1)) {
          this.#closeQuietly(
            connection,
            new Error(
              pending
                ? "Connect hooks did not answer in time"
                : "No CONNECT in time",
            ),
          );
        }
        return;
      }
      if (
        client.keepAlive > 0 &&
        now - connection.lastActivity >= client.keepAlive * 1500 &&
        !connection.paused
      ) {
        this.logger.info("keep-alive timeout", { client_id: client.clientId });
        this.#closeQuietly(connection, new Error("Keep-alive timeout"), {
          reasonCode: ReasonCode.KeepAliveTimeout,
        });
      }
    });
  }

  /** Closes a connection without waiting; a failure is logged. */
  #closeQuietly(connection: C, error: Error, options?: CloseOptions): void {
    connection.close(error, options).catch((failure: unknown) => {
      this.logger.error("connection not closed cleanly", {
        client_id: connection.client?.clientId,
        reason: error.message,
        error: failure instanceof Error ? failure.message : String(failure),
      });
    });
  }

  // -- counting ----------------------------------------------------------------

  countPacketIn(type: PacketType, bytes: number): void {
    this.core.metrics.packetIn(type, bytes);
  }

  countPacketOut(type: PacketType, bytes: number): void {
    this.core.metrics.packetOut(type, bytes);
  }

  /** Counts a PUBLISH written to a subscriber. */
  countMessageSent(delivery: Delivery, bytes: number): void {
    const metrics = this.core.metrics;
    metrics.messageSent(delivery.qos, delivery.message.payload.length);
    metrics.packetOut("publish", bytes);
  }

  // -- one PUBLISH encoded for many subscribers -------------------------------

  /** The 5.0 properties of an outgoing PUBLISH for one delivery. */
  outgoingProperties(delivery: Delivery): Properties | undefined {
    const { message } = delivery;
    const ids = delivery.subscriptionIds;
    const expiresAt = message.expiresAt;
    if (
      ids === undefined && expiresAt === undefined &&
      message.properties === undefined
    ) return undefined;
    const properties: Properties = { ...message.properties };
    if (ids !== undefined) properties.subscriptionIdentifiers = ids;
    if (expiresAt !== undefined) {
      // [MQTT-3.3.2-6] The expiry sent is what is left of it.
      properties.messageExpiryInterval = Math.max(
        0,
        Math.ceil((expiresAt - this.now()) / 1000),
      );
    }
    return properties;
  }

  /**
   * The bytes of the same PUBLISH already encoded for another subscriber
   * during this routing of the message, if its form matches (3.x or 5.0,
   * QoS, RETAIN; no per-subscriber properties, no DUP). Its packet id is
   * the other subscriber's: patch in your own.
   */
  encodedPublish(
    delivery: Delivery,
    version: ProtocolVersion,
  ): Uint8Array | undefined {
    const cached = this.#encoded;
    if (cached === undefined) return undefined;
    const other = cached.delivery;
    return other.message === delivery.message &&
        cached.v5 === (version === 5) && other.qos === delivery.qos &&
        other.retain === delivery.retain
      ? cached.bytes
      : undefined;
  }

  /**
   * Offers the bytes of a PUBLISH just encoded for one subscriber into
   * `out` to the others of this routing, when it has others. They stay
   * unchanged until the routing ends: a view into a connection's output
   * batch does, as the batch is only appended to.
   */
  shareEncodedPublish(
    delivery: Delivery,
    version: ProtocolVersion,
    out: PacketWriter,
    offset: number,
    length: number,
  ): void {
    if (!this.core.router.fanningOut) return;
    this.#encoded = {
      delivery,
      v5: version === 5,
      bytes: out.view(offset, length),
    };
  }

  // -- retained messages for a new subscription ------------------------------

  /**
   * Sends the retained messages matching a new subscription (see
   * `Router.deliverRetained`). They go in slices of 256 with a task between
   * slices, so that other clients are served meanwhile, and while the
   * client's unsent output is above `maxOutputBuffer` the next message
   * waits for it to drain. Stops when the connection closes or the session
   * ends.
   */
  async sendRetained(
    session: Session,
    topicFilter: string,
    granted: QoS,
    subscriptionId: number | undefined,
  ): Promise<void> {
    const { router, sessions } = this.core;
    const record = session.subscriptions.get(topicFilter);
    const messages = router.retainedFor(
      topicFilter,
      record?.shareName !== undefined,
    );
    if (messages.length === 0) return;
    const ids = subscriptionId === undefined ? undefined : [subscriptionId];
    // A marked subscription has each retained message checked too.
    const checked = record?.checkDeliver === true;
    const connection = this.online(session.clientId);
    const limit = this.options.maxOutputBuffer;
    for (let i = 0; i < messages.length; i++) {
      if (i > 0 && i % RETAINED_SLICE === 0) await this.#nextTask();
      if (connection !== undefined && connection.outputBytes > limit) {
        await connection.outputDrained();
      }
      if (
        session.queueFull && this.options.queueFull === "backpressure" &&
        session.output !== undefined
      ) {
        // Retained messages wait for room as a client's messages do.
        await session.queueRoom();
      }
      if (
        sessions.get(session.clientId) !== session ||
        (connection !== undefined &&
          (connection.isClosed || session.output !== connection))
      ) {
        return;
      }
      router.deliverRetained(session, messages[i]!, granted, ids, checked);
    }
  }

  // -- small packets sent alone ------------------------------------------------

  /** Bytes of lone packets kept for sharing, the newest last. */
  #solo: Uint8Array[] = [];
  /** Where they are encoded first; made on first use. */
  #soloWriter: PacketWriter | undefined;

  /**
   * The bytes of a CONNACK or PINGRESP that a connection sends alone: the
   * same array whenever the bytes are the same (the last few are kept), so
   * that a connection that answers CONNECT or PINGREQ, and nothing else,
   * allocates no output buffer of its own. Nobody writes into them.
   */
  soloBytes(
    packet: Packet,
    version: ProtocolVersion,
  ): Uint8Array | undefined {
    if (packet.type !== "connack" && packet.type !== "pingresp") {
      return undefined;
    }
    const writer = this.#soloWriter ??= new PacketWriter({
      initialSize: 64,
    });
    writer.write(packet, version);
    const bytes = writer.view(0, writer.length);
    const kept = this.#solo;
    let shared: Uint8Array | undefined;
    for (const k of kept) if (sameBytes(k, bytes)) shared = k;
    if (shared === undefined) {
      shared = bytes.slice();
      if (kept.push(shared) > SOLO_KEPT) kept.shift();
    }
    writer.truncate(0);
    return shared;
  }

  // -- when batched output is written -----------------------------------------

  /** Channels with output batched, to write at the end of this tick. */
  #toFlush: Channel[] = [];
  /** Writes every batch of this tick; one microtask for all connections. */
  readonly #flushAll = (): void => {
    const channels = this.#toFlush;
    this.#toFlush = [];
    for (const channel of channels) channel.flush();
  };

  /**
   * Has a connection's batched output written once this task's work is
   * done, together with every other connection's.
   */
  flushSoon(channel: Channel): void {
    if (this.#toFlush.push(channel) === 1) queueMicrotask(this.#flushAll);
  }

  /** Channels to write in the next task (WebSocket). */
  #toFlushLater: Channel[] = [];
  /** Posts the task that writes them; made on first use. */
  #flushPort: MessagePort | undefined;
  #flushPorts: MessagePort[] | undefined;

  /**
   * Has a channel's batched output written in a later task: every incoming
   * WebSocket message is a task of its own, so batching across them needs a
   * task, and a message port's task comes without a timer's delay.
   */
  flushLater(channel: Channel): void {
    if (this.#toFlushLater.push(channel) !== 1) return;
    if (this.#nextTaskWaiters.length > 0) return; // A message is posted.
    this.#taskPort().postMessage(null);
  }

  readonly #ioYielded = (): void => {
    this.#ioYieldTimer = undefined;
    this.#lastIoYield = performance.now();
    const waiters = this.#ioYieldWaiters;
    this.#ioYieldWaiters = [];
    for (const resolve of waiters) resolve();
  };
  /** Who waits for the next task (see `#nextTask`). */
  #nextTaskWaiters: (() => void)[] = [];

  /** The port whose messages run the next task; made on first use. */
  #taskPort(): MessagePort {
    if (this.#flushPort === undefined) {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => {
        const channels = this.#toFlushLater;
        this.#toFlushLater = [];
        for (const c of channels) c.flush();
        const waiters = this.#nextTaskWaiters;
        this.#nextTaskWaiters = [];
        for (const resolve of waiters) resolve();
      };
      this.#flushPort = port2;
      this.#flushPorts = [port1, port2];
    }
    return this.#flushPort;
  }

  /** When `#nextTask` last let I/O in, from `performance.now()`. */
  #lastIoYield = 0;
  /** The timer of a `#nextTask` that lets I/O in, and who waits for it. */
  #ioYieldTimer: ReturnType<typeof setTimeout> | undefined;
  #ioYieldWaiters: (() => void)[] = [];

  /**
   * Resolves in a later task: a long job yields to other work with it. A port
   * message (about 7 µs) lets other tasks run but, in Deno 2.9.6, not the
   * I/O of other connections (a chain of them starves socket reads), so
   * once 4 ms have passed since I/O last had its turn, the yield is a
   * `setTimeout(0)` (about 2 ms, idle) instead.
   */
  #nextTask(): Promise<void> {
    const now = performance.now();
    if (now - this.#lastIoYield >= IO_YIELD_INTERVAL) {
      this.#lastIoYield = now;
      return new Promise((resolve) => {
        this.#ioYieldWaiters.push(resolve);
        this.#ioYieldTimer ??= setTimeout(this.#ioYielded, 0);
      });
    }
    return new Promise((resolve) => {
      const first = this.#nextTaskWaiters.push(resolve) === 1;
      if (first && this.#toFlushLater.length === 0) {
        this.#taskPort().postMessage(null);
      }
    });
  }

  /** Closes what keeps the event loop busy; the server calls it on stop. */
  close(): void {
    for (const port of this.#flushPorts ?? []) port.close();
    this.#flushPorts = this.#flushPort = undefined;
    // Nothing more runs on the port: let waiting jobs see the end.
    const waiters = this.#nextTaskWaiters;
    this.#nextTaskWaiters = [];
    for (const resolve of waiters) resolve();
    clearTimeout(this.#ioYieldTimer);
    this.#ioYielded();
  }
}

/** Whether two byte arrays hold the same bytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Where the packet id of an encoded QoS 1 or 2 PUBLISH sits: after the fixed
 * header and the topic.
 */
export function packetIdOffset(bytes: Uint8Array): number {
  let at = 1;
  while (bytes[at]! & 0x80) at++;
  at++;
  return at + 2 + ((bytes[at]! << 8) | bytes[at + 1]!);
}
