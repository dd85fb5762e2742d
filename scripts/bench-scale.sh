#!/usr/bin/env bash
# One against two `practica serve` processes on one PostgreSQL database: the same closed-loop
# load (CLIENTS clients) sent to one process, or round-robin to two (loadgen --url A --url B),
# beside pgbench running the same three statements on the same database; ROUNDS rounds with the
# three interleaved (the order of the first two alternating). Over each round, the CPU time of
# each server, of the load generator (or pgbench), of this database's PostgreSQL backends, of
# PostgreSQL's own processes and of the whole machine (scripts/proc-sample.py). Then the embedded
# SQLite with the server and the load generator on one core (taskset -c 0) against both cores,
# interleaved; and the disk's flush rate (pg_test_fsync). Prints the markdown of docs/benchmarks.md.
#
#   scripts/bench-scale.sh            # CLIENTS=32 SECONDS_EACH=15 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."

PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
CLIENTS=${CLIENTS:-32}
SECONDS_EACH=${SECONDS_EACH:-15}
ROUNDS=${ROUNDS:-3}
PORT_A=${PORT_A:-18092}
PORT_B=${PORT_B:-18093}

. scripts/bench-lib.sh
bench_binaries # BIN= and LOADGEN= (both) run those instead of building
A=http://127.0.0.1:$PORT_A
B=http://127.0.0.1:$PORT_B
OUT=$(mktemp -d)
DB=practica_bench_scale_$$
DB_URL="${PG_ADMIN%/*}/$DB"
SERVERS=()

cleanup() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVERS[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$OUT"
}
trap cleanup EXIT

start_server() { # port, data dir, extra args... (the pid is appended to SERVERS)
  local port=$1 data=$2; shift 2
  RUST_LOG=warn "${PIN[@]}" "$BIN" serve --data-dir "$data" --addr "127.0.0.1:$port" "$@" 2>"$OUT/server.$port.log" &
  SERVERS+=($!)
  wait_ready "http://127.0.0.1:$port" "$OUT/server.$port.log"
}
stop_servers() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SERVERS[@]}"; do wait "$pid" 2>/dev/null || true; done
  SERVERS=()
}
sample() { # report, then the command
  local report=$1; shift
  local watch=()
  [ "${#SERVERS[@]}" -ge 1 ] && watch+=(--watch "a=${SERVERS[0]}")
  [ "${#SERVERS[@]}" -ge 2 ] && watch+=(--watch "b=${SERVERS[1]}")
  if [ "$PG_PHASE" = 1 ]; then commits >"$report.commits"; fi
  python3 scripts/proc-sample.py --report "$report" "${watch[@]}" --pg-db "$DB" -- "$@"
  # The backends report their counts within a second or so of their last transaction.
  if [ "$PG_PHASE" = 1 ]; then sleep 1.5; commits >>"$report.commits"; fi
}
commits() { # transactions committed in the database so far
  psql -At "$PG_ADMIN" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'"
}

PIN=()
PG_PHASE=1
psql -q "$PG_ADMIN" -c "CREATE DATABASE $DB"
DATA=$OUT/data
mkdir -p "$DATA"
# Both processes share the data dir: its signing secret, so that one token serves both.
start_server "$PORT_A" "$DATA" --database-url "$DB_URL"
start_server "$PORT_B" "$DATA" --database-url "$DB_URL"
TOKEN=$("$BIN" token --sub bench-admin --role admin --data-dir "$DATA")
# Warm up both (connections, caches, first mastery rows).
"$LOADGEN" --url "$A" --url "$B" --token "$TOKEN" --concurrency "$CLIENTS" --seconds 3 >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="one two"; else order="two one"; fi
  for c in $order; do
    urls=(--url "$A"); [ "$c" = two ] && urls+=(--url "$B")
    sample "$OUT/$c.$r.sample" "$LOADGEN" "${urls[@]}" --token "$TOKEN" --concurrency "$CLIENTS" \
      --seconds "$SECONDS_EACH" >"$OUT/$c.$r.json"
  done
  sample "$OUT/pgbench.$r.sample" pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" \
    -f scripts/pgbench-attempt.sql "$DB_URL" >"$OUT/pgbench.$r.txt" 2>&1
