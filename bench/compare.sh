#!/usr/bin/env bash
# Runs the same cmd/bench.ts scenarios against gmqtt and Mosquitto, one after
# the other, on free loopback ports, and prints a markdown table of both
# numbers and the ratio gmqtt/Mosquitto; then the persistent-session rows
# against a second instance of each that writes to disk (gmqtt on SQLite,
# Mosquitto with persistence true), in a table of their own.
#
#   bench/compare.sh                  # about 10 minutes
#   ROUNDS=3 bench/compare.sh         # median of 3 rounds, order alternating
#   SECONDS_PER_ROW=10 CONNECTIONS=20000 bench/compare.sh
#   CLUSTER=0 bench/compare.sh        # without the cluster rows (bench/cluster.sh)
#   GROWTH=0 bench/compare.sh         # without the growth rows (bench/growth.sh)
#
# Every broker listens on 127.0.0.1 only; the two persistent ones write
# under a temporary folder, removed on exit, the others nothing. Mosquitto
# has no in-flight or queue limit (0: with 1000/100000, 2.0.11 dropped QoS 1
# messages in fanin), gmqtt its highest in-flight limit (65,535) and 10^6
# queued messages per client. All are killed on exit.
# Needs deno, and Mosquitto (installed with apt-get when missing, as root).
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-1}
SECONDS_PER_ROW=${SECONDS_PER_ROW:-5}
CONNECTIONS=${CONNECTIONS:-10000}
HOLD=${HOLD:-3}

# 10k connections need 10k descriptors in each broker and in the generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((CONNECTIONS + 1000)) ]; then
  echo "error: ulimit -n is $(ulimit -n); $((CONNECTIONS + 1000)) needed" >&2
  exit 1
fi

# shellcheck source=bench/_lib.sh
. bench/_lib.sh
need_package mosquitto mosquitto
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

pin_cores

# -- the brokers -----------------------------------------------------------------
# Each is started on core 0 (start_gmqtt, start_mosquitto in bench/_lib.sh)
# with its output in $WORK/NAME.log.

MOSQ_PORT=$(free_port)
start_mosquitto MOSQ_PID mosquitto "$MOSQ_PORT" "persistence false"
OURS_PORT=$(free_port)
start_gmqtt OURS_PID gmqtt "$OURS_PORT" ""

# The same two, persistent: Mosquitto with persistence true, gmqtt on an
# SQLite file (sync normal). Only the persistent-session rows use them.
MOSQP_PORT=$(free_port)
mkdir -p "$WORK/mosquitto-data"
start_mosquitto MOSQP_PID mosquitto-persist "$MOSQP_PORT" \
  "persistence true
persistence_location $WORK/mosquitto-data/"
OURSP_PORT=$(free_port)
start_gmqtt OURSP_PID gmqtt-sqlite "$OURSP_PORT" "persistence:
  type: sqlite
  path: $WORK/gmqtt.db
  sync: normal"

wait_port "$MOSQ_PORT" "$MOSQ_PID" mosquitto
wait_port "$OURS_PORT" "$OURS_PID" gmqtt
wait_port "$MOSQP_PORT" "$MOSQP_PID" mosquitto-persist
wait_port "$OURSP_PORT" "$OURSP_PID" gmqtt-sqlite

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }

bench() { # name broker round args...
  local name=$1 broker=$2 round=$3
  shift 3
  local port=$OURS_PORT
  case "$broker" in
    mosquitto) port=$MOSQ_PORT ;;
    mosquitto-persist) port=$MOSQP_PORT ;;
    gmqtt-sqlite) port=$OURSP_PORT ;;
  esac
  printf '%-12s %-10s round %s: %s\n' "$name" "$broker" "$round" "$*" >&2
  "${BENCH_CPU[@]}" deno run -A cmd/bench.ts "$@" --port "$port" --json \
    >"$WORK/$name.$broker.$round.json"
  sleep 1 # let the broker close the last connections
}

