"""Time ``kaplan_meier`` and ``logrank_test`` against lifelines on large data with many ties.

Plain script (no timed tests): ``python benchmarks/bench_km_logrank.py``. Prints a Markdown
table with the machine and library versions; paste it into docs/benchmarks.md under
"## Kaplan-Meier and log-rank". Each timing is the best of several repeats, measured side by
side in one process, so the ratio is what to compare across machines.

Data: times in whole days 1..730 (so about n / 730 subjects share each time: many ties),
about 30 % censored, 3 groups with different hazards; one more run at n = 1,000,000 with
continuous (untied) times.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from importlib.metadata import version

import numpy as np


def _best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _data(n: int, seed: int, ties: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    scale = np.array([300.0, 250.0, 200.0])[group]
    t_event = rng.weibull(1.3, n) * scale
    t_cens = rng.uniform(0, 900, n)
    t = np.minimum(t_event, t_cens)
    event = (t_event <= t_cens).astype(np.int64)
    event[t > 730] = 0
    t = np.clip(t, 1e-3, 730.0)
    return (np.ceil(t) if ties else t), event, group


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    """Run the comparison and print the Markdown table."""
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test
    from lifelines.utils import median_survival_times

    from bayes_bcsm.frequentist import kaplan_meier, logrank_test

    warnings.simplefilter("ignore")
    rows = []
    for n, repeats, ties in ((10_000, 7, True), (1_000_000, 3, True), (1_000_000, 3, False)):
        t, e, g = _data(n, seed=20240601, ties=ties)
        label = "" if ties else " (no ties)"

        def ours_km(t=t, e=e):
            km = kaplan_meier(t, e, conf_type="log-log")
            return km.median, km.median_ci("r")

        def theirs_km(t=t, e=e):
            kmf = KaplanMeierFitter().fit(t, e)
            return kmf.median_survival_time_, median_survival_times(kmf.confidence_interval_)

        def ours_lr(t=t, e=e, g=g):
            return logrank_test(t, e, g).statistic

        def theirs_lr(t=t, e=e, g=g):
            return multivariate_logrank_test(t, g, e).test_statistic

        t_ok, (med_o, _) = _best_of(ours_km, repeats)
        t_ll, (med_l, _) = _best_of(theirs_km, repeats)
        rows.append((n, "Kaplan-Meier + median CI" + label, t_ok, t_ll, med_o == med_l))
        t_ol, stat_o = _best_of(ours_lr, repeats)
        t_ql, stat_l = _best_of(theirs_lr, repeats)
        agree = abs(stat_o - stat_l) <= 1e-6 * max(1.0, abs(stat_l))
        rows.append((n, "log-rank, 3 groups" + label, t_ol, t_ql, agree))

    print(
        f"Machine: {_cpu()}, {os.cpu_count()} logical CPUs, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, numpy {version('numpy')}, "
        f"scipy {version('scipy')}, pandas {version('pandas')}, lifelines "
        f"{version('lifelines')}, bayes_bcsm {version('bayes_bcsm')}. Best of 7 (n = 10,000) "
        "or 3 (n = 1,000,000) runs."
    )
    print()
    print("| n | task | bayes_bcsm (s) | lifelines (s) | lifelines / bayes_bcsm | same result |")
    print("|---:|---|---:|---:|---:|---|")
    for n, task, ours, theirs, agree in rows:
        print(
            f"| {n:,} | {task} | {ours:.4f} | {theirs:.4f} | {theirs / ours:.1f}x | "
            f"{'yes' if agree else 'NO'} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
