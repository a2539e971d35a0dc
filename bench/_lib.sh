# Shell helpers of the benchmark scripts (bench/compare.sh, bench/cluster.sh,
# bench/growth.sh),
# sourced, not run: the temporary folder WORK, the pids to kill on exit
# (PIDS), a free loopback port, and waiting until a server listens.

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  deno eval --quiet 'const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log((l.addr as Deno.NetAddr).port); l.close();'
}

wait_port() { # port pid name
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "error: $3 did not start on port $1; its output:" >&2
  cat "$WORK/$3.log" >&2
  exit 1
}

# With two cores or more, brokers run on core 0 (BROKER_CPU) and the load
# generator on core 1 (BENCH_CPU): a broker serves from one event loop, and
# without pinning the generator and the broker's runtime threads compete for
# the same cores, which adds scheduling noise to every latency figure.
# PIN=0 turns it off.
pin_cores() {
  BROKER_CPU=()
  BENCH_CPU=()
  if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    BROKER_CPU=(taskset -c 0)
    BENCH_CPU=(taskset -c 1)
  fi
}

# Installs a Debian package when its command is missing (as root), or says
# how to.
need_package() { # command package
  if command -v "$1" >/dev/null; then return 0; fi
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y "$2" >&2 ||
      { apt-get update >&2 && apt-get install -y "$2" >&2; }
  else
    echo "error: $1 is not installed (apt-get install $2)" >&2
    exit 1
  fi
}

# Starts gmqtt on a loopback port with the benchmarks' limits (no in-flight
# or queue limit to speak of) and more YAML (persistence, cluster), on the
# cores in BROKER_CPU if set; its output goes to $WORK/NAME.log, its pid
# into PIDS and into the variable named by the first argument. More lines
# under `mqtt:` (each indented by two spaces) and the addresses to listen on
# (127.0.0.1 by default, all on the same port) are optional. GMQTT_V8_FLAGS,
# if set, goes to Deno as --v8-flags.
start_gmqtt() { # pid_var name port more_yaml [more_mqtt] [addresses]
  local listeners="" address
  for address in ${6:-127.0.0.1}; do
    listeners+="  - address: \"$address:$3\""$'\n'
  done
  cat >"$WORK/$2.yml" <<EOF
listeners:
${listeners}mqtt:
  max_inflight: 65535
  max_queued_messages: 1000000
  max_output_buffer: 16777216
${5:-}
$4
log:
  level: warn
EOF
  # V8's traces go to stdout: line-buffered, they land as they happen.
  local wrap=()
  if [[ ${GMQTT_V8_FLAGS:-} == *trace* ]]; then wrap=(stdbuf -oL); fi
  ${BROKER_CPU[@]+"${BROKER_CPU[@]}"} ${wrap[@]+"${wrap[@]}"} deno run -A \
    ${GMQTT_V8_FLAGS:+--v8-flags="$GMQTT_V8_FLAGS"} \
    cmd/broker.ts --config "$WORK/$2.yml" >"$WORK/$2.log" 2>&1 &
  printf -v "$1" %s "$!"
  PIDS+=("$!")
}

# Starts Mosquitto (MOSQUITTO, or the one on the PATH) with a generated
# configuration: anonymous, no in-flight or queue limit, no connection
# limit, more lines (persistence), on the given addresses (127.0.0.1 by
# default, all on the same port), on the cores in BROKER_CPU if set; its
# output goes to $WORK/NAME.log, its pid into PIDS and into the variable
# named by the first argument.
start_mosquitto() { # pid_var name port more_lines [addresses]
  local listeners="" address
  for address in ${5:-127.0.0.1}; do
    listeners+="listener $3 $address"$'\n'
  done
  cat >"$WORK/$2.conf" <<EOF
${listeners}allow_anonymous true
$4
max_inflight_messages 0
max_queued_messages 0
max_connections -1
set_tcp_nodelay true
log_dest stderr
log_type error
EOF
  ${BROKER_CPU[@]+"${BROKER_CPU[@]}"} "${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}" \
    -c "$WORK/$2.conf" >"$WORK/$2.log" 2>&1 &
  printf -v "$1" %s "$!"
  PIDS+=("$!")
}
