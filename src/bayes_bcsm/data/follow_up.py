"""A cohort's follow-up in its declared unit and in months, and whether that scale is plausible.

A time column declared in the wrong unit gives numbers that look fine and are wrong by a factor
of 30 (days read as months) or 7 (days read as weeks): a median survival of 274 months instead of
9. Nothing in one cell is wrong, so the check is on the whole range: every run states the follow-up
range in the unit the card declares and in months, and warns when the range is implausible for a
survival study, naming ``data.time_unit`` and the units under which the range would be plausible.

The thresholds, in months, all here:

- :data:`LONG_MEDIAN_MONTHS` (10 years) and :data:`LONG_MAX_MONTHS` (30 years): a median time or a
  longest follow-up beyond these is implausibly long (e.g. days declared as weeks or months);
- :data:`SHORT_MEDIAN_MONTHS` (1 month) and :data:`SHORT_MAX_MONTHS` (6 months): a median time or a
  longest follow-up below these is implausibly short (e.g. months declared as days);
- :data:`REFUSED_MEDIAN_MONTHS` (200 months, 16.7 years): times declared as months whose median is
  beyond this are refused, not only warned about: they are almost surely days.

Real cohorts can fall outside the warning range (a 28-day intensive-care outcome, a 40-year
registry); the warning says so and the run goes on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Months per unit of each time unit a card may declare (a month is 365.25 / 12 days).
MONTHS_PER_UNIT: dict[str, float] = {
    "days": 12 / 365.25,
    "weeks": 7 * 12 / 365.25,
    "months": 1.0,
    "years": 12.0,
}
#: Median time (months) above which the follow-up is implausibly long.
LONG_MEDIAN_MONTHS = 120.0
#: Longest follow-up (months) above which the follow-up is implausibly long.
LONG_MAX_MONTHS = 360.0
#: Median time (months) below which the follow-up is implausibly short.
SHORT_MEDIAN_MONTHS = 1.0
#: Longest follow-up (months) below which the follow-up is implausibly short.
SHORT_MAX_MONTHS = 6.0
#: Median (months) above which times declared as months are refused as another unit (days).
REFUSED_MEDIAN_MONTHS = 200.0
#: The study's survival horizons (months), kept for any cohort followed at least this long.
STUDY_HORIZONS_MONTHS: tuple[float, ...] = (6.0, 12.0, 36.0, 60.0)
#: Number of points of a survival curve (the curve runs to the last follow-up).
CURVE_POINTS = 120


@dataclass(frozen=True)
class FollowUp:
    """The range of a cohort's follow-up times.

    Attributes
    ----------
    unit : str
        The unit the dataset card declares (``"days"``, ``"weeks"``, ``"months"``, ``"years"``).
    minimum, median, maximum : float
        Shortest, median and longest time, in ``unit``.
    """

    unit: str
    minimum: float
    median: float
    maximum: float

    @property
    def months_per_unit(self) -> float:
        """Months per one of ``unit``."""
        return MONTHS_PER_UNIT[self.unit]

    def describe(self) -> str:
        """One line, e.g. ``follow-up 8 to 2659 days (median 1084) = 0.263 to 87.4 months
        (median 35.6)``; just the months when the unit is months."""
        values = (self.minimum, self.maximum, self.median)
        months = _range([v * self.months_per_unit for v in values], "months")
        if self.unit == "months":
            return f"follow-up {months}"
        return f"follow-up {_range(values, self.unit)} = {months}"

    def plausible_units(self) -> list[str]:
        """Units under which these numbers would give a plausible follow-up (see the module)."""
        return [
            unit
            for unit, factor in MONTHS_PER_UNIT.items()
            if not _implausible(self.median * factor, self.maximum * factor)
        ]

    def warning(self) -> str | None:
        """A one-line warning when the follow-up in months is implausible, else None."""
        f = self.months_per_unit
        verdict = _implausible(self.median * f, self.maximum * f)
        if verdict is None:
            return None
        others = [u for u in self.plausible_units() if u != self.unit]
        hint = "check data.time_column and data.time_unit"
        if others:
            settings = " or ".join(f"data.time_unit={u}" for u in others)
            hint = f"if the file's times are in {' or '.join(others)}, set {settings}"
        return (
            f"the follow-up read as {self.unit} is implausibly {verdict} for a survival study "
            f"({self.describe()}): {hint} (README, 'Your own cohort'); if these times are "
            "right, ignore this warning"
        )


def _range(values: list[float] | tuple[float, ...], unit: str) -> str:
    """``"8 to 2659 days (median 1084)"``: whole numbers from 100 up, else 3 significant digits."""
    low, high, mid = (f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}" for v in values)
    return f"{low} to {high} {unit} (median {mid})"


def _implausible(median_months: float, max_months: float) -> str | None:
    """``"long"``, ``"short"`` or None for a median and longest follow-up in months."""
    if median_months > LONG_MEDIAN_MONTHS or max_months > LONG_MAX_MONTHS:
        return "long"
    if median_months < SHORT_MEDIAN_MONTHS or max_months < SHORT_MAX_MONTHS:
        return "short"
    return None


def follow_up_range(times: np.ndarray, unit: str) -> FollowUp:
    """The follow-up range of ``times``.

    Parameters
    ----------
    times : array-like of float
        Follow-up times in ``unit``; non-finite values are ignored.
    unit : str
        A key of :data:`MONTHS_PER_UNIT`.

    Returns
    -------
    FollowUp

    Raises
    ------
    ValueError
        If ``unit`` is not a known unit or no time is finite.
    """
    if unit not in MONTHS_PER_UNIT:
        raise ValueError(f"time unit {unit!r}: expected one of {list(MONTHS_PER_UNIT)}")
    values = np.asarray(times, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("no finite follow-up time")
    return FollowUp(unit, float(values.min()), float(np.median(values)), float(values.max()))


def _floor_2_significant(value: float) -> float:
    """``value`` rounded down to two significant digits (11.96 -> 11, 8.97 -> 8.9)."""
    scale = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.floor(value / scale + 1e-9) * scale


def default_horizons_months(last_follow_up_months: float) -> tuple[float, ...]:
    """Survival horizons (months) within a cohort's follow-up.

    The study's horizons (:data:`STUDY_HORIZONS_MONTHS`) that do not exceed the last follow-up;
    when fewer than two of them do, the quarters of the last follow-up, each rounded down to two
    significant digits (a cohort followed 11.96 months: 2.9, 5.9, 8.9 and 11 months). No horizon
    lies beyond the last follow-up, so none is an extrapolation.

    Parameters
    ----------
    last_follow_up_months : float
        The longest follow-up time of the cohort (months, > 0).

    Returns
    -------
    tuple of float
        Increasing horizons (months).
    """
    kept = tuple(t for t in STUDY_HORIZONS_MONTHS if t <= last_follow_up_months)
    if len(kept) >= 2:
        return kept
    quarters = (_floor_2_significant(q * last_follow_up_months / 4) for q in range(1, 5))
    return tuple(sorted({round(q, 12) for q in quarters}))


def curve_times_months(
    last_follow_up_months: float, horizons_months: tuple[float, ...] = ()
) -> np.ndarray:
    """Times (months) at which survival curves are drawn: :data:`CURVE_POINTS` equally spaced
    points up to the last follow-up, or to the last horizon when a configured horizon lies
    beyond it (that part is an extrapolation, and plots mark it).

    Parameters
    ----------
    last_follow_up_months : float
        Longest follow-up (months, > 0).
    horizons_months : tuple of float
        The report's horizons (months).
    """
    end = max((last_follow_up_months, *horizons_months))
    return np.linspace(end / CURVE_POINTS, end, CURVE_POINTS)
