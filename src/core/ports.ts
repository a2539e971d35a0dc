/**
 * The ports of the core: what it needs from the layers around it, declared
 * here and implemented elsewhere. A {@linkcode ClientLink} is one connected
 * client (the protocol layer's connection); a {@linkcode Store} keeps what
 * must survive a restart (`src/store/` has the implementations); a
 * {@linkcode Bus} carries messages and session takeovers to other nodes of
 * a cluster (`LocalBus` is the single-node one).
 *
 * The store port: the core keeps its working state in its own memory
 * (sessions, queues, the topic tree) and writes each change through the
 * store as it happens; at start it reads everything back. Writes are
 * synchronous calls that must not throw for a valid record: a store that
 * writes to disk or network batches them itself and makes them durable in
 * {@linkcode Store.flush}, which the server awaits before it acknowledges
 * what a client must not lose.
 *
 * @module
 */

import type { PublishPacket, QoS, Subscription } from "../../packets/types.ts";
import type { RefusalCode } from "../../packets/reason_code.ts";
import type {
  ClientInfo,
  DropReason,
  SessionTerminatedReason,
} from "../types.ts";
import type { Message } from "../message.ts";

// -- what travels through the ports -----------------------------------------

/** A subscription as the session keeps it. */
export interface SubscriptionRecord extends Subscription {
  /** Subscription identifier (MQTT 5.0), if the SUBSCRIBE carried one. */
  readonly subscriptionId?: number;
  /** Share name of a `$share/{name}/{filter}` subscription. */
  readonly shareName?: string;
  /**
   * Whether each message bound to it first goes through the `checkDeliver`
   * hooks: a subscribe hook asked for it (an ACL deny rule overlaps it).
   */
  readonly checkDeliver?: boolean;
}

/** A message bound for one subscriber, at the QoS it is delivered with. */
export interface Delivery {
  /** The message, shared by every delivery of it. */
  readonly message: Message;
  /** Delivery QoS: the lower of the message's and the subscription's. */
  readonly qos: QoS;
  /** RETAIN flag as sent: set for retained messages sent on subscribe. */
  readonly retain: boolean;
  /** Subscription identifiers of the matching subscriptions (MQTT 5.0). */
  readonly subscriptionIds: number[] | undefined;
  /** When it expires in a queue: the message's expiry, or the server's limit. */
  readonly expiresAt: number | undefined;
}

/** What a session needs from its connection while the client is online. */
export interface SessionOutput {
  /** Writes a PUBLISH; false if the output buffer is full (QoS 0 only). */
  sendPublish(
    delivery: Delivery,
    packetId: number | undefined,
    dup: boolean,
  ): boolean;
  /** Writes a PUBREL. */
  sendPubrel(packetId: number): void;
}

// -- the client link ---------------------------------------------------------

/**
 * One connected client as the core sees it: who it is, where its
 * session's messages go, and how the core closes it (a takeover, a kick).
 * The protocol layer's connection implements it.
 */
export interface ClientLink extends SessionOutput {
  /** Set once CONNECT was accepted. */
  readonly client: ClientInfo | undefined;
  /** Whether close has begun. */
  readonly isClosed: boolean;
  /**
   * Closes the connection, the reason with the call; resolves when closed,
   * never rejects.
   */
  close(error: Error | undefined, options?: CloseOptions): Promise<void>;
}

/** Why the server ends a connection when it is not the client's doing. */
export type EndReason = "taken_over" | "kicked";

/** How the server closes a connection: the reason travels with the call. */
export interface CloseOptions {
  /** The reason code a 5.0 client is told in DISCONNECT; none by default. */
  reasonCode?: number;
  /** Why the session ends with it, when not the client's doing. */
  endReason?: EndReason;
}

// -- the store -----------------------------------------------------------------

/** What is stored of a session besides its subscriptions and messages. */
export interface SessionRecord {
  /** The client id: the session's key. */
  readonly clientId: string;
  /** User name its client last connected with. */
  readonly username: string | undefined;
  /** Seconds the session outlives its connection; 0xFFFFFFFF: never ends. */
  readonly expiryInterval: number;
  /** When the session was made, in server milliseconds. */
  readonly createdAt: number;
  /**
   * When its client disconnected, in server milliseconds; `undefined` while
   * the client is connected (a store read after a crash gives the sessions
   * whose clients were connected this way).
   */
  readonly disconnectedAt: number | undefined;
  /**
   * The will of its connected client, or of a client gone whose will waits
   * for its delay, if any.
   */
  readonly will: StoredWill | undefined;
}

