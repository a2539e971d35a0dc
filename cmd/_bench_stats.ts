/**
 * Measurement for `cmd/bench.ts`: a latency histogram of bounded size, the
 * message stamp (publisher, sequence number, send time) carried in every
 * payload, and per-stream sequence tracking for loss, duplicates and order.
 *
 * @module
 */

/** Bytes of the stamp at the start of every payload. */
export const STAMP_SIZE = 16;

/** Exact buckets below this many microseconds; then 64 per power of two. */
const LINEAR = 128;
const SUB_BUCKETS = 64;
const BUCKETS = LINEAR + 25 * SUB_BUCKETS;
const MAX_MICROS = 2 ** 31 - 1;

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  /** Samples recorded. */
  readonly count: number;
  /** Mean. */
  readonly mean: number;
  /** Median. */
  readonly p50: number;
  /** 95th percentile. */
  readonly p95: number;
  /** 99th percentile. */
  readonly p99: number;
  /** Largest sample. */
  readonly max: number;
}

/**
 * Counts durations in log-linear microsecond buckets: exact below 128 µs,
 * then within 1/64 (1.6%) of the value, up to 35 minutes. Memory is fixed
 * whatever the number of samples.
 */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Records a duration in milliseconds. */
  record(ms: number): void {
    const us = Math.min(MAX_MICROS, Math.max(0, Math.round(ms * 1000)));
    this.#counts[bucketOf(us)]!++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** Number of durations recorded. */
  get count(): number {
    return this.#count;
  }

  /** Adds the samples of another histogram to this one. */
  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /**
   * The duration below which `q` of the samples fall, in milliseconds: the
   * middle of the bucket that holds the sample of that rank, never above the
   * largest sample.
   */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, bucketMiddle(i) / 1000);
    }
    return this.#max;
  }

  /** Count, mean, p50, p95, p99 and max in milliseconds. */
  summary(): LatencySummary {
    return {
      count: this.#count,
      mean: this.#count === 0 ? 0 : this.#sum / this.#count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.#max,
    };
  }
}

function bucketOf(us: number): number {
  if (us < LINEAR) return us;
  const shift = 31 - Math.clz32(us) - 6;
  return LINEAR + (shift - 1) * SUB_BUCKETS + ((us >>> shift) - SUB_BUCKETS);
}

function bucketMiddle(index: number): number {
  if (index < LINEAR) return index;
  const shift = Math.floor((index - LINEAR) / SUB_BUCKETS) + 1;
  const mantissa = (index - LINEAR) % SUB_BUCKETS + SUB_BUCKETS;
  return mantissa * 2 ** shift + 2 ** (shift - 1);
}

/**
 * Writes the stamp into the first {@linkcode STAMP_SIZE} bytes of a payload:
 * publisher index, sequence number (both u32) and send time (f64, ms of
 * `performance.now()`), big-endian.
 */
export function writeStamp(
  view: DataView,
  publisher: number,
  seq: number,
  sentAt: number,
): void {
  view.setUint32(0, publisher);
  view.setUint32(4, seq);
  view.setFloat64(8, sentAt);
}

/** One PUBLISH stamp as read by a subscriber. */
export interface Stamp {
  publisher: number;
  seq: number;
  sentAt: number;
}

/**
 * Reads the stamp of a payload into `out`.
 *
 * @returns False if the payload is too short to carry one.
 */
export function readStamp(payload: Uint8Array, out: Stamp): boolean {
  if (payload.length < STAMP_SIZE) return false;
  const view = new DataView(
    payload.buffer,
    payload.byteOffset,
    STAMP_SIZE,
  );
  out.publisher = view.getUint32(0);
  out.seq = view.getUint32(4);
  out.sentAt = view.getFloat64(8);
  return true;
}

/**
 * The messages one subscriber got from one publisher: a bit per sequence
 * number (growing as they arrive), so duplicates are exact and memory is
 * an eighth of a byte per message.
 */
export class SequenceTracker {
  #seen = new Uint8Array(1024);
  #highest = -1;
  /** The highest sequence number received, -1 before the first. */
  get highest(): number {
    return this.#highest;
  }
  /** Distinct sequence numbers received. */
  unique = 0;
  /** Sequence numbers received more than once. */
  duplicated = 0;
  /** Messages that arrived after one with a higher sequence number. */
  outOfOrder = 0;

  /**
   * Records a sequence number.
   *
   * @returns True if it is the first time this number arrived.
   */
  add(seq: number): boolean {
    const byte = seq >>> 3;
    if (byte >= this.#seen.length) {
      let size = this.#seen.length;
      while (size <= byte) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.#seen);
      this.#seen = grown;
    }
    const bit = 1 << (seq & 7);
    if ((this.#seen[byte]! & bit) !== 0) {
      this.duplicated++;
      return false;
    }
    this.#seen[byte]! |= bit;
    this.unique++;
    if (seq < this.#highest) this.outOfOrder++;
    else this.#highest = seq;
    return true;
  }
}

/**
 * The slowest of some counts over their median: 1 when they are alike (or
 * fewer than two), 0 when one got nothing while the median got something.
 */
export function spread(counts: readonly number[]): number {
  if (counts.length < 2) return 1;
  const sorted = [...counts].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  const median = sorted.length % 2
    ? sorted[m]!
    : (sorted[m - 1]! + sorted[m]!) / 2;
  return median > 0 ? sorted[0]! / median : 1;
}
