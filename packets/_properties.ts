/**
 * MQTT 5.0 properties: which packet may carry which, and decoding them.
 * Encoding is in `_properties_encode.ts`.
 * Private to `packets/`.
 *
 * @module
 */

import { MqttError, ProtocolError } from "./errors.ts";
import { ReasonCode } from "./reason_code.ts";
import type { Reader } from "./_reader.ts";
import type { Properties, UserProperty } from "./types.ts";

/** Where a property may appear: one bit per packet type code, 0 for a will. */
export const WILL = 1 << 0;
/** Bit of CONNECT. */
export const CONNECT = 1 << 1;
/** Bit of CONNACK. */
export const CONNACK = 1 << 2;
/** Bit of PUBLISH. */
export const PUBLISH = 1 << 3;
/** Bit of PUBACK, PUBREC, PUBREL and PUBCOMP (by type code). */
export const ACKS = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
/** Bit of SUBSCRIBE. */
export const SUBSCRIBE = 1 << 8;
/** Bit of SUBACK. */
export const SUBACK = 1 << 9;
/** Bit of UNSUBSCRIBE. */
export const UNSUBSCRIBE = 1 << 10;
/** Bit of UNSUBACK. */
export const UNSUBACK = 1 << 11;
/** Bit of DISCONNECT. */
export const DISCONNECT = 1 << 14;
/** Bit of AUTH. */
export const AUTH = 1 << 15;

const MESSAGE = PUBLISH | WILL;
const ALL = WILL | CONNECT | CONNACK | PUBLISH | ACKS | SUBSCRIBE | SUBACK |
  UNSUBSCRIBE | UNSUBACK | DISCONNECT | AUTH;

/** Property identifier, name and where it may appear [MQTT-2.2.2-2]. */
const DEFINITIONS: readonly [id: number, name: keyof Properties, at: number][] =
  [
    [0x01, "payloadFormatIndicator", MESSAGE],
    [0x02, "messageExpiryInterval", MESSAGE],
    [0x03, "contentType", MESSAGE],
    [0x08, "responseTopic", MESSAGE],
    [0x09, "correlationData", MESSAGE],
    [0x0b, "subscriptionIdentifiers", PUBLISH | SUBSCRIBE],
    [0x11, "sessionExpiryInterval", CONNECT | CONNACK | DISCONNECT],
    [0x12, "assignedClientIdentifier", CONNACK],
    [0x13, "serverKeepAlive", CONNACK],
    [0x15, "authenticationMethod", CONNECT | CONNACK | AUTH],
    [0x16, "authenticationData", CONNECT | CONNACK | AUTH],
    [0x17, "requestProblemInformation", CONNECT],
    [0x18, "willDelayInterval", WILL],
    [0x19, "requestResponseInformation", CONNECT],
    [0x1a, "responseInformation", CONNACK],
    [0x1c, "serverReference", CONNACK | DISCONNECT],
    [
      0x1f,
      "reasonString",
      CONNACK | ACKS | SUBACK | UNSUBACK | DISCONNECT | AUTH,
    ],
    [0x21, "receiveMaximum", CONNECT | CONNACK],
    [0x22, "topicAliasMaximum", CONNECT | CONNACK],
    [0x23, "topicAlias", PUBLISH],
    [0x24, "maximumQoS", CONNACK],
    [0x25, "retainAvailable", CONNACK],
    [0x26, "userProperties", ALL],
    [0x27, "maximumPacketSize", CONNECT | CONNACK],
    [0x28, "wildcardSubscriptionAvailable", CONNACK],
    [0x29, "subscriptionIdentifiersAvailable", CONNACK],
    [0x2a, "sharedSubscriptionAvailable", CONNACK],
  ];

/** Where each identifier may appear, by identifier; 0 if unknown. */
const ALLOWED_BY_ID: readonly number[] = (() => {
  const allowed = new Array<number>(0x2b).fill(0);
  for (const [id, , at] of DEFINITIONS) allowed[id] = at;
  return allowed;
})();

