import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  decodePacket,
  encodePacket,
  frameLength,
  MalformedPacketError,
  MqttError,
  type Packet,
  PacketTooLargeError,
  type ProtocolVersion,
} from "./mod.ts";
import {
  ack,
  auth,
  connack,
  connect,
  DECODE_ONLY,
  disconnect,
  MALFORMED,
  publish,
  suback,
  subscribe,
  unsubscribe,
  VALID,
} from "./testdata/packets.ts";

/** Checks that `error` is an `MqttError` with `reasonCode` and a sentence. */
function assertMqttError(error: unknown, reasonCode: number): true {
  ok(error instanceof MqttError, `expected an MqttError, got ${error}`);
  strictEqual(
    error.reasonCode,
    reasonCode,
    `reason code 0x${error.reasonCode.toString(16)} (${error.message})`,
  );
  // Messages start with a capital and have no final period.
  ok(/^[A-Z]/.test(error.message), `message: ${error.message}`);
  ok(!error.message.endsWith("."), `message: ${error.message}`);
  return true;
}

/** Checks that `error` is what a caller's mistake throws. */
function isArgumentError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError;
}

for (const { name, bytes, packet, protocolVersion } of VALID) {
  Deno.test(`decodePacket() decodes ${name}`, () => {
    deepStrictEqual(decodePacket(bytes, protocolVersion), packet);
  });
  Deno.test(`encodePacket() encodes ${name}`, () => {
    deepStrictEqual(encodePacket(packet, protocolVersion), bytes);
  });
  Deno.test(`encodePacket() and decodePacket() round-trip ${name}`, () => {
    const encoded = encodePacket(packet, protocolVersion);
    deepStrictEqual(decodePacket(encoded, protocolVersion), packet);
    deepStrictEqual(frameLength(encoded), encoded.length);
  });
}

for (const { name, bytes, packet, protocolVersion } of DECODE_ONLY) {
  Deno.test(`decodePacket() decodes ${name}`, () => {
    deepStrictEqual(decodePacket(bytes, protocolVersion), packet);
  });
  Deno.test(`encodePacket() writes ${name} shorter`, () => {
    const encoded = encodePacket(packet, protocolVersion);
    ok(encoded.length <= bytes.length);
    deepStrictEqual(decodePacket(encoded, protocolVersion), packet);
  });
}

for (const { name, bytes, protocolVersion, reasonCode } of MALFORMED) {
  Deno.test(
    `decodePacket() refuses ${name} with 0x${reasonCode.toString(16)}`,
    () => {
      throws(
        () => decodePacket(bytes, protocolVersion),
        (error) => assertMqttError(error, reasonCode),
      );
    },
  );
}

Deno.test("decodePacket() decodes 3.1.1 unless told the version", () => {
  deepStrictEqual(
    decodePacket(Uint8Array.of(0x40, 0x02, 0x00, 0x07)),
    ack({ type: "puback", packetId: 7 }),
  );
});

Deno.test("decodePacket() decodes CONNECT at its own level", () => {
  for (const { bytes, packet } of VALID) {
    if (packet.type !== "connect") continue;
    for (const protocolVersion of [3, 4, 5] as const) {
      deepStrictEqual(decodePacket(bytes, protocolVersion), packet);
    }
  }
});

Deno.test("decodePacket() returns payloads that view the input", () => {
  const bytes = Uint8Array.of(0x30, 0x04, 0x00, 0x01, 0x74, 0x78);
  const packet = decodePacket(bytes);
  ok(packet.type === "publish");
  bytes[5] = 0x79;
  deepStrictEqual(packet.payload, Uint8Array.of(0x79));
});

Deno.test("decodePacket() decodes a packet inside a larger buffer", () => {
  const buffer = Uint8Array.of(0xff, 0x40, 0x02, 0x00, 0x07, 0xff);
  deepStrictEqual(
    decodePacket(buffer.subarray(1, 5)),
    ack({ type: "puback", packetId: 7 }),
  );
});

Deno.test("frameLength() returns -1 until the fixed header is whole", () => {
  strictEqual(frameLength(new Uint8Array(0)), -1);
  strictEqual(frameLength(Uint8Array.of(0x30)), -1);
  strictEqual(frameLength(Uint8Array.of(0x30, 0x80)), -1);
  strictEqual(frameLength(Uint8Array.of(0x30, 0x80, 0x80)), -1);
  strictEqual(frameLength(Uint8Array.of(0x30, 0x80, 0x80, 0x80)), -1);
});

