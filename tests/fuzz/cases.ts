/**
 * Fuzz cases: what one fuzz connection sends. A case starts from valid
 * packets (the codec and the fixtures in packets/testdata), mutates some of
 * them, and says how the bytes are delivered and how the connection ends.
 * Everything is drawn from a {@linkcode Rng} seeded by the run's seed and
 * the case index, so a case is rebuilt exactly from the pair.
 *
 * @module
 */

import {
  encodePacket,
  type Packet,
  type ProtocolVersion,
  type QoS,
} from "../../packets/mod.ts";
import {
  ack,
  auth,
  connect,
  disconnect,
  PINGREQ,
  publish,
  subscribe,
  unsubscribe,
  VALID,
} from "../../packets/testdata/packets.ts";
import { caseSeed, Rng } from "./prng.ts";

/** How a case's bytes are written. */
export type Delivery = "whole" | "split" | "dribble";

/**
 * How a case's connection ends: "fin" half-closes and waits for the broker
 * to close, "rst" closes at once (mid-packet when the last packet is cut),
 * "read" reads the answers until the broker closes or goes quiet.
 */
export type Ending = "fin" | "rst" | "read";

/** One fuzz connection's worth of bytes. */
export interface FuzzCase {
  /** Its index in the run. */
  readonly index: number;
  /** The protocol level its CONNECT (if any) asks for. */
  readonly protocolVersion: ProtocolVersion;
  /** The bytes, in the writes (or WebSocket messages) that carry them. */
  readonly chunks: Uint8Array[];
  /** How many packets (valid or mutated) the bytes hold. */
  readonly packets: number;
  /** How many of them were mutated. */
  readonly mutated: number;
  /** How the bytes are written. */
  readonly delivery: Delivery;
  /** How the connection ends. */
  readonly ending: Ending;
  /** What was done, one line per packet, for replays. */
  readonly steps: string[];
}

/** Client-to-server packet types the fixtures are drawn from. */
const CLIENT_TYPES: ReadonlySet<string> = new Set([
  "connect",
  "publish",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "subscribe",
  "unsubscribe",
  "pingreq",
  "disconnect",
  "auth",
]);

/** Valid client packets of the fixtures, by protocol level, CONNECT apart. */
interface Seeds {
  readonly connects: Uint8Array[];
  readonly others: Uint8Array[];
}

function fixtureSeeds(): Record<ProtocolVersion, Seeds> {
  const seeds: Record<ProtocolVersion, Seeds> = {
    3: { connects: [], others: [] },
    4: { connects: [], others: [] },
    5: { connects: [], others: [] },
  };
  for (const f of VALID) {
    // The 2 MiB fixture would make most of the traffic.
    if (!CLIENT_TYPES.has(f.packet.type) || f.bytes.length > 65536) continue;
    const s = seeds[f.protocolVersion];
    (f.packet.type === "connect" ? s.connects : s.others).push(f.bytes);
  }
  // Levels 3 and 4 share every packet but CONNECT.
  seeds[3].others.push(...seeds[4].others);
  return seeds;
}

const TOPICS: readonly string[] = [
  "a/b",
  "a",
  "fz/x",
  "fz/y/z",
  "$SYS/broker/fz",
  "/",
  "//",
  "fz/ü/€",
  "",
];
const FILTERS: readonly string[] = [
  "#",
  "+",
  "fz/#",
  "+/+",
  "a/+/c",
  "$share/g/fz/#",
  "$share/g/#",
  "$SYS/#",
  "fz/x",
  "a#",
  "+a",
  "$share//a",
];

/** A long or deep string: the shapes that broke walks and encoders before. */
function extremeString(rng: Rng): string {
  switch (rng.int(5)) {
    case 0:
      return "/".repeat(rng.range(100, 10_000));
    case 1:
      return "+" + "a".repeat(rng.range(1000, 65_500));
    case 2:
      return "a#" + "b".repeat(rng.range(1000, 65_500));
    case 3:
      return "x/".repeat(rng.range(100, 5000)) + "#";
    default:
      return "z".repeat(rng.range(1000, 65_535));
  }
}

/**
 * What the packets of one case share: a deep or long topic that its will,
 * subscriptions and publications use often, when the case has one.
 */
