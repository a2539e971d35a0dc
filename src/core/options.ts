/**
 * The limits and policies the core reads, every default filled in by the
 * server (see `ServerOptions` for what each means and its default).
 *
 * @module
 */

/** Who gets a shared subscription's message when members are offline. */
export type SharedSubscriptionOffline = "online_first" | "round_robin";

/** What a full queue of an online subscriber does to the publisher. */
export type QueueFullPolicy = "backpressure" | "drop";

/** What a client gets that takes up a session made under another user name. */
export type SessionOwnerChange = "refuse" | "clean";

/** What the core needs of the server's options. */
export interface CoreOptions {
  readonly maxInflight: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly maxQueuedMemory: number;
  readonly queueQoS0Messages: boolean;
  readonly queueFull: QueueFullPolicy;
  readonly retainAvailable: boolean;
  readonly maxRetainedMessages: number;
  readonly maxRetainedBytes: number;
  readonly messageExpiry: number;
  readonly sharedSubscriptionOffline: SharedSubscriptionOffline;
  readonly maxSessions: number;
  readonly sessionOwnerChange: SessionOwnerChange;
}
