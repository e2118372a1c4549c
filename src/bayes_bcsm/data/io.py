"""Read a cohort file (CSV or Parquet) and validate it against the contract.

Every problem found is reported with the file, the row (1-based line number in a CSV,
counting the header as line 1), the patient id, the column, the offending value and
what was expected. Nothing is dropped silently: a file either validates as a whole or
raises :class:`CohortValidationError` listing what is wrong.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_bcsm.data.contract import COHORT_COLUMNS, REQUIRED_COLUMNS, ColumnSpec
from bayes_bcsm.data.follow_up import FollowUp, follow_up_range
from bayes_bcsm.errors import BayesBcsmUserError

MAX_PROBLEMS_SHOWN = 20


class CohortValidationError(BayesBcsmUserError, ValueError):
    """A cohort file does not follow the data contract.

    Attributes
    ----------
    source : str
        The file (or frame description) that failed.
    problems : list of CohortProblem
        Every problem found, in file order.
    """

    def __init__(self, source: str, problems: list[CohortProblem]):
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{source}: {len(problems)} problem(s) with the cohort data "
            f"(see data/README.md for the contract):\n{shown}{tail}"
        )


class CohortFileError(BayesBcsmUserError):
    """A cohort file that exists but cannot be opened (permissions, a lock, an I/O error)."""


def check_readable(path: Path) -> None:
    """Open ``path`` for reading once, so an unreadable file is reported as such.

    Raises
    ------
    CohortFileError
        One line naming the file, the system's reason and what to check.
    """
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise CohortFileError(
            f"{path}: cannot read the cohort file ({reason}); check that you may read it "
            f"(ls -l {path}) and that it is not locked by another program"
        ) from error


@dataclass(frozen=True)
class CohortProblem:
    """One validation problem: where it is, what was found and what was expected."""

    message: str
    row: int | None = None
    patient_id: str | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.patient_id:
            where.append(f"patient_id {self.patient_id!r}")
        if self.column:
            where.append(f"column {self.column!r}")
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass(frozen=True)
class CohortAccounting:
    """What was read and what is usable.

    Attributes
    ----------
    source : str
        File path or description of the frame.
    rows_read : int
        Data rows in the file.
    rows_usable : int
        Rows that passed validation (all of them: a file with an invalid row is rejected).
    extra_columns : tuple of str
        Columns not in the contract; kept in the frame and reported, not an error.
    missing : dict of str to int
        Number of empty cells per column that may be missing (only columns with any).
    notes : tuple of str
        What was done to the values (e.g. a unit conversion) and warnings to read.
    follow_up : FollowUp or None
        The range of the follow-up times in the file's unit and in months, with a warning when
        that scale is implausible (:mod:`bayes_bcsm.data.follow_up`).
    """

    source: str
    rows_read: int
    rows_usable: int
    extra_columns: tuple[str, ...] = ()
    missing: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    follow_up: FollowUp | None = None

    def describe(self) -> str:
        """A short plain-text account for logs and reports."""
        lines = [f"{self.source}: {self.rows_read} rows read, {self.rows_usable} usable."]
        for column, count in self.missing.items():
            lines.append(f"  {column}: unknown for {count} of {self.rows_read}")
        if self.extra_columns:
            lines.append(
                "  extra columns kept (not in the contract): " + ", ".join(self.extra_columns)
            )
        lines += [f"  {note}" for note in self.notes]
        if self.follow_up is not None:
            lines.append(f"  {self.follow_up.describe()}")
            warning = self.follow_up.warning()
            if warning:
                lines.append(f"  WARNING: {warning}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Cohort:
    """A validated cohort: the typed frame and the accounting of how it was read."""

    frame: pd.DataFrame
    accounting: CohortAccounting

    @property
    def n(self) -> int:
        """Number of patients."""
        return len(self.frame)


def load_cohort(path: str | Path) -> Cohort:
    """Read a cohort CSV or Parquet file and validate it against the contract.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.parquet`` file with one row per patient and the columns of
        ``data/README.md``.

    Returns
    -------
    Cohort
        The typed frame (binary and integer columns as nullable ``Int64``, categories as
        ordered ``Categorical``, floats as ``float64``) and its accounting.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    CohortFileError
        If it cannot be read.
    CohortValidationError
        If the file is empty or any row or column breaks the contract; the message names
        the file, row, patient id and column and says what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cohort file not found: {path}")
    check_readable(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = read_csv_text(path)
        first_data_line = 2
    elif suffix in (".parquet", ".pq"):
        raw = pd.read_parquet(path)
        first_data_line = 1
    else:
        raise CohortValidationError(
            str(path),
            [CohortProblem(f"unsupported file type {suffix!r} (expected .csv or .parquet)")],
        )
    cohort = validate_cohort(raw, source=str(path), first_data_line=first_data_line)
    problems = _too_small(cohort.frame)
    if problems:
        raise CohortValidationError(str(path), problems)
    return cohort


def file_columns(path: Path) -> list[str]:
    """The column names of a CSV (its first line) or Parquet file; empty if unreadable."""
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return [str(c) for c in pd.read_parquet(path).columns]
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            return [c.strip() for c in next(csv.reader(handle), [])]
    except (OSError, ValueError):
        return []


def read_csv_text(path: Path) -> pd.DataFrame:
    """Read a comma-separated UTF-8 file as strings, after checking its format.

    Checked before parsing, each reported with the file name and a hint: the encoding (UTF-8,
    with or without a byte-order mark), the delimiter (a header that splits on ``;`` or tabs
    but not on commas), duplicated header names, and rows with more or fewer fields than the
    header (line numbers as in a text editor).

    Raises
    ------
    CohortValidationError
        For an empty file or any of the format problems above.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        snippet = data[max(error.start - 20, 0) : error.start + 20]
        raise CohortValidationError(
            str(path),
            [
                CohortProblem(
                    f"the file is not UTF-8 text (byte {error.start}: {data[error.start]:#04x} "
                    f"near {snippet!r}); save it as UTF-8 (e.g. 'CSV UTF-8' in Excel, or "
                    "`iconv -f latin1 -t utf-8 in.csv > out.csv`)"
                )
            ],
        ) from None
    header = next((row for row in csv.reader(io.StringIO(text), skipinitialspace=True) if row), [])
    if not header:
        raise CohortValidationError(
            str(path), [CohortProblem("the file is empty (expected a header and rows)")]
        )
    header = [h.strip() for h in header]
    problems = _header_problems(header)
    frame = None if problems else _parse_csv(text, data, len(header))
    if frame is not None:
        return frame
    # the exact field count of every record, read again record by record (only when something
    # is wrong, or the fast parse could not vouch for every record)
    problems += [
        CohortProblem(
            f"line {line} has {len(row)} fields, the header has {len(header)} (a stray or "
            "missing comma, or an unquoted comma inside a value?)",
            row=line,
        )
        for line, row in enumerate(csv.reader(io.StringIO(text), skipinitialspace=True), 1)
        if row and len(row) != len(header)
    ]
    if problems:
        raise CohortValidationError(str(path), problems)
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)


def _parse_csv(text: str, data: bytes, n_fields: int) -> pd.DataFrame | None:
    """The file as strings by pandas' C parser, or None unless every record provably has the
    header's ``n_fields`` fields: a file without quote characters whose every non-empty line
    holds ``n_fields - 1`` commas (then lines are records). Anything else (quotes, a
    one-column file, a line of the wrong length) is left to the record-by-record check. Costs
    a small part of that check and no list of rows (10^6 rows: seconds and gigabytes)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if n_fields < 2 or np.any(raw == ord('"')):
        return None
    line_ends = np.flatnonzero(raw == ord("\n"))
    starts = np.r_[0, line_ends + 1]
    ends = np.r_[line_ends, len(raw)]
    last = np.minimum(starts, len(raw) - 1)
    filled = (starts < ends) & (raw[last] != ord("\r"))  # not empty, not a bare CR LF
    commas = np.flatnonzero(raw == ord(","))
    per_line = np.searchsorted(commas, ends) - np.searchsorted(commas, starts)
    if np.any(per_line[filled] != n_fields - 1):
        return None
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    return frame if len(frame) == int(filled.sum()) - 1 else None


def _header_problems(header: list[str]) -> list[CohortProblem]:
    """Delimiter and duplicate-name problems of a CSV header."""
    if len(header) == 1:
        for delimiter, name in ((";", "semicolon"), ("\t", "tab")):
            if len(header[0].split(delimiter)) > 1:
                return [
                    CohortProblem(
                        f"the header has a single column but {len(header[0].split(delimiter))} "
                        f"{name}-separated names: the file looks {name}-separated; expected "
                        "commas (re-export as comma-separated CSV)"
                    )
                ]
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(header, 1):
        seen.setdefault(name, []).append(position)
    return [
        CohortProblem(
            f"the header names this column {len(positions)} times (columns "
            f"{', '.join(map(str, positions))}); expected each column once",
            column=name,
        )
        for name, positions in seen.items()
        if len(positions) > 1
    ]


def validate_cohort(raw: pd.DataFrame, source: str = "<frame>", first_data_line: int = 1) -> Cohort:
    """Validate and type a raw cohort frame.

    Parameters
    ----------
    raw : DataFrame
        Values as read (strings from a CSV, or typed values from Parquet / Python).
    source : str
        Name used in messages and in the accounting.
    first_data_line : int
        The number reported as the row of the frame's first record (2 for a CSV whose
        header is line 1).

    Returns
    -------
    Cohort

    Raises
    ------
    CohortValidationError
        With every problem found.
    """
    raw = raw.reset_index(drop=True)
    raw.columns = [str(c).strip() for c in raw.columns]
    problems: list[CohortProblem] = []
    missing_columns = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing_columns:
        problems.extend(
            CohortProblem("required column is missing", column=c) for c in missing_columns
        )
    if len(raw) == 0:
        problems.append(CohortProblem("the file has a header but no patient rows"))
    if problems:
        raise CohortValidationError(source, problems)

    ids = raw["patient_id"].map(_as_text)
    row_numbers = np.arange(len(raw)) + first_data_line
    typed: dict[str, pd.Series] = {}
    for spec in COHORT_COLUMNS:
        series, column_problems = _parse_column(raw[spec.name], spec, ids, row_numbers)
        typed[spec.name] = series
        problems.extend(column_problems)
    problems.sort(key=lambda p: p.row or 0)
    if problems:
        raise CohortValidationError(source, problems)

    extra = tuple(c for c in raw.columns if c not in REQUIRED_COLUMNS)
    frame = pd.DataFrame(typed)
    for column in extra:
        frame[column] = raw[column].to_numpy()
    missing = {
        spec.name: int(frame[spec.name].isna().sum())
        for spec in COHORT_COLUMNS
        if spec.may_be_missing and frame[spec.name].isna().any()
    }
    accounting = CohortAccounting(
        source,
        len(raw),
        len(frame),
        extra,
        missing,
        follow_up=follow_up_range(frame["time_months"], "months"),
    )
    return Cohort(frame, accounting)


MIN_PATIENTS = 2


def _too_small(frame: pd.DataFrame) -> list[CohortProblem]:
    """A cohort file no survival analysis can use: fewer than two patients or no event."""
    n = len(frame)
    if n < MIN_PATIENTS:
        return [
            CohortProblem(
                f"the file has {n} patient row; a survival analysis needs at least "
                f"{MIN_PATIENTS} patients (and at least one event)"
            )
        ]
    if int(frame["event"].sum()) == 0:
        return [
            CohortProblem(
                f"no patient has event = 1 among {n}: hazard ratios cannot be estimated "
                "without events (is the event column coded 1 = died?)",
                column="event",
            )
        ]
    return []


def _as_text(value: object) -> str | None:
    """A cell as stripped text, ``None`` when empty or NA."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text if text and text.upper() not in ("NA", "NAN") else None


def _parse_column(
    values: pd.Series, spec: ColumnSpec, ids: pd.Series, rows: np.ndarray
) -> tuple[pd.Series, list[CohortProblem]]:
    problems: list[CohortProblem] = []
    texts = values.map(_as_text)

    def problem(i: int, found: object, what: str | None = None) -> None:
        problems.append(
            CohortProblem(
                what or f"found {found!r}, expected {spec.expected()}",
                row=int(rows[i]),
                patient_id=ids.iloc[i],
                column=spec.name,
            )
        )

    empty = texts.isna().to_numpy()
    if not spec.may_be_missing:
        for i in np.flatnonzero(empty):
            problem(i, "", f"empty cell, expected {spec.expected()}")

    if spec.kind == "id":
        duplicated = texts.duplicated(keep=False) & ~texts.isna()
        for value in texts[duplicated].unique():
            where = np.flatnonzero((texts == value).to_numpy())
            for i in where[1:]:
                problem(i, value, f"duplicate patient_id {value!r} (first at row {rows[where[0]]})")
        return texts.astype("string"), problems

    if spec.kind == "category":
        allowed = spec.allowed or ()
        for i in np.flatnonzero(~empty & ~texts.isin(allowed).to_numpy()):
            problem(i, texts.iloc[i])
        return pd.Series(pd.Categorical(texts, categories=list(allowed), ordered=True)), problems

    numbers = pd.to_numeric(texts, errors="coerce").astype(float)
    finite = np.isfinite(numbers.to_numpy())
    bad = ~empty & ~finite
    if spec.kind in ("binary", "integer"):
        bad |= ~empty & (np.where(finite, numbers.to_numpy(), 0.0) % 1 != 0)
    if spec.kind == "binary":
        bad |= ~empty & ~numbers.isin([0.0, 1.0]).to_numpy()
    if spec.step:
        bad |= ~empty & (np.nan_to_num(numbers.to_numpy()) % spec.step != 0)
    if spec.minimum is not None:
        low = (
            numbers.to_numpy() <= spec.minimum
            if spec.exclusive_minimum
            else (numbers.to_numpy() < spec.minimum)
        )
        bad |= ~empty & low
    if spec.maximum is not None:
        bad |= ~empty & (numbers.to_numpy() > spec.maximum)
    for i in np.flatnonzero(bad):
        problem(i, texts.iloc[i])
    numbers = numbers.where(np.isfinite(numbers.to_numpy()) & ~bad)
    if spec.kind == "float":
        return numbers, problems
    return numbers.round().astype("Int64"), problems
