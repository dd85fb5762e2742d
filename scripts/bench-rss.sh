#!/usr/bin/env bash
# Memory of `practica serve` (VmRSS and VmHWM from /proc/<pid>/status) idle after its start,
# every second during ROUNDS closed-loop rounds of POST /attempts (CLIENTS clients, SECONDS_EACH
# s each), 5 s after each round, then during and after BIG_ROUNDS bursts of the largest attempts
# (100 steps of 1,000 bytes, about 100 KB a body); on the embedded SQLite and on a fresh
# PostgreSQL database. Rounds in a row on one process, so that memory which keeps growing shows
# as a rise from round to round. Prints the markdown of docs/benchmarks.md.
#
#   scripts/bench-rss.sh            # CLIENTS=32 SECONDS_EACH=20 ROUNDS=3 BIG_SECONDS=10 BIG_ROUNDS=2
set -euo pipefail
cd "$(dirname "$0")/.."

PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
CLIENTS=${CLIENTS:-32}
SECONDS_EACH=${SECONDS_EACH:-20}
ROUNDS=${ROUNDS:-3}
BIG_SECONDS=${BIG_SECONDS:-10}
BIG_ROUNDS=${BIG_ROUNDS:-2}
PORT=${PORT:-18091}

. scripts/bench-lib.sh
bench_binaries # BIN= and LOADGEN= (both) run those instead of building
URL=http://127.0.0.1:$PORT
OUT=$(mktemp -d)
DB=practica_bench_rss_$$
SERVER=

cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$OUT"
}
trap cleanup EXIT

start_server() { # data dir, extra args...
  local data=$1; shift
  RUST_LOG=warn "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$PORT" "$@" 2>"$OUT/server.log" &
  SERVER=$!
  wait_ready "$URL" "$OUT/server.log"
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }
rss() { python3 scripts/proc-sample.py --rss "$SERVER"; } # "VmRSS VmHWM" in KiB

run() { # label, data dir, extra serve args...
  local label=$1 data=$2; shift 2
  mkdir -p "$data"
  start_server "$data" "$@"
  sleep 2
  echo "$(rss)" >"$OUT/$label.idle"
  local token; token=$("$BIN" token --sub bench-admin --role admin --data-dir "$data")
  for r in $(seq 1 "$ROUNDS"); do
    python3 scripts/proc-sample.py --report "$OUT/$label.$r.sample" --watch "server=$SERVER" -- \
      "$LOADGEN" --url "$URL" --token "$token" --concurrency "$CLIENTS" --seconds "$SECONDS_EACH" >"$OUT/$label.$r.json"
    sleep 5
    echo "$(rss)" >"$OUT/$label.$r.after"
  done
  for r in $(seq 1 "$BIG_ROUNDS"); do
    python3 scripts/proc-sample.py --report "$OUT/$label.big$r.sample" --watch "server=$SERVER" -- \
      "$LOADGEN" --url "$URL" --token "$token" --concurrency "$CLIENTS" --seconds "$BIG_SECONDS" \
      --steps 100 --step-bytes 1000 >"$OUT/$label.big$r.json"
    sleep 5
    echo "$(rss)" >"$OUT/$label.big$r.after"
  done
  stop_server
}

run sqlite "$OUT/sqlite"
psql -q "$PG_ADMIN" -c "CREATE DATABASE $DB"
run postgres "$OUT/pg" --database-url "${PG_ADMIN%/*}/$DB"

python3 - "$OUT" "$ROUNDS" "$CLIENTS" "$SECONDS_EACH" "$BIG_SECONDS" "$BIG_ROUNDS" <<'PY'
import json, statistics, sys
out, rounds, clients, secs, big_secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
big_rounds = int(sys.argv[6])
mib = lambda kib: f"{kib / 1024:.1f}"
def pair(path):
    rss, hwm = open(path).read().split()
    return int(rss), int(hwm)
print(f"RSS of `practica serve` in MiB; load: {clients} clients closed loop, rounds of {secs} s in a row on one process,")
print(f"RSS sampled every second (median / max of the samples), then 5 s idle; the large bodies: {big_rounds} rounds of")
print(f"{big_secs} s of attempts with 100 steps of 1,000 bytes (about 100 KB each), also 5 s apart.\n")
print("| store | phase | attempts/s | RSS median / max during | RSS after (5 s idle) | VmHWM after |")
print("|---|---|---:|---:|---:|---:|")
errors = 0
for label, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
    rss, hwm = pair(f"{out}/{label}.idle")
    print(f"| {name} | idle, 2 s after ready | | | {mib(rss)} | {mib(hwm)} |")
    phases = [(str(r), f"round {r}") for r in range(1, rounds + 1)] + [(f"big{r}", f"large bodies {r}") for r in range(1, big_rounds + 1)]
    for key, phase in phases:
        load = json.load(open(f"{out}/{label}.{key}.json"))
        sample = json.load(open(f"{out}/{label}.{key}.sample"))["watch"]["server"]["rss_kib"]
        errors += load["errors"]
        rss, hwm = pair(f"{out}/{label}.{key}.after")
        print(f"| {name} | {phase} | {load['throughput_per_s']:.0f} | {mib(statistics.median(sample))} / {mib(max(sample))} | {mib(rss)} | {mib(hwm)} |")
print(f"\nErrors: {errors}.")
PY
