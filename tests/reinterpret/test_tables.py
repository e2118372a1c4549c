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


@pytest.mark.parametrize("meaningful_hr", [0.2, 0.5, 0.8, 0.99])
def test_grid_labels_hold_by_definition(meaningful_hr):
    """Optimistic = centred on benefit (HR < 1), pessimistic = centred on harm (HR > 1), the
    neutral one on 1 (the definitions in bayes_bcsm.reinterpret.priors' docstring)."""
    centre = {p.centre: p.mean_hr for p in prior_grid(meaningful_hr)}
    assert centre["optimistic"] == meaningful_hr and centre["optimistic"] < 1
    assert centre["pessimistic"] == pytest.approx(1 / meaningful_hr) and centre["pessimistic"] > 1
    assert centre["neutral"] == 1.0


@pytest.mark.parametrize("meaningful_hr", [0.0, -0.5, 1.0, 2.0, float("nan")])
def test_meaningful_hr_outside_benefit_is_refused(meaningful_hr):
    """Issue 19: ``meaningful_hr=2`` centred the "optimistic" priors on harm; 0 divided by zero."""
    with pytest.raises(ReinterpretError, match=r"expected a hazard ratio in \(0, 1\)"):
        prior_grid(meaningful_hr)
