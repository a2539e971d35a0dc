/**
 * Small builders shared by the publish, subscribe, QoS, retained and MQTT 5.0
 * integration tests: packets with defaults, and a fake clock.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";
import type {
  Properties,
  PublishPacket,
  QoS,
  SubackPacket,
  Subscription,
} from "../packets/mod.ts";
import { MALFORMED } from "../packets/testdata/packets.ts";
import type { ConnectFields, TestClient, TestServer } from "./_client.ts";

/** The UTF-8 bytes of a string. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Fields of {@linkcode publish}; the payload may be a string. */
export interface PublishFields {
  topic: string;
  payload?: string | Uint8Array;
  qos?: QoS;
  retain?: boolean;
  dup?: boolean;
  packetId?: number;
  properties?: Properties;
}

/** A PUBLISH packet; QoS 0, no flags and an empty payload by default. */
export function publish(fields: PublishFields): PublishPacket {
  const payload = fields.payload ?? "";
  return {
    type: "publish",
    topic: fields.topic,
    payload: typeof payload === "string" ? bytes(payload) : payload,
    qos: fields.qos ?? 0,
    retain: fields.retain ?? false,
    dup: fields.dup ?? false,
    ...(fields.packetId !== undefined ? { packetId: fields.packetId } : {}),
    ...(fields.properties !== undefined
      ? { properties: fields.properties }
      : {}),
  };
}

/**
 * Sends a SUBSCRIBE for `[filter, qos]` pairs (or full subscriptions) and
 * returns the SUBACK, asserting that the next packet is one for `packetId`.
 */
export async function subscribe(
  client: TestClient,
  subscriptions: ([string, QoS] | Subscription)[],
  options: { packetId?: number; properties?: Properties } = {},
): Promise<SubackPacket> {
  const packetId = options.packetId ?? 1;
  await client.send({
    type: "subscribe",
    packetId,
    subscriptions: subscriptions.map((s) =>
      Array.isArray(s) ? { topicFilter: s[0], qos: s[1] } : s
    ),
    ...(options.properties !== undefined
      ? { properties: options.properties }
      : {}),
  });
  const suback = await client.next();
  if (suback.type !== "suback") {
    throw new Error(`Expected SUBACK, got ${suback.type}`);
  }
  deepStrictEqual(suback.packetId, packetId);
  return suback;
}

/**
 * Connects a client (3.1.1, clean, unless `connect` says otherwise) and
 * asserts that the server accepted it.
 */
export async function connect(
  server: TestServer,
  connect: ConnectFields = {},
): Promise<TestClient> {
  const { client, connack } = await server.connect(connect);
  if (connack.reasonCode !== 0) {
    await client.close();
    throw new Error(`CONNACK refused with code ${connack.reasonCode}`);
  }
  return client;
}

/**
 * The bytes of the one shared malformed-packet fixture for `protocolVersion`
 * whose name contains `text` (fixture names may gain words; the spec id they
 * cite is the stable part).
 */
export function malformed(text: string, protocolVersion = 4): Uint8Array {
  const found = MALFORMED.filter((f) =>
    f.protocolVersion === protocolVersion && f.name.includes(text)
  );
  if (found.length !== 1) {
    throw new Error(`Found ${found.length} fixtures for ${text}, not 1`);
  }
  return found[0]!.bytes;
}

export { FakeClock, sleep as delay } from "./_harness.ts";
