/**
 * Measuring and writing MQTT 5.0 properties. Private to `packets/`.
 *
 * @module
 */

import { BY_NAME, PUBLISH } from "./_properties.ts";
import type { Properties } from "./types.ts";
import {
  binarySize,
  checkInteger,
  stringSize,
  VAR_INT_MAX,
  varIntSize,
  writeBinary,
  writeString,
  writeU16,
  writeU32,
  writeVarInt,
} from "./_writer.ts";

function zeroOrOneSize(value: number, field: string): number {
  if (value !== 0 && value !== 1) {
    throw new RangeError(`Cannot encode ${field}: ${value} is not 0 or 1`);
  }
  return 2;
}

/**
 * Returns the size of the properties' content, without the property length.
 *
 * @param properties The properties, or `undefined` for none.
 * @param at The bit of the packet (or {@linkcode WILL}).
 * @param name The packet's name, for error messages.
 * @returns Their size in bytes.
 * @throws {TypeError} For an unknown property or one not allowed on this
 * packet [MQTT-2.2.2-2], or a value of the wrong type.
 * @throws {RangeError} For a value out of range.
 */
export function propertiesSize(
  properties: Properties | undefined,
  at: number,
  name: string,
): number {
  if (properties === undefined) return 0;
  let size = 0;
  for (const key in properties) {
    const field = `${name} property ${key}`;
    const definition = BY_NAME.get(key);
    if (definition === undefined) {
      throw new TypeError(`Cannot encode ${name}: unknown property ${key}`);
    }
    if ((definition[1] & at) === 0) {
      throw new TypeError(`Cannot encode ${field}: not allowed on ${name}`);
    }
    switch (key as keyof Properties) {
      case "payloadFormatIndicator":
        if (properties.payloadFormatIndicator === undefined) continue;
        size += zeroOrOneSize(properties.payloadFormatIndicator, field);
        break;
      case "requestProblemInformation":
        if (properties.requestProblemInformation === undefined) continue;
        size += zeroOrOneSize(properties.requestProblemInformation, field);
        break;
      case "requestResponseInformation":
        if (properties.requestResponseInformation === undefined) continue;
        size += zeroOrOneSize(properties.requestResponseInformation, field);
        break;
      case "maximumQoS":
        if (properties.maximumQoS === undefined) continue;
        size += zeroOrOneSize(properties.maximumQoS, field);
        break;
      case "retainAvailable":
        if (properties.retainAvailable === undefined) continue;
        size += zeroOrOneSize(properties.retainAvailable, field);
        break;
      case "wildcardSubscriptionAvailable":
        if (properties.wildcardSubscriptionAvailable === undefined) continue;
        size += zeroOrOneSize(properties.wildcardSubscriptionAvailable, field);
        break;
      case "subscriptionIdentifiersAvailable":
        if (properties.subscriptionIdentifiersAvailable === undefined) continue;
        size += zeroOrOneSize(
          properties.subscriptionIdentifiersAvailable,
          field,
        );
        break;
      case "sharedSubscriptionAvailable":
        if (properties.sharedSubscriptionAvailable === undefined) continue;
        size += zeroOrOneSize(properties.sharedSubscriptionAvailable, field);
        break;
      case "messageExpiryInterval":
      case "sessionExpiryInterval":
      case "willDelayInterval":
      case "maximumPacketSize": {
        const value = properties[key as "messageExpiryInterval"];
        if (value === undefined) continue;
        checkInteger(
          value,
          key === "maximumPacketSize" ? 1 : 0,
          0xffffffff,
          field,
        );
        size += 5;
        break;
      }
      case "serverKeepAlive":
      case "receiveMaximum":
      case "topicAliasMaximum":
      case "topicAlias": {
        const value = properties[key as "serverKeepAlive"];
        if (value === undefined) continue;
        const min = key === "receiveMaximum" || key === "topicAlias" ? 1 : 0;
        checkInteger(value, min, 0xffff, field);
        size += 3;
        break;
      }
      case "contentType":
      case "responseTopic":
      case "assignedClientIdentifier":
      case "authenticationMethod":
      case "responseInformation":
      case "serverReference":
      case "reasonString": {
        const value = properties[key as "contentType"];
        if (value === undefined) continue;
        size += 1 + stringSize(value, field);
        break;
      }
      case "correlationData":
      case "authenticationData": {
        const value = properties[key as "correlationData"];
        if (value === undefined) continue;
        size += 1 + binarySize(value, field);
        break;
      }
      case "subscriptionIdentifiers": {
        const values = properties.subscriptionIdentifiers;
        if (values === undefined) continue;
        if (!Array.isArray(values)) {
          throw new TypeError(`Cannot encode ${field}: not an array`);
        }
        if (at !== PUBLISH && values.length > 1) {
          throw new RangeError(
            `Cannot encode ${field}: ${name} carries at most one`,
          );
        }
        for (const value of values) {
          checkInteger(value, 1, VAR_INT_MAX, field);
          size += 1 + varIntSize(value);
        }
        break;
      }
      case "userProperties": {
        const pairs = properties.userProperties;
        if (pairs === undefined) continue;
        if (!Array.isArray(pairs)) {
          throw new TypeError(`Cannot encode ${field}: not an array`);
        }
        for (const pair of pairs) {
          if (!Array.isArray(pair) || pair.length !== 2) {
            throw new TypeError(
              `Cannot encode ${field}: each must be a [name, value] pair`,
            );
          }
          size += 1 + stringSize(pair[0], field) + stringSize(pair[1], field);
        }
        break;
      }
    }
  }
  return size;
}

