"""Dataset cards whose follow-up starts after time zero (issue 21): long (start, stop] files,
delayed entry, exposures built from per-patient start times, and the naive 'ever' coding.

Oracles: lifelines' ``CoxTimeVaryingFitter`` / ``CoxPHFitter`` on its bundled Stanford heart
data (coefficients quoted in the issue: time-dependent transplant -0.0103, SE 0.3138; naive
'ever transplanted' -1.7045); hand-built episodes for the exposure construction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data.card import (
    ENTRY_COLUMN,
    card_from_mapping,
    design_roles,
    load_with_card,
    validate_with_card,
)
from bayes_bcsm.data.design import build_design
from bayes_bcsm.data.io import CohortValidationError
from bayes_bcsm.frequentist.cox import cox_ph_design

LONG = {
    "id_column": "id",
    "start_column": "start",
    "time_column": "stop",
    "time_unit": "days",
    "event_column": "event",
    "covariates": {
        "age": {"kind": "continuous"},
        "surgery": {"kind": "binary"},
        "transplant": {"kind": "binary", "time_varying": True},
    },
}


def _long() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "a", "b", "c", "c", "d"],
            "start": [0, 10, 0, 0, 5, 0],
            "stop": [10, 40, 25, 5, 60, 30],
            "event": [0, 1, 1, 0, 0, 1],
            "age": [50, 50, 61, 45, 45, 70],
            "surgery": [0, 0, 1, 1, 1, 0],
            "transplant": [0, 1, 0, 0, 1, 0],
        }
    ).astype(str)


def _problems(card: dict, raw: pd.DataFrame) -> str:
    with pytest.raises(CohortValidationError) as info:
        validate_with_card(card_from_mapping("mine", card), raw, "mine.csv", 2)
    return str(info.value)


@pytest.fixture(scope="module")
def stanford() -> pd.DataFrame:
    from lifelines.datasets import load_stanford_heart_transplants

    return load_stanford_heart_transplants().astype(str)


def _stanford_cox(stanford: pd.DataFrame, **card) -> pd.DataFrame:
    mapping = LONG | {"covariates": LONG["covariates"] | {"year": {"kind": "continuous"}}}
    cohort = validate_with_card(card_from_mapping("s", mapping | card), stanford, "s.csv", 2)
    covariates = ["age", "year", "surgery", "transplant"]
    design = build_design(cohort.frame, covariates, **design_roles(cohort.frame))
    return cox_ph_design(design).summary.set_index("covariate"), cohort


def test_long_stanford_card_gives_the_time_dependent_cox(stanford):
    """172 rows of 103 patients; Cox (Efron) on (start, stop] equals lifelines'
    CoxTimeVaryingFitter: transplant -0.0103 (SE 0.3138)."""
    cox, cohort = _stanford_cox(stanford)
    assert len(cohort.frame) == 172 and cohort.frame["patient_id"].nunique() == 103
    assert "172 (start, stop] rows of 103 patients" in cohort.accounting.describe()
    assert cox.loc["transplant", "coef"] == pytest.approx(-0.0103, abs=5e-5)
    assert cox.loc["transplant", "se"] == pytest.approx(0.3138, abs=5e-5)


def test_ever_coding_reproduces_the_naive_analysis(stanford):
    """exposure_coding=ever: one row per patient from acceptance, transplant = ever; lifelines'
    CoxPHFitter on that coding gives -1.7045 (HR 0.18)."""
    cox, cohort = _stanford_cox(stanford, exposure_coding="ever")
    assert len(cohort.frame) == 103 and ENTRY_COLUMN not in cohort.frame
    assert cox.loc["transplant", "coef"] == pytest.approx(-1.7045, abs=5e-5)
    assert np.exp(cox.loc["transplant", "coef"]) == pytest.approx(0.18, abs=0.005)
    assert "exposure_coding=ever: 103 patients" in cohort.accounting.describe()


def test_long_format_frame(tmp_path):
    path = tmp_path / "long.csv"
    _long().to_csv(path, index=False)
    cohort = load_with_card(card_from_mapping("mine", LONG), path)
    frame = cohort.frame
    np.testing.assert_allclose(frame[ENTRY_COLUMN] * 30.4375, [0, 10, 0, 0, 5, 0])
    np.testing.assert_allclose(frame["time_months"] * 30.4375, [10, 40, 25, 5, 60, 30])
    assert design_roles(frame) == {"entry": ENTRY_COLUMN, "id_column": "patient_id"}
    # follow-up is per patient (her last stop), not per episode
    assert "follow-up 25 to 60 days" in cohort.accounting.describe()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {(1, "start"): "5"},
            "row 3, patient_id 'a', column 'start': episode (5, 40] overlaps episode (0, 10] "
            "of the same id (row 2)",
        ),
        (
            {(3, "start"): "5"},
            "row 5, patient_id 'c', column 'start': start 5 is not before stop 5",
        ),
        (
            {(0, "event"): "1"},
            "row 2, patient_id 'a', column 'event': event on the episode ending at 10, but this "
            "id is followed to 40",
        ),
        (
            {(1, "age"): "51"},
            "row 3, patient_id 'a', column 'age': time-fixed covariate changes between "
            "episodes of this id: '51' here, '50' at row 2",
        ),
        (
            {(4, "start"): "soon"},
            "row 6, patient_id 'c', column 'start': found 'soon', expected a start in days >= 0",
        ),
        (
            {(2, "start"): "-3"},
            "row 4, patient_id 'b', column 'start': found '-3', expected a start in days >= 0",
        ),
    ],
)
def test_long_format_breaches_are_named(edit, message):
    raw = _long()
    for (row, column), value in edit.items():
        raw.loc[row, column] = value
    assert message in _problems(LONG, raw)


def test_a_missing_start_column_names_its_key():
    raw = _long().drop(columns="start")
    assert "column 'start' named by data.start_column is not in the file" in _problems(LONG, raw)


def test_delayed_entry_in_wide_data():
    """start_column alone: one row per patient, at risk from her entry; entry >= exit named."""
    card = LONG | {"id_column": None}
    raw = _long().drop_duplicates("id")
    cohort = validate_with_card(card_from_mapping("mine", card), raw, "mine.csv", 2)
    assert len(cohort.frame) == 4
    assert design_roles(cohort.frame) == {"entry": None, "id_column": None}  # all start at 0
    raw.loc[raw.index[1], "start"] = "25"
    cohort = validate_with_card(card_from_mapping("mine", card), raw.iloc[[0, 2, 3]], "m", 2)
    assert design_roles(cohort.frame)["entry"] is None
    problems = _problems(card, raw)
    assert "row 3, patient_id 'row 3', column 'start': start 25 is not before stop 25" in problems


WIDE = {
    "id_column": "pid",
    "time_column": "months",
    "event_column": "died",
    "covariates": {"age": {"kind": "continuous"}},
    "time_varying": {"hormone_therapy": {"start_column": "endocrine_start"}},
}


def _wide() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pid": ["p1", "p2", "p3", "p4"],
            "months": [10, 8, 12, 5],
            "died": [1, 0, 1, 1],
            "age": [50, 60, 70, 40],
            "endocrine_start": [3, "", 0, 7],  # inside, never, from entry, after the end
        }
    ).astype(str)


def test_exposures_from_start_times_build_the_episodes():
    """p1 is unexposed on (0, 3] and exposed on (3, 10] with her death; p2 (empty start) never;
    p3 (start 0) exposed throughout; p4 (start after her death) never."""
    cohort = validate_with_card(card_from_mapping("mine", WIDE), _wide(), "w.csv", 2)
    frame = cohort.frame
    got = frame[["patient_id", ENTRY_COLUMN, "time_months", "event", "hormone_therapy", "age"]]
    want = pd.DataFrame(
        {
            "patient_id": ["p1", "p1", "p2", "p3", "p4"],
            ENTRY_COLUMN: [0.0, 3, 0, 0, 0],
            "time_months": [3.0, 10, 8, 12, 5],
            "event": [0, 1, 0, 1, 1],
            "hormone_therapy": [0, 1, 0, 1, 0],
            "age": [50.0, 50, 60, 70, 40],
        }
    )
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)
    assert "endocrine_start" not in frame
    assert design_roles(frame) == {"entry": ENTRY_COLUMN, "id_column": "patient_id"}
    ever = card_from_mapping("mine", WIDE | {"exposure_coding": "ever"})
    naive = validate_with_card(ever, _wide(), "w.csv", 2).frame
    assert naive["hormone_therapy"].tolist() == [1, 0, 1, 0]  # p4 started after her death
    assert naive["time_months"].tolist() == [10, 8, 12, 5]


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (
            1,
            "endocrine_start",
            "-1",
            "row 3, patient_id 'p2', column 'endocrine_start': found '-1', expected an exposure "
            "start (empty = never exposed) in months >= 0",
        ),
        (2, "pid", "p1", "row 4, patient_id 'p1', column 'pid': duplicate patient id 'p1'"),
    ],
)
def test_exposure_start_breaches_are_named(row, column, value, message):
    raw = _wide()
    raw.loc[row, column] = value
    assert message in _problems(WIDE, raw)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_varying": {"ht": {}}}, "data.time_varying.ht.start_column is not given"),
        (
            {"time_varying": {"age": {"start_column": "endocrine_start"}}},
            "data.time_varying.age: 'age' is also a file covariate",
        ),
        ({"exposure_coding": "never"}, "data.exposure_coding='never': expected one of"),
    ],
)
def test_card_keys_of_entry_times_are_checked(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        card_from_mapping("mine", WIDE | change)
