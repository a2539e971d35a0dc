/**
 * The store that keeps everything in memory, the default.
 *
 * @module
 */

import type { Message } from "../message.ts";
import type {
  Delivery,
  SessionRecord,
  Store,
  StoredInflight,
  StoredSession,
  StoredState,
  SubscriptionRecord,
} from "../core/ports.ts";

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
 * import { MemoryStore, Server } from "@gmqtt/broker";
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
