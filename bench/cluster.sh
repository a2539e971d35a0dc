#!/usr/bin/env bash
# Cluster figures: two gmqtt nodes on one redis-server, publishers on node A
# and subscribers on node B (every message crosses from one node to the
# other through Redis), against the same rows on one gmqtt alone, in one
# run; prints a markdown table.
#
#   bench/cluster.sh                  # about 1 minute
#   ROUNDS=3 bench/cluster.sh         # median of 3 rounds
#
# Everything listens on 127.0.0.1 only; Redis keeps nothing on disk. The
# nodes keep their state in Redis (a cluster has no other persistence);
# the node alone keeps it in memory. Not pinned to cores: Redis shares the
# machine's cores with the brokers, as it would on a small machine. All are
# killed on exit. Needs deno and redis-server (installed with apt-get when
# missing, as root).
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-1}
SECONDS_PER_ROW=${SECONDS_PER_ROW:-5}
RATE=${RATE:-5000}

# shellcheck source=bench/_lib.sh
. bench/_lib.sh
need_package redis-server redis-server

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_port "$REDIS_PORT" "$REDIS_PID" redis


ALONE_PORT=$(free_port)
start_gmqtt ALONE_PID alone "$ALONE_PORT" ""
A_PORT=$(free_port)
start_gmqtt A_PID node-a "$A_PORT" "cluster:
  redis: redis://127.0.0.1:$REDIS_PORT
  node_id: a"
B_PORT=$(free_port)
start_gmqtt B_PID node-b "$B_PORT" "cluster:
  redis: redis://127.0.0.1:$REDIS_PORT
  node_id: b"
wait_port "$ALONE_PORT" "$ALONE_PID" alone
wait_port "$A_PORT" "$A_PID" node-a
wait_port "$B_PORT" "$B_PID" node-b

bench() { # name where round args...
  local name=$1 where=$2 round=$3
  shift 3
  local ports=(--port "$ALONE_PORT")
  if [ "$where" = cluster ]; then ports=(--port "$A_PORT" --sub-port "$B_PORT"); fi
  printf '%-10s %-8s round %s: %s\n' "$name" "$where" "$round" "$*" >&2
  deno run -A cmd/bench.ts "$@" "${ports[@]}" --json \
    >"$WORK/$name.$where.$round.json"
  sleep 1 # let the brokers close the last connections
}

D=$SECONDS_PER_ROW
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="alone cluster"; else order="cluster alone"; fi
  for w in $order; do bench pairs-q0 "$w" "$round" pairs -c 100 -q 0 -d "$D"; done
  for w in $order; do bench pairs-q1 "$w" "$round" pairs -c 100 -q 1 -d "$D"; done
  for w in $order; do bench latency "$w" "$round" pairs -c 100 -q 1 -r "$RATE" -d "$D"; done
done

deno eval --quiet "
import { issues as problems, median, num, read as results } from './bench/_table.ts';
const dir = '$WORK';
const rounds = $ROUNDS;
const read = (name, where) => results(dir, rounds, name, where);
const value = (name, where, pick) => median(read(name, where).map(pick));
const issues = (name, where) => problems(read(name, where));
const row = (label, name, pick, digits = 0, better = 'ratio') => {
  const a = value(name, 'alone', pick), c = value(name, 'cluster', pick);
  const cmp = better === 'ratio'
    ? (Number.isFinite(c / a) ? (100 * c / a).toFixed(0) + ' %' : 'n/a')
    : (Number.isFinite(c - a) ? (c >= a ? '+' : '') + (c - a).toFixed(2) + ' ms' : 'n/a');
  console.log('| ' + label + ' | ' + num(a, digits) + ' | ' + num(c, digits) + ' | ' + cmp + ' | ' +
    issues(name, 'alone') + ' / ' + issues(name, 'cluster') + ' |');
};
console.log('| Row | one node | node A to node B | cluster vs one node | problems (one node / cluster) |');
console.log('|---|---:|---:|---:|---|');
row('pairs 100, QoS 0: msg/s delivered', 'pairs-q0', (r) => r.deliveryRate);
row('pairs 100, QoS 1: msg/s delivered', 'pairs-q1', (r) => r.deliveryRate);
row('latency, 100 pairs QoS 1 at $RATE msg/s: p50, ms', 'latency', (r) => r.latency.p50, 2, 'diff');
row('latency, 100 pairs QoS 1 at $RATE msg/s: p99, ms', 'latency', (r) => r.latency.p99, 2, 'diff');
console.log();
console.log('Rows of ' + $SECONDS_PER_ROW + ' s, ' + rounds + ' round(s) (median), 64 B payloads, window 64 per publisher;');
console.log('two nodes and Redis on one ' + navigator.hardwareConcurrency + '-core machine, not pinned.');
"
