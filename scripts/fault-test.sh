#!/usr/bin/env bash
# Dependency-fault test (docs/reliability.md, "Dependency faults"): practica under a steady
# POST /attempts load while one of its dependencies fails, on PRIVATE instances started here (a
# PostgreSQL cluster from initdb and a nats-server with JetStream, on their own ports and temp
# dirs), so the shared services are never touched.
#
#   scripts/fault-test.sh [--scenario postgres|nats|ai|all|LIST] [--outage SECONDS] [--rate R]
#                         [--students N] [--hang-ms MS]
#
# LIST is comma-separated (postgres,nats: what CI runs, `cargo test` runs the ai test already).
# - postgres: PostgreSQL stopped with `pg_ctl stop -m immediate` for the outage, then started
#   again. Every failed request must be a 503 with the JSON error body and Retry-After, none may
#   hang past --hang-ms, the first 201 after PostgreSQL is back is timed, and everything
#   acknowledged must be stored once with its event on the stream once (crash_verify).
# - nats: nats-server stopped (SIGTERM) for the outage, then started again on the same store
#   dir. Every request must still be a 201; /readyz is sampled every second (it must say
#   "degraded", the sink disconnected and the outbox growing); the drain after the restart is
#   timed; every acknowledged attempt's attempt.created must be on the stream exactly once.
# - ai: the AI provider hanging and answering garbage, as the integration test
#   crates/practica/tests/ai_faults.rs (run with --nocapture for its figures).
#
# Defaults: --scenario all, --outage 10 for postgres and 60 for nats (one --outage sets both),
# --rate 200, --students 100, --hang-ms 12000 (twice the pool's 5 s acquire timeout, plus 2 s).
# The load runs 5 s before the outage and 15 s after it. PROFILE=debug (default: CI has built
# it already) or PROFILE=release. PG_PORT (55432), NATS_PORT (54222), PORT (18096) choose the
# ports; KEEP=1 keeps the work dir (logs, acks, tries). Exits non-zero if any claim fails.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIO=all
PG_OUTAGE=10
NATS_OUTAGE=60
RATE=200
STUDENTS=100
HANG_MS=12000
while [ $# -gt 0 ]; do
  case "$1" in
    --scenario) SCENARIO=$2; shift 2 ;;
    --outage) PG_OUTAGE=$2; NATS_OUTAGE=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --students) STUDENTS=$2; shift 2 ;;
    --hang-ms) HANG_MS=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$SCENARIO" = all ] && SCENARIO=postgres,nats,ai
SCENARIOS=${SCENARIO//,/ }
for s in $SCENARIOS; do
  case "$s" in
    postgres|nats|ai) ;;
    *) echo "--scenario postgres|nats|ai|all, or a comma-separated list" >&2; exit 2 ;;
  esac
done
PROFILE=${PROFILE:-debug}
case "$PROFILE" in
  debug) CARGO_PROFILE=dev ;;
  release) CARGO_PROFILE=release ;;
  *) echo "PROFILE=debug|release" >&2; exit 2 ;;
esac

PG_PORT=${PG_PORT:-55432}
NATS_PORT=${NATS_PORT:-54222}
PORT=${PORT:-18096}
URL=http://127.0.0.1:$PORT
NATS_URL=nats://127.0.0.1:$NATS_PORT
TARGET=${CARGO_TARGET_DIR:-target}
KEEP=${KEEP:-0}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$PGBIN" ] || PGBIN=$(dirname "$(command -v initdb)")
NATS_SERVER=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}

now_ms() { date +%s%3N; }

