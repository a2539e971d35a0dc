#!/usr/bin/env bash
# How cost grows with the size of what a broker holds, gmqtt against
# Mosquitto in one run: idle connections at 1k, 10k and 50k (connect rate,
# RSS per connection; at 10k also once the broker has idled SETTLE
# seconds), fan-out of one topic to 10k subscribers (deliveries
# per second, broker CPU per delivery), 100k distinct subscriptions
# (subscribe rate, RSS per subscription, msg/s to them) and 100k retained
# messages (store rate, RSS per message, time for one wildcard subscriber
# to get them all); prints a markdown table.
#
#   bench/growth.sh                   # about 7 minutes a round
#   ROUNDS=3 bench/growth.sh          # median of 3 rounds, order alternating
#   CONN_SIZES="1000 10000" bench/growth.sh
#   SETTLE=0 bench/growth.sh          # no idle wait: 4 minutes less a round
#
# The idle wait: V8 sizes its young generation to the burst of CONNECTs
# and gives it back only when its memory reducer runs, at the latest
# 100 s after the last full collection; RSS read a second after the burst
# counts that transient, RSS read SETTLE seconds later (120 by default)
# what an idle broker keeps.
#
# Every row runs on a broker of its own, started for it and killed after
# it, so that each RSS figure is the row's alone (a heap or a malloc arena
# stays grown). The brokers listen on 127.0.0.1 to 127.0.0.4 (HOSTS), all
# on the same port, and cmd/bench.ts spreads its connections over them:
# each local address has its own ephemeral ports (about 28k by default),
# so one machine can open 50k connections without changing a sysctl.
# Pinned like bench/compare.sh: broker on core 0, generator on core 1.
# gmqtt runs with its benchmark limits (bench/_lib.sh) and no connection,
# session, subscription or retained limit to speak of. A size that needs
# more file descriptors than `ulimit -Hn` allows is skipped and said so.
# Needs deno, and Mosquitto (installed with apt-get when missing, as root).
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-1}
SECONDS_PER_ROW=${SECONDS_PER_ROW:-5}
CONN_SIZES=${CONN_SIZES:-1000 10000 50000}
SETTLE=${SETTLE:-120}
SETTLE_SIZE=${SETTLE_SIZE:-10000}
HOSTS=${HOSTS:-127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4}
FANOUT=${FANOUT:-10000}
SUBS_CLIENTS=${SUBS_CLIENTS:-100}
SUBS_TOPICS=${SUBS_TOPICS:-1000}
RETAINED_CLIENTS=${RETAINED_CLIENTS:-10}
RETAINED_TOPICS=${RETAINED_TOPICS:-10000}

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FDS=$(ulimit -n)
# Whether a broker and the generator can each hold N connections.
fits() { [ "$FDS" = unlimited ] || [ "$FDS" -ge $(($1 + 200)) ]; }

# shellcheck source=bench/_lib.sh
. bench/_lib.sh
need_package mosquitto mosquitto

pin_cores

GMQTT_LIMITS="  max_connections: 10000000
  max_sessions: 10000000
  max_subscriptions_per_client: 10000000
  max_retained_messages: 100000000
  max_retained_bytes: 68719476736
  max_queued_memory: 68719476736"

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# User and system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)
HOSTS_ARG=$(echo "$HOSTS" | tr ' ' ',')

