#!/usr/bin/env bash
# Crash test (docs/reliability.md): POST /attempts at a steady rate while the server is killed
# with SIGKILL at random moments and restarted on the same port and data; then every attempt
# acknowledged with a 201 must be stored exactly once, its attempt.created event on the JetStream
# stream exactly once, and mastery must equal a replay of the stored attempts. On SQLite and on
# PostgreSQL, events to NATS JetStream on both. Exits non-zero on any loss, duplicate or mismatch.
#
#   scripts/crash-test.sh [--backend sqlite|postgres|both] [--kills N] [--seconds S] [--rate R]
#                         [--students N] [--abandon F] [--no-probe] [--profile release|dev]
#
# Defaults: --backend both --kills 3 --seconds 20 --rate 200 --students 100 --abandon 0.2
# --profile release. CI runs it with --profile dev: `cargo test` has built those binaries already,
# so the crash test adds no build of its own (the claims do not depend on optimisation).
# After each kill, before the restart, a probe counts the outbox's unpublished events that are
# on the stream already (the relay died between publishing and marking them: the restarted one
# publishes them again and JetStream must drop the copies) — it shows the kills hit that window;
# it lengthens each outage by about 0.1 s (--no-probe: no probe).
# PG_ADMIN (postgres://postgres@127.0.0.1:5432/postgres) and NATS_URL (nats://127.0.0.1:4222)
# name the services; each run gets its own database, data dir, stream and subject prefix, and
# drops them afterwards (KEEP=1 keeps them: data dir with the logs and acks, database, stream).
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND=both
KILLS=3
DURATION=20
RATE=200
STUDENTS=100
ABANDON=0.2
PROBE=1
PROFILE=release
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) BACKEND=$2; shift 2 ;;
    --kills) KILLS=$2; shift 2 ;;
    --seconds) DURATION=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --students) STUDENTS=$2; shift 2 ;;
    --abandon) ABANDON=$2; shift 2 ;;
    --no-probe) PROBE=0; shift ;;
    --profile) PROFILE=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$BACKEND" in
  sqlite) BACKENDS=sqlite ;;
  postgres) BACKENDS=postgres ;;
  both) BACKENDS="sqlite postgres" ;;
  *) echo "--backend sqlite|postgres|both" >&2; exit 2 ;;
esac
case "$PROFILE" in
  release) PROFILE_DIR=release ;;
  dev) PROFILE_DIR=debug ;;
  *) echo "--profile release|dev" >&2; exit 2 ;;
esac
[ "$DURATION" -ge 5 ] || { echo "--seconds must be at least 5" >&2; exit 2; }

PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
PORT=${PORT:-18095}
URL=http://127.0.0.1:$PORT
TARGET=${CARGO_TARGET_DIR:-target}
KEEP=${KEEP:-0}

cargo build -q --profile "$PROFILE" -p practica --bin practica --example crash_load --example crash_verify
# Private links to the binaries: a build finishing elsewhere in the target dir during the run
# must not change the server restarted after a kill.
BINDIR=$(mktemp -d "$TARGET/crash-test-bin.XXXXXX")
for f in practica examples/crash_load examples/crash_verify; do
  f=$PROFILE_DIR/$f
  ln "$TARGET/$f" "$BINDIR/" 2>/dev/null || cp "$TARGET/$f" "$BINDIR/"
done
BIN=$BINDIR/practica
LOAD=$BINDIR/crash_load
VERIFY=$BINDIR/crash_verify

