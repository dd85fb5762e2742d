#!/usr/bin/env bash
# Turnaround of ad-hoc problems (POST /attempts/solve-adhoc until the status is CLASSIFIED),
# served by `practica serve` with its in-process workers, on the embedded SQLite and on
# PostgreSQL. A mix of ten problems (examples/adhoc_turnaround.rs), clients polling every 5 ms.
#
#   scripts/bench-adhoc.sh            (ATTEMPTS=400 CONCURRENCY="1 8" by default)
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=${PORT:-18086}
ATTEMPTS=${ATTEMPTS:-400}
CONCURRENCY=${CONCURRENCY:-1 8}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p practica --bin practica --example adhoc_turnaround
BIN=$TARGET/release/practica
CLIENT=$TARGET/release/examples/adhoc_turnaround

run() { # $1 = label, $2.. = database flags
  local label=$1; shift
  local data; data=$(mktemp -d)
  "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$PORT" "$@" 2>"$data/server.log" &
  local server=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  local token; token=$("$BIN" token --sub bench --role admin --data-dir "$data")
  for c in $CONCURRENCY; do
    echo "$label: $("$CLIENT" --url "http://127.0.0.1:$PORT" --token "$token" --concurrency "$c" --attempts "$ATTEMPTS")"
  done
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$data"
}

DB=practica_bench_adhoc_$$
psql -q "$PG_ADMIN" -c "CREATE DATABASE $DB"
trap 'psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB"' EXIT
run SQLite
run PostgreSQL --database-url "${PG_ADMIN%/*}/$DB"
