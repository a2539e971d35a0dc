#!/usr/bin/env bash
# What the latency tail of the paced row is made of: runs the paced QoS 1
# row (100 pairs, RATE msg/s) against gmqtt started with V8's --trace-gc and
# against Mosquitto, ROUNDS times, and prints each round's percentiles with
# the garbage collections gmqtt made during the row: how many, how long they
# paused the event loop, and the share of the row's time they took (a
# message that arrives during a pause waits for it).
#
#   bench/latency_tail.sh                     # 3 rounds of 5 s at 10k msg/s
#   RATE=20000 ROUNDS=5 bench/latency_tail.sh
#   GMQTT_V8_FLAGS=--single-threaded-gc bench/latency_tail.sh
#
# Both brokers listen on 127.0.0.1 only and are killed on exit; pinned like
# bench/compare.sh (brokers on core 0, the load generator on core 1).
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SECONDS_PER_ROW=${SECONDS_PER_ROW:-5}
RATE=${RATE:-10000}

# shellcheck source=bench/_lib.sh
. bench/_lib.sh
need_package mosquitto mosquitto

pin_cores

GMQTT_V8_FLAGS="--trace-gc${GMQTT_V8_FLAGS:+,$GMQTT_V8_FLAGS}"
OURS_PORT=$(free_port)
start_gmqtt OURS_PID gmqtt "$OURS_PORT" ""
MOSQ_PORT=$(free_port)
start_mosquitto MOSQ_PID mosquitto "$MOSQ_PORT" "persistence false"
wait_port "$OURS_PORT" "$OURS_PID" gmqtt
wait_port "$MOSQ_PORT" "$MOSQ_PID" mosquitto

row() { # broker port round
  "${BENCH_CPU[@]}" deno run -A cmd/bench.ts pairs -c 100 -q 1 -r "$RATE" \
    -d "$SECONDS_PER_ROW" --port "$2" --json >"$WORK/$1.$3.json"
  sleep 1
}

for round in $(seq "$ROUNDS"); do
  printf 'round %s\n' "$round" >&2
  # The collections logged while the gmqtt row ran: its log's lines between
  # these two marks.
  from=$(wc -l <"$WORK/gmqtt.log")
  row gmqtt "$OURS_PORT" "$round"
  to=$(wc -l <"$WORK/gmqtt.log")
  sed -n "$((from + 1)),${to}p" "$WORK/gmqtt.log" >"$WORK/gc.$round.log"
  row mosquitto "$MOSQ_PORT" "$round"
done

deno eval --quiet "
const dir = '$WORK';
const rows = [];
for (let round = 1; round <= $ROUNDS; round++) {
  const read = (name) => JSON.parse(Deno.readTextFileSync(dir + '/' + name + '.' + round + '.json'));
  const ours = read('gmqtt'), mosq = read('mosquitto');
  // --trace-gc: '[pid:isolate]  1234 ms: Scavenge 4.0 (5.2) -> 3.4 (5.8) MB, pooled: 0.0 MB, 1.23 / 0.00 ms ...'
  const pauses = { Scavenge: [], 'Mark-Compact': [], other: [] };
  for (const line of Deno.readTextFileSync(dir + '/gc.' + round + '.log').split('\n')) {
    const m = line.match(/ms: ([A-Za-z-]+)(?: \([^)]*\))? .*?, ([0-9.]+) \/ [0-9.]+ ms/);
    if (!m) continue;
    (pauses[m[1]] ?? pauses.other).push(Number(m[2]));
  }
  const seconds = ours.elapsed;
  const all = [...pauses.Scavenge, ...pauses['Mark-Compact'], ...pauses.other];
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const f = (x, d = 2) => x.toFixed(d);
  rows.push('| ' + round + ' | ' + f(ours.latency.p50) + ' / ' + f(ours.latency.p99) + ' / ' + f(ours.latency.max, 1) +
    ' | ' + f(mosq.latency.p50) + ' / ' + f(mosq.latency.p99) + ' / ' + f(mosq.latency.max, 1) +
    ' | ' + f(pauses.Scavenge.length / seconds, 1) + ' | ' + f(pauses.Scavenge.length ? sum(pauses.Scavenge) / pauses.Scavenge.length : 0) +
    ' | ' + f(Math.max(0, ...pauses.Scavenge)) + ' | ' + pauses['Mark-Compact'].length +
    ' | ' + f(100 * sum(all) / 1000 / seconds) + ' % |');
}
console.log('| round | gmqtt p50 / p99 / max, ms | Mosquitto p50 / p99 / max, ms | gmqtt scavenges/s | mean pause, ms | longest, ms | mark-compacts | time in GC pauses |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
console.log();
console.log('100 pairs, QoS 1, ' + $RATE + ' msg/s, rows of ' + $SECONDS_PER_ROW + ' s; gmqtt with --v8-flags=$GMQTT_V8_FLAGS.');
"
