"""The paper's selection: log-rank screening + Cox backward elimination (SPSS Backward:LR)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_bcsm.data.design import complete_cases
from bayes_bcsm.frequentist.cox import cox_ph
from bayes_bcsm.frequentist.logrank import logrank_test
from bayes_bcsm.frequentist.selection import SelectionError, paper_selection

FACTORS = ["grade", "noise_bin", "noise_cat", "noise_cont"]


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    """300 patients: ``grade`` (3 levels) is strongly prognostic (HR 1, 2.5, 6); the rest is
    noise; ``noise_cat`` is missing for 20 patients."""
    rng = np.random.default_rng(2024)
    n = 300
    grade = rng.choice(["low", "mid", "high"], n)
    hr = pd.Series(grade).map({"low": 1.0, "mid": 2.5, "high": 6.0}).to_numpy()
    time = rng.exponential(12.0 / hr)
    censor = rng.uniform(0, 30, n)
    frame = pd.DataFrame(
        {
            "time_months": np.minimum(time, censor),
            "event": (time <= censor).astype(int),
            "grade": grade,
            "noise_bin": rng.integers(0, 2, n),
            "noise_cat": rng.choice(["a", "b", "c"], n).astype(object),
            "noise_cont": rng.normal(50, 10, n),
        }
    )
    frame.loc[rng.choice(n, 20, replace=False), "noise_cat"] = np.nan
    return frame


def test_strong_factor_kept_noise_removed(cohort):
    """With a lenient screen every factor is a candidate; backward elimination removes the
    noise one by one (each with LR P > 0.10) and keeps ``grade``."""
    result = paper_selection(
        cohort, "time_months", "event", FACTORS, screen_p=0.999, reference={"grade": "low"}
    )
    assert set(result.candidates) == set(FACTORS)
    assert "grade" in result.selected
    assert result.final is not None and result.final.columns[:2] == ("grade[high]", "grade[mid]")
    assert len(result.steps) >= 1
    assert list(result.steps["step"]) == list(range(1, len(result.steps) + 1))
    assert (result.steps["lr_p"] > 0.10).all()
    assert "grade" not in set(result.steps["removed"])
    assert set(result.steps["removed"]) | set(result.selected) == set(FACTORS)
    # all steps on the complete cases of every candidate: noise_cat missing for 20
    assert result.rows is not None
    assert result.rows.n_used == 280 and result.rows.excluded_by_column == {"noise_cat": 20}
    assert result.final.n == 280


def test_screen_matches_logrank_on_available_rows(cohort):
    """Each factor is screened on its own available rows (noise_cat: 280, the others: 300)."""
    result = paper_selection(cohort, "time_months", "event", FACTORS)
    screen = result.screen.set_index("factor")
    assert screen.loc["noise_cat", "n"] == 280 and screen.loc["grade", "n"] == 300
    used, _ = complete_cases(cohort, ["time_months", "event", "noise_cat"])
    direct = logrank_test(used["time_months"], used["event"], used["noise_cat"])
    assert screen.loc["noise_cat", "p_value"] == pytest.approx(direct.p_value, rel=1e-12)
    assert screen.loc["noise_cat", "method"] == "log-rank"
    assert screen.loc["noise_cont", "method"] == "cox score"
    assert bool(screen.loc["grade", "candidate"]) and screen.loc["grade", "p_value"] < 1e-6
    assert screen["candidate"].tolist() == (screen["p_value"] < 0.05).tolist()
    assert "grade" in result.selected


def test_removal_p_equals_two_explicit_fits(cohort):
    """The LR P of each removal is chi2_df(2 [l(full) - l(reduced)]) from two cox_ph fits on
    the same (complete-case) rows; df = levels - 1 for a categorical."""
    result = paper_selection(cohort, "time_months", "event", FACTORS, screen_p=0.999)
    used, _ = complete_cases(cohort, ["time_months", "event", *FACTORS])
    model = list(result.candidates)
    for _, step in result.steps.iterrows():
        full = cox_ph(used, "time_months", "event", model)
        reduced_cols = [f for f in model if f != step["removed"]]
        reduced = cox_ph(used, "time_months", "event", reduced_cols)
        df = len(full.columns) - len(reduced.columns)
        chisq = 2 * (full.loglik - reduced.loglik)
        assert step["df"] == df
        assert step["lr_p"] == pytest.approx(stats.chi2.sf(chisq, df), rel=1e-10)
        model = reduced_cols


def test_force_and_errors(cohort):
    result = paper_selection(
        cohort, "time_months", "event", FACTORS, screen_p=0.999, force=["noise_bin"]
    )
    assert "noise_bin" in result.selected
    with pytest.raises(SelectionError, match="forced"):
        paper_selection(cohort, "time_months", "event", ["grade"], force=["age"])
    with pytest.raises(SelectionError, match="unknown"):
        paper_selection(cohort, "time_months", "event", ["nope"])
    with pytest.raises(SelectionError, match="remove_p"):
        paper_selection(cohort, "time_months", "event", ["grade"], remove_p=1.5)


def test_final_model_is_a_fresh_cox_fit_of_the_selected_factors(cohort):
    """The elimination fits column subsets of one design of all candidates (issue 25); its
    final model equals ``cox_ph`` of the selected factors on the same rows (to rounding), and
    each step's df the number of the removed factor's design columns."""
    result = paper_selection(
        cohort,
        "time_months",
        "event",
        FACTORS,
        screen_p=0.999,
        remove_p=0.9,
        reference={"grade": "mid"},
    )
    assert result.final is not None and len(result.selected) >= 2
    used, _ = complete_cases(cohort, ["time_months", "event", *FACTORS])
    direct = cox_ph(used, "time_months", "event", list(result.selected), reference={"grade": "mid"})
    assert result.final.columns == direct.columns
    # the same arithmetic on the same numbers, up to rounding (BLAS sums depend on alignment)
    np.testing.assert_allclose(result.final.coef, direct.coef, rtol=1e-12)
    np.testing.assert_allclose(result.final.se, direct.se, rtol=1e-12)
    assert result.final.loglik == pytest.approx(direct.loglik, rel=1e-14)
    assert result.final.n == direct.n
    assert result.final.rows == direct.rows
    levels = {"grade": 2, "noise_bin": 1, "noise_cat": 2, "noise_cont": 1}
    assert all(levels[r.removed] == r.df for r in result.steps.itertuples())
