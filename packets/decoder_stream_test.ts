import {
  deepStrictEqual,
  ok,
  rejects,
  strictEqual,
  throws,
} from "node:assert/strict";
import {
  frameLength,
  MqttError,
  type Packet,
  PacketDecoder,
  PacketDecoderStream,
  PacketTooLargeError,
  type ProtocolVersion,
} from "./mod.ts";
import {
  concat,
  DECODE_ONLY,
  MALFORMED,
  type PacketFixture,
  publish,
  VALID,
} from "./testdata/packets.ts";

const FIXTURES: PacketFixture[] = [...VALID, ...DECODE_ONLY];
/** Fixtures small enough to split at every byte. */
const SMALL = FIXTURES.filter(({ bytes }) => bytes.length <= 1024);
/** Fixtures fed one byte at a time (all but the 2 MiB one). */
const FEEDABLE = FIXTURES.filter(({ bytes }) => bytes.length <= 65536);

/** Pushes every chunk and returns all the packets they completed. */
function pushAll(decoder: PacketDecoder, chunks: Uint8Array[]): Packet[] {
  const packets: Packet[] = [];
  for (const chunk of chunks) packets.push(...decoder.push(chunk));
  return packets;
}

/** Checks that `error` is an `MqttError` with `reasonCode`. */
function isMqttError(error: unknown, reasonCode: number): boolean {
  return error instanceof MqttError && error.reasonCode === reasonCode;
}

for (const { name, bytes, packet, protocolVersion } of FEEDABLE) {
  Deno.test(`PacketDecoder.push() decodes ${name} one byte at a time`, () => {
    const decoder = new PacketDecoder({ protocolVersion });
    for (let i = 0; i < bytes.length - 1; i++) {
      deepStrictEqual(decoder.push(bytes.subarray(i, i + 1)), []);
      strictEqual(decoder.buffered, i + 1);
    }
    deepStrictEqual(decoder.push(bytes.subarray(bytes.length - 1)), [packet]);
    strictEqual(decoder.buffered, 0);
  });
}

for (const { name, bytes, packet, protocolVersion } of SMALL) {
  Deno.test(`PacketDecoder.push() decodes ${name} split anywhere`, () => {
    for (let i = 0; i <= bytes.length; i++) {
      const decoder = new PacketDecoder({ protocolVersion });
      const packets = pushAll(decoder, [
        bytes.subarray(0, i),
        bytes.subarray(i),
      ]);
      deepStrictEqual(packets, [packet], `split at ${i}`);
      strictEqual(decoder.buffered, 0);
    }
  });
}

Deno.test("PacketDecoder.push() decodes large packets in chunks", () => {
  for (const { name, bytes, packet, protocolVersion } of FIXTURES) {
    if (bytes.length <= 1024) continue;
    for (const size of [1000, 4096, 65536]) {
      const decoder = new PacketDecoder({ protocolVersion });
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) {
        chunks.push(bytes.subarray(i, i + size));
      }
      deepStrictEqual(pushAll(decoder, chunks), [packet], `${name}, ${size}`);
    }
    for (const at of [1, 2, 3, 4, 5, 6, bytes.length >> 1, bytes.length - 1]) {
      const decoder = new PacketDecoder({ protocolVersion });
      const packets = pushAll(decoder, [
        bytes.subarray(0, at),
        bytes.subarray(at),
      ]);
      deepStrictEqual(packets, [packet], `${name}, split at ${at}`);
    }
  }
});

