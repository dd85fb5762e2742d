#!/usr/bin/env bash
# Compares the mastery crate's BKT fitter with pyBKT on the same synthetic data, in one run.
#
#   scripts/compare-pybkt.sh [STUDENTS [SKILLS [OPPORTUNITIES]]]     # default 20000 10 50
#
# Environment: SEED (1), RESTARTS (5, ours and pyBKT's num_fits), STRICT_TOL (1e-9: the extra
# runs of ours with a tolerance at least as strict as pyBKT's nominal one; empty to skip them),
# PYBKT_VENV (/tmp/pybkt-venv), OUT (a temp directory: the CSVs and every JSON are kept there),
# CARGO_TARGET_DIR (/work/target).
#
# Steps:
#  1. pyBKT 1.4.3 built from source with its C++ core into PYBKT_VENV (once; reused after).
#     `pip install --no-binary pyBKT pyBKT==1.4.3` alone does NOT build the C++ core: pyBKT's
#     setup.py has no pyproject.toml and imports numpy in build_ext, which pip's isolated build
#     environment lacks; its bare `except:` then silently installs the legacy pure-Python package
#     (a py3-none-any wheel, no .so). So numpy etc. are installed first and pyBKT is built with
#     --no-build-isolation. No Debian package was needed on this machine: the C++ core needs g++
#     with OpenMP (g++ 12 here), the Python headers (pyenv's Python 3.11 ships them; with Debian's
#     python3.11, `apt-get install -y python3.11-dev`) and Eigen, which pyBKT bundles.
#     The script refuses to go on if the core was not built (it never falls back to pure Python).
#  2. The fit_synth example in release; one run with --csv (default threads), writing
#     OUT/data_train.csv and OUT/data_test.csv; the same seed again with --threads 1, and both
#     again with --tol $STRICT_TOL --max-iter 100.
#  3. scripts/pybkt_fit.py on those CSVs with OMP_NUM_THREADS=1.
#  4. A comparison: per-parameter MAE against the true parameters printed by fit_synth (the
#     single source of the true parameters), held-out AUC and RMSE (pooled over skills on both
#     sides), fit times and ratios, and the issue's targets.
set -euo pipefail

STUDENTS=${1:-20000}
SKILLS=${2:-10}
OPPORTUNITIES=${3:-50}
SEED=${SEED:-1}
RESTARTS=${RESTARTS:-5}
STRICT_TOL=${STRICT_TOL-1e-9}
PYBKT_VENV=${PYBKT_VENV:-/tmp/pybkt-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/compare-pybkt.XXXXXX)}
mkdir -p "$OUT"
PY="$PYBKT_VENV/bin/python"

have_core() {
    [ -x "$PY" ] && OMP_NUM_THREADS=1 "$PY" -c \
        'from pyBKT.fit import E_step; assert E_step.__file__.endswith(".so")' 2>/dev/null
}

if ! have_core; then
    echo "== installing pyBKT 1.4.3 from source into $PYBKT_VENV" >&2
    [ -x "$PY" ] || python3.11 -m venv "$PYBKT_VENV"
    "$PY" -m pip install -q --upgrade pip setuptools wheel
    "$PY" -m pip install -q numpy pandas requests scikit-learn==1.5.2
    "$PY" -m pip uninstall -y -q pyBKT 2>/dev/null || true
    "$PY" -m pip install -q --no-cache-dir --no-build-isolation --no-binary pyBKT pyBKT==1.4.3
    have_core || { echo "pyBKT's C++ core did not build; not comparing" >&2; exit 1; }
fi

echo "== building fit_synth (release)" >&2
(cd "$ROOT" && cargo build -q --release -p mastery --example fit_synth)
BIN="$CARGO_TARGET_DIR/release/examples/fit_synth"
SIZE=(--students "$STUDENTS" --skills "$SKILLS" --opportunities "$OPPORTUNITIES" --seed "$SEED"
      --restarts "$RESTARTS")

echo "== ours, default tolerance, default threads (writes the CSVs)" >&2
"$BIN" "${SIZE[@]}" --csv "$OUT/data" > "$OUT/ours.json"
echo "== ours, default tolerance, 1 thread" >&2
"$BIN" "${SIZE[@]}" --threads 1 > "$OUT/ours_1t.json"
if [ -n "$STRICT_TOL" ]; then
    echo "== ours, --tol $STRICT_TOL --max-iter 100, default threads and 1 thread" >&2
    "$BIN" "${SIZE[@]}" --tol "$STRICT_TOL" --max-iter 100 > "$OUT/ours_strict.json"
    "$BIN" "${SIZE[@]}" --tol "$STRICT_TOL" --max-iter 100 --threads 1 > "$OUT/ours_strict_1t.json"
fi

echo "== pyBKT (OMP_NUM_THREADS=1)" >&2
OMP_NUM_THREADS=1 "$PY" "$ROOT/scripts/pybkt_fit.py" "$OUT/data_train.csv" "$OUT/data_test.csv" \
    --seed "$SEED" --num-fits "$RESTARTS" > "$OUT/pybkt.json"