SERVER=
DRIVER=
DATABASES=()
cleanup() {
  [ -n "$DRIVER" ] && kill "$DRIVER" 2>/dev/null
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$BINDIR"
  [ "$KEEP" = 1 ] && return
  for db in "${DATABASES[@]}"; do
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# start_server <data dir> <server flags...>: starts it in the background (SERVER), appending to
# the data dir's server.log. The stream, subject prefix and settings come from the environment.
start_server() {
  local data=$1; shift
  "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$PORT" --nats-url "$NATS_URL" "$@" >>"$data/server.log" 2>&1 &
  SERVER=$!
}

# wait_ready: until /readyz answers 200 (database and NATS up), at most 60 s.
wait_ready() {
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null "$URL/readyz" && return 0
    kill -0 "$SERVER" 2>/dev/null || { echo "server exited" >&2; return 1; }
    sleep 0.1
  done
  echo "server not ready after 60 s" >&2
  return 1
}

FAILED=0
SUMMARIES=()

run_backend() {
  local backend=$1
  local tag=$$_$RANDOM
  local data; data=$(mktemp -d)
  local flags=()
  if [ "$backend" = postgres ]; then
    local db=practica_crash_$tag
    psql -q "$PG_ADMIN" -c "CREATE DATABASE $db"
    DATABASES+=("$db")
    flags=(--database-url "${PG_ADMIN%/*}/$db")
    DB_URL="${PG_ADMIN%/*}/$db"
  else
    DB_URL="$data/practica.db"
  fi
  local stream=CRASH_${tag}_${backend^^}
  local prefix=crash.$tag.$backend
  export PRACTICA_NATS_STREAM=$stream PRACTICA_NATS_SUBJECT_PREFIX=$prefix
  # No refit during the run: it would change the topics' parameters under the replay.
  export PRACTICA_MASTERY_REFIT_HOURS=0 RUST_LOG=${RUST_LOG:-warn}

  echo "== $backend: $DURATION s at $RATE/s, $STUDENTS students, $KILLS kills (stream $stream, data $data)"
  start_server "$data" "${flags[@]}"
  wait_ready
  local token; token=$("$BIN" token --sub crash-admin --role admin --data-dir "$data" "${flags[@]}")

  "$LOAD" --url "$URL" --token "$token" --out "$data/acks.jsonl" --rate "$RATE" --students "$STUDENTS" \
    --seconds "$DURATION" --abandon "$ABANDON" --run "c$tag" --seed "$RANDOM" >"$data/load.json" &
  DRIVER=$!
  local started; started=$(now_ms)

  # One kill in each of KILLS equal slots of [1 s, DURATION - 2 s], at a random point of it; a
  # kill due while the server is still starting waits until it is ready.
  local span=$(( (DURATION - 3) * 1000 ))
  local recover=() restart=() i probes=() probe_unpub=0 probe_dup=0
  for i in $(seq 0 $((KILLS - 1))); do
    local slot=$(( span / KILLS ))
    local at=$(( 1000 + i * slot + (RANDOM * 32768 + RANDOM) % slot ))
    local wait_ms=$(( started + at - $(now_ms) ))
    [ "$wait_ms" -gt 0 ] && sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
    kill -9 "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    local killed; killed=$(now_ms)
    echo "-- kill $((i + 1)) at $(( killed - started )) ms" >>"$data/server.log"
    if [ "$PROBE" = 1 ]; then
      local p; p=$("$VERIFY" --probe --database-url "$DB_URL" --nats-url "$NATS_URL" --stream "$stream" \
        --subject-prefix "$prefix")
      probe_unpub=$(( probe_unpub + $(echo "$p" | sed -n 's/.*unpublished=\([0-9]*\).*/\1/p') ))
      probe_dup=$(( probe_dup + $(echo "$p" | sed -n 's/.*on_stream=\([0-9]*\).*/\1/p') ))
    fi
    local restarted; restarted=$(now_ms)
    start_server "$data" "${flags[@]}"
    wait_ready
    recover+=($(( $(now_ms) - killed )))
    restart+=($(( $(now_ms) - restarted )))
  done
  wait "$DRIVER"
  DRIVER=
  echo "   load: $(cat "$data/load.json")"

  local recovered; recovered=$(IFS=,; echo "${recover[*]:-}")
  local restarts; restarts=$(IFS=,; echo "${restart[*]:-}")
  local outages; outages=$(sed -n 's/.*"outages_ms":\[\([^]]*\)\].*/\1/p' "$data/load.json")
  [ "$PROBE" = 1 ] && probes=(--extra "unpublished events at the kills=$probe_unpub" \
    --extra "  of which on the stream already=$probe_dup")
  local keep=(--delete-stream)
  [ "$KEEP" = 1 ] && keep=()
  local status=0
  "$VERIFY" --database-url "$DB_URL" --acks "$data/acks.jsonl" --nats-url "$NATS_URL" --stream "$stream" \
    --subject-prefix "$prefix" --label "$backend" --drain-secs 60 "${keep[@]}" \
    --extra "kills (SIGKILL)=$KILLS" --extra "kill to ready (ms)=${recovered:-none}" \
    --extra "  of which restart to ready (ms)=${restarts:-none}" \
    --extra "client outages (ms)=${outages:-none}" "${probes[@]}" >"$data/verify.txt" || status=$?
  cat "$data/verify.txt"
  SUMMARIES+=("$(grep '^summary ' "$data/verify.txt" || echo "summary $backend result=ERROR")")

  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=
  if [ "$status" -ne 0 ]; then
    FAILED=1
    echo "!! $backend failed (verifier exit $status); the server's log ends:" >&2
    tail -n 20 "$data/server.log" >&2
  fi
  if [ "$KEEP" = 1 ]; then
    echo "   kept: $data (acks.jsonl, load.json, server.log), stream $stream, database $DB_URL"
  else
    rm -rf "$data"
  fi
}

for b in $BACKENDS; do
  run_backend "$b"
done
echo "== results"
printf '%s\n' "${SUMMARIES[@]}"
exit "$FAILED"