/** A will kept with its session. */
export interface StoredWill {
  /**
   * The will as it will be published; its `createdAt` and `expiresAt` are
   * set again when it is.
   */
  readonly message: Message;
  /** Message Expiry Interval of the will in seconds (MQTT 5.0), if any. */
  readonly messageExpiryInterval: number | undefined;
  /** Will delay in seconds (MQTT 5.0); 0 publishes it at once. */
  readonly delayInterval: number;
  /** When it is due, once its client is gone; `undefined` while connected. */
  readonly dueAt: number | undefined;
}

/** An outgoing QoS 1 or 2 message not yet acknowledged, as stored. */
export interface StoredInflight {
  /** The packet id it was sent with. */
  readonly packetId: number;
  /** What was sent. */
  readonly delivery: Delivery;
  /** 1: PUBLISH sent; 2: PUBREC received and PUBREL sent. */
  readonly phase: 1 | 2;
}

/** Everything stored about one session. */
export interface StoredSession {
  /** The session's record. */
  readonly session: SessionRecord;
  /** Subscriptions by their full topic filter (`$share/...` included). */
  readonly subscriptions: readonly (readonly [string, SubscriptionRecord])[];
  /**
   * Deliveries waiting for the client, oldest first: all of them, or none
   * from a store with {@linkcode Store.readQueue}, which counts them in
   * `queueInStore` instead.
   */
  readonly queue: readonly Delivery[];
  /**
   * How many deliveries the store holds for the session beyond `queue`, and
   * their bytes as `queuedSize` counts them; read with
   * {@linkcode Store.readQueue} when the client returns.
   */
  readonly queueInStore?: { readonly count: number; readonly bytes: number };
  /** Messages in flight to the client, in the order they were sent. */
  readonly inflight: readonly StoredInflight[];
  /** Packet ids of incoming QoS 2 messages not yet released by PUBREL. */
  readonly incomingQoS2: readonly number[];
}

/** What a store gives back when the server starts. */
export interface StoredState {
  /** Every session kept. */
  readonly sessions: readonly StoredSession[];
  /** Retained messages, one per topic. */
  readonly retained: readonly Message[];
}

/**
 * Where the core keeps what must survive a restart. Every write names the
 * session by client id; a write for a session not saved (or deleted) is
 * ignored. Deliveries are identified by object: the core hands the same
 * `Delivery` object to `enqueue` and later to `dequeue`.
 */