/** Identifier and where it may appear, by name. */
export const BY_NAME: ReadonlyMap<string, readonly [id: number, at: number]> =
  new Map(
    DEFINITIONS.map(([id, name, at]) => [name, [id, at] as const]),
  );

function hex(id: number): string {
  return `0x${id.toString(16).padStart(2, "0")}`;
}

function duplicate(reader: Reader, id: number): ProtocolError {
  return new ProtocolError(
    `Cannot decode ${reader.packet} properties: property ${
      hex(id)
    } appears twice`,
  );
}

function zeroOrOne(reader: Reader, id: number): 0 | 1 {
  const value = reader.u8("property");
  if (value > 1) {
    throw new ProtocolError(
      `Cannot decode ${reader.packet} property ${
        hex(id)
      }: ${value} is not 0 or 1`,
    );
  }
  return value as 0 | 1;
}

function notZero(reader: Reader, id: number, value: number): number {
  if (value === 0) {
    throw new ProtocolError(
      `Cannot decode ${reader.packet} property ${hex(id)}: the value is 0`,
    );
  }
  return value;
}

/**
 * Reads a property length and the properties it covers.
 *
 * @param reader Positioned at the property length.
 * @param at The bit of the packet (or {@linkcode WILL}).
 * @returns The properties, `{}` if there are none.
 * @throws {MalformedPacketError} For an unknown identifier, one not allowed
 * on this packet, or a length that runs past the packet [MQTT-2.2.2-2].
 * @throws {ProtocolError} For a duplicate or an out-of-range value.
 */
