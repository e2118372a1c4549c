"""The covariate layer: a cohort frame and a covariate list -> a design for any estimator.

Both the frequentist baselines and the Bayesian models consume a :class:`Design`, so
they use the same rows, the same reference levels and the same scaling. Rows with a
missing value in any requested column are excluded *and counted* (complete-case
accounting); nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from bayes_bcsm.errors import BayesBcsmUserError

TermKind = Literal["binary", "categorical", "continuous"]


class DesignError(BayesBcsmUserError, ValueError):
    """A covariate request that cannot be turned into a design (unknown column, bad level, ...)."""


@dataclass(frozen=True)
class CompleteCases:
    """Which rows an analysis used and why the others were excluded.

    Attributes
    ----------
    n_input : int
        Rows offered to the analysis.
    n_used : int
        Rows with every requested value present.
    excluded_by_column : dict of str to int
        For each column with missing values, how many rows lack it (a row missing two
        columns is counted under both).
    excluded_ids : tuple
        Index labels (or patient ids when available) of the excluded rows.
    """

    n_input: int
    n_used: int
    excluded_by_column: dict[str, int] = field(default_factory=dict)
    excluded_ids: tuple = ()

    @property
    def n_excluded(self) -> int:
        """Rows excluded."""
        return self.n_input - self.n_used

    def describe(self) -> str:
        """One line, e.g. ``used 53 of 78 patients; excluded 25 (hormone_receptor missing: 25)``."""
        text = f"used {self.n_used} of {self.n_input} patients"
        if self.n_excluded:
            reasons = ", ".join(f"{c} missing: {k}" for c, k in self.excluded_by_column.items())
            text += f"; excluded {self.n_excluded} ({reasons})"
        return text


def complete_cases(
    frame: pd.DataFrame, columns: Sequence[str]
) -> tuple[pd.DataFrame, CompleteCases]:
    """Keep the rows with every value of ``columns`` present, and account for the others.

    Parameters
    ----------
    frame : DataFrame
        Any frame holding ``columns``.
    columns : sequence of str
        Columns that must be present.

    Returns
    -------
    (DataFrame, CompleteCases)
        The kept rows (original index) and the accounting.

    Raises
    ------
    DesignError
        If a column is not in ``frame``.
    """
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        raise DesignError(
            f"unknown column(s) {unknown}; available: {', '.join(map(str, frame.columns))}"
        )
    missing = frame[list(columns)].isna()
    keep = ~missing.any(axis=1)
    by_column = {c: int(missing[c].sum()) for c in columns if missing[c].any()}
    excluded = frame.index[~keep]
    if "patient_id" in frame.columns:
        excluded = frame.loc[~keep, "patient_id"]
    accounting = CompleteCases(len(frame), int(keep.sum()), by_column, tuple(excluded.tolist()))
    return frame.loc[keep], accounting


@dataclass(frozen=True)
class CovariateTerm:
    """How one requested covariate enters the design.

    Attributes
    ----------
    name : str
        The frame column.
    kind : {"binary", "categorical", "continuous"}
    columns : tuple of str
        Design-matrix columns it produces (``name`` for binary / continuous,
        ``name[level]`` per non-reference level for a categorical).
    reference : str or None
        Reference level of a categorical (its log-HR is 0 by construction).
    levels : tuple of str
        All levels of a categorical, reference first.
    center, scale : float
        A continuous covariate enters as ``(x - center) / scale``; a coefficient ``b`` on
        that scale is ``b / scale`` per natural unit. 0 and 1 for the other kinds.
    """

    name: str
    kind: TermKind
    columns: tuple[str, ...]
    reference: str | None = None
    levels: tuple[str, ...] = ()
    center: float = 0.0
    scale: float = 1.0


@dataclass(frozen=True)
class Design:
    """A survival design: times, events and a covariate matrix on the rows used.

    Attributes
    ----------
    time : ndarray, shape (n,)
        Follow-up times (the unit of the source column, months for the cohort).
    event : ndarray of int, shape (n,)
        1 = event, 0 = censored.
    X : ndarray, shape (n, p)
        Covariate matrix (continuous columns centred/scaled as recorded in ``terms``).
    columns : tuple of str
        Names of the ``p`` matrix columns.
    terms : tuple of CovariateTerm
        The requested covariates and how they were coded.
    rows : CompleteCases
        How many rows were used and why others were excluded.
    index : pandas.Index
        Index labels of the used rows in the source frame.
    entry : ndarray, shape (n,), or None
        Entry time of each row (delayed entry, or the start of a (start, stop] episode; the
        row is at risk on (entry, time]); None when every row is at risk from 0.
    patient : ndarray, shape (n,), or None
        Patient id of each row when the rows are (start, stop] episodes (several rows per
        patient); None when each row is a patient.
    """

    time: np.ndarray
    event: np.ndarray
    X: np.ndarray
    columns: tuple[str, ...]
    terms: tuple[CovariateTerm, ...]
    rows: CompleteCases
    index: pd.Index
    entry: np.ndarray | None = None
    patient: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Rows used."""
        return len(self.time)

    def patient_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Position of each row's patient (0..m-1, in order of first appearance) and the m
        patient ids; each row is its own patient when ``patient`` is None."""
        if self.patient is None:
            return np.arange(self.n), np.asarray(self.index)
        codes, ids = pd.factorize(pd.Series(self.patient), sort=False)
        return codes.astype(int), np.asarray(ids)

    @property
    def n_patients(self) -> int:
        """Patients among the rows used (rows when each row is a patient)."""
        return self.n if self.patient is None else int(pd.Series(self.patient).nunique())

    @property
    def n_events(self) -> int:
        """Events among the rows used."""
        return int(self.event.sum())

    def per_natural_unit(self) -> np.ndarray:
        """Factor turning a coefficient on the design scale into one per natural unit (1/scale)."""
        factors = []
        for term in self.terms:
            factors.extend([1.0 / term.scale] * len(term.columns))
        return np.asarray(factors)


def build_design(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    duration: str = "time_months",
    event: str = "event",
    reference: Mapping[str, str] | None = None,
    standardize: bool = False,
    extra_required: Sequence[str] = (),
    entry: str | None = None,
    id_column: str | None = None,
) -> Design:
    """Turn a frame and a covariate list into a :class:`Design`.

    Parameters
    ----------
    frame : DataFrame
        Cohort frame, typically with derived groupings added
        (:func:`bayes_bcsm.data.groupings.derive_groupings`).
    covariates : sequence of str
        Columns to use. Categorical (pandas ``Categorical``, string or object) columns are
        treatment-coded against a reference level; 0/1 or boolean columns enter as one
        indicator; other numeric columns are continuous.
    duration, event : str
        Time and event columns.
    reference : mapping, optional
        Reference level per categorical covariate; default the first category.
    standardize : bool
        If true, continuous covariates are centred on their mean and divided by their
        standard deviation (recorded in the terms so results can be reported per natural
        unit). If false they enter as they are (centre 0, scale 1).
    extra_required : sequence of str
        Further columns that must be present for a row to be used.
    entry : str, optional
        Entry-time column (delayed entry, or the start of (start, stop] episodes with
        ``duration`` the stop), same unit as ``duration``: each row is at risk on
        (entry, duration]. None: at risk from 0.
    id_column : str, optional
        Patient id of (start, stop] episode rows (several rows per patient, with ``entry``);
        None: each row is a patient.

    Returns
    -------
    Design

    Raises
    ------
    DesignError
        Unknown column, unknown reference level, a covariate with a single observed
        level, non-finite / non-positive times, or entries that are not finite, >= 0 and
        before the row's time (the first offending row is named by its index label).
    """
    reference = dict(reference or {})
    covariates = list(dict.fromkeys(covariates))
    unknown_ref = [k for k in reference if k not in covariates]
    if unknown_ref:
        raise DesignError(f"reference given for {unknown_ref}, which are not among the covariates")
    if id_column is not None and entry is None:
        raise DesignError(f"id column {id_column!r} given without an entry (start) column")
    needed = [
        duration,
        event,
        *covariates,
        *extra_required,
        *([entry] if entry else []),
        *([id_column] if id_column else []),
    ]
    used, accounting = complete_cases(frame, list(dict.fromkeys(needed)))
    if len(used) == 0:
        raise DesignError(f"no rows left after complete-case selection ({accounting.describe()})")
    time = used[duration].to_numpy(dtype=float)
    status = used[event].to_numpy(dtype=float)
    if not np.all(np.isfinite(time)) or np.any(time <= 0):
        raise DesignError(f"column {duration!r} must hold finite times > 0")
    if not np.all(np.isin(status, (0.0, 1.0))):
        raise DesignError(f"column {event!r} must hold 0/1")
    start = None if entry is None else _entry_times(used, entry, duration)

    blocks: list[np.ndarray] = []
    terms: list[CovariateTerm] = []
    for name in covariates:
        term, block = _code_term(used[name], name, reference.get(name), standardize)
        terms.append(term)
        blocks.append(block)
    X = np.column_stack(blocks) if blocks else np.empty((len(used), 0))
    columns = tuple(c for t in terms for c in t.columns)
    return Design(
        time,
        status.astype(int),
        X.astype(float),
        columns,
        tuple(terms),
        accounting,
        used.index,
        start,
        None if id_column is None else used[id_column].to_numpy(),
    )


def check_estimable(design: Design) -> None:
    """Refuse a design whose hazard ratios no estimator can give as finite numbers.

    Called by runs before any fit (not by :func:`build_design`, which only codes covariates).

    Parameters
    ----------
    design : Design

    Raises
    ------
    DesignError
        When there are no more events than coefficients (each coefficient needs events to be
        informed), or when a continuous covariate rises or falls with the follow-up time on
        every row used (it orders the events exactly: the partial likelihood is monotone, its
        maximum at a hazard ratio of 0 or infinity; Heinze & Schemper 2001), as a copy of the
        time under another name does.
    """
    X, columns, rows = design.X, design.columns, design.rows
    p, n_events = X.shape[1], design.n_events
    if p and n_events <= p:
        raise DesignError(
            f"{n_events} event(s) for {p} coefficient(s) ({', '.join(columns)}): estimating "
            f"hazard ratios needs more events than coefficients (at least {p + 1} here); add "
            f"patients or drop covariates ({rows.describe()})"
        )
    time_rank = pd.Series(design.time).rank()
    for term in design.terms:
        if term.kind != "continuous":
            continue
        x = X[:, columns.index(term.name)]
        rho = float(pd.Series(x).rank().corr(time_rank))
        if np.isfinite(rho) and abs(rho) > 1 - 1e-12:
            direction = "rises" if rho > 0 else "falls"
            raise DesignError(
                f"covariate {term.name!r} {direction} with the follow-up time on every row used "
                f"(rank correlation {rho:+.0f}): it orders the events exactly, so its hazard "
                "ratio's maximum-likelihood estimate is 0 or infinite (monotone likelihood); is it "
                "computed from the follow-up (a copy of the time, a date, a count over "
                "follow-up)? remove it from covariates.names"
            )


def _entry_times(used: pd.DataFrame, entry: str, duration: str) -> np.ndarray:
    """The entry column as floats, checked: finite, >= 0 and < the row's time."""
    start = used[entry].to_numpy(dtype=float)
    time = used[duration].to_numpy(dtype=float)
    for bad, expected in (
        (~np.isfinite(start), "finite"),
        (start < 0, ">= 0"),
        (start >= time, f"< {duration!r} (a row is at risk on ({entry}, {duration}])"),
    ):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DesignError(
                f"column {entry!r} must be {expected}: {int(bad.sum())} row(s) are not, "
                f"the first at index {used.index[[i]].tolist()[0]!r} ({entry} = {start[i]:g}, "
                f"{duration} = {time[i]:g})"
            )
    return start


