"""Dataset cards: what a survival cohort file holds, so any cohort can be analysed.

A card names the file's time column and its unit, the event column and its coding, an optional
id column, and each covariate: its kind (binary 0/1, categorical with levels and a reference,
continuous with the unit per which its hazard ratio is reported), allowed values or range,
missing-value codes and a label. :func:`load_with_card` reads the file, checks it against the
card and returns a :class:`~bayes_bcsm.data.io.Cohort` in the package's canonical form:

- ``time_months``: follow-up in months, converted from the card's unit (days / 30.4375,
  weeks x 7 / 30.4375, years x 12), so every model, cut point, survival horizon and axis is in
  months whatever the file held; a time of 0 follows the card's ``zero_time`` rule (shifted to
  half the shortest positive time by default, and stated; :mod:`bayes_bcsm.data.zero_time`);
- ``event``: 1 = event, 0 = censored, from the card's coding;
- ``patient_id``: the card's id column, or the file's row number;
- one column per covariate, named as in the file: binary as 0/1, categorical as an ordered
  ``Categorical`` (reference first), continuous divided by its ``hr_per`` so that one unit of
  the column is the unit its hazard ratio is reported per (e.g. age per 10 years).

Follow-up that starts after time zero (issue 21), in the card's time unit like the stop:

- **long format** (``id_column`` and ``start_column``): one row per (start, stop] episode, the
  covariates constant within it; covariates marked ``time_varying: true`` may change between a
  patient's episodes, the others are checked to be constant
  (:func:`~bayes_bcsm.data.episodes.validate_episodes`);
- **delayed entry** (``start_column`` alone): one row per patient, at risk from her start;
- **exposures with a start time** (``time_varying: {name: {start_column: column}}``, one row per
  patient): the episodes are built (:func:`~bayes_bcsm.data.episodes.build_episodes`, R's
  ``tmerge`` rule): the 0/1 covariate ``name`` is 0 before the start and 1 from it; an empty
  start means never exposed.

The canonical frame then also holds ``entry_months`` (each row's start, months).
``exposure_coding: ever`` gives instead the naive time-fixed coding (one row per patient,
followed from her first start, each time-varying covariate 1 if it was ever 1): the
immortal-time analysis to compare against.

Every problem is reported with the file, row, patient id and column, and with the card key
that refers to a missing column; event codes outside the card's coding (and the values of a
binary column declared without levels) are first summarised by value with their counts. The
bundled study's 36-column contract (:mod:`bayes_bcsm.data.contract`) is the card with
``contract="hu2025"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from bayes_bcsm.data.contract import MAX_PLAUSIBLE_TIME_MONTHS, REQUIRED_COLUMNS
from bayes_bcsm.data.episodes import build_episodes, validate_episodes
from bayes_bcsm.data.follow_up import MONTHS_PER_UNIT, REFUSED_MEDIAN_MONTHS, follow_up_range
from bayes_bcsm.data.io import (
    Cohort,
    CohortAccounting,
    CohortProblem,
    CohortValidationError,
    check_readable,
    file_columns,
    read_csv_text,
)
from bayes_bcsm.data.zero_time import (
    DEFAULT_ZERO_TIME,
    ZERO_TIME_RULES,
    ZeroTimeShift,
    refusal,
    shift_zero_times,
)

CovariateKind = Literal["binary", "categorical", "continuous"]

ENTRY_COLUMN = "entry_months"
"""Canonical column of each row's start (months) when the card has entry times."""

EXPOSURE_CODINGS = ("time_dependent", "ever")
"""``data.exposure_coding``: time-dependent covariates, or the naive 'ever exposed' coding."""


@dataclass(frozen=True)
class ExposureSpec:
    """A 0/1 covariate that switches on at a per-patient start time (card key ``time_varying``).

    Attributes
    ----------
    name : str
        The covariate's name (a design column).
    start_column : str
        File column holding the start (card's time unit; empty = never exposed).
    label : str
        Name in reports.
    """

    name: str
    start_column: str
    label: str = ""


