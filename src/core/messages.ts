/**
 * How the core makes its own messages: from a client's PUBLISH, from a
 * will, and back again with a will's times set when it is published.
 *
 * @module
 */

import type { Properties, PublishPacket, Will } from "../../packets/types.ts";
import { type Message, ownProperties } from "../message.ts";
import type { StoredWill } from "./ports.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The broker's own copy of a message from a client's PUBLISH: the payload
 * and properties are copied out of the read buffer, which is reused.
 *
 * @param packet The PUBLISH as decoded.
 * @param topic Its topic, a topic alias resolved.
 * @param publisher The publisher's client id.
 * @param now The server clock now, in milliseconds.
 * @param ownsPayload Whether the packet's payload is already a copy of
 * its own (the message takes it as it is).
 * @returns The message to route.
 */
export function messageFromPublish(
  packet: PublishPacket,
  topic: string,
  publisher: string | undefined,
  now: number,
  ownsPayload = false,
): Message {
  const message: Mutable<Message> = {
    topic,
    payload: ownsPayload ? packet.payload : packet.payload.slice(),
    qos: packet.qos,
    retain: packet.retain,
    createdAt: now,
  };
  const props = packet.properties;
  if (props !== undefined) {
    const properties = forwardedProperties(props);
    if (properties !== undefined) message.properties = properties;
    const expiry = props.messageExpiryInterval;
    if (expiry !== undefined) message.expiresAt = now + expiry * 1000;
  }
  if (publisher !== undefined) message.publisher = publisher;
  return message;
}

/**
 * A will as the session keeps it until it is published or discarded.
 *
 * @param clientId Its client's id, the publisher.
 * @param will The will of the CONNECT.
 * @param now The server clock now, in milliseconds.
 * @returns The will to keep.
 */
export function storedWill(
  clientId: string,
  will: Will,
  now: number,
): StoredWill {
  const properties = will.properties === undefined
    ? undefined
    : forwardedProperties(will.properties);
  return {
    message: {
      topic: will.topic,
      // The connection copied the will out of its read buffer already; this
      // copy keeps the message safe from whoever else holds the will.
      payload: will.payload.slice(),
      qos: will.qos,
      retain: will.retain,
      ...(properties !== undefined ? { properties } : {}),
      publisher: clientId,
      createdAt: now,
    },
    messageExpiryInterval: will.properties?.messageExpiryInterval,
    delayInterval: will.properties?.willDelayInterval ?? 0,
    dueAt: undefined,
  };
}

/**
 * The message of a will published now: made then, expiring its Message
 * Expiry Interval from now.
 *
 * @param will The will kept.
 * @param now The server clock now, in milliseconds.
 * @returns The message to route.
 */
export function willMessage(will: StoredWill, now: number): Message {
  const expiry = will.messageExpiryInterval;
  const { expiresAt: _, ...message } = will.message;
  return {
    ...message,
    createdAt: now,
    ...(expiry !== undefined ? { expiresAt: now + expiry * 1000 } : {}),
  };
}

/**
 * PUBLISH properties that travel with the message to subscribers, with their
 * own copy of any bytes (correlation data is a view into the read buffer).
 */
function forwardedProperties(props: Properties): Properties | undefined {
  const {
    topicAlias: _alias,
    subscriptionIdentifiers: _ids,
    messageExpiryInterval: _expiry,
    willDelayInterval: _delay,
    ...rest
  } = props;
  for (const _ in rest) return ownProperties(rest);
  return undefined;
}