OUT="$OUT" "$PY" - <<'EOF'
import json, os
out = os.environ["OUT"]
load = lambda n: json.load(open(os.path.join(out, n))) if os.path.exists(os.path.join(out, n)) else None
ours, ours1, py = load("ours.json"), load("ours_1t.json"), load("pybkt.json")
strict, strict1 = load("ours_strict.json"), load("ours_strict_1t.json")
keys = ["p_init", "p_learn", "p_slip", "p_guess"]

# pyBKT's MAE against the true parameters as printed by fit_synth.
truth = {s["skill"]: s["true"] for s in ours["per_skill"]}
py_mae = {k: sum(abs(py["params"][s][k] - t[k]) for s, t in truth.items()) / len(truth) for k in keys}
py_mae["mean"] = sum(py_mae[k] for k in keys) / 4

def abs_tol(run):
    lls = [abs(s["train_log_likelihood"]) for s in run["per_skill"]]
    return run["options"]["tol"] * min(lls), run["options"]["tol"] * max(lls)

print(f"data: {ours['students']} students ({ours['train_students']} train) x {ours['skills']} skills x "
      f"{ours['opportunities']} opportunities, seed {ours['seed']}; data in {out}")
print(f"pyBKT {py['pybkt_version']} (C++ core: {py['cpp_core']}), sklearn {py['sklearn_version']}, "
      f"OMP_NUM_THREADS={py['omp_num_threads']}, num_fits {py['num_fits']}, "
      f"{py['em_runs']} EM runs, {py['em_iterations_total']} E-steps "
      f"({py['em_runs_hit_maxiter']} runs stopped at 100)")
lo, hi = abs_tol(ours)
print(f"ours: restarts {ours['options']['restarts']}, tol {ours['options']['tol']} relative "
      f"(= {lo:.2g}..{hi:.2g} absolute here), max_iter {ours['options']['max_iter']}, "
      f"{sum(s['total_iterations'] for s in ours['per_skill'])} E-steps")
print()
print(f"{'MAE':<10}{'ours':>12}{'pyBKT':>12}")
for k in keys + ["mean"]:
    print(f"{k:<10}{ours['mae'][k]:>12.5f}{py_mae[k]:>12.5f}")
print()
print(f"{'held out':<12}{'ours':>10}{'pyBKT':>10}{'true params':>13}")
print(f"{'AUC':<12}{ours['held_out_auc']:>10.5f}{py['held_out_auc']:>10.5f}{ours['held_out_auc_true_params']:>13.5f}")
print(f"{'RMSE':<12}{ours['held_out_rmse']:>10.5f}{py['held_out_rmse']:>10.5f}{ours['held_out_rmse_true_params']:>13.5f}")
print(f"{'train LL':<12}{ours['train_log_likelihood']:>10.1f}{py['train_log_likelihood']:>10.1f}"
      f"   (pyBKT's params, forward pass in pybkt_fit.py; pyBKT itself reports {py['pybkt_reported_log_likelihood']:.0f})")
print()
py_t = py["em_seconds"]
print(f"pyBKT fit: {py['em_seconds']:.2f} s in EM (Model._fit), {py['fit_seconds']:.2f} s for model.fit "
      "with its data conversion; ratios use the EM time")
rows = [("ours, default tol, %d threads" % ours["threads"], ours), ("ours, default tol, 1 thread", ours1)]
if strict:
    rows += [("ours, tol %g, %d threads" % (strict["options"]["tol"], strict["threads"]), strict),
             ("ours, tol %g, 1 thread" % strict["options"]["tol"], strict1)]
for name, r in rows:
    print(f"{name:<32}{r['fit_seconds']:>8.2f} s   pyBKT/ours = {py_t / r['fit_seconds']:>5.1f}"
          f"   E-steps {sum(s['total_iterations'] for s in r['per_skill'])}, mean MAE {r['mae']['mean']:.5f},"
          f" AUC {r['held_out_auc']:.5f}")
print()
ok = lambda b: "met" if b else "NOT met"
print("targets (default settings):")
print(f"  MAE no worse (mean):  {ours['mae']['mean']:.5f} vs {py_mae['mean']:.5f}  {ok(ours['mae']['mean'] <= py_mae['mean'])}")
worse = [k for k in keys if ours["mae"][k] > py_mae[k]]
print(f"    per parameter worse: {', '.join(worse) if worse else 'none'}")
d = abs(ours["held_out_auc"] - py["held_out_auc"])
print(f"  AUC within 0.002:     |diff| {d:.5f}  {ok(d <= 0.002)}")
for name, r in rows:
    print(f"  time <= 1/5 ({name}): {r['fit_seconds']:.2f} vs {py_t:.2f} / 5 = {py_t / 5:.2f}  {ok(r['fit_seconds'] * 5 <= py_t)}")
json.dump({"ours": ours, "ours_1t": ours1, "ours_strict": strict, "ours_strict_1t": strict1,
           "pybkt": py, "pybkt_mae": py_mae}, open(os.path.join(out, "comparison.json"), "w"), indent=1)
EOF
