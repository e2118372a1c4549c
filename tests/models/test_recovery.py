"""Slow statistical checks: parameter recovery at n = 2,000 and agreement with Cox at
n = 5,000 (issue 5, "Must show"). Seeds fixed; data simulated from the fitted family."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_bcsm.data.design import build_design
from bayes_bcsm.inference.sample import SamplerSettings, sample
from bayes_bcsm.models import exponential_model, piecewise_cuts, piecewise_model, weibull_model
from bayes_bcsm.models.simulate import simulate_frame

BETA = np.array([0.5, -0.3, 0.2])
COLS = ["x1", "x2", "x3"]
SETTINGS = SamplerSettings(chains=2, draws=1000, tune=1000, seed=11, log_likelihood=False)
CUTS = (6.0, 12.0, 24.0, 36.0)
LOG_RATE = np.log([0.9, 0.6, 0.45, 0.35, 0.3])

CASES = {
    "weibull": (dict(family="weibull", log_alpha=0.2, log_lambda=-1.0), lambda d: weibull_model(d)),
    "weibull_aft": (
        dict(family="weibull", log_alpha=0.2, log_lambda=-1.0),
        lambda d: weibull_model(d, parametrisation="aft"),
    ),
    "exponential": (dict(family="exponential", log_lambda=-1.0), lambda d: exponential_model(d)),
    "piecewise": (
        dict(family="piecewise", log_rate=LOG_RATE, cuts=CUTS),
        lambda d: piecewise_model(d, cuts=CUTS),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_parameter_recovery(case):
    sim, build = CASES[case]
    frame = simulate_frame(np.random.default_rng(100), 2000, BETA, **sim)
    fit = sample(build(build_design(frame, COLS)), SETTINGS)
    beta = fit.idata["posterior"]["beta"]
    mean = beta.mean(("chain", "draw")).values
    lo, hi = beta.quantile([0.025, 0.975], dim=("chain", "draw")).values
    print(case, "mean", mean.round(3), "lo", lo.round(3), "hi", hi.round(3))
    assert np.all((lo <= BETA) & (BETA <= hi))
    assert np.all(np.abs(mean - BETA) < 0.1)


@pytest.mark.slow
def test_agreement_with_cox():
    """Weibull PH data, n = 5,000: Weibull and piecewise posterior mean log-HRs within 0.05
    of the Cox partial-likelihood estimates (lifelines, Efron ties, as oracle)."""
    from lifelines import CoxPHFitter

    frame = simulate_frame(np.random.default_rng(5000), 5000, BETA, log_alpha=0.2, log_lambda=-1.0)
    cox = CoxPHFitter().fit(frame, duration_col="time_months", event_col="event")
    cox_beta = cox.params_[COLS].to_numpy()
    design = build_design(frame, COLS)
    cuts = piecewise_cuts(design.time, design.event, n_quantile_intervals=8)
    for sm in (weibull_model(design), piecewise_model(design, cuts=cuts)):
        fit = sample(sm, SETTINGS)
        mean = fit.idata["posterior"]["beta"].mean(("chain", "draw")).values
        print(sm.family, "bayes", mean.round(4), "cox", cox_beta.round(4))
        assert np.all(np.abs(mean - cox_beta) < 0.05)
