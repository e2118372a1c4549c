"""Landmark analysis (issue 21): who is kept at L, her covariates as known at L, time from L.

Expected values are written out by hand for a small frame covering each rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data.card import ENTRY_COLUMN
from bayes_bcsm.data.design import DesignError
from bayes_bcsm.data.landmark import Landmark, landmark_frame
from bayes_bcsm.errors import SettingError


def _episodes() -> pd.DataFrame:
    rows = [
        # id, entry, stop, event, exposed, age
        ("a", 0, 10, 0, 0, 50),  # exposure starts at L = 10: known at L
        ("a", 10, 40, 1, 1, 50),
        ("b", 0, 25, 1, 0, 61),  # never exposed, alive at L
        ("c", 0, 5, 0, 0, 45),  # exposed from 5
        ("c", 5, 60, 0, 1, 45),
        ("d", 12, 30, 1, 0, 70),  # entered after L: not under follow-up at L
        ("e", 0, 10, 1, 0, 55),  # died at L: not alive after it
        ("f", 0, 8, 0, 0, 66),  # a gap over L: not under follow-up at L
        ("f", 12, 30, 1, 0, 66),
        ("g", 0, 15, 0, 0, 48),  # exposure starts after L: not known at L
        ("g", 15, 50, 1, 1, 48),
    ]
    frame = pd.DataFrame(
        rows, columns=["patient_id", ENTRY_COLUMN, "time_months", "event", "exposed", "age"]
    )
    return frame.astype({ENTRY_COLUMN: float, "time_months": float})


def test_landmark_keeps_the_patients_at_risk_at_l_with_their_covariates_then():
    frame, note = landmark_frame(_episodes(), Landmark(10.0))
    want = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "g"],
            "time_months": [30.0, 15, 50, 40],
            "event": [1, 1, 0, 1],
            "exposed": [1, 0, 1, 0],
            "age": [50, 61, 45, 48],
        }
    )
    pd.testing.assert_frame_equal(frame, want, check_dtype=False)
    assert note.startswith("landmark at 10 months: 4 of 7 patients alive and under follow-up")


def test_landmark_on_one_row_per_patient():
    wide = pd.DataFrame(
        {"patient_id": ["p", "q", "r"], "time_months": [3.0, 9, 12], "event": [1, 0, 1]}
    )
    frame, _ = landmark_frame(wide, Landmark(6.0))
    assert frame["patient_id"].tolist() == ["q", "r"]
    np.testing.assert_allclose(frame["time_months"], [3.0, 6.0])


def test_a_landmark_nobody_reaches_is_refused():
    with pytest.raises(DesignError, match=r"landmark_months=70: no patient is alive .* at 60"):
        landmark_frame(_episodes(), Landmark(70.0))


@pytest.mark.parametrize("months", [0.0, -1.0, float("nan")])
def test_the_landmark_is_a_positive_time(months):
    with pytest.raises(SettingError, match="expected a time in months > 0"):
        Landmark(months)
