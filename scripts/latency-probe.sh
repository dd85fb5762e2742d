#!/usr/bin/env bash
# Latency of POST /attempts at a fixed rate on a fresh PostgreSQL database (open loop: each
# request's latency counts from when it was due). Complements scripts/bench-attempts.sh, whose
# half-rate phase runs on a database the load rounds have filled.
#
#   scripts/latency-probe.sh RATE [SECONDS]      e.g. scripts/latency-probe.sh 1400 10
#
# BIN=path/to/practica probes that binary instead of building (to compare two builds, A B A B).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:?rate per second}
SECS=${2:-10}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=${PORT:-18082}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p practica --example loadgen
[ -n "${BIN:-}" ] || { cargo build -q --release -p practica --bin practica; BIN="$TARGET/release/practica"; }
DB=practica_probe_$$
DATA=$(mktemp -d)
psql -q "$PG_ADMIN" -c "CREATE DATABASE $DB"
"$BIN" serve --data-dir "$DATA" --database-url "${PG_ADMIN%/*}/$DB" --addr "127.0.0.1:$PORT" 2>"$DATA/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
TOKEN=$("$BIN" token --sub probe --role admin --data-dir "$DATA")
"$TARGET/release/examples/loadgen" --url "http://127.0.0.1:$PORT" --token "$TOKEN" --concurrency 32 --seconds 3 >/dev/null
"$TARGET/release/examples/loadgen" --url "http://127.0.0.1:$PORT" --token "$TOKEN" --concurrency 64 --seconds "$SECS" --rate "$RATE"
