"""The loader: valid files round-trip with their accounting; every contract breach is named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayes_bcsm.data import COHORT_COLUMNS, CohortValidationError, load_cohort, validate_cohort
from tests.data.conftest import valid_rows


def test_valid_csv_round_trips_with_accounting(valid_frame, write_csv):
    valid_frame["site"] = ["a", "b", "c", "d"]
    cohort = load_cohort(write_csv(valid_frame))
    acc = cohort.accounting
    assert (acc.rows_read, acc.rows_usable) == (4, 4)
    assert acc.extra_columns == ("site",)
    assert acc.missing == {"hormone_receptor": 1, "her2": 2, "ki67": 2}
    frame = cohort.frame
    assert list(frame["patient_id"]) == ["P001", "P002", "P003", "P004"]
    assert frame["event"].dtype == "Int64" and list(frame["event"]) == [1, 1, 0, 0]
    assert frame["time_months"].dtype == float
    np.testing.assert_allclose(frame["time_months"], [50.5, 12, 80, 3.2])
    assert list(frame["asia_pre"].cat.categories) == ["A", "B", "C", "D", "E"]
    assert pd.isna(frame.loc[1, "hormone_receptor"])
    assert list(frame["site"]) == ["a", "b", "c", "d"]
    assert "4 rows read, 4 usable" in acc.describe()
    assert "her2: unknown for 2 of 4" in acc.describe()


def test_parquet_round_trip_equals_csv(valid_frame, write_csv, tmp_path):
    from_csv = load_cohort(write_csv(valid_frame)).frame
    typed = from_csv.copy()
    path = tmp_path / "cohort.parquet"
    typed.to_parquet(path)
    from_parquet = load_cohort(path).frame
    pd.testing.assert_frame_equal(from_csv, from_parquet)


def _error(frame: pd.DataFrame, write_csv) -> CohortValidationError:
    with pytest.raises(CohortValidationError) as info:
        load_cohort(write_csv(frame))
    return info.value


def test_missing_required_column_is_named(valid_frame, write_csv):
    err = _error(valid_frame.drop(columns=["kps_pre"]), write_csv)
    assert "cohort.csv" in str(err)
    assert "column 'kps_pre': required column is missing" in str(err)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("age_years", "fifty", "expected a finite number >= 0 and <= 120"),
        ("vas_pre", "6.5", "expected an integer >= 0 and <= 10"),
        ("kps_pre", "75", "multiple of 10"),
        ("time_months", "0", "expected a finite number > 0"),
        ("time_months", "-3", "expected a finite number > 0"),
        ("time_months", "inf", "expected a finite number > 0"),
        ("time_months", "nan", "empty cell"),
        ("event", "2", "expected 0 or 1"),
        ("event", "yes", "expected 0 or 1"),
        ("asia_pre", "F", "expected one of 'A', 'B', 'C', 'D', 'E'"),
        ("surgery_type", "laminectomy", "expected one of 'tes', 'debulking'"),
        (
            "hormone_receptor",
            "pos",
            "expected one of 'negative', 'positive' (or empty when unknown)",
        ),
        ("radiotherapy", "", "empty cell"),
    ],
)
def test_bad_value_names_row_patient_column_and_expectation(
    valid_frame, write_csv, column, value, expected
):
    valid_frame.loc[2, column] = value
    message = str(_error(valid_frame, write_csv))
    assert "row 4, patient_id 'P003', column " + repr(column) in message
    assert expected in message


def test_duplicate_patient_id(valid_frame, write_csv):
    valid_frame.loc[3, "patient_id"] = "P001"
    message = str(_error(valid_frame, write_csv))
    assert "row 5, patient_id 'P001', column 'patient_id'" in message
    assert "duplicate patient_id 'P001' (first at row 2)" in message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(CohortValidationError, match=r"(?s)empty\.csv.*the file is empty"):
        load_cohort(path)


def test_header_only(valid_frame, write_csv):
    with pytest.raises(CohortValidationError, match="header but no patient rows"):
        load_cohort(write_csv(valid_frame.iloc[:0]))


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_cohort(tmp_path / "nope.csv")
    path = tmp_path / "cohort.xlsx"
    path.write_text("x")
    with pytest.raises(CohortValidationError, match=r"unsupported file type '.xlsx'"):
        load_cohort(path)


def test_all_problems_reported_together(valid_frame, write_csv):
    valid_frame.loc[0, "event"] = "3"
    valid_frame.loc[3, "vas_post"] = "11"
    err = _error(valid_frame, write_csv)
    assert len(err.problems) == 2
    assert [p.column for p in err.problems] == ["event", "vas_post"]


NUMERIC = [c for c in COHORT_COLUMNS if c.kind in ("binary", "integer", "float")]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    column=st.sampled_from(NUMERIC),
    row=st.integers(0, 3),
    bad=st.one_of(
        st.text(alphabet="abcxyz", min_size=1, max_size=4),
        st.sampled_from(["-1e9", "1e9", "inf", "-inf", "0.5"]),
    ),
)
def test_generated_bad_numeric_cells_are_rejected_where_invalid(column, row, bad):
    """Property: a cell the column spec rejects always yields a problem at that row and column."""
    frame = valid_rows()
    frame.loc[row, column.name] = bad
    value = pd.to_numeric(pd.Series([bad]), errors="coerce").iloc[0]
    acceptable = np.isfinite(value) and (
        (column.kind == "float" or value % 1 == 0)
        and (column.kind != "binary" or value in (0, 1))
        and (
            column.minimum is None
            or value > column.minimum
            or (value == column.minimum and not column.exclusive_minimum)
        )
        and (column.maximum is None or value <= column.maximum)
        and (column.step is None or value % column.step == 0)
    )
    if acceptable:
        validate_cohort(frame)
        return
    with pytest.raises(CohortValidationError) as info:
        validate_cohort(frame, first_data_line=2)
    assert any(p.column == column.name and p.row == row + 2 for p in info.value.problems)


def _problems(path) -> str:
    with pytest.raises(CohortValidationError) as info:
        load_cohort(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_latin1_file_is_named_with_an_encoding_hint(valid_frame, tmp_path):
    valid_frame.loc[0, "pathology"] = "idc"
    valid_frame["site"] = ["Zürich", "a", "b", "c"]
    path = tmp_path / "latin1.csv"
    path.write_bytes(valid_frame.to_csv(index=False).encode("latin-1"))
    assert "not UTF-8" in _problems(path) and "iconv" in _problems(path)


def test_utf8_with_byte_order_mark_is_read(valid_frame, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(valid_frame.to_csv(index=False).encode("utf-8-sig"))
    assert list(load_cohort(path).frame["patient_id"]) == ["P001", "P002", "P003", "P004"]


def test_semicolon_file_gets_a_delimiter_hint(valid_frame, tmp_path):
    path = tmp_path / "semicolon.csv"
    valid_frame.to_csv(path, index=False, sep=";")
    text = _problems(path)
    assert "semicolon-separated" in text and "required column is missing" not in text


def test_ragged_rows_are_named_by_line(valid_frame, tmp_path):
    path = tmp_path / "ragged.csv"
    lines = valid_frame.to_csv(index=False).splitlines()
    lines[2] += ",extra"  # line 3 of the file: one field too many
    lines[4] = lines[4].rsplit(",", 1)[0]  # line 5: one field short
    path.write_text("\n".join(lines) + "\n")
    text = _problems(path)
    assert "row 3: line 3 has 37 fields, the header has 36" in text
    assert "row 5: line 5 has 35 fields" in text


def test_duplicated_header_is_named(valid_frame, tmp_path):
    path = tmp_path / "dup.csv"
    lines = valid_frame.to_csv(index=False).splitlines()
    lines = [line + "," + line.rsplit(",", 1)[1] for line in lines]  # event twice
    path.write_text("\n".join(lines) + "\n")
    text = _problems(path)
    assert "column 'event': the header names this column 2 times (columns 36, 37)" in text


def test_implausible_time_is_rejected(valid_frame, write_csv):
    valid_frame.loc[1, "time_months"] = "1e308"
    text = str(_error(valid_frame, write_csv))
    assert "row 3" in text and "'time_months'" in text and "<= 1200" in text


def test_one_patient_and_no_event_files_are_refused(valid_frame, write_csv):
    assert "needs at least 2 patients" in str(_error(valid_frame.iloc[:1], write_csv))
    no_events = valid_frame.assign(event="0")
    assert "no patient has event = 1" in str(_error(no_events, write_csv))


@pytest.mark.parametrize("loader", ["study", "card"])
def test_an_unreadable_file_is_named_in_one_line(tmp_path, monkeypatch, valid_frame, loader):
    """The PermissionError of a file the user may not read (simulated: the tests may run as
    root, who reads anything) becomes one line naming the file."""
    from bayes_bcsm.data.card import card_from_mapping, load_with_card
    from bayes_bcsm.data.io import CohortFileError

    path = tmp_path / "locked.csv"
    valid_frame.to_csv(path, index=False)
    real_open = Path.open

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(CohortFileError) as info:
        if loader == "study":
            load_cohort(path)
        else:
            load_with_card(card_from_mapping("mine", {}), path)
    assert str(info.value) == (
        f"{path}: cannot read the cohort file (Permission denied); check that you may read it "
        f"(ls -l {path}) and that it is not locked by another program"
    )


@pytest.mark.parametrize(
    ("text", "fast"),
    [
        ("a,b\n1,2\n3,4\n", True),
        ("a,b\r\n1, 2\r\n\r\n3,4", True),  # CR LF, a blank line, skipped initial space
        ("a,b\n,\n1,\n", True),  # empty cells are text, not missing
        ("a,b\n1,2\n3\n", False),  # short record
        ("a,b\n1,2\n3,4,5\n", False),  # long record
        ('a,b\n"x\ny",2\n3,4\n', False),  # quoted line break: lines are not records
        ('a,b\n"1,5",2\n', False),  # quoted comma
        ("a,b\n1,2\n   \n3,4\n", False),  # a line of spaces is a one-field record
        ("a\n1\n\n2\n", False),  # one column: no commas to count
    ],
)
def test_fast_csv_parse_vouches_only_for_regular_files(tmp_path, text, fast):
    """The C-parser fast path (:func:`bayes_bcsm.data.io._parse_csv`) returns a frame only for
    files whose every record has the header's field count by Python's ``csv`` module (the
    record-by-record reading it replaces), and then the same frame; otherwise it defers."""
    import csv
    import io

    from bayes_bcsm.data.io import _parse_csv, read_csv_text

    path = tmp_path / "cells.csv"
    path.write_bytes(text.encode())
    records = [r for r in csv.reader(io.StringIO(text), skipinitialspace=True) if r]
    regular = all(len(r) == len(records[0]) for r in records)
    frame = _parse_csv(text, text.encode(), len(records[0]))
    assert (frame is not None) == fast
    if fast:
        assert regular
        assert frame.values.tolist() == [[c.strip() for c in r] for r in records[1:]]
        pd.testing.assert_frame_equal(frame, read_csv_text(path))
    elif regular:
        assert read_csv_text(path).values.tolist() == records[1:]
    else:
        with pytest.raises(CohortValidationError, match="fields, the header has"):
            read_csv_text(path)
