#!/usr/bin/env bash
# Throughput of the asynchronous classifier without an LLM (the engine's deep search and the
# final write: attempt, event, job done), on PostgreSQL and on the embedded SQLite.
#
# The service runs with no workers of its own while a load of unexplained answers builds a
# queue of PENDING attempts; then one `practica worker` process drains it (on SQLite, where one
# process holds the file, the serve restarted with CONCURRENCY workers), timed from its start
# until GET /admin/jobs shows nothing queued or running.
#
#   scripts/bench-classify.sh            (SECONDS_LOAD=5 CONCURRENCY=8 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=${PORT:-18085}
SECONDS_LOAD=${SECONDS_LOAD:-5}
CONCURRENCY=${CONCURRENCY:-8}
. scripts/bench-lib.sh
bench_binaries # BIN= and LOADGEN= (both) run those instead of building

live_jobs() { # queued + running, from the admin endpoint
  curl -sf -H "Authorization: Bearer $1" "http://127.0.0.1:$PORT/admin/jobs" |
    python3 -c 'import json,sys; print(sum(d["jobs"] for d in json.load(sys.stdin) if d["status"] in ("queued","running")))'
}

run() { # $1 = label, $2.. = database flags
  local label=$1; shift
  local data; data=$(mktemp -d)
  PRACTICA_WORKERS=0 "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$PORT" "$@" 2>"$data/server.log" &
  local server=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  local token; token=$("$BIN" token --sub bench --role admin --data-dir "$data")
  "$LOADGEN" --url "http://127.0.0.1:$PORT" --token "$token" --concurrency 32 --seconds "$SECONDS_LOAD" --unexplained 1 >/dev/null
  local queued; queued=$(live_jobs "$token")
  local start; start=$(date +%s.%N)
  local worker
  if [ "$#" -gt 0 ]; then
    PRACTICA_LOG_FORMAT=text "$BIN" worker --data-dir "$data" --concurrency "$CONCURRENCY" "$@" 2>"$data/worker.log" &
    worker=$!
  else
    # One process per SQLite file (serve holds its lock, so no worker beside it): the same
    # serve restarted with CONCURRENCY workers of its own.
    kill "$server"; wait "$server" 2>/dev/null || true
    PRACTICA_WORKERS=$CONCURRENCY "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$PORT" 2>"$data/server.log" &
    server=$!
    worker=
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.05; done
  fi
  while [ "$(live_jobs "$token")" != "0" ]; do sleep 0.1; done
  local end; end=$(date +%s.%N)
  kill $worker "$server"; wait $worker "$server" 2>/dev/null || true
  python3 -c "q=$queued; s=$end-$start; print(f'{\"$label\"}: {q} classification jobs in {s:.1f} s = {q/s:.0f} jobs/s (worker concurrency $CONCURRENCY)')"
  rm -rf "$data"
}

DB=practica_bench_classify_$$
psql -q "$PG_ADMIN" -c "CREATE DATABASE $DB"
trap 'psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB"' EXIT
run PostgreSQL --database-url "${PG_ADMIN%/*}/$DB"
run SQLite