Deno.test("frameLength() counts the fixed header and remaining length", () => {
  strictEqual(frameLength(Uint8Array.of(0xc0, 0x00)), 2);
  strictEqual(frameLength(Uint8Array.of(0x30, 0x7f)), 129);
  strictEqual(frameLength(Uint8Array.of(0x30, 0x80, 0x01)), 131);
  strictEqual(frameLength(Uint8Array.of(0x30, 0xff, 0x7f)), 16386);
  strictEqual(frameLength(Uint8Array.of(0x30, 0x80, 0x80, 0x01)), 16388);
  strictEqual(
    frameLength(Uint8Array.of(0x30, 0x80, 0x80, 0x80, 0x01)),
    2097157,
  );
  strictEqual(
    frameLength(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f)),
    268435460,
  );
});

Deno.test("frameLength() measures only the first of several packets", () => {
  const two = Uint8Array.of(0x40, 0x02, 0x00, 0x07, 0xc0, 0x00);
  strictEqual(frameLength(two), 4);
  strictEqual(frameLength(two.subarray(4)), 2);
});

Deno.test("frameLength() measures every valid fixture", () => {
  for (const { name, bytes } of [...VALID, ...DECODE_ONLY]) {
    strictEqual(frameLength(bytes), bytes.length, name);
  }
});

Deno.test("frameLength() refuses a remaining length of 5 bytes", () => {
  throws(
    () => frameLength(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)),
    (error) =>
      error instanceof MalformedPacketError && assertMqttError(error, 0x81),
  );
  throws(
    () => frameLength(Uint8Array.of(0x30, 0x80, 0x80, 0x80, 0x80)),
    (error) =>
      error instanceof MalformedPacketError && assertMqttError(error, 0x81),
  );
});

Deno.test("frameLength() refuses packet type 0", () => {
  throws(
    () => frameLength(Uint8Array.of(0x00, 0x00)),
    (error) => assertMqttError(error, 0x81),
  );
});

Deno.test("frameLength() enforces maximumPacketSize from the header", () => {
  const header = Uint8Array.of(0x30, 0x80, 0x01); // 131 bytes in all
  strictEqual(frameLength(header, { maximumPacketSize: 131 }), 131);
  throws(
    () => frameLength(header, { maximumPacketSize: 130 }),
    (error) =>
      error instanceof PacketTooLargeError && assertMqttError(error, 0x95),
  );
  strictEqual(
    frameLength(Uint8Array.of(0xc0, 0x00), { maximumPacketSize: 2 }),
    2,
  );
  throws(
    () => frameLength(Uint8Array.of(0xc0, 0x00), { maximumPacketSize: 1 }),
    (error) => assertMqttError(error, 0x95),
  );
});

