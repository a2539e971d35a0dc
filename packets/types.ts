/**
 * The MQTT packet model shared by the codec, the broker and clients: one
 * discriminated union of the fifteen control packets of MQTT 3.1, 3.1.1 and
 * 5.0.
 *
 * Conventions, for every packet:
 * - Fields use the specification's names.
 * - `properties` exists only in MQTT 5.0. The decoder sets it (possibly `{}`)
 *   on every 5.0 packet that has a property section, and never on 3.1/3.1.1
 *   packets. The encoder treats a missing `properties` as empty and ignores it
 *   for 3.1/3.1.1.
 * - Acknowledgement reason codes (`reasonCode` on PUBACK, PUBREC, PUBREL,
 *   PUBCOMP, DISCONNECT, AUTH) exist only in 5.0. The decoder always sets them
 *   on 5.0 packets (0x00 when the bytes leave them out) and never on older
 *   ones. The encoder writes the shortest form the specification allows.
 * - Binary data (`payload`, `password`, `correlationData`,
 *   `authenticationData`) decodes to views of the input, not copies: copy them
 *   before the input buffer is reused.
 *
 * @module
 */

/** Quality of service of a message or a subscription. */
export type QoS = 0 | 1 | 2;

/** Protocol level: 3 is MQTT 3.1 (`MQIsdp`), 4 is 3.1.1 and 5 is 5.0. */
export type ProtocolVersion = 3 | 4 | 5;

/** A name/value pair of an MQTT 5.0 User Property; order and repeats kept. */
export type UserProperty = [name: string, value: string];

/**
 * MQTT 5.0 properties, all optional. Which may appear on which packet is
 * checked by the codec [MQTT-2.2.2-2]; each appears at most once, except
 * `userProperties` and, on PUBLISH, `subscriptionIdentifiers`.
 */
export interface Properties {
  /** 0x01, PUBLISH and will: 0 unspecified bytes, 1 UTF-8 text. */
  payloadFormatIndicator?: 0 | 1;
  /** 0x02, PUBLISH and will: lifetime in seconds. */
  messageExpiryInterval?: number;
  /** 0x03, PUBLISH and will: MIME type of the payload. */
  contentType?: string;
  /** 0x08, PUBLISH and will: topic name for a response. */
  responseTopic?: string;
  /** 0x09, PUBLISH and will: correlation data of a request. */
  correlationData?: Uint8Array;
  /**
   * 0x0B, variable byte integer 1 to 268,435,455. PUBLISH may carry several;
   * SUBSCRIBE at most one.
   */
  subscriptionIdentifiers?: number[];
  /** 0x11, CONNECT, CONNACK, DISCONNECT: seconds. */
  sessionExpiryInterval?: number;
  /** 0x12, CONNACK: the client id the server chose. */
  assignedClientIdentifier?: string;
  /** 0x13, CONNACK: keep-alive the client must use, in seconds. */
  serverKeepAlive?: number;
  /** 0x15, CONNECT, CONNACK, AUTH. */
  authenticationMethod?: string;
  /** 0x16, CONNECT, CONNACK, AUTH. */
  authenticationData?: Uint8Array;
  /** 0x17, CONNECT: 0 or 1. */
  requestProblemInformation?: 0 | 1;
  /** 0x18, will: seconds before the will is published. */
  willDelayInterval?: number;
  /** 0x19, CONNECT: 0 or 1. */
  requestResponseInformation?: 0 | 1;
  /** 0x1A, CONNACK. */
  responseInformation?: string;
  /** 0x1C, CONNACK, DISCONNECT: another server to use. */
  serverReference?: string;
  /** 0x1F, CONNACK, acks, SUBACK, UNSUBACK, DISCONNECT, AUTH. */
  reasonString?: string;
  /** 0x21, CONNECT, CONNACK: 1 to 65,535. */
  receiveMaximum?: number;
  /** 0x22, CONNECT, CONNACK. */
  topicAliasMaximum?: number;
  /** 0x23, PUBLISH: 1 to 65,535. */
  topicAlias?: number;
  /** 0x24, CONNACK: 0 or 1. */
  maximumQoS?: 0 | 1;
  /** 0x25, CONNACK: 0 or 1. */
  retainAvailable?: 0 | 1;
  /** 0x26, every packet that has properties. */
  userProperties?: UserProperty[];
  /** 0x27, CONNECT, CONNACK: 1 to 4,294,967,295 bytes. */
  maximumPacketSize?: number;
  /** 0x28, CONNACK: 0 or 1. */
  wildcardSubscriptionAvailable?: 0 | 1;
  /** 0x29, CONNACK: 0 or 1. */
  subscriptionIdentifiersAvailable?: 0 | 1;
  /** 0x2A, CONNACK: 0 or 1. */
  sharedSubscriptionAvailable?: 0 | 1;
}

