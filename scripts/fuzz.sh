#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a bounded time: the LaTeX parser with the solver and
# checker behind it (latex), the step-expression parser (expr), photo uploads (photo) and content
# bundles (bundle). Prints, per target, how many inputs it ran and whether any crashed; exits
# non-zero on the first crash, printing the path of the input that crashed it (an artifact under
# fuzz/artifacts/<target>/; `cargo fuzz run <target> <artifact>` replays it).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 30)
#
# The instrumented build and the working corpus live under ${CARGO_TARGET_DIR:-target}/fuzz, so
# a machine that keeps its target directory neither rebuilds from scratch nor starts from the
# seeds alone on the next run. The committed seeds are fuzz/seeds/<target>/.
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# cargo-fuzz passes nightly flags (-Zsanitizer=address, -Cpasses=sancov-module); the stable
# toolchain accepts them when told it is bootstrapping, so no nightly is needed.
export RUSTC_BOOTSTRAP=1
target_dir="$(mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)/fuzz"
corpus_root="$target_dir/corpus"

if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --locked
fi

# Debug assertions on: an arithmetic overflow is a crash here, not a silent wrap.
flags=(--debug-assertions --target-dir "$target_dir")
targets=(latex expr photo bundle)

started=$(date +%s)
cargo fuzz build "${flags[@]}"
echo "fuzz: built ${targets[*]} in $(($(date +%s) - started)) s"

# Longest input per target: a step or a LaTeX answer is short; the seeds' bundles are about
# 3 KB and a photo seed at most 2 KB; longer inputs only slow the search down.
max_len() {
    case "$1" in
        latex | expr) echo 1024 ;;
        bundle) echo 8192 ;;
        photo) echo 8192 ;;
    esac
}

for t in "${targets[@]}"; do
    corpus="$corpus_root/$t"
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    log="$target_dir/$t.log"
    status=0
    # -timeout: one input taking 10 s is a hang. -rss_limit_mb: a photo within the pixel limit
    # decodes in well under 1 GB; more is a leak or a bomb that got through.
    cargo fuzz run "${flags[@]}" "$t" "$corpus" "fuzz/seeds/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    units=$(find "$corpus" -type f | wc -l)
    if [ "$status" -ne 0 ]; then
        echo "fuzz: $t CRASHED after ${runs:-?} runs (log: $log)"
        grep -E '^(thread .* panicked|==[0-9]+==ERROR|SUMMARY)' "$log" | head -5 || true
        grep -A1 -E '^(panicked at|thread )' "$log" | head -4 || true
        grep -E 'Test unit written to|artifact_prefix' "$log" | tail -2 || true
        exit 1
    fi
    echo "fuzz: $t ok: ${runs:-?} runs in $seconds s (${rate:-?}/s), corpus $units inputs"
done
