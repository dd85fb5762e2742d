#!/usr/bin/env bash
# Sustained POST /attempts: on PostgreSQL beside pgbench running the same three statements in one
# transaction on the same database, rounds interleaved in one run; then the p99 at half the
# service's rate; then on embedded SQLite. Prints the markdown of docs/benchmarks.md.
#
#   scripts/bench-attempts.sh            # CLIENTS=32 SECONDS_EACH=20 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."

PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
CLIENTS=${CLIENTS:-32}
SECONDS_EACH=${SECONDS_EACH:-20}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18080}

. scripts/bench-lib.sh
bench_binaries # BIN= and LOADGEN= (both) run those instead of building
URL=http://127.0.0.1:$PORT
OUT=$(mktemp -d)
DB=practica_bench_$$
DB_URL="${PG_ADMIN%/*}/$DB"
SERVER=

cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

start_server() { # data dir, extra args...
  local data=$1; shift
  RUST_LOG=warn "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$PORT" "$@" 2>"$OUT/server.log" &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$URL/healthz" >/dev/null && return; sleep 0.2; done
  echo "server did not start" >&2; cat "$OUT/server.log" >&2; exit 1
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }

psql -q "$PG_ADMIN" -c "CREATE DATABASE $DB"
PGDATA_DIR=$(mktemp -d)
start_server "$PGDATA_DIR" --database-url "$DB_URL"
TOKEN=$("$BIN" token --sub bench-admin --role admin --data-dir "$PGDATA_DIR")
# Warm up (connections, caches, first mastery rows).
"$LOADGEN" --url "$URL" --token "$TOKEN" --concurrency "$CLIENTS" --seconds 3 >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  "$LOADGEN" --url "$URL" --token "$TOKEN" --concurrency "$CLIENTS" --seconds "$SECONDS_EACH" >"$OUT/svc.$r.json"
  pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -f scripts/pgbench-attempt.sql "$DB_URL" >"$OUT/pgbench.$r.txt" 2>&1
done
HALF=$(python3 -c "
import json,statistics,sys
print(int(statistics.median(json.load(open(f'$OUT/svc.{r}.json'))['throughput_per_s'] for r in range(1,$ROUNDS+1))/2))")
# The latency is measured in steady state: the rounds above leave dead rows and dirty pages
# behind (pgbench's as much as the service's), and a checkpoint or autovacuum landing in the
# window would measure PostgreSQL's housekeeping, not the service.
psql -q "$DB_URL" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
sleep 5
"$LOADGEN" --url "$URL" --token "$TOKEN" --concurrency "$((CLIENTS * 2))" --seconds "$SECONDS_EACH" --rate "$HALF" >"$OUT/svc.half.json"
stop_server

SQLITE_DIR=$(mktemp -d)
start_server "$SQLITE_DIR"
STOKEN=$("$BIN" token --sub bench-admin --role admin --data-dir "$SQLITE_DIR")
"$LOADGEN" --url "$URL" --token "$STOKEN" --concurrency "$CLIENTS" --seconds 3 >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  "$LOADGEN" --url "$URL" --token "$STOKEN" --concurrency "$CLIENTS" --seconds "$SECONDS_EACH" >"$OUT/sqlite.$r.json"
done
stop_server

python3 - "$OUT" "$ROUNDS" "$CLIENTS" "$SECONDS_EACH" <<'PY'
import json, re, statistics, sys
out, rounds, clients, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(name): return json.load(open(f"{out}/{name}"))
svc = [load(f"svc.{r}.json") for r in range(1, rounds + 1)]
sqlite = [load(f"sqlite.{r}.json") for r in range(1, rounds + 1)]
pg = []
for r in range(1, rounds + 1):
    text = open(f"{out}/pgbench.{r}.txt").read()
    m = re.search(r"tps = ([0-9.]+)", text)
    pg.append(float(m.group(1)) if m else float("nan"))
half = load("svc.half.json")
med = statistics.median
def lat(s): return f"{s['latency_ms']['p50']:.1f} / {s['latency_ms']['p99']:.1f}"
svc_tps, pg_tps = med(s["throughput_per_s"] for s in svc), med(pg)
print(f"PostgreSQL, {clients} clients, {secs} s per round, {rounds} rounds interleaved (medians):\n")
print("| | per round | median |")
print("|---|---|---:|")
print(f"| service POST /attempts per second | {', '.join(str(int(s['throughput_per_s'])) for s in svc)} | {svc_tps:.0f} |")
print(f"| pgbench, same three statements, transactions per second | {', '.join(f'{p:.0f}' for p in pg)} | {pg_tps:.0f} |")
print(f"| service / pgbench | | {100 * svc_tps / pg_tps:.0f}% (target >= 60%) |")
print(f"| service latency p50 / p99 at full load (ms) | {', '.join(lat(s) for s in svc)} | |")
print(f"| service at half its rate ({half['target_rate']:.0f}/s, open loop): p50 / p99 / max (ms) | | {half['latency_ms']['p50']:.2f} / {half['latency_ms']['p99']:.2f} / {half['latency_ms']['max']:.1f} (target p99 <= 10) |")
print(f"| errors | {sum(s['errors'] for s in svc) + half['errors']} | |")
print(f"\nEmbedded SQLite, {clients} clients:\n")
print("| | per round | median |")
print("|---|---|---:|")
print(f"| service POST /attempts per second | {', '.join(str(int(s['throughput_per_s'])) for s in sqlite)} | {med(s['throughput_per_s'] for s in sqlite):.0f} (target >= 5000) |")
print(f"| latency p50 / p99 (ms) | {', '.join(lat(s) for s in sqlite)} | |")
print(f"| errors | {sum(s['errors'] for s in sqlite)} | |")
PY