/** The will message carried by a CONNECT. */
export interface Will {
  /** Topic the will is published to; no wildcards. */
  topic: string;
  /** Will payload, possibly empty. */
  payload: Uint8Array;
  /** QoS of the will publish. */
  qos: QoS;
  /** Whether the will is published as a retained message. */
  retain: boolean;
  /** Will properties (MQTT 5.0 only). */
  properties?: Properties;
}

/** CONNECT, the first packet a client sends. */
export interface ConnectPacket {
  /** The packet type. */
  type: "connect";
  /** `"MQIsdp"` for level 3, `"MQTT"` for levels 4 and 5. */
  protocolName: string;
  /** Protocol level. */
  protocolVersion: ProtocolVersion;
  /** Clean Session (3.1, 3.1.1) or Clean Start (5.0). */
  clean: boolean;
  /** Keep-alive in seconds, 0 to 65,535; 0 turns it off. */
  keepAlive: number;
  /** Client identifier, possibly empty. */
  clientId: string;
  /** Will message, when the Will Flag is set. */
  will?: Will;
  /** User name, when the User Name Flag is set. */
  username?: string;
  /** Password, when the Password Flag is set. */
  password?: Uint8Array;
  /** CONNECT properties (MQTT 5.0 only). */
  properties?: Properties;
}

/** CONNACK, the server's answer to CONNECT. */
export interface ConnackPacket {
  /** The packet type. */
  type: "connack";
  /** Session Present flag. */
  sessionPresent: boolean;
  /** Return code (0 to 5 in 3.1.1) or reason code (5.0). */
  reasonCode: number;
  /** CONNACK properties (MQTT 5.0 only). */
  properties?: Properties;
}