WORK=$(mktemp -d)
chmod 755 "$WORK"
SERVER=
DRIVER=
NATS_PID=
PG_STARTED=0
# PostgreSQL refuses to run as root: as root, its commands run as the postgres user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  # Every step, whatever the one before returned (a stopped server's status is not a failure).
  set +e
  [ -n "$DRIVER" ] && kill "$DRIVER" 2>/dev/null
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  [ -n "$NATS_PID" ] && kill "$NATS_PID" 2>/dev/null && wait "$NATS_PID" 2>/dev/null
  [ "$PG_STARTED" = 1 ] && as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1
  if [ "$KEEP" = 1 ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

FAILED=0
SUMMARIES=()

if [[ " $SCENARIOS " == *" postgres "* || " $SCENARIOS " == *" nats "* ]]; then
  cargo build -q --profile "$CARGO_PROFILE" -p practica --bin practica --example crash_load --example crash_verify
  BUILT_AT=$SECONDS
  # Private links: a build finishing elsewhere in a shared target dir must not swap them.
  mkdir "$WORK/bin"
  for f in practica examples/crash_load examples/crash_verify; do
    ln "$TARGET/$PROFILE/$f" "$WORK/bin/" 2>/dev/null || cp "$TARGET/$PROFILE/$f" "$WORK/bin/"
  done

  # The private PostgreSQL: fsync off (a process stop keeps the page cache, so nothing
  # committed is lost to it) but synchronous_commit on, so a 201 means the commit is in the WAL
  # PostgreSQL replays at its restart.
  mkdir "$WORK/pg" "$WORK/pgrun"
  [ "$(id -u)" = 0 ] && chown postgres "$WORK/pg" "$WORK/pgrun"
  as_pg "$PGBIN/initdb" -D "$WORK/pg" -A trust -U postgres --no-sync >"$WORK/initdb.log" 2>&1
  pg_start() {
    as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pgrun/pg.log" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $WORK/pgrun -c fsync=off -c full_page_writes=off" \
      start >/dev/null
  }
  pg_start
  PG_STARTED=1
  PG_ADMIN=postgres://postgres@127.0.0.1:$PG_PORT/postgres

  mkdir "$WORK/nats-store"
  nats_start() {
    "$NATS_SERVER" -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$WORK/nats-store" >>"$WORK/nats.log" 2>&1 &
    NATS_PID=$!
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && return 0; sleep 0.1; done
    echo "nats-server did not start" >&2
    return 1
  }
  nats_start
fi

# start_server <data dir> <db url>: practica serve in the background (SERVER).
start_server() {
  "$WORK/bin/practica" serve --data-dir "$1" --addr "127.0.0.1:$PORT" --database-url "$2" --nats-url "$NATS_URL" \
    >>"$1/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null "$URL/readyz" && return 0
    kill -0 "$SERVER" 2>/dev/null || { echo "server exited" >&2; tail -n 20 "$1/server.log" >&2; return 1; }
    sleep 0.1
  done
  echo "server not ready after 60 s" >&2
  return 1
}

# readyz_line: "<http status> <status> <eventsConnected> <unpublished> <oldestSeconds>".
readyz_line() {
  local body code
  body=$(curl -s -m 10 -w '\n%{http_code}' "$URL/readyz" || true)
  code=$(tail -n1 <<<"$body")
  body=$(sed '$d' <<<"$body")
  jq -r --arg code "$code" \
    'def or_dash: if . == null then "-" else . end;
     "\($code) \(.status // .code) \(.eventsConnected | or_dash) \(.outbox.unpublished | or_dash) \(.outbox.oldestSeconds | or_dash)"' \
    <<<"$body" 2>/dev/null || echo "$code unreadable - - -"
}

sleep_until_ms() {
  local wait=$(( $1 - $(now_ms) ))
  [ "$wait" -gt 0 ] && sleep "$(printf '%d.%03d' $((wait / 1000)) $((wait % 1000)))"
  return 0
}

# run_load <scenario> <outage seconds> <fault function> : the load, the fault, the verdict.
run_scenario() {
  local scenario=$1 outage=$2
  local tag=$$_$RANDOM
  local data=$WORK/$scenario
  mkdir "$data"
  local db=practica_fault_$tag
  psql -q "$PG_ADMIN" -c "CREATE DATABASE $db"
  local db_url=postgres://postgres@127.0.0.1:$PG_PORT/$db
  local stream=FAULT_${tag}_${scenario^^}
  local prefix=fault.$tag.$scenario
  export PRACTICA_NATS_STREAM=$stream PRACTICA_NATS_SUBJECT_PREFIX=$prefix
  export PRACTICA_MASTERY_REFIT_HOURS=0 RUST_LOG=${RUST_LOG:-warn}
  local seconds=$(( 5 + outage + 15 ))

  echo "== $scenario: ${outage} s outage in a ${seconds} s load at $RATE/s, $STUDENTS students (work dir $WORK)"
  start_server "$data" "$db_url"
  local token; token=$("$WORK/bin/practica" token --sub fault-admin --role admin --data-dir "$data" --database-url "$db_url")
  "$WORK/bin/crash_load" --url "$URL" --token "$token" --out "$data/acks.jsonl" --tries "$data/tries.jsonl" \
    --rate "$RATE" --students "$STUDENTS" --seconds "$seconds" --abandon 0 --timeout 30 --settle 30 \
    --run "f$tag" --seed "$RANDOM" >"$data/load.json" &
  DRIVER=$!
  local started; started=$(now_ms)
  sleep_until_ms $(( started + 5000 ))

  local extras=() from to
  local samples=() degraded_seen=0 max_unpub=0 bad_samples=0
  from=$(now_ms)
  if [ "$scenario" = postgres ]; then
    as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null
  else
    kill -TERM "$NATS_PID"
    wait "$NATS_PID" 2>/dev/null || true
    NATS_PID=
  fi
  local stopped; stopped=$(now_ms)
  # One /readyz sample a second during the outage, each in the background: with the database
  # down an answer takes the pool's acquire timeout, and the outage must not stretch with it.
  local s=0 samplers=()
  while [ $(( $(now_ms) - from )) -lt $(( outage * 1000 )) ]; do
    ( line=$(readyz_line); printf '%03d %s %s\n' "$s" "$(now_ms)" "$line" >>"$data/readyz.txt" ) &
    samplers+=($!)
    s=$((s + 1))
    sleep_until_ms $(( from + s * 1000 ))
  done
  sleep_until_ms $(( from + outage * 1000 ))
  local restart_at; restart_at=$(now_ms)
  if [ "$scenario" = postgres ]; then pg_start; else nats_start; fi
  to=$(now_ms)
  wait "${samplers[@]}" 2>/dev/null || true
  while read -r s answered code status connected unpub oldest; do
    samples+=("+$((10#$s))s $code $status $connected $unpub $oldest (answered at +$(( (answered - from) / 1000 ))s)")
    # Judged only if answered while the dependency was still down: with the database down, a
    # sample waits out the acquire timeout, and one sent late answers after the restart.
    [ "$answered" -lt "$to" ] || continue
    if [ "$scenario" = nats ]; then
      # The client notices the disconnect within a moment; from the second sample on, /readyz
      # must be 200 degraded with the sink disconnected.
      if [ "$s" != 000 ] && { [ "$code" != 200 ] || [ "$status" != degraded ] || [ "$connected" != false ]; }; then
        bad_samples=$((bad_samples + 1))
      fi
      [ "$code" = 200 ] && [ "$status" = degraded ] && [ "$connected" = false ] && degraded_seen=$((degraded_seen + 1))
      [[ "$unpub" =~ ^[0-9]+$ ]] && [ "$unpub" -gt "$max_unpub" ] && max_unpub=$unpub
    elif [ "$s" != 000 ] && [ "$code" != 503 ]; then
      bad_samples=$((bad_samples + 1))
    fi
  done < <(sort "$data/readyz.txt")

  local drain_ms=none readyz_back=none
  if [ "$scenario" = nats ]; then
    # Drained: the oldest unpublished event is younger than 1 s (what is left is the live load's).
    for _ in $(seq 1 600); do
      local line; line=$(readyz_line)
      read -r code status connected unpub oldest <<<"$line"
      if [ "$readyz_back" = none ] && [ "$status" = ready ]; then readyz_back=$(( $(now_ms) - to )); fi
      if [[ "$oldest" =~ ^[0-9.]+$ ]] && awk "BEGIN{exit !($oldest < 1)}" && [ "$connected" = true ]; then
        drain_ms=$(( $(now_ms) - to ))
        break
      fi
      sleep 0.2
    done
  else
    for _ in $(seq 1 600); do
      if [ "$(readyz_line | cut -d' ' -f1)" = 200 ]; then readyz_back=$(( $(now_ms) - to )); break; fi
      sleep 0.1
    done
  fi
  wait "$DRIVER"
  DRIVER=
  echo "   load: $(cat "$data/load.json")"
  echo "   /readyz during the outage (http status, status, events connected, outbox unpublished, oldest s):"
  printf '     %s\n' "${samples[@]}"

  extras+=(--extra "stop took (ms)=$(( stopped - from ))" --extra "restart took (ms)=$(( to - restart_at ))")
  extras+=(--extra "/readyz samples during the outage=${#samples[@]}")
  if [ "$scenario" = nats ]; then
    extras+=(--extra "  of which 200 degraded, sink disconnected=$degraded_seen")
    extras+=(--extra "  largest outbox backlog seen (events)=$max_unpub")
    extras+=(--extra "NATS back -> /readyz ready (ms)=$readyz_back")
    extras+=(--extra "NATS back -> outbox drained (ms)=$drain_ms")
  else
    extras+=(--extra "PostgreSQL back -> /readyz 200 (ms)=$readyz_back")
  fi
  local status=0
  "$WORK/bin/crash_verify" --database-url "$db_url" --acks "$data/acks.jsonl" --nats-url "$NATS_URL" \
    --stream "$stream" --subject-prefix "$prefix" --label "$scenario outage" --drain-secs 120 --delete-stream \
    --tries "$data/tries.jsonl" --outage "$from:$to" --outage-kind "$( [ "$scenario" = postgres ] && echo database || echo events )" \
    --hang-ms "$HANG_MS" "${extras[@]}" >"$data/verify.txt" || status=$?
  cat "$data/verify.txt"
  # The script's own claims on /readyz.
  local own=0
  if [ "$bad_samples" -gt 0 ]; then
    echo "!! $scenario: $bad_samples /readyz samples during the outage were not as claimed" >&2
    own=1
  fi
  if [ "$scenario" = nats ]; then
    if [ "$max_unpub" -eq 0 ] || [ "$drain_ms" = none ]; then
      echo "!! nats: the outbox did not grow ($max_unpub) or did not drain ($drain_ms)" >&2
      own=1
    fi
  elif [ "$readyz_back" = none ]; then
    echo "!! postgres: /readyz never answered 200 after PostgreSQL came back" >&2
    own=1
  fi
  local verdict=PASS
  if [ "$status" -ne 0 ] || [ "$own" -ne 0 ]; then
    verdict=FAIL
    FAILED=1
    echo "!! $scenario failed (verifier exit $status); the server's log ends:" >&2
    tail -n 20 "$data/server.log" >&2
  fi
  SUMMARIES+=("$scenario: $verdict ($(grep '^summary ' "$data/verify.txt" | cut -d' ' -f3- || true))")
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=
}

BUILT_AT=${BUILT_AT:-$SECONDS}
for scenario in $SCENARIOS; do
  SCENARIO_AT=$SECONDS
  case "$scenario" in
    postgres) run_scenario postgres "$PG_OUTAGE" ;;
    nats) run_scenario nats "$NATS_OUTAGE" ;;
    ai)
      echo "== ai: the provider hanging and answering garbage (tests/ai_faults.rs)"
      if cargo test -q --profile "$CARGO_PROFILE" -p practica --test ai_faults -- --nocapture --test-threads 1; then
        SUMMARIES+=("ai: PASS")
      else
        SUMMARIES+=("ai: FAIL")
        FAILED=1
      fi
      ;;
  esac
  echo "   ($scenario took $(( SECONDS - SCENARIO_AT )) s)"
done
echo "== results ($(( SECONDS - BUILT_AT )) s after the build)"
printf '%s\n' "${SUMMARIES[@]}"
exit "$FAILED"
