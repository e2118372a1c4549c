"""Stacking finds the family that generated the data (issue 23, slow tier).

50 data sets of n = 300 from a log-logistic AFT model (``mu = log 24`` months, ``sigma = 0.35``,
i.e. shape 2.9: a hazard that rises to a peak near 30 months and then falls, which no PH family
here has; time ratios ``exp(0.5)`` for a binary and ``exp(-0.3)`` per SD of a normal covariate;
administrative censoring at 120 months and 0.5 % per month at random, so that the falling
hazard is observed: 81 % events on average over the 50 data sets). All seven families of
``experiment=model_comparison`` are fitted (nutpie, 2 chains x 400 draws after 400 tuning
steps; the default priors; the piecewise model with fixed cuts at 12, 24, 36 and 60 months, so
that one compiled model serves every data set) and ``arviz.compare`` gives stacking weights.
The issue's criterion: stacking puts at least half the weight on the log-logistic family in at
least 80 % of the data sets. Seeds: data set ``k`` uses ``default_rng(7000 + k)``; sampling seed 7.
The other designs run (``loglogistic_frame``'s arguments) and their results are listed in
docs/benchmarks.md, section "Stacking on log-logistic data".
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data.design import build_design
from bayes_bcsm.inference.sample import SamplerSettings, sample
from bayes_bcsm.models import model_family
from bayes_bcsm.models.aft import aft_times
from bayes_bcsm.models.simulate import censor

FAMILIES = (
    "weibull",
    "exponential",
    "piecewise",
    "gompertz",
    "lognormal",
    "loglogistic",
    "mspline",
)
SETTINGS = SamplerSettings(chains=2, draws=400, tune=400, seed=7)
CUTS = (12.0, 24.0, 36.0, 60.0)
DATA_SETS, N = 50, 300


def loglogistic_frame(
    seed: int, sigma: float = 0.35, follow_up: float = 120.0, rate: float = 0.005
) -> pd.DataFrame:
    """One simulated cohort (module docstring): scale ``sigma`` of ``log T``, administrative
    censoring at ``follow_up`` months and random censoring at ``rate`` per month."""
    rng = np.random.default_rng(seed)
    x1 = rng.binomial(1, 0.5, N).astype(float)
    x2 = rng.normal(size=N)
    t = aft_times(rng, "logistic", np.log(24.0), np.log(sigma), 0.5 * x1 - 0.3 * x2)
    time, event = censor(rng, t, follow_up, rate)
    return pd.DataFrame({"time_months": time, "event": event, "x1": x1, "x2": x2})


def stacking_weights(frame: pd.DataFrame) -> pd.Series:
    """Stacking weight of each family on one data set."""
    design = build_design(frame, ["x1", "x2"])
    trees = {}
    for name in FAMILIES:
        family = model_family(name)
        options = family.select_options({"cuts": CUTS})
        trees[name] = sample(family.build(design, **options), SETTINGS).idata
    return az.compare(trees, method="stacking", round_to="none")["weight"]


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue 23 criterion not met (run 2026-12-06, 6 min): stacking put >= 0.5 on the "
    "log-logistic family in 36 of 50 data sets (72 %; mean weight 0.69, median 0.79); the "
    "weight it lost went mostly to the log-normal family (the nearest: the two differ mainly "
    "in the tail). No other design run reached 80 % either (docs/benchmarks.md, 'Stacking on "
    "log-logistic data', all listed): sigma 0.5, 38 of 50; pre-registered D1 no censoring, 36 "
    "of 48 completed (two stopped in a Gompertz PSIS); D2 censoring at 240 months + 0.2 %/month, "
    "37 of 50; D3 sigma 0.8, 23 of 50. Checks found no defect (likelihoods, Pareto k, 4 x 1000 "
    "draws, the stacking optimum); the same design at n = 1,000 gives 44 of 50 (88 %, "
    "docs/stacking/). Open: a criterion at larger n, or on log-logistic + log-normal (>= 0.5 "
    "in 48 of 48 and 49 of 50 in D1 and D2).",
)
def test_stacking_puts_half_the_weight_on_loglogistic_in_80_percent_of_data_sets():
    rows = []
    for k in range(DATA_SETS):
        rows.append(stacking_weights(loglogistic_frame(7000 + k)))
        print(k, rows[-1].round(3).to_dict(), flush=True)
    weights = pd.DataFrame(rows)
    share = float((weights["loglogistic"] >= 0.5).mean())
    print(weights.describe().T.round(3), f"\nshare with >= 0.5 on loglogistic: {share:.2f}")
    assert share >= 0.8