export function decodeProperties(reader: Reader, at: number): Properties {
  const length = reader.varInt("property length");
  if (length > reader.left) {
    throw reader.malformed(
      "property length",
      `length ${length} exceeds the ${reader.left} bytes left`,
    );
  }
  const properties: Properties = {};
  const end = reader.position + length;
  while (reader.position < end) {
    const id = reader.u8("property identifier");
    const allowed = ALLOWED_BY_ID[id] ?? 0;
    if ((allowed & at) === 0) {
      // [MQTT-2.2.2-2] an unknown identifier or one not valid here.
      throw reader.malformed(
        "properties",
        allowed === 0
          ? `unknown property identifier ${hex(id)}`
          : `property ${hex(id)} is not allowed here`,
      );
    }
    switch (id) {
      case 0x01:
        if (properties.payloadFormatIndicator !== undefined) {
          throw duplicate(reader, id);
        }
        properties.payloadFormatIndicator = zeroOrOne(reader, id);
        break;
      case 0x02:
        if (properties.messageExpiryInterval !== undefined) {
          throw duplicate(reader, id);
        }
        properties.messageExpiryInterval = reader.u32("property");
        break;
      case 0x03:
        if (properties.contentType !== undefined) throw duplicate(reader, id);
        properties.contentType = reader.string("property");
        break;
      case 0x08:
        if (properties.responseTopic !== undefined) throw duplicate(reader, id);
        properties.responseTopic = reader.string("property");
        break;
      case 0x09:
        if (properties.correlationData !== undefined) {
          throw duplicate(reader, id);
        }
        properties.correlationData = reader.binary("property");
        break;
      case 0x0b: {
        const identifiers = properties.subscriptionIdentifiers;
        if (identifiers !== undefined && at !== PUBLISH) {
          throw duplicate(reader, id);
        }
        const value = notZero(reader, id, reader.varInt("property"));
        if (identifiers === undefined) {
          properties.subscriptionIdentifiers = [value];
        } else identifiers.push(value);
        break;
      }
      case 0x11:
        if (properties.sessionExpiryInterval !== undefined) {
          throw duplicate(reader, id);
        }
        properties.sessionExpiryInterval = reader.u32("property");
        break;
      case 0x12:
        if (properties.assignedClientIdentifier !== undefined) {
          throw duplicate(reader, id);
        }
        properties.assignedClientIdentifier = reader.string("property");
        break;
      case 0x13:
        if (properties.serverKeepAlive !== undefined) {
          throw duplicate(reader, id);
        }
        properties.serverKeepAlive = reader.u16("property");
        break;
      case 0x15:
        if (properties.authenticationMethod !== undefined) {
          throw duplicate(reader, id);
        }
        properties.authenticationMethod = reader.string("property");
        break;
      case 0x16:
        if (properties.authenticationData !== undefined) {
          throw duplicate(reader, id);
        }
        properties.authenticationData = reader.binary("property");
        break;
      case 0x17:
        if (properties.requestProblemInformation !== undefined) {
          throw duplicate(reader, id);
        }
        properties.requestProblemInformation = zeroOrOne(reader, id);
        break;
      case 0x18:
        if (properties.willDelayInterval !== undefined) {
          throw duplicate(reader, id);
        }
        properties.willDelayInterval = reader.u32("property");
        break;
      case 0x19:
        if (properties.requestResponseInformation !== undefined) {
          throw duplicate(reader, id);
        }
        properties.requestResponseInformation = zeroOrOne(reader, id);
        break;
      case 0x1a:
        if (properties.responseInformation !== undefined) {
          throw duplicate(reader, id);
        }
        properties.responseInformation = reader.string("property");
        break;
      case 0x1c:
        if (properties.serverReference !== undefined) {
          throw duplicate(reader, id);
        }
        properties.serverReference = reader.string("property");
        break;
      case 0x1f:
        if (properties.reasonString !== undefined) throw duplicate(reader, id);
        properties.reasonString = reader.string("property");
        break;
      case 0x21:
        if (properties.receiveMaximum !== undefined) {
          throw duplicate(reader, id);
        }
        properties.receiveMaximum = notZero(reader, id, reader.u16("property"));
        break;
      case 0x22:
        if (properties.topicAliasMaximum !== undefined) {
          throw duplicate(reader, id);
        }
        properties.topicAliasMaximum = reader.u16("property");
        break;
      case 0x23: {
        if (properties.topicAlias !== undefined) throw duplicate(reader, id);
        const alias = reader.u16("property");
        if (alias === 0) {
          // [MQTT-3.3.2-8]
          throw new MqttError(
            ReasonCode.TopicAliasInvalid,
            `Cannot decode ${reader.packet} property 0x23: topic alias 0`,
          );
        }
        properties.topicAlias = alias;
        break;
      }
      case 0x24:
        if (properties.maximumQoS !== undefined) throw duplicate(reader, id);
        properties.maximumQoS = zeroOrOne(reader, id);
        break;
      case 0x25:
        if (properties.retainAvailable !== undefined) {
          throw duplicate(reader, id);
        }
        properties.retainAvailable = zeroOrOne(reader, id);
        break;
      case 0x26: {
        const pair: UserProperty = [
          reader.string("user property"),
          reader.string("user property"),
        ];
        const pairs = properties.userProperties;
        if (pairs === undefined) properties.userProperties = [pair];
        else pairs.push(pair);
        break;
      }
      case 0x27:
        if (properties.maximumPacketSize !== undefined) {
          throw duplicate(reader, id);
        }
        properties.maximumPacketSize = notZero(
          reader,
          id,
          reader.u32("property"),
        );
        break;
      case 0x28:
        if (properties.wildcardSubscriptionAvailable !== undefined) {
          throw duplicate(reader, id);
        }
        properties.wildcardSubscriptionAvailable = zeroOrOne(reader, id);
        break;
      case 0x29:
        if (properties.subscriptionIdentifiersAvailable !== undefined) {
          throw duplicate(reader, id);
        }
        properties.subscriptionIdentifiersAvailable = zeroOrOne(reader, id);
        break;
      case 0x2a:
        if (properties.sharedSubscriptionAvailable !== undefined) {
          throw duplicate(reader, id);
        }
        properties.sharedSubscriptionAvailable = zeroOrOne(reader, id);
        break;
    }
  }
  if (reader.position !== end) {
    throw reader.malformed(
      "properties",
      `the last property runs ${
        reader.position - end
      } bytes past the property length`,
    );
  }
  return properties;
}
