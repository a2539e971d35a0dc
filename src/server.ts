/**
 * The MQTT server: listeners, lifecycle and the embedding API.
 *
 * @module
 */

import type { QoS, Subscription } from "../packets/types.ts";
import { isValidTopicFilter, isValidTopicName } from "../packets/topic.ts";
import { HookRunner } from "./_hook_runner.ts";
import { Broker, type ResolvedOptions } from "./broker.ts";
import { Connection } from "./connection.ts";
import type { ClientInfo, Hooks, TransportKind } from "./hooks.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { Message } from "./message.ts";
import type { MetricsSnapshot } from "./metrics.ts";
import { type Duplex, StreamTransport } from "./listeners/stream.ts";
import { SocketListener } from "./listeners/tcp.ts";
import { WebSocketListener } from "./listeners/websocket.ts";
import { SysTopics } from "./sys.ts";
import type { Session } from "./session.ts";
import type { Transport } from "./transport.ts";

/** Options for {@linkcode Server}. */
export interface ServerOptions {
  /** Hooks, called in this order; none by default. */
  hooks?: Hooks | Hooks[];
  /** Where the server reports what it does; silent by default. */
  logger?: Logger;
  /** QoS 1 and 2 messages in flight per client before more are queued; 32 by default (1 to 65,535). */
  maxInflight?: number;
  /** Messages queued per session, 1000 by default; expired go first, then QoS 0, then the oldest. */
  maxQueuedMessages?: number;
  /** Whether QoS 0 messages are queued for offline persistent sessions; true by default. */
  queueQoS0Messages?: boolean;
  /** Largest packet accepted, in bytes; 268,435,460 (the protocol's limit) by default. */
  maxPacketSize?: number;
  /** Largest keep-alive in seconds a 5.0 client may use (0 for none); 0 by default. */
  maxKeepAlive?: number;
  /** Whether retained messages are supported; true by default. */
  retainAvailable?: boolean;
  /** Whether a client may connect with an empty client id (it is given one); true by default. */
  allowEmptyClientId?: boolean;
  /** Highest QoS granted to subscriptions and accepted from 5.0 clients; 2 by default. */
  maxQoS?: QoS;
  /**
   * Seconds an offline persistent session is kept: the limit for 5.0 clients'
   * session expiry, and the expiry of 3.1.1 clean-session-0 sessions;
   * 7200 by default; 4,294,967,295 keeps them for ever.
   */
  sessionExpiry?: number;
  /** Topic aliases a 5.0 client may set per connection; 10 by default. */
  topicAliasMaximum?: number;
  /** Bytes of unsent output per connection past which QoS 0 messages to it are dropped; 1 MiB by default. */
  maxOutputBuffer?: number;
  /** Seconds a new connection has to send CONNECT; 10 by default. */
  connectTimeout?: number;
  /**
   * Seconds a message without a Message Expiry Interval of its own may wait
   * in a session's queue before it is dropped as expired; 0 (the default)
   * lets it wait as long as the session lasts.
   */
  messageExpiry?: number;
  /**
   * QoS 2 messages a 5.0 client may have unreleased at once (the server's
   * Receive Maximum, 1 to 65,535); 65,535 by default. More is a protocol
   * breach (0x93).
   */
  receiveMaximum?: number;
  /** Whether filters may hold wildcards; true by default. */
  wildcardSubscriptionAvailable?: boolean;
  /** Whether 5.0 SUBSCRIBE may carry a Subscription Identifier; true by default. */
  subscriptionIdentifiersAvailable?: boolean;
  /** Whether `$share/{group}/{filter}` subscriptions are served; true by default. */
  sharedSubscriptionAvailable?: boolean;
  /** Milliseconds between checks of keep-alive and expiry; 1000 by default. */
  sweepInterval?: number;
  /** Current time in milliseconds, `Date.now` by default; tests fake it. */
  now?: () => number;
  /**
   * Statistics published to `$SYS/broker/...` while started: `interval` in
   * seconds, 10 by default, 0 disables.
   */
  sys?: { interval?: number };
}

