"""Benchmark: ``cox_ph`` (Efron, 10 covariates, many tied times) against lifelines' CoxPHFitter.

Plain script (not a test): ``.venv/bin/python benchmarks/bench_cox.py``. Prints a Markdown table
with the machine, the library versions, the best-of-k wall time of each fit (data preparation
included for both: each receives the same DataFrame) and the ratio lifelines / bayes_bcsm.
Both fit the same model to the same data; the largest coefficient difference is printed as a
sanity check (lifelines stops at its default ``precision=1e-7``).
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from importlib.metadata import version

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter

from bayes_bcsm.frequentist.cox import cox_ph

P = 10
SIZES = (78, 10_000, 100_000)
REPEATS = {78: 20, 10_000: 5, 100_000: 3}


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    """n patients, 10 covariates (5 continuous, 5 binary), times rounded to whole months
    (about 60 distinct values: many ties), about 30% censored."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(n, 5)), rng.integers(0, 2, size=(n, 5))])
    beta = np.linspace(-0.4, 0.4, P)
    t = rng.exponential(20.0 * np.exp(-(X - X.mean(0)) @ beta))
    c = rng.uniform(0, 60, n)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(P)])
    frame["time_months"] = np.ceil(np.minimum(t, c))
    frame["event"] = (t <= c).astype(int)
    return frame


def best_time(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    covs = [f"x{j}" for j in range(P)]
    cpu = platform.processor() or platform.machine()
    print(f"Machine: {platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs")
    print(
        f"Python {sys.version.split()[0]}, numpy {np.__version__}, scipy {version('scipy')}, "
        f"pandas {pd.__version__}, lifelines {version('lifelines')}"
    )
    print()
    print("| n | events | distinct times | bayes_bcsm cox_ph (s) | lifelines CoxPHFitter (s) "
          "| speed-up | max abs coef diff |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in SIZES:
        frame = make_data(n)
        k = REPEATS[n]
        ours_t, ours = best_time(
            lambda frame=frame: cox_ph(frame, "time_months", "event", covs, ties="efron"), k
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs_t, theirs = best_time(
                lambda frame=frame: CoxPHFitter().fit(frame, "time_months", "event"), k
            )
        diff = np.max(np.abs(ours.coef - theirs.params_[covs].to_numpy()))
        print(
            f"| {n:,} | {int(frame['event'].sum()):,} | {frame['time_months'].nunique()} "
            f"| {ours_t:.4f} | {theirs_t:.4f} | {theirs_t / ours_t:.1f}x | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