export interface Store {
  /**
   * Reads everything stored. Called once, before the server accepts a
   * connection; may return a promise. Queues and messages in flight come
   * back in their order; sessions, subscriptions, packet ids and retained
   * messages in any order.
   */
  load(): StoredState | Promise<StoredState>;
  /** Creates or replaces a session's record; keeps what it holds. */
  saveSession(record: SessionRecord): void;
  /** Ends a session: its record, subscriptions, queue and messages in flight. */
  deleteSession(clientId: string): void;
  /** Adds or replaces a subscription of a session. */
  saveSubscription(
    clientId: string,
    topicFilter: string,
    record: SubscriptionRecord,
  ): void;
  /** Removes a subscription of a session. */
  deleteSubscription(clientId: string, topicFilter: string): void;
  /** Appends a delivery to a session's queue. */
  enqueue(clientId: string, delivery: Delivery): void;
  /** Removes a delivery from a session's queue: sent, dropped or expired. */
  dequeue(clientId: string, delivery: Delivery): void;
  /**
   * Optional, for a store shared by the nodes of a cluster: reads one
   * session (its subscriptions, queue and messages in flight, as `load()`
   * gives them) that another node may have written, and makes this node
   * the one whose `load()` gives it back; the writes so far are made
   * first. `undefined` if no such session is stored.
   */
  loadSession?(
    clientId: string,
  ): StoredSession | undefined | Promise<StoredSession | undefined>;
  /**
   * Optional, for a store shared by the nodes of a cluster: moves every
   * session of a node that is gone to this node, and gives them back as
   * `load()` would. Two nodes asking at once get each session once.
   */
  adoptSessions?(
    nodeId: string,
  ): readonly StoredSession[] | Promise<readonly StoredSession[]>;
  /**
   * Optional: reads up to `limit` deliveries of a session's queue, oldest
   * first, after the oldest `skip` (the writes so far included); `dequeue`
   * then takes them by object like the ones enqueued. A store that has it
   * keeps the queues of offline sessions on its side: the core holds only
   * their counts (`load()` gives them back as `queueInStore`), and reads
   * them a page at a time when the client returns, skipping those it holds.
   */
  readQueue?(
    clientId: string,
    skip: number,
    limit: number,
  ): readonly Delivery[] | Promise<readonly Delivery[]>;
  /**
   * Records a message in flight, or moves it to phase 2 (the same delivery,
   * which keeps its place in the sending order). The core reuses a packet
   * id only after `deleteInflight`.
   */
  saveInflight(
    clientId: string,
    packetId: number,
    delivery: Delivery,
    phase: 1 | 2,
  ): void;
  /** Forgets a message in flight: acknowledged. */
  deleteInflight(clientId: string, packetId: number): void;
  /** Records the packet id of an incoming QoS 2 message not yet released. */
  saveIncoming(clientId: string, packetId: number): void;
  /** Forgets an incoming QoS 2 packet id: PUBREL received. */
  deleteIncoming(clientId: string, packetId: number): void;
  /** Stores a retained message, replacing the one of its topic. */
  saveRetained(message: Message): void;
  /** Removes the retained message of a topic. */
  deleteRetained(topic: string): void;
  /**
   * Makes every write so far durable. `undefined` when they are already
   * (a store in memory), so that nothing waits for a promise per message;
   * else a promise that resolves once they are, or rejects if they cannot
   * be.
   */
  flush(): Promise<void> | undefined;
  /** Lets go of what the store holds open; called once, when the server stops. */
  close(): void | Promise<void>;
}

// -- the bus -------------------------------------------------------------------

/**
 * Which shared subscription groups a node serves for one message: in a
 * cluster, a group with members on several nodes gets each message on one
 * node only, and the others skip it.
 */
export type SharedGroupFilter = (
  shareName: string,
  topicFilter: string,
) => boolean;

/**
 * What a {@linkcode Bus} calls back into: the node's own router and
 * sessions.
 */
export interface BusNode {
  /**
   * Routes a message to this node's own subscribers. `hold` is the
   * router's: full queues of online subscribers keep the message over their
   * limits and the answer waits until they have room (`queueFull`
   * "backpressure"); only a message from a client of this node is held.
   */
  routeLocal(
    message: Message,
    hold: boolean,
    groups?: SharedGroupFilter,
  ): Promise<void> | undefined;
  /**
   * Ends this node's connection of a client id, because the client
   * connected to another node (session takeover), and resolves once its
   * session state is written to the store. With a store shared by the
   * nodes (one with `loadSession`), the session leaves this node too.
   */
  release(clientId: string): Promise<void> | undefined;
  /**
   * Takes in the sessions of a node that is gone (read with the store's
   * `adoptSessions`), offline, as after a crash: their subscriptions
   * route here, and the wills of clients that were connected go out.
   * Gives the client ids taken in; `undefined` when the store has no such
   * sessions to give.
   */
  adopt(
    nodeId: string,
  ): readonly string[] | Promise<readonly string[]> | undefined;
  /** The store's durability barrier: `Store.flush`. */
  flush(): Promise<void> | undefined;
}

/**
 * The single place where the router hands a message to everyone who
 * subscribes: on one node only its own subscribers; in a cluster also the
 * other nodes that said they need the topic. It also carries session
 * takeovers between nodes. {@linkcode LocalBus} is the single-node one.
 */
