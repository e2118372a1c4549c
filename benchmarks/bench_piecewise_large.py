"""Benchmark: the piecewise-exponential model on large synthetic cohorts (issue 26, part 4).

Plain script (not a test): ``.venv/bin/python benchmarks/bench_piecewise_large.py`` (every
case) or ``... --n 100000 --steps auto`` (one). Data: :func:`bayes_bcsm.models.simulate.
simulate_frame` with seed ``n``: Weibull PH (shape ``exp(0.2)``, log baseline cumulative hazard
-1 at 12 months), log-HRs 0.5 (binary), -0.3 (standard normal), 0.2 (binary), administrative
censoring at 60 months and exponential censoring at 1 % per month (about 80 % events). Model:
the package's defaults as a run on a user's card uses them: covariates standardised, 6
intervals cut at quantiles of the event times (``model.n_intervals``), random-walk baseline,
``Normal(0, 1)`` log-HR prior; nutpie 4 chains x 1000 draws after 1000 tuning steps,
target_accept 0.9 (the per-patient log-likelihood is not stored). ``--steps non_centred`` is
the parametrisation before issue 26 (every step non-centred); ``auto`` the per-step rule of
:func:`bayes_bcsm.models.piecewise.centred_steps`.

"max abs z vs MLE" is the largest ``|posterior median - MLE| / posterior sd`` over the log-HRs,
the MLE from a Poisson GLM of the patient x interval event counts on interval indicators and
the same design columns with offset log exposure (statsmodels, a test oracle, on the same cuts).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import statsmodels.api as sm_api

from bayes_bcsm.data.design import build_design
from bayes_bcsm.inference.diagnostics import check_convergence
from bayes_bcsm.inference.sample import SamplerSettings, sample
from bayes_bcsm.models import piecewise_cuts, piecewise_model
from bayes_bcsm.models.simulate import simulate_frame

BETA = [0.5, -0.3, 0.2]
COLS = ["x1", "x2", "x3"]
N_INTERVALS = 6


def glm_log_hr(time_months: np.ndarray, event: np.ndarray, X: np.ndarray, cuts) -> np.ndarray:
    """Log-HRs from the Poisson GLM on the split data (one row per patient and interval
    entered, offset log exposure)."""
    edges = np.array([0.0, *cuts, np.inf])
    exposure = np.clip(time_months[:, None] - edges[None, :-1], 0.0, np.diff(edges)[None, :])
    inside = (time_months[:, None] >= edges[None, :-1]) & (time_months[:, None] < edges[None, 1:])
    patient, interval = np.nonzero(exposure > 0)
    dummies = np.eye(len(edges) - 1)[interval]
    exog = np.column_stack([dummies, X[patient]])
    counts = (inside * event[:, None])[patient, interval]
    fit = sm_api.GLM(
        counts,
        exog,
        family=sm_api.families.Poisson(),
        offset=np.log(exposure[patient, interval]),
    ).fit()
    return np.asarray(fit.params[len(edges) - 1 :])


def run_case(n: int, steps: str) -> dict:
    """One fit: diagnostics, timings and agreement with the MLE."""
    frame = simulate_frame(np.random.default_rng(n), n, BETA)
    design = build_design(frame, COLS, standardize=True)
    cuts = piecewise_cuts(design.time, design.event, n_quantile_intervals=N_INTERVALS)
    model = piecewise_model(design, cuts=cuts, steps=steps)
    start = time.perf_counter()
    fit = sample(model, replace(SamplerSettings(), log_likelihood=False))
    wall = time.perf_counter() - start
    diag = check_convergence(fit.idata)
    checks = diag.summary.set_index("check")
    beta = fit.idata["posterior"]["beta"]
    z = (
        beta.median(("chain", "draw")).values
        - glm_log_hr(design.time, design.event.astype(float), design.X, cuts)
    ) / beta.std(("chain", "draw")).values
    return {
        "n": f"{n:,}",
        "events": f"{design.n_events:,}",
        "steps": steps,
        "centred steps": f"{int(model.data['rw_centred'].sum())}/{N_INTERVALS - 1}",
        "divergences": int(checks.loc["divergences", "value"]),
        "max R-hat": f"{checks.loc['r_hat', 'value']:.3f} ({checks.loc['r_hat', 'detail'][6:]})",
        "min bulk ESS": f"{checks.loc['ess_bulk', 'value']:.0f} "
        f"({checks.loc['ess_bulk', 'detail'][6:]})",
        "min tail ESS": f"{checks.loc['ess_tail', 'value']:.0f}",
        "min E-BFMI": f"{checks.loc['e_bfmi', 'value']:.2f}",
        "max abs z vs MLE": f"{np.max(np.abs(z)):.3f}",
        "compile + sample (s)": f"{fit.compile_seconds:.0f} + {fit.sample_seconds:.0f}",
        "wall (s)": f"{wall:.0f}",
        "all checks": "pass" if diag.passed else f"FAIL ({', '.join(diag.failed)})",
    }


def main() -> None:
    """Run the requested cases, printing each Markdown table row as soon as it exists."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--steps", nargs="*", default=["non_centred", "auto"])
    args = parser.parse_args()
    for i, (n, steps) in enumerate((n, s) for n in args.n for s in args.steps):
        row = run_case(n, steps)
        if i == 0:
            print("| " + " | ".join(row) + " |")
            print("|" + "---|" * len(row))
        print("| " + " | ".join(map(str, row.values())) + " |", flush=True)


if __name__ == "__main__":
    main()
