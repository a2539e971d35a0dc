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

/**
 * A copy of MQTT properties that owns its bytes: every byte array in them
 * (such as `correlationData`) is copied, so the result stays intact when the
 * read buffer the packet was decoded from is reused. Strings, numbers and
 * the user property pairs (strings) are shared.
 *
 * @example Keep correlation data past the read buffer
 * ```ts
 * import { ownProperties } from "./message.ts";
 * import { deepStrictEqual, notStrictEqual } from "node:assert/strict";
 *
 * const buffer = Uint8Array.of(1, 2, 3);
 * const properties = { correlationData: buffer.subarray(0, 2) };
 * const owned = ownProperties(properties);
 * buffer.fill(0);
 * deepStrictEqual(owned.correlationData, Uint8Array.of(1, 2));
 * notStrictEqual(owned, properties);
 * ```
 * @param properties Properties decoded from a packet.
 * @returns A shallow copy with its own byte arrays.
 */
export function ownProperties(properties: Properties): Properties {
  const copy: Properties = { ...properties };
  for (const field of BYTE_FIELDS) {
    const bytes = copy[field];
    if (bytes !== undefined) copy[field] = bytes.slice();
  }
  if (copy.userProperties !== undefined) {
    copy.userProperties = copy.userProperties.slice();
  }
  return copy;
}

/** The properties whose values are byte arrays. */
type ByteField = {
  [K in keyof Properties]-?: NonNullable<Properties[K]> extends Uint8Array ? K
    : never;
}[keyof Properties];

/**
 * Every byte array property, as a record so that a new one in `Properties`
 * does not compile until it is listed (and so copied).
 */
const BYTE_FIELD_SET: Readonly<Record<ByteField, true>> = {
  correlationData: true,
  authenticationData: true,
};
const BYTE_FIELDS: readonly ByteField[] = Object.freeze(
  Object.keys(BYTE_FIELD_SET) as ByteField[],
);
