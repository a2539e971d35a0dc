import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  decodePacket,
  encodedLength,
  encodePacket,
  type Packet,
  PacketWriter,
  type ProtocolVersion,
  type PublishPacket,
} from "./mod.ts";
import { concat, publish, VALID } from "./testdata/packets.ts";

const QOS1: PublishPacket = publish({
  topic: "a/b",
  qos: 1,
  packetId: 7,
  payload: "hello",
});

/** Offset of the packet id in {@linkcode QOS1}: fixed header and topic. */
const QOS1_ID_OFFSET = 2 + 5;

for (const { name, packet, protocolVersion } of VALID) {
  Deno.test(`encodedLength() sizes ${name}`, () => {
    strictEqual(
      encodedLength(packet, protocolVersion),
      encodePacket(packet, protocolVersion).length,
    );
  });
}

Deno.test("PacketWriter.write() appends every fixture as encodePacket() encodes it", () => {
  const writer = new PacketWriter();
  const offsets: number[] = [];
  for (const { packet, protocolVersion } of VALID) {
    offsets.push(writer.write(packet, protocolVersion));
  }
  const expected = VALID.map(({ packet, protocolVersion }) =>
    encodePacket(packet, protocolVersion)
  );
  strictEqual(writer.length, expected.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const [i, bytes] of expected.entries()) {
    strictEqual(offsets[i], offset, VALID[i]!.name);
    offset += bytes.length;
  }
  deepStrictEqual(writer.take(), concat(...expected));
  strictEqual(writer.length, 0);
});

Deno.test("PacketWriter.write() grows the buffer from a tiny initialSize", () => {
  const writer = new PacketWriter({ initialSize: 1 });
  const expected: Uint8Array[] = [];
  for (let i = 0; i < 50; i++) {
    const packet = publish({ topic: "t", payload: new Uint8Array(i * 37) });
    writer.write(packet);
    expected.push(encodePacket(packet));
  }
  deepStrictEqual(writer.take(), concat(...expected));
});

Deno.test("PacketWriter.write() encodes a packet larger than the buffer doubled", () => {
  const writer = new PacketWriter({ initialSize: 16 });
  const packet = publish({ topic: "big", payload: new Uint8Array(100_000) });
  strictEqual(writer.write({ type: "pingreq" }), 0);
  strictEqual(writer.write(packet), 2);
  deepStrictEqual(
    writer.take(),
    concat(Uint8Array.of(0xc0, 0x00), encodePacket(packet)),
  );
});

Deno.test("PacketWriter.take() hands over the bytes and starts afresh", () => {
  const writer = new PacketWriter({ initialSize: 8 });
  writer.write(QOS1);
  const first = writer.take();
  strictEqual(writer.length, 0);
  // The next write must not overwrite the bytes already taken.
  strictEqual(writer.write({ type: "pingresp" }), 0);
  strictEqual(writer.write({ type: "puback", packetId: 3 }), 2);
  const second = writer.take();
  deepStrictEqual(first, encodePacket(QOS1));
  deepStrictEqual(second, Uint8Array.of(0xd0, 0x00, 0x40, 0x02, 0x00, 0x03));
});

Deno.test("PacketWriter.take() gives an empty array when nothing is written", () => {
  const writer = new PacketWriter();
  deepStrictEqual(writer.take(), new Uint8Array(0));
  writer.write({ type: "pingreq" });
  writer.take();
  deepStrictEqual(writer.take(), new Uint8Array(0));
});

Deno.test("PacketWriter.write() leaves the content unchanged when it throws", () => {
  const bad: [Packet, ProtocolVersion][] = [
    [{ ...QOS1, packetId: 0 }, 4],
    [{ ...QOS1, topic: "a/+" }, 4],
    [{ ...QOS1, qos: 0 }, 4],
    [{ type: "auth" }, 4],
    [{ ...QOS1, properties: { topicAlias: 0 } }, 5],
    [{ ...QOS1, properties: { topicAlias: 1 } }, 7 as ProtocolVersion],
    [{ ...QOS1, payload: new Uint8Array(268_435_456) }, 4],
  ];
  // Each one would need the buffer to grow if it were written.
  const writer = new PacketWriter({ initialSize: 16 });
  writer.write(QOS1);
  for (const [packet, version] of bad) {
    throws(() => writer.write(packet, version));
    strictEqual(writer.length, encodePacket(QOS1).length);
  }
  writer.write({ type: "pingreq" });
  deepStrictEqual(
    writer.take(),
    concat(encodePacket(QOS1), Uint8Array.of(0xc0, 0x00)),
  );
});

Deno.test("PacketWriter.write() throws as encodePacket() does", () => {
  const writer = new PacketWriter();
  throws(() => writer.write({ ...QOS1, packetId: 0 }), RangeError);
  throws(() => writer.write({ ...QOS1, topic: "#" }), TypeError);
  throws(() => encodedLength({ ...QOS1, packetId: 0 }), RangeError);
  throws(() => encodedLength({ ...QOS1, topic: "#" }), TypeError);
});

Deno.test("PacketWriter.writeBytes() appends bytes and returns their offset", () => {
  const writer = new PacketWriter({ initialSize: 4 });
  const bytes = encodePacket(QOS1);
  strictEqual(writer.write({ type: "pingreq" }), 0);
  strictEqual(writer.writeBytes(bytes), 2);
  strictEqual(writer.writeBytes(new Uint8Array(0)), 2 + bytes.length);
  strictEqual(writer.length, 2 + bytes.length);
  deepStrictEqual(writer.take(), concat(Uint8Array.of(0xc0, 0x00), bytes));
});

Deno.test("PacketWriter.setUint16() patches a packet id into copied bytes", () => {
  const writer = new PacketWriter();
  const bytes = encodePacket(QOS1);
  const ids = [1, 0x1234, 0xffff];
  for (const id of ids) {
    const offset = writer.writeBytes(bytes);
    writer.setUint16(offset + QOS1_ID_OFFSET, id);
  }
  const out = writer.take();
  for (const [i, id] of ids.entries()) {
    const start = i * bytes.length;
    deepStrictEqual(
      decodePacket(out.subarray(start, start + bytes.length)),
      { ...QOS1, packetId: id },
    );
  }
  // The source bytes are untouched.
  deepStrictEqual(bytes, encodePacket(QOS1));
});

Deno.test("PacketWriter.setUint16() rejects an offset outside the bytes written or a bad value", () => {
  const writer = new PacketWriter();
  throws(() => writer.setUint16(0, 1), RangeError);
  writer.write({ type: "pingreq" });
  writer.setUint16(0, 0xd000);
  throws(() => writer.setUint16(1, 1), RangeError);
  throws(() => writer.setUint16(-1, 1), RangeError);
  throws(() => writer.setUint16(0.5, 1), RangeError);
  throws(() => writer.setUint16(0, 0x10000), RangeError);
  throws(() => writer.setUint16(0, -1), RangeError);
  deepStrictEqual(writer.take(), Uint8Array.of(0xd0, 0x00));
});

Deno.test("PacketWriter() rejects an initialSize that is not a positive integer", () => {
  for (const initialSize of [0, -1, 1.5, NaN, Infinity]) {
    throws(() => new PacketWriter({ initialSize }), RangeError);
  }
});
