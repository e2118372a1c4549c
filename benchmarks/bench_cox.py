"""Benchmark: ``cox_ph`` (Efron, 10 covariates, many tied times) against lifelines' CoxPHFitter.

Plain script (not a test): ``.venv/bin/python benchmarks/bench_cox.py``. Prints a Markdown table
with the machine, the library versions, the best-of-k wall time of each fit (data preparation
included for both: each receives the same DataFrame) and the ratio lifelines / bayes_bcsm.
Both fit the same model to the same data; the largest coefficient difference is printed as a
sanity check (lifelines stops at its default ``precision=1e-7``).
"""

from __future__ import annotations

import itertools
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
REPEATS = {78: 20, 10_000: 7, 100_000: 7}


def make_data(n: int, seed: int = 0, per_month: int = 1) -> pd.DataFrame:
    """n patients, 10 covariates (5 continuous, 5 binary), follow-up up to 60 months rounded
    up to 1 / ``per_month`` of a month (``per_month=1``: about 60 distinct times, very many
    ties; ``per_month=30``: days, about 1,800 distinct times), about 30% censored."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(n, 5)), rng.integers(0, 2, size=(n, 5))])
    beta = np.linspace(-0.4, 0.4, P)
    t = rng.exponential(20.0 * np.exp(-(X - X.mean(0)) @ beta))
    c = rng.uniform(0, 60, n)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(P)])
    frame["time_months"] = np.ceil(np.minimum(t, c) * per_month) / per_month
    frame["event"] = (t <= c).astype(int)
    return frame


def best_times(fns, repeats: int) -> tuple[list[float], list[object]]:
    """Best-of-``repeats`` wall time of each function, calls interleaved so that load from
    other processes on a shared machine hits both alike."""
    best = [np.inf] * len(fns)
    outs: list[object] = [None] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            outs[i] = fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best, outs


def main() -> None:
    covs = [f"x{j}" for j in range(P)]
    cpu = platform.processor() or platform.machine()
    print(f"Machine: {platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs")
    print(
        f"Python {sys.version.split()[0]}, numpy {np.__version__}, scipy {version('scipy')}, "
        f"pandas {pd.__version__}, lifelines {version('lifelines')}"
    )
    print()
    print(
        "| times rounded to | n | events | distinct times | bayes_bcsm cox_ph (s) "
        "| lifelines CoxPHFitter (s) | speed-up | max abs coef diff |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (label, per_month), n in itertools.product((("months", 1), ("days", 30)), SIZES):
        frame = make_data(n, per_month=per_month)
        k = REPEATS[n]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (ours_t, theirs_t), (ours, theirs) = best_times(
                [
                    lambda frame=frame: cox_ph(frame, "time_months", "event", covs),
                    lambda frame=frame: CoxPHFitter().fit(frame, "time_months", "event"),
                ],
                k,
            )
        diff = np.max(np.abs(ours.coef - theirs.params_[covs].to_numpy()))
        print(
            f"| {label} | {n:,} | {int(frame['event'].sum()):,} | {frame['time_months'].nunique()} "
            f"| {ours_t:.4f} | {theirs_t:.4f} | {theirs_t / ours_t:.1f}x | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