def _code_term(
    values: pd.Series, name: str, reference: str | None, standardize: bool
) -> tuple[CovariateTerm, np.ndarray]:
    is_categorical = (
        isinstance(values.dtype, pd.CategoricalDtype)
        or values.dtype == object
        or (pd.api.types.is_string_dtype(values.dtype))
    )
    if not is_categorical and pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype(int)
    if not is_categorical:
        x = values.to_numpy(dtype=float)
        if np.all((x == 0.0) | (x == 1.0)):  # O(n) check; np.unique only for 0/1 columns
            observed = np.unique(x)
            if reference is not None:
                raise DesignError(f"{name!r} is a 0/1 covariate; it takes no reference level")
            if len(observed) < 2:
                raise DesignError(f"covariate {name!r} takes a single value on the rows used")
            return CovariateTerm(name, "binary", (name,)), x
        center, scale = (float(x.mean()), float(x.std(ddof=1))) if standardize else (0.0, 1.0)
        if scale == 0:
            raise DesignError(f"covariate {name!r} is constant on the rows used")
        return CovariateTerm(name, "continuous", (name,), center=center, scale=scale), (
            (x - center) / scale
        )
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = [str(c) for c in values.cat.categories if (values == c).any()]
    else:
        levels = sorted(str(v) for v in values.unique())
    text = values.astype(str)
    if reference is None:
        reference = levels[0] if levels else None
    if reference not in levels:
        raise DesignError(
            f"reference level {reference!r} of {name!r} is not an observed level; "
            f"observed levels: {levels}"
        )
    if len(levels) < 2:
        raise DesignError(
            f"covariate {name!r} has a single observed level ({levels}) on the rows used"
        )
    others = [lvl for lvl in levels if lvl != reference]
    block = np.column_stack([(text == lvl).to_numpy(dtype=float) for lvl in others])
    ordered_levels = (reference, *others)
    return (
        CovariateTerm(
            name,
            "categorical",
            tuple(f"{name}[{lvl}]" for lvl in others),
            reference,
            ordered_levels,
        ),
        block,
    )