/** Where and how a listener accepts connections. */
export interface ListenOptions {
  /** Name in logs and hooks; "{transport}:{port}" by default. */
  name?: string;
  /** Address to bind; "0.0.0.0" by default. */
  hostname?: string;
  /** Port to bind, 0 for any free one; 1883 (TCP), 8883 (TLS) or 8080 (WebSocket) by default. */
  port?: number;
  /** PEM certificate chain: TLS (or wss) when given with a key. */
  cert?: string;
  /** PEM private key. */
  key?: string;
  /** File to read the PEM certificate chain from, instead of `cert`. */
  certFile?: string;
  /** File to read the PEM private key from, instead of `key`. */
  keyFile?: string;
  /** Serve MQTT over WebSocket on this HTTP path ("/mqtt" when `true`). */
  websocket?: boolean | { path?: string };
}

/** A listener's bound address. */
export interface ListenerAddress {
  /** The listener's name. */
  readonly name: string;
  /** Its transport. */
  readonly transport: TransportKind;
  /** The address it is bound to. */
  readonly hostname: string;
  /** The port it is bound to (the real one when 0 was asked). */
  readonly port: number;
}

/** A message to publish from the embedding program. */
export interface PublishOptions {
  /** Topic name; no wildcards. */
  topic: string;
  /** Payload; a string is sent as UTF-8. Empty by default. */
  payload?: Uint8Array | string;
  /** QoS, 0 by default. */
  qos?: QoS;
  /** Whether to retain it; false by default. */
  retain?: boolean;
  /** MQTT 5.0 properties sent with it. */
  properties?: Message["properties"];
  /** Seconds until it expires; never by default. */
  messageExpiryInterval?: number;
}

/** A client connected now. */
export interface ClientSummary extends ClientInfo {
  /** When it connected, in milliseconds since the epoch (server clock). */
  readonly connectedAt: number;
  /** Outgoing QoS 1/2 messages waiting for an acknowledgement. */
  readonly inflight: number;
  /** Most messages in flight to it at once (the server's `maxInflight`). */
  readonly inflightLimit: number;
  /** Messages waiting in its session's queue. */
  readonly queued: number;
  /** Most messages its session's queue holds. */
  readonly queueLimit: number;
  /** Number of subscriptions. */
  readonly subscriptions: number;
  /** Bytes read from the connection. */
  readonly bytesIn: number;
  /** Bytes written to the connection. */
  readonly bytesOut: number;
  /** Packets read from the connection. */
  readonly packetsIn: number;
  /** Packets written to the connection. */
  readonly packetsOut: number;
  /** PUBLISH packets the client sent. */
  readonly messagesIn: number;
  /** PUBLISH packets sent to the client. */
  readonly messagesOut: number;
  /** QoS 0 messages to the client dropped because it did not keep up. */
  readonly messagesDropped: number;
}

/** A subscription with the client id that holds it. */
export interface SubscriptionSummary extends Subscription {
  /** The subscriber. */
  readonly clientId: string;
  /** Share name of a `$share/{name}/{filter}` subscription. */
  readonly shareName?: string;
  /** Subscription identifier (MQTT 5.0). */
  readonly subscriptionId?: number;
}

/** A session, online or not. */
export interface SessionSummary {
  /** The client id it belongs to. */
  readonly clientId: string;
  /** User name its client last connected with, if any. */
  readonly username: string | undefined;
  /** Whether its client is connected. */
  readonly connected: boolean;
  /** When it was made. */
  readonly createdAt: number;
  /** When its client disconnected, if it is offline. */
  readonly disconnectedAt: number | undefined;
  /** Seconds it outlives its connection. */
  readonly expiryInterval: number;
  /** Outgoing QoS 1/2 messages waiting for an acknowledgement. */
  readonly inflight: number;
  /** Most messages in flight at once for its client. */
  readonly inflightLimit: number;
  /** Messages waiting in its queue. */
  readonly queued: number;
  /** Most messages its queue holds. */
  readonly queueLimit: number;
  /** Its subscriptions. */
  readonly subscriptions: Subscription[];
}

