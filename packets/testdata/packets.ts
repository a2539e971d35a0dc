/**
 * Raw-byte packet fixtures, written byte by byte from the MQTT 3.1, 3.1.1 and
 * 5.0 specifications, shared by the codec, decoder stream and server tests.
 *
 * - {@linkcode VALID}: bytes and packet agree both ways; the bytes are the
 *   shortest form, so `encodePacket(packet)` must give exactly these bytes.
 *   Properties are written in ascending identifier order, repeated ones in
 *   the order of their array.
 * - {@linkcode DECODE_ONLY}: valid but longer forms the specification allows
 *   (an explicit Success reason code, an empty property section...);
 *   `decodePacket(bytes)` must give `packet`.
 * - {@linkcode MALFORMED}: bytes a peer may not send, with the reason code the
 *   decoder must throw.
 *
 * Builders such as {@linkcode publish} fill in the fields a fixture does not
 * care about, as the decoder does for the given protocol version.
 *
 * @example Check every fixture against the codec
 * ```ts
 * import { decodePacket, encodePacket } from "@gmqtt/broker/packets";
 * import { publish, VALID } from "./packets.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * for (const { bytes, packet, protocolVersion } of VALID) {
 *   deepStrictEqual(decodePacket(bytes, protocolVersion), packet);
 *   deepStrictEqual(encodePacket(packet, protocolVersion), bytes);
 * }
 * deepStrictEqual(publish({ topic: "t" }, 5).properties, {});
 * ```
 *
 * @module
 */

import { ReasonCode } from "../reason_code.ts";
import type {
  AckPacket,
  AuthPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  Packet,
  PingreqPacket,
  PingrespPacket,
  Properties,
  ProtocolVersion,
  PublishPacket,
  QoS,
  SubackPacket,
  SubscribePacket,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
  Will,
} from "../types.ts";

/** A packet and the exact bytes of it in one protocol version. */
export interface PacketFixture<P extends Packet = Packet> {
  /** What the fixture shows, used in test names. */
  name: string;
  /** The whole packet, fixed header included. */
  bytes: Uint8Array;
  /** The packet the bytes decode to. */
  packet: P;
  /** The protocol version the bytes are decoded and encoded with. */
  protocolVersion: ProtocolVersion;
}

/** Bytes a decoder must refuse, with the reason code the peer must get. */
export interface MalformedFixture {
  /** What is wrong, used in test names. */
  name: string;
  /** The whole packet, fixed header included. */
  bytes: Uint8Array;
  /** The protocol version the bytes are decoded with. */
  protocolVersion: ProtocolVersion;
  /** The `reasonCode` of the `MqttError` the decoder must throw. */
  reasonCode: number;
}

/** Binary data given as text (UTF-8) or bytes. */
export type BytesInit = string | Uint8Array;

const UTF8 = new TextEncoder();

/** The specification name of each protocol level. */
const VERSION_NAMES = { 3: "3.1", 4: "3.1.1", 5: "5.0" } as const;

function toBytes(data: BytesInit): Uint8Array {
  return typeof data === "string" ? UTF8.encode(data) : data;
}

/**
 * `size` bytes counting 0, 1, 2... modulo 256, for large payloads.
 *
 * @param size The number of bytes.
 * @returns A new array.
 */
export function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = i & 0xff;
  return bytes;
}

/**
 * The bytes of several arrays one after the other.
 *
 * @param parts The arrays.
 * @returns A new array.
 */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/** Fields of {@linkcode connect}; binary fields may be given as text. */
export interface ConnectInit
  extends Partial<Omit<ConnectPacket, "type" | "will" | "password">> {
  will?: Partial<Omit<Will, "payload">> & { payload?: BytesInit };
  password?: BytesInit;
}

/**
 * A CONNECT as the decoder returns it: level 4, clean, keep-alive 60, client
 * id "c" unless given; protocol name from the level; `properties: {}` on
 * level 5 (on its will too).
 *
 * @param init The fields that matter.
 * @returns The packet.
 */
export function connect(init: ConnectInit = {}): ConnectPacket {
  const protocolVersion = init.protocolVersion ?? 4;
  const packet: ConnectPacket = {
    type: "connect",
    protocolName: init.protocolName ??
      (protocolVersion === 3 ? "MQIsdp" : "MQTT"),
    protocolVersion,
    clean: init.clean ?? true,
    keepAlive: init.keepAlive ?? 60,
    clientId: init.clientId ?? "c",
  };
  if (init.will !== undefined) {
    const will: Will = {
      topic: init.will.topic ?? "w",
      payload: toBytes(init.will.payload ?? ""),
      qos: init.will.qos ?? 0,
      retain: init.will.retain ?? false,
    };
    if (protocolVersion === 5) will.properties = init.will.properties ?? {};
    packet.will = will;
  }
  if (init.username !== undefined) packet.username = init.username;
  if (init.password !== undefined) packet.password = toBytes(init.password);
  if (protocolVersion === 5) packet.properties = init.properties ?? {};
  return packet;
}

/**
 * A CONNACK: accepted, no session, `properties: {}` on level 5.
 *
 * @param init The fields that matter.
 * @param protocolVersion 4 unless given.
 * @returns The packet.
 */
export function connack(
  init: Partial<Omit<ConnackPacket, "type">> = {},
  protocolVersion: ProtocolVersion = 4,
): ConnackPacket {
  const packet: ConnackPacket = {
    type: "connack",
    sessionPresent: init.sessionPresent ?? false,
    reasonCode: init.reasonCode ?? 0,
  };
  if (protocolVersion === 5) packet.properties = init.properties ?? {};
  return packet;
}

/** Fields of {@linkcode publish}; the payload may be given as text. */
export interface PublishInit
  extends Partial<Omit<PublishPacket, "type" | "payload">> {
  payload?: BytesInit;
}

/**
 * A PUBLISH: topic "a/b", QoS 0, empty payload, no flags unless given;
 * `properties: {}` on level 5.
 *
 * @param init The fields that matter.
 * @param protocolVersion 4 unless given.
 * @returns The packet.
 */
export function publish(
  init: PublishInit = {},
  protocolVersion: ProtocolVersion = 4,
): PublishPacket {
  const packet: PublishPacket = {
    type: "publish",
    topic: init.topic ?? "a/b",
    payload: toBytes(init.payload ?? ""),
    qos: init.qos ?? 0,
    retain: init.retain ?? false,
    dup: init.dup ?? false,
  };
  if (init.packetId !== undefined) packet.packetId = init.packetId;
  if (protocolVersion === 5) packet.properties = init.properties ?? {};
  return packet;
}

/** The four acknowledgement types. */
export type AckType = "puback" | "pubrec" | "pubrel" | "pubcomp";

/**
 * A PUBACK, PUBREC, PUBREL or PUBCOMP; on level 5 with `reasonCode` 0 and
 * `properties: {}` unless given.
 *
 * @param init The type, the packet id and what else matters.
 * @param protocolVersion 4 unless given.
 * @returns The packet.
 */
export function ack<T extends AckType>(
  init: Omit<AckPacket<T>, "packetId"> & { packetId?: number },
  protocolVersion: ProtocolVersion = 4,
): AckPacket<T> {
  const packet: AckPacket<T> = {
    type: init.type,
    packetId: init.packetId ?? 7,
  };
  if (protocolVersion === 5) {
    packet.reasonCode = init.reasonCode ?? 0;
    packet.properties = init.properties ?? {};
  }
  return packet;
}

/** A subscription's filter and the options that matter. */
export type SubscriptionInit = [
  topicFilter: string,
  qos: QoS,
  options?: Omit<Subscription, "topicFilter" | "qos">,
];

/**
 * A SUBSCRIBE; on level 5 every option is filled in (false, false, 0) and
 * `properties` is `{}` unless given.
 *
 * @param init The packet id (10 unless given), subscriptions and properties.
 * @param protocolVersion 4 unless given.
 * @returns The packet.
 */
export function subscribe(
  init: {
    packetId?: number;
    subscriptions: SubscriptionInit[];
    properties?: Properties;
  },
  protocolVersion: ProtocolVersion = 4,
): SubscribePacket {
  const subscriptions = init.subscriptions.map(
    ([topicFilter, qos, options]): Subscription =>
      protocolVersion === 5
        ? {
          topicFilter,
          qos,
          noLocal: options?.noLocal ?? false,
          retainAsPublished: options?.retainAsPublished ?? false,
          retainHandling: options?.retainHandling ?? 0,
        }
        : { topicFilter, qos },
  );
  const packet: SubscribePacket = {
    type: "subscribe",
    packetId: init.packetId ?? 10,
    subscriptions,
  };
  if (protocolVersion === 5) packet.properties = init.properties ?? {};
  return packet;
}

/**
 * A SUBACK; `properties: {}` on level 5 unless given.
 *
 * @param init The packet id (10 unless given), codes and properties.
 * @param protocolVersion 4 unless given.
 * @returns The packet.
 */
export function suback(
  init: Partial<Omit<SubackPacket, "type">> & { reasonCodes: number[] },
  protocolVersion: ProtocolVersion = 4,
): SubackPacket {
  const packet: SubackPacket = {
    type: "suback",
    packetId: init.packetId ?? 10,
    reasonCodes: init.reasonCodes,
  };
  if (protocolVersion === 5) packet.properties = init.properties ?? {};
  return packet;
}

/**
 * An UNSUBSCRIBE; `properties: {}` on level 5 unless given.
 *
 * @param init The packet id (11 unless given), filters and properties.
 * @param protocolVersion 4 unless given.
 * @returns The packet.
 */
export function unsubscribe(
  init: Partial<Omit<UnsubscribePacket, "type">> & { topicFilters: string[] },
  protocolVersion: ProtocolVersion = 4,
): UnsubscribePacket {
  const packet: UnsubscribePacket = {
    type: "unsubscribe",
    packetId: init.packetId ?? 11,
    topicFilters: init.topicFilters,
  };
  if (protocolVersion === 5) packet.properties = init.properties ?? {};
  return packet;
}

/**
 * An UNSUBACK; on level 5 with the given reason codes and `properties: {}`
 * unless given.
 *
 * @param init The packet id (11 unless given), codes and properties.
 * @param protocolVersion 4 unless given.
 * @returns The packet.
 */
export function unsuback(
  init: Partial<Omit<UnsubackPacket, "type">> = {},
  protocolVersion: ProtocolVersion = 4,
): UnsubackPacket {
  const packet: UnsubackPacket = {
    type: "unsuback",
    packetId: init.packetId ?? 11,
  };
  if (protocolVersion === 5) {
    packet.reasonCodes = init.reasonCodes ?? [];
    packet.properties = init.properties ?? {};
  }
  return packet;
}

/**
 * A DISCONNECT; on level 5 with `reasonCode` 0 and `properties: {}` unless
 * given.
 *
 * @param init The fields that matter.
 * @param protocolVersion 4 unless given.
 * @returns The packet.
 */
export function disconnect(
  init: Omit<DisconnectPacket, "type"> = {},
  protocolVersion: ProtocolVersion = 4,
): DisconnectPacket {
  const packet: DisconnectPacket = { type: "disconnect" };
  if (protocolVersion === 5) {
    packet.reasonCode = init.reasonCode ?? 0;
    packet.properties = init.properties ?? {};
  }
  return packet;
}

/**
 * An AUTH (level 5 only), `reasonCode` 0 and `properties: {}` unless given.
 *
 * @param init The fields that matter.
 * @returns The packet.
 */