@dataclass(frozen=True)
class CovariateSpec:
    """One covariate of a dataset card.

    Attributes
    ----------
    column : str
        Column in the file (also the design column's name).
    kind : {"binary", "categorical", "continuous"}
        Binary: the file holds two values, ``levels`` (default 0 and 1), coded 0 for the
        reference (``reference``, else the first level) and 1 for the other. Categorical:
        ``levels`` (all allowed values), the first or ``reference`` is the reference.
        Continuous: a number within ``[minimum, maximum]``.
    label : str
        Name in reports.
    levels : tuple of str
        Allowed values (binary and categorical).
    reference : str or None
        Reference level of a binary or categorical covariate (its hazard ratio is 1).
    missing_codes : tuple of str
        Values meaning "unknown" besides an empty cell (e.g. ``"NA"``, ``"-9"``).
    minimum, maximum : float or None
        Inclusive bounds of a continuous covariate, in the file's unit.
    hr_per : float
        A continuous covariate's hazard ratio is reported per this many units (e.g. 10 years).
    unit : str or None
        Unit of a continuous covariate (e.g. ``"years"``), for labels.
    time_varying : bool
        In long format, the value may change between a patient's episodes (otherwise it must
        not).
    """

    column: str
    kind: CovariateKind
    label: str = ""
    levels: tuple[str, ...] = ()
    reference: str | None = None
    missing_codes: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    hr_per: float = 1.0
    unit: str | None = None
    time_varying: bool = False

    @property
    def coded_levels(self) -> tuple[str, ...]:
        """Levels of a binary or categorical covariate, reference first (empty if continuous)."""
        levels = self.levels or (("0", "1") if self.kind == "binary" else ())
        reference = self.reference or (levels[0] if levels else None)
        return tuple([reference, *(lvl for lvl in levels if lvl != reference)]) if levels else ()

    @property
    def hr_unit(self) -> str:
        """What one unit of the coded column is, e.g. ``"per 10 years"``, ``"per year"``
        (continuous only; a plural unit in the singular for one of it)."""
        if self.kind != "continuous":
            return ""
        unit = self.unit or "unit"
        if self.hr_per == 1:
            return f"per {_singular(unit)}"
        return f"per {self.hr_per:g} {unit}"


@dataclass(frozen=True)
class DatasetCard:
    """What a cohort file holds (see the module docstring).

    Attributes
    ----------
    name : str
        Short name (``"gbsg2"``).
    title : str
        What the data are, for report headings.
    time_column, time_unit : str
        Follow-up column and its unit (``"days"``, ``"weeks"``, ``"months"``, ``"years"``).
    event_column : str
        Event indicator column.
    event_values, censor_values : tuple of str
        File values meaning event / censored.
    id_column : str or None
        Patient identifier column (row numbers when None).
    covariates : tuple of CovariateSpec
        The covariates a user may analyse.
    contract : str or None
        ``"hu2025"``: the bundled study's 36-column contract replaces the per-column checks.
    study : bool
        The data are (or follow) the paper's study: reports show the published rows.
    time_label : str
        x-axis label of survival plots (its unit is months, see the module docstring).
    outcome_label : str
        y-axis label of Kaplan-Meier plots, what the curve is the probability of (e.g.
        ``"Overall survival"``, ``"Arrest-free"``); default ``"Overall survival"`` on the
        study's card, ``"Survival"`` on any other.
    zero_time : {"shift", "refuse"}
        What a follow-up time of 0 becomes (:mod:`bayes_bcsm.data.zero_time`).
    start_column : str or None
        Start of each row's follow-up (same unit as ``time_column``): the episode start in
        long format (with ``id_column``), else a delayed entry time.
    time_varying : tuple of ExposureSpec
        0/1 exposures built from per-patient start times (one row per patient in the file).
    exposure_coding : {"time_dependent", "ever"}
        ``ever``: one row per patient, time-varying covariates coded 1 if ever 1 (naive).
    """

    name: str
    title: str
    time_column: str = "time_months"
    time_unit: str = "months"
    event_column: str = "event"
    event_values: tuple[str, ...] = ("1",)
    censor_values: tuple[str, ...] = ("0",)
    id_column: str | None = None
    covariates: tuple[CovariateSpec, ...] = ()
    contract: str | None = None
    study: bool = False
    time_label: str = "Months"
    outcome_label: str = "Survival"
    zero_time: str = DEFAULT_ZERO_TIME
    start_column: str | None = None
    time_varying: tuple[ExposureSpec, ...] = ()
    exposure_coding: str = "time_dependent"

    @property
    def long_format(self) -> bool:
        """One row per (start, stop] episode, several per patient (``id_column`` and
        ``start_column``, no exposures to build)."""
        return bool(self.id_column and self.start_column and not self.time_varying)

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """The covariates a run may request: the file's and the built exposures."""
        return tuple(c.column for c in self.covariates) + tuple(e.name for e in self.time_varying)

    def covariate(self, column: str) -> CovariateSpec:
        """The spec of one covariate (KeyError naming the card's covariates otherwise)."""
        for spec in self.covariates:
            if spec.column == column:
                return spec
        raise KeyError(
            f"{column!r} is not a covariate of the dataset card {self.name!r}; its covariates: "
            + ", ".join(c.column for c in self.covariates)
        )