const DEFAULTS: ResolvedOptions = {
  maxInflight: 32,
  maxQueuedMessages: 1000,
  queueQoS0Messages: true,
  maxPacketSize: 268435460,
  maxKeepAlive: 0,
  retainAvailable: true,
  allowEmptyClientId: true,
  maxQoS: 2,
  maxSessionExpiryInterval: 7200,
  topicAliasMaximum: 10,
  maxOutputBuffer: 1 << 20,
  connectTimeout: 10,
  messageExpiry: 0,
  receiveMaximum: 65535,
  wildcardSubscriptionAvailable: true,
  subscriptionIdentifiersAvailable: true,
  sharedSubscriptionAvailable: true,
};

type Listener = SocketListener | WebSocketListener;

interface PendingListener {
  readonly options: ListenOptions;
  listener?: Listener;
  address?: ListenerAddress;
}

/**
 * An MQTT 3.1, 3.1.1 and 5.0 broker. Add listeners with
 * {@linkcode Server.listen}, then {@linkcode Server.start}; or hand it
 * connections with {@linkcode Server.handle}.
 *
 * @example Run a broker on a free port and stop it
 * ```ts
 * import { Server } from "@gmqtt/broker";
 *
 * const server = new Server({ maxInflight: 20 });
 * server.listen({ hostname: "127.0.0.1", port: 0 });
 * await server.start();
 * console.log(server.addresses[0]?.port);
 * await server.stop();
 * ```
 */
export class Server {
  readonly #broker: Broker;
  readonly #listeners: PendingListener[] = [];
  readonly #sweepInterval: number;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #startedAt: number | undefined;
  #stopping: Promise<void> | undefined;
  readonly #sys: SysTopics;

