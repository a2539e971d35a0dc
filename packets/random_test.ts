import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  decodePacket,
  encodePacket,
  frameLength,
  type Packet,
  PacketDecoder,
  type PacketType,
  type Properties,
  type ProtocolVersion,
  type QoS,
  type Subscription,
  type UserProperty,
  type Will,
} from "./mod.ts";

/** mulberry32: a small seeded PRNG, so every failure can be replayed. */
class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  bytes(max: number): Uint8Array {
    const bytes = new Uint8Array(this.int(0, max));
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.int(0, 255);
    return bytes;
  }
}

const CHARS = [
  "a",
  "b",
  "z",
  "0",
  "-",
  "_",
  " ",
  "$",
  "é",
  "日",
  "😀",
  "\u{10ffff}",
];
const TYPES: readonly PacketType[] = [
  "connect",
  "connack",
  "publish",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "subscribe",
  "suback",
  "unsubscribe",
  "unsuback",
  "pingreq",
  "pingresp",
  "disconnect",
  "auth",
];
const PUBACK_CODES = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_CODES = [0x00, 0x92];
const CONNACK_CODES = [
  0x00,
  0x80,
  0x81,
  0x82,
  0x83,
  0x84,
  0x85,
  0x86,
  0x87,
  0x88,
  0x89,
  0x8a,
  0x8c,
  0x90,
  0x95,
  0x97,
  0x99,
  0x9a,
  0x9b,
  0x9c,
  0x9d,
  0x9f,
];
const SUBACK_CODES = [
  0x00,
  0x01,
  0x02,
  0x80,
  0x83,
  0x87,
  0x8f,
  0x91,
  0x97,
  0x9e,
  0xa1,
  0xa2,
];
const UNSUBACK_CODES = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
const DISCONNECT_CODES = [
  0x00,
  0x04,
  0x80,
  0x81,
  0x82,
  0x83,
  0x87,
  0x89,
  0x8b,
  0x8d,
  0x8e,
  0x8f,
  0x90,
  0x93,
  0x94,
  0x95,
  0x96,
  0x97,
  0x98,
  0x99,
  0x9a,
  0x9b,
  0x9c,
  0x9d,
  0x9e,
  0x9f,
  0xa0,
  0xa1,
  0xa2,
];
const AUTH_CODES = [0x00, 0x18, 0x19];
const U32 = 0xffffffff;

/** Generates random valid packets as the decoder returns them. */
class PacketGenerator {
  readonly #r: Random;
  constructor(random: Random) {
    this.#r = random;
  }

  text(max: number): string {
    let text = "";
    const length = this.#r.int(0, max);
    for (let i = 0; i < length; i++) text += this.#r.pick(CHARS);
    return text;
  }

  level(): string {
    return this.text(4).replaceAll("$", "x") || "l";
  }