export function auth(init: Omit<AuthPacket, "type"> = {}): AuthPacket {
  return {
    type: "auth",
    reasonCode: init.reasonCode ?? 0,
    properties: init.properties ?? {},
  };
}

/** A PINGREQ. */
export const PINGREQ: PingreqPacket = { type: "pingreq" };
/** A PINGRESP. */
export const PINGRESP: PingrespPacket = { type: "pingresp" };

// ---------------------------------------------------------------------------
// CONNECT
// ---------------------------------------------------------------------------

/** CONNECT fixtures of every level. */
export const CONNECT: PacketFixture<ConnectPacket>[] = [
  {
    name: "CONNECT 3.1.1 with client id, clean session, keep-alive 60",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0d,                         // CONNECT; remaining length 13
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x02,                               // flags: clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    packet: connect({ clientId: "c" }),
    protocolVersion: 4,
  },
  {
    name: "CONNECT 3.1.1 with empty client id and keep-alive 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0c,                         // CONNECT; remaining length 12
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x02,                               // flags: clean session
      0x00, 0x00,                         // keep-alive 0 (off)
      0x00, 0x00,                         // client id ""
    ),
    packet: connect({ clientId: "", keepAlive: 0 }),
    protocolVersion: 4,
  },
  {
    name: "CONNECT 3.1.1 with will QoS 1 retained, user name and password",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x1f,                         // CONNECT; remaining length 31
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0xee,                               // flags: user name, password, will
                                          //   retain, will QoS 1, will, clean
      0xff, 0xff,                         // keep-alive 65535
      0x00, 0x02, 0x69, 0x64,             // client id "id"
      0x00, 0x03, 0x77, 0x2f, 0x74,       // will topic "w/t"
      0x00, 0x03, 0x62, 0x79, 0x65,       // will payload "bye"
      0x00, 0x01, 0x75,                   // user name "u"
      0x00, 0x02, 0x70, 0x77,             // password "pw"
    ),
    packet: connect({
      clientId: "id",
      keepAlive: 65535,
      will: { topic: "w/t", payload: "bye", qos: 1, retain: true },
      username: "u",
      password: "pw",
    }),
    protocolVersion: 4,
  },
  {
    name: "CONNECT 3.1.1 with will QoS 2 and empty will payload, no clean",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x12,                         // CONNECT; remaining length 18
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x14,                               // flags: will QoS 2, will
      0x00, 0x0a,                         // keep-alive 10
      0x00, 0x01, 0x63,                   // client id "c"
      0x00, 0x01, 0x77,                   // will topic "w"
      0x00, 0x00,                         // will payload: empty
    ),
    packet: connect({
      clean: false,
      keepAlive: 10,
      will: { topic: "w", qos: 2 },
    }),
    protocolVersion: 4,
  },
  {
    name: "CONNECT 3.1.1 with user name and no password",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x13,                         // CONNECT; remaining length 19
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x82,                               // flags: user name, clean
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"
      0x00, 0x04, 0x75, 0x73, 0xc3, 0xa9, // user name "usé"
    ),
    packet: connect({ username: "usé" }),
    protocolVersion: 4,
  },
  {
    name: "CONNECT 3.1 (MQIsdp) with client id",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x11,                         // CONNECT; remaining length 17
      0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, // protocol name "MQIsdp"
      0x64, 0x70,
      0x03,                               // protocol level 3
      0x02,                               // flags: clean session
      0x00, 0x0a,                         // keep-alive 10
      0x00, 0x03, 0x61, 0x62, 0x63,       // client id "abc"
    ),
    packet: connect({ protocolVersion: 3, keepAlive: 10, clientId: "abc" }),
    protocolVersion: 3,
  },
  {
    name: "CONNECT 3.1 (MQIsdp) with will, user name, password",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x1b,                         // CONNECT; remaining length 27
      0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, // protocol name "MQIsdp"
      0x64, 0x70,
      0x03,                               // protocol level 3
      0xc4,                               // flags: user name, password, will
      0x00, 0x1e,                         // keep-alive 30
      0x00, 0x01, 0x63,                   // client id "c"
      0x00, 0x01, 0x77,                   // will topic "w"
      0x00, 0x01, 0x78,                   // will payload "x"
      0x00, 0x01, 0x75,                   // user name "u"
      0x00, 0x01, 0x70,                   // password "p"
    ),
    packet: connect({
      protocolVersion: 3,
      clean: false,
      keepAlive: 30,
      will: { topic: "w", payload: "x" },
      username: "u",
      password: "p",
    }),
    protocolVersion: 3,
  },
  {
    name: "CONNECT 3.1 (MQIsdp) with a 24-character client id",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x26,                         // CONNECT; remaining length 38
      0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, // protocol name "MQIsdp"
      0x64, 0x70,
      0x03,                               // protocol level 3
      0x02,                               // flags: clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x18,                         // client id: 24 bytes (3.1 says at
      0x61, 0x61, 0x61, 0x61, 0x61, 0x61, //   most 23; we accept more)
      0x61, 0x61, 0x61, 0x61, 0x61, 0x61, //   "aaaaaaaaaaaaaaaaaaaaaaaa"
      0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
      0x61, 0x61, 0x61, 0x61, 0x61, 0x61,
    ),
    packet: connect({ protocolVersion: 3, clientId: "a".repeat(24) }),
    protocolVersion: 3,
  },
  {
    name: "CONNECT 5.0 with no properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0e,                         // CONNECT; remaining length 14
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x02,                               // flags: clean start
      0x00, 0x3c,                         // keep-alive 60
      0x00,                               // property length 0
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    packet: connect({ protocolVersion: 5 }),
    protocolVersion: 5,
  },
  {
    name: "CONNECT 5.0 with every CONNECT property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x32,                         // CONNECT; remaining length 50
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x00,                               // flags: none
      0x00, 0x3c,                         // keep-alive 60
      0x24,                               // property length 36
      0x11, 0x00, 0x00, 0x0e, 0x10,       //   session expiry interval 3600
      0x15, 0x00, 0x01, 0x6d,             //   authentication method "m"
      0x16, 0x00, 0x02, 0x01, 0x02,       //   authentication data 01 02
      0x17, 0x00,                         //   request problem information 0
      0x19, 0x01,                         //   request response information 1
      0x21, 0x00, 0x14,                   //   receive maximum 20
      0x22, 0x00, 0x0a,                   //   topic alias maximum 10
      0x26, 0x00, 0x01, 0x6b,             //   user property "k":
            0x00, 0x01, 0x76,             //     "v"
      0x27, 0x00, 0x00, 0x04, 0x00,       //   maximum packet size 1024
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    packet: connect({
      protocolVersion: 5,
      clean: false,
      properties: {
        sessionExpiryInterval: 3600,
        authenticationMethod: "m",
        authenticationData: Uint8Array.of(0x01, 0x02),
        requestProblemInformation: 0,
        requestResponseInformation: 1,
        receiveMaximum: 20,
        topicAliasMaximum: 10,
        userProperties: [["k", "v"]],
        maximumPacketSize: 1024,
      },
    }),
    protocolVersion: 5,
  },
  {
    name: "CONNECT 5.0 with will properties, user name and password",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x3a,                         // CONNECT; remaining length 58
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0xee,                               // flags: user name, password, will
                                          //   retain, will QoS 1, will, clean
      0x00, 0x3c,                         // keep-alive 60
      0x00,                               // property length 0
      0x00, 0x01, 0x63,                   // client id "c"
      0x1f,                               // will property length 31
      0x01, 0x01,                         //   payload format indicator 1
      0x02, 0x00, 0x00, 0x00, 0x3c,       //   message expiry interval 60
      0x03, 0x00, 0x01, 0x74,             //   content type "t"
      0x08, 0x00, 0x01, 0x72,             //   response topic "r"
      0x09, 0x00, 0x01, 0xaa,             //   correlation data aa
      0x18, 0x00, 0x00, 0x00, 0x05,       //   will delay interval 5
      0x26, 0x00, 0x01, 0x61,             //   user property "a":
            0x00, 0x01, 0x62,             //     "b"
      0x00, 0x01, 0x77,                   // will topic "w"
      0x00, 0x01, 0x78,                   // will payload "x"
      0x00, 0x01, 0x75,                   // user name "u"
      0x00, 0x01, 0x70,                   // password "p"
    ),
    packet: connect({
      protocolVersion: 5,
      will: {
        topic: "w",
        payload: "x",
        qos: 1,
        retain: true,
        properties: {
          payloadFormatIndicator: 1,
          messageExpiryInterval: 60,
          contentType: "t",
          responseTopic: "r",
          correlationData: Uint8Array.of(0xaa),
          willDelayInterval: 5,
          userProperties: [["a", "b"]],
        },
      },
      username: "u",
      password: "p",
    }),
    protocolVersion: 5,
  },
  {
    name: "CONNECT 5.0 with will and no will properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x14,                         // CONNECT; remaining length 20
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x06,                               // flags: will QoS 0, will, clean
      0x00, 0x3c,                         // keep-alive 60
      0x00,                               // property length 0
      0x00, 0x01, 0x63,                   // client id "c"
      0x00,                               // will property length 0
      0x00, 0x01, 0x77,                   // will topic "w"
      0x00, 0x00,                         // will payload: empty
    ),
    packet: connect({ protocolVersion: 5, will: { topic: "w" } }),
    protocolVersion: 5,
  },
  {
    name: "CONNECT 5.0 with password and no user name",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x12,                         // CONNECT; remaining length 18
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x42,                               // flags: password, clean start
      0x00, 0x3c,                         // keep-alive 60
      0x00,                               // property length 0
      0x00, 0x01, 0x63,                   // client id "c"
      0x00, 0x02, 0x00, 0xff,             // password 00 ff (allowed in 5.0)
    ),
    packet: connect({ protocolVersion: 5, password: Uint8Array.of(0, 0xff) }),
    protocolVersion: 5,
  },
];

// ---------------------------------------------------------------------------
// CONNACK
// ---------------------------------------------------------------------------