  /**
   * Makes a server; nothing listens until `listen()` and `start()`.
   *
   * @param options Limits, hooks and logger; every field has a default.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options: ServerOptions = {}) {
    const resolved: ResolvedOptions = {
      maxInflight: int(
        "maxInflight",
        options.maxInflight,
        DEFAULTS.maxInflight,
        1,
        65535,
      ),
      maxQueuedMessages: int(
        "maxQueuedMessages",
        options.maxQueuedMessages,
        DEFAULTS.maxQueuedMessages,
        0,
        Number.MAX_SAFE_INTEGER,
      ),
      queueQoS0Messages: options.queueQoS0Messages ??
        DEFAULTS.queueQoS0Messages,
      maxPacketSize: int(
        "maxPacketSize",
        options.maxPacketSize,
        DEFAULTS.maxPacketSize,
        2,
        268435460,
      ),
      maxKeepAlive: int(
        "maxKeepAlive",
        options.maxKeepAlive,
        DEFAULTS.maxKeepAlive,
        0,
        65535,
      ),
      retainAvailable: options.retainAvailable ?? DEFAULTS.retainAvailable,
      allowEmptyClientId: options.allowEmptyClientId ??
        DEFAULTS.allowEmptyClientId,
      maxQoS: int("maxQoS", options.maxQoS, DEFAULTS.maxQoS, 0, 2) as QoS,
      maxSessionExpiryInterval: int(
        "sessionExpiry",
        options.sessionExpiry,
        DEFAULTS.maxSessionExpiryInterval,
        0,
        0xffffffff,
      ),
      topicAliasMaximum: int(
        "topicAliasMaximum",
        options.topicAliasMaximum,
        DEFAULTS.topicAliasMaximum,
        0,
        65535,
      ),
      maxOutputBuffer: int(
        "maxOutputBuffer",
        options.maxOutputBuffer,
        DEFAULTS.maxOutputBuffer,
        0,
        Number.MAX_SAFE_INTEGER,
      ),
      connectTimeout: int(
        "connectTimeout",
        options.connectTimeout,
        DEFAULTS.connectTimeout,
        1,
        86400,
      ),
      messageExpiry: int(
        "messageExpiry",
        options.messageExpiry,
        DEFAULTS.messageExpiry,
        0,
        0xffffffff,
      ),
      receiveMaximum: int(
        "receiveMaximum",
        options.receiveMaximum,
        DEFAULTS.receiveMaximum,
        1,
        65535,
      ),
      wildcardSubscriptionAvailable: options.wildcardSubscriptionAvailable ??
        DEFAULTS.wildcardSubscriptionAvailable,
      subscriptionIdentifiersAvailable:
        options.subscriptionIdentifiersAvailable ??
          DEFAULTS.subscriptionIdentifiersAvailable,
      sharedSubscriptionAvailable: options.sharedSubscriptionAvailable ??
        DEFAULTS.sharedSubscriptionAvailable,
    };
    this.#sweepInterval = int(
      "sweepInterval",
      options.sweepInterval,
      1000,
      1,
      3600_000,
    );
    const logger = options.logger ?? silentLogger();
    const hooks = options.hooks === undefined
      ? []
      : Array.isArray(options.hooks)
      ? options.hooks
      : [options.hooks];
    this.#broker = new Broker(
      resolved,
      new HookRunner(hooks, logger),
      logger,
      options.now ?? Date.now,
    );
    this.#sys = new SysTopics(this, {
      ...options.sys,
      now: this.#broker.now,
      logger,
    });
  }

  /**
   * Adds a listener: TCP, TLS when a certificate and key are given, and
   * WebSocket (or secure WebSocket) with `websocket`. Before `start()` it is
   * opened by `start()`; after, at once.
   *
   * @param options Address, TLS material and WebSocket path.
   * @throws {TypeError} If only one of certificate and key is given.
   */
  listen(options: ListenOptions = {}): void {
    const hasCert = options.cert !== undefined ||
      options.certFile !== undefined;
    const hasKey = options.key !== undefined || options.keyFile !== undefined;
    if (hasCert !== hasKey) {
      throw new TypeError(
        "Cannot listen with TLS: both a certificate and a key are needed",
      );
    }
    const pending: PendingListener = { options };
    this.#listeners.push(pending);
    if (this.#started) this.#open(pending);
  }

  /** The bound addresses of the open listeners. */
  get addresses(): ListenerAddress[] {
    return this.#listeners.flatMap((l) => l.address ? [l.address] : []);
  }

  /**
   * Opens every listener and starts housekeeping.
   *
   * @throws {Deno.errors.AddrInUse} If a port is taken (every listener opened
   * so far is closed again).
   */
  start(): Promise<void> {
    if (this.#started) return Promise.resolve();
    this.#started = true;
    try {
      for (const pending of this.#listeners) this.#open(pending);
    } catch (error) {
      for (const pending of this.#listeners) void pending.listener?.close();
      this.#started = false;
      return Promise.reject(error);
    }
    this.#startedAt = this.#broker.now();
    this.#startSweep();
    this.#sys.start();
    return Promise.resolve();
  }

  /** When `start()` ran, in milliseconds of the server clock; undefined before. */
  get startedAt(): number | undefined {
    return this.#startedAt;
  }

  #startSweep(): void {
    if (this.#sweepTimer !== undefined) return;
    this.#sweepTimer = setInterval(
      () => this.#broker.sweep(),
      this.#sweepInterval,
    );
  }

  #open(pending: PendingListener): void {
    const o = pending.options;
    const tls = o.cert !== undefined || o.certFile !== undefined
      ? {
        cert: o.cert ?? Deno.readTextFileSync(o.certFile!),
        key: o.key ?? Deno.readTextFileSync(o.keyFile!),
      }
      : undefined;
    const hostname = o.hostname ?? "0.0.0.0";
    const logger = this.#broker.logger;
    const serve = (transport: Transport) => void this.#serve(transport);
    if (o.websocket !== undefined && o.websocket !== false) {
      const path = typeof o.websocket === "object"
        ? o.websocket.path ?? "/mqtt"
        : "/mqtt";
      const transport: TransportKind = tls ? "wss" : "ws";
      const port = o.port ?? 8080;
      const listener = new WebSocketListener({
        name: o.name ?? "",
        hostname,
        port,
        path,
        ...(tls ? { tls } : {}),
        logger,
        serve,
      });
      // A default name tells the bound port, not the 0 that was asked for.
      const { address } = listener;
      listener.name ||= `${transport}:${address.port}`;
      pending.listener = listener;
      pending.address = { name: listener.name, transport, ...address };
    } else {
      const transport: TransportKind = tls ? "tls" : "tcp";
      const port = o.port ?? (tls ? 8883 : 1883);
      const socket = tls
        ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key })
        : Deno.listen({ hostname, port });
      const name = o.name ??
        `${transport}:${(socket.addr as Deno.NetAddr).port}`;
      const listener = new SocketListener(socket, {
        name,
        kind: transport,
        logger,
        serve,
      });
      pending.listener = listener;
      pending.address = { name, transport, ...listener.address };
    }
    logger.info("listening", { ...pending.address });
  }

