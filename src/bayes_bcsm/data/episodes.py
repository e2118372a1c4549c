"""(start, stop] episodes: their validation, and building them from a wide frame.

Counting-process (long) data hold one row per episode of a patient: she is at risk on
(start, stop], her covariates are constant within it, and her event, if any, closes her last
episode. :func:`validate_episodes` checks those rules and reports every breach with the row,
the id and the column (:class:`~bayes_bcsm.data.io.CohortProblem`).
:func:`build_episodes` turns a wide frame (one row per patient) plus per-patient exposure
start times into such episodes, as R's ``survival::tmerge(..., tdc(...))`` and lifelines'
``add_covariate_to_timeline`` do: a patient is unexposed until her exposure starts and
exposed from then on; an empty start means never exposed.

Pure pandas / numpy: no I/O.

References
----------
Therneau, T. M., Crowson, C. & Atkinson, E. (2023). Using time dependent covariates and time
dependent coefficients in the Cox model. Vignette of the R package ``survival``.
Andersen, P. K. & Gill, R. D. (1982). Cox's regression model for counting processes: a
large sample study. *Annals of Statistics* 10, 1100-1120.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from bayes_bcsm.data.io import CohortProblem, CohortValidationError

__all__ = ["build_episodes", "validate_episodes"]


class _Problems:
    """Problems found in a frame, each with its row number, id and column."""

    def __init__(self, frame: pd.DataFrame, id_column: str, first_row: int) -> None:
        self.frame = frame
        self.rows = np.arange(len(frame)) + first_row
        self.ids = frame[id_column].to_numpy()
        self.found: list[CohortProblem] = []

    def add(self, mask: np.ndarray, column: str | None, message: Callable[[int], str]) -> None:
        """One problem per position where ``mask`` holds, worded by ``message(position)``."""
        for i in np.flatnonzero(mask):
            self.found.append(
                CohortProblem(message(int(i)), int(self.rows[i]), str(self.ids[i]), column)
            )

    def numbers(self, column: str, required: bool = True) -> np.ndarray:
        """A column as floats (missing = NaN); a problem for each value that is not a number
        and, when ``required``, for each missing value."""
        raw = self.frame[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        present = raw.notna().to_numpy()
        self.add(np.isnan(values) & present, column, lambda i: f"{raw.iloc[i]!r} is not a number")
        self.add(~present & required, column, lambda i: "missing")
        return values

    def event_codes(self, column: str) -> np.ndarray:
        """The event column as floats, a problem for each code other than 0 and 1."""
        event = self.numbers(column)
        self.add(
            ~np.isnan(event) & (event != 0) & (event != 1),
            column,
            lambda i: f"event {event[i]:g}; expected 0 (censored) or 1 (event)",
        )
        return event

    def raise_if_any(self, source: str) -> None:
        if self.found:
            raise CohortValidationError(source, sorted(self.found, key=lambda p: p.row or 0))


def _unknown_columns(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        available = ", ".join(map(str, frame.columns))
        raise CohortValidationError(
            source,
            [CohortProblem(f"no such column; available: {available}", column=c) for c in unknown],
        )


def validate_episodes(
    frame: pd.DataFrame,
    id_column: str,
    start_column: str,
    stop_column: str,
    event_column: str,
    fixed_columns: Sequence[str] = (),
    *,
    source: str = "episodes",
    first_row: int = 1,
) -> None:
    """Check (start, stop] episode data; raise listing every breach.

    Rules: start and stop are numbers with 0 <= start < stop; the event is 0 or 1; the
    episodes of one id do not overlap (gaps are allowed: the patient is then not at risk);
    an id has at most one event, on its last episode; the time-fixed columns take one value
    per id (missing counts as a value).

    Parameters
    ----------
    frame : DataFrame
        One row per episode.
    id_column, start_column, stop_column, event_column : str
        Patient id, episode start and stop (same time unit, e.g. months or days), and event
        indicator (1 = the event closes this episode).
    fixed_columns : sequence of str
        Covariates that must not change between a patient's episodes.
    source : str
        File or frame description that starts the error message.
    first_row : int
        Row number reported for the frame's first row (2 for a CSV with a header line).

    Raises
    ------
    CohortValidationError
        A user error listing each problem with its row, id and column; also for columns
        not in ``frame``.
    """
    columns = [id_column, start_column, stop_column, event_column, *fixed_columns]
    _unknown_columns(frame, columns, source)
    found = _Problems(frame, id_column, first_row)
    rows, ids = found.rows, found.ids
    start = found.numbers(start_column)
    stop = found.numbers(stop_column)
    event = found.event_codes(event_column)
    found.add(start < 0, start_column, lambda i: f"start {start[i]:g} is negative; expected >= 0")
    found.add(
        start >= stop,
        start_column,
        lambda i: (
            f"start {start[i]:g} is not before stop {stop[i]:g}; an episode is "
            "(start, stop] with start < stop"
        ),
    )
    # overlap: an episode starts before the previous one of its id (by start) stops
    order = np.lexsort((stop, start, pd.factorize(ids)[0]))
    same_id = ids[order][1:] == ids[order][:-1]
    previous = np.full(len(frame), -1)
    previous[order[1:][same_id]] = order[:-1][same_id]
    has_previous = previous >= 0
    overlap = np.zeros(len(frame), dtype=bool)
    overlap[has_previous] = start[has_previous] < stop[previous[has_previous]]
    found.add(
        overlap,
        start_column,
        lambda i: (
            f"episode ({start[i]:g}, {stop[i]:g}] overlaps episode "
            f"({start[previous[i]]:g}, {stop[previous[i]]:g}] of the same id "
            f"(row {rows[previous[i]]})"
        ),
    )
    is_event = event == 1
    last_stop = pd.Series(stop).groupby(ids).transform("max").to_numpy()
    found.add(
        is_event & (stop < last_stop),
        event_column,
        lambda i: (
            f"event on the episode ending at {stop[i]:g}, but this id is followed to "
            f"{last_stop[i]:g}; the event belongs on the last episode"
        ),
    )
    event_rank = pd.Series(is_event.astype(int)).groupby(ids).cumsum().to_numpy()
    first_event_row = (
        pd.Series(np.where(is_event, rows, np.nan)).groupby(ids).transform("min").to_numpy()
    )
    found.add(
        is_event & (event_rank > 1),
        event_column,
        lambda i: (
            f"a second event for this id (the first at row {int(first_event_row[i])}); "
            "at most one event per id"
        ),
    )
    first_of_id = (
        pd.Series(np.arange(len(frame))).groupby(ids, sort=False).transform("min").to_numpy()
    )
    for column in fixed_columns:
        values = frame[column].reset_index(drop=True)
        first = values.iloc[first_of_id].reset_index(drop=True)
        same = (values == first) | (values.isna() & first.isna())  # missing is a value
        found.add(
            ~same.to_numpy(),
            column,
            lambda i, v=values: (
                "time-fixed covariate changes between episodes of this id: "
                f"{v.iloc[i]!r} here, {v.iloc[first_of_id[i]]!r} at row {rows[first_of_id[i]]}"
            ),
        )
    found.raise_if_any(source)


def build_episodes(
    frame: pd.DataFrame,
    id_column: str,
    time_column: str,
    event_column: str,
    exposures: Mapping[str, str],
    *,
    entry_column: str | None = None,
    start_column: str = "start",
    source: str = "cohort",
    first_row: int = 1,
) -> pd.DataFrame:
    """(start, stop] episodes from one row per patient and per-patient exposure start times.

    Each patient's follow-up (entry, time] is cut at the start times of her exposures that
    fall strictly inside it. In an episode (a, b] an exposure is 1 when it started at or
    before a, else 0: an exposure starting at or before entry covers the whole follow-up;
    one starting at or after the end of follow-up, or with an empty start, never does. The
    event stays on the last episode. Other columns are copied to every episode.

    Parameters
    ----------
    frame : DataFrame
        One row per patient.
    id_column : str
        Patient id (unique per row).
    time_column : str
        End of follow-up; the stop of the last episode (any time unit, e.g. months).
    event_column : str
        1 = the event at ``time_column``, 0 = censored.
    exposures : mapping of str to str
        Exposure name -> column of its start time (same unit as ``time_column``; missing =
        never exposed). The exposure becomes a 0/1 column named by the key (replacing a
        column of that name); the start-time columns are dropped.
    entry_column : str, optional
        Delayed entry time of each patient (start of her first episode); None = 0.
    start_column : str
        Name of the output start column (replacing a column of that name, e.g. the entry
        column when it has the same name).
    source : str
        File or frame description that starts an error message.
    first_row : int
        Row number reported for the frame's first row.

    Returns
    -------
    DataFrame
        One row per episode, sorted by patient (input order) and start, with a fresh index:
        ``id_column``, ``start_column``, ``time_column`` (the stop), ``event_column``, then
        the other columns of ``frame`` and the exposures.

    Raises
    ------
    CohortValidationError
        Duplicate ids, missing / non-numeric / negative times, entry not before the end of
        follow-up, event codes other than 0/1, negative or non-numeric exposure starts (row,
        id and column named).
    """
    starts = dict(exposures)
    columns = [id_column, time_column, event_column, *starts.values()]
    _unknown_columns(frame, columns + ([entry_column] if entry_column else []), source)
    found = _Problems(frame, id_column, first_row)
    found.add(
        frame[id_column].duplicated().to_numpy(),
        id_column,
        lambda i: "duplicate id; expected one row per patient",
    )
    stop = found.numbers(time_column)
    event = found.event_codes(event_column)
    entry = np.zeros(len(frame)) if entry_column is None else found.numbers(entry_column)
    found.add(entry < 0, entry_column, lambda i: f"entry {entry[i]:g} is negative")
    found.add(
        entry >= stop,
        time_column,
        lambda i: f"follow-up ends at {stop[i]:g}, not after entry {entry[i]:g}",
    )
    exposure_starts = {}
    for name, column in starts.items():
        values = found.numbers(column, required=False)  # empty = never exposed
        found.add(
            values < 0,
            column,
            lambda i, v=values, e=name: (
                f"start of {e!r} at {v[i]:g} is negative; expected >= 0 or empty (never exposed)"
            ),
        )
        exposure_starts[name] = values
    found.raise_if_any(source)

    n = len(frame)
    inside = [(np.flatnonzero((s > entry) & (s < stop)), s) for s in exposure_starts.values()]
    cuts = pd.DataFrame(
        {
            "patient": np.concatenate([np.arange(n), *(idx for idx, _ in inside)]),
            "start": np.concatenate([entry, *(s[idx] for idx, s in inside)]),
        }
    ).drop_duplicates()
    cuts = cuts.sort_values(["patient", "start"], kind="stable")
    patient = cuts["patient"].to_numpy()
    begin = cuts["start"].to_numpy()
    last = np.r_[patient[1:] != patient[:-1], True]
    end = np.where(last, stop[patient], np.r_[begin[1:], np.nan])
    out = frame.drop(columns=list(starts.values())).iloc[patient].reset_index(drop=True)
    out[time_column] = end
    out[event_column] = np.where(last, event[patient], 0.0).astype(int)
    for name, s in exposure_starts.items():
        out[name] = (s[patient] <= begin).astype(int)  # NaN (never) compares False
    out = out.drop(columns=[start_column], errors="ignore")  # e.g. the entry column
    out.insert(0, start_column, begin)
    first = [id_column, start_column, time_column, event_column]
    return out[first + [c for c in out.columns if c not in first]]
