/**
 * The application message as the broker routes, queues and retains it.
 *
 * @module
 */

import type { Properties, QoS } from "../packets/types.ts";

/**
 * An application message inside the broker. It is immutable once routed: the
 * broker shares one object among every subscriber, queue and the retained
 * store, so its payload is the broker's own copy, never a view of a read
 * buffer.
 */
export interface Message {
  /** Topic name the message was published to. */
  readonly topic: string;
  /** Application payload. */
  readonly payload: Uint8Array;
  /** QoS the message was published with. */
  readonly qos: QoS;
  /** RETAIN flag as published. */
  readonly retain: boolean;
  /**
   * MQTT 5.0 publish properties forwarded to subscribers (never `topicAlias`
   * or `subscriptionIdentifiers`, which are per connection).
   */
  readonly properties?: Properties;
  /** When the message expires, in milliseconds of the server clock. */
  readonly expiresAt?: number;
  /** Client id of the publisher; `undefined` for messages the server made. */
  readonly publisher?: string;
  /** When the server accepted the message, in milliseconds. */
  readonly createdAt: number;
}