for (const protocolVersion of [3, 4, 5] as const) {
  const fixtures = FIXTURES.filter((f) =>
    f.protocolVersion === protocolVersion
  );
  const bytes = concat(...fixtures.map((f) => f.bytes));
  const packets = fixtures.map((f) => f.packet);

  Deno.test(
    `PacketDecoder.push() decodes every level ${protocolVersion} fixture from one chunk`,
    () => {
      const decoder = new PacketDecoder({ protocolVersion });
      deepStrictEqual(decoder.push(bytes), packets);
      strictEqual(decoder.buffered, 0);
    },
  );

  Deno.test(
    `PacketDecoder.push() decodes every level ${protocolVersion} fixture from odd chunks`,
    () => {
      for (const size of [1, 7, 100, 1023]) {
        const decoder = new PacketDecoder({ protocolVersion });
        const chunks: Uint8Array[] = [];
        // Chunk sizes 1, 2... size, 1, 2...: every offset gets cut somewhere.
        for (let i = 0, n = 1; i < bytes.length; i += n, n = n % size + 1) {
          chunks.push(bytes.subarray(i, i + n));
        }
        deepStrictEqual(pushAll(decoder, chunks), packets, `size ${size}`);
        strictEqual(decoder.buffered, 0);
      }
    },
  );
}

Deno.test("PacketDecoder.push() returns [] for an empty chunk", () => {
  const decoder = new PacketDecoder();
  deepStrictEqual(decoder.push(new Uint8Array(0)), []);
  decoder.push(Uint8Array.of(0xc0));
  deepStrictEqual(decoder.push(new Uint8Array(0)), []);
  strictEqual(decoder.buffered, 1);
  deepStrictEqual(decoder.push(Uint8Array.of(0x00)), [{ type: "pingreq" }]);
});

Deno.test("PacketDecoder.push() keeps packets intact after later pushes", () => {
  const decoder = new PacketDecoder();
  const first = Uint8Array.of(0x30, 0x05, 0x00, 0x01, 0x74, 0x61, 0x62);
  const second = Uint8Array.of(0x30, 0x05, 0x00, 0x01, 0x74, 0x79, 0x7a);
  const packets: Packet[] = [];
  // Byte by byte: the decoder buffers, then must not reuse that buffer.
  for (const byte of concat(first, second, first.subarray(0, 4))) {
    packets.push(...decoder.push(Uint8Array.of(byte)));
  }
  deepStrictEqual(packets, [
    publish({ topic: "t", payload: "ab" }),
    publish({ topic: "t", payload: "yz" }),
  ]);
});

Deno.test("PacketDecoder.push() switches to the level of a CONNECT", () => {
  const connect = VALID.find((f) =>
    f.packet.type === "connect" && f.protocolVersion === 5
  );
  const puback = VALID.find((f) =>
    f.packet.type === "puback" && f.protocolVersion === 5 &&
    f.bytes.length > 4
  );
  ok(connect !== undefined && puback !== undefined);
  const decoder = new PacketDecoder();
  deepStrictEqual(decoder.push(concat(connect.bytes, puback.bytes)), [
    connect.packet,
    puback.packet,
  ]);
  strictEqual(decoder.protocolVersion, 5);
});

Deno.test("PacketDecoder.protocolVersion can be set between packets", () => {
  const decoder = new PacketDecoder();
  const puback = Uint8Array.of(0x40, 0x03, 0x00, 0x07, 0x10);
  throws(() => decoder.push(puback), (error) => isMqttError(error, 0x81));
  const five = new PacketDecoder();
  five.protocolVersion = 5;
  deepStrictEqual(five.push(puback), [
    { type: "puback", packetId: 7, reasonCode: 0x10, properties: {} },
  ]);
  throws(() => {
    five.protocolVersion = 6 as ProtocolVersion;
  }, RangeError);
});

Deno.test("PacketDecoder.push() refuses a too-large packet from its fixed header", () => {
  // PUBLISH of 131 bytes in all; only its fixed header is pushed.
  const header = Uint8Array.of(0x30, 0x80, 0x01);
  const decoder = new PacketDecoder({ maximumPacketSize: 130 });
  throws(
    () => decoder.push(header),
    (error) => error instanceof PacketTooLargeError && isMqttError(error, 0x95),
  );
  strictEqual(decoder.buffered, 0);

  const split = new PacketDecoder({ maximumPacketSize: 130 });
  deepStrictEqual(split.push(header.subarray(0, 2)), []);
  throws(() => split.push(header.subarray(2)), PacketTooLargeError);
});