/** CONNACK fixtures of every level. */
export const CONNACK: PacketFixture<ConnackPacket>[] = [
  {
    name: "CONNACK 3.1.1 accepted",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x02, // CONNACK; remaining length 2
      0x00,       // acknowledge flags: no session present
      0x00,       // return code 0: accepted
    ),
    packet: connack(),
    protocolVersion: 4,
  },
  {
    name: "CONNACK 3.1.1 accepted with session present",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x02, // CONNACK; remaining length 2
      0x01,       // acknowledge flags: session present
      0x00,       // return code 0: accepted
    ),
    packet: connack({ sessionPresent: true }),
    protocolVersion: 4,
  },
  {
    name: "CONNACK 3.1.1 refused: not authorized",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x02, // CONNACK; remaining length 2
      0x00,       // acknowledge flags: no session present
      0x05,       // return code 5: not authorized
    ),
    packet: connack({ reasonCode: 5 }),
    protocolVersion: 4,
  },
  {
    name: "CONNACK 3.1 refused: identifier rejected",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x02, // CONNACK; remaining length 2
      0x00,       // reserved
      0x02,       // return code 2: identifier rejected
    ),
    packet: connack({ reasonCode: 2 }),
    protocolVersion: 3,
  },
  {
    name: "CONNACK 5.0 success with no properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x03, // CONNACK; remaining length 3
      0x00,       // acknowledge flags: no session present
      0x00,       // reason code 0x00: success
      0x00,       // property length 0
    ),
    packet: connack({}, 5),
    protocolVersion: 5,
  },
  {
    name: "CONNACK 5.0 with every CONNACK property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x4d,                         // CONNACK; remaining length 77
      0x01,                               // acknowledge flags: session present
      0x00,                               // reason code 0x00: success
      0x4a,                               // property length 74
      0x11, 0x00, 0x00, 0x00, 0x78,       //   session expiry interval 120
      0x12, 0x00, 0x06, 0x61, 0x75, 0x74, //   assigned client id "auto-1"
            0x6f, 0x2d, 0x31,
      0x13, 0x00, 0x1e,                   //   server keep-alive 30
      0x15, 0x00, 0x01, 0x6d,             //   authentication method "m"
      0x16, 0x00, 0x01, 0x01,             //   authentication data 01
      0x1a, 0x00, 0x02, 0x72, 0x69,       //   response information "ri"
      0x1c, 0x00, 0x01, 0x73,             //   server reference "s"
      0x1f, 0x00, 0x02, 0x6f, 0x6b,       //   reason string "ok"
      0x21, 0x00, 0x64,                   //   receive maximum 100
      0x22, 0x00, 0x05,                   //   topic alias maximum 5
      0x24, 0x01,                         //   maximum QoS 1
      0x25, 0x00,                         //   retain available 0
      0x26, 0x00, 0x01, 0x78,             //   user property "x":
            0x00, 0x01, 0x31,             //     "1"
      0x26, 0x00, 0x01, 0x78,             //   user property "x":
            0x00, 0x01, 0x32,             //     "2"
      0x27, 0x00, 0x01, 0x00, 0x00,       //   maximum packet size 65536
      0x28, 0x00,                         //   wildcard subscriptions 0
      0x29, 0x01,                         //   subscription identifiers 1
      0x2a, 0x01,                         //   shared subscriptions 1
    ),
    packet: connack({
      sessionPresent: true,
      properties: {
        sessionExpiryInterval: 120,
        assignedClientIdentifier: "auto-1",
        serverKeepAlive: 30,
        authenticationMethod: "m",
        authenticationData: Uint8Array.of(0x01),
        responseInformation: "ri",
        serverReference: "s",
        reasonString: "ok",
        receiveMaximum: 100,
        topicAliasMaximum: 5,
        maximumQoS: 1,
        retainAvailable: 0,
        userProperties: [["x", "1"], ["x", "2"]],
        maximumPacketSize: 65536,
        wildcardSubscriptionAvailable: 0,
        subscriptionIdentifiersAvailable: 1,
        sharedSubscriptionAvailable: 1,
      },
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "CONNACK 5.0 refused: bad user name or password, reason string",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x09,                         // CONNACK; remaining length 9
      0x00,                               // acknowledge flags: none
      0x86,                               // reason code 0x86: bad user name
                                          //   or password
      0x06,                               // property length 6
      0x1f, 0x00, 0x03, 0x62, 0x61, 0x64, //   reason string "bad"
    ),
    packet: connack({
      reasonCode: 0x86,
      properties: { reasonString: "bad" },
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "CONNACK 5.0 with a 2-byte property length",
    // deno-fmt-ignore
    bytes: concat(Uint8Array.of(
      0x20, 0x87, 0x01,                   // CONNACK; remaining length 135
      0x00,                               // acknowledge flags: none
      0x00,                               // reason code 0x00: success
      0x83, 0x01,                         // property length 131
      0x1f, 0x00, 0x80,                   //   reason string: 128 bytes
    ), UTF8.encode("r".repeat(128))), //     "rrr..."
    packet: connack({ properties: { reasonString: "r".repeat(128) } }, 5),
    protocolVersion: 5,
  },
];

// ---------------------------------------------------------------------------
// PUBLISH
// ---------------------------------------------------------------------------

/** PUBLISH fixtures of every level, small ones. */
export const PUBLISH: PacketFixture<PublishPacket>[] = [
  {
    name: "PUBLISH 3.1.1 QoS 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x0a,                         // PUBLISH QoS 0; remaining length 10
      0x00, 0x03, 0x61, 0x2f, 0x62,       // topic "a/b"
      0x68, 0x65, 0x6c, 0x6c, 0x6f,       // payload "hello"
    ),
    packet: publish({ topic: "a/b", payload: "hello" }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH 3.1.1 QoS 1 with packet id 7",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x32, 0x0c,                         // PUBLISH QoS 1; remaining length 12
      0x00, 0x03, 0x61, 0x2f, 0x62,       // topic "a/b"
      0x00, 0x07,                         // packet id 7
      0x68, 0x65, 0x6c, 0x6c, 0x6f,       // payload "hello"
    ),
    packet: publish({ topic: "a/b", qos: 1, packetId: 7, payload: "hello" }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH 3.1.1 QoS 2 with DUP and RETAIN, packet id 65535",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x3d, 0x07,                         // PUBLISH DUP, QoS 2, RETAIN;
                                          //   remaining length 7
      0x00, 0x01, 0x74,                   // topic "t"
      0xff, 0xff,                         // packet id 65535
      0x00, 0xff,                         // payload 00 ff
    ),
    packet: publish({
      topic: "t",
      qos: 2,
      dup: true,
      retain: true,
      packetId: 65535,
      payload: Uint8Array.of(0x00, 0xff),
    }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH 3.1.1 QoS 1 with DUP",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x3a, 0x06,                         // PUBLISH DUP, QoS 1;
                                          //   remaining length 6
      0x00, 0x01, 0x74,                   // topic "t"
      0x00, 0x01,                         // packet id 1
      0x21,                               // payload "!"
    ),
    packet: publish({
      topic: "t",
      qos: 1,
      dup: true,
      packetId: 1,
      payload: "!",
    }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH 3.1.1 retained with empty payload",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x31, 0x03,                         // PUBLISH QoS 0, RETAIN;
                                          //   remaining length 3
      0x00, 0x01, 0x74,                   // topic "t"; payload: empty
    ),
    packet: publish({ topic: "t", retain: true }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH 3.1.1 with non-ASCII topic",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x10,                         // PUBLISH QoS 0; remaining length 16
      0x00, 0x0e,                         // topic: 14 bytes
      0xc3, 0xa9,                         //   "é"
      0x2f,                               //   "/"
      0xe6, 0x97, 0xa5, 0xe6, 0x9c, 0xac, //   "日本"
      0x2f,                               //   "/"
      0xf0, 0x9f, 0x98, 0x80,             //   "😀" (U+1F600)
    ),
    packet: publish({ topic: "é/日本/😀" }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH 3.1.1 to a $SYS topic with a space in it",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x09,                         // PUBLISH QoS 0; remaining length 9
      0x00, 0x06, 0x24, 0x53, 0x59, 0x53, // topic "$SYS/ "
            0x2f, 0x20,
      0x30,                               // payload "0"
    ),
    packet: publish({ topic: "$SYS/ ", payload: "0" }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH 3.1 QoS 1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x32, 0x08,                         // PUBLISH QoS 1; remaining length 8
      0x00, 0x03, 0x61, 0x2f, 0x62,       // topic "a/b"
      0x12, 0x34,                         // packet id 0x1234
      0x78,                               // payload "x"
    ),
    packet: publish({ qos: 1, packetId: 0x1234, payload: "x" }),
    protocolVersion: 3,
  },
  {
    name: "PUBLISH 3.1 QoS 2 retained",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x35, 0x07,                         // PUBLISH QoS 2, RETAIN;
                                          //   remaining length 7
      0x00, 0x03, 0x61, 0x2f, 0x62,       // topic "a/b"
      0x00, 0x02,                         // packet id 2; payload: empty
    ),
    packet: publish({ qos: 2, retain: true, packetId: 2 }),
    protocolVersion: 3,
  },
  {
    name: "PUBLISH 5.0 QoS 0 with no properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x08,                         // PUBLISH QoS 0; remaining length 8
      0x00, 0x03, 0x61, 0x2f, 0x62,       // topic "a/b"
      0x00,                               // property length 0
      0x68, 0x69,                         // payload "hi"
    ),
    packet: publish({ payload: "hi" }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBLISH 5.0 QoS 2 with every PUBLISH property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x34, 0x4d,                         // PUBLISH QoS 2; remaining length 77
      0x00, 0x03, 0x61, 0x2f, 0x62,       // topic "a/b"
      0x01, 0x00,                         // packet id 256
      0x43,                               // property length 67
      0x01, 0x01,                         //   payload format indicator 1
      0x02, 0x00, 0x00, 0x0e, 0x10,       //   message expiry interval 3600
      0x03, 0x00, 0x0a, 0x74, 0x65, 0x78, //   content type "text/plain"
            0x74, 0x2f, 0x70, 0x6c, 0x61,
            0x69, 0x6e,
      0x08, 0x00, 0x03, 0x72, 0x2f, 0x31, //   response topic "r/1"
      0x09, 0x00, 0x03, 0x01, 0x02, 0x03, //   correlation data 01 02 03
      0x0b, 0x01,                         //   subscription identifier 1
      0x0b, 0xff, 0xff, 0xff, 0x7f,       //   subscription identifier
                                          //     268435455 (the largest)
      0x0b, 0x80, 0x01,                   //   subscription identifier 128
      0x23, 0x00, 0x03,                   //   topic alias 3
      0x26, 0x00, 0x01, 0x61,             //   user property "a":
            0x00, 0x01, 0x31,             //     "1"
      0x26, 0x00, 0x01, 0x61,             //   user property "a":
            0x00, 0x01, 0x32,             //     "2" (same name kept)
      0x26, 0x00, 0x01, 0x62,             //   user property "b":
            0x00, 0x02, 0xc3, 0xa9,       //     "é"
      0x7b, 0x7d,                         // payload "{}"
    ),
    packet: publish({
      qos: 2,
      packetId: 256,
      payload: "{}",
      properties: {
        payloadFormatIndicator: 1,
        messageExpiryInterval: 3600,
        contentType: "text/plain",
        responseTopic: "r/1",
        correlationData: Uint8Array.of(1, 2, 3),
        subscriptionIdentifiers: [1, 268435455, 128],
        topicAlias: 3,
        userProperties: [["a", "1"], ["a", "2"], ["b", "é"]],
      },
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBLISH 5.0 with empty topic and a topic alias",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x07,                         // PUBLISH QoS 0; remaining length 7
      0x00, 0x00,                         // topic "" (the alias stands for it)
      0x03,                               // property length 3
      0x23, 0x00, 0x01,                   //   topic alias 1
      0x78,                               // payload "x"
    ),
    packet: publish(
      { topic: "", payload: "x", properties: { topicAlias: 1 } },
      5,
    ),
    protocolVersion: 5,
  },
  {
    name: "PUBLISH 5.0 QoS 1 retained with empty payload",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x33, 0x06,                         // PUBLISH QoS 1, RETAIN;
                                          //   remaining length 6
      0x00, 0x01, 0x74,                   // topic "t"
      0x00, 0x05,                         // packet id 5
      0x00,                               // property length 0; payload: empty
    ),
    packet: publish({ topic: "t", qos: 1, retain: true, packetId: 5 }, 5),
    protocolVersion: 5,
  },
];

