import { deepStrictEqual, fail, ok } from "node:assert/strict";
import {
  decodePacket,
  encodePacket,
  MqttError,
  type Packet,
  PacketDecoder,
  type ProtocolVersion,
} from "./mod.ts";
import { DECODE_ONLY, MALFORMED, VALID } from "./testdata/packets.ts";

/** mulberry32: a small seeded PRNG, so every failure can be replayed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VERSIONS: readonly ProtocolVersion[] = [3, 4, 5];
const SEEDS = VALID.concat(DECODE_ONLY)
  .filter(({ bytes }) => bytes.length <= 256)
  .map(({ bytes }) => bytes)
  .concat(MALFORMED.map(({ bytes }) => bytes));

/** Writes `value` as a variable byte integer at the start of a new array. */
function remainingLength(value: number): number[] {
  const bytes = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return bytes;
}

/** A fixed header with a correct remaining length, then `body`. */
function frame(first: number, body: Uint8Array): Uint8Array {
  return Uint8Array.from([first, ...remainingLength(body.length), ...body]);
}

/** The body of a whole packet (after its fixed header). */
function bodyOf(bytes: Uint8Array): Uint8Array {
  let i = 1;
  while (i < bytes.length && i < 5 && (bytes[i]! & 0x80) !== 0) i++;
  return bytes.subarray(Math.min(i + 1, bytes.length));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Generates one fuzz case: mostly mutated fixtures, some random bytes. */
function fuzzCase(random: () => number): Uint8Array {
  const int = (max: number): number => Math.floor(random() * (max + 1));
  const kind = int(9);
  if (kind === 0) {
    // Random bytes, random header.
    return Uint8Array.from({ length: int(40) }, () => int(255));
  }
  if (kind === 1) {
    // A random body behind a valid-looking header of any type and flags.
    const body = Uint8Array.from({ length: int(40) }, () => int(255));
    return frame(int(255), body);
  }
  // A fixture with 1 to 3 mutations.
  let bytes: Uint8Array = Uint8Array.from(SEEDS[int(SEEDS.length - 1)]!);
  for (let n = 1 + int(2); n > 0; n--) {
    const at = int(Math.max(bytes.length - 1, 0));
    switch (int(6)) {
      case 0: // flip one bit
        if (bytes.length > 0) bytes[at] = bytes[at]! ^ (1 << int(7));
        break;
      case 1: // set one byte, often a small length value
        if (bytes.length > 0) bytes[at] = int(3) === 0 ? int(255) : int(8);
        break;
      case 2: // truncate
        bytes = bytes.subarray(0, at);
        break;
      case 3: // truncate the body and fix the remaining length
        if (bytes.length > 0) {
          const body = bodyOf(bytes);
          bytes = frame(bytes[0]!, body.subarray(0, int(body.length)));
        }
        break;
      case 4: // insert a byte and fix the remaining length
        if (bytes.length > 0) {
          const body = Array.from(bodyOf(bytes));
          body.splice(int(body.length), 0, int(255));
          bytes = frame(bytes[0]!, Uint8Array.from(body));
        }
        break;
      case 5: // delete a byte and fix the remaining length
        if (bytes.length > 0) {
          const body = Array.from(bodyOf(bytes));
          body.splice(int(Math.max(body.length - 1, 0)), 1);
          bytes = frame(bytes[0]!, Uint8Array.from(body));
        }
        break;
      default: // change the fixed header's flags
        if (bytes.length > 0) bytes[0] = (bytes[0]! & 0xf0) | int(15);
    }
  }
  return bytes;
}

/** Checks that `error` is an `MqttError`, failing with the case otherwise. */
function expectMqttError(error: unknown, where: string): void {
  if (!(error instanceof MqttError)) {
    fail(`${where} threw ${(error as Error)?.stack ?? error}`);
  }
}

/** Cases per test. */
const CASES = 20_000;

for (const protocolVersion of VERSIONS) {
  Deno.test(
    `decodePacket() throws only MqttError on fuzzed level ${protocolVersion} input`,
    () => {
      const random = mulberry32(0xf022 + protocolVersion);
      const started = performance.now();
      let decoded = 0;
      for (let i = 0; i < CASES; i++) {
        const bytes = fuzzCase(random);
        const where = `case ${i} [${hex(bytes)}] at level ${protocolVersion}`;
        let packet: Packet;
        try {
          packet = decodePacket(bytes, protocolVersion);
        } catch (error) {
          expectMqttError(error, `decodePacket() for ${where}`);
          continue;
        }
        decoded++;
        // What the decoder accepts, the encoder writes and reads back.
        const version = packet.type === "connect"
          ? packet.protocolVersion
          : protocolVersion;
        let again: Uint8Array;
        try {
          again = encodePacket(packet, version);
        } catch (error) {
          fail(`encodePacket() of the decoded ${where} threw ${error}`);
        }
        deepStrictEqual(decodePacket(again, version), packet, where);
      }
      ok(decoded > CASES / 50, `only ${decoded} cases decoded`);
      ok(performance.now() - started < 10_000, "fuzzing took over 10 s");
    },
  );

  Deno.test(
    `PacketDecoder.push() throws only MqttError on fuzzed level ${protocolVersion} input`,
    () => {
      const random = mulberry32(0xdec0 + protocolVersion);
      for (let i = 0; i < CASES / 2; i++) {
        const bytes = fuzzCase(random);
        const where = `case ${i} [${hex(bytes)}] at level ${protocolVersion}`;
        const decoder = new PacketDecoder({
          protocolVersion,
          maximumPacketSize: 2 + Math.floor(random() * 300),
        });
        const at = Math.floor(random() * (bytes.length + 1));
        try {
          decoder.push(bytes.subarray(0, at));
          decoder.push(bytes.subarray(at));
          // A second copy right behind: the decoder must resynchronise or
          // throw, never hang or throw anything else.
          decoder.push(bytes);
        } catch (error) {
          expectMqttError(error, `PacketDecoder.push() for ${where}`);
        }
      }
    },
  );
}