  /**
   * Serves one connection given as a pair of byte streams: an in-memory
   * pipe, a custom transport, or a stream the program already has.
   *
   * @param duplex The client's bytes in `readable`, the server's in `writable`.
   * @param info Where the connection comes from, for hooks and logs.
   * @returns A promise that resolves when the connection has closed.
   */
  handle(
    duplex: Duplex,
    info: { remoteAddress?: string; localAddress?: string } = {},
  ): Promise<void> {
    if (!this.#started) this.#startSweep();
    return this.#serve(
      new StreamTransport(duplex, {
        remoteAddress: info.remoteAddress ?? "",
        localAddress: info.localAddress ?? "",
        transport: "stream",
        listener: "",
      }),
    );
  }

  #serve(transport: Transport): Promise<void> {
    if (this.#stopping !== undefined) {
      transport.close();
      return Promise.resolve();
    }
    const connection = new Connection(this.#broker, transport);
    this.#broker.connectionOpened(connection);
    return connection.run();
  }

  /**
   * Stops gracefully, in order: closes every listener, closes every
   * connection (5.0 clients are told "server shutting down"; wills are not
   * published), waits for them to close for up to `timeout` milliseconds,
   * stops housekeeping, then calls the `onStop` hooks.
   *
   * @param options `timeout` in milliseconds, 5000 by default.
   */
  stop(options: { timeout?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.timeout ?? 5000);
    return this.#stopping;
  }

