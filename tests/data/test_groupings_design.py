"""Derived groupings, complete-case accounting and covariate coding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data import (
    COHORT_COLUMNS,
    DERIVED_GROUPINGS,
    DesignError,
    build_design,
    check_estimable,
    complete_cases,
    derive_groupings,
    validate_cohort,
)
from tests.data.conftest import valid_rows

README = Path(__file__).resolve().parents[2] / "data" / "README.md"


@pytest.fixture
def cohort() -> pd.DataFrame:
    return derive_groupings(validate_cohort(valid_rows()).frame)


def test_groupings_follow_their_definitions(cohort):
    assert list(cohort["preop_neuro_dysfunction"]) == ["D-E", "A-C", "D-E", "D-E"]
    assert list(cohort["postop_neuro_dysfunction"]) == ["D-E", "D-E", "D-E", "D-E"]
    assert cohort["preop_neuro_dysfunction"].cat.categories[0] == "D-E"
    assert list(cohort["pathology_group"]) == [
        "invasive",
        "invasive",
        "low-invasive",
        "low-invasive",
    ]
    assert list(cohort["surgery_group"]) == ["debulking", "palliative", "tes", "palliative"]
    assert list(cohort["tomita_group"]) == ["2-3", "6-7", "4-5", "2-3"]
    assert list(cohort["tokuhashi_group"]) == ["12-15", "0-8", "9-11", "12-15"]
    assert list(cohort["sins_group"]) == ["7-12", ">=13", "<=6", "7-12"]
    assert list(cohort["escc_group"]) == ["0-1", "2-3", "0-1", "2-3"]
    assert list(cohort["age_group"]) == ["<=50", ">50", "<=50", "<=50"]
    assert list(cohort["metastasis_spine_only"]) == ["yes", "no", "no", "no"]
    assert list(cohort["kps_post_group"]) == [">=70", "<70", ">=70", ">=70"]
    assert list(cohort["tes_vs_non_tes"]) == ["non-tes", "non-tes", "tes", "non-tes"]
    assert list(cohort["excision_vs_palliative"]) == [
        "excision",
        "palliative",
        "excision",
        "palliative",
    ]


def test_complete_cases_counts_exclusions_per_column(cohort):
    kept, acc = complete_cases(cohort, ["time_months", "hormone_receptor", "her2"])
    assert (acc.n_input, acc.n_used, acc.n_excluded) == (4, 2, 2)
    assert acc.excluded_by_column == {"hormone_receptor": 1, "her2": 2}
    assert acc.excluded_ids == ("P002", "P004")
    assert list(kept["patient_id"]) == ["P001", "P003"]
    assert acc.describe() == (
        "used 2 of 4 patients; excluded 2 (hormone_receptor missing: 1, her2 missing: 2)"
    )


def test_design_codes_binary_categorical_and_continuous(cohort):
    design = build_design(
        cohort,
        ["hormone_therapy", "surgery_group", "age_years"],
        reference={"surgery_group": "debulking"},
        standardize=True,
    )
    assert design.columns == (
        "hormone_therapy",
        "surgery_group[tes]",
        "surgery_group[palliative]",
        "age_years",
    )
    np.testing.assert_array_equal(design.X[:, 0], [1, 0, 1, 1])
    np.testing.assert_array_equal(design.X[:, 1], [0, 0, 1, 0])
    np.testing.assert_array_equal(design.X[:, 2], [0, 1, 0, 1])
    age = np.array([45.2, 61, 38.5, 50])
    np.testing.assert_allclose(design.X[:, 3], (age - age.mean()) / age.std(ddof=1))
    term = design.terms[2]
    assert (term.center, term.scale) == pytest.approx((age.mean(), age.std(ddof=1)))
    np.testing.assert_allclose(design.per_natural_unit(), [1, 1, 1, 1 / age.std(ddof=1)])
    assert design.terms[1].levels == ("debulking", "tes", "palliative")
    assert (design.n, design.n_events) == (4, 2)


def test_design_complete_case_on_missing_covariate(cohort):
    design = build_design(cohort, ["hormone_receptor"])
    assert design.n == 3 and design.rows.excluded_by_column == {"hormone_receptor": 1}
    assert design.columns == ("hormone_receptor[positive]",)


def test_design_errors_name_the_problem(cohort):
    with pytest.raises(DesignError, match="unknown column"):
        build_design(cohort, ["not_a_column"])
    with pytest.raises(DesignError, match="reference level 'x' of 'surgery_group'"):
        build_design(cohort, ["surgery_group"], reference={"surgery_group": "x"})
    with pytest.raises(DesignError, match="single value"):
        build_design(cohort.assign(radiotherapy=1), ["radiotherapy"])


def test_data_readme_documents_every_column_and_grouping():
    text = README.read_text()
    for spec in COHORT_COLUMNS:
        assert f"`{spec.name}`" in text, spec.name
    for name in DERIVED_GROUPINGS:
        assert f"`{name}`" in text, name
    assert "reconstruction" in text and "not patient data" in text


def _survival_frame(n: int = 40, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    time = rng.exponential(20.0, n) + 0.1
    return pd.DataFrame(
        {
            "time_months": time,
            "event": (rng.random(n) < 0.7).astype(int),
            "x": rng.integers(0, 2, n).astype(float),
            "age": rng.normal(60, 10, n),
            "time_copy": time * 30.4375,  # the follow-up again, in days
        }
    )


def test_a_covariate_that_orders_the_times_is_refused_by_name():
    frame = _survival_frame()
    check_estimable(build_design(frame, ["x", "age"]))  # an ordinary design passes
    for sign, direction in ((1, "rises"), (-1, "falls")):
        design = build_design(frame.assign(time_copy=sign * frame["time_copy"]), ["x", "time_copy"])
        with pytest.raises(DesignError) as info:
            check_estimable(design)
        assert str(info.value).startswith(
            f"covariate 'time_copy' {direction} with the follow-up time on every row used"
        )
        assert "remove it from covariates.names" in str(info.value)


def test_no_more_events_than_coefficients_is_refused():
    """Two patients, one event, two coefficients (the ZeroDivisionError of issue 19)."""
    frame = _survival_frame().iloc[:2].assign(event=[0, 1], x=[0.0, 1.0])
    with pytest.raises(DesignError) as info:
        check_estimable(build_design(frame, ["x", "age"]))
    assert str(info.value).startswith(
        "1 event(s) for 2 coefficient(s) (x, age): estimating hazard ratios needs more events "
        "than coefficients (at least 3 here)"
    )
