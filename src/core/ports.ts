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

import type { ClientInfo, ConnectionInfo } from "../types.ts";
import type { Message } from "../message.ts";
import type {
  Delivery,
  Session,
  SessionOutput,
  SubscriptionRecord,
} from "./session.ts";

export type { Delivery, SubscriptionRecord };

// -- the client link ---------------------------------------------------------

/** One client's connection as the broker core sees it. */
export interface ClientLink extends SessionOutput {
  /** Set once CONNECT was accepted. */
  readonly client: ClientInfo | undefined;
  /** The session while the client is connected. */
  readonly session: Session | undefined;
  /**
   * Why a session that ends with this connection ends, when not the
   * client's doing; given to `close`.
   */
  readonly endReason: EndReason | undefined;
  /** Whether close has begun. */
  readonly isClosed: boolean;
  /** When the connection was accepted, in server milliseconds. */
  readonly openedAt: number;
  /** When anything was last read, in server milliseconds. */
  readonly lastActivity: number;
  /** Whether a CONNECT waits for its hooks. */
  readonly connectPending: boolean;
  /** Bytes written to the connection and not yet taken by the OS. */
  readonly outputBytes: number;
  /** Where it comes from. */
  readonly transport: { readonly info: ConnectionInfo };
  /** Lets go of memory kept for reuse while the connection is busy. */
  trim(): void;
  /** Resolves once the unsent output has drained to half its limit. */
  outputDrained(): Promise<void>;
  /** Closes the connection; resolves when closed, never rejects. */
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
  /** The will as it will be published. */
  readonly message: Message;
  /** Will delay in seconds (MQTT 5.0); 0 publishes it at once. */
  readonly delayInterval: number;
  /** When it is due, once its client is gone; `undefined` while connected. */
  readonly dueAt: number | undefined;
}

/** An outgoing QoS 1 or 2 message not yet acknowledged, as stored. */
export interface StoredInflight {
  readonly packetId: number;
  readonly delivery: Delivery;
  /** 1: PUBLISH sent; 2: PUBREC received and PUBREL sent. */
  readonly phase: 1 | 2;
}

/** Everything stored about one session. */
export interface StoredSession {
  readonly session: SessionRecord;
  /** Subscriptions by their full topic filter (`$share/...` included). */
  readonly subscriptions: readonly (readonly [string, SubscriptionRecord])[];
  /** Deliveries waiting for the client, oldest first. */
  readonly queue: readonly Delivery[];
  /** Messages in flight to the client, in the order they were sent. */
  readonly inflight: readonly StoredInflight[];
  /** Packet ids of incoming QoS 2 messages not yet released by PUBREL. */
  readonly incomingQoS2: readonly number[];
}

/** What a store gives back when the server starts. */
export interface StoredState {
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
   * connection; may return a promise.
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
  /** Records a message in flight, or moves it to phase 2. */
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

