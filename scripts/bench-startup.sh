#!/usr/bin/env bash
# Time from process start to ready: from the exec of `practica serve` to its first 200 on
# GET /readyz (scripts/time-to-ready.py polls every 5 ms), on the embedded SQLite and on
# PostgreSQL, each on a fresh store (migrations and the catalog's first load included) and on an
# existing one (already migrated, holding what a 5 s load left in it). RUNS rounds, the four
# cases interleaved in each; prints the markdown of docs/benchmarks.md.
#
#   scripts/bench-startup.sh            # RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."

PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
RUNS=${RUNS:-5}
PORT=${PORT:-18090}

. scripts/bench-lib.sh
bench_binaries # BIN= and LOADGEN= (both) run those instead of building
URL=http://127.0.0.1:$PORT
OUT=$(mktemp -d)
PREFIX=practica_bench_startup_$$
SERVER=

cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  for db in $(psql -At "$PG_ADMIN" -c "SELECT datname FROM pg_database WHERE datname LIKE '${PREFIX}%'" 2>/dev/null); do
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$OUT"
}
trap cleanup EXIT

fail() { echo "$*" >&2; exit 1; }
measure() { # case, data dir, extra serve args...
  local name=$1 data=$2; shift 2
  local ms
  ms=$(python3 scripts/time-to-ready.py --log "$OUT/$name.log" "$URL/readyz" -- \
    env RUST_LOG=warn "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$PORT" "$@") ||
    { cat "$OUT/$name.log" >&2; fail "$name: the server did not become ready"; }
  echo "$name $ms" >>"$OUT/times"
}
fill() { # data dir, extra serve args...: start, 5 s of load, stop
  local data=$1; shift
  RUST_LOG=warn "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$PORT" "$@" 2>"$OUT/fill.log" &
  SERVER=$!
  wait_ready "$URL" "$OUT/fill.log"
  local token; token=$("$BIN" token --sub bench-admin --role admin --data-dir "$data")
  "$LOADGEN" --url "$URL" --token "$token" --concurrency 32 --seconds 5 >"$OUT/fill.json"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
}

# The existing stores: migrated, with the attempts of a 5 s load.
SQLITE_OLD=$OUT/sqlite-existing
mkdir -p "$SQLITE_OLD"
fill "$SQLITE_OLD"
SQLITE_ROWS=$(python3 -c "import json; print(json.load(open('$OUT/fill.json'))['requests'])")
PG_OLD_DB=${PREFIX}_existing
psql -q "$PG_ADMIN" -c "CREATE DATABASE $PG_OLD_DB"
PG_OLD=$OUT/pg-existing
mkdir -p "$PG_OLD"
fill "$PG_OLD" --database-url "${PG_ADMIN%/*}/$PG_OLD_DB"
PG_ROWS=$(python3 -c "import json; print(json.load(open('$OUT/fill.json'))['requests'])")

: >"$OUT/times"
for r in $(seq 1 "$RUNS"); do
  fresh=$OUT/sqlite-fresh-$r
  mkdir -p "$fresh"
  measure sqlite-fresh "$fresh"
  measure sqlite-existing "$SQLITE_OLD"
  db=${PREFIX}_fresh_$r
  psql -q "$PG_ADMIN" -c "CREATE DATABASE $db"
  mkdir -p "$OUT/pg-fresh-$r"
  measure pg-fresh "$OUT/pg-fresh-$r" --database-url "${PG_ADMIN%/*}/$db"
  psql -q "$PG_ADMIN" -c "DROP DATABASE $db"
  measure pg-existing "$PG_OLD" --database-url "${PG_ADMIN%/*}/$PG_OLD_DB"
done

python3 - "$OUT/times" "$RUNS" "$SQLITE_ROWS" "$PG_ROWS" <<'PY'
import collections, statistics, sys
times = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, ms = line.split()
    times[name].append(float(ms))
runs, sqlite_rows, pg_rows = sys.argv[2], sys.argv[3], sys.argv[4]
rows = [
    ("sqlite-fresh", "SQLite, fresh data dir (file created, migrations, catalog)"),
    ("sqlite-existing", f"SQLite, existing data dir ({int(sqlite_rows):,} attempts)"),
    ("pg-fresh", "PostgreSQL, fresh database (migrations, catalog)"),
    ("pg-existing", f"PostgreSQL, migrated database ({int(pg_rows):,} attempts)"),
]
print(f"Exec of `practica serve` to the first 200 of GET /readyz, {runs} runs of each, interleaved (ms):\n")
print("| store | runs | median | min | max |")
print("|---|---|---:|---:|---:|")
for key, label in rows:
    t = times[key]
    print(f"| {label} | {', '.join(f'{x:.0f}' for x in t)} | {statistics.median(t):.0f} | {min(t):.0f} | {max(t):.0f} |")
PY