/** PUBLISH, an application message in either direction. */
export interface PublishPacket {
  /** The packet type. */
  type: "publish";
  /** Topic name; may be empty in 5.0 when a topic alias is given. */
  topic: string;
  /** Application payload, possibly empty. */
  payload: Uint8Array;
  /** Delivery QoS. */
  qos: QoS;
  /** RETAIN flag. */
  retain: boolean;
  /** DUP flag; always false at QoS 0 [MQTT-3.3.1-2]. */
  dup: boolean;
  /** Present if and only if `qos` is 1 or 2 [MQTT-2.3.1-5]. */
  packetId?: number;
  /** PUBLISH properties (MQTT 5.0 only). */
  properties?: Properties;
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP: the QoS 1 and 2 acknowledgements. */
export interface AckPacket<
  T extends "puback" | "pubrec" | "pubrel" | "pubcomp",
> {
  /** The packet type. */
  type: T;
  /** Packet identifier of the PUBLISH being acknowledged, 1 to 65,535. */
  packetId: number;
  /** Reason code (MQTT 5.0 only). */
  reasonCode?: number;
  /** Properties (MQTT 5.0 only). */
  properties?: Properties;
}
/** PUBACK, the answer to a QoS 1 PUBLISH. */
export type PubackPacket = AckPacket<"puback">;
/** PUBREC, the first answer to a QoS 2 PUBLISH. */
export type PubrecPacket = AckPacket<"pubrec">;
/** PUBREL, the answer to PUBREC. */
export type PubrelPacket = AckPacket<"pubrel">;
/** PUBCOMP, the answer to PUBREL. */
export type PubcompPacket = AckPacket<"pubcomp">;

/** One topic filter of a SUBSCRIBE with its options. */
export interface Subscription {
  /** Topic filter, wildcards allowed. */
  topicFilter: string;
  /** Maximum QoS the subscriber wants. */
  qos: QoS;
  /** No Local option (MQTT 5.0 only; the decoder sets it for 5.0). */
  noLocal?: boolean;
  /** Retain As Published option (MQTT 5.0 only). */
  retainAsPublished?: boolean;
  /** Retain Handling option 0, 1 or 2 (MQTT 5.0 only). */
  retainHandling?: 0 | 1 | 2;
}

/** SUBSCRIBE, one or more topic filters. */
export interface SubscribePacket {
  /** The packet type. */
  type: "subscribe";
  /** Packet identifier, 1 to 65,535. */
  packetId: number;
  /** At least one subscription [MQTT-3.8.3-3]. */
  subscriptions: Subscription[];
  /** Properties (MQTT 5.0 only). */
  properties?: Properties;
}

/** SUBACK, one return or reason code per requested topic filter. */
export interface SubackPacket {
  /** The packet type. */
  type: "suback";
  /** Packet identifier of the SUBSCRIBE. */
  packetId: number;
  /** Granted QoS (0, 1, 2) or a failure code (0x80 and above), in order. */
  reasonCodes: number[];
  /** Properties (MQTT 5.0 only). */
  properties?: Properties;
}

/** UNSUBSCRIBE, one or more topic filters. */
export interface UnsubscribePacket {
  /** The packet type. */
  type: "unsubscribe";
  /** Packet identifier, 1 to 65,535. */
  packetId: number;
  /** At least one topic filter [MQTT-3.10.3-2]. */
  topicFilters: string[];
  /** Properties (MQTT 5.0 only). */
  properties?: Properties;
}

/** UNSUBACK, the answer to UNSUBSCRIBE. */
export interface UnsubackPacket {
  /** The packet type. */
  type: "unsuback";
  /** Packet identifier of the UNSUBSCRIBE. */
  packetId: number;
  /** One reason code per topic filter (MQTT 5.0 only). */
  reasonCodes?: number[];
  /** Properties (MQTT 5.0 only). */
  properties?: Properties;
}

/** PINGREQ, a keep-alive probe from the client. */
export interface PingreqPacket {
  /** The packet type. */
  type: "pingreq";
}

/** PINGRESP, the server's answer to PINGREQ. */
export interface PingrespPacket {
  /** The packet type. */
  type: "pingresp";
}

/** DISCONNECT, a clean end of the connection. */
export interface DisconnectPacket {
  /** The packet type. */
  type: "disconnect";
  /** Reason code (MQTT 5.0 only). */
  reasonCode?: number;
  /** Properties (MQTT 5.0 only). */
  properties?: Properties;
}

/** AUTH, extended authentication exchange (MQTT 5.0 only). */
export interface AuthPacket {
  /** The packet type. */
  type: "auth";
  /** Reason code: 0x00 success, 0x18 continue, 0x19 re-authenticate. */
  reasonCode?: number;
  /** Properties. */
  properties?: Properties;
}

/** Any MQTT control packet. */
export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

/** The `type` of a packet. */
export type PacketType = Packet["type"];

/** MQTT control packet type numbers (the high nibble of the first byte). */
export const PACKET_TYPE_CODES: Readonly<Record<PacketType, number>> = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
  auth: 15,
};

/**
 * The fifteen packet types in the order of their type numbers.
 *
 * @example List the packet types
 * ```ts
 * import { PACKET_TYPES } from "@gmqtt/broker/packets";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(PACKET_TYPES.length, 15);
 * strictEqual(PACKET_TYPES[0], "connect");
 * ```
 */
export const PACKET_TYPES: readonly PacketType[] = Object.freeze(
  Object.keys(PACKET_TYPE_CODES) as PacketType[],
);