/** Packets a caller got wrong, with the version they are encoded at. */
const BAD_ARGUMENTS: [string, Packet, ProtocolVersion][] = [
  ["PUBLISH QoS 1 without a packet id", publish({ qos: 1 }), 4],
  ["PUBLISH QoS 0 with a packet id", publish({ packetId: 1 }), 4],
  ["PUBLISH QoS 3", { ...publish({ packetId: 1 }), qos: 3 as 1 }, 4],
  ["PUBLISH with packet id 0", publish({ qos: 1, packetId: 0 }), 4],
  ["PUBLISH with packet id 65536", publish({ qos: 2, packetId: 65536 }), 4],
  ["PUBLISH with a wildcard topic", publish({ topic: "a/+" }), 4],
  ["PUBLISH 3.1.1 with an empty topic", publish({ topic: "" }), 4],
  ["PUBLISH with DUP at QoS 0", publish({ dup: true }), 4],
  ["PUBLISH with U+0000 in the topic", publish({ topic: "a\0" }), 4],
  [
    "PUBLISH with a lone surrogate in the topic",
    publish({ topic: "\ud800" }),
    4,
  ],
  [
    "PUBLISH with a topic of 65536 bytes",
    publish({ topic: "a".repeat(65536) }),
    4,
  ],
  [
    "PUBLISH 5.0 with topic alias 0",
    publish({ properties: { topicAlias: 0 } }, 5),
    5,
  ],
  [
    "PUBLISH 5.0 with session expiry interval",
    publish({ properties: { sessionExpiryInterval: 1 } }, 5),
    5,
  ],
  [
    "PUBLISH 5.0 with subscription identifier 0",
    publish({ properties: { subscriptionIdentifiers: [0] } }, 5),
    5,
  ],
  [
    "PUBLISH 5.0 with subscription identifier 268435456",
    publish({ properties: { subscriptionIdentifiers: [268435456] } }, 5),
    5,
  ],
  [
    "PUBLISH 5.0 with message expiry interval 2^32",
    publish({ properties: { messageExpiryInterval: 2 ** 32 } }, 5),
    5,
  ],
  [
    "PUBLISH 5.0 with payload format indicator 2",
    publish({ properties: { payloadFormatIndicator: 2 as 1 } }, 5),
    5,
  ],
  [
    "CONNECT with protocol level 6",
    { ...connect(), protocolVersion: 6 as 5 },
    4,
  ],
  [
    "CONNECT with keep-alive 65536",
    connect({ keepAlive: 65536 }),
    4,
  ],
  [
    "CONNECT with keep-alive -1",
    connect({ keepAlive: -1 }),
    4,
  ],
  [
    "CONNECT with will QoS 3",
    connect({ will: { topic: "w", qos: 3 as 1 } }),
    4,
  ],
  [
    "CONNECT with a wildcard will topic",
    connect({ will: { topic: "w/#" } }),
    4,
  ],
  [
    "CONNECT 3.1.1 with a password and no user name",
    connect({ password: "p" }),
    4,
  ],
  [
    "CONNECT 5.0 with receive maximum 0",
    connect({ protocolVersion: 5, properties: { receiveMaximum: 0 } }),
    5,
  ],
  [
    "CONNECT 5.0 with a topic alias",
    connect({ protocolVersion: 5, properties: { topicAlias: 1 } }),
    5,
  ],
  [
    "CONNACK 5.0 with maximum QoS 2",
    connack({ properties: { maximumQoS: 2 as 1 } }, 5),
    5,
  ],
  [
    "CONNACK with reason code 256",
    connack({ reasonCode: 256 }),
    4,
  ],
  ["PUBACK with packet id 0", ack({ type: "puback", packetId: 0 }), 4],
  ["PUBREL with packet id 1.5", ack({ type: "pubrel", packetId: 1.5 }), 4],
  [
    "PUBACK 5.0 with reason code -1",
    ack({ type: "puback", reasonCode: -1 }, 5),
    5,
  ],
  ["SUBSCRIBE with no subscriptions", subscribe({ subscriptions: [] }), 4],
  [
    "SUBSCRIBE with filter a/#/b",
    subscribe({ subscriptions: [["a/#/b", 0]] }),
    4,
  ],
  [
    "SUBSCRIBE with QoS 3",
    subscribe({ subscriptions: [["a", 3 as 1]] }),
    4,
  ],
  [
    "SUBSCRIBE 5.0 with retain handling 3",
    subscribe({ subscriptions: [["a", 0, { retainHandling: 3 as 1 }]] }, 5),
    5,
  ],
  [
    "SUBSCRIBE 5.0 with two subscription identifiers",
    subscribe({
      subscriptions: [["a", 0]],
      properties: { subscriptionIdentifiers: [1, 2] },
    }, 5),
    5,
  ],
  ["SUBACK with no reason codes", suback({ reasonCodes: [] }), 4],
  ["UNSUBSCRIBE with no filters", unsubscribe({ topicFilters: [] }), 4],
  ["UNSUBSCRIBE with filter a+", unsubscribe({ topicFilters: ["a+"] }), 4],
  [
    "DISCONNECT 5.0 with a topic alias",
    disconnect({ properties: { topicAlias: 1 } }, 5),
    5,
  ],
  ["AUTH in 3.1.1", auth(), 4],
  ["AUTH in 3.1", auth(), 3],
  ["a packet of unknown type", { type: "nope" } as unknown as Packet, 4],
];

for (const [name, packet, protocolVersion] of BAD_ARGUMENTS) {
  Deno.test(`encodePacket() refuses ${name}`, () => {
    throws(() => encodePacket(packet, protocolVersion), isArgumentError);
  });
}

Deno.test("encodePacket() refuses an unknown protocol version", () => {
  throws(
    () => encodePacket(ack({ type: "puback" }), 6 as 5),
    isArgumentError,
  );
});