/** PUBLISH fixtures whose remaining length takes 1, 2, 3 and 4 bytes. */
export const LARGE: PacketFixture<PublishPacket>[] = [
  {
    name: "PUBLISH with remaining length 127 (largest in 1 byte)",
    // deno-fmt-ignore
    bytes: concat(Uint8Array.of(
      0x30, 0x7f,                         // PUBLISH QoS 0; remaining length 127
      0x00, 0x01, 0x61,                   // topic "a"
    ), pattern(124)), // payload: 124 bytes
    packet: publish({ topic: "a", payload: pattern(124) }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH with remaining length 128 (smallest in 2 bytes)",
    // deno-fmt-ignore
    bytes: concat(Uint8Array.of(
      0x30, 0x80, 0x01,                   // PUBLISH QoS 0; remaining length 128
      0x00, 0x01, 0x61,                   // topic "a"
    ), pattern(125)), // payload: 125 bytes
    packet: publish({ topic: "a", payload: pattern(125) }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH with remaining length 16383 (largest in 2 bytes)",
    // deno-fmt-ignore
    bytes: concat(Uint8Array.of(
      0x30, 0xff, 0x7f,                   // PUBLISH QoS 0;
                                          //   remaining length 16383
      0x00, 0x01, 0x61,                   // topic "a"
    ), pattern(16380)), // payload: 16380 bytes
    packet: publish({ topic: "a", payload: pattern(16380) }),
    protocolVersion: 4,
  },
  {
    name: "PUBLISH 5.0 with remaining length 16384 (smallest in 3 bytes)",
    // deno-fmt-ignore
    bytes: concat(Uint8Array.of(
      0x32, 0x80, 0x80, 0x01,             // PUBLISH QoS 1;
                                          //   remaining length 16384
      0x00, 0x01, 0x61,                   // topic "a"
      0x00, 0x01,                         // packet id 1
      0x00,                               // property length 0
    ), pattern(16378)), // payload: 16378 bytes
    packet: publish({
      topic: "a",
      qos: 1,
      packetId: 1,
      payload: pattern(16378),
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBLISH with remaining length 2097152 (smallest in 4 bytes)",
    // deno-fmt-ignore
    bytes: concat(Uint8Array.of(
      0x30, 0x80, 0x80, 0x80, 0x01,       // PUBLISH QoS 0;
                                          //   remaining length 2097152
      0x00, 0x01, 0x61,                   // topic "a"
    ), pattern(2097149)), // payload: 2097149 bytes
    packet: publish({ topic: "a", payload: pattern(2097149) }),
    protocolVersion: 4,
  },
];

// ---------------------------------------------------------------------------
// PUBACK, PUBREC, PUBREL, PUBCOMP
// ---------------------------------------------------------------------------

/** Acknowledgement fixtures of every level. */
export const ACKS: PacketFixture<AckPacket<AckType>>[] = [
  {
    name: "PUBACK 3.1.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x02, // PUBACK; remaining length 2
      0x00, 0x07, // packet id 7
    ),
    packet: ack({ type: "puback", packetId: 7 }),
    protocolVersion: 4,
  },
  {
    name: "PUBREC 3.1.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x50, 0x02, // PUBREC; remaining length 2
      0x01, 0x02, // packet id 258
    ),
    packet: ack({ type: "pubrec", packetId: 258 }),
    protocolVersion: 4,
  },
  {
    name: "PUBREL 3.1.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x62, 0x02, // PUBREL, flags 0010; remaining length 2
      0xff, 0xff, // packet id 65535
    ),
    packet: ack({ type: "pubrel", packetId: 65535 }),
    protocolVersion: 4,
  },
  {
    name: "PUBCOMP 3.1.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x70, 0x02, // PUBCOMP; remaining length 2
      0x00, 0x01, // packet id 1
    ),
    packet: ack({ type: "pubcomp", packetId: 1 }),
    protocolVersion: 4,
  },
  {
    name: "PUBACK 3.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x02, // PUBACK; remaining length 2
      0x00, 0x07, // packet id 7
    ),
    packet: ack({ type: "puback", packetId: 7 }),
    protocolVersion: 3,
  },
  {
    name: "PUBREC 3.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x50, 0x02, // PUBREC; remaining length 2
      0x00, 0x08, // packet id 8
    ),
    packet: ack({ type: "pubrec", packetId: 8 }),
    protocolVersion: 3,
  },
  {
    name: "PUBREL 3.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x62, 0x02, // PUBREL, QoS 1 flags; remaining length 2
      0x00, 0x08, // packet id 8
    ),
    packet: ack({ type: "pubrel", packetId: 8 }),
    protocolVersion: 3,
  },
  {
    name: "PUBCOMP 3.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x70, 0x02, // PUBCOMP; remaining length 2
      0x00, 0x08, // packet id 8
    ),
    packet: ack({ type: "pubcomp", packetId: 8 }),
    protocolVersion: 3,
  },
  {
    name: "PUBACK 5.0 success with no properties (reason code left out)",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x02, // PUBACK; remaining length 2
      0x00, 0x07, // packet id 7; reason code 0x00 left out
    ),
    packet: ack({ type: "puback", packetId: 7 }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBACK 5.0 no matching subscribers (property length left out)",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x03, // PUBACK; remaining length 3
      0x00, 0x07, // packet id 7
      0x10,       // reason code 0x10: no matching subscribers
    ),
    packet: ack({ type: "puback", packetId: 7, reasonCode: 0x10 }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBREC 5.0 unspecified error with reason string",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x50, 0x09,                   // PUBREC; remaining length 9
      0x00, 0x07,                   // packet id 7
      0x80,                         // reason code 0x80: unspecified error
      0x05,                         // property length 5
      0x1f, 0x00, 0x02, 0x6e, 0x6f, //   reason string "no"
    ),
    packet: ack({
      type: "pubrec",
      packetId: 7,
      reasonCode: 0x80,
      properties: { reasonString: "no" },
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBREL 5.0 packet identifier not found",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x62, 0x03, // PUBREL, flags 0010; remaining length 3
      0x00, 0x07, // packet id 7
      0x92,       // reason code 0x92: packet identifier not found
    ),
    packet: ack({ type: "pubrel", packetId: 7, reasonCode: 0x92 }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBCOMP 5.0 success with a user property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x70, 0x0b,                   // PUBCOMP; remaining length 11
      0x00, 0x07,                   // packet id 7
      0x00,                         // reason code 0x00: success
      0x07,                         // property length 7
      0x26, 0x00, 0x01, 0x6b,       //   user property "k":
            0x00, 0x01, 0x76,       //     "v"
    ),
    packet: ack({
      type: "pubcomp",
      packetId: 7,
      properties: { userProperties: [["k", "v"]] },
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBREC 5.0 success with no properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x50, 0x02, // PUBREC; remaining length 2
      0x00, 0x09, // packet id 9
    ),
    packet: ack({ type: "pubrec", packetId: 9 }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBREL 5.0 success with no properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x62, 0x02, // PUBREL, flags 0010; remaining length 2
      0x00, 0x09, // packet id 9
    ),
    packet: ack({ type: "pubrel", packetId: 9 }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBCOMP 5.0 success with no properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x70, 0x02, // PUBCOMP; remaining length 2
      0x00, 0x09, // packet id 9
    ),
    packet: ack({ type: "pubcomp", packetId: 9 }, 5),
    protocolVersion: 5,
  },
];

// ---------------------------------------------------------------------------
// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK
// ---------------------------------------------------------------------------

/** SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK fixtures of every level. */
export const SUBSCRIPTIONS: PacketFixture<
  SubscribePacket | SubackPacket | UnsubscribePacket | UnsubackPacket
>[] = [
  {
    name: "SUBSCRIBE 3.1.1 with three filters at QoS 0, 1 and 2",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x14,                         // SUBSCRIBE, flags 0010;
                                          //   remaining length 20
      0x00, 0x0a,                         // packet id 10
      0x00, 0x03, 0x61, 0x2f, 0x62,       // filter "a/b"
      0x00,                               //   QoS 0
      0x00, 0x03, 0x63, 0x2f, 0x23,       // filter "c/#"
      0x01,                               //   QoS 1
      0x00, 0x03, 0x2b, 0x2f, 0x64,       // filter "+/d"
      0x02,                               //   QoS 2
    ),
    packet: subscribe({
      subscriptions: [["a/b", 0], ["c/#", 1], ["+/d", 2]],
    }),
    protocolVersion: 4,
  },
  {
    name: "SUBSCRIBE 3.1 to # at QoS 1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x06,                         // SUBSCRIBE, QoS 1 flags;
                                          //   remaining length 6
      0x00, 0x01,                         // packet id 1
      0x00, 0x01, 0x23,                   // filter "#"
      0x01,                               //   QoS 1
    ),
    packet: subscribe({ packetId: 1, subscriptions: [["#", 1]] }),
    protocolVersion: 3,
  },
  {
    name: "SUBSCRIBE 5.0 with options, a shared filter and properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x23,                         // SUBSCRIBE, flags 0010;
                                          //   remaining length 35
      0x00, 0x01,                         // packet id 1
      0x09,                               // property length 9
      0x0b, 0x05,                         //   subscription identifier 5
      0x26, 0x00, 0x01, 0x6b,             //   user property "k":
            0x00, 0x01, 0x76,             //     "v"
      0x00, 0x01, 0x61,                   // filter "a"
      0x2d,                               //   retain handling 2, retain as
                                          //   published, no local, QoS 1
      0x00, 0x0c, 0x24, 0x73, 0x68, 0x61, // filter "$share/g/x/+"
            0x72, 0x65, 0x2f, 0x67,
            0x2f, 0x78, 0x2f, 0x2b,
      0x12,                               //   retain handling 1, QoS 2
      0x00, 0x01, 0x23,                   // filter "#"
      0x00,                               //   all options 0
    ),
    packet: subscribe({
      packetId: 1,
      properties: {
        subscriptionIdentifiers: [5],
        userProperties: [["k", "v"]],
      },
      subscriptions: [
        ["a", 1, { noLocal: true, retainAsPublished: true, retainHandling: 2 }],
        ["$share/g/x/+", 2, { retainHandling: 1 }],
        ["#", 0],
      ],
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "SUBACK 3.1.1 with QoS 0, QoS 1 and failure 0x80",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x90, 0x05,                         // SUBACK; remaining length 5
      0x00, 0x0a,                         // packet id 10
      0x00, 0x01, 0x80,                   // granted QoS 0, QoS 1; failure
    ),
    packet: suback({ reasonCodes: [0x00, 0x01, 0x80] }),
    protocolVersion: 4,
  },
  {
    name: "SUBACK 3.1 granting QoS 2",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x90, 0x03,                         // SUBACK; remaining length 3
      0x00, 0x0a,                         // packet id 10
      0x02,                               // granted QoS 2
    ),
    packet: suback({ reasonCodes: [0x02] }),
    protocolVersion: 3,
  },
  {
    name: "SUBACK 5.0 with no properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x90, 0x05,                         // SUBACK; remaining length 5
      0x00, 0x0a,                         // packet id 10
      0x00,                               // property length 0
      0x00, 0x01,                         // granted QoS 0, QoS 1
    ),
    packet: suback({ reasonCodes: [0x00, 0x01] }, 5),
    protocolVersion: 5,
  },
  {
    name: "SUBACK 5.0 with failures and a reason string",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x90, 0x0b,                         // SUBACK; remaining length 11
      0x00, 0x0a,                         // packet id 10
      0x04,                               // property length 4
      0x1f, 0x00, 0x01, 0x72,             //   reason string "r"
      0x00, 0x02, 0x8f, 0x87,             // granted QoS 0, QoS 2; topic filter
                                          //   invalid; not authorized
    ),
    packet: suback({
      reasonCodes: [0x00, 0x02, 0x8f, 0x87],
      properties: { reasonString: "r" },
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "UNSUBSCRIBE 3.1.1 with two filters",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xa2, 0x0a,                         // UNSUBSCRIBE, flags 0010;
                                          //   remaining length 10
      0x00, 0x0b,                         // packet id 11
      0x00, 0x03, 0x61, 0x2f, 0x62,       // filter "a/b"
      0x00, 0x01, 0x23,                   // filter "#"
    ),
    packet: unsubscribe({ topicFilters: ["a/b", "#"] }),
    protocolVersion: 4,
  },
  {
    name: "UNSUBSCRIBE 3.1 with one filter",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xa2, 0x05,                         // UNSUBSCRIBE, QoS 1 flags;
                                          //   remaining length 5
      0x00, 0x0b,                         // packet id 11
      0x00, 0x01, 0x2b,                   // filter "+"
    ),
    packet: unsubscribe({ topicFilters: ["+"] }),
    protocolVersion: 3,
  },
  {
    name: "UNSUBSCRIBE 5.0 with a shared filter",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xa2, 0x14,                         // UNSUBSCRIBE, flags 0010;
                                          //   remaining length 20
      0x00, 0x0b,                         // packet id 11
      0x00,                               // property length 0
      0x00, 0x03, 0x61, 0x2f, 0x62,       // filter "a/b"
      0x00, 0x0a, 0x24, 0x73, 0x68, 0x61, // filter "$share/g/#"
            0x72, 0x65, 0x2f, 0x67,
            0x2f, 0x23,
    ),
    packet: unsubscribe({ topicFilters: ["a/b", "$share/g/#"] }, 5),
    protocolVersion: 5,
  },
  {
    name: "UNSUBSCRIBE 5.0 with a user property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xa2, 0x0d,                         // UNSUBSCRIBE, flags 0010;
                                          //   remaining length 13
      0x00, 0x0b,                         // packet id 11
      0x07,                               // property length 7
      0x26, 0x00, 0x01, 0x6b,             //   user property "k":
            0x00, 0x01, 0x76,             //     "v"
      0x00, 0x01, 0x61,                   // filter "a"
    ),
    packet: unsubscribe({
      topicFilters: ["a"],
      properties: { userProperties: [["k", "v"]] },
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "UNSUBACK 3.1.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xb0, 0x02,                         // UNSUBACK; remaining length 2
      0x00, 0x0b,                         // packet id 11
    ),
    packet: unsuback(),
    protocolVersion: 4,
  },
  {
    name: "UNSUBACK 3.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xb0, 0x02,                         // UNSUBACK; remaining length 2
      0x00, 0x0b,                         // packet id 11
    ),
    packet: unsuback({}, 3),
    protocolVersion: 3,
  },
  {
    name: "UNSUBACK 5.0 with success and no subscription existed",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xb0, 0x05,                         // UNSUBACK; remaining length 5
      0x00, 0x0b,                         // packet id 11
      0x00,                               // property length 0
      0x00, 0x11,                         // success; no subscription existed
    ),
    packet: unsuback({ reasonCodes: [0x00, 0x11] }, 5),
    protocolVersion: 5,
  },
  {
    name: "UNSUBACK 5.0 not authorized with a reason string",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xb0, 0x08,                         // UNSUBACK; remaining length 8
      0x00, 0x0b,                         // packet id 11
      0x04,                               // property length 4
      0x1f, 0x00, 0x01, 0x72,             //   reason string "r"
      0x87,                               // not authorized
    ),
    packet: unsuback({
      reasonCodes: [0x87],
      properties: { reasonString: "r" },
    }, 5),
    protocolVersion: 5,
  },
];

