"""Shared input checks for survival data: right-censored (time, event) and (entry, time].

Every frequentist estimator in this package starts with :func:`as_survival_arrays` (and
:func:`as_entry_array` for delayed entry / (start, stop] episodes), so a bad input gives the
same clear message whichever function received it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["SurvivalInputError", "as_entry_array", "as_survival_arrays", "missing_mask"]


class SurvivalInputError(ValueError):
    """Survival data that cannot be analysed (NaN, negative times, event codes not 0/1...)."""


def _positions(mask: np.ndarray, limit: int = 5) -> str:
    """Describe the first ``limit`` positions where ``mask`` is true (0-based)."""
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:limit])
    more = f" and {idx.size - limit} more" if idx.size > limit else ""
    return f"{idx.size} value(s), at position(s) {shown}{more} (0-based)"


def _as_1d(values: object, name: str) -> np.ndarray:
    """Turn ``values`` into a 1-D numpy array (pandas objects included), or raise."""
    arr = np.asarray(values)
    if arr.ndim == 0:
        raise SurvivalInputError(f"{name} must be a 1-D sequence, got a scalar {values!r}")
    if arr.ndim != 1:
        raise SurvivalInputError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    return arr


def _as_float(arr: np.ndarray, name: str, what: str) -> np.ndarray:
    """``arr`` as float64, or a :class:`SurvivalInputError` saying it must be ``what``."""
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise SurvivalInputError(
                f"{name} must be numeric ({what}), got dtype {arr.dtype}"
            ) from exc
    return arr.astype(np.float64, copy=False)


def missing_mask(values: object) -> np.ndarray:
    """Boolean mask of missing entries (``None``, NaN, ``pd.NA``, NaT) in a 1-D sequence.

    Parameters
    ----------
    values : array-like, 1-D
        Any values (numbers, strings, categories).

    Returns
    -------
    numpy.ndarray of bool
        True where the entry is missing.
    """
    import pandas as pd  # pandas is a package dependency; imported lazily to keep this light

    if isinstance(values, pd.Series | pd.Index | pd.Categorical):
        return np.asarray(pd.isna(values), dtype=bool)
    arr = np.asarray(values)
    if arr.dtype.kind in "fc":
        return np.isnan(arr)
    if arr.dtype.kind in "biu":
        return np.zeros(arr.shape, dtype=bool)
    return np.asarray(pd.isna(arr), dtype=bool)


def as_survival_arrays(
    time: npt.ArrayLike | Sequence[float],
    event: npt.ArrayLike | Sequence[int],
    *,
    allow_zero_time: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate right-censored survival data and return clean numpy arrays.

    Parameters
    ----------
    time : array-like of float, shape (n,)
        Follow-up times (any unit, e.g. months), finite and strictly positive (or >= 0 when
        ``allow_zero_time``).
    event : array-like, shape (n,)
        Event indicator: 1 (or True) = event observed, 0 (or False) = censored. Floats are
        accepted when they are exactly 0.0 or 1.0.
    allow_zero_time : bool, default False
        Accept follow-up times of exactly zero.

    Returns
    -------
    time : numpy.ndarray of float64, shape (n,)
    event : numpy.ndarray of int64, shape (n,)
        Values in {0, 1}.

    Raises
    ------
    SurvivalInputError
        (a ``ValueError``) naming the argument, what was expected and where the offending
        values are: wrong shape, different lengths, empty input, missing / non-finite /
        non-positive times, event codes other than 0 and 1.
    """
    t_raw = _as_1d(time, "time")
    e_raw = _as_1d(event, "event")
    if t_raw.shape[0] != e_raw.shape[0]:
        raise SurvivalInputError(
            f"time and event must have the same length, got {t_raw.shape[0]} and {e_raw.shape[0]}"
        )
    if t_raw.shape[0] == 0:
        raise SurvivalInputError("time and event are empty: at least one observation is needed")

    t = _as_float(t_raw, "time", "a duration, e.g. in months")
    bad = ~np.isfinite(t)
    if bad.any():
        raise SurvivalInputError(
            f"time must be finite (no NaN or infinity): {_positions(bad)}; drop or impute "
            "them first (logrank_test and kaplan_meier accept dropna=True)"
        )
    bad = t < 0 if allow_zero_time else t <= 0
    if bad.any():
        need = ">= 0" if allow_zero_time else "> 0"
        raise SurvivalInputError(
            f"time must be {need}: {_positions(bad)} are not (smallest {t.min():g})"
        )

    if e_raw.dtype.kind == "b":
        e = e_raw.astype(np.int64)
    else:
        if e_raw.dtype.kind not in "iuf":
            try:
                e_raw = e_raw.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise SurvivalInputError(
                    f"event must be 0/1 (1 = event, 0 = censored), got dtype {e_raw.dtype}"
                ) from exc
        if e_raw.dtype.kind == "f":
            nan = np.isnan(e_raw)
            if nan.any():
                raise SurvivalInputError(
                    f"event must not be missing: {_positions(nan)} are NaN; drop them first "
                    "(logrank_test and kaplan_meier accept dropna=True)"
                )
        bad = (e_raw != 0) & (e_raw != 1)
        if bad.any():
            found = np.unique(e_raw[bad])[:5]
            raise SurvivalInputError(
                f"event must be 0 (censored) or 1 (event): {_positions(bad)} are not "
                f"(values found: {', '.join(f'{v:g}' for v in found)}). R-style 1/2 coding? "
                "Use event = status - 1."
            )
        e = e_raw.astype(np.int64)
    return np.ascontiguousarray(t), np.ascontiguousarray(e)


def as_entry_array(entry: npt.ArrayLike | Sequence[float], time: np.ndarray) -> np.ndarray:
    """Validate entry times (delayed entry, or the start of (start, stop] episodes).

    A row is at risk on (entry, time]: it enters the risk set just after ``entry`` and
    leaves it at ``time`` (R's ``Surv(start, stop, event)`` convention).

    Parameters
    ----------
    entry : array-like of float, shape (n,)
        Entry (start) times, same unit as ``time``: finite, >= 0 and < ``time``.
    time : numpy.ndarray of float64, shape (n,)
        Validated exit (stop) times (:func:`as_survival_arrays`).

    Returns
    -------
    numpy.ndarray of float64, shape (n,)

    Raises
    ------
    SurvivalInputError
        (a ``ValueError``) for a length mismatch, missing / non-finite or negative entries,
        or entries not before their time, naming the positions.
    """
    raw = _as_1d(entry, "entry")
    if raw.shape[0] != time.shape[0]:
        raise SurvivalInputError(
            f"entry and time must have the same length, got {raw.shape[0]} and {time.shape[0]}"
        )
    start = _as_float(raw, "entry", "a time in the unit of time")
    bad = ~np.isfinite(start)
    if bad.any():
        raise SurvivalInputError(f"entry must be finite (no NaN or infinity): {_positions(bad)}")
    bad = start < 0
    if bad.any():
        raise SurvivalInputError(
            f"entry must be >= 0: {_positions(bad)} are not (smallest {start.min():g})"
        )
    bad = start >= time
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SurvivalInputError(
            f"entry must be < time (a row is at risk on (entry, time]): {_positions(bad)} "
            f"are not (first: entry {start[i]:g}, time {time[i]:g})"
        )
    return np.ascontiguousarray(start)
