#!/usr/bin/env bash
# Latency of the simulation-attempt API (POST /api/v5/artifacts/attempt/*), served by
# `practica serve` with no AI provider, on the embedded SQLite and on PostgreSQL (a scratch
# database, dropped afterwards). examples/sim_turns.rs plays turns of the test bundle's practice
# (start -> 3 x message, answered by the scripted lines -> end with grade=true, the rule grader
# -> get) with 1 and 8 clients; each round also times POST /attempts and GET /healthz with the
# same clients, as a same-session reference. Prints the markdown table of docs/benchmarks.md.
#
#   scripts/bench-sim.sh        (CONCURRENCY="1 8" ROUNDS=3 SECONDS_EACH=3 BASELINE_SECONDS=1.5)
#   BIN_DIR=/path scripts/bench-sim.sh    # no build: that directory's practica and sim_turns
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PORT=${PORT:-18087}
CONCURRENCY=${CONCURRENCY:-1 8}
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-3}
BASELINE_SECONDS=${BASELINE_SECONDS:-1.5}
BUNDLE=${BUNDLE:-crates/practica/tests/data/sim-bundle.yaml}
TARGET=${CARGO_TARGET_DIR:-target}
URL=http://127.0.0.1:$PORT

OUT=$(mktemp -d)
if [ -n "${BIN_DIR:-}" ]; then
  cp "$BIN_DIR/practica" "$BIN_DIR/sim_turns" "$OUT/"
else
  cargo build -q --release -p practica --bin practica --example sim_turns
  # Copies: a build in the shared target directory meanwhile does not swap them mid-run.
  cp "$TARGET/release/practica" "$TARGET/release/examples/sim_turns" "$OUT/"
fi
BIN=$OUT/practica
CLIENT=$OUT/sim_turns
DB=practica_bench_sim_$$
SERVER=

cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$OUT"
}
trap cleanup EXIT

run() { # $1 = label, $2.. = database flags
  local label=$1; shift
  local data; data=$(mktemp -d -p "$OUT")
  RUST_LOG=warn "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$PORT" "$@" 2>"$data/server.log" &
  SERVER=$!
  local up=
  for _ in $(seq 1 100); do curl -sf "$URL/healthz" >/dev/null && up=1 && break; sleep 0.2; done
  [ -n "$up" ] || { echo "server did not start" >&2; cat "$data/server.log" >&2; exit 1; }
  local admin learner
  admin=$("$BIN" token --sub bench-admin --role admin --data-dir "$data")
  learner=$("$BIN" token --sub stu_ana --role student --data-dir "$data")
  curl -sf -o /dev/null -X POST "$URL/admin/import" -H "authorization: Bearer $admin" \
    -H 'content-type: application/yaml' --data-binary "@$BUNDLE"
  for c in $CONCURRENCY; do
    "$CLIENT" --url "$URL" --learner-token "$learner" --admin-token "$admin" --concurrency "$c" \
      --rounds "$ROUNDS" --seconds "$SECONDS_EACH" --baseline-seconds "$BASELINE_SECONDS" \
      | jq -c --arg store "$label" '. + {store: $store}' | tee -a "$OUT/results.jsonl" >&2
  done
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
}

psql -q "$PG_ADMIN" -c "CREATE DATABASE $DB"
run SQLite
run PostgreSQL --database-url "${PG_ADMIN%/*}/$DB"

echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date '+%Y-%m-%d %H:%M'), $ROUNDS rounds of ${SECONDS_EACH} s per row"
echo
echo '| store | clients | start p50 / p99 | message p50 / p99 | end+grade p50 / p99 | get p50 / p99 | turn p50 | turns/s | sim ops/s | POST /attempts p50 / p99 | POST /attempts/s | GET /healthz p50 / p99 |'
echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
jq -r '
  def f: (. * 100 | round / 100 | tostring);
  def pp(k): "\(.ms[k].p50 | f) / \(.ms[k].p99 | f)";
  "| \(.store) | \(.concurrency) | \(pp("start")) | \(pp("message")) | \(pp("end_grade")) | \(pp("get")) | \(.ms.turn.p50 | f) | \(.turns_per_s) | \(.ops_per_s) | \(pp("post_attempts")) | \(.post_attempts_per_s) | \(pp("healthz")) |"
' "$OUT/results.jsonl"
echo
echo "All latencies in ms, percentiles over every round's samples; rates are the median of the rounds."
jq -r '"\(.store), \(.concurrency) client(s): \(.turns) turns, \(.turn_errors) failed; sim ops/s per round \(.ops_per_s_rounds | map(tostring) | join(", ")); POST /attempts errors \(.post_attempts_errors), healthz errors \(.healthz_errors)"' "$OUT/results.jsonl"
