/**
 * What the benchmark scripts' tables are made of: the JSON results of
 * `cmd/bench.ts --json`, one file per row, target and round
 * (`NAME.TARGET.ROUND.json` in the run's folder), read back as medians.
 *
 * @module
 */

/** A row's results as `cmd/bench.ts --json` writes them (what is read). */
// deno-lint-ignore no-explicit-any
export type Result = any;

/** The results of one row on one target, one per round found. */
export function read(
  dir: string,
  rounds: number,
  name: string,
  target: string,
): Result[] {
  const out: Result[] = [];
  for (let r = 1; r <= rounds; r++) {
    try {
      out.push(
        JSON.parse(Deno.readTextFileSync(`${dir}/${name}.${target}.${r}.json`)),
      );
    } catch {
      // A round that did not run.
    }
  }
  return out;
}

/** The median of the finite values; NaN without any. */
export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A number with thousands separators and `digits` decimals, or n/a. */
export function num(x: number, digits = 0): string {
  return Number.isFinite(x)
    ? x.toLocaleString("en-US", {
      maximumFractionDigits: digits,
      minimumFractionDigits: digits,
    })
    : "n/a";
}

/** What went wrong over the rounds: lost, duplicated, ... or "-". */
export function issues(results: Result[]): string {
  const sum = (pick: (r: Result) => number | undefined) =>
    results.reduce((s, r) => s + (pick(r) ?? 0), 0);
  const parts: string[] = [];
  const lost = sum((r) => r.lost);
  const dup = sum((r) => r.duplicated);
  const ooo = sum((r) => r.outOfOrder);
  const failed = sum((r) => r.connect?.failed);
  const errors = sum((r) => r.errors?.length);
  if (lost) parts.push(`${lost} lost`);
  if (dup) parts.push(`${dup} dup`);
  if (ooo) parts.push(`${ooo} out of order`);
  if (failed) parts.push(`${failed} failed`);
  if (errors) parts.push(`${errors} errors`);
  return parts.join(", ") || "-";
}
