// deno-lint-ignore-file no-console -- a script run by hand that reports on the terminal
/**
 * Repeats the crash round of `tests/persistence_test.ts`, with more
 * publishers and messages: a broker process on an SQLite store is killed
 * with SIGKILL while publishers wait for their acknowledgements, started
 * again on the same file, and a persistent subscriber takes what was kept.
 * A round fails when an acknowledged message never arrives, a QoS 2 message
 * arrives twice, or a publisher's messages arrive out of order or with a
 * gap. Prints a line per round and a summary; exits with 1 if a round
 * failed. Not run by `deno task test`.
 *
 * ```sh
 * deno run -A bench/crash_loop.ts                  # 50 rounds, a few minutes
 * N=200 PUBLISHERS=16 MESSAGES=50000 deno run -A bench/crash_loop.ts
 * ```
 *
 * Environment, each optional: `N` rounds (50); `PUBLISHERS` at QoS 1 (8);
 * `QOS2_PUBLISHERS` (2); `MESSAGES` each publisher sends at most (20000);
 * `WINDOW` of unacknowledged messages per publisher (16); `KILL_MIN_MS`
 * and `KILL_MAX_MS`, the range of the random kill moment (200, 2000).
 * Store files go to a temporary directory, removed round by round.
 */

import { type CrashReport, crashRound } from "../tests/_crash.ts";

function env(name: string, fallback: number): number {
  const text = Deno.env.get(name);
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a whole number, got ${text}`);
  }
  return value;
}

const rounds = env("N", 50);
const options = {
  qos1Publishers: env("PUBLISHERS", 8),
  qos2Publishers: env("QOS2_PUBLISHERS", 2),
  messages: env("MESSAGES", 20_000),
  window: env("WINDOW", 16),
  killBetween: [env("KILL_MIN_MS", 200), env("KILL_MAX_MS", 2000)] as [
    number,
    number,
  ],
};
console.log(
  `${rounds} rounds: ${options.qos1Publishers} QoS 1 and ${options.qos2Publishers} QoS 2 publishers, ` +
    `up to ${options.messages} messages each, window ${options.window}, ` +
    `killed ${options.killBetween[0]}-${options.killBetween[1]} ms in; ` +
    `Deno ${Deno.version.deno}, ${Deno.build.os}`,
);

const root = await Deno.makeTempDir({ prefix: "gmqtt-crash-loop-" });
let failed = 0;
let errors = 0;
let late = 0;
let acknowledged = 0;
let delivered = 0;
let lost = 0;
let duplicates1 = 0;
let duplicates2 = 0;
let slowestDrain = 0;
try {
  for (let round = 1; round <= rounds; round++) {
    const dir = `${root}/${round}`;
    await Deno.mkdir(dir);
    let report: CrashReport;
    try {
      report = await crashRound(dir, options);
    } catch (error) {
      errors++;
      failed++;
      console.log(`round ${round}/${rounds}: ERROR ${error}`);
      continue;
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    const r = report;
    const bad = r.lost.length > 0 || r.duplicates.qos2 > 0 ||
      r.outOfOrder.length > 0;
    if (bad) failed++;
    if (r.publishingAtKill === 0) late++;
    acknowledged += r.acknowledged.qos1 + r.acknowledged.qos2;
    delivered += r.delivered.qos1 + r.delivered.qos2;
    lost += r.lost.length;
    duplicates1 += r.duplicates.qos1;
    duplicates2 += r.duplicates.qos2;
    slowestDrain = Math.max(slowestDrain, r.drainMs);
    console.log(
      `round ${round}/${rounds}: ${bad ? "FAILED" : "ok"}; ` +
        `killed at ${r.killedAfter} ms (${r.publishingAtKill} publishing); ` +
        `sent ${r.sent.qos1}+${r.sent.qos2}, ` +
        `acknowledged ${r.acknowledged.qos1}+${r.acknowledged.qos2}, ` +
        `delivered ${r.delivered.qos1}+${r.delivered.qos2}, ` +
        `lost ${r.lost.length}, duplicates ${r.duplicates.qos1}+${r.duplicates.qos2}, ` +
        `out of order ${r.outOfOrder.length}; drained in ${r.drainMs} ms` +
        (r.lost.length > 0 ? `; lost e.g. ${r.lost.slice(0, 5)}` : "") +
        (r.outOfOrder.length > 0
          ? `; out of order e.g. ${r.outOfOrder.slice(0, 5)}`
          : ""),
    );
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
console.log(
  `${rounds - failed}/${rounds} rounds ok (${errors} errors); ` +
    `${acknowledged} acknowledged, ${delivered} delivered, ${lost} lost; ` +
    `duplicates ${duplicates1} at QoS 1, ${duplicates2} at QoS 2; ` +
    `${late} rounds killed after every publisher was done; ` +
    `slowest drain ${slowestDrain} ms`,
);
if (failed > 0) Deno.exit(1);
