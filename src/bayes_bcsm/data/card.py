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

    @property
    def coded_levels(self) -> tuple[str, ...]:
        """Levels of a binary or categorical covariate, reference first (empty if continuous)."""
        levels = self.levels or (("0", "1") if self.kind == "binary" else ())
        reference = self.reference or (levels[0] if levels else None)
        return tuple([reference, *(lvl for lvl in levels if lvl != reference)]) if levels else ()

    @property
    def hr_unit(self) -> str:
        """What one unit of the coded column is, e.g. ``"per 10 years"`` (continuous only)."""
        if self.kind != "continuous":
            return ""
        amount = f"{self.hr_per:g} " if self.hr_per != 1 else ""
        return f"per {amount}{self.unit or 'unit'}"


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
    zero_time : {"shift", "refuse"}
        What a follow-up time of 0 becomes (:mod:`bayes_bcsm.data.zero_time`).
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
    zero_time: str = DEFAULT_ZERO_TIME

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


def _text(values: pd.Series) -> pd.Series:
    return values.map(lambda v: None if pd.isna(v) else (str(v).strip() or None))


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
        _check_ids(ids, check, card.id_column)
    event = _event(raw[card.event_column], card, check)
    frame["time_months"], shift = _time_months(raw[card.time_column], event, card, check)
    frame["event"] = event
    for spec in card.covariates:
        frame[spec.column] = _covariate(raw[spec.column], spec, check)
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
    notes = []
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
    accounting = CohortAccounting(
        source,
        len(raw),
        len(frame),
        (),
        missing_counts,
        tuple(notes),
        follow_up_range(times, card.time_unit),
    )
    return Cohort(frame, accounting)


def _absent_reference(spec: CovariateSpec, coded: pd.Series) -> CohortProblem | None:
    """A problem when no row holds the reference level of a binary or categorical covariate
    (its hazard ratios would silently be against another level)."""
    if spec.kind == "continuous":
        return None
    observed = coded.dropna()
    if spec.kind == "binary":
        observed = observed.map(lambda code: spec.coded_levels[int(code)])
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


def _check_ids(ids: pd.Series, check: _Checker, column: str) -> None:
    check.add(np.flatnonzero(ids.isna().to_numpy()), column, lambda i: "empty patient id")
    duplicated = ids.duplicated(keep="first") & ids.notna()
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
        zero_time=zero_time,
    )
