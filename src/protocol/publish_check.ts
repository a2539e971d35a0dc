/**
 * Checks a message published from the embedding program (`Server.publish`,
 * the HTTP API) before the broker takes it: every property must be one a
 * PUBLISH may carry and fit its encoding, and the whole PUBLISH must fit the
 * server's packet limit. A message that does not would be stored, then break
 * the connection of every subscriber it is sent to.
 *
 * @module
 */

import { utf8Length } from "../../packets/_utf8.ts";
import { isValidTopicName } from "../../packets/topic.ts";
import type { Properties } from "../../packets/types.ts";

/** Longest MQTT string or binary data, in bytes. */
const MAX_FIELD = 0xffff;

/** Properties a PUBLISH from the server may carry. */
const PUBLISH_PROPERTIES: ReadonlySet<string> = new Set([
  "payloadFormatIndicator",
  "messageExpiryInterval",
  "contentType",
  "responseTopic",
  "correlationData",
  "userProperties",
]);

/** A `TypeError` or `RangeError` naming the field it is about. */
export type PublishInputError = (TypeError | RangeError) & {
  readonly field: string;
};

/** What {@linkcode checkPublished} checks. */
export interface PublishedMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: number;
  readonly properties: Properties | undefined;
  readonly messageExpiryInterval: number | undefined;
}

/**
 * Checks a message for `Server.publish`.
 *
 * @param message The message, its payload as bytes.
 * @param maxPacketSize The largest packet the server takes.
 * @throws {TypeError} If a property is of the wrong type or not one a
 * PUBLISH carries; the error's `field` names it.
 * @throws {RangeError} If a property or the whole packet is too long; the
 * error's `field` names it.
 */
export function checkPublished(
  message: PublishedMessage,
  maxPacketSize: number,
): void {
  const topicBytes = utf8Length(message.topic);
  const expiry = message.messageExpiryInterval;
  if (
    expiry !== undefined &&
    (!Number.isInteger(expiry) || expiry < 0 || expiry > 0xffffffff)
  ) {
    throw fail(
      RangeError,
      "messageExpiryInterval",
      `messageExpiryInterval must be an integer from 0 to 4294967295, got ${expiry}`,
    );
  }
  // Properties: length of each encoded one, identifier byte included.
  let properties = expiry === undefined ? 0 : 5;
  const props = message.properties;
  if (props !== undefined) {
    if (typeof props !== "object" || props === null) {
      throw fail(TypeError, "properties", "properties must be an object");
    }
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined) continue;
      if (!PUBLISH_PROPERTIES.has(name)) {
        throw fail(
          TypeError,
          name,
          `${name} is not a property the server may publish`,
        );
      }
      properties += propertyLength(name, value, message.payload);
    }
  }
  const remaining = 2 + topicBytes + (message.qos > 0 ? 2 : 0) +
    varIntLength(properties) + properties + message.payload.length;
  const total = 1 + varIntLength(remaining) + remaining;
  if (total > maxPacketSize) {
    throw fail(
      RangeError,
      "payload",
      `the PUBLISH would take ${total} bytes, more than the largest packet (maxPacketSize ${maxPacketSize})`,
    );
  }
}

/** The encoded length of one PUBLISH property; throws if it is not valid. */
function propertyLength(
  name: string,
  value: unknown,
  payload: Uint8Array,
): number {
  switch (name) {
    case "payloadFormatIndicator":
      if (value !== 0 && value !== 1) {
        throw fail(TypeError, name, `${name} must be 0 or 1`);
      }
      if (value === 1 && !isUtf8(payload)) {
        // [MQTT-3.3.2-4] The payload must then be UTF-8.
        throw fail(
          TypeError,
          "payload",
          "payload must be UTF-8 when payloadFormatIndicator is 1",
        );
      }
      return 2;
    case "messageExpiryInterval":
      if (
        !Number.isInteger(value) || (value as number) < 0 ||
        (value as number) > 0xffffffff
      ) {
        throw fail(
          RangeError,
          name,
          `${name} must be an integer from 0 to 4294967295`,
        );
      }
      return 5;
    case "contentType":
    case "responseTopic":
      return 1 + stringLength(name, value, name === "responseTopic");
    case "correlationData":
      if (!(value instanceof Uint8Array)) {
        throw fail(TypeError, name, `${name} must be a Uint8Array`);
      }
      if (value.length > MAX_FIELD) {
        throw fail(
          RangeError,
          name,
          `${name} is ${value.length} bytes, more than ${MAX_FIELD}`,
        );
      }
      return 3 + value.length;
    case "userProperties": {
      if (!Array.isArray(value)) {
        throw fail(TypeError, name, `${name} must be an array of pairs`);
      }
      let length = 0;
      for (const pair of value) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw fail(
            TypeError,
            name,
            `${name} must be an array of [name, value] pairs`,
          );
        }
        length += 1 + stringLength(`${name} name`, pair[0], false) +
          stringLength(`${name} value`, pair[1], false);
      }
      return length;
    }
    default:
      throw fail(TypeError, name, `${name} is not a PUBLISH property`);
  }
}

/** Bytes of an MQTT string, its 2-byte length included. */
function stringLength(what: string, value: unknown, topic: boolean): number {
  const field = what.split(" ", 1)[0]!;
  if (typeof value !== "string") {
    throw fail(TypeError, field, `${what} must be a string`);
  }
  const bytes = utf8Length(value);
  if (bytes < 0) {
    // [MQTT-1.5.4-1] [MQTT-1.5.4-2]
    throw fail(TypeError, field, `${what} holds U+0000 or a lone surrogate`);
  }
  if (bytes > MAX_FIELD) {
    throw fail(
      RangeError,
      field,
      `${what} is ${bytes} bytes of UTF-8, more than ${MAX_FIELD}`,
    );
  }
  if (topic && !isValidTopicName(value)) {
    throw fail(TypeError, field, `${what} is not a valid topic name`);
  }
  return 2 + bytes;
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function varIntLength(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

function fail(
  kind: typeof TypeError | typeof RangeError,
  field: string,
  detail: string,
): PublishInputError {
  return Object.assign(new kind(`Cannot publish: ${detail}`), { field });
}

/**
 * The field a {@linkcode checkPublished} error names, or `undefined` for
 * another error.
 *
 * @param error A caught error.
 * @returns The field's name.
 */
export function publishErrorField(error: unknown): string | undefined {
  if (!(error instanceof TypeError || error instanceof RangeError)) {
    return undefined;
  }
  const field = (error as Partial<PublishInputError>).field;
  return typeof field === "string" ? field : undefined;
}
