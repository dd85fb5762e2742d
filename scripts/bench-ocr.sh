#!/usr/bin/env bash
# Latency of POST /attempts/ocr-extract on a phone-sized photo (3000×4000 JPEG, six lines in two
# exercises, composed by crates/ocr/examples/latency.rs; MNIST test-split digits when MNIST_DIR is
# set), with the built-in reader, the photo stored in the local object store: RUNS posts one after
# the other, curl's total time per request; prints the median, min and max, and read_photo's own
# median for the same photo (the reader without HTTP, multipart and storage).
#
#   MNIST_DIR=/work/target/mnist scripts/bench-ocr.sh      (RUNS=21 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18087}
RUNS=${RUNS:-21}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p practica --bin practica
cargo build -q --release -p ocr --example latency
data=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$data"' EXIT
SAVE_PHOTO="$data/page.jpg" "$TARGET/release/examples/latency" "$RUNS" | tee "$data/reader.txt"
"$TARGET/release/practica" serve --data-dir "$data/srv" --addr "127.0.0.1:$PORT" 2>"$data/server.log" &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
token=$("$TARGET/release/practica" token --sub bench --role student --data-dir "$data/srv")
for _ in $(seq 1 "$RUNS"); do
  curl -s -o "$data/last.json" -w '%{time_total}\n' -H "Authorization: Bearer $token" \
    -F "image=@$data/page.jpg;type=image/jpeg" "http://127.0.0.1:$PORT/attempts/ocr-extract"
done | sort -n > "$data/times.txt"
python3 - "$data/times.txt" "$data/last.json" <<'PY'
import json, sys
t = [float(x) * 1000 for x in open(sys.argv[1])]
print(f"POST /attempts/ocr-extract over {len(t)} runs: median {t[len(t)//2]:.1f} ms, min {t[0]:.1f} ms, max {t[-1]:.1f} ms")
last = json.load(open(sys.argv[2]))
print("last response:", [[s["expression"] for s in e["rawSteps"]] for e in last.get("exercises", [])])
PY
