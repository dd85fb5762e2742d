# shellcheck shell=bash
# Sourced by the scripts/bench-*.sh benchmarks: the binaries they run, and waiting for a server.

# BIN and LOADGEN: both given, those binaries run; otherwise the release build of this tree.
bench_binaries() {
  if [ -z "${BIN:-}" ] || [ -z "${LOADGEN:-}" ]; then
    cargo build -q --release -p practica --bin practica --example loadgen
    BIN=${CARGO_TARGET_DIR:-target}/release/practica
    LOADGEN=${CARGO_TARGET_DIR:-target}/release/examples/loadgen
  fi
}

# wait_ready BASE_URL LOG: returns once BASE_URL/readyz answers 200 (20 s at most); otherwise
# prints the server's log and exits the script.
wait_ready() {
  for _ in $(seq 1 200); do curl -sf "$1/readyz" >/dev/null && return; sleep 0.1; done
  echo "the server at $1 did not become ready" >&2
  cat "$2" >&2
  exit 1
}
