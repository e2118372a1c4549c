"""reinterpret(): one row per estimate x prior, consistent with reanalyse and design_analysis."""

from __future__ import annotations

import pytest

from bayes_bcsm.reinterpret import (
    NamedPrior,
    PrintedEstimate,
    ReinterpretError,
    design_analysis,
    prior_grid,
    reanalyse,
    reinterpret,
)

ESTIMATES = [PrintedEstimate("a", 0.07, 0.007, 0.727), PrintedEstimate("b", 1.2, 0.4, 3.6)]


def test_tables_have_one_row_per_estimate_and_prior():
    priors = [*prior_grid(), NamedPrior("mine", 0.8, 0.4)]
    result = reinterpret(ESTIMATES, priors, thresholds=(1.0, 0.5), true_hrs=(0.5, 0.8))
    assert len(result.posteriors) == 2 * 10
    assert {"p_hr_below_1", "p_hr_below_0.5"} <= set(result.posteriors.columns)
    row = result.posteriors.set_index(["covariate", "prior"]).loc[("b", "mine")]
    expected = reanalyse(1.2, 0.4, 3.6, 0.8, 0.4)
    assert row.posterior_median_hr == pytest.approx(expected.median_hr)
    assert row["p_hr_below_0.5"] == pytest.approx(expected.prob_hr_below(0.5))
    design = result.design.set_index(["covariate", "true_hr"]).loc[("a", 0.8)]
    assert design.power == pytest.approx(design_analysis(0.8, ESTIMATES[0].se_log).power)
    assert list(result.credibility["significant"]) == [True, False]
    curve = result.sensitivity[result.sensitivity["covariate"] == "a"]["p_hr_below_1"]
    assert curve.is_monotonic_increasing  # a wider neutral prior lets the data speak


def test_duplicate_names_are_refused():
    with pytest.raises(ReinterpretError, match="repeated"):
        reinterpret([ESTIMATES[0], ESTIMATES[0]], prior_grid())