interface Context {
  readonly deep: string | undefined;
}

function topic(rng: Rng, ctx: Context): string {
  if (ctx.deep !== undefined && rng.chance(0.4)) return ctx.deep;
  return rng.chance(0.003) ? extremeString(rng) : rng.pick(TOPICS);
}

function filter(rng: Rng, ctx: Context, many = false): string {
  if (!many && ctx.deep !== undefined && rng.chance(0.4)) {
    return rng.chance(0.5) ? ctx.deep : `${ctx.deep}/#`;
  }
  return !many && rng.chance(0.003) ? extremeString(rng) : rng.pick(FILTERS);
}

function qos(rng: Rng): QoS {
  return rng.int(3) as QoS;
}

/** A valid CONNECT of level `v`, sometimes with a will, user or password. */
function makeConnect(rng: Rng, v: ProtocolVersion, ctx: Context): Packet {
  return connect({
    protocolVersion: v,
    // Some cases share a client id, and take each other over.
    clientId: rng.chance(0.1)
      ? ""
      : `fz-${rng.chance(0.2) ? rng.int(8) : rng.next()}`,
    clean: v === 5 ? rng.chance(0.7) : rng.chance(0.7) || rng.chance(0.5),
    keepAlive: rng.pick([0, 0, 1, 30, 65535]),
    ...(rng.chance(0.2)
      ? {
        will: {
          topic: topic(rng, ctx),
          payload: rng.bytes(rng.int(16)),
          qos: qos(rng),
          retain: rng.chance(0.3),
        },
      }
      : {}),
    ...(rng.chance(0.1)
      ? {
        username: `u${rng.int(4)}`,
        ...(rng.chance(0.5) ? { password: rng.bytes(rng.int(8)) } : {}),
      }
      : {}),
    ...(v === 5 && rng.chance(0.2)
      ? {
        properties: {
          sessionExpiryInterval: rng.pick([0, 10, 0xffffffff]),
          receiveMaximum: rng.range(1, 10),
          maximumPacketSize: rng.pick([20, 100, 65536]),
          topicAliasMaximum: rng.int(5),
        },
      }
      : {}),
  });
}

/** A valid client packet of level `v` other than CONNECT. */
function makeOther(rng: Rng, v: ProtocolVersion, ctx: Context): Packet {
  const id = rng.chance(0.9) ? rng.range(1, 20) : rng.range(1, 65535);
  switch (rng.int(9)) {
    case 0:
    case 1: {
      const q = qos(rng);
      return publish({
        topic: topic(rng, ctx),
        payload: rng.bytes(rng.int(rng.chance(0.05) ? 5000 : 40)),
        qos: q,
        retain: rng.chance(0.2),
        dup: q > 0 && rng.chance(0.1),
        ...(q > 0 ? { packetId: id } : {}),
        ...(v === 5 && rng.chance(0.3)
          ? {
            properties: rng.chance(0.5) ? { topicAlias: rng.range(1, 6) } : {
              messageExpiryInterval: rng.int(5),
              correlationData: rng.bytes(rng.int(10)),
              contentType: "fz",
            },
          }
          : {}),
      }, v);
    }
    case 2: {
      const n = rng.chance(0.03) ? rng.range(50, 600) : rng.range(1, 4);
      return subscribe({
        packetId: id,
        subscriptions: Array.from({ length: n }, () =>
          [
            filter(rng, ctx, n > 4),
            qos(rng),
            ...(v === 5
              ? [{
                noLocal: rng.chance(0.2),
                retainAsPublished: rng.chance(0.2),
                retainHandling: rng.int(3) as 0 | 1 | 2,
              }]
              : []),
          ] as [string, QoS]),
      }, v);
    }
    case 3:
      return unsubscribe({
        packetId: id,
        topicFilters: Array.from(
          { length: rng.range(1, 3) },
          () => filter(rng, ctx),
        ),
      }, v);
    case 4:
      return ack({
        type: rng.pick(["puback", "pubrec", "pubrel", "pubcomp"] as const),
        packetId: id,
        ...(v === 5 && rng.chance(0.3) ? { reasonCode: 0x80 } : {}),
      }, v);
    case 5:
    case 6:
      return PINGREQ;
    case 7:
      return v === 5 && rng.chance(0.5)
        ? auth({ reasonCode: rng.pick([0x00, 0x18, 0x19]) })
        : PINGREQ;
    default:
      return rng.chance(0.3)
        ? disconnect(
          v === 5 ? { reasonCode: rng.pick([0x00, 0x04, 0x80]) } : {},
          v,
        )
        : PINGREQ;
  }
}