# conn: connect rate and latency, and RSS per idle connection while held.
conn_row() { # broker round
  local broker=$1 round=$2 pid=$OURS_PID port=$OURS_PORT
  if [ "$broker" = mosquitto ]; then pid=$MOSQ_PID port=$MOSQ_PORT; fi
  local before_rss before_fds after_rss=0
  before_rss=$(rss_kb "$pid")
  before_fds=$(fds "$pid")
  printf '%-12s %-10s round %s: conn -c %s --hold %s\n' conn "$broker" \
    "$round" "$CONNECTIONS" "$HOLD" >&2
  "${BENCH_CPU[@]}" deno run -A cmd/bench.ts conn -c "$CONNECTIONS" -w 100 --hold "$HOLD" \
    --port "$port" --json >"$WORK/conn.$broker.$round.json" &
  local bench_pid=$!
  # Once every connection is accepted, give the CONNECTs a second to land.
  for _ in $(seq 600); do
    if [ "$(fds "$pid")" -ge $((before_fds + CONNECTIONS)) ]; then
      sleep 1
      after_rss=$(rss_kb "$pid")
      break
    fi
    kill -0 "$bench_pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$bench_pid"
  echo "{\"before\": $before_rss, \"after\": $after_rss, \"connections\": $CONNECTIONS}" \
    >"$WORK/rss.$broker.$round.json"
  sleep 2
}

D=$SECONDS_PER_ROW
for round in $(seq "$ROUNDS"); do
  # Alternate which broker goes first, so neither always runs on a warmer
  # (or busier) machine.
  if [ $((round % 2)) = 1 ]; then order="gmqtt mosquitto"; else order="mosquitto gmqtt"; fi
  for b in $order; do conn_row "$b" "$round"; done
  for b in $order; do bench fanin-q0 "$b" "$round" fanin -c 100 -q 0 -d "$D"; done
  for b in $order; do bench fanin-q1 "$b" "$round" fanin -c 100 -q 1 -d "$D"; done
  for b in $order; do bench fanout-q0 "$b" "$round" fanout -c 100 -q 0 -d "$D"; done
  for b in $order; do bench pairs-q0 "$b" "$round" pairs -c 100 -q 0 -d "$D"; done
  for b in $order; do bench pairs-q1 "$b" "$round" pairs -c 100 -q 1 -d "$D"; done
  for b in $order; do bench pairs-q2 "$b" "$round" pairs -c 100 -q 2 -d "$D"; done
  for b in $order; do bench latency "$b" "$round" pairs -c 100 -q 1 -r 10000 -d "$D"; done
  # Persistent sessions (5.0, session expiry 300 s, ended with the run): in
  # memory and on disk, each broker.
  if [ $((round % 2)) = 1 ]; then
    porder="gmqtt gmqtt-sqlite mosquitto mosquitto-persist"
  else
    porder="mosquitto-persist mosquitto gmqtt-sqlite gmqtt"
  fi
  for q in 1 2; do
    for b in $porder; do
      bench "persist-q$q" "$b" "$round" pairs -c 100 -q "$q" -d "$D" \
        --protocol 5 --session-expiry 300
    done
  done
done