export interface Bus {
  /** Wires the bus to this node; called once, before anything is routed. */
  attach(node: BusNode): void | Promise<void>;
  /**
   * Routes a message to every subscriber: this node's through
   * {@linkcode BusNode.routeLocal} (with `hold`, whose answer it returns),
   * other nodes' as the bus carries it.
   */
  publish(message: Message, hold: boolean): Promise<void> | undefined;
  /**
   * This node now has a subscription with the topic filter (a shared one's
   * filter without `$share/{name}/`): other nodes send it the messages
   * that match. Called once per filter, when its first subscription comes.
   */
  addInterest(topicFilter: string): void;
  /** This node's last subscription with the topic filter has gone. */
  removeInterest(topicFilter: string): void;
  /**
   * Optional: this node now has a member of the shared group
   * `$share/{shareName}/{topicFilter}` (called on the first), so that a
   * cluster gives each of its messages to one node with members.
   */
  addShareGroup?(shareName: string, topicFilter: string): void;
  /** Optional: this node's last member of the shared group has gone. */
  removeShareGroup?(shareName: string, topicFilter: string): void;
  /**
   * Asks the other nodes to release a client id whose client is connecting
   * here: resolves once they have (`undefined` at once when no other node
   * can hold it).
   */
  takeOver(clientId: string): Promise<void> | undefined;
  /**
   * Optional: resolves once what `publish` sent to other nodes so far is
   * durable on its way (QoS 1 and 2), rejects if it cannot be; `undefined`
   * when nothing waits. The server acknowledges a PUBLISH after it, as
   * after the store's `flush`.
   */
  flush?(): Promise<void> | undefined;
  /** Optional: what a cluster bus knows of the cluster, for operators. */
  status?(): ClusterStatus;
  /** Leaves the cluster; called once, when the server stops. */
  close(): void | Promise<void>;
}

/** One node of a cluster as {@linkcode ClusterStatus} shows it. */
export interface ClusterNode {
  /** Its node id. */
  readonly nodeId: string;
  /** Whether it is this node. */
  readonly self: boolean;
  /** Milliseconds since its last heartbeat. */
  readonly heartbeatAge: number;
  /** Clients connected to it, as its last heartbeat said. */
  readonly clients: number;
  /** Topic filters it subscribes to (its interest). */
  readonly subscriptions: number;
}

/** What a cluster bus shows operators. */
export interface ClusterStatus {
  /** This node's id. */
  readonly nodeId: string;
  /** Whether this node reaches the cluster's engine (Redis) now. */
  readonly connected: boolean;
  /** The live nodes, this one first. */
  readonly nodes: readonly ClusterNode[];
  /** Messages this node sent to other nodes (one per node). */
  readonly messagesSent: number;
  /**
   * QoS 0 messages for other nodes this node dropped because its engine
   * (Redis) took them slower than they came (one per node).
   */
  readonly messagesDropped: number;
  /** Messages this node received from other nodes. */
  readonly messagesReceived: number;
  /** Milliseconds of the last round trip to the engine. */
  readonly roundTrip: number;
  /** Messages sent to this node not yet taken (its backlog). */
  readonly backlog: number;
}

// -- the hooks -----------------------------------------------------------------

/**
 * What the core asks of the hooks (the hook runner implements it): the
 * transform and publish checks of messages it routes itself (wills), the
 * delivery check of marked subscriptions, and what it reports.
 */
export interface CoreHooks {
  /** Whether a hook transforms messages: without one, nothing is asked. */
  readonly hasTransform: boolean;
  /** The message to route instead (`null`: drop it). */
  transformMessage(
    client: ClientInfo | undefined,
    message: Message,
  ): Message | null | Promise<Message | null>;
  /** Whether a hook checks PUBLISH: without one, nothing is asked. */
  readonly hasCheckPublish: boolean;
  /** A refusal, or `undefined` to let a message (a will) be published. */
  checkPublish(
    client: ClientInfo,
    packet: PublishPacket,
  ): RefusalCode | undefined | Promise<RefusalCode | undefined>;
  /** Whether a marked subscription's message may go to its client. */
  mayDeliver(client: ClientInfo, message: Message): boolean;
  /** Whether a hook observes dropped messages. */
  readonly observesDropped: boolean;
  /** Whether a hook observes delivered messages. */
  readonly observesDelivered: boolean;
  /** Reports a session that ended. */
  notify(
    name: "onSessionTerminated",
    clientId: string,
    reason: SessionTerminatedReason,
  ): void;
  /** Reports a message not delivered. */
  notify(
    name: "onMessageDropped",
    clientId: string | undefined,
    message: Message,
    reason: DropReason,
  ): void;
  /** Reports a message written to a subscriber. */
  notify(name: "onDelivered", client: ClientInfo, message: Message): void;
}