/**
 * Writes the property length and the properties, in identifier order, after
 * {@linkcode propertiesSize} checked them.
 *
 * @param bytes The packet's buffer.
 * @param pos Where the property length goes.
 * @param properties The properties, or `undefined` for none.
 * @param size What {@linkcode propertiesSize} returned.
 * @returns The position after the properties.
 */
export function writeProperties(
  bytes: Uint8Array,
  pos: number,
  properties: Properties | undefined,
  size: number,
): number {
  pos = writeVarInt(bytes, pos, size);
  if (size === 0 || properties === undefined) return pos;
  const p = properties;
  if (p.payloadFormatIndicator !== undefined) {
    bytes[pos++] = 0x01;
    bytes[pos++] = p.payloadFormatIndicator;
  }
  if (p.messageExpiryInterval !== undefined) {
    bytes[pos++] = 0x02;
    pos = writeU32(bytes, pos, p.messageExpiryInterval);
  }
  if (p.contentType !== undefined) {
    bytes[pos++] = 0x03;
    pos = writeString(bytes, pos, p.contentType);
  }
  if (p.responseTopic !== undefined) {
    bytes[pos++] = 0x08;
    pos = writeString(bytes, pos, p.responseTopic);
  }
  if (p.correlationData !== undefined) {
    bytes[pos++] = 0x09;
    pos = writeBinary(bytes, pos, p.correlationData);
  }
  if (p.subscriptionIdentifiers !== undefined) {
    for (const value of p.subscriptionIdentifiers) {
      bytes[pos++] = 0x0b;
      pos = writeVarInt(bytes, pos, value);
    }
  }
  if (p.sessionExpiryInterval !== undefined) {
    bytes[pos++] = 0x11;
    pos = writeU32(bytes, pos, p.sessionExpiryInterval);
  }
  if (p.assignedClientIdentifier !== undefined) {
    bytes[pos++] = 0x12;
    pos = writeString(bytes, pos, p.assignedClientIdentifier);
  }
  if (p.serverKeepAlive !== undefined) {
    bytes[pos++] = 0x13;
    pos = writeU16(bytes, pos, p.serverKeepAlive);
  }
  if (p.authenticationMethod !== undefined) {
    bytes[pos++] = 0x15;
    pos = writeString(bytes, pos, p.authenticationMethod);
  }
  if (p.authenticationData !== undefined) {
    bytes[pos++] = 0x16;
    pos = writeBinary(bytes, pos, p.authenticationData);
  }
  if (p.requestProblemInformation !== undefined) {
    bytes[pos++] = 0x17;
    bytes[pos++] = p.requestProblemInformation;
  }
  if (p.willDelayInterval !== undefined) {
    bytes[pos++] = 0x18;
    pos = writeU32(bytes, pos, p.willDelayInterval);
  }
  if (p.requestResponseInformation !== undefined) {
    bytes[pos++] = 0x19;
    bytes[pos++] = p.requestResponseInformation;
  }
  if (p.responseInformation !== undefined) {
    bytes[pos++] = 0x1a;
    pos = writeString(bytes, pos, p.responseInformation);
  }
  if (p.serverReference !== undefined) {
    bytes[pos++] = 0x1c;
    pos = writeString(bytes, pos, p.serverReference);
  }
  if (p.reasonString !== undefined) {
    bytes[pos++] = 0x1f;
    pos = writeString(bytes, pos, p.reasonString);
  }
  if (p.receiveMaximum !== undefined) {
    bytes[pos++] = 0x21;
    pos = writeU16(bytes, pos, p.receiveMaximum);
  }
  if (p.topicAliasMaximum !== undefined) {
    bytes[pos++] = 0x22;
    pos = writeU16(bytes, pos, p.topicAliasMaximum);
  }
  if (p.topicAlias !== undefined) {
    bytes[pos++] = 0x23;
    pos = writeU16(bytes, pos, p.topicAlias);
  }
  if (p.maximumQoS !== undefined) {
    bytes[pos++] = 0x24;
    bytes[pos++] = p.maximumQoS;
  }
  if (p.retainAvailable !== undefined) {
    bytes[pos++] = 0x25;
    bytes[pos++] = p.retainAvailable;
  }
  if (p.userProperties !== undefined) {
    for (const [name, value] of p.userProperties) {
      bytes[pos++] = 0x26;
      pos = writeString(bytes, pos, name);
      pos = writeString(bytes, pos, value);
    }
  }
  if (p.maximumPacketSize !== undefined) {
    bytes[pos++] = 0x27;
    pos = writeU32(bytes, pos, p.maximumPacketSize);
  }
  if (p.wildcardSubscriptionAvailable !== undefined) {
    bytes[pos++] = 0x28;
    bytes[pos++] = p.wildcardSubscriptionAvailable;
  }
  if (p.subscriptionIdentifiersAvailable !== undefined) {
    bytes[pos++] = 0x29;
    bytes[pos++] = p.subscriptionIdentifiersAvailable;
  }
  if (p.sharedSubscriptionAvailable !== undefined) {
    bytes[pos++] = 0x2a;
    bytes[pos++] = p.sharedSubscriptionAvailable;
  }
  return pos;
}
