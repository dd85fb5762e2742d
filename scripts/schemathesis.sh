#!/usr/bin/env bash
# Hostile input against the served API: schemathesis (PyPI) generates requests for every
# operation of `/openapi.json` — valid, boundary and invalid ones — with an admin's token, and
# checks that none is answered with a 5xx and that every response matches the document
# (status codes, content types, bodies). The service runs on its embedded defaults with the
# test content imported, so operations reach real rows.
#
#   scripts/schemathesis.sh [seconds]      (default 120; CI runs a bounded form)
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_TIME=${1:-120}
PORT=${PORT:-18090}
TARGET=${CARGO_TARGET_DIR:-target}
VENV=${ST_VENV:-$TARGET/st-venv}
if [ ! -x "$VENV/bin/st" ]; then
  echo "installing schemathesis"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==4.32.5"
fi
cargo build -q -p practica --bin practica
BIN=$TARGET/debug/practica

DATA=$(mktemp -d)
"$BIN" import --data-dir "$DATA" crates/practica/tests/data/bundle-example.yaml >/dev/null
"$BIN" import --data-dir "$DATA" crates/practica/tests/data/sim-bundle.yaml >/dev/null
"$BIN" serve --data-dir "$DATA" --addr "127.0.0.1:$PORT" 2>"$DATA/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
TOKEN=$("$BIN" token --sub adm_1 --role admin --data-dir "$DATA")

# The checks: no 5xx, and responses as documented. Not included: checks that assume what this
# API does differently on purpose (e.g. `positive_data_acceptance`: a well-formed request for a
# row that does not exist is rightly a 404; `negative_data_rejection`: lenient JSON fields).
status=0
"$VENV/bin/st" run "http://127.0.0.1:$PORT/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-time "$MAX_TIME" --workers 2 --request-timeout 30 \
  --exclude-path /mcp \
  --suppress-health-check all --warnings off || status=$?
if grep -q "panicked" "$DATA/server.log"; then
  echo "the server panicked:" >&2
  grep -B2 -A10 "panicked" "$DATA/server.log" | head -40 >&2
  status=1
fi
exit $status