/** Where the fixed header ends and how long it says the rest is. */
function header(bytes: Uint8Array): { at: number; remaining: number } {
  let remaining = 0;
  let at = 1;
  for (let shift = 0; at < bytes.length && at <= 4; shift += 7) {
    const b = bytes[at++]!;
    remaining += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  return { at, remaining };
}

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0 && out.length < 4);
  return out;
}

function splice(
  bytes: Uint8Array,
  at: number,
  remove: number,
  insert: ArrayLike<number> = [],
): Uint8Array {
  at = Math.min(at, bytes.length);
  remove = Math.min(remove, bytes.length - at);
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** Positions of printable ASCII bytes after the fixed header (strings). */
function printable(bytes: Uint8Array, from: number): number[] {
  const out: number[] = [];
  for (let i = from; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x21 && b <= 0x7e) out.push(i);
  }
  return out;
}

const BAD_UTF8: readonly number[][] = [
  [0xff],
  [0x80],
  [0xc0, 0xaf], // overlong "/"
  [0xed, 0xa0, 0x80], // a surrogate
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xef, 0xbf, 0xbf], // U+FFFF, a non-character
  [0xe2, 0x82], // cut short
];

/** The mutations, each named for the replay log. */
const MUTATIONS: ReadonlyArray<
  readonly [string, (rng: Rng, b: Uint8Array) => Uint8Array]
> = [
  ["bit flips", (rng, b) => {
    const out = b.slice();
    for (let n = rng.range(1, 4); n > 0; n--) {
      const i = rng.int(out.length);
      out[i] = out[i]! ^ (1 << rng.int(8));
    }
    return out;
  }],
  [
    "byte insert",
    (rng, b) => splice(b, rng.int(b.length + 1), 0, rng.bytes(rng.range(1, 8))),
  ],
  ["byte delete", (rng, b) => {
    const at = rng.int(b.length);
    return splice(b, at, Math.min(rng.range(1, 8), b.length - at));
  }],
  ["remaining length lie", (rng, b) => {
    const { at, remaining } = header(b);
    const lie = rng.pick([
      remaining + rng.range(1, 5),
      Math.max(0, remaining - rng.range(1, 5)),
      0,
      127,
      128,
      16_384,
      268_435_455,
      rng.int(2_000_000),
    ]);
    const encoded = rng.chance(0.1)
      ? [0xff, 0xff, 0xff, 0xff, 0x7f] // five bytes: malformed
      : rng.chance(0.1)
      ? [0x80 | (lie & 0x7f), 0x80, 0x00] // not the shortest form
      : varint(lie);
    return splice(b, 1, at - 1, encoded);
  }],
  ["inner length lie", (rng, b) => {
    const { at } = header(b);
    const candidates: number[] = [];
    for (let i = at; i + 1 < b.length; i++) {
      const n = (b[i]! << 8) | b[i + 1]!;
      if (n > 0 && n <= b.length - i - 2) candidates.push(i);
    }
    const out = b.slice();
    const i = candidates.length > 0
      ? rng.pick(candidates)
      : at + rng.int(Math.max(1, b.length - at - 1));
    if (i + 1 >= out.length) return out;
    const n = (out[i]! << 8) | out[i + 1]!;
    const lie = rng.pick([n + 1, n - 1, n + rng.range(2, 50), 0, 0xffff]) &
      0xffff;
    out[i] = lie >> 8;
    out[i + 1] = lie & 0xff;
    return out;
  }],
  ["truncation", (rng, b) => b.slice(0, rng.int(b.length))],
  ["invalid UTF-8", (rng, b) => {
    const spots = printable(b, header(b).at);
    if (spots.length === 0) return b;
    const bad = rng.pick(BAD_UTF8);
    const at = rng.pick(spots);
    const out = b.slice();
    out.set(bad.slice(0, out.length - at), at);
    return out;
  }],
  ["U+0000", (rng, b) => {
    const spots = printable(b, header(b).at);
    if (spots.length === 0) return b;
    const out = b.slice();
    out[rng.pick(spots)] = 0;
    return out;
  }],
  ["reserved flags", (rng, b) => {
    const out = b.slice();
    out[0] = rng.chance(0.2)
      ? rng.pick([0x00, 0xf0]) | rng.int(16) // reserved types 0 and 15
      : (out[0]! & 0xf0) | rng.int(16);
    return out;
  }],
];