done
stop_servers
PG_PHASE=0

# SQLite: one core (server and load generator pinned to CPU 0) against both, interleaved.
for r in $(seq 1 "$ROUNDS"); do
  for c in 1core 2cores; do
    if [ "$c" = 1core ]; then PIN=(taskset -c 0); else PIN=(); fi
    SQLITE=$OUT/sqlite-$c-$r
    mkdir -p "$SQLITE"
    start_server "$PORT_A" "$SQLITE"
    STOKEN=$("$BIN" token --sub bench-admin --role admin --data-dir "$SQLITE")
    "${PIN[@]}" "$LOADGEN" --url "$A" --token "$STOKEN" --concurrency "$CLIENTS" --seconds 3 >/dev/null
    sample "$OUT/sqlite-$c.$r.sample" "${PIN[@]}" "$LOADGEN" --url "$A" --token "$STOKEN" \
      --concurrency "$CLIENTS" --seconds "$SECONDS_EACH" >"$OUT/sqlite-$c.$r.json"
    stop_servers
  done
done

# The disk's flush rate: one fdatasync of an 8 kB write, as PostgreSQL flushes its WAL (here on
# the file system of FSYNC_DIR, by default where mktemp puts files: the same disk as the
# database's on this machine; set it to the WAL's directory when they differ).
PG_TEST_FSYNC=${PG_TEST_FSYNC:-$(ls /usr/lib/postgresql/*/bin/pg_test_fsync 2>/dev/null | tail -1)}
FSYNC_OPS=
if [ -n "$PG_TEST_FSYNC" ]; then
  FSYNC_OPS=$("$PG_TEST_FSYNC" -s 1 -f "${FSYNC_DIR:-$OUT}/pg_test_fsync.$$" 2>/dev/null |
    awk '/^ +fdatasync/ {print $2; exit}') || true
  rm -f "${FSYNC_DIR:-$OUT}/pg_test_fsync.$$"
fi

python3 - "$OUT" "$ROUNDS" "$CLIENTS" "$SECONDS_EACH" "${FSYNC_OPS:-}" <<'PY'
import json, re, statistics, sys
out, rounds, clients, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
fsync_ops = sys.argv[5]
med = statistics.median
def load(name): return json.load(open(f"{out}/{name}"))
def rate(config, r):
    if config == "pgbench":
        m = re.search(r"tps = ([0-9.]+)", open(f"{out}/pgbench.{r}.txt").read())
        return float(m.group(1)) if m else float("nan")
    return load(f"{config}.{r}.json")["throughput_per_s"]
def cores(sample, who):
    if who == "client":
        return sample["cmd"]["cores"] or 0.0
    if who in ("a", "b"):
        w = sample["watch"].get(who)
        return (w["cores"] or 0.0) if w else 0.0
    if who == "machine":
        return sample["machine"]["busy_cores"]
    return sample["postgres"][f"{who}_cores"]
whos = ["a", "b", "client", "ours", "aux", "machine"]
print(f"PostgreSQL, one database, {clients} clients in all, {secs} s per round, {rounds} rounds interleaved (medians):\n")
print("| | per round | median | p50 / p99 (ms) | CPU, cores: server A | server B | load generator | PostgreSQL backends | PostgreSQL's own | machine (all tenants) |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
labels = {"one": "1 process, POST /attempts/s", "two": "2 processes, POST /attempts/s", "pgbench": "pgbench, same three statements, tps"}
summary = {}
errors = 0
for config in ("one", "two", "pgbench"):
    rates = [rate(config, r) for r in range(1, rounds + 1)]
    samples = [load(f"{config}.{r}.sample") for r in range(1, rounds + 1)]
    c = {w: med(cores(s, w) for s in samples) for w in whos}
    summary[config] = (med(rates), c)
    lat = ""
    if config != "pgbench":
        runs = [load(f"{config}.{r}.json") for r in range(1, rounds + 1)]
        errors += sum(x["errors"] for x in runs)
        lat = f"{med(x['latency_ms']['p50'] for x in runs):.1f} / {med(x['latency_ms']['p99'] for x in runs):.1f}"
    print(f"| {labels[config]} | {', '.join(f'{x:.0f}' for x in rates)} | {med(rates):.0f} | {lat} | "
          + " | ".join(f"{c[w]:.2f}" for w in whos) + " |")
def commits_per_s(config, r):
    a, b = (int(x) for x in open(f"{out}/{config}.{r}.sample.commits").read().split())
    return (b - a) / load(f"{config}.{r}.sample")["seconds"]
print("\nTransactions committed in the database (pg_stat_database.xact_commit, single statements outside a")
print("transaction included), per second, and attempts per commit:\n")
print("| | commits/s per round | median | attempts (transactions) per commit |")
print("|---|---|---:|---:|")
for config in ("one", "two", "pgbench"):
    cs = [commits_per_s(config, r) for r in range(1, rounds + 1)]
    print(f"| {labels[config].split(',')[0]} | {', '.join(f'{x:.0f}' for x in cs)} | {med(cs):.0f} | {summary[config][0] / med(cs):.1f} |")
if fsync_ops:
    print(f"\nThe disk's flush rate (pg_test_fsync, one 8 kB write and fdatasync, 1 s): {float(fsync_ops):,.0f} per second.")
one, two, pg = summary["one"][0], summary["two"][0], summary["pgbench"][0]
print(f"\n2 processes / 1: {100 * two / one:.0f}%; 1 process / pgbench: {100 * one / pg:.0f}%; 2 processes / pgbench: {100 * two / pg:.0f}%. Errors: {errors}.\n")
print("CPU milliseconds per attempt (per transaction for pgbench), medians of the rounds:\n")
print("| | servers | load generator | PostgreSQL backends | PostgreSQL's own | sum |")
print("|---|---:|---:|---:|---:|---:|")
for config in ("one", "two", "pgbench"):
    r, c = summary[config]
    per = lambda x: 1000 * x / r
    srv, cl, be, aux = per(c["a"] + c["b"]), per(c["client"]), per(c["ours"]), per(c["aux"])
    print(f"| {labels[config].split(',')[0]} | {srv:.3f} | {cl:.3f} | {be:.3f} | {aux:.3f} | {srv + cl + be + aux:.3f} |")
print(f"\nEmbedded SQLite, {clients} clients, {secs} s per round, {rounds} rounds interleaved, a fresh data dir each round:\n")
print("| | per round | median | p50 / p99 (ms) | CPU, cores: server | load generator | machine |")
print("|---|---|---:|---:|---:|---:|---:|")
sq = {}
for c, label in (("1core", "server and load generator on one core (taskset -c 0)"), ("2cores", "both cores")):
    runs = [load(f"sqlite-{c}.{r}.json") for r in range(1, rounds + 1)]
    samples = [load(f"sqlite-{c}.{r}.sample") for r in range(1, rounds + 1)]
    rates = [x["throughput_per_s"] for x in runs]
    sq[c] = med(rates)
    print(f"| {label} | {', '.join(f'{x:.0f}' for x in rates)} | {med(rates):.0f} | "
          f"{med(x['latency_ms']['p50'] for x in runs):.1f} / {med(x['latency_ms']['p99'] for x in runs):.1f} | "
          f"{med(cores(s, 'a') for s in samples):.2f} | {med(cores(s, 'client') for s in samples):.2f} | {med(cores(s, 'machine') for s in samples):.2f} |")
print(f"\n2 cores / 1 core: {100 * sq['2cores'] / sq['1core']:.0f}%.")
PY