// ---------------------------------------------------------------------------
// PINGREQ, PINGRESP, DISCONNECT, AUTH
// ---------------------------------------------------------------------------

/** PINGREQ, PINGRESP, DISCONNECT and AUTH fixtures of every level. */
export const CONTROL: PacketFixture<
  PingreqPacket | PingrespPacket | DisconnectPacket | AuthPacket
>[] = [
  ...([3, 4, 5] as const).flatMap((
    protocolVersion,
  ): PacketFixture<PingreqPacket | PingrespPacket>[] => [
    {
      name: `PINGREQ ${VERSION_NAMES[protocolVersion]}`,
      // deno-fmt-ignore
      bytes: Uint8Array.of(
        0xc0, 0x00, // PINGREQ; remaining length 0
      ),
      packet: PINGREQ,
      protocolVersion,
    },
    {
      name: `PINGRESP ${VERSION_NAMES[protocolVersion]}`,
      // deno-fmt-ignore
      bytes: Uint8Array.of(
        0xd0, 0x00, // PINGRESP; remaining length 0
      ),
      packet: PINGRESP,
      protocolVersion,
    },
  ]),
  {
    name: "DISCONNECT 3.1.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x00, // DISCONNECT; remaining length 0
    ),
    packet: disconnect(),
    protocolVersion: 4,
  },
  {
    name: "DISCONNECT 3.1",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x00, // DISCONNECT; remaining length 0
    ),
    packet: disconnect({}, 3),
    protocolVersion: 3,
  },
  {
    name: "DISCONNECT 5.0 normal with no properties (all left out)",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x00, // DISCONNECT; remaining length 0: reason code 0x00
    ),
    packet: disconnect({}, 5),
    protocolVersion: 5,
  },
  {
    name: "DISCONNECT 5.0 with will message (property length left out)",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x01, // DISCONNECT; remaining length 1
      0x04,       // reason code 0x04: disconnect with will message
    ),
    packet: disconnect({ reasonCode: 0x04 }, 5),
    protocolVersion: 5,
  },
  {
    name: "DISCONNECT 5.0 with session expiry interval and reason string",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x0d,                         // DISCONNECT; remaining length 13
      0x00,                               // reason code 0x00: normal
      0x0b,                               // property length 11
      0x11, 0x00, 0x00, 0x01, 0x2c,       //   session expiry interval 300
      0x1f, 0x00, 0x03, 0x62, 0x79, 0x65, //   reason string "bye"
    ),
    packet: disconnect({
      properties: { sessionExpiryInterval: 300, reasonString: "bye" },
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "DISCONNECT 5.0 use another server with a server reference",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x06,                         // DISCONNECT; remaining length 6
      0x9c,                               // reason code 0x9c: use another
                                          //   server
      0x04,                               // property length 4
      0x1c, 0x00, 0x01, 0x73,             //   server reference "s"
    ),
    packet: disconnect({
      reasonCode: 0x9c,
      properties: { serverReference: "s" },
    }, 5),
    protocolVersion: 5,
  },
  {
    name: "AUTH 5.0 success with no properties (all left out)",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xf0, 0x00, // AUTH; remaining length 0: reason code 0x00
    ),
    packet: auth(),
    protocolVersion: 5,
  },
  {
    name: "AUTH 5.0 continue authentication with method and data",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xf0, 0x0f,                         // AUTH; remaining length 15
      0x18,                               // reason code 0x18: continue
      0x0d,                               // property length 13
      0x15, 0x00, 0x05, 0x53, 0x43, 0x52, //   authentication method "SCRAM"
            0x41, 0x4d,
      0x16, 0x00, 0x02, 0xab, 0xcd,       //   authentication data ab cd
    ),
    packet: auth({
      reasonCode: 0x18,
      properties: {
        authenticationMethod: "SCRAM",
        authenticationData: Uint8Array.of(0xab, 0xcd),
      },
    }),
    protocolVersion: 5,
  },
  {
    name: "AUTH 5.0 re-authenticate with method, reason string, user property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xf0, 0x13,                         // AUTH; remaining length 19
      0x19,                               // reason code 0x19: re-authenticate
      0x11,                               // property length 17
      0x15, 0x00, 0x01, 0x6d,             //   authentication method "m"
      0x1f, 0x00, 0x03, 0x77, 0x68, 0x79, //   reason string "why"
      0x26, 0x00, 0x01, 0x6b,             //   user property "k":
            0x00, 0x01, 0x76,             //     "v"
    ),
    packet: auth({
      reasonCode: 0x19,
      properties: {
        authenticationMethod: "m",
        reasonString: "why",
        userProperties: [["k", "v"]],
      },
    }),
    protocolVersion: 5,
  },
];

/** Every fixture that decodes to `packet` and encodes back to `bytes`. */
export const VALID: PacketFixture[] = [
  ...CONNECT,
  ...CONNACK,
  ...PUBLISH,
  ...LARGE,
  ...ACKS,
  ...SUBSCRIPTIONS,
  ...CONTROL,
];

// ---------------------------------------------------------------------------
// Valid but not the shortest form
// ---------------------------------------------------------------------------

/**
 * Valid forms longer than the shortest: `decodePacket()` must give `packet`,
 * which `encodePacket()` writes shorter.
 */
export const DECODE_ONLY: PacketFixture[] = [
  {
    // 5.0 section 3.4.2.2.1: a Remaining Length under 4 means no Property
    // Length, which is then 0.
    name: "PUBACK 5.0 with explicit success reason code and no property length",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x03, // PUBACK; remaining length 3
      0x00, 0x07, // packet id 7
      0x00,       // reason code 0x00: success
    ),
    packet: ack({ type: "puback", packetId: 7 }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBACK 5.0 with explicit success reason code and property length 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x04, // PUBACK; remaining length 4
      0x00, 0x07, // packet id 7
      0x00,       // reason code 0x00: success
      0x00,       // property length 0
    ),
    packet: ack({ type: "puback", packetId: 7 }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBREC 5.0 with a reason code and property length 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x50, 0x04, // PUBREC; remaining length 4
      0x00, 0x07, // packet id 7
      0x10,       // reason code 0x10: no matching subscribers
      0x00,       // property length 0
    ),
    packet: ack({ type: "pubrec", packetId: 7, reasonCode: 0x10 }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBREL 5.0 with explicit success reason code",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x62, 0x03, // PUBREL, flags 0010; remaining length 3
      0x00, 0x07, // packet id 7
      0x00,       // reason code 0x00: success
    ),
    packet: ack({ type: "pubrel", packetId: 7 }, 5),
    protocolVersion: 5,
  },
  {
    name: "PUBCOMP 5.0 with packet identifier not found and property length 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x70, 0x04, // PUBCOMP; remaining length 4
      0x00, 0x07, // packet id 7
      0x92,       // reason code 0x92: packet identifier not found
      0x00,       // property length 0
    ),
    packet: ack({ type: "pubcomp", packetId: 7, reasonCode: 0x92 }, 5),
    protocolVersion: 5,
  },
  {
    // 5.0 section 3.14.2.2.1: a Remaining Length under 2 means no Property
    // Length, which is then 0.
    name: "DISCONNECT 5.0 with explicit normal reason code",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x01, // DISCONNECT; remaining length 1
      0x00,       // reason code 0x00: normal disconnection
    ),
    packet: disconnect({}, 5),
    protocolVersion: 5,
  },
  {
    name:
      "DISCONNECT 5.0 with explicit normal reason code and property length 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x02, // DISCONNECT; remaining length 2
      0x00,       // reason code 0x00: normal disconnection
      0x00,       // property length 0
    ),
    packet: disconnect({}, 5),
    protocolVersion: 5,
  },
  {
    name: "AUTH 5.0 with explicit success reason code and property length 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xf0, 0x02, // AUTH; remaining length 2
      0x00,       // reason code 0x00: success
      0x00,       // property length 0
    ),
    packet: auth(),
    protocolVersion: 5,
  },
  {
    name: "PUBLISH 5.0 with properties in descending identifier order",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x0d,                         // PUBLISH QoS 0; remaining length 13
      0x00, 0x01, 0x74,                   // topic "t"
      0x09,                               // property length 9
      0x26, 0x00, 0x01, 0x6b,             //   user property "k":
            0x00, 0x01, 0x76,             //     "v"
      0x01, 0x00,                         //   payload format indicator 0
    ),
    packet: publish({
      topic: "t",
      properties: { userProperties: [["k", "v"]], payloadFormatIndicator: 0 },
    }, 5),
    protocolVersion: 5,
  },
];