# Starts a broker for one row, runs cmd/bench.ts against it with --marks,
# samples the broker's RSS and CPU time before, once every client is set
# up (a second into the hold), when the load is over and, when the hold
# (HOLD seconds, 2 by default) is longer than that, a second before it
# ends; then kills it.
# The bench result goes to NAME.BROKER.ROUND.json, the samples to
# probe-NAME.BROKER.ROUND.json.
row() { # name broker round bench_args...
  local name=$1 broker=$2 round=$3 pid port marks
  shift 3
  port=$(free_port)
  if [ "$broker" = gmqtt ]; then
    start_gmqtt pid "gmqtt-$name" "$port" "" "$GMQTT_LIMITS" "$HOSTS"
  else
    start_mosquitto pid "mosquitto-$name" "$port" "persistence false" "$HOSTS"
  fi
  wait_port "$port" "$pid" "$broker-$name"
  sleep 0.5 # let it settle after start-up
  marks="$WORK/marks.$name.$broker.$round"
  local before ready=0 done_rss=0 cpu_ready=0 cpu_done=0 ready_at=0 settled=0
  local hold=${HOLD:-2}
  before=$(rss_kb "$pid")
  printf '%-14s %-10s round %s: %s\n' "$name" "$broker" "$round" "$*" >&2
  "${BENCH_CPU[@]}" deno run -A cmd/bench.ts "$@" --hosts "$HOSTS_ARG" \
    --port "$port" --hold "$hold" --marks "$marks" --json \
    >"$WORK/$name.$broker.$round.json" &
  local bench_pid=$!
  while kill -0 "$bench_pid" 2>/dev/null; do
    if [ "$ready" = 0 ] && grep -qx ready "$marks" 2>/dev/null; then
      sleep 1
      ready=$(rss_kb "$pid")
      cpu_ready=$(cpu_ticks "$pid")
      ready_at=$SECONDS
    fi
    if [ "$hold" -gt 2 ] && [ "$ready" != 0 ] && [ "$settled" = 0 ] &&
      [ $((SECONDS - ready_at)) -ge $((hold - 2)) ]; then
      settled=$(rss_kb "$pid")
    fi
    if [ "$cpu_done" = 0 ] && grep -qx done "$marks" 2>/dev/null; then
      cpu_done=$(cpu_ticks "$pid")
      done_rss=$(rss_kb "$pid")
    fi
    sleep 0.05
  done
  wait "$bench_pid" || echo "warning: $name on $broker ended with $?" >&2
  echo "{\"before\": $before, \"ready\": $ready, \"done\": $done_rss," \
    "\"settled\": $settled," \
    "\"cpuReady\": $cpu_ready, \"cpuDone\": $cpu_done, \"ticks\": $TICKS}" \
    >"$WORK/probe-$name.$broker.$round.json"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  local left=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || left+=("$p"); done
  PIDS=(${left[@]+"${left[@]}"})
}

SKIPPED=()
D=$SECONDS_PER_ROW
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="gmqtt mosquitto"; else order="mosquitto gmqtt"; fi
  for n in $CONN_SIZES; do
    if ! fits "$n"; then
      [ "$round" = 1 ] && SKIPPED+=("conn $n: $((n + 200)) file descriptors needed per process, ulimit -Hn is $FDS")
      continue
    fi
    hold=2
    if [ "$n" = "$SETTLE_SIZE" ] && [ "$SETTLE" -gt 2 ]; then hold=$SETTLE; fi
    for b in $order; do
      HOLD=$hold row "conn-$n" "$b" "$round" conn -c "$n" -w 100
    done
  done
  if fits "$FANOUT"; then
    for b in $order; do
      row fanout "$b" "$round" fanout -c "$FANOUT" -q 0 -w 16 -d "$D" --timeout 30
    done
  elif [ "$round" = 1 ]; then
    SKIPPED+=("fanout: $((FANOUT + 200)) file descriptors needed per process, ulimit -Hn is $FDS")
  fi
  for b in $order; do
    row subs "$b" "$round" subs -c "$SUBS_CLIENTS" --topics "$SUBS_TOPICS" -q 0 -d "$D"
  done
  for b in $order; do
    row retained "$b" "$round" retained -c "$RETAINED_CLIENTS" \
      --topics "$RETAINED_TOPICS" -q 1 --timeout 30
  done
done

# -- the table -------------------------------------------------------------------
SKIPPED_JSON=$(printf '%s\n' ${SKIPPED[@]+"${SKIPPED[@]}"} |
  deno eval --quiet 'console.log(JSON.stringify((await new Response(Deno.stdin.readable).text()).split("\n").filter((l) => l)))')
