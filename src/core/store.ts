/**
 * The store port: the one interface through which the core writes, and at
 * start reads back, every piece of state that must outlive the process or
 * be shared between nodes. The core keeps its working state in its own
 * memory (sessions, queues, the topic tree) and writes each change through
 * the port as it happens; a store only has to remember and give back.
 *
 * {@linkcode MemoryStore} is the default: it keeps the records in maps, so a
 * new `Server` given the same store resumes every session, queue, message
 * in flight and retained message of the one before, within one process.
 * A durable store (SQLite, Redis) implements the same interface; the
 * contract suite in `tests/store_contract.ts` says what each must do.
 *
 * Writes are synchronous calls that must not throw for a valid record: a
 * store that writes to disk or network batches them and makes them durable
 * by {@linkcode Store.flush}, which the server awaits before it
 * acknowledges what the client must not lose.
 *
 * @module
 */

import type { Message } from "../message.ts";
import type { Delivery, SubscriptionRecord } from "./session.ts";

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

/** One session's state inside a {@linkcode MemoryStore}. */
interface MemorySession {
  record: SessionRecord;
  readonly subscriptions: Map<string, SubscriptionRecord>;
  readonly queue: Set<Delivery>;
  readonly inflight: Map<number, StoredInflight>;
  readonly incomingQoS2: Set<number>;
}

/**
 * The store that keeps everything in memory: the default. Writes are map
 * updates that keep references to the core's own objects (a message is
 * never copied), and `flush` never waits. State survives a `Server`
 * restart within one process when the new server is given the same store.
 *
 * @example Two servers in turn over one store
 * ```ts
 * import { MemoryStore, Server } from "./mod.ts";
 *
 * const store = new MemoryStore();
 * const first = new Server({ store });
 * await first.publish({ topic: "a/b", payload: "kept", retain: true });
 * await first.stop();
 *
 * const second = new Server({ store });
 * await second.start();
 * const retained = second.retained();
 * if (retained[0]?.topic !== "a/b") throw new Error("lost");
 * await second.stop();
 * ```
 */
export class MemoryStore implements Store {
  readonly #sessions: Map<string, MemorySession> = new Map();
  readonly #retained: Map<string, Message> = new Map();

  load(): StoredState {
    const sessions: StoredSession[] = [];
    for (const s of this.#sessions.values()) {
      sessions.push({
        session: s.record,
        subscriptions: [...s.subscriptions],
        queue: [...s.queue],
        inflight: [...s.inflight.values()].map((entry) => ({ ...entry })),
        incomingQoS2: [...s.incomingQoS2],
      });
    }
    return { sessions, retained: [...this.#retained.values()] };
  }

  saveSession(record: SessionRecord): void {
    const session = this.#sessions.get(record.clientId);
    if (session !== undefined) {
      session.record = record;
      return;
    }
    this.#sessions.set(record.clientId, {
      record,
      subscriptions: new Map(),
      queue: new Set(),
      inflight: new Map(),
      incomingQoS2: new Set(),
    });
  }

  deleteSession(clientId: string): void {
    this.#sessions.delete(clientId);
  }

  saveSubscription(
    clientId: string,
    topicFilter: string,
    record: SubscriptionRecord,
  ): void {
    this.#sessions.get(clientId)?.subscriptions.set(topicFilter, record);
  }

  deleteSubscription(clientId: string, topicFilter: string): void {
    this.#sessions.get(clientId)?.subscriptions.delete(topicFilter);
  }

  enqueue(clientId: string, delivery: Delivery): void {
    this.#sessions.get(clientId)?.queue.add(delivery);
  }

  dequeue(clientId: string, delivery: Delivery): void {
    this.#sessions.get(clientId)?.queue.delete(delivery);
  }

  saveInflight(
    clientId: string,
    packetId: number,
    delivery: Delivery,
    phase: 1 | 2,
  ): void {
    const inflight = this.#sessions.get(clientId)?.inflight;
    if (inflight === undefined) return;
    const entry = inflight.get(packetId);
    if (entry !== undefined && entry.delivery === delivery) {
      // A phase change keeps the message's place in the sending order.
      (entry as { phase: 1 | 2 }).phase = phase;
      return;
    }
    inflight.delete(packetId);
    inflight.set(packetId, { packetId, delivery, phase });
  }

  deleteInflight(clientId: string, packetId: number): void {
    this.#sessions.get(clientId)?.inflight.delete(packetId);
  }

  saveIncoming(clientId: string, packetId: number): void {
    this.#sessions.get(clientId)?.incomingQoS2.add(packetId);
  }

  deleteIncoming(clientId: string, packetId: number): void {
    this.#sessions.get(clientId)?.incomingQoS2.delete(packetId);
  }

  saveRetained(message: Message): void {
    this.#retained.set(message.topic, message);
  }

  deleteRetained(topic: string): void {
    this.#retained.delete(topic);
  }

  flush(): undefined {
    return undefined;
  }

  close(): void {}
}
