/**
 * The MQTT server: listeners, lifecycle and the embedding API.
 *
 * @module
 */

import { filterLevels, topicLevels } from "../core/topic_levels.ts";
import type { QoS, Subscription } from "../../packets/types.ts";
import { ReasonCode } from "../../packets/reason_code.ts";
import { isValidTopicFilter, isValidTopicName } from "../../packets/topic.ts";
import { HookRunner } from "../hooks/runner.ts";
import { checkPublished } from "../protocol/publish_check.ts";
import { Core } from "../core/core.ts";
import { ConnectionHub } from "../protocol/hub.ts";
import { MemoryStore } from "../store/memory.ts";
import { resolveOptions, type ServerOptions } from "./options.ts";
import {
  type ClientSummary,
  clientSummary,
  type SessionSummary,
  sessionSummary,
  type SubscriptionSummary,
} from "./summaries.ts";
import { Connection } from "../protocol/connection.ts";
import type { TransportKind } from "../types.ts";
import { silentLogger } from "../observe/logger.ts";
import type { Message, PublishOptions } from "../message.ts";

export type { PublishOptions };
import type { ServerMetrics } from "../core/metrics.ts";
import type { ClusterStatus } from "../core/ports.ts";
import { type Duplex, StreamTransport } from "../transport/stream.ts";
import { SocketListener } from "../transport/tcp.ts";
import { WebSocketListener } from "../transport/websocket.ts";
import { SysTopics } from "../observe/sys.ts";
import type { Session } from "../core/session.ts";
import type { Transport } from "../transport/transport.ts";

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
  /**
   * Serve MQTT over WebSocket: on any HTTP path with `true` or no `path`
   * (as Mosquitto does), on `path` only when given (404 elsewhere, logged
   * once per client host and interval).
   */
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

