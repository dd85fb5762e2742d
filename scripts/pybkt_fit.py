#!/usr/bin/env python3
"""Fits pyBKT on the CSVs written by `fit_synth --csv PREFIX` and prints the figures as JSON.

    OMP_NUM_THREADS=1 python scripts/pybkt_fit.py PREFIX_train.csv PREFIX_test.csv [--seed 1] [--num-fits 5]

Used by scripts/compare-pybkt.sh (which installs pyBKT; see there). The model is
`Model(seed=SEED, num_fits=NUM_FITS)` fitted with the defaults otherwise (`forgets=False`, EM_fit's
tol 1e-3 absolute log-likelihood change, at most 100 iterations, parallel=True, which is one thread
under OMP_NUM_THREADS=1).

Times (wall clock):
- `fit_seconds`: the `model.fit(data=df)` call, which includes pyBKT's own conversion of the data
  frame into its arrays (`data_helper.convert_data`) before EM;
- `em_seconds`: the time spent inside `Model._fit` only (the restarts and EM for every skill), the
  part comparable to our `fit_all`. The comparison uses this one (the smaller of the two).
Reading the CSV with pandas is outside both.

Held-out figures: `model.evaluate(data=test_df, metric=["auc", "rmse"])`, which pools the
one-step-ahead predictions of every skill into one vector before the metric, as fit_synth does.
`held_out_auc_sklearn` recomputes the AUC with sklearn on `model.predict` as a cross-check.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd


def exact_log_likelihood(df, p):
    """Log-likelihood of one skill's responses under BKT parameters p (no forgetting), by the
    forward recursion. pyBKT's own total is truncated to an integer (PyLong_FromLong in
    E_step.cpp), too coarse to compare with ours."""
    df = df.sort_values("order_id", kind="mergesort")
    pos = df.groupby("user_id", sort=False).cumcount().to_numpy()
    users, idx = np.unique(df["user_id"].to_numpy(), return_inverse=True)
    y = np.full((len(users), pos.max() + 1), -1, dtype=np.int8)
    y[idx, pos] = df["correct"].to_numpy()
    known = np.full(len(users), p["p_init"])
    s, g, learn = p["p_slip"], p["p_guess"], p["p_learn"]
    ll = 0.0
    for t in range(y.shape[1]):
        obs = y[:, t]
        m = obs >= 0
        pc = known * (1 - s) + (1 - known) * g
        right = obs == 1
        ll += np.log(np.where(right, pc, 1 - pc))[m].sum()
        post = np.where(right, known * (1 - s) / pc, known * s / (1 - pc))
        known = np.where(m, post + (1 - post) * learn, known)
    return float(ll)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--num-fits", type=int, default=5)
    args = ap.parse_args()

    from pyBKT.models import Model
    from pyBKT.fit import E_step  # noqa: F401  (fails if the C++ core was not built)
    import sklearn
    import sklearn.metrics
    import pyBKT

    cpp_core = E_step.__file__.endswith(".so")

    dtypes = {"order_id": np.int64, "user_id": str, "skill_name": str, "correct": np.int64}
    started = time.perf_counter()
    train = pd.read_csv(args.train, dtype=dtypes)
    test = pd.read_csv(args.test, dtype=dtypes)
    read_seconds = time.perf_counter() - started

    # Time the EM part alone: wrap Model._fit (one call per skill: num_fits restarts of EM_fit).
    em_seconds = 0.0
    em_calls = []
    original_fit = Model._fit

    def timed_fit(self, data, skill, forgets, preload=False):
        nonlocal em_seconds
        t0 = time.perf_counter()
        result = original_fit(self, data, skill, forgets, preload)
        dt = time.perf_counter() - t0
        em_seconds += dt
        em_calls.append((skill, dt))
        return result

    Model._fit = timed_fit

    # Count EM iterations (E-steps) of every restart: wrap EM_fit.EM_fit, which Model calls
    # through the module attribute.
    from pyBKT.fit import EM_fit as em_module

    original_em = em_module.EM_fit
    runs = []

    def counted_em(*a, **kw):
        model_out, lls = original_em(*a, **kw)
        runs.append((len(lls), float(lls[-1][0])))
        return model_out, lls

    em_module.EM_fit = counted_em

    model = Model(seed=args.seed, num_fits=args.num_fits)
    started = time.perf_counter()
    model.fit(data=train, forgets=False)
    fit_seconds = time.perf_counter() - started
    Model._fit = original_fit
    em_module.EM_fit = original_em

    started = time.perf_counter()
    auc, rmse = model.evaluate(data=test, metric=["auc", "rmse"])
    preds = model.predict(data=test)
    auc_sklearn = sklearn.metrics.roc_auc_score(preds["correct"], preds["correct_predictions"])
    eval_seconds = time.perf_counter() - started

    params = {}
    em_time = dict(em_calls)
    for skill, m in model.fit_model.items():
        params[str(skill)] = {
            "p_init": float(m["prior"]),
            "p_learn": float(np.ravel(m["learns"])[0]),
            "p_slip": float(np.ravel(m["slips"])[0]),
            "p_guess": float(np.ravel(m["guesses"])[0]),
            "p_forget": float(np.ravel(m["forgets"])[0]),
            "em_seconds": em_time.get(skill),
        }

    started = time.perf_counter()
    for skill, sub in train.groupby("skill_name"):
        params[str(skill)]["train_log_likelihood"] = exact_log_likelihood(sub, params[str(skill)])
    ll_seconds = time.perf_counter() - started

    report = {
        "pybkt_version": getattr(pyBKT, "__version__", "1.4.3"),
        "cpp_core": cpp_core,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "seed": args.seed,
        "num_fits": args.num_fits,
        "train_rows": int(len(train)),
        "test_rows": int(len(test)),
        "read_seconds": read_seconds,
        "fit_seconds": fit_seconds,
        "em_seconds": em_seconds,
        "eval_seconds": eval_seconds,
        "em_runs": len(runs),
        "em_iterations_total": sum(n for n, _ in runs),
        "em_iterations_per_run": [n for n, _ in runs],
        "em_runs_hit_maxiter": sum(1 for n, _ in runs if n >= 100),
        "train_log_likelihood": sum(p["train_log_likelihood"] for p in params.values()),
        "ll_seconds": ll_seconds,
        "pybkt_reported_log_likelihood": sum(
            max(ll for _, ll in runs[i : i + args.num_fits]) for i in range(0, len(runs), args.num_fits)
        ),
        "held_out_auc": float(auc),
        "held_out_auc_sklearn": float(auc_sklearn),
        "held_out_rmse": float(rmse),
        "params": params,
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
