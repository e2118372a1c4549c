"""The fast calibration evaluator against the package's own estimators, and the report.

``fast_score`` must reproduce exactly what ``simulate_cohort`` + ``check_targets`` give for the same
seed and parameters (same random draws, same R median rule, same log-rank statistic when
no two observed times tie); the oracle is :func:`bayes_bcsm.reconstruct.calibrate.check_targets`,
which uses ``bayes_bcsm.frequentist.kaplan_meier`` / ``logrank_test``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bayes_bcsm.reconstruct.calibrate import (
    calibration_report_tables,
    check_targets,
    comparison_table,
    total_loss,
)
from bayes_bcsm.reconstruct.fast_score import cohort_draws, fast_score, published_figures
from bayes_bcsm.reconstruct.generator import CALIBRATED_PARAMS, simulate_cohort
from bayes_bcsm.reconstruct.search import (
    params_to_vector,
    reference_indicators,
    solved,
    survival_points,
    vector_to_params,
)
from bayes_bcsm.study import load_targets

TARGETS = load_targets()
SURVIVAL_GROUPS = ("cohort", "km", "followup", "table2_p", "table2_median")


@pytest.mark.parametrize("seed", [0, 3, 167])
def test_fast_score_matches_full_comparison(seed):
    params = CALIBRATED_PARAMS
    draws = cohort_draws(seed, params, TARGETS)
    fast = fast_score(draws, params, published_figures(TARGETS))
    cohort = simulate_cohort(78, seed, params=params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comps = check_targets(cohort, TARGETS)
    # seeds chosen without tied observed times (the fast log-rank takes one death at a time)
    assert not cohort["time_months"].duplicated().any()
    tab = comparison_table(comps)
    np.testing.assert_allclose(fast.p, tab[tab.group == "table2_p"].reconstructed, rtol=1e-9)
    np.testing.assert_allclose(
        fast.medians, tab[tab.group == "table2_median"].reconstructed, rtol=1e-12
    )
    np.testing.assert_allclose(fast.km, tab[tab.group == "km"].reconstructed, rtol=1e-12)
    np.testing.assert_allclose(
        fast.followup, tab[tab.group == "followup"].reconstructed, rtol=1e-12
    )
    assert fast.deaths == int(cohort["event"].sum())
    survival_part = [c for c in comps if c.group in SURVIVAL_GROUPS]
    assert fast.loss == pytest.approx(total_loss(survival_part), rel=1e-9)


def test_survival_points_come_from_the_targets():
    """The baseline is solved through the printed KM points and S(median) = 0.5."""
    knots = CALIBRATED_PARAMS.baseline_knots_months
    points = survival_points(TARGETS, knots)
    expected = [0.5 if k == TARGETS.os_median_months else TARGETS.survival_at[k] for k in knots]
    assert list(points) == expected
    assert points[knots.index(TARGETS.os_median_months)] == 0.5
    with pytest.raises(ValueError, match="no published survival at 7 months"):
        survival_points(TARGETS, (7.0,))


def test_params_vector_round_trip():
    x_ref = reference_indicators(CALIBRATED_PARAMS, n_reference=500)
    again = solved(vector_to_params(params_to_vector(CALIBRATED_PARAMS), CALIBRATED_PARAMS), x_ref)
    assert again.effects == CALIBRATED_PARAMS.effects
    assert again.accrual_beta == CALIBRATED_PARAMS.accrual_beta
    assert again.tail_hazard_per_month == CALIBRATED_PARAMS.tail_hazard_per_month
    assert np.all(np.diff(again.baseline_cumhaz) >= 0)


def test_calibration_report_writes_markdown_html_png(tmp_path, committed):
    from bayes_bcsm.data import load_cohort
    from bayes_bcsm.report.calibration import write_calibration_report

    from .conftest import COHORT_CSV

    cohort = load_cohort(COHORT_CSV).frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = calibration_report_tables(cohort)
    md = write_calibration_report(tables, cohort, tmp_path)
    text = md.read_text()
    assert "reconstruction" in text and "| target |" in text
    assert (tmp_path / "km_calibration.png").stat().st_size > 0
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html
