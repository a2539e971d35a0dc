/**
 * The bus of a cluster: brokers that share one Redis route to each other.
 *
 * @module
 */

import type { Message } from "../message.ts";
import { decodeMessage, propertiesText } from "../message_codec.ts";
import type {
  Bus,
  BusNode,
  ClusterNode,
  ClusterStatus,
} from "../core/ports.ts";
import { type Logger, silentLogger } from "../observe/logger.ts";
import {
  RedisClient,
  type RedisClientOptions,
  type RedisSubscriber,
  replyArray,
  replyOptionalNumber,
  replyOptionalText,
  replyText,
} from "../redis/mod.ts";
import { type GroupKey, RemoteInterest } from "./_interest.ts";
import { StreamReader } from "./_streams.ts";
import { BatchSender } from "./_sender.ts";
import { SharedGroups } from "./_groups.ts";
import {
  type Control,
  decodeBatch,
  type Heartbeat,
  type InterestChange,
  parseHeartbeat,
  servedBy,
} from "./_frames.ts";

/** Milliseconds between two warnings of QoS 0 messages dropped. */
const DROP_WARNING_INTERVAL = 60_000;

/** Options for {@linkcode RedisBus}. */
export interface RedisBusOptions {
  /**
   * This node's id, unique in the cluster: a second node with the same id
   * is refused while the first one's heartbeat lives.
   */
  nodeId: string;
  /** What every key and channel starts with; `"gmqtt:"` by default. */
  prefix?: string;
  /** Milliseconds between heartbeats; 1000 by default. */
  heartbeatInterval?: number;
  /**
   * Milliseconds a heartbeat lives: a node silent that long is gone, its
   * sessions are adopted by another node; 5000 by default.
   */
  heartbeatTtl?: number;
  /**
   * Milliseconds a takeover waits for the node that held the client to let
   * go, before it goes on anyway; 5000 by default.
   */
  takeoverTimeout?: number;
  /** Where it reports; nowhere by default. */
  logger?: Logger;
  /** Options of its Redis connections (TLS roots, timeouts, ...). */
  redis?: RedisClientOptions;
  /** This node's clients and subscriptions, for its heartbeat. */
  stats?: () => { clients: number; subscriptions: number };
}

/** A node that cannot join its cluster: Redis unreachable, node id taken. */
export class ClusterError extends Error {
  /**
   * Makes the error; its message starts "Cannot join the cluster".
   *
   * @param message What is wrong.
   * @param options The error underneath.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(`Cannot join the cluster: ${message}`, options);
    this.name = "ClusterError";
  }
}

/**
 * The {@linkcode Bus} of a cluster on Redis. Every node keeps its topic
 * filters in Redis and announces changes, so that a message goes only to
 * the nodes with a matching filter (a retained one goes to every node,
 * which each keeps it). QoS 0 messages go by Redis pub/sub; QoS 1 and 2 go
 * through a Redis stream per node, read with a consumer group and
 * acknowledged once the node has routed them and its store made them
 * durable, so that a node that restarts or loses Redis for a while takes
 * them when it is back. A client connecting to a node while another node
 * holds its client id is taken over: that node closes the connection and
 * lets go of the session. Each node keeps a heartbeat key; when one lapses,
 * one other node adopts the gone node's sessions (through the store) and
 * takes what was sent to it.
 *
 * @example Two nodes on one Redis (needs a running redis-server)
 * ```ts ignore
 * import { RedisBus, Server } from "@gmqtt/broker";
 *
 * const url = "redis://127.0.0.1:6379";
 * const a = new Server({ bus: new RedisBus(url, { nodeId: "a" }) });
 * const b = new Server({ bus: new RedisBus(url, { nodeId: "b" }) });
 * await a.start();
 * await b.start();
 * ```
 */
export class RedisBus implements Bus {
  /** This node's id. */
  readonly nodeId: string;
  readonly #prefix: string;
  readonly #heartbeatInterval: number;
  readonly #heartbeatTtl: number;
  readonly #takeoverTimeout: number;
  readonly #logger: Logger;
  readonly #stats:
    | (() => { clients: number; subscriptions: number })
    | undefined;
  /** Commands. */
  readonly #redis: RedisClient;
  /** The blocking reads of this node's stream. */
  readonly #reader: RedisClient;
  /** Interest changes, control messages and QoS 0 messages. */
  readonly #subscriber: RedisSubscriber;
  /** The reads of this node's stream (and of a gone node's). */
  readonly #streams: StreamReader;
  #node: BusNode | undefined;
  /** This node's topic filters. */
  readonly #local: Set<string> = new Set();
  readonly #remote: RemoteInterest = new RemoteInterest();
  /** The other live nodes, with their last heartbeat. */
  readonly #peers: Map<string, Heartbeat> = new Map();
  /** What goes to other nodes this turn. */
  readonly #sender: BatchSender;
  /** The nodes a message goes to, reused from message to message. */
  readonly #targets: Set<string> = new Set();
  readonly #groups: SharedGroups = new SharedGroups();
  /** Takeovers waiting for another node, by request id. */
  readonly #waiting: Map<string, () => void> = new Map();
  #requests = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #reading: Promise<void> | undefined;
  #closed = false;
  #received = 0;
  #roundTrip = 0;
  #backlog = 0;
  /** Kinds of failure logged since the last success, to log each once. */
  readonly #failing: Set<string> = new Set();
  /** When QoS 0 drops were last logged, and how many since. */
  #droppedWarnedAt = -Infinity;
  #droppedSinceWarning = 0;