deno eval --quiet "
import { issues as problems, median, num, read as results } from './bench/_table.ts';
const dir = '$WORK';
const rounds = $ROUNDS;
const read = (name, broker) => results(dir, rounds, name, broker);
const rows = [];
// pick(result, probe) of each round, median over rounds.
const value = (name, broker, pick) => {
  const rs = read(name, broker), ps = read('probe-' + name, broker);
  return median(rs.map((r, i) => ps[i] ? pick(r, ps[i]) : NaN));
};
const row = (label, name, pick, digits = 0, issues = true) => {
  const a = value(name, 'gmqtt', pick), b = value(name, 'mosquitto', pick);
  rows.push('| ' + label + ' | ' + num(a, digits) + ' | ' + num(b, digits) + ' | ' +
    (Number.isFinite(a / b) ? (a / b).toFixed(2) : 'n/a') + ' | ' +
    (issues ? problems(read(name, 'gmqtt')) + ' / ' + problems(read(name, 'mosquitto')) : '-') + ' |');
};
// The broker's RSS once set up, minus before, per item; KB or bytes.
const grown = (items, unit) => (r, p) =>
  p.ready > 0 ? (p.ready - p.before) * 1024 / unit / items(r) : NaN;
// Broker CPU time from ready to done, per delivery, in microseconds.
const cpuPer = (r, p) =>
  p.cpuDone > 0 && r.delivered > 0 ? (p.cpuDone - p.cpuReady) / p.ticks * 1e6 / r.delivered : NaN;
for (const n of '$CONN_SIZES'.split(' ').filter((x) => x)) {
  const k = n >= 1000 ? n / 1000 + 'k' : n;
  row('idle ' + k + ': connections/s', 'conn-' + n, (r) => r.connect.rate);
  row('idle ' + k + ': RSS per connection, KB', 'conn-' + n,
    grown((r) => r.connect.connections, 1024), 1, false);
  if (n === '$SETTLE_SIZE' && $SETTLE > 2) {
    row('idle ' + k + ': RSS per connection after ' + ($SETTLE - 1) + ' s idle, KB', 'conn-' + n,
      (r, p) => p.settled > 0 ? (p.settled - p.before) / r.connect.connections : NaN, 1, false);
  }
}
const f = $FANOUT / 1000 + 'k';
row('fan-out 1→' + f + ', QoS 0: deliveries/s', 'fanout', (r) => r.deliveryRate);
row('fan-out 1→' + f + ': broker CPU per delivery, µs', 'fanout', cpuPer, 2, false);
row('fan-out 1→' + f + ': broker RSS at the end of the load, MB', 'fanout',
  (r, p) => p.done > 0 ? p.done / 1024 : NaN, 0, false);
const s = $SUBS_CLIENTS * $SUBS_TOPICS / 1000 + 'k';
row(s + ' subscriptions: SUBSCRIBEs/s acknowledged', 'subs', (r) => r.subscribe.rate);
row(s + ' subscriptions: RSS per subscription, bytes', 'subs',
  grown((r) => r.subscribe.subscriptions, 1), 0, false);
row(s + ' subscriptions: msg/s delivered', 'subs', (r) => r.deliveryRate);
row(s + ' subscriptions: broker CPU per message, µs', 'subs', cpuPer, 2, false);
const t = $RETAINED_CLIENTS * $RETAINED_TOPICS / 1000 + 'k';
row(t + ' retained, QoS 1: stored msg/s', 'retained', (r) => r.retained.storeRate);
row(t + ' retained: RSS per retained message, bytes', 'retained',
  grown((r) => r.retained.stored, 1), 0, false);
row(t + ' retained: one wildcard subscriber gets them all, s', 'retained',
  (r) => r.retained.deliveryTime, 2);
console.log('| Row | gmqtt | Mosquitto | gmqtt/Mosquitto | problems (gmqtt / Mosquitto) |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(r);
console.log();
console.log(rounds + ' round(s) (median), a broker started for each row; publish rows of ' +
  $SECONDS_PER_ROW + ' s, 64 B payloads; fan-out window 16 messages, subs window 64 per publisher.');
console.log('RSS: VmRSS of the broker once every client is set up (connected, subscribed, retained');
console.log('messages stored; the subs and retained rows include their ' + ($SUBS_CLIENTS * 2) + ' and ' +
  $RETAINED_CLIENTS + ' connections), minus VmRSS before, per item.');
for (const line of $SKIPPED_JSON) console.log('Skipped: ' + line + '.');
"