@dataclass
class _Checker:
    """Collects problems with their row, patient id and column."""

    rows: np.ndarray
    ids: pd.Series
    problems: list[CohortProblem] = field(default_factory=list)

    def add(self, positions: Sequence[int], column: str, message) -> None:
        for i in positions:
            self.problems.append(
                CohortProblem(message(i), int(self.rows[i]), self.ids.iloc[i], column)
            )


def _number(text: str) -> float | None:
    """``text`` as a finite number, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _as_level(value: str | None, levels: Sequence[str]) -> str | None:
    """A cell as one of ``levels``: itself, or the one level that equals it as a number (a file
    exported with floats writes level ``1`` as ``"1.0"``; reports then say ``1``, not ``1.0``)."""
    if value is None or value in levels or (number := _number(value)) is None:
        return value
    same = [level for level in levels if _number(level) == number]
    return same[0] if len(same) == 1 else value


def _singular(unit: str) -> str:
    """``"years"`` -> ``"year"``; a unit not ending in a plural ``s`` (``"mm"``, ``"mmHg"``,
    ``"mass"``) as it is."""
    plural = len(unit) > 2 and unit.endswith("s") and not unit.endswith("ss")
    return unit[:-1] if plural else unit


def _text(values: pd.Series) -> pd.Series:
    """Each cell as its stripped text (``str`` of a non-text cell), None where it is missing or
    blank; column-wise string operations (a per-cell Python function took seconds at 10^6 rows)."""
    missing = values.isna().to_numpy()
    text = values.astype(str).str.strip()
    return text.where(~missing & (text != "").to_numpy(), None)


def load_with_card(card: DatasetCard, path: str | Path) -> Cohort:
    """Read a CSV or Parquet file and check it against ``card``.

    Parameters
    ----------
    card : DatasetCard
        What the file holds (``contract`` must be None; the study's contract has its own loader).
    path : str or Path
        The file.

    Returns
    -------
    Cohort
        The canonical frame (see the module docstring) and its accounting.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    CohortFileError
        If it cannot be read.
    CohortValidationError
        Every problem found, each naming the file, row, patient id and column (or the card key).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cohort file not found: {path}")
    check_readable(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw, first_line = read_csv_text(path), 2
    elif suffix in (".parquet", ".pq"):
        raw, first_line = pd.read_parquet(path).astype(object), 1
    else:
        raise CohortValidationError(
            str(path), [CohortProblem(f"unsupported file type {suffix!r} (.csv or .parquet)")]
        )
    return validate_with_card(card, raw, str(path), first_line)


def validate_with_card(
    card: DatasetCard, raw: pd.DataFrame, source: str, first_line: int = 1
) -> Cohort:
    """Check a raw frame against ``card`` and return the canonical :class:`Cohort`.

    Parameters
    ----------
    card : DatasetCard
        What the frame holds.
    raw : DataFrame
        Values as read (strings from a CSV).
    source : str
        Name in messages.
    first_line : int
        Row number reported for the frame's first record (2 for a CSV with a header line).
    """
    raw = raw.reset_index(drop=True)
    raw.columns = [str(c).strip() for c in raw.columns]
    keys = {"data.time_column": card.time_column, "data.event_column": card.event_column}
    if card.id_column:
        keys["data.id_column"] = card.id_column
    keys |= {f"data.covariates.{c.column}": c.column for c in card.covariates}
    keys |= _start_keys(card)
    missing = [
        CohortProblem(f"column {column!r} named by {key} is not in the file", column=column)
        for key, column in keys.items()
        if column not in raw.columns
    ]
    if missing:
        missing.append(CohortProblem(f"the file's columns: {', '.join(raw.columns)}"))
        raise CohortValidationError(source, missing)
    if len(raw) < 2:
        raise CohortValidationError(
            source, [CohortProblem(f"{len(raw)} patient row(s): at least 2 are needed")]
        )
    rows = np.arange(len(raw)) + first_line
    ids = (
        _text(raw[card.id_column])
        if card.id_column
        else pd.Series([f"row {r}" for r in rows], dtype=object)
    )
    check = _Checker(rows, ids)
    median = float(pd.to_numeric(_text(raw[card.time_column]), errors="coerce").median())
    if card.time_unit == "months" and median > REFUSED_MEDIAN_MONTHS:
        check.problems.append(
            CohortProblem(
                f"the median of {card.time_column} is {median:g}, which as months is "
                f"{median / 12:.0f} years: are the times in days? set data.time_unit=days "
                "(or weeks / years)",
                column=card.time_column,
            )
        )
    frame = pd.DataFrame({"patient_id": ids.astype("string")})
    if card.id_column:
        _check_ids(ids, check, card.id_column, unique=not card.long_format)
    event = _event(raw[card.event_column], card, check)
    frame["time_months"], shift = _time_months(raw[card.time_column], event, card, check)
    frame["event"] = event
    for spec in card.covariates:
        frame[spec.column] = _covariate(raw[spec.column], spec, check)
    starts = _start_times(raw, card, check)
    if check.problems:
        raise CohortValidationError(source, sorted(check.problems, key=lambda p: p.row or 0))
    if int(frame["event"].sum()) == 0:
        raise CohortValidationError(
            source,
            [CohortProblem("no row has an event", column=card.event_column)],
        )
    absent = [_absent_reference(spec, frame[spec.column]) for spec in card.covariates]
    if any(absent):
        raise CohortValidationError(source, [p for p in absent if p is not None])
    frame, notes = _with_entry_times(card, raw, frame, starts, source, first_line)
    if card.time_unit != "months":
        notes.append(f"times converted from {card.time_unit} to months")
    if shift is not None:
        notes.append(shift.describe())
    missing_counts = {
        c.column: int(frame[c.column].isna().sum())
        for c in card.covariates
        if frame[c.column].isna().any()
    }
    times = frame["time_months"].to_numpy() / MONTHS_PER_UNIT[card.time_unit]
    if ENTRY_COLUMN in frame:  # each patient's end of follow-up, not each episode's
        times = frame.groupby("patient_id", sort=False)["time_months"].max().to_numpy()
        times = times / MONTHS_PER_UNIT[card.time_unit]
    accounting = CohortAccounting(
        source,
        len(raw),
        len(raw),
        (),
        missing_counts,
        tuple(notes),
        follow_up_range(times, card.time_unit),
    )
    return Cohort(frame, accounting)


def design_roles(frame: pd.DataFrame) -> dict[str, str | None]:
    """``build_design`` keywords for a canonical frame: its entry column (when it has entry
    times) and its patient-id column (when a patient has several (start, stop] rows)."""
    if ENTRY_COLUMN not in frame:
        return {"entry": None, "id_column": None}
    episodes = bool(frame["patient_id"].duplicated().any())
    return {"entry": ENTRY_COLUMN, "id_column": "patient_id" if episodes else None}


def _start_keys(card: DatasetCard) -> dict[str, str]:
    """Card keys naming start-time columns, ``{key: column}``."""
    keys = {"data.start_column": card.start_column} if card.start_column else {}
    return keys | {
        f"data.time_varying.{e.name}.start_column": e.start_column for e in card.time_varying
    }


def _start_times(raw: pd.DataFrame, card: DatasetCard, check: _Checker) -> dict[str, np.ndarray]:
    """The card's start-time columns in months (``{file column: values}``), each value checked:
    a number >= 0 (an entry time must be given; an exposure start may be empty: never)."""
    factor = MONTHS_PER_UNIT[card.time_unit]
    required = {card.start_column} - {None}
    out = {}
    for column in [*required, *(e.start_column for e in card.time_varying)]:
        text = _text(raw[column])
        number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        empty = text.isna().to_numpy()
        bad = (~empty & ~(np.isfinite(number) & (number >= 0))) | (empty & (column in required))
        what = "a start" if column in required else "an exposure start (empty = never exposed)"
        check.add(
            np.flatnonzero(bad),
            column,
            lambda i, t=text, w=what: f"found {t.iloc[i]!r}, expected {w} in {card.time_unit} >= 0",
        )
        out[column] = number * factor
    return out


def _with_entry_times(
    card: DatasetCard,
    raw: pd.DataFrame,
    frame: pd.DataFrame,
    starts: dict[str, np.ndarray],
    source: str,
    first_line: int,
) -> tuple[pd.DataFrame, list[str]]:
    """The canonical frame with the card's entry times and exposures, and notes on them.

    Long format and delayed entry are checked as (start, stop] episodes (every breach with
    its row, id and file column, in the file's unit); exposures with a start time are turned
    into episodes; ``exposure_coding: ever`` then collapses each patient to one row.
    """
    if not card.start_column and not card.time_varying:
        return frame, []
    if card.start_column:
        frame = frame.assign(**{ENTRY_COLUMN: starts[card.start_column]})
        _check_episodes(card, raw, frame, source, first_line)
    if card.time_varying:
        columns = {e.name: f"__start {e.start_column}" for e in card.time_varying}
        for e in card.time_varying:
            frame[columns[e.name]] = starts[e.start_column]
        frame = build_episodes(
            frame,
            "patient_id",
            "time_months",
            "event",
            columns,
            entry_column=ENTRY_COLUMN if card.start_column else None,
            start_column=ENTRY_COLUMN,
            source=source,
            first_row=first_line,
        )
    n_patients = frame["patient_id"].nunique()
    if card.exposure_coding == "ever":
        frame = _ever_exposed(card, frame)
        note = (
            f"exposure_coding=ever: {n_patients} patients, time-varying covariates coded 1 if "
            "ever 1 during follow-up (naive; immortal time credited to the exposed)"
        )
    else:
        note = f"{len(frame)} (start, stop] rows of {n_patients} patients"
    if not frame[ENTRY_COLUMN].gt(0).any():  # everyone at risk from 0: the right-censored case
        frame = frame.drop(columns=ENTRY_COLUMN)
    return frame, [note]


def _check_episodes(
    card: DatasetCard, raw: pd.DataFrame, frame: pd.DataFrame, source: str, first_line: int
) -> None:
    """The (start, stop] rules on the file's own columns and unit."""
    factor = MONTHS_PER_UNIT[card.time_unit]
    named = pd.DataFrame(
        {
            card.id_column or "patient_id": frame["patient_id"],
            card.start_column: frame[ENTRY_COLUMN] / factor,
            card.time_column: frame["time_months"] / factor,
            card.event_column: frame["event"],
        }
    )
    fixed = [c.column for c in card.covariates if not (card.long_format and c.time_varying)]
    for column in fixed:
        named[column] = raw[column].map(lambda v: None if pd.isna(v) else str(v).strip())
    validate_episodes(
        named,
        card.id_column or "patient_id",
        card.start_column,
        card.time_column,
        card.event_column,
        fixed if card.long_format else (),
        source=source,
        first_row=first_line,
    )


def _ever_exposed(card: DatasetCard, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per patient from her first start to her last stop, with her last event, and each
    time-varying covariate 1 if it was ever 1 (the naive time-fixed coding)."""
    varying = [c.column for c in card.covariates if c.time_varying] + [
        e.name for e in card.time_varying
    ]
    groups = frame.groupby("patient_id", sort=False)
    out = frame.drop_duplicates("patient_id").set_index("patient_id")
    out[ENTRY_COLUMN] = groups[ENTRY_COLUMN].min()
    out["time_months"] = groups["time_months"].max()
    out["event"] = groups["event"].max()
    for column in varying:
        out[column] = groups[column].max()
    return out.reset_index()[frame.columns]


def _absent_reference(spec: CovariateSpec, coded: pd.Series) -> CohortProblem | None:
    """A problem when no row holds the reference level of a binary or categorical covariate
    (its hazard ratios would silently be against another level)."""
    if spec.kind == "continuous":
        return None
    observed = coded.dropna()
    if spec.kind == "binary":
        codes = observed.to_numpy().astype(int)
        observed = pd.Series(np.asarray(spec.coded_levels, dtype=object)[codes])
    reference = spec.coded_levels[0]
    if (observed.astype(str) == reference).any():
        return None
    key = "reference" if spec.reference else "levels"
    return CohortProblem(
        f"the reference level {reference!r} (data.covariates.{spec.column}.{key}) is held by "
        f"no row, so hazard ratios would be against another level; levels found: "
        f"{sorted(set(observed.astype(str)))}; choose a reference the file holds",
        column=spec.column,
    )


def _check_ids(ids: pd.Series, check: _Checker, column: str, unique: bool = True) -> None:
    check.add(np.flatnonzero(ids.isna().to_numpy()), column, lambda i: "empty patient id")
    duplicated = ids.duplicated(keep="first") & ids.notna() & unique
    check.add(
        np.flatnonzero(duplicated.to_numpy()),
        column,
        lambda i: f"duplicate patient id {ids.iloc[i]!r}",
    )


def _time_months(
    values: pd.Series, event: np.ndarray, card: DatasetCard, check: _Checker
) -> tuple[np.ndarray, ZeroTimeShift | None]:
    """The times in months, with times of 0 treated by the card's rule (``zero_time``)."""
    factor = MONTHS_PER_UNIT[card.time_unit]
    text = _text(values)
    number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(number) | (number < 0) | (number * factor > MAX_PLAUSIBLE_TIME_MONTHS)
    limit = MAX_PLAUSIBLE_TIME_MONTHS / factor
    lowest = ">= 0" if card.zero_time == "shift" else "> 0"
    check.add(
        np.flatnonzero(bad),
        card.time_column,
        lambda i: (
            f"found {text.iloc[i]!r}, expected a time in {card.time_unit} {lowest} and "
            f"<= {limit:g} (100 years)"
        ),
    )
    number = np.where(bad, np.nan, number)
    if card.zero_time == "refuse":
        zero = np.flatnonzero(number == 0)
        check.add(zero, card.time_column, lambda i: refusal(card.time_unit))
        return number * factor, None
    number, shift = shift_zero_times(number, event, card.time_unit)
    return number * factor, shift


def _held_values(text: pd.Series) -> str:
    """The distinct values of a column with their counts, most frequent first:
    ``"1 (120 rows) and 2 (165 rows)"`` (an empty cell shown as ``(empty)``)."""
    counts = text.fillna("(empty)").value_counts(sort=True)
    parts = [f"{value} ({count} row{'s' if count != 1 else ''})" for value, count in counts.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _survival_hint(text: pd.Series) -> str:
    """For a column holding only 1 and 2: R ``survival``'s coding (1 = censored, 2 = event)."""
    if set(text.dropna()) <= {"1", "2"}:
        return (
            ", e.g. R survival's 1 = censored, 2 = event: 'data.event_values=[2]' "
            "'data.censor_values=[1]'"
        )
    return ""


def _event(values: pd.Series, card: DatasetCard, check: _Checker) -> np.ndarray:
    text = _text(values)
    event = text.isin(card.event_values).to_numpy()
    censored = text.isin(card.censor_values).to_numpy()
    unknown = ~event & ~censored
    if unknown.any():
        check.problems.append(
            CohortProblem(
                f"{card.event_column} holds {_held_values(text)}; the card says event "
                f"{', '.join(card.event_values)} (data.event_values), censored "
                f"{', '.join(card.censor_values)} (data.censor_values): {int(unknown.sum())} "
                f"row(s) hold neither; give the file's own codes{_survival_hint(text)}",
                column=card.event_column,
            )
        )
    check.add(
        np.flatnonzero(unknown),
        card.event_column,
        lambda i: (
            f"found {text.iloc[i]!r}, expected an event code {list(card.event_values)} "
            f"or a censoring code {list(card.censor_values)}"
        ),
    )
    return event.astype(int)


def _covariate(values: pd.Series, spec: CovariateSpec, check: _Checker) -> pd.Series:
    text = _text(values)
    text = text.where(~text.isin(spec.missing_codes), None)
    known = text.notna().to_numpy()
    if spec.kind == "continuous":
        number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = known & ~np.isfinite(number)
        if spec.minimum is not None:
            bad |= known & (number < spec.minimum)
        if spec.maximum is not None:
            bad |= known & (number > spec.maximum)
        bounds = f" in [{spec.minimum}, {spec.maximum}]" if spec.minimum is not None else ""
        check.add(
            np.flatnonzero(bad),
            spec.column,
            lambda i: (
                f"found {text.iloc[i]!r}, expected a number{bounds} "
                f"(or a missing code {list(spec.missing_codes)})"
            ),
        )
        return pd.Series(np.where(known & ~bad, number / spec.hr_per, np.nan))
    levels = spec.levels or (("0", "1") if spec.kind == "binary" else ())
    # each distinct cell once (a file holds a handful of values per column)
    as_level = {value: _as_level(value, levels) for value in text[known].unique()}
    text = text.map(as_level).where(known, None)
    bad = known & ~text.isin(levels).to_numpy()
    if bad.any() and spec.kind == "binary" and not spec.levels:
        check.problems.append(
            CohortProblem(
                f"{spec.column} holds {_held_values(text[known])}; a binary covariate without "
                "levels takes 0 and 1: declare its two values, reference (coded 0) first, e.g. "
                f"data.covariates.{spec.column}.levels=[no, yes]",
                column=spec.column,
            )
        )
    check.add(
        np.flatnonzero(bad),
        spec.column,
        lambda i: (
            f"found {text.iloc[i]!r}, expected one of {list(levels)} "
            f"(or a missing code {list(spec.missing_codes)})"
        ),
    )
    clean = text.where(known & ~bad, None)
    ordered = spec.coded_levels
    if spec.kind == "binary":
        return clean.map({ordered[0]: 0.0, ordered[1]: 1.0}).astype(float)
    return pd.Series(pd.Categorical(clean, categories=list(ordered), ordered=True))


def undescribed_file_message(card: DatasetCard, path: Path) -> str:
    """What to do when a card (``data=csv``) names a file but not what it holds.

    Points to the study's card when the file has the study's columns, else names the card keys
    to give (time and event columns, time unit, event coding, covariates) and the file's columns.
    """
    columns = file_columns(path)
    if columns and set(REQUIRED_COLUMNS) <= set(columns):
        return (
            f"{path} has the study's {len(REQUIRED_COLUMNS)} columns (data/README.md) but "
            f"data={card.name} describes no covariates: use the study's card, data=bcsm "
            f"data.path={path}"
        )
    return (
        f"the dataset card {card.name!r} says nothing about {path.name} yet: give its time "
        "and event columns and covariates, e.g. data.time_column=<column> "
        "data.time_unit=days data.event_column=<column> 'data.event_values=[<event code>]' "
        "'data.censor_values=[<censoring code>]' '++data.covariates={<column>: {kind: "
        "continuous}}' 'covariates.names=[<column>]', or write a card YAML (README, 'Your own "
        f"cohort'); the file's columns: {', '.join(columns) or '(none read)'}"
    )


def card_from_mapping(name: str, mapping: Mapping) -> DatasetCard:
    """Build a card from plain values (a parsed YAML card or the ``data`` config section).

    Raises
    ------
    ValueError
        Naming the key for an unknown time unit or zero-time rule, a covariate kind, binary
        levels that are not two, a reference that is not a level, or ``hr_per`` <= 0.
    """
    unit = str(mapping.get("time_unit", "months"))
    if unit not in MONTHS_PER_UNIT:
        raise ValueError(f"data.time_unit={unit!r}: expected one of {list(MONTHS_PER_UNIT)}")
    zero_time = str(mapping.get("zero_time") or DEFAULT_ZERO_TIME)
    if zero_time not in ZERO_TIME_RULES:
        raise ValueError(f"data.zero_time={zero_time!r}: expected one of {list(ZERO_TIME_RULES)}")
    covariates = []
    for column, raw in (mapping.get("covariates") or {}).items():
        where = f"data.covariates.{column}"
        kind = str(raw.get("kind"))
        if kind not in ("binary", "categorical", "continuous"):
            raise ValueError(f"{where}.kind={kind!r}: expected binary, categorical or continuous")
        levels = tuple(str(v) for v in raw.get("levels") or ())
        if kind == "binary" and levels and len(levels) != 2:
            raise ValueError(f"{where}.levels={list(levels)}: a binary covariate has 2 levels")
        if kind == "categorical" and len(levels) < 2:
            raise ValueError(f"{where}.levels={list(levels)}: expected at least 2 levels")
        reference = raw.get("reference")
        allowed = levels or (("0", "1") if kind == "binary" else ())
        if reference is not None and str(reference) not in allowed:
            raise ValueError(f"{where}.reference={reference!r}: not among levels {list(allowed)}")
        minimum, maximum = raw.get("minimum"), raw.get("maximum")
        if minimum is not None and maximum is not None and float(minimum) > float(maximum):
            raise ValueError(
                f"{where}.minimum={minimum} is above {where}.maximum={maximum}: the card's "
                "range of allowed values is empty; swap or correct the two keys"
            )
        hr_per = float(1.0 if raw.get("hr_per") is None else raw["hr_per"])
        if not hr_per > 0:
            raise ValueError(f"{where}.hr_per={hr_per}: expected a positive number")
        covariates.append(
            CovariateSpec(
                column=str(column),
                kind=kind,
                label=str(raw.get("label") or column),
                levels=levels,
                reference=None if reference is None else str(reference),
                missing_codes=tuple(str(v) for v in raw.get("missing_codes") or ()),
                minimum=minimum,
                maximum=maximum,
                hr_per=hr_per,
                unit=raw.get("unit"),
                time_varying=bool(raw.get("time_varying", False)),
            )
        )
    return DatasetCard(
        name=name,
        title=str(mapping.get("title") or name),
        time_column=str(mapping.get("time_column", "time_months")),
        time_unit=unit,
        event_column=str(mapping.get("event_column", "event")),
        event_values=tuple(str(v) for v in mapping.get("event_values") or ("1",)),
        censor_values=tuple(str(v) for v in mapping.get("censor_values") or ("0",)),
        id_column=mapping.get("id_column"),
        covariates=tuple(covariates),
        contract=mapping.get("contract"),
        study=bool(mapping.get("study", False)),
        time_label=str(mapping.get("time_label") or "Months"),
        outcome_label=str(
            mapping.get("outcome_label")
            or ("Overall survival" if mapping.get("study") else "Survival")
        ),
        zero_time=zero_time,
        **_entry_keys(mapping, covariates),
    )


def _entry_keys(mapping: Mapping, covariates: Sequence[CovariateSpec]) -> dict:
    """The card keys of follow-up that starts after time zero (``start_column``,
    ``time_varying``, ``exposure_coding``), checked.

    Raises
    ------
    ValueError
        Naming the key: an exposure without a start column or named like a file covariate, an
        unknown coding.
    """
    coding = str(mapping.get("exposure_coding") or "time_dependent")
    if coding not in EXPOSURE_CODINGS:
        raise ValueError(
            f"data.exposure_coding={coding!r}: expected one of {list(EXPOSURE_CODINGS)}"
        )
    exposures = []
    for name, raw in (mapping.get("time_varying") or {}).items():
        where = f"data.time_varying.{name}"
        if not (raw or {}).get("start_column"):
            raise ValueError(
                f"{where}.start_column is not given: expected the column holding each patient's "
                "start of the exposure (empty = never exposed)"
            )
        if str(name) in {c.column for c in covariates}:
            raise ValueError(
                f"{where}: {name!r} is also a file covariate (data.covariates.{name}); an "
                "exposure built from a start time needs a name of its own"
            )
        exposures.append(
            ExposureSpec(str(name), str(raw["start_column"]), str(raw.get("label") or name))
        )
    start = mapping.get("start_column")
    return {
        "start_column": None if start is None else str(start),
        "time_varying": tuple(exposures),
        "exposure_coding": coding,
    }