  /**
   * Makes the bus; it connects when the server starts it (`attach`).
   *
   * @param url The Redis URL: `redis://[user:password@]host[:port][/db]`,
   * or `rediss://` for TLS.
   * @param options The node id and the rest; see {@linkcode RedisBusOptions}.
   * @throws {TypeError} If the URL or the node id is not usable.
   */
  constructor(url: string, options: RedisBusOptions) {
    if (options.nodeId === "" || /[\s{}]/.test(options.nodeId)) {
      throw new TypeError(
        `Cannot join a cluster: node id ${
          JSON.stringify(options.nodeId)
        } is empty or has spaces or braces`,
      );
    }
    this.nodeId = options.nodeId;
    this.#prefix = options.prefix ?? "gmqtt:";
    this.#heartbeatInterval = options.heartbeatInterval ?? 1000;
    this.#heartbeatTtl = options.heartbeatTtl ?? 5000;
    this.#takeoverTimeout = options.takeoverTimeout ?? 5000;
    this.#logger = options.logger ?? silentLogger();
    this.#stats = options.stats;
    const redis: RedisClientOptions = {
      logger: this.#logger,
      ...options.redis,
    };
    this.#redis = new RedisClient(url, {
      name: `gmqtt-${this.nodeId}`,
      ...redis,
      onConnect: (event) => {
        if (event.reconnected) this.#rejoin();
      },
    });
    this.#reader = this.#redis.duplicate({
      pingInterval: 0,
      onConnect: () => {},
    });
    this.#sender = new BatchSender(this.#redis, {
      key: (kind, nodeId) => this.#key(kind, nodeId),
      known: (nodeId) => this.#peers.has(nodeId),
      failed: (kind, error) => this.#failed(kind, error),
      dropped: (count, unwritten) => this.#droppedQoS0(count, unwritten),
    });
    this.#streams = new StreamReader(this.#redis, this.#reader, this.nodeId, {
      route: (message, groups) => {
        const node = this.#node;
        return node === undefined
          ? undefined
          : this.#route(node, message, groups);
      },
      flush: () => this.#node?.flush(),
      failed: (kind, error, fields) => this.#failed(kind, error, fields),
    });
    this.#subscriber = this.#redis.subscriber({
      onMessage: (channel, message) => this.#onMessage(channel, message),
      onConnect: (event) => {
        if (event.reconnected) {
          this.#resync().catch((error) => this.#failed("resync", error));
        }
      },
    });
  }

  // -- keys and channels ------------------------------------------------------

  #key(...parts: string[]): string {
    return this.#prefix + parts.join(":");
  }

  // -- joining ------------------------------------------------------------------

  /**
   * Joins the cluster: registers this node (refused if its id is taken),
   * reads what the other nodes subscribe to, and starts reading what they
   * send it.
   *
   * @throws {ClusterError} If Redis cannot be reached, or the node id is
   * taken.
   */
  async attach(node: BusNode): Promise<void> {
    this.#node = node;
    try {
      await this.#redis.connect();
    } catch (error) {
      throw new ClusterError(
        `Redis ${this.#redis.url.redacted} unreachable: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    }
    const taken = await this.#redis.send([
      "SET",
      this.#key("node", this.nodeId),
      JSON.stringify(this.#heartbeat()),
      "NX",
      "PX",
      this.#heartbeatTtl,
    ]);
    if (taken === null) {
      throw new ClusterError(
        `node id ${
          JSON.stringify(this.nodeId)
        } is in use by a running node (or one gone less than ${this.#heartbeatTtl} ms ago)`,
      );
    }
    await this.#register();
    await this.#subscriber.subscribe(
      this.#key("interest"),
      this.#key("ctl", this.nodeId),
      this.#key("q0", this.nodeId),
    );
    await this.#resync();
    await this.#announceJoin();
    this.#reading = this.#streams.readUntil(
      this.#key("stream", this.nodeId),
      () => this.#closed,
    );
    this.#timer = setInterval(() => this.#tick(), this.#heartbeatInterval);
    Deno.unrefTimer(this.#timer as unknown as number);
    this.#logger.info("cluster joined", {
      node_id: this.nodeId,
      nodes: this.#peers.size + 1,
    });
  }

  /** Writes what Redis must know of this node; again after Redis lost it. */
  async #register(): Promise<void> {
    const interest = this.#key("interest", this.nodeId);
    const commands: (string | number)[][] = [
      [
        "SET",
        this.#key("node", this.nodeId),
        JSON.stringify(this.#heartbeat()),
        "PX",
        this.#heartbeatTtl,
      ],
      ["SADD", this.#key("nodes"), this.nodeId],
      ["DEL", interest],
    ];
    if (this.#local.size > 0) commands.push(["SADD", interest, ...this.#local]);
    await this.#redis.pipeline(commands);
    await this.#streams.createGroup(this.#key("stream", this.nodeId));
  }

  /** The others learn of it now rather than at their next heartbeat. */
  async #announceJoin(): Promise<void> {
    const joined: InterestChange = { n: this.nodeId, op: "j", f: "" };
    await this.#redis.send([
      "PUBLISH",
      this.#key("interest"),
      JSON.stringify(joined),
    ]);
  }

  /** Redis came back: it may have lost everything (a restart). */
  #rejoin(): void {
    this.#logger.info("cluster connection back", { node_id: this.nodeId });
    this.#failing.clear();
    this.#register().then(() => this.#announceJoin()).catch((error) =>
      this.#failed("register", error)
    );
  }

  /** Reads one node's filters again, in full. */
  #readInterest(nodeId: string): void {
    this.#redis.send(["SMEMBERS", this.#key("interest", nodeId)]).then(
      (filters) => {
        if (!this.#peers.has(nodeId)) return;
        this.#remote.replace(
          nodeId,
          Array.isArray(filters) ? filters.map((f) => replyText(f)) : [],
        );
      },
    ).catch((error) => this.#failed("interest", error));
  }

  /** Reads the other nodes and their filters again, in full. */
  async #resync(): Promise<void> {
    const ids = (replyArray(
      await this.#redis.send(["SMEMBERS", this.#key("nodes")]),
    )).map((id) => replyText(id)).filter((id) => id !== this.nodeId);
    const replies = ids.length === 0 ? [] : await this.#redis.pipeline(
      ids.flatMap((id) => [
        ["GET", this.#key("node", id)],
        ["SMEMBERS", this.#key("interest", id)],
      ]),
    );
    for (const [i, id] of ids.entries()) {
      const beat = parseHeartbeat(replies[2 * i]);
      if (beat === undefined) {
        this.#peers.delete(id);
        this.#remote.forget(id);
        continue;
      }
      this.#peers.set(id, beat);
      const filters = replies[2 * i + 1];
      this.#remote.replace(
        id,
        Array.isArray(filters) ? filters.map((f) => replyText(f)) : [],
      );
    }
  }

  // -- routing --------------------------------------------------------------------

  publish(message: Message, hold: boolean): Promise<void> | undefined {
    const node = this.#node;
    // Each node's own statistics stay on it.
    if (message.topic.startsWith("$SYS/")) {
      return node?.routeLocal(message, hold);
    }
    const targets = this.#targets;
    targets.clear();
    if (message.retain) {
      for (const id of this.#peers.keys()) {
        targets.add(id);
      }
    } else this.#remote.match(message.topic, targets);
    // Shared groups with members on other nodes: one node each, in turn.
    const assigned = this.#groups.assign(
      message.topic,
      targets,
      this.#remote,
      this.nodeId,
    );
    // Written into the first node's batch, copied into the others'.
    let bytes: Uint8Array | undefined;
    let properties: string | undefined;
    for (const nodeId of targets) {
      if (nodeId === this.nodeId) continue;
      const batch = this.#sender.batchOf(nodeId, message.qos);
      const groups = assigned?.get(nodeId);
      if (bytes === undefined) {
        properties = propertiesText(message);
        bytes = batch.add(message, properties, groups);
      } else batch.addEncoded(bytes, groups);
    }
    // Last: a local delivery may publish again, and reuse `targets`.
    return node?.routeLocal(
      message,
      hold,
      assigned === undefined ? undefined : servedBy(assigned.get(this.nodeId)),
    );
  }

  /**
   * Resolves once every QoS 1 and 2 message sent to other nodes so far is
   * in their streams; rejects if one could not be added.
   */
  flush(): Promise<void> | undefined {
    return this.#sender.flush();
  }

  addShareGroup(shareName: string, topicFilter: string): void {
    this.#groups.add(shareName, topicFilter);
    this.addInterest(`$share/${shareName}/${topicFilter}`);
  }

  removeShareGroup(shareName: string, topicFilter: string): void {
    this.#groups.remove(shareName, topicFilter);
    this.removeInterest(`$share/${shareName}/${topicFilter}`);
  }

  addInterest(topicFilter: string): void {
    if (this.#local.has(topicFilter)) return;
    this.#local.add(topicFilter);
    this.#announce("+", topicFilter);
  }

  removeInterest(topicFilter: string): void {
    if (!this.#local.delete(topicFilter)) return;
    this.#announce("-", topicFilter);
  }

  #announce(op: "+" | "-", filter: string): void {
    if (this.#node === undefined || this.#closed) return;
    const change: InterestChange = { n: this.nodeId, op, f: filter };
    this.#redis.pipeline([
      [
        op === "+" ? "SADD" : "SREM",
        this.#key("interest", this.nodeId),
        filter,
      ],
      ["PUBLISH", this.#key("interest"), JSON.stringify(change)],
    ]).catch((error) => this.#failed("interest", error));
  }

  // -- takeover -------------------------------------------------------------------

  /**
   * Makes this node the holder of a client id, and asks the node that held
   * it, if alive, to let go: resolves once it has, or after
   * `takeoverTimeout`. Without Redis, it goes on at once.
   */
  takeOver(clientId: string): Promise<void> | undefined {
    if (this.#node === undefined || this.#closed) return undefined;
    const clients = this.#key("clients");
    return this.#redis.pipeline([
      ["HGET", clients, clientId],
      ["HSET", clients, clientId, this.nodeId],
    ]).then(([previous]) => {
      const owner = replyOptionalText(previous ?? null);
      if (
        owner === undefined || owner === this.nodeId || !this.#peers.has(owner)
      ) return;
      return this.#askRelease(owner, clientId);
    }).catch((error) => this.#failed("takeover", error));
  }

  #askRelease(owner: string, clientId: string): Promise<void> {
    const r = `${this.nodeId}:${++this.#requests}`;
    const request: Control = {
      t: "release",
      c: clientId,
      from: this.nodeId,
      r,
    };
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(r);
        this.#logger.warn("takeover not answered", {
          client_id: clientId,
          node_id: owner,
          timeout: this.#takeoverTimeout,
        });
        resolve();
      }, this.#takeoverTimeout);
      this.#waiting.set(r, () => {
        clearTimeout(timer);
        resolve();
      });
      this.#redis.send([
        "PUBLISH",
        this.#key("ctl", owner),
        JSON.stringify(request),
      ]).catch((error) => this.#failed("takeover", error));
    });
  }

  #onControl(control: Control): void {
    if (control.t === "released") {
      const done = this.#waiting.get(control.r);
      this.#waiting.delete(control.r);
      done?.();
      return;
    }
    const reply = (): void => {
      const answer: Control = { t: "released", r: control.r };
      this.#redis.send([
        "PUBLISH",
        this.#key("ctl", control.from),
        JSON.stringify(answer),
      ]).catch((error) => this.#failed("takeover", error));
    };
    let released: Promise<void> | undefined;
    try {
      released = this.#node?.release(control.c);
    } catch (error) {
      this.#failed("release", error);
    }
    if (released === undefined) {
      reply();
      return;
    }
    released.then(reply, (error) => {
      this.#failed("release", error);
      reply();
    });
  }

  // -- receiving --------------------------------------------------------------------

  #onMessage(channel: string, payload: Uint8Array): void {
    const node = this.#node;
    if (node === undefined) return;
    try {
      if (channel === this.#key("q0", this.nodeId)) {
        for (const [bytes, groups] of decodeBatch(payload)) {
          this.#received++;
          this.#route(node, decodeMessage(bytes), groups);
        }
        return;
      }
      const text = new TextDecoder().decode(payload);
      if (channel === this.#key("interest")) {
        const change = JSON.parse(text) as InterestChange;
        if (typeof change.n !== "string" || typeof change.f !== "string") {
          throw new TypeError("not an interest change");
        }
        if (change.n === this.nodeId) return;
        if (change.op === "l") {
          // Adopted at the next heartbeat; sent to meanwhile, as before.
          this.#peers.delete(change.n);
        } else if (change.op === "j") {
          // Joined, or joined again after Redis lost everything: its
          // filters, in full.
          this.#peers.set(change.n, {
            at: Date.now(),
            clients: 0,
            subscriptions: 0,
          });
          this.#readInterest(change.n);
        } else if (change.op === "+") {
          this.#remote.add(change.n, change.f);
          if (!this.#peers.has(change.n)) {
            this.#peers.set(change.n, {
              at: Date.now(),
              clients: 0,
              subscriptions: 0,
            });
          }
        } else this.#remote.remove(change.n, change.f);
        return;
      }
      if (channel === this.#key("ctl", this.nodeId)) {
        const control = JSON.parse(text) as Control;
        if (control.t !== "release" && control.t !== "released") {
          throw new TypeError("not a control message");
        }
        this.#onControl(control);
      }
    } catch (error) {
      // Malformed: logged and skipped, never a crash.
      this.#failed("message", error, { channel });
    }
  }

  /**
   * Routes a message from another node here, serving only the shared
   * groups it was given; never throws or rejects.
   */
  #route(
    node: BusNode,
    message: Message,
    groups: readonly GroupKey[],
  ): Promise<void> | undefined {
    try {
      const routed = node.routeLocal(message, false, servedBy(groups));
      return routed?.catch((error) => this.#failed("route", error));
    } catch (error) {
      this.#failed("route", error);
      return undefined;
    }
  }

  // -- heartbeat and gone nodes -------------------------------------------------

  #heartbeat(): Heartbeat {
    const stats = this.#stats?.() ?? { clients: 0, subscriptions: 0 };
    return { at: Date.now(), ...stats };
  }

  #tick(): void {
    if (this.#closed) return;
    const started = performance.now();
    const stream = this.#key("stream", this.nodeId);
    this.#redis.pipeline([
      [
        "SET",
        this.#key("node", this.nodeId),
        JSON.stringify(this.#heartbeat()),
        "PX",
        this.#heartbeatTtl,
      ],
      ["SMEMBERS", this.#key("nodes")],
      ["XLEN", stream],
    ]).then(async ([, members, length]) => {
      this.#roundTrip = performance.now() - started;
      this.#backlog = replyOptionalNumber(length ?? null) ?? 0;
      this.#failing.delete("heartbeat");
      const ids = Array.isArray(members)
        ? members.map((m) => replyText(m)).filter((id) => id !== this.nodeId)
        : [];
      if (ids.length === 0) return;
      const beats = await this.#redis.pipeline(
        ids.map((id) => ["GET", this.#key("node", id)]),
      );
      for (const [i, id] of ids.entries()) {
        const beat = parseHeartbeat(beats[i]);
        if (beat !== undefined) {
          if (!this.#peers.has(id)) {
            // A node that joined: its filters, in full.
            this.#peers.set(id, beat);
            await this.#resync();
          } else this.#peers.set(id, beat);
          continue;
        }
        // Gone only once silent for a whole heartbeat's time: a Redis that
        // restarted lost every key, the live nodes' too.
        const last = this.#peers.get(id);
        if (last !== undefined && Date.now() - last.at < this.#heartbeatTtl) {
          continue;
        }
        this.#peers.delete(id);
        this.#remote.forget(id);
        await this.#adopt(id);
      }
    }).catch((error) => this.#failed("heartbeat", error));
  }

  /**
   * A node's heartbeat lapsed: one node (the first to take the lock)
   * adopts its sessions through the store, takes what was sent to it, and
   * removes what Redis kept of it.
   */
  async #adopt(gone: string): Promise<void> {
    const lock = await this.#redis.send([
      "SET",
      this.#key("adopt", gone),
      this.nodeId,
      "NX",
      "PX",
      60_000,
    ]);
    if (lock === null) return;
    this.#logger.warn("cluster node gone: adopting it", {
      node_id: gone,
      by: this.nodeId,
    });
    const adopted = await this.#node?.adopt(gone) ?? [];
    // Their clients are this node's to release when they come back.
    if (adopted.length > 0) {
      await this.#redis.send([
        "HSET",
        this.#key("clients"),
        ...adopted.flatMap((clientId) => [clientId, this.nodeId]),
      ]);
    }
    const stream = this.#key("stream", gone);
    try {
      await this.#streams.drain(stream);
    } catch (error) {
      this.#failed("adopt", error);
      return;
    }
    await this.#redis.pipeline([
      ["DEL", stream, this.#key("interest", gone)],
      ["SREM", this.#key("nodes"), gone],
    ]);
  }

  // -- status and leaving --------------------------------------------------------

  /** What this node knows of the cluster now. */
  status(): ClusterStatus {
    const now = Date.now();
    const self = this.#heartbeat();
    const nodes: ClusterNode[] = [{
      nodeId: this.nodeId,
      self: true,
      heartbeatAge: 0,
      clients: self.clients,
      subscriptions: this.#local.size,
    }];
    for (const [nodeId, beat] of this.#peers) {
      nodes.push({
        nodeId,
        self: false,
        heartbeatAge: Math.max(0, now - beat.at),
        clients: beat.clients,
        subscriptions: this.#remote.count(nodeId),
      });
    }
    return {
      nodeId: this.nodeId,
      connected: this.#redis.connected,
      nodes,
      messagesSent: this.#sender.sent,
      messagesDropped: this.#sender.dropped,
      messagesReceived: this.#received + this.#streams.received,
      roundTrip: this.#roundTrip,
      backlog: this.#backlog,
    };
  }

  /**
   * Nodes other than this one that a message on a topic goes to; for
   * tests and operators.
   */
  nodesFor(topic: string): string[] {
    const nodes = new Set<string>();
    this.#remote.match(topic, nodes);
    return [...nodes].sort();
  }

  /**
   * Leaves the cluster: stops reading, removes this node's heartbeat and
   * closes its connections. Its filters and stream stay: what is sent to it
   * waits there, and another node adopts its sessions (and takes the
   * stream) as for a node that died.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const done of this.#waiting.values()) done();
    this.#waiting.clear();
    if (this.#node !== undefined && this.#redis.connected) {
      // Gone at once rather than after its heartbeat's time: another node
      // adopts its sessions and takes what is sent to it meanwhile.
      const left: InterestChange = { n: this.nodeId, op: "l", f: "" };
      await this.#redis.pipeline([
        ["DEL", this.#key("node", this.nodeId)],
        ["PUBLISH", this.#key("interest"), JSON.stringify(left)],
      ]).catch(() => {});
    }
    await this.#reader.close();
    await this.#reading;
    await this.#subscriber.close();
    await this.#redis.close();
    this.#node = undefined;
  }

  /**
   * Logs QoS 0 messages dropped because Redis took commands slower than
   * they came: a warning at most once a minute, with the count since.
   */
  #droppedQoS0(count: number, unwritten: number): void {
    this.#droppedSinceWarning += count;
    const now = Date.now();
    if (now - this.#droppedWarnedAt < DROP_WARNING_INTERVAL) return;
    this.#droppedWarnedAt = now;
    this.#logger.warn("cluster messages dropped: Redis is behind", {
      node_id: this.nodeId,
      qos: 0,
      dropped: this.#droppedSinceWarning,
      unwritten_bytes: unwritten,
    });
    this.#droppedSinceWarning = 0;
  }

  /** Logs a failure once until things work again. */
  #failed(
    kind: string,
    error: unknown,
    fields: Record<string, unknown> = {},
  ): void {
    if (this.#failing.has(kind)) return;
    this.#failing.add(kind);
    this.#logger.error("cluster error", {
      node_id: this.nodeId,
      kind,
      error: error instanceof Error ? error.message : String(error),
      ...fields,
    });
  }
}