// ---------------------------------------------------------------------------
// Malformed
// ---------------------------------------------------------------------------

const MALFORMED_PACKET = ReasonCode.MalformedPacket;
const PROTOCOL_ERROR = ReasonCode.ProtocolError;

/** Fixed header and framing errors, in every version. */
const MALFORMED_FRAMING: MalformedFixture[] = [
  {
    name: "empty input",
    bytes: new Uint8Array(0),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "a fixed header of one byte",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30,                         // PUBLISH QoS 0; remaining length missing
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "a remaining length cut short [MQTT-1.5.5]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x80,                   // PUBLISH QoS 0; remaining length with a
                                    //   continuation bit and no next byte
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "packet type 0 (reserved)",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x00, 0x00,                   // type 0; remaining length 0
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "packet type 0 (reserved) in 5.0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x00, 0x00,                   // type 0; remaining length 0
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "AUTH in 3.1.1, where type 15 is reserved",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xf0, 0x00,                   // type 15; remaining length 0
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "AUTH in 3.1, where type 15 is reserved",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xf0, 0x00,                   // type 15; remaining length 0
    ),
    protocolVersion: 3,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "a remaining length of 5 bytes [MQTT-1.5.5-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0xff, 0xff, 0xff, 0xff, // PUBLISH QoS 0; remaining length with
      0x7f,                         //   a fifth byte
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "a remaining length of 5 bytes in 5.0 [MQTT-1.5.5-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xc0, 0x80, 0x80, 0x80, 0x80, // PINGREQ; remaining length with
      0x00,                         //   a fifth byte
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "a remaining length in more bytes than needed in 5.0 [MQTT-1.5.5-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xc0, 0x80, 0x00,             // PINGREQ; remaining length 0 in 2 bytes
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "a remaining length past the bytes given",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x08,                   // PUBLISH QoS 0; remaining length 8
      0x00, 0x01, 0x74,             // topic "t"; then 5 bytes missing
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBACK with flags 0010 [MQTT-2.2.2-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x42, 0x02,                   // PUBACK, flags 0010; remaining length 2
      0x00, 0x07,                   // packet id 7
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBREL with flags 0000 [MQTT-3.6.1-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x60, 0x02,                   // PUBREL, flags 0000; remaining length 2
      0x00, 0x07,                   // packet id 7
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBREL 5.0 with flags 0000 [MQTT-3.6.1-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x60, 0x02,                   // PUBREL, flags 0000; remaining length 2
      0x00, 0x07,                   // packet id 7
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBSCRIBE with flags 0000 [MQTT-3.8.1-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x80, 0x06,                   // SUBSCRIBE, flags 0000;
                                    //   remaining length 6
      0x00, 0x01,                   // packet id 1
      0x00, 0x01, 0x61,             // filter "a"
      0x00,                         //   QoS 0
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "UNSUBSCRIBE with flags 0000 [MQTT-3.10.1-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xa0, 0x05,                   // UNSUBSCRIBE, flags 0000;
                                    //   remaining length 5
      0x00, 0x01,                   // packet id 1
      0x00, 0x01, 0x61,             // filter "a"
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PINGREQ with flags 0001 [MQTT-2.2.2-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xc1, 0x00,                   // PINGREQ, flags 0001; remaining length 0
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PINGRESP 5.0 with flags 1000 [MQTT-2.2.2-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xd8, 0x00,                   // PINGRESP, flags 1000;
                                    //   remaining length 0
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT with flags 0001 in the fixed header [MQTT-2.2.2-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x11, 0x0d,                         // CONNECT, flags 0001;
                                          //   remaining length 13
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x02,                               // flags: clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "DISCONNECT 5.0 with flags 0010 [MQTT-2.2.2-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe2, 0x00,                   // DISCONNECT, flags 0010;
                                    //   remaining length 0
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "AUTH 5.0 with flags 0001 [MQTT-2.2.2-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xf1, 0x00,                   // AUTH, flags 0001; remaining length 0
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PINGREQ with a byte after it",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xc0, 0x01,                   // PINGREQ; remaining length 1
      0x00,                         // trailing byte
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "DISCONNECT 3.1.1 with a byte after it",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x01,                   // DISCONNECT; remaining length 1
      0x00,                         // trailing byte
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBACK 3.1.1 with a byte after the packet id",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x03,                   // PUBACK; remaining length 3
      0x00, 0x07,                   // packet id 7
      0x00,                         // trailing byte
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBACK 3.1.1 with half a packet id",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x01,                   // PUBACK; remaining length 1
      0x00,                         // half a packet id
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBACK 5.0 with half a packet id",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x01,                   // PUBACK; remaining length 1
      0x00,                         // half a packet id
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNACK 3.1.1 with a byte after the return code",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x03,                   // CONNACK; remaining length 3
      0x00, 0x00,                   // no session present; accepted
      0x00,                         // trailing byte
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNACK 3.1.1 with reserved acknowledge flags set [MQTT-3.2.2-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x02,                   // CONNACK; remaining length 2
      0x02,                         // acknowledge flags: reserved bit 1 set
      0x00,                         // accepted
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNACK 3.1.1 with session present and a refusal [MQTT-3.2.2-4]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x02,                   // CONNACK; remaining length 2
      0x01,                         // acknowledge flags: session present
      0x05,                         // return code 5: not authorized
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNACK 5.0 with session present and a refusal [MQTT-3.2.2-6]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x03,                   // CONNACK; remaining length 3
      0x01,                         // acknowledge flags: session present
      0x87,                         // reason code 0x87: not authorized
      0x00,                         // property length 0
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "CONNACK 5.0 with no property length",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x02,                   // CONNACK; remaining length 2
      0x00, 0x00,                   // no session present; success
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "UNSUBACK 3.1.1 with a byte after the packet id",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xb0, 0x03,                   // UNSUBACK; remaining length 3
      0x00, 0x0b,                   // packet id 11
      0x00,                         // trailing byte
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBACK 3.1.1 with return code 3 [MQTT-3.9.3-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x90, 0x03,                   // SUBACK; remaining length 3
      0x00, 0x0a,                   // packet id 10
      0x03,                         // return code 3: reserved
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
];

/** PUBLISH errors. */
const MALFORMED_PUBLISH: MalformedFixture[] = [
  ...([3, 4, 5] as const).map((protocolVersion): MalformedFixture => ({
    name: `PUBLISH ${VERSION_NAMES[protocolVersion]} with QoS 3 [MQTT-3.3.1-4]`,
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x36, 0x06,                   // PUBLISH, QoS 3; remaining length 6
      0x00, 0x01, 0x74,             // topic "t"
      0x00, 0x01,                   // packet id 1
      0x00,                         // property length 0 or payload 00
    ),
    protocolVersion,
    reasonCode: MALFORMED_PACKET,
  })),
  ...([4, 5] as const).map((protocolVersion): MalformedFixture => ({
    name: `PUBLISH ${
      VERSION_NAMES[protocolVersion]
    } with DUP at QoS 0 [MQTT-3.3.1-2]`,
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x38, 0x04,                   // PUBLISH DUP, QoS 0; remaining length 4
      0x00, 0x01, 0x74,             // topic "t"
      0x00,                         // property length 0 or payload 00
    ),
    protocolVersion,
    reasonCode: MALFORMED_PACKET,
  })),
  ...([3, 4, 5] as const).map((protocolVersion): MalformedFixture => ({
    name: `PUBLISH ${
      VERSION_NAMES[protocolVersion]
    } QoS 1 with packet id 0 [MQTT-2.3.1-1]`,
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x32, 0x06,                   // PUBLISH QoS 1; remaining length 6
      0x00, 0x01, 0x74,             // topic "t"
      0x00, 0x00,                   // packet id 0
      0x00,                         // property length 0 or payload 00
    ),
    protocolVersion,
    reasonCode: MALFORMED_PACKET,
  })),
  {
    name: "PUBLISH QoS 2 with the packet id cut short",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x34, 0x04,                   // PUBLISH QoS 2; remaining length 4
      0x00, 0x01, 0x74,             // topic "t"
      0x00,                         // half a packet id
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH with a topic length past the packet",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x03,                   // PUBLISH QoS 0; remaining length 3
      0x00, 0x05, 0x74,             // topic length 5, 1 byte left
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH with half a topic length",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x01,                   // PUBLISH QoS 0; remaining length 1
      0x00,                         // half a topic length
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH with + in the topic [MQTT-3.3.2-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x05,                   // PUBLISH QoS 0; remaining length 5
      0x00, 0x03, 0x61, 0x2f, 0x2b, // topic "a/+"
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH 3.1 with # as the topic [MQTT-3.3.2-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x03,                   // PUBLISH QoS 0; remaining length 3
      0x00, 0x01, 0x23,             // topic "#"
    ),
    protocolVersion: 3,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH 5.0 with # in the topic [MQTT-3.3.2-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x06,                   // PUBLISH QoS 0; remaining length 6
      0x00, 0x03, 0x61, 0x2f, 0x23, // topic "a/#"
      0x00,                         // property length 0
    ),
    protocolVersion: 5,
    reasonCode: ReasonCode.TopicNameInvalid,
  },
  {
    name: "PUBLISH 3.1.1 with an empty topic [MQTT-4.7.3-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x03,                   // PUBLISH QoS 0; remaining length 3
      0x00, 0x00,                   // topic ""
      0x78,                         // payload "x"
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH 5.0 with an empty topic and no topic alias",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x03,                   // PUBLISH QoS 0; remaining length 3
      0x00, 0x00,                   // topic ""
      0x00,                         // property length 0
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "PUBLISH 5.0 with no property length",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x03,                   // PUBLISH QoS 0; remaining length 3
      0x00, 0x01, 0x74,             // topic "t"; property length missing
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    // 5.0 section 3.3.2.3.4 forbids alias 0 and 0x94 names a bad alias.
    name: "PUBLISH 5.0 with topic alias 0 [MQTT-3.3.2-8]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x07,                   // PUBLISH QoS 0; remaining length 7
      0x00, 0x01, 0x74,             // topic "t"
      0x03,                         // property length 3
      0x23, 0x00, 0x00,             //   topic alias 0
    ),
    protocolVersion: 5,
    reasonCode: ReasonCode.TopicAliasInvalid,
  },
  {
    name: "PUBLISH 5.0 with subscription identifier 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x06,                   // PUBLISH QoS 0; remaining length 6
      0x00, 0x01, 0x74,             // topic "t"
      0x02,                         // property length 2
      0x0b, 0x00,                   //   subscription identifier 0
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "PUBLISH 5.0 with payload format indicator 2",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x06,                   // PUBLISH QoS 0; remaining length 6
      0x00, 0x01, 0x74,             // topic "t"
      0x02,                         // property length 2
      0x01, 0x02,                   //   payload format indicator 2
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
];

/** Malformed UTF-8 and U+0000 in strings [MQTT-1.5.3-1/2] (5.0: 1.5.4). */
const MALFORMED_UTF8: MalformedFixture[] = [
  ...([
    [[0xff], "byte ff"],
    [[0x80], "lone continuation byte"],
    [[0xc3], "truncated 2-byte sequence"],
    [[0xe6, 0x97], "truncated 3-byte sequence"],
    [[0xc0, 0xaf], "overlong encoding of /"],
    [[0xe0, 0x80, 0xaf], "overlong 3-byte encoding of /"],
    [[0xed, 0xa0, 0x80], "surrogate U+D800"],
    [[0xed, 0xbf, 0xbf], "surrogate U+DFFF"],
    [[0xf4, 0x90, 0x80, 0x80], "code point above U+10FFFF"],
    [[0x00], "U+0000"],
  ] as const).flatMap(([bad, what]) =>
    ([4, 5] as const).map((protocolVersion): MalformedFixture => ({
      name: `PUBLISH ${
        VERSION_NAMES[protocolVersion]
      } with ${what} in the topic`,
      // deno-fmt-ignore
      bytes: Uint8Array.of(
        0x30, 4 + bad.length + (protocolVersion === 5 ? 1 : 0),
                                    // PUBLISH QoS 0; remaining length
        0x00, 2 + bad.length,       // topic length
        0x61, ...bad, 0x62,         // topic "a", the bad bytes, "b"
        ...(protocolVersion === 5 ? [0x00] : []), // property length 0
      ),
      protocolVersion,
      reasonCode: MALFORMED_PACKET,
    }))
  ),
  {
    name: "CONNECT 3.1.1 with a surrogate in the client id",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0f,                         // CONNECT; remaining length 15
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x02,                               // flags: clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x03, 0xed, 0xb0, 0x80,       // client id: surrogate U+DC00
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 3.1.1 with U+0000 in the user name",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0f,                         // CONNECT; remaining length 15
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x82,                               // flags: user name, clean
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x00,                         // client id ""
      0x00, 0x01, 0x00,                   // user name "\0"
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBSCRIBE 3.1.1 with byte ff in the filter",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x06,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 6
      0x00, 0x01,                   // packet id 1
      0x00, 0x01, 0xff,             // filter: byte ff
      0x00,                         //   QoS 0
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "UNSUBSCRIBE 5.0 with U+0000 in the filter",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xa2, 0x06,                   // UNSUBSCRIBE, flags 0010;
                                    //   remaining length 6
      0x00, 0x01,                   // packet id 1
      0x00,                         // property length 0
      0x00, 0x01, 0x00,             // filter "\0"
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBACK 5.0 with a surrogate in the reason string",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x0a,                   // PUBACK; remaining length 10
      0x00, 0x07,                   // packet id 7
      0x80,                         // reason code 0x80
      0x06,                         // property length 6
      0x1f, 0x00, 0x03,             //   reason string:
            0xed, 0xa0, 0x80,       //     surrogate U+D800
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH 5.0 with U+0000 in a user property value",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x0b,                   // PUBLISH QoS 0; remaining length 11
      0x00, 0x01, 0x74,             // topic "t"
      0x07,                         // property length 7
      0x26, 0x00, 0x01, 0x6b,       //   user property "k":
            0x00, 0x01, 0x00,       //     "\0"
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
];

/** SUBSCRIBE and UNSUBSCRIBE errors. */
const MALFORMED_SUBSCRIBE: MalformedFixture[] = [
  {
    name: "SUBSCRIBE 3.1.1 with no filter [MQTT-3.8.3-3]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x02,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 2
      0x00, 0x01,                   // packet id 1; no filter
    ),
    protocolVersion: 4,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "SUBSCRIBE 5.0 with no filter [MQTT-3.8.3-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x03,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 3
      0x00, 0x01,                   // packet id 1
      0x00,                         // property length 0; no filter
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "UNSUBSCRIBE 3.1.1 with no filter [MQTT-3.10.3-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xa2, 0x02,                   // UNSUBSCRIBE, flags 0010;
                                    //   remaining length 2
      0x00, 0x01,                   // packet id 1; no filter
    ),
    protocolVersion: 4,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "UNSUBSCRIBE 5.0 with no filter [MQTT-3.10.3-2]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xa2, 0x03,                   // UNSUBSCRIBE, flags 0010;
                                    //   remaining length 3
      0x00, 0x01,                   // packet id 1
      0x00,                         // property length 0; no filter
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "SUBSCRIBE 3.1.1 with packet id 0 [MQTT-2.3.1-1]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x06,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 6
      0x00, 0x00,                   // packet id 0
      0x00, 0x01, 0x61,             // filter "a"
      0x00,                         //   QoS 0
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "UNSUBSCRIBE 5.0 with packet id 0 [MQTT-2.2.1-3]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xa2, 0x06,                   // UNSUBSCRIBE, flags 0010;
                                    //   remaining length 6
      0x00, 0x00,                   // packet id 0
      0x00,                         // property length 0
      0x00, 0x01, 0x61,             // filter "a"
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBSCRIBE 3.1.1 with a filter and no options byte",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x05,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 5
      0x00, 0x01,                   // packet id 1
      0x00, 0x01, 0x61,             // filter "a"; QoS byte missing
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBSCRIBE 3.1.1 with a filter length past the packet",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x06,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 6
      0x00, 0x01,                   // packet id 1
      0x00, 0x09, 0x61, 0x00,       // filter length 9, 2 bytes left
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBSCRIBE 3.1.1 with QoS 3 [MQTT-3.8.3-4]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x06,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 6
      0x00, 0x01,                   // packet id 1
      0x00, 0x01, 0x61,             // filter "a"
      0x03,                         //   QoS 3
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBSCRIBE 3.1.1 with a reserved option bit [MQTT-3.8.3-4]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x06,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 6
      0x00, 0x01,                   // packet id 1
      0x00, 0x01, 0x61,             // filter "a"
      0x04,                         //   QoS 0 with bit 2 set (reserved in
                                    //   3.1.1, No Local in 5.0)
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBSCRIBE 5.0 with QoS 3",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x07,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 7
      0x00, 0x01,                   // packet id 1
      0x00,                         // property length 0
      0x00, 0x01, 0x61,             // filter "a"
      0x03,                         //   QoS 3
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "SUBSCRIBE 5.0 with retain handling 3",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x07,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 7
      0x00, 0x01,                   // packet id 1
      0x00,                         // property length 0
      0x00, 0x01, 0x61,             // filter "a"
      0x30,                         //   retain handling 3, QoS 0
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "SUBSCRIBE 5.0 with a reserved option bit [MQTT-3.8.3-5]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x07,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 7
      0x00, 0x01,                   // packet id 1
      0x00,                         // property length 0
      0x00, 0x01, 0x61,             // filter "a"
      0x41,                         //   reserved bit 6 set, QoS 1
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBSCRIBE 5.0 with no local on a shared filter [MQTT-3.8.3-4]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x10,                         // SUBSCRIBE, flags 0010;
                                          //   remaining length 16
      0x00, 0x01,                         // packet id 1
      0x00,                               // property length 0
      0x00, 0x0a, 0x24, 0x73, 0x68, 0x61, // filter "$share/g/#"
            0x72, 0x65, 0x2f, 0x67,
            0x2f, 0x23,
      0x04,                               //   no local, QoS 0
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "SUBSCRIBE 5.0 with two subscription identifiers",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x0b,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 11
      0x00, 0x01,                   // packet id 1
      0x04,                         // property length 4
      0x0b, 0x01,                   //   subscription identifier 1
      0x0b, 0x02,                   //   subscription identifier 2
      0x00, 0x01, 0x61,             // filter "a"
      0x00,                         //   QoS 0
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "SUBSCRIBE 5.0 with subscription identifier 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x09,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 9
      0x00, 0x01,                   // packet id 1
      0x02,                         // property length 2
      0x0b, 0x00,                   //   subscription identifier 0
      0x00, 0x01, 0x61,             // filter "a"
      0x00,                         //   QoS 0
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  ...([
    [[0x61, 0x2f, 0x23, 0x2f, 0x62], '"a/#/b"'],
    [[0x61, 0x2b], '"a+"'],
    [[0x23, 0x61], '"#a"'],
    [[0x61, 0x2f, 0x62, 0x23], '"a/b#"'],
    [[], "an empty filter [MQTT-4.7.3-1]"],
    [[0x24, 0x73, 0x68, 0x61, 0x72, 0x65, 0x2f, 0x2f, 0x61], '"$share//a"'],
    [[0x24, 0x73, 0x68, 0x61, 0x72, 0x65, 0x2f, 0x67], '"$share/g"'],
  ] as const).flatMap(([filter, what]): MalformedFixture[] => [
    ...([4, 5] as const).map((protocolVersion): MalformedFixture => ({
      name: `SUBSCRIBE ${VERSION_NAMES[protocolVersion]} with filter ${what}`,
      // deno-fmt-ignore
      bytes: Uint8Array.of(
        0x82, 5 + filter.length + (protocolVersion === 5 ? 1 : 0),
                                    // SUBSCRIBE; remaining length
        0x00, 0x01,                 // packet id 1
        ...(protocolVersion === 5 ? [0x00] : []), // property length 0
        0x00, filter.length,        // filter length
        ...filter,                  // filter
        0x00,                       //   QoS 0
      ),
      protocolVersion,
      reasonCode: protocolVersion === 5
        ? ReasonCode.TopicFilterInvalid
        : MALFORMED_PACKET,
    })),
    {
      name: `UNSUBSCRIBE 3.1.1 with filter ${what}`,
      // deno-fmt-ignore
      bytes: Uint8Array.of(
        0xa2, 4 + filter.length,    // UNSUBSCRIBE; remaining length
        0x00, 0x01,                 // packet id 1
        0x00, filter.length,        // filter length
        ...filter,                  // filter
      ),
      protocolVersion: 4,
      reasonCode: MALFORMED_PACKET,
    },
  ]),
];

/** CONNECT errors. */
const MALFORMED_CONNECT: MalformedFixture[] = [
  ...([4, 5] as const).flatMap((protocolVersion) =>
    ([
      [0x01, "the reserved flag set [MQTT-3.1.2-3]"],
      [0x0a, "will QoS 1 and no will flag [MQTT-3.1.2-11/13]"],
      [0x12, "will QoS 2 and no will flag [MQTT-3.1.2-11/13]"],
      [0x22, "will retain and no will flag [MQTT-3.1.2-13/15]"],
    ] as const).map(([flags, what]): MalformedFixture => ({
      name: `CONNECT ${VERSION_NAMES[protocolVersion]} with ${what}`,
      // deno-fmt-ignore
      bytes: Uint8Array.of(
        0x10, protocolVersion === 5 ? 0x0e : 0x0d,
                                          // CONNECT; remaining length
        0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
        protocolVersion,                  // protocol level
        flags,                            // connect flags
        0x00, 0x3c,                       // keep-alive 60
        ...(protocolVersion === 5 ? [0x00] : []), // property length 0
        0x00, 0x01, 0x63,                 // client id "c"
      ),
      protocolVersion,
      reasonCode: MALFORMED_PACKET,
    }))
  ),
  {
    name: "CONNECT 3.1 with the reserved flag set",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0f,                         // CONNECT; remaining length 15
      0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, // protocol name "MQIsdp"
            0x64, 0x70,
      0x03,                               // protocol level 3
      0x03,                               // flags: clean session, reserved
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    protocolVersion: 3,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 3.1.1 with will QoS 3 [MQTT-3.1.2-14]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x12,                         // CONNECT; remaining length 18
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x1e,                               // flags: will QoS 3, will, clean
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"
      0x00, 0x01, 0x77,                   // will topic "w"
      0x00, 0x00,                         // will payload: empty
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 5.0 with will QoS 3 [MQTT-3.1.2-12]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x14,                         // CONNECT; remaining length 20
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x1e,                               // flags: will QoS 3, will, clean
      0x00, 0x3c,                         // keep-alive 60
      0x00,                               // property length 0
      0x00, 0x01, 0x63,                   // client id "c"
      0x00,                               // will property length 0
      0x00, 0x01, 0x77,                   // will topic "w"
      0x00, 0x00,                         // will payload: empty
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 3.1.1 with a password and no user name [MQTT-3.1.2-22]",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x11,                         // CONNECT; remaining length 17
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x42,                               // flags: password, clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"
      0x00, 0x02, 0x70, 0x77,             // password "pw"
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 3.1.1 with the user name flag and no user name",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0d,                         // CONNECT; remaining length 13
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x82,                               // flags: user name, clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"; user name missing
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 3.1.1 with the will flag and no will topic",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0d,                         // CONNECT; remaining length 13
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x06,                               // flags: will, clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"; will missing
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 3.1.1 with bytes after the last field",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0f,                         // CONNECT; remaining length 15
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x02,                               // flags: clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"
      0x00, 0x00,                         // trailing bytes
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 3.1.1 with a client id length past the packet",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x0d,                         // CONNECT; remaining length 13
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x02,                               // flags: clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x05, 0x63,                   // client id length 5, 1 byte left
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT cut short in the protocol name",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x04,                         // CONNECT; remaining length 4
      0x00, 0x04, 0x4d, 0x51,             // protocol name "MQ", cut short
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 3.1.1 with + in the will topic",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x12,                         // CONNECT; remaining length 18
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x04,                               // protocol level 4
      0x06,                               // flags: will, clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"
      0x00, 0x01, 0x2b,                   // will topic "+"
      0x00, 0x00,                         // will payload: empty
    ),
    protocolVersion: 4,
    reasonCode: MALFORMED_PACKET,
  },
  ...([
    [[0x4d, 0x51, 0x54, 0x54], 0x06, 'level 6 with "MQTT"'],
    [[0x4d, 0x51, 0x54, 0x54], 0x00, 'level 0 with "MQTT"'],
    [[0x4d, 0x51, 0x54, 0x54], 0x03, 'level 3 with "MQTT"'],
    [[0x4d, 0x51, 0x49, 0x73, 0x64, 0x70], 0x04, 'level 4 with "MQIsdp"'],
    [[0x4d, 0x51, 0x54, 0x58], 0x04, 'protocol name "MQTX"'],
  ] as const).map(([name, level, what]): MalformedFixture => ({
    name: `CONNECT with ${what}: unsupported protocol version`,
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 9 + name.length,              // CONNECT; remaining length
      0x00, name.length, ...name,         // protocol name
      level,                              // protocol level
      0x02,                               // flags: clean session
      0x00, 0x3c,                         // keep-alive 60
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    protocolVersion: 4,
    reasonCode: ReasonCode.UnsupportedProtocolVersion,
  })),
];

/** MQTT 5.0 property errors. */
const MALFORMED_PROPERTIES: MalformedFixture[] = [
  {
    name: "PUBLISH 5.0 with unknown property 0x7f",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x06,                   // PUBLISH QoS 0; remaining length 6
      0x00, 0x01, 0x74,             // topic "t"
      0x02,                         // property length 2
      0x7f, 0x00,                   //   property 0x7f: unknown
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "DISCONNECT 5.0 with unknown property 0x00",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x03,                   // DISCONNECT; remaining length 3
      0x00,                         // reason code 0x00
      0x01,                         // property length 1
      0x00,                         //   property 0x00: unknown
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH 5.0 with message expiry interval twice",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x0e,                   // PUBLISH QoS 0; remaining length 14
      0x00, 0x01, 0x74,             // topic "t"
      0x0a,                         // property length 10
      0x02, 0x00, 0x00, 0x00, 0x01, //   message expiry interval 1
      0x02, 0x00, 0x00, 0x00, 0x02, //   message expiry interval 2
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "PUBACK 5.0 with reason string twice",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x0c,                   // PUBACK; remaining length 12
      0x00, 0x07,                   // packet id 7
      0x80,                         // reason code 0x80
      0x08,                         // property length 8
      0x1f, 0x00, 0x01, 0x61,       //   reason string "a"
      0x1f, 0x00, 0x01, 0x62,       //   reason string "b"
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "CONNECT 5.0 with receive maximum twice",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x14,                         // CONNECT; remaining length 20
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x02,                               // flags: clean start
      0x00, 0x3c,                         // keep-alive 60
      0x06,                               // property length 6
      0x21, 0x00, 0x01,                   //   receive maximum 1
      0x21, 0x00, 0x02,                   //   receive maximum 2
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "PUBLISH 5.0 with session expiry interval, a CONNECT property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x09,                   // PUBLISH QoS 0; remaining length 9
      0x00, 0x01, 0x74,             // topic "t"
      0x05,                         // property length 5
      0x11, 0x00, 0x00, 0x00, 0x01, //   session expiry interval 1
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBACK 5.0 with subscription identifier, a PUBLISH property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x40, 0x06,                   // PUBACK; remaining length 6
      0x00, 0x07,                   // packet id 7
      0x00,                         // reason code 0x00
      0x02,                         // property length 2
      0x0b, 0x01,                   //   subscription identifier 1
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 5.0 with topic alias, a PUBLISH property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x11,                         // CONNECT; remaining length 17
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x02,                               // flags: clean start
      0x00, 0x3c,                         // keep-alive 60
      0x03,                               // property length 3
      0x23, 0x00, 0x01,                   //   topic alias 1
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 5.0 with session expiry interval in the will properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x19,                         // CONNECT; remaining length 25
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x06,                               // flags: will, clean start
      0x00, 0x3c,                         // keep-alive 60
      0x00,                               // property length 0
      0x00, 0x01, 0x63,                   // client id "c"
      0x05,                               // will property length 5
      0x11, 0x00, 0x00, 0x00, 0x01,       //   session expiry interval 1
      0x00, 0x01, 0x77,                   // will topic "w"
      0x00, 0x00,                         // will payload: empty
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNACK 5.0 with will delay interval, a will property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x08,                   // CONNACK; remaining length 8
      0x00, 0x00,                   // no session present; success
      0x05,                         // property length 5
      0x18, 0x00, 0x00, 0x00, 0x01, //   will delay interval 1
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "SUBSCRIBE 5.0 with reason string, an ack property",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x82, 0x0b,                   // SUBSCRIBE, flags 0010;
                                    //   remaining length 11
      0x00, 0x01,                   // packet id 1
      0x04,                         // property length 4
      0x1f, 0x00, 0x01, 0x72,       //   reason string "r"
      0x00, 0x01, 0x61,             // filter "a"
      0x00,                         //   QoS 0
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "CONNECT 5.0 with receive maximum 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x11,                         // CONNECT; remaining length 17
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x02,                               // flags: clean start
      0x00, 0x3c,                         // keep-alive 60
      0x03,                               // property length 3
      0x21, 0x00, 0x00,                   //   receive maximum 0
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "CONNECT 5.0 with maximum packet size 0",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x13,                         // CONNECT; remaining length 19
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x02,                               // flags: clean start
      0x00, 0x3c,                         // keep-alive 60
      0x05,                               // property length 5
      0x27, 0x00, 0x00, 0x00, 0x00,       //   maximum packet size 0
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "CONNECT 5.0 with request problem information 2",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x10, 0x10,                         // CONNECT; remaining length 16
      0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, // protocol name "MQTT"
      0x05,                               // protocol level 5
      0x02,                               // flags: clean start
      0x00, 0x3c,                         // keep-alive 60
      0x02,                               // property length 2
      0x17, 0x02,                         //   request problem information 2
      0x00, 0x01, 0x63,                   // client id "c"
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "CONNACK 5.0 with maximum QoS 2",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x05,                   // CONNACK; remaining length 5
      0x00, 0x00,                   // no session present; success
      0x02,                         // property length 2
      0x24, 0x02,                   //   maximum QoS 2
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "CONNACK 5.0 with retain available 5",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x20, 0x05,                   // CONNACK; remaining length 5
      0x00, 0x00,                   // no session present; success
      0x02,                         // property length 2
      0x25, 0x05,                   //   retain available 5
    ),
    protocolVersion: 5,
    reasonCode: PROTOCOL_ERROR,
  },
  {
    name: "PUBLISH 5.0 with a property length past the packet",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x06,                   // PUBLISH QoS 0; remaining length 6
      0x00, 0x01, 0x74,             // topic "t"
      0x09,                         // property length 9, 2 bytes left
      0x01, 0x01,                   //   payload format indicator 1
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH 5.0 with a property cut short by the property length",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x0a,                   // PUBLISH QoS 0; remaining length 10
      0x00, 0x01, 0x74,             // topic "t"
      0x03,                         // property length 3
      0x02, 0x00, 0x00, 0x00, 0x01, //   message expiry interval, 2 of
                                    //   its 4 bytes inside the properties
      0x78,                         // payload "x"
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH 5.0 with a 5-byte subscription identifier",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x0a,                   // PUBLISH QoS 0; remaining length 10
      0x00, 0x01, 0x74,             // topic "t"
      0x06,                         // property length 6
      0x0b, 0x80, 0x80, 0x80, 0x80, //   subscription identifier in
            0x01,                   //     5 bytes
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH 5.0 with a correlation data length past the properties",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x09,                   // PUBLISH QoS 0; remaining length 9
      0x00, 0x01, 0x74,             // topic "t"
      0x05,                         // property length 5
      0x09, 0x00, 0x08, 0x01, 0x02, //   correlation data length 8,
                                    //   2 bytes left
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "PUBLISH 5.0 with a user property missing its value",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0x30, 0x08,                   // PUBLISH QoS 0; remaining length 8
      0x00, 0x01, 0x74,             // topic "t"
      0x04,                         // property length 4
      0x26, 0x00, 0x01, 0x6b,       //   user property "k": value missing
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "DISCONNECT 5.0 with a property length past the packet",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xe0, 0x02,                   // DISCONNECT; remaining length 2
      0x00,                         // reason code 0x00
      0x04,                         // property length 4, 0 bytes left
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
  {
    name: "AUTH 5.0 with a property length past the packet",
    // deno-fmt-ignore
    bytes: Uint8Array.of(
      0xf0, 0x03,                   // AUTH; remaining length 3
      0x18,                         // reason code 0x18
      0x02,                         // property length 2, 1 byte left
      0x15,                         //   authentication method, cut short
    ),
    protocolVersion: 5,
    reasonCode: MALFORMED_PACKET,
  },
];

/** Every fixture the decoder must refuse, with the reason code it gives. */
export const MALFORMED: MalformedFixture[] = [
  ...MALFORMED_FRAMING,
  ...MALFORMED_PUBLISH,
  ...MALFORMED_UTF8,
  ...MALFORMED_SUBSCRIBE,
  ...MALFORMED_CONNECT,
  ...MALFORMED_PROPERTIES,
];