  topic(): string {
    const levels = [];
    for (let n = this.#r.int(1, 4); n > 0; n--) levels.push(this.level());
    if (this.#r.bool(0.1)) levels[0] = "$SYS";
    if (this.#r.bool(0.1)) levels.push(""); // a trailing "/"
    return levels.join("/");
  }

  filter(protocolVersion: ProtocolVersion): string {
    const levels = [];
    for (let n = this.#r.int(1, 4); n > 0; n--) {
      levels.push(this.#r.bool(0.2) ? "+" : this.level());
    }
    if (this.#r.bool(0.2)) levels.push("#");
    const filter = levels.join("/");
    return protocolVersion === 5 && this.#r.bool(0.15)
      ? `$share/${this.level()}/${filter}`
      : filter;
  }

  qos(): QoS {
    return this.#r.pick([0, 1, 2] as const);
  }

  packetId(): number {
    return this.#r.bool(0.1) ? this.#r.pick([1, 65535]) : this.#r.int(1, 65535);
  }

  u32(): number {
    return this.#r.bool(0.1) ? this.#r.pick([0, U32]) : this.#r.int(0, U32);
  }

  userProperties(): UserProperty[] {
    const properties: UserProperty[] = [];
    for (let n = this.#r.int(1, 3); n > 0; n--) {
      properties.push([this.text(5), this.text(5)]);
    }
    return properties;
  }

  /** Properties of `kind`, each present with probability 0.3. */
  properties(kind: PacketType | "will"): Properties {
    const r = this.#r;
    const p: Properties = {};
    const maybe = (): boolean => r.bool(0.3);
    const message = kind === "publish" || kind === "will";
    if (message) {
      if (maybe()) p.payloadFormatIndicator = r.pick([0, 1] as const);
      if (maybe()) p.messageExpiryInterval = this.u32();
      if (maybe()) p.contentType = this.text(8);
      if (maybe()) p.responseTopic = this.topic();
      if (maybe()) p.correlationData = r.bytes(8);
    }
    if (kind === "will" && maybe()) p.willDelayInterval = this.u32();
    if (kind === "publish") {
      if (maybe()) p.topicAlias = r.int(1, 65535);
      if (maybe()) {
        p.subscriptionIdentifiers = [];
        for (let n = r.int(1, 3); n > 0; n--) {
          p.subscriptionIdentifiers.push(r.int(1, 268435455));
        }
      }
    }
    if (kind === "subscribe" && maybe()) {
      p.subscriptionIdentifiers = [r.int(1, 268435455)];
    }
    if (kind === "connect" || kind === "connack") {
      if (maybe()) p.sessionExpiryInterval = this.u32();
      if (maybe()) p.receiveMaximum = r.int(1, 65535);
      if (maybe()) p.maximumPacketSize = r.int(1, U32);
      if (maybe()) p.topicAliasMaximum = r.int(0, 65535);
    }
    if (kind === "connect") {
      if (maybe()) p.requestResponseInformation = r.pick([0, 1] as const);
      if (maybe()) p.requestProblemInformation = r.pick([0, 1] as const);
    }
    if (kind === "connack") {
      if (maybe()) p.assignedClientIdentifier = this.text(10);
      if (maybe()) p.serverKeepAlive = r.int(0, 65535);
      if (maybe()) p.responseInformation = this.text(8);
      if (maybe()) p.serverReference = this.text(8);
      if (maybe()) p.maximumQoS = r.pick([0, 1] as const);
      if (maybe()) p.retainAvailable = r.pick([0, 1] as const);
      if (maybe()) p.wildcardSubscriptionAvailable = r.pick([0, 1] as const);
      if (maybe()) {
        p.subscriptionIdentifiersAvailable = r.pick([0, 1] as const);
      }
      if (maybe()) p.sharedSubscriptionAvailable = r.pick([0, 1] as const);
    }
    if (kind === "connect" || kind === "connack" || kind === "auth") {
      if (maybe()) {
        p.authenticationMethod = this.text(8);
        if (maybe()) p.authenticationData = r.bytes(8);
      }
    }
    if (kind === "disconnect") {
      if (maybe()) p.sessionExpiryInterval = this.u32();
      if (maybe()) p.serverReference = this.text(8);
    }
    const acknowledges = [
      "connack",
      "puback",
      "pubrec",
      "pubrel",
      "pubcomp",
      "suback",
      "unsuback",
      "disconnect",
      "auth",
    ];
    if (acknowledges.includes(kind) && maybe()) p.reasonString = this.text(10);
    if (maybe()) p.userProperties = this.userProperties();
    return p;
  }

  payload(textual: boolean): Uint8Array {
    if (textual) return new TextEncoder().encode(this.text(20));
    return this.#r.bytes(this.#r.bool(0.05) ? 300 : 40);
  }

  packet(type: PacketType, v: ProtocolVersion): Packet {
    const r = this.#r;
    const five = v === 5;
    switch (type) {
      case "connect": {
        const packet: Packet = {
          type,
          protocolName: v === 3 ? "MQIsdp" : "MQTT",
          protocolVersion: v,
          clean: r.bool(),
          keepAlive: r.int(0, 65535),
          clientId: this.text(8),
        };
        if (r.bool()) {
          const properties = five ? this.properties("will") : {};
          const will: Will = {
            topic: this.topic(),
            payload: this.payload(properties.payloadFormatIndicator === 1),
            qos: this.qos(),
            retain: r.bool(),
          };
          if (five) will.properties = properties;
          packet.will = will;
        }
        if (r.bool()) packet.username = this.text(8);
        if ((five || packet.username !== undefined) && r.bool()) {
          packet.password = r.bytes(8);
        }
        if (five) packet.properties = this.properties(type);
        return packet;
      }
      case "connack": {
        const reasonCode = five ? r.pick(CONNACK_CODES) : r.int(0, 5);
        return {
          type,
          // 3.1 has no Session Present flag; a refusal never sets it
          // [MQTT-3.2.2-4] (5.0: [MQTT-3.2.2-6]).
          sessionPresent: v !== 3 && reasonCode === 0 && r.bool(),
          reasonCode,
          ...(five ? { properties: this.properties(type) } : {}),
        };
      }
      case "publish": {
        const qos = this.qos();
        const properties = five ? this.properties(type) : {};
        const topic = properties.topicAlias !== undefined && r.bool()
          ? ""
          : this.topic();
        return {
          type,
          topic,
          payload: this.payload(properties.payloadFormatIndicator === 1),
          qos,
          retain: r.bool(),
          dup: qos > 0 && r.bool(),
          ...(qos > 0 ? { packetId: this.packetId() } : {}),
          ...(five ? { properties } : {}),
        };
      }
      case "puback":
      case "pubrec":
      case "pubrel":
      case "pubcomp": {
        const codes = type === "pubrel" || type === "pubcomp"
          ? PUBREL_CODES
          : PUBACK_CODES;
        return {
          type,
          packetId: this.packetId(),
          ...(five
            ? { reasonCode: r.pick(codes), properties: this.properties(type) }
            : {}),
        };
      }
      case "subscribe": {
        const subscriptions: Subscription[] = [];
        for (let n = r.int(1, 4); n > 0; n--) {
          const topicFilter = this.filter(v);
          subscriptions.push(
            five
              ? {
                topicFilter,
                qos: this.qos(),
                // [MQTT-3.8.3-4]: no No Local on a shared subscription.
                noLocal: !topicFilter.startsWith("$share/") && r.bool(),
                retainAsPublished: r.bool(),
                retainHandling: r.pick([0, 1, 2] as const),
              }
              : { topicFilter, qos: this.qos() },
          );
        }
        return {
          type,
          packetId: this.packetId(),
          subscriptions,
          ...(five ? { properties: this.properties(type) } : {}),
        };
      }
      case "suback": {
        const codes = five
          ? SUBACK_CODES
          : v === 4
          ? [0, 1, 2, 0x80]
          : [0, 1, 2];
        const reasonCodes = [];
        for (let n = r.int(1, 4); n > 0; n--) reasonCodes.push(r.pick(codes));
        return {
          type,
          packetId: this.packetId(),
          reasonCodes,
          ...(five ? { properties: this.properties(type) } : {}),
        };
      }
      case "unsubscribe": {
        const topicFilters = [];
        for (let n = r.int(1, 4); n > 0; n--) topicFilters.push(this.filter(v));
        return {
          type,
          packetId: this.packetId(),
          topicFilters,
          ...(five ? { properties: this.properties(type) } : {}),
        };
      }
      case "unsuback": {
        const reasonCodes = [];
        for (let n = r.int(1, 4); n > 0; n--) {
          reasonCodes.push(r.pick(UNSUBACK_CODES));
        }
        return {
          type,
          packetId: this.packetId(),
          ...(five ? { reasonCodes, properties: this.properties(type) } : {}),
        };
      }
      case "pingreq":
      case "pingresp":
        return { type };
      case "disconnect":
        return five
          ? {
            type,
            reasonCode: r.pick(DISCONNECT_CODES),
            properties: this.properties(type),
          }
          : { type };
      case "auth":
        return {
          type,
          reasonCode: r.pick(AUTH_CODES),
          properties: this.properties(type),
        };
      default: {
        const unknown: never = type;
        throw new TypeError(`Cannot generate packet: unknown type ${unknown}`);
      }
    }
  }
}

/** Packets per protocol version and packet type. */
const PER_TYPE = 200;

for (const protocolVersion of [3, 4, 5] as const) {
  Deno.test(
    `encodePacket() and decodePacket() round-trip random level ${protocolVersion} packets`,
    () => {
      const generator = new PacketGenerator(new Random(protocolVersion));
      for (const type of TYPES) {
        if (type === "auth" && protocolVersion !== 5) continue;
        for (let i = 0; i < PER_TYPE; i++) {
          const packet = generator.packet(type, protocolVersion);
          const bytes = encodePacket(packet, protocolVersion);
          strictEqual(frameLength(bytes), bytes.length);
          deepStrictEqual(
            decodePacket(bytes, protocolVersion),
            packet,
            `${type} #${i}: ${JSON.stringify(packet)}`,
          );
        }
      }
    },
  );

  Deno.test(
    `PacketDecoder.push() decodes a random level ${protocolVersion} stream in random chunks`,
    () => {
      const random = new Random(100 + protocolVersion);
      const generator = new PacketGenerator(random);
      const packets: Packet[] = [];
      const parts: Uint8Array[] = [];
      let length = 0;
      for (let i = 0; i < 500; i++) {
        // A CONNECT switches the decoder's level: keep them out of the stream.
        const types = TYPES.filter((t) =>
          t !== "connect" && (t !== "auth" || protocolVersion === 5)
        );
        const packet = generator.packet(random.pick(types), protocolVersion);
        packets.push(packet);
        const bytes = encodePacket(packet, protocolVersion);
        parts.push(bytes);
        length += bytes.length;
      }
      const stream = new Uint8Array(length);
      let offset = 0;
      for (const part of parts) {
        stream.set(part, offset);
        offset += part.length;
      }
      const decoder = new PacketDecoder({ protocolVersion });
      const decoded: Packet[] = [];
      for (let i = 0; i < stream.length;) {
        const size = random.bool(0.3) ? random.int(1, 4) : random.int(1, 200);
        decoded.push(...decoder.push(stream.subarray(i, i + size)));
        i += size;
      }
      strictEqual(decoder.buffered, 0);
      deepStrictEqual(decoded, packets);
    },
  );
}