function mutate(rng: Rng, bytes: Uint8Array): [Uint8Array, string] {
  const names: string[] = [];
  let out = bytes;
  for (let n = rng.chance(0.8) ? 1 : rng.range(2, 3); n > 0; n--) {
    const [name, fn] = rng.pick(MUTATIONS);
    if (out.length > 0) out = fn(rng, out);
    names.push(name);
  }
  return [out, names.join(" + ")];
}

/** A CONNECT whose protocol level byte is changed (6 broke the broker). */
function levelLie(rng: Rng, bytes: Uint8Array): Uint8Array {
  const { at } = header(bytes);
  const nameLength = ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
  const i = at + 2 + nameLength;
  const out = bytes.slice();
  if (i < out.length) out[i] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 0x83, 0xff]);
  return out;
}

function hex(bytes: Uint8Array): string {
  const shown = bytes.length > 48 ? bytes.subarray(0, 48) : bytes;
  return Array.from(shown, (b) => b.toString(16).padStart(2, "0")).join("") +
    (bytes.length > 48 ? `... (${bytes.length} bytes)` : "");
}

/**
 * Builds case `index` of the run seeded by `seed`.
 *
 * @param seed The run's seed.
 * @param index The case's index.
 * @returns The case: the same for the same pair, every time.
 */
export function makeCase(seed: number, index: number): FuzzCase {
  const rng = new Rng(caseSeed(seed, index));
  const v: ProtocolVersion = rng.chance(0.45) ? 5 : rng.chance(0.9) ? 4 : 3;
  const seeds = SEEDS[v];
  const ctx: Context = {
    deep: rng.chance(0.03)
      ? rng.chance(0.5)
        ? "/".repeat(rng.range(2000, 12_000))
        : "d/".repeat(rng.range(1000, 6000)) + "e"
      : undefined,
  };
  const packets: Uint8Array[] = [];
  const steps: string[] = [];
  let mutated = 0;
  const add = (bytes: Uint8Array, what: string, p: number) => {
    if (rng.chance(p)) {
      const [m, how] = mutate(rng, bytes);
      packets.push(m);
      steps.push(`${what}, mutated by ${how}: ${hex(m)}`);
      mutated++;
    } else {
      packets.push(bytes);
      steps.push(`${what}: ${hex(bytes)}`);
    }
  };
  const validConnect = () =>
    rng.chance(0.2) && seeds.connects.length > 0
      ? rng.pick(seeds.connects)
      : encodeLoose(makeConnect(rng, v, ctx), v);
  const other = (): [Uint8Array, string] => {
    if (rng.chance(0.25) && seeds.others.length > 0) {
      return [rng.pick(seeds.others), "fixture"];
    }
    const p = makeOther(rng, v, ctx);
    return [encodeLoose(p, v === 3 ? 4 : v), p.type];
  };
  // Packets before CONNECT, or a CONNECT that is itself mutated.
  const start = rng.int(100);
  if (start < 6) {
    const [b, what] = other();
    add(b, `${what} before CONNECT`, 0.3);
  } else if (start < 18) {
    add(validConnect(), "CONNECT", 1);
  } else if (start < 22) {
    packets.push(levelLie(rng, validConnect()));
    steps.push(`CONNECT with a wrong level: ${hex(packets.at(-1)!)}`);
    mutated++;
  } else {
    add(validConnect(), "CONNECT", 0);
  }
  const count = rng.chance(0.1) ? rng.range(40, 120) : rng.range(1, 30);
  const second = rng.chance(0.1) ? rng.int(count) : -1;
  for (let i = 0; i < count; i++) {
    if (i === second) {
      // A second CONNECT: valid, of another level, or with a wrong level.
      const w: ProtocolVersion = rng.pick([3, 4, 5] as const);
      const bytes = encodeLoose(makeConnect(rng, w, ctx), w);
      if (rng.chance(0.5)) {
        packets.push(levelLie(rng, bytes));
        steps.push(`second CONNECT, wrong level: ${hex(packets.at(-1)!)}`);
        mutated++;
      } else add(bytes, `second CONNECT (level ${w})`, 0.2);
      continue;
    }
    const [b, what] = other();
    // Mostly valid packets, so that the connection lives long enough to
    // reach deeper states; the last one is mutated more often.
    add(b, what, i === count - 1 ? 0.6 : 0.07);
  }
  const delivery: Delivery = rng.chance(0.08)
    ? "dribble"
    : rng.chance(0.25)
    ? "split"
    : "whole";
  const ending: Ending = rng.pick(["fin", "rst", "read"] as const);
  let all = concat(packets);
  if (ending === "rst" && rng.chance(0.5) && all.length > 1) {
    // Cut mid-packet: the close comes with a partial packet pending.
    all = all.subarray(0, all.length - rng.range(1, packets.at(-1)!.length));
    steps.push(`cut to ${all.length} bytes before the close`);
  }
  if (delivery === "dribble" && all.length > 400) all = all.subarray(0, 400);
  const chunks: Uint8Array[] = [];
  if (delivery === "whole") chunks.push(all);
  else if (delivery === "dribble") {
    for (let i = 0; i < all.length; i++) chunks.push(all.subarray(i, i + 1));
  } else {
    let at = 0;
    while (at < all.length) {
      const n = rng.range(1, Math.max(1, Math.ceil(all.length / 3)));
      chunks.push(all.subarray(at, at + n));
      at += n;
    }
  }
  return {
    index,
    protocolVersion: v,
    chunks,
    packets: packets.length,
    mutated,
    delivery,
    ending,
    steps,
  };
}

