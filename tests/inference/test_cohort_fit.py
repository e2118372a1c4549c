"""The paper's Table 3 covariate set on the bundled reconstructed cohort (issue 5, "Must show").

Weibull PH and piecewise-exponential PH (random-walk baseline, default cuts 6/12/24/36/60
months) are fitted with the *default* sampler settings (nutpie, 4 chains x 1000 draws after
1000 tuning steps, target_accept 0.9, seed 0) and must pass every convergence check at the
package's thresholds (R-hat <= 1.01, bulk and tail ESS >= 400, no divergences,
E-BFMI >= 0.3, <= 1 % of draws at the maximum tree depth). Complete cases: hormone receptor
status is missing for 25 of the 78 patients, so 53 are used (35 events).

Note on the piecewise fit: among the complete cases the first interval (0-6 months) holds no
event and 6-12 months one (the earliest death is at 11.5 months). A random walk anchored at the
first interval was identified by its prior alone there and gave one divergent transition in half
of seeds 0-19; the walk is now anchored at its mean over the intervals (``log_rate_mean``).
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from bayes_bcsm.data import build_design, derive_groupings, load_cohort
from bayes_bcsm.inference.diagnostics import check_convergence
from bayes_bcsm.inference.sample import Fit, SamplerSettings, sample
from bayes_bcsm.models import piecewise_model, weibull_model
from bayes_bcsm.resources import bundled_cohort

COHORT = bundled_cohort()
TABLE3 = [
    "preop_neuro_dysfunction",
    "postop_neuro_dysfunction",
    "hormone_receptor",
    "hormone_therapy",
]
N_COMPLETE = 53
"""Patients with all four Table 3 covariates (hormone receptor missing for 25; data/README)."""

DEFAULTS = SamplerSettings()
BUILDERS = {"weibull": weibull_model, "piecewise": piecewise_model}


@pytest.fixture(scope="module")
def design():
    frame = derive_groupings(load_cohort(COHORT).frame)
    return build_design(frame, TABLE3)


@pytest.fixture(scope="module")
def fits(design) -> dict[str, Fit]:
    return {name: sample(build(design), DEFAULTS) for name, build in BUILDERS.items()}


def test_defaults_are_the_documented_ones():
    """The fits below use the package defaults, not settings tuned for this test."""
    assert (DEFAULTS.sampler, DEFAULTS.chains, DEFAULTS.draws, DEFAULTS.tune) == (
        "nutpie",
        4,
        1000,
        1000,
    )


def test_complete_cases(design, fits):
    assert design.n == N_COMPLETE
    assert "hormone_receptor missing: 25" in design.rows.describe()
    for name, fit in fits.items():
        assert fit.n_used == N_COMPLETE, name
        assert fit.model.n_events == design.n_events, name
        beta = fit.idata["posterior"]["beta"]
        assert list(beta["covariate"].values) == list(design.columns), name
        assert beta.sizes == {"chain": 4, "draw": 1000, "covariate": len(design.columns)}, name
        assert fit.idata["log_likelihood"]["time"].sizes["patient"] == N_COMPLETE, name


@pytest.mark.parametrize("name", list(BUILDERS))
def test_all_diagnostics_pass(fits, name):
    diag = check_convergence(fits[name].idata)
    assert diag.passed, f"{name}: failed {diag.failed}\n{diag.describe()}"
    # every check the issue lists was actually run (nutpie reports energy and tree depth)
    assert set(diag.summary["check"]) == {
        "r_hat",
        "ess_bulk",
        "ess_tail",
        "divergences",
        "e_bfmi",
        "tree_depth",
    }


def test_loo_compare_weibull_vs_piecewise(fits):
    table = az.compare({name: fit.idata for name, fit in fits.items()})
    assert set(table.index) == set(BUILDERS)
    assert np.all(np.isfinite(table["elpd"].to_numpy(dtype=float)))
    for fit in fits.values():
        loo = az.loo(fit.idata)
        assert loo.n_data_points == N_COMPLETE
