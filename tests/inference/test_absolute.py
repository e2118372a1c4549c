"""Absolute effects from posterior draws: per-draw RMST against a closed-form posterior, and
standardised (g-computation) survival against its definition.

Monte Carlo tolerances are set from ArviZ's MCSE; every sampler call is seeded.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_bcsm.data.design import build_design
from bayes_bcsm.inference.predictive import profiles, rmst_draws
from bayes_bcsm.inference.sample import SamplerSettings, sample
from bayes_bcsm.models import BaselineSpec, exponential_model

MONTHS_PER_DAY = 12 / 365.25


def test_exponential_rmst_quantiles_match_the_gamma_posterior():
    """Issue 22's closed-form oracle. lung, no covariates, exponential with
    ``rate ~ Gamma(a, b)`` per 12 months: 165 deaths in 69,593 days at risk, so the posterior
    is ``Gamma(a + 165, b + 69593 / 365.25)``; RMST(tau) = (1 - e^(-r tau)) / r decreases in
    the rate, so its 2.5/50/97.5 % quantiles are the map of the Gamma's 97.5/50/2.5 %. The
    sampled quantiles agree within 3 MCSE (ArviZ's quantile MCSE)."""
    from lifelines.datasets import load_lung

    lung = load_lung()
    assert (int(lung["status"].sum()), int(lung["time"].sum())) == (165, 69593)
    frame = pd.DataFrame(
        {"time_months": lung["time"] * MONTHS_PER_DAY, "event": lung["status"].astype(int)}
    )
    design = build_design(frame, [])
    a, b = 1.0, 0.5
    sm = exponential_model(design, baseline=BaselineSpec(gamma_shape=a, gamma_rate=b))
    fit = sample(sm, SamplerSettings(chains=2, draws=2000, tune=500, seed=11))
    tau = 965 * MONTHS_PER_DAY
    draws = rmst_draws(fit, profiles(sm), tau).sel(profile="reference")
    posterior = stats.gamma(a + 165, scale=1 / (b + 69593 / 365.25))  # per 12 months
    idata = az.from_dict({"posterior": {"rmst": draws.values}})
    for prob in (0.025, 0.5, 0.975):
        rate = posterior.ppf(1 - prob) / 12  # per month
        exact = -np.expm1(-rate * tau) / rate
        sampled = float(np.quantile(draws.values, prob))
        mcse = float(az.mcse(idata, method="quantile", prob=prob)["rmst"])
        assert abs(sampled - exact) < 3 * mcse, (prob, sampled, exact, mcse)