const UTF8 = new TextEncoder();

const ACK_FIRST_BYTE = {
  puback: 0x40,
  pubrec: 0x50,
  pubrel: 0x62,
  pubcomp: 0x70,
} as const;

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

function str(s: string): number[] {
  const b = UTF8.encode(s);
  return [...u16(b.length), ...b];
}

/**
 * Encodes with the codec, or, where it refuses a topic or filter (a
 * wildcard in a topic name, an empty or malformed filter), writes the
 * packet by hand without properties: those are the packets a broker must
 * refuse.
 */
function encodeLoose(p: Packet, v: ProtocolVersion): Uint8Array {
  try {
    return encodePacket(p, v);
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) {
      throw error;
    }
  }
  const props = v === 5 ? [0] : [];
  let first: number;
  let body: number[];
  switch (p.type) {
    case "publish":
      first = 0x30 | (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
      body = [
        ...str(p.topic),
        ...(p.qos > 0 ? u16(p.packetId ?? 1) : []),
        ...props,
        ...p.payload,
      ];
      break;
    case "subscribe":
      first = 0x82;
      body = [...u16(p.packetId), ...props];
      for (const s of p.subscriptions) {
        body.push(
          ...str(s.topicFilter),
          s.qos | (s.noLocal ? 4 : 0) | (s.retainAsPublished ? 8 : 0) |
            ((s.retainHandling ?? 0) << 4),
        );
      }
      break;
    case "unsubscribe":
      first = 0xa2;
      body = [...u16(p.packetId), ...props];
      for (const f of p.topicFilters) body.push(...str(f));
      break;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      first = ACK_FIRST_BYTE[p.type];
      body = [...u16(p.packetId), ...(v === 5 ? [p.reasonCode ?? 0, 0] : [])];
      break;
    case "connect": {
      const q = { ...p };
      if (q.will !== undefined) q.will = { ...q.will, topic: "w" };
      if (q.username === undefined) delete q.password;
      return encodePacket(q, v);
    }
    default:
      throw new TypeError(`Cannot encode ${p.type} loosely`);
  }
  return Uint8Array.from([first, ...varint(body.length), ...body]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const SEEDS = fixtureSeeds();
