"""(start, stop] episodes: the validation rules of issue 21 and building episodes from a wide frame.

Expected episodes are written out by hand from the tmerge rule (unexposed until the exposure
starts, exposed from then on; the event on the last episode), and lifelines' Stanford
heart-transplant data (the long form of Crowley & Hu 1977 that lifelines and R's ``heart``
distribute) serve as an oracle for a real data set.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data.episodes import build_episodes, validate_episodes
from bayes_bcsm.data.io import CohortValidationError
from bayes_bcsm.errors import BayesBcsmUserError

GOOD = pd.DataFrame(
    {
        "pid": ["A", "A", "B", "C", "C", "C"],
        "start": [0.0, 4.0, 0.0, 1.0, 3.0, 7.0],
        "stop": [4.0, 10.0, 8.0, 3.0, 7.0, 9.0],
        "dead": [0, 1, 0, 0, 0, 1],
        "sex": ["f", "f", "m", "f", "f", "f"],
        "tx": [0, 1, 0, 0, 1, 1],
    }
)


def _problems(frame: pd.DataFrame, fixed=("sex",), first_row: int = 2) -> str:
    with pytest.raises(CohortValidationError) as info:
        validate_episodes(
            frame, "pid", "start", "stop", "dead", fixed, source="f.csv", first_row=first_row
        )
    assert isinstance(info.value, BayesBcsmUserError)
    return str(info.value)


def _with(**changes) -> pd.DataFrame:
    """GOOD with cells changed: ``column=(position, value)``."""
    frame = GOOD.copy()
    for column, (position, value) in changes.items():
        frame[column] = frame[column].astype(object)
        frame.loc[position, column] = value
    return frame


def test_valid_episodes_pass():
    validate_episodes(GOOD, "pid", "start", "stop", "dead", ["sex"])


def test_start_must_be_non_negative():
    msg = _problems(_with(start=(0, -1.0)))
    assert "f.csv: 1 problem(s)" in msg
    assert "row 2, patient_id 'A', column 'start': start -1 is negative; expected >= 0" in msg


def test_start_must_be_before_stop():
    msg = _problems(_with(start=(2, 8.0)))
    assert (
        "row 4, patient_id 'B', column 'start': start 8 is not before stop 8; an episode is "
        "(start, stop] with start < stop" in msg
    )


def test_episodes_of_one_id_must_not_overlap():
    msg = _problems(_with(start=(4, 2.0)))
    assert (
        "row 6, patient_id 'C', column 'start': episode (2, 7] overlaps episode (1, 3] of the "
        "same id (row 5)" in msg
    )
    # a gap is allowed (not at risk in between)
    validate_episodes(_with(start=(4, 4.0)), "pid", "start", "stop", "dead", ["sex"])


def test_at_most_one_event_per_id():
    msg = _problems(_with(dead=(4, 1)))
    assert (
        "row 7, patient_id 'C', column 'dead': a second event for this id (the first at row "
        "6); at most one event per id" in msg
    )


def test_event_only_on_the_last_episode():
    msg = _problems(_with(dead=(0, 1)).assign(dead=lambda f: f["dead"].where(f.index != 1, 0)))
    assert (
        "row 2, patient_id 'A', column 'dead': event on the episode ending at 4, but this id "
        "is followed to 10; the event belongs on the last episode" in msg
    )


def test_time_fixed_covariates_do_not_change():
    msg = _problems(_with(sex=(5, "m")))
    assert (
        "row 7, patient_id 'C', column 'sex': time-fixed covariate changes between episodes "
        "of this id: 'm' here, 'f' at row 5" in msg
    )
    msg = _problems(_with(sex=(1, None)))  # missing vs present is a change
    assert "row 3, patient_id 'A', column 'sex': time-fixed covariate changes" in msg
    # the time-varying column may change
    validate_episodes(GOOD, "pid", "start", "stop", "dead", ["sex"])


def test_every_problem_is_listed_and_bad_values_are_named():
    frame = _with(start=(0, "soon"), stop=(2, None), dead=(3, 2))
    msg = _problems(frame)
    assert "f.csv: 3 problem(s)" in msg
    assert "row 2, patient_id 'A', column 'start': 'soon' is not a number" in msg
    assert "row 4, patient_id 'B', column 'stop': missing" in msg
    assert "row 5, patient_id 'C', column 'dead': event 2; expected 0 (censored) or 1" in msg
    msg = _problems(GOOD, fixed=("age",))
    assert "column 'age': no such column; available: pid, start, stop, dead, sex, tx" in msg


# ------------------------------------------------------------------------- building
WIDE = pd.DataFrame(
    {
        "pid": ["A", "B", "C", "D", "E"],
        "months": [10.0, 8.0, 5.0, 6.0, 9.0],
        "dead": [1, 0, 1, 1, 0],
        "age": [50, 60, 70, 40, 55],
        "tx_start": [4.0, np.nan, 0.0, 12.0, 1.0],
        "rt_start": [4.0, 2.0, np.nan, 3.0, 5.0],
        "entry": [0.0, 0.0, 0.0, 0.0, 2.0],
    }
)


def test_build_episodes_by_hand():
    """A: tx and rt from month 4 -> (0, 4] unexposed, (4, 10] both, death on the last.
    B: never tx, rt from 2. C: tx from 0 -> exposed throughout. D: tx starts after death
    (month 12) -> never within follow-up; rt from 3. E: enters at 2, tx from 1 (before entry)
    -> exposed throughout; rt from 5."""
    got = build_episodes(
        WIDE, "pid", "months", "dead", {"tx": "tx_start", "rt": "rt_start"}, entry_column="entry"
    )
    want = pd.DataFrame(
        {
            "pid": ["A", "A", "B", "B", "C", "D", "D", "E", "E"],
            "start": [0.0, 4, 0, 2, 0, 0, 3, 2, 5],
            "months": [4.0, 10, 2, 8, 5, 3, 6, 5, 9],
            "dead": [0, 1, 0, 0, 1, 0, 1, 0, 0],
            "age": [50, 50, 60, 60, 70, 40, 40, 55, 55],
            "entry": [0.0, 0, 0, 0, 0, 0, 0, 2, 2],
            "tx": [0, 1, 0, 0, 1, 0, 0, 1, 1],
            "rt": [0, 1, 0, 1, 0, 0, 1, 0, 1],
        }
    )
    pd.testing.assert_frame_equal(got, want)
    validate_episodes(got, "pid", "start", "months", "dead", ["age"])


def test_build_episodes_without_entry_starts_at_zero():
    got = build_episodes(WIDE.iloc[[4]], "pid", "months", "dead", {"tx": "tx_start"})
    assert got[["start", "months", "tx"]].values.tolist() == [[0.0, 1.0, 0], [1.0, 9.0, 1]]


def test_build_episodes_reproduces_the_stanford_long_data():
    """From one row per patient plus the transplant day, the episodes are lifelines' long
    Stanford data (start, stop, event, transplant per row)."""
    from lifelines.datasets import load_stanford_heart_transplants

    long = load_stanford_heart_transplants()
    transplant_day = long[long["transplant"] == 1].groupby("id")["start"].min()
    wide = long.groupby("id", as_index=False).agg(
        stop=("stop", "max"),
        event=("event", "max"),
        age=("age", "first"),
        year=("year", "first"),
        surgery=("surgery", "first"),
    )
    wide["transplant_day"] = wide["id"].map(transplant_day)
    got = build_episodes(wide, "id", "stop", "event", {"transplant": "transplant_day"})
    want = long.sort_values(["id", "start"]).reset_index(drop=True)
    columns = ["id", "start", "stop", "event", "age", "year", "surgery", "transplant"]
    pd.testing.assert_frame_equal(got[columns], want[columns], check_dtype=False)
    validate_episodes(got, "id", "start", "stop", "event", ["age", "year", "surgery"])


def test_build_episodes_errors_name_row_id_and_column():
    bad = WIDE.assign(
        pid=["A", "B", "C", "D", "A"],
        tx_start=[4.0, -1.0, 0.0, 12.0, 1.0],
        months=[10.0, 8.0, None, 6.0, 9.0],
        entry=[0.0, 0.0, 0.0, 6.0, 2.0],
        rt_start=["4", "2", "x", "3", "5"],
    )
    with pytest.raises(CohortValidationError) as info:
        build_episodes(
            bad,
            "pid",
            "months",
            "dead",
            {"tx": "tx_start", "rt": "rt_start"},
            entry_column="entry",
            source="cohort.csv",
            first_row=2,
        )
    msg = str(info.value)
    assert "cohort.csv: 5 problem(s)" in msg
    for line in (
        "row 6, patient_id 'A', column 'pid': duplicate id; expected one row per patient",
        "row 3, patient_id 'B', column 'tx_start': start of 'tx' at -1 is negative; expected "
        ">= 0 or empty (never exposed)",
        "row 4, patient_id 'C', column 'months': missing",
        "row 5, patient_id 'D', column 'months': follow-up ends at 6, not after entry 6",
        "row 4, patient_id 'C', column 'rt_start': 'x' is not a number",
    ):
        assert line in msg, (line, msg)
    with pytest.raises(CohortValidationError, match=re.escape("column 'start_day': no such")):
        build_episodes(WIDE, "pid", "months", "dead", {"tx": "start_day"})