Deno.test("PacketDecoder.push() refuses a packet over the default maximum before its body", () => {
  const decoder = new PacketDecoder({ maximumPacketSize: 1000 });
  // A remaining length of 268,435,455: refused with nothing buffered.
  throws(
    () => decoder.push(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f)),
    PacketTooLargeError,
  );
});

Deno.test("PacketDecoder.push() accepts a packet of exactly maximumPacketSize", () => {
  const large = VALID.find((f) => f.bytes.length === 131);
  ok(large !== undefined);
  const decoder = new PacketDecoder({ maximumPacketSize: 131 });
  deepStrictEqual(decoder.push(large.bytes), [large.packet]);
});

Deno.test("PacketDecoder.push() refuses a remaining length of 5 bytes", () => {
  const decoder = new PacketDecoder();
  for (const byte of [0x30, 0x80, 0x80, 0x80]) {
    deepStrictEqual(decoder.push(Uint8Array.of(byte)), []);
  }
  throws(
    () => decoder.push(Uint8Array.of(0x80)),
    (error) => isMqttError(error, 0x81),
  );
});

Deno.test("PacketDecoder.push() throws again after an error", () => {
  const decoder = new PacketDecoder();
  throws(() => decoder.push(Uint8Array.of(0x36, 0x00)), MqttError);
  throws(() => decoder.push(Uint8Array.of(0xc0, 0x00)), MqttError);
});

Deno.test("PacketDecoder() refuses a maximumPacketSize below 2", () => {
  throws(() => new PacketDecoder({ maximumPacketSize: 1 }), RangeError);
});

for (const { name, bytes, protocolVersion, reasonCode } of MALFORMED) {
  let whole: boolean;
  try {
    whole = frameLength(bytes) === bytes.length;
  } catch {
    whole = true; // the fixed header itself is bad
  }
  if (!whole) continue;
  Deno.test(`PacketDecoder.push() refuses ${name}`, () => {
    const decoder = new PacketDecoder({ protocolVersion });
    throws(
      () => decoder.push(bytes),
      (error) => isMqttError(error, reasonCode),
    );
  });
}

Deno.test("PacketDecoderStream decodes chunks of a ReadableStream", async () => {
  const fixtures = FEEDABLE.filter((f) => f.protocolVersion === 4);
  const bytes = concat(...fixtures.map((f) => f.bytes));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 97) {
    chunks.push(bytes.subarray(i, i + 97));
  }
  const packets = await Array.fromAsync(
    ReadableStream.from(chunks).pipeThrough(new PacketDecoderStream()),
  );
  deepStrictEqual(packets, fixtures.map((f) => f.packet));
});

Deno.test("PacketDecoderStream decodes at the level it is given", async () => {
  const fixtures = SMALL.filter((f) =>
    f.protocolVersion === 5 && f.packet.type !== "connect"
  );
  const packets = await Array.fromAsync(
    ReadableStream.from(fixtures.map((f) => f.bytes)).pipeThrough(
      new PacketDecoderStream({ protocolVersion: 5 }),
    ),
  );
  deepStrictEqual(packets, fixtures.map((f) => f.packet));
});

Deno.test("PacketDecoderStream errors when the stream ends inside a packet", async () => {
  const stream = ReadableStream.from([Uint8Array.of(0xc0, 0x00, 0x30)])
    .pipeThrough(new PacketDecoderStream());
  await rejects(
    Array.fromAsync(stream),
    (error) => isMqttError(error, 0x81),
  );
});

Deno.test("PacketDecoderStream errors on a malformed packet", async () => {
  const stream = ReadableStream.from([Uint8Array.of(0x36, 0x00)])
    .pipeThrough(new PacketDecoderStream());
  await rejects(Array.fromAsync(stream), (error) => isMqttError(error, 0x81));
});

Deno.test("PacketDecoderStream refuses a too-large packet", async () => {
  const stream = ReadableStream.from([Uint8Array.of(0x30, 0x80, 0x01)])
    .pipeThrough(new PacketDecoderStream({ maximumPacketSize: 100 }));
  await rejects(Array.fromAsync(stream), PacketTooLargeError);
});
