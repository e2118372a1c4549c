"""Per-replicate cost of the default simulation study, measured in one process (issue 25).

Draws replicates of the default study (``experiment=simulation_study``: n = 78, all seven
methods, nutpie 4 chains x 500 draws after 500 tuning steps) after one warm-up replicate
(compilations, kernel loading) and reports, per method, the mean wall-clock and CPU seconds
of a fit (CPU of the whole process: nutpie's chain threads included), and the cohort draw.
CPU seconds are the measure on a shared machine (wall clock grows with the load); the default
study's 450 replicates cost about 450 x the total on 2 cores.

Run it against two checkouts side by side to compare them (``PYTHONPATH=<other>/src``).

    python benchmarks/bench_simulation_replicate.py [replicates]
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict

import numpy as np
import pandas as pd

from bayes_bcsm.config import register_configs
from bayes_bcsm.report.render import markdown_table
from bayes_bcsm.resources import CONF_PACKAGE
from bayes_bcsm.runs.simulate import study_settings
from bayes_bcsm.settings import parse_settings
from bayes_bcsm.simulation.estimators import fit_bayesian, fit_frequentist, method_seed
from bayes_bcsm.simulation.methods import BAYESIAN_METHODS
from bayes_bcsm.simulation.scenarios import replicate_cohort
from bayes_bcsm.simulation.shards import replicate_seed
from bayes_bcsm.simulation.study import table3_design


def default_settings():
    """The default study's settings (``experiment=simulation_study``)."""
    from hydra import compose, initialize_config_module

    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        cfg = compose(config_name="config", overrides=["experiment=simulation_study"])
    return study_settings(parse_settings(cfg))


def replicate_costs(settings, replicate: int, costs: dict) -> None:
    """Time one calibrated-scenario replicate, adding (wall, CPU) seconds per part."""

    def timed(part, fn, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(*args)
        costs[part].append((time.perf_counter() - wall, time.process_time() - cpu))
        return out

    frame = timed("cohort draw + design", _cohort, settings, replicate)
    seed = replicate_seed(settings.base_seed, "calibrated", 78, replicate)
    for method in settings.methods:
        if method in BAYESIAN_METHODS:
            timed(method, fit_bayesian, method, settings, frame[1], method_seed(seed, method))
        else:
            timed(method, fit_frequentist, method, settings, *frame)


def _cohort(settings, replicate):
    frame = replicate_cohort(settings, "calibrated", 78, replicate)
    return frame, table3_design(settings, frame)


def main(replicates: int = 20) -> None:
    settings = default_settings()
    replicate_costs(settings, 0, defaultdict(list))  # warm-up: kernels, imports
    costs: dict = defaultdict(list)
    for r in range(1, replicates + 1):
        replicate_costs(settings, r, costs)
    rows = [
        {
            "part": part,
            "wall_s": float(np.mean([w for w, _ in v])),
            "cpu_s": float(np.mean([c for _, c in v])),
        }
        for part, v in costs.items()
    ]
    table = pd.DataFrame(rows)
    total = pd.DataFrame([{"part": "**one replicate**", **table[["wall_s", "cpu_s"]].sum()}])
    table = pd.concat([table, total], ignore_index=True)
    print(f"{replicates} replicates (calibrated scenario, n = 78), mean seconds per replicate\n")
    print(markdown_table(table, digits=3))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
