/**
 * A small seeded pseudo-random generator (mulberry32) for the fuzzer: the
 * same seed and case index always give the same bytes.
 *
 * @module
 */

/** Deterministic random numbers from a 32-bit seed. */
export class Rng {
  #state: number;

  /** Starts from `seed` (any number; only its low 32 bits count). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next unsigned 32-bit number. */
  next(): number {
    // mulberry32 by Tommy Ettinger, public domain.
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A whole number from 0 to `n - 1`. */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** A whole number from `min` to `max`, both included. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/**
 * The seed of one case: a hash of the run's seed and the case index, so a
 * case is replayed alone from the pair.
 *
 * @param seed The run's seed.
 * @param index The case index.
 * @returns A 32-bit seed for that case's {@linkcode Rng}.
 */
export function caseSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (index >>> 0) ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ Math.imul(index >>> 0, 0x27d4eb2f), 0x165667b1);
  return (h ^ (h >>> 15)) >>> 0;
}