# -- the table -------------------------------------------------------------------
deno eval --quiet "
import { issues as problems, median, num, read as results } from './bench/_table.ts';
const dir = '$WORK';
const rounds = $ROUNDS;
const read = (name, broker) => results(dir, rounds, name, broker);
const value = (name, broker, pick) => median(read(name, broker).map(pick));
const issues = (name, broker) => problems(read(name, broker));
const rows = [];
const row = (label, name, pick, digits = 0) => {
  const a = value(name, 'gmqtt', pick), b = value(name, 'mosquitto', pick);
  rows.push('| ' + label + ' | ' + num(a, digits) + ' | ' + num(b, digits) + ' | ' +
    (Number.isFinite(a / b) ? (a / b).toFixed(2) : 'n/a') + ' | ' +
    issues(name, 'gmqtt') + ' / ' + issues(name, 'mosquitto') + ' |');
};
const n = $CONNECTIONS;
row('conn ' + n / 1000 + 'k: connections/s', 'conn', (r) => r.connect.rate);
row('conn ' + n / 1000 + 'k: connect latency p50, ms', 'conn', (r) => r.connect.latency.p50, 2);
row('conn ' + n / 1000 + 'k: connect latency p99, ms', 'conn', (r) => r.connect.latency.p99, 2);
// Round 1 only: a broker's heap (or malloc arena) stays grown afterwards.
rows.push((() => {
  const kb = (broker) => {
    const r = read('rss', broker)[0];
    return r && r.after > 0 ? (r.after - r.before) / r.connections : NaN;
  };
  const a = kb('gmqtt'), b = kb('mosquitto');
  return '| RSS per idle connection (round 1), KB | ' + num(a, 1) + ' | ' +
    num(b, 1) + ' | ' + (Number.isFinite(a / b) ? (a / b).toFixed(1) : 'n/a') + ' | - |';
})());
row('fanin 100→1, QoS 0: msg/s delivered', 'fanin-q0', (r) => r.deliveryRate);
row('fanin 100→1, QoS 1: msg/s delivered', 'fanin-q1', (r) => r.deliveryRate);
row('fanout 1→100, QoS 0: msg/s delivered', 'fanout-q0', (r) => r.deliveryRate);
row('pairs 100, QoS 0: msg/s delivered', 'pairs-q0', (r) => r.deliveryRate);
row('pairs 100, QoS 1: msg/s delivered', 'pairs-q1', (r) => r.deliveryRate);
row('pairs 100, QoS 2: msg/s delivered', 'pairs-q2', (r) => r.deliveryRate);
for (const q of [1, 2]) {
  const name = 'pairs-q' + q;
  row('pairs 100, QoS ' + q + ' saturated: p99 latency, ms', name, (r) => r.latency.p99, 2);
  row('pairs 100, QoS ' + q + ' saturated: max latency, ms', name, (r) => r.latency.max, 2);
  row('pairs 100, QoS ' + q + ': publisher spread (slowest / median)', name, (r) => r.publisherSpread, 2);
}
row('latency, 100 pairs QoS 1 at 10k msg/s: p50, ms', 'latency', (r) => r.latency.p50, 2);
row('latency, 100 pairs QoS 1 at 10k msg/s: p99, ms', 'latency', (r) => r.latency.p99, 2);
console.log('| Row | gmqtt | Mosquitto | gmqtt/Mosquitto | problems (gmqtt / Mosquitto) |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(r);
console.log();
console.log('Persistent sessions (MQTT 5.0, session expiry 300 s), pairs 100: msg/s delivered');
console.log();
console.log('| QoS | gmqtt in memory | gmqtt SQLite | SQLite/memory | Mosquitto | Mosquitto persistence true | gmqtt SQLite/Mosquitto persistence | problems (gmqtt SQLite / Mosquitto persistence) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---|');
for (const q of [1, 2]) {
  const name = 'persist-q' + q, pick = (r) => r.deliveryRate;
  const mem = value(name, 'gmqtt', pick), sql = value(name, 'gmqtt-sqlite', pick);
  const mos = value(name, 'mosquitto', pick), mosp = value(name, 'mosquitto-persist', pick);
  const ratio = (a, b) => Number.isFinite(a / b) ? (a / b).toFixed(2) : 'n/a';
  console.log('| ' + q + ' | ' + num(mem) + ' | ' + num(sql) + ' | ' + ratio(sql, mem) + ' | ' +
    num(mos) + ' | ' + num(mosp) + ' | ' + ratio(sql, mosp) + ' | ' +
    issues(name, 'gmqtt-sqlite') + ' / ' + issues(name, 'mosquitto-persist') + ' |');
}
console.log();
console.log('Rows of ' + $SECONDS_PER_ROW + ' s, ' + rounds + ' round(s) (median), 64 B payloads, window 64 per publisher;');
console.log('RSS: VmRSS of the broker holding ' + n + ' idle connections minus VmRSS before, per connection, in round 1.');
"

# The cluster rows: two gmqtt nodes on one Redis against one node alone, in
# their own run (bench/cluster.sh). CLUSTER=0 leaves them out.
if [ "${CLUSTER:-1}" = 1 ]; then
  echo
  echo "Cluster: publishers on node A, subscribers on node B, against one node"
  echo
  ROUNDS=$ROUNDS SECONDS_PER_ROW=$SECONDS_PER_ROW bench/cluster.sh
fi

# How cost grows: idle connections at 1k to 50k, fan-out to 10k subscribers,
# 100k subscriptions, 100k retained messages, each on a broker of its own
# (bench/growth.sh). GROWTH=0 leaves them out.
if [ "${GROWTH:-1}" = 1 ]; then
  echo
  echo "How cost grows"
  echo
  ROUNDS=$ROUNDS SECONDS_PER_ROW=$SECONDS_PER_ROW bench/growth.sh
fi