  async #stop(timeout: number): Promise<void> {
    const broker = this.#broker;
    broker.logger.info("stopping");
    this.#sys.stop();
    const closing = this.#listeners.map((l) => l.listener?.close());
    for (const connection of broker.connections) {
      void connection.close(undefined, { reasonCode: 0x8b });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all([
        ...closing,
        ...[...broker.connections].map((c) => c.closed),
      ]),
      new Promise((resolve) => timer = setTimeout(resolve, timeout)),
    ]);
    clearTimeout(timer);
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    for (const l of this.#listeners) delete l.address;
    await broker.hooks.notifyAndWait("onStop");
    broker.logger.info("stopped");
  }

  // -- embedding API ---------------------------------------------------------

  /**
   * Publishes a message as the server, through the transform hooks and the
   * normal routing (and the retained store when `retain` is set).
   *
   * @param message Topic, payload and flags.
   * @returns A promise that resolves when the message has been routed.
   * @throws {TypeError} If the topic is not a valid topic name.
   */
  async publish(message: PublishOptions): Promise<void> {
    if (typeof message.topic !== "string" || !isValidTopicName(message.topic)) {
      throw new TypeError(
        `Cannot publish: topic ${
          JSON.stringify(message.topic)
        } is not a valid topic name`,
      );
    }
    const qos = message.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) {
      throw new RangeError(`Cannot publish: qos ${qos} is not 0, 1 or 2`);
    }
    const payload = typeof message.payload === "string"
      ? new TextEncoder().encode(message.payload)
      : message.payload?.slice() ?? new Uint8Array(0);
    const now = this.#broker.now();
    const expiry = message.messageExpiryInterval;
    await this.#broker.publish({
      topic: message.topic,
      payload,
      qos,
      retain: message.retain ?? false,
      ...(message.properties !== undefined
        ? { properties: message.properties }
        : {}),
      ...(expiry !== undefined ? { expiresAt: now + expiry * 1000 } : {}),
      createdAt: now,
    }, undefined);
  }

  /**
   * Subscribes a session on its client's behalf, online or offline. Retained
   * messages matching a new filter are delivered to it.
   *
   * @param clientId The session's client id.
   * @param subscriptions Filters with their QoS (and 5.0 options).
   * @returns Whether each filter was new for the session.
   * @throws {RangeError} If there is no session with that client id.
   * @throws {TypeError} If a filter is invalid.
   */
  subscribe(clientId: string, subscriptions: Subscription[]): boolean[] {
    const session = this.#session(clientId);
    for (const s of subscriptions) {
      if (!isValidTopicFilter(s.topicFilter)) {
        throw new TypeError(
          `Cannot subscribe: topic filter ${
            JSON.stringify(s.topicFilter)
          } is invalid`,
        );
      }
    }
    return subscriptions.map((s) => {
      const qos = Math.min(s.qos, this.#broker.options.maxQoS) as QoS;
      const isNew = this.#broker.subscribe(session, { ...s, qos });
      if (isNew) {
        this.#broker.sendRetained(session, s.topicFilter, qos, undefined);
      }
      return isNew;
    });
  }

  /**
   * Removes subscriptions of a session.
   *
   * @param clientId The session's client id.
   * @param topicFilters Filters to remove.
   * @returns Whether each filter existed.
   * @throws {RangeError} If there is no session with that client id.
   */
  unsubscribe(clientId: string, topicFilters: string[]): boolean[] {
    const session = this.#session(clientId);
    return topicFilters.map((f) => this.#broker.unsubscribe(session, f));
  }

  #session(clientId: string): Session {
    const session = this.#broker.sessions.get(clientId);
    if (session === undefined) {
      throw new RangeError(
        `Cannot find session: no client id ${JSON.stringify(clientId)}`,
      );
    }
    return session;
  }

  /**
   * The connected clients.
   *
   * @returns One summary per connected client.
   */
  clients(): ClientSummary[] {
    return [...this.#broker.online.values()].flatMap((c) => {
      const summary = clientSummary(c);
      return summary ? [summary] : [];
    });
  }

  /**
   * One connected client.
   *
   * @param clientId Its client id.
   * @returns Its summary, or undefined if it is not connected.
   */
  client(clientId: string): ClientSummary | undefined {
    const connection = this.#broker.online.get(clientId);
    return connection ? clientSummary(connection) : undefined;
  }

  /**
   * Every session, offline persistent sessions included.
   *
   * @returns One summary per session.
   */
  sessions(): SessionSummary[] {
    return [...this.#broker.sessions.values()].map(sessionSummary);
  }

  /**
   * One session.
   *
   * @param clientId Its client id.
   * @returns Its summary, or undefined if there is none.
   */
  session(clientId: string): SessionSummary | undefined {
    const session = this.#broker.sessions.get(clientId);
    return session ? sessionSummary(session) : undefined;
  }

  /**
   * Disconnects a client (5.0 clients are told "administrative action"; its
   * will is published), and optionally ends its session too.
   *
   * @param clientId The client id.
   * @param options `discardSession` also ends the stored session.
   * @returns Whether there was a client or session to act on.
   */
  async kick(
    clientId: string,
    options: { discardSession?: boolean } = {},
  ): Promise<boolean> {
    const broker = this.#broker;
    const connection = broker.online.get(clientId);
    let found = false;
    if (connection !== undefined) {
      found = true;
      connection.endReason = "kicked";
      await connection.close(new Error("Kicked by the server"), {
        reasonCode: 0x98,
      });
    }
    if (options.discardSession) {
      const session = broker.sessions.get(clientId);
      if (session !== undefined) {
        found = true;
        broker.terminate(session, "kicked");
      }
    }
    return found;
  }

  /**
   * Subscriptions of every session, of one client, or those that match a
   * topic name (as the router would match it).
   *
   * @param options `clientId` keeps one session's; `topic` keeps those
   * whose filter matches that topic name.
   * @returns One entry per subscription, with its client id.
   */
  subscriptions(
    options: { clientId?: string; topic?: string } = {},
  ): SubscriptionSummary[] {
    const broker = this.#broker;
    const out: SubscriptionSummary[] = [];
    const sessions = options.clientId === undefined
      ? broker.sessions.values()
      : [broker.sessions.get(options.clientId)].filter((s) => s !== undefined);
    if (options.topic !== undefined) {
      if (!isValidTopicName(options.topic)) {
        throw new TypeError(
          `Cannot match subscriptions: topic ${
            JSON.stringify(options.topic)
          } is not a valid topic name`,
        );
      }
      const wanted = options.clientId;
      broker.subscriptions.match(options.topic, (record, key) => {
        const clientId = record.shareName === undefined
          ? key
          : key.slice(key.indexOf("\u0000") + 1);
        if (wanted !== undefined && clientId !== wanted) return;
        const full = record.shareName === undefined
          ? record.topicFilter
          : `$share/${record.shareName}/${record.topicFilter}`;
        out.push({ ...record, topicFilter: full, clientId });
      });
      return out;
    }
    for (const session of sessions) {
      for (const [filter, record] of session.subscriptions) {
        out.push({
          ...record,
          topicFilter: filter,
          clientId: session.clientId,
        });
      }
    }
    return out;
  }

  /**
   * Retained messages whose topic matches a filter.
   *
   * @param topicFilter A topic filter, "#" by default (which, as for
   * subscribers, leaves out topics starting with "$").
   * @returns The matching retained messages.
   */
  retained(topicFilter = "#"): Message[] {
    if (!isValidTopicFilter(topicFilter)) {
      throw new TypeError(
        `Cannot list retained messages: topic filter ${
          JSON.stringify(topicFilter)
        } is invalid`,
      );
    }
    return this.#broker.retained.match(topicFilter);
  }

  /**
   * Deletes the retained message of a topic.
   *
   * @param topic The topic name.
   * @returns Whether there was one.
   */
  deleteRetained(topic: string): boolean {
    return this.#broker.retained.delete(topic);
  }

  /**
   * The server's counters now.
   *
   * @returns A snapshot that later activity does not change.
   */
  metrics(): MetricsSnapshot & {
    readonly sessionsActive: number;
    readonly sessionsInactive: number;
    readonly retainedMessages: number;
    readonly inflightMessages: number;
    readonly queuedMessages: number;
  } {
    const broker = this.#broker;
    let active = 0, inflight = 0, queued = 0;
    for (const s of broker.sessions.values()) {
      if (s.output !== undefined) active++;
      inflight += s.inflight.size;
      queued += s.queued;
    }
    return {
      ...broker.metrics.snapshot(),
      sessionsActive: active,
      sessionsInactive: broker.sessions.size - active,
      retainedMessages: broker.retained.size,
      inflightMessages: inflight,
      queuedMessages: queued,
    };
  }
}

function clientSummary(c: Connection): ClientSummary | undefined {
  const client = c.client;
  const session = c.session;
  if (client === undefined || session === undefined) return undefined;
  return {
    ...client,
    connectedAt: c.openedAt,
    inflight: session.inflight.size,
    inflightLimit: session.inflightLimit,
    queued: session.queued,
    queueLimit: session.queueLimit,
    subscriptions: session.subscriptions.size,
    ...c.stats,
  };
}

function sessionSummary(s: Session): SessionSummary {
  return {
    clientId: s.clientId,
    username: s.username,
    connected: s.output !== undefined,
    createdAt: s.createdAt,
    disconnectedAt: s.disconnectedAt,
    expiryInterval: s.expiryInterval,
    inflight: s.inflight.size,
    inflightLimit: s.inflightLimit,
    queued: s.queued,
    queueLimit: s.queueLimit,
    subscriptions: [...s.subscriptions.entries()].map(([filter, r]) => ({
      ...r,
      topicFilter: filter,
    })),
  };
}

function int(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot create server: ${name} must be an integer from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}