/** Milliseconds between two "connection limit reached" warnings. */
const REFUSED_WARNING_INTERVAL = 60_000;

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
  readonly #core: Core;
  readonly #hub: ConnectionHub<Connection>;
  /** Reading the store back, until done; see `#load`. */
  #loading: Promise<void> | undefined;
  #loaded = false;
  readonly #listeners: PendingListener[] = [];
  readonly #sweepInterval: number;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #startedAt: number | undefined;
  #stopping: Promise<void> | undefined;
  readonly #sys: SysTopics;
  /** When the last "connection limit reached" warning was logged. */
  #refusedWarnedAt: number | undefined;
  /** Connections refused since that warning. */
  #refused = 0;

  /**
   * Makes a server; nothing listens until `listen()` and `start()`.
   *
   * @param options Limits, hooks and logger; every field has a default.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options: ServerOptions = {}) {
    const { resolved, sweepInterval } = resolveOptions(options);
    this.#sweepInterval = sweepInterval;
    const logger = options.logger ?? silentLogger();
    const hooks = options.hooks === undefined
      ? []
      : Array.isArray(options.hooks)
      ? options.hooks
      : [options.hooks];
    const runner = new HookRunner(hooks, logger);
    this.#core = new Core({
      options: resolved,
      hooks: runner,
      logger,
      now: options.now ?? Date.now,
      store: options.store ?? new MemoryStore(),
      ...(options.bus !== undefined ? { bus: options.bus } : {}),
    });
    this.#hub = new ConnectionHub<Connection>(this.#core, resolved, runner);
    this.#sys = new SysTopics(this, {
      ...options.sys,
      now: this.#core.now,
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
   * Opens every listener and starts housekeeping; does nothing if started.
   *
   * @returns A promise that resolves once every listener is open.
   * @throws {Deno.errors.AddrInUse} If a port is taken (every listener opened
   * so far is closed again).
   * @throws {TypeError} If the server was stopped.
   */
  start(): Promise<void> {
    if (this.#stopping !== undefined) {
      return Promise.reject(
        new TypeError(
          "Cannot start the server: it was stopped; make a new one",
        ),
      );
    }
    if (this.#started) return Promise.resolve();
    this.#started = true;
    const loading = this.#load();
    if (loading === undefined) return this.#startListening();
    return loading.then(() => this.#startListening(), (error: unknown) => {
      this.#started = false;
      throw error;
    });
  }

  /**
   * Reads back what the store kept, once; a promise while a store that
   * answers with one is read, `undefined` once done.
   */
  #load(): Promise<void> | undefined {
    if (this.#loaded) return undefined;
    if (this.#loading !== undefined) return this.#loading;
    const loading = this.#core.load();
    if (loading === undefined) {
      this.#loaded = true;
      return undefined;
    }
    this.#loading = loading.then(() => {
      this.#loaded = true;
      this.#loading = undefined;
    });
    return this.#loading;
  }

  #startListening(): Promise<void> {
    try {
      for (const pending of this.#listeners) this.#open(pending);
    } catch (error) {
      for (const pending of this.#listeners) {
        pending.listener?.close().catch((e: unknown) =>
          this.#internalError("listener not closed", e)
        );
      }
      this.#started = false;
      return Promise.reject(error);
    }
    this.#startedAt = this.#core.now();
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
    this.#sweepTimer = setInterval(() => {
      this.#hub.sweep();
      this.#core.sweep();
    }, this.#sweepInterval);
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
    const logger = this.#core.logger;
    const serve = (transport: Transport): void => {
      this.#serve(transport);
    };
    if (o.websocket !== undefined && o.websocket !== false) {
      const path = typeof o.websocket === "object"
        ? o.websocket.path
        : undefined;
      const transport: TransportKind = tls ? "wss" : "ws";
      const port = o.port ?? 8080;
      const listener = new WebSocketListener({
        name: o.name ?? "",
        hostname,
        port,
        ...(path === undefined ? {} : { path }),
        ...(tls ? { tls } : {}),
        logger,
        maxPacketSize: this.#hub.options.maxPacketSize,
        // The upgrade request gets as long as CONNECT does.
        headerTimeout: this.#hub.options.connectTimeout * 1000,
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
    const transport = new StreamTransport(duplex, {
      remoteAddress: info.remoteAddress ?? "",
      localAddress: info.localAddress ?? "",
      transport: "stream",
      listener: "",
    });
    // Served once the store is read back (at once for one in memory).
    const loading = this.#load();
    return loading === undefined
      ? this.#served(transport)
      : loading.then(() => this.#served(transport), (error: unknown) => {
        transport.close();
        throw error;
      });
  }

  /** Serves a connection; resolves once it has closed. */
  #served(transport: Transport): Promise<void> {
    return this.#serve(transport)?.closed ?? Promise.resolve();
  }

  #internalError(message: string, error: unknown): void {
    this.#core.logger.error(message, {
      error: error instanceof Error ? error.stack ?? error.message : error,
    });
  }

  /** Serves a connection, unless the server stops or is full. */
  #serve(transport: Transport): Connection | undefined {
    if (this.#stopping !== undefined) {
      transport.close();
      return undefined;
    }
    const hub = this.#hub;
    if (hub.connections.size >= hub.options.maxConnections) {
      // Closed before any read: the client learns nothing but the closed
      // socket, and costs no buffer.
      transport.close();
      this.#refused++;
      const now = hub.now();
      if (
        this.#refusedWarnedAt === undefined ||
        now - this.#refusedWarnedAt >= REFUSED_WARNING_INTERVAL
      ) {
        hub.logger.warn("connection limit reached: connection refused", {
          maxConnections: hub.options.maxConnections,
          refused: this.#refused,
          remoteAddress: transport.info.remoteAddress,
          listener: transport.info.listener,
        });
        this.#refusedWarnedAt = now;
        this.#refused = 0;
      }
      return undefined;
    }
    const connection = new Connection(hub, transport);
    hub.connectionOpened(connection);
    connection.run();
    return connection;
  }

  /**
   * Stops gracefully, in order: closes every connection (5.0 clients are
   * told "server shutting down" and their output is written first; wills
   * are not published), then every listener (a connection accepted
   * meanwhile is closed at once), waiting for all of it for up to `timeout`
   * milliseconds, stops housekeeping, then calls the `onStop` hooks. Calling it again
   * returns the same promise; a stopped server is not started again (make a
   * new one).
   *
   * @param options `timeout` in milliseconds, 5000 by default.
   * @returns A promise that resolves when the server has stopped.
   */
  stop(options: { timeout?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.timeout ?? 5000);
    return this.#stopping;
  }

  async #stop(timeout: number): Promise<void> {
    const hub = this.#hub;
    const logger = hub.logger;
    logger.info("stopping");
    this.#sys.stop();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) =>
      timer = setTimeout(resolve, timeout)
    );
    // Connections first: a listener that shuts down (a WebSocket server)
    // must not cut a DISCONNECT 0x8B short.
    const connections = [...hub.connections];
    for (const connection of connections) {
      connection.end(undefined, {
        reasonCode: ReasonCode.ServerShuttingDown,
      });
    }
    await Promise.race([
      Promise.all(connections.map((c) => c.closed)),
      timedOut,
    ]);
    const closing = this.#listeners.map((l) => l.listener?.close());
    await Promise.race([
      Promise.all([
        ...closing,
        ...[...hub.connections].map((c) => c.closed),
      ]),
      timedOut,
    ]);
    clearTimeout(timer);
    clearInterval(this.#sweepTimer);
    hub.close();
    this.#sweepTimer = undefined;
    for (const l of this.#listeners) delete l.address;
    // What the closed connections left is written before the store is let
    // go; the store itself belongs to whoever made it.
    await this.#core.close();
    await hub.hooks.notifyAndWait("onStop");
    logger.info("stopped");
  }

  // -- embedding API ---------------------------------------------------------

  /**
   * Publishes a message as the server, through the transform hooks and the
   * normal routing (and the retained store when `retain` is set).
   *
   * @param message Topic, payload and flags.
   * @returns A promise that resolves when the message has been routed.
   * @throws {TypeError} If the topic is not a valid topic name or has more
   * levels than `maxTopicLevels`, or a property is of the wrong type, holds
   * U+0000, or is not one a PUBLISH carries; the message names it.
   * @throws {RangeError} If the QoS is not 0, 1 or 2, a string property is
   * longer than 65,535 bytes of UTF-8, binary data longer than 65,535
   * bytes, or the whole PUBLISH larger than `maxPacketSize`.
   */
  async publish(message: PublishOptions): Promise<void> {
    if (typeof message.topic !== "string" || !isValidTopicName(message.topic)) {
      throw new TypeError(
        `Cannot publish: topic ${
          JSON.stringify(message.topic)
        } is not a valid topic name`,
      );
    }
    const maxTopicLevels = this.#hub.options.maxTopicLevels;
    if (topicLevels(message.topic) > maxTopicLevels) {
      throw new TypeError(
        `Cannot publish: the topic has more than maxTopicLevels (${maxTopicLevels}) levels`,
      );
    }
    const qos = message.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) {
      throw new RangeError(`Cannot publish: qos ${qos} is not 0, 1 or 2`);
    }
    const payload = typeof message.payload === "string"
      ? new TextEncoder().encode(message.payload)
      : message.payload?.slice() ?? new Uint8Array(0);
    const expiry = message.messageExpiryInterval;
    checkPublished({
      topic: message.topic,
      payload,
      qos,
      properties: message.properties,
      messageExpiryInterval: expiry,
    }, this.#hub.options.maxPacketSize);
    // Routed once the store is read back and the bus joined (at once for
    // the memory store and one node).
    await this.#load();
    const now = this.#core.now();
    await this.#core.router.publish({
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
   * @throws {RangeError} If there is no session with that client id, or the
   * new filters would take the session past `maxSubscriptionsPerClient`.
   * @throws {TypeError} If a filter is invalid or has more levels than
   * `maxTopicLevels`.
   */
  subscribe(clientId: string, subscriptions: Subscription[]): boolean[] {
    const session = this.#session(clientId);
    const hub = this.#hub;
    const { maxTopicLevels, maxSubscriptionsPerClient } = hub.options;
    const added = new Set<string>();
    for (const s of subscriptions) {
      if (!isValidTopicFilter(s.topicFilter)) {
        throw new TypeError(
          `Cannot subscribe: topic filter ${
            JSON.stringify(s.topicFilter)
          } is invalid`,
        );
      }
      if (filterLevels(s.topicFilter) > maxTopicLevels) {
        throw new TypeError(
          `Cannot subscribe: a topic filter has more than maxTopicLevels (${maxTopicLevels}) levels`,
        );
      }
      if (
        session.subscriptionCount === 0 ||
        !session.subscriptions.has(s.topicFilter)
      ) {
        added.add(s.topicFilter);
      }
    }
    if (session.subscriptionCount + added.size > maxSubscriptionsPerClient) {
      throw new RangeError(
        `Cannot subscribe: ${added.size} new filters would take the session past maxSubscriptionsPerClient (${maxSubscriptionsPerClient})`,
      );
    }
    return subscriptions.map((s) => {
      const qos = Math.min(s.qos, hub.options.maxQoS) as QoS;
      const isNew = this.#core.subscriptions.subscribe(session, { ...s, qos });
      if (isNew) {
        hub.sendRetained(session, s.topicFilter, qos, undefined).catch(
          (e) => {
            hub.logger.error("retained messages not sent", {
              client_id: clientId,
              error: e instanceof Error ? e.stack ?? e.message : String(e),
            });
          },
        );
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
    return topicFilters.map((f) =>
      this.#core.subscriptions.unsubscribe(session, f)
    );
  }

  #session(clientId: string): Session {
    const session = this.#core.sessions.get(clientId);
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
    return [...this.#hub.onlineConnections()].flatMap((c) => {
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
    const connection = this.#hub.online(clientId);
    return connection ? clientSummary(connection) : undefined;
  }

  /**
   * Every session, offline persistent sessions included.
   *
   * @returns One summary per session.
   */
  sessions(): SessionSummary[] {
    return [...this.#core.sessions.values()].map(sessionSummary);
  }

  /**
   * One session.
   *
   * @param clientId Its client id.
   * @returns Its summary, or undefined if there is none.
   */
  session(clientId: string): SessionSummary | undefined {
    const session = this.#core.sessions.get(clientId);
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
    const core = this.#core;
    const connection = this.#hub.online(clientId);
    let found = false;
    if (connection !== undefined) {
      found = true;
      await connection.close(new Error("Kicked by the server"), {
        reasonCode: ReasonCode.AdministrativeAction,
        endReason: "kicked",
      });
    }
    if (options.discardSession) {
      const session = core.sessions.get(clientId);
      if (session !== undefined) {
        found = true;
        core.sessions.terminate(session, "kicked");
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
    const core = this.#core;
    const out: SubscriptionSummary[] = [];
    const sessions = options.clientId === undefined
      ? core.sessions.values()
      : [core.sessions.get(options.clientId)].filter((s) => s !== undefined);
    if (options.topic !== undefined) {
      if (!isValidTopicName(options.topic)) {
        throw new TypeError(
          `Cannot match subscriptions: topic ${
            JSON.stringify(options.topic)
          } is not a valid topic name`,
        );
      }
      const wanted = options.clientId;
      for (const match of core.subscriptions.matching(options.topic)) {
        if (wanted !== undefined && match.clientId !== wanted) continue;
        out.push({
          ...match.record,
          topicFilter: match.topicFilter,
          clientId: match.clientId,
        });
      }
      return out;
    }
    for (const session of sessions) {
      for (const [filter, record] of session.subscriptionEntries()) {
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
    return this.#core.retained.match(topicFilter);
  }

  /**
   * Deletes the retained message of a topic.
   *
   * @param topic The topic name.
   * @returns Whether there was one.
   */
  deleteRetained(topic: string): boolean {
    return this.#core.retained.delete(topic);
  }

  /**
   * Watches the messages this server routes to a topic filter, as they are
   * routed (after the transform hooks, before delivery), without
   * subscribing: no session, queue or QoS flow, and nothing changes for
   * subscribers. The HTTP API's live watch uses it. `watcher` runs while
   * the message is routed, so it must be quick and must not block; one
   * that throws is logged. No ACL applies: the caller sees every topic the
   * filter matches.
   *
   * @example Watch a filter while publishing
   * ```ts
   * import { Server } from "@gmqtt/broker";
   * import { deepStrictEqual } from "node:assert/strict";
   *
   * const server = new Server();
   * const seen: string[] = [];
   * const stop = server.watch("sensors/#", (m) => seen.push(m.topic));
   * await server.publish({ topic: "sensors/1", payload: "21.5" });
   * await server.publish({ topic: "other", payload: "x" });
   * stop();
   * deepStrictEqual(seen, ["sensors/1"]);
   * await server.stop();
   * ```
   * @param topicFilter A topic filter; not a `$share/...` one.
   * @param watcher Called with each matching message.
   * @returns A function that stops watching; calling it again does nothing.
   * @throws {TypeError} If the filter is invalid, shared, or has more
   * levels than `maxTopicLevels`.
   */
  watch(topicFilter: string, watcher: (message: Message) => void): () => void {
    if (
      typeof topicFilter !== "string" || !isValidTopicFilter(topicFilter) ||
      topicFilter.startsWith("$share/")
    ) {
      throw new TypeError(
        `Cannot watch: ${
          JSON.stringify(topicFilter)
        } is not a valid topic filter, or is a shared one`,
      );
    }
    const maxTopicLevels = this.#hub.options.maxTopicLevels;
    if (filterLevels(topicFilter) > maxTopicLevels) {
      throw new TypeError(
        `Cannot watch: the filter has more than maxTopicLevels (${maxTopicLevels}) levels`,
      );
    }
    return this.#core.watchers.add(topicFilter, watcher);
  }

  /**
   * The cluster as this node sees it: its nodes, their heartbeats, what it
   * sent and received; `undefined` when the server runs alone (its bus is
   * not a cluster's).
   *
   * @returns The status, or `undefined`.
   */
  cluster(): ClusterStatus | undefined {
    return this.#core.bus.status?.();
  }

  /**
   * The server's counters now.
   *
   * @returns A snapshot that later activity does not change.
   */
  metrics(): ServerMetrics {
    const core = this.#core;
    let active = 0, inflight = 0, queued = 0;
    core.sessions.forEach((s) => {
      if (s.output !== undefined) active++;
      inflight += s.inflightCount;
      queued += s.queued;
    });
    return {
      ...core.metrics.snapshot(),
      sessionsActive: active,
      sessionsInactive: core.sessions.size - active,
      retainedMessages: core.retained.size,
      inflightMessages: inflight,
      queuedMessages: queued,
    };
  }
}
