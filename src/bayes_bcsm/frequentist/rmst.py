"""Kaplan-Meier restricted mean survival time (RMST) and milestone survival, one and two groups.

The RMST up to ``tau`` is the area under the Kaplan-Meier curve on [0, tau]; its variance is the
Greenwood-type sum that R's ``survRM2::rmst2`` uses (the same as ``print(survfit(...),
rmean = tau)``, :meth:`KaplanMeierResult.restricted_mean`). Two groups are compared by the
difference (SE the root of the summed variances) and the ratio (delta method on the log scale),
each with a normal-theory interval and a two-sided P value, as ``rmst2`` prints them.

References
----------
Royston P, Parmar MKB (2013). Restricted mean survival time: an alternative to the hazard ratio
for the design and analysis of randomized trials with a time-to-event outcome. BMC Med Res
Methodol 13:152.
Uno H et al. (2014). Moving beyond the hazard ratio in quantifying the between-group difference
in survival analysis. J Clin Oncol 32:2380-2385 (``survRM2``).
Klein JP, Moeschberger ML (2003). Survival Analysis, 2nd ed., section 4.5. Springer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from bayes_bcsm.frequentist._validate import SurvivalInputError, as_survival_arrays
from bayes_bcsm.frequentist.km import KaplanMeierResult, kaplan_meier

__all__ = [
    "RmstComparison",
    "km_milestones",
    "km_rmst",
    "rmst_comparison",
]

#: Columns of every summary table here.
SUMMARY_COLUMNS = ("quantity", "estimate", "se", "lower", "upper", "p_value", "tau")


def _z(conf_level: float) -> float:
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")
    return float(stats.norm.ppf(0.5 + conf_level / 2.0))


def _two_sided_p(z: float) -> float:
    return float(2.0 * stats.norm.sf(abs(z)))


def _check_tau(tau: float, km: KaplanMeierResult, label: str) -> float:
    """``tau`` as a float, refused when not positive or beyond the last observed time."""
    tau = float(tau)
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"tau must be a positive finite time, got {tau!r}")
    last = float(km.time[-1])
    if tau > last:
        raise SurvivalInputError(
            f"tau = {tau:g} is beyond the last observed time of {label} ({last:g}); the "
            "Kaplan-Meier curve is not defined there (choose tau <= the shortest group's "
            "last observed time)"
        )
    return tau


def km_rmst(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    tau: float,
    *,
    entry: npt.ArrayLike | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Kaplan-Meier RMST up to ``tau`` with its Greenwood-type standard error.

    Parameters
    ----------
    time : array-like of float, shape (n,)
        Follow-up times (any unit).
    event : array-like of {0, 1}, shape (n,)
        1 = event, 0 = censored.
    tau : float
        Truncation time (unit of ``time``), > 0 and at most the last observed time.
    entry : array-like of float, shape (n,), optional
        Delayed entry (see :func:`~bayes_bcsm.frequentist.km.kaplan_meier`).
    conf_level : float
        Level of the normal-theory interval.

    Returns
    -------
    pandas.DataFrame
        One row, columns :data:`SUMMARY_COLUMNS` (quantity ``rmst``; ``p_value`` NaN), in the
        unit of ``time``.
    """
    km = kaplan_meier(time, event, entry=entry)
    tau = _check_tau(tau, km, "the data")
    est, se = km.restricted_mean(tau)
    z = _z(conf_level)
    return pd.DataFrame(
        [
            {
                "quantity": "rmst",
                "estimate": est,
                "se": se,
                "lower": est - z * se,
                "upper": est + z * se,
                "p_value": np.nan,
                "tau": tau,
            }
        ],
        columns=list(SUMMARY_COLUMNS),
    )


@dataclass(frozen=True)
class RmstComparison:
    """RMST of two groups up to ``tau``, their difference and ratio (immutable).

    Attributes
    ----------
    levels : tuple of (reference, compared)
        The group values; differences and ratios are compared minus / over reference.
    tau : float
        Truncation time (input unit).
    conf_level : float
    curves : tuple of KaplanMeierResult
        The Kaplan-Meier fit of each group, in the order of ``levels``.
    summary : pandas.DataFrame
        Rows ``rmst_<reference>``, ``rmst_<compared>``, ``rmst_difference``, ``rmst_ratio``;
        columns :data:`SUMMARY_COLUMNS`. The ratio's ``se`` is that of its logarithm and its
        interval ``exp(log ratio +/- z se)``; P values test difference 0 and ratio 1.
    """

    levels: tuple[object, object]
    tau: float
    conf_level: float
    curves: tuple[KaplanMeierResult, KaplanMeierResult] = field(repr=False)
    summary: pd.DataFrame = field(repr=False)

    def row(self, quantity: str) -> pd.Series:
        """The summary row of ``quantity`` (e.g. ``"rmst_difference"``)."""
        return self.summary.set_index("quantity").loc[quantity]


def _split(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    group: npt.ArrayLike,
    entry: npt.ArrayLike | None,
    levels: Sequence[object] | None,
) -> tuple[tuple[object, object], list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]]:
    """Validate the inputs and split them by the two levels of ``group``."""
    t, e = as_survival_arrays(time, event)
    g = np.asarray(group)
    if g.shape != t.shape:
        raise SurvivalInputError(
            f"group and time must have the same length, got {g.shape} and {t.shape}"
        )
    ent = None if entry is None else np.asarray(entry, dtype=float)
    present = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(g)]
    if levels is None:
        if len(present) != 2:
            raise SurvivalInputError(
                f"group must take exactly two values, got {len(present)}: {present[:5]}"
            )
        levels = sorted(present)
    if len(levels) != 2:
        raise ValueError(f"levels must name two groups (reference, compared), got {levels!r}")
    parts = []
    for level in levels:
        rows = g == level
        if not rows.any():
            raise SurvivalInputError(f"group level {level!r} has no rows")
        parts.append((t[rows], e[rows], None if ent is None else ent[rows]))
    return (levels[0], levels[1]), parts


def rmst_comparison(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    group: npt.ArrayLike,
    tau: float,
    *,
    levels: Sequence[object] | None = None,
    entry: npt.ArrayLike | None = None,
    conf_level: float = 0.95,
) -> RmstComparison:
    """Kaplan-Meier RMST of two groups up to ``tau``: each, their difference and their ratio.

    Parameters
    ----------
    time, event : array-like, shape (n,)
        Follow-up times (any unit) and event indicators (1 = event).
    group : array-like, shape (n,)
        Group of each row; exactly two values unless ``levels`` picks two.
    tau : float
        Truncation time (unit of ``time``); at most the last observed time of either group.
    levels : sequence of two values, optional
        ``(reference, compared)``; default the two values of ``group`` sorted.
    entry : array-like of float, shape (n,), optional
        Delayed entry (see :func:`~bayes_bcsm.frequentist.km.kaplan_meier`).
    conf_level : float
        Level of the normal-theory intervals.

    Returns
    -------
    RmstComparison

    Notes
    -----
    ``var(difference) = var_0 + var_1``; ``var(log ratio) = var_1 / rmst_1^2 +
    var_0 / rmst_0^2`` (delta method); the groups are independent. These are the figures of
    ``survRM2::rmst2(time, status, arm, tau)``.

    Examples
    --------
    >>> cmp = rmst_comparison([1, 2, 3, 4], [1, 1, 1, 1], [0, 0, 1, 1], tau=2)
    >>> float(cmp.row("rmst_difference")["estimate"])
    0.5
    """
    (ref, cmp_level), parts = _split(time, event, group, entry, levels)
    curves = tuple(kaplan_meier(t, e, entry=en, conf_level=conf_level) for t, e, en in parts)
    for level, km in zip((ref, cmp_level), curves, strict=True):
        tau = _check_tau(tau, km, f"group {level}")
    (r0, s0), (r1, s1) = (km.restricted_mean(tau) for km in curves)
    z = _z(conf_level)
    diff, se_diff = r1 - r0, float(np.hypot(s0, s1))
    log_ratio = np.log(r1 / r0)
    se_log = float(np.sqrt((s1 / r1) ** 2 + (s0 / r0) ** 2))
    rows = [
        (f"rmst_{ref}", r0, s0, r0 - z * s0, r0 + z * s0, np.nan),
        (f"rmst_{cmp_level}", r1, s1, r1 - z * s1, r1 + z * s1, np.nan),
        (
            "rmst_difference",
            diff,
            se_diff,
            diff - z * se_diff,
            diff + z * se_diff,
            _two_sided_p(diff / se_diff) if se_diff > 0 else np.nan,
        ),
        (
            "rmst_ratio",
            float(np.exp(log_ratio)),
            se_log,
            float(np.exp(log_ratio - z * se_log)),
            float(np.exp(log_ratio + z * se_log)),
            _two_sided_p(log_ratio / se_log) if se_log > 0 else np.nan,
        ),
    ]
    summary = pd.DataFrame([(*row, tau) for row in rows], columns=list(SUMMARY_COLUMNS)).astype(
        {c: float for c in SUMMARY_COLUMNS[1:]}
    )
    return RmstComparison(
        levels=(ref, cmp_level),
        tau=tau,
        conf_level=float(conf_level),
        curves=curves,  # type: ignore[arg-type]
        summary=summary,
    )


def km_milestones(
    comparison: RmstComparison, times: Sequence[float] | npt.ArrayLike
) -> pd.DataFrame:
    """Survival of each group at milestone times and its difference, with intervals.

    Parameters
    ----------
    comparison : RmstComparison
        The two Kaplan-Meier fits (:func:`rmst_comparison`).
    times : sequence of float
        Milestones (input unit), within follow-up.

    Returns
    -------
    pandas.DataFrame
        Rows ``survival_<level>_<t>`` (Greenwood SE, log-scale interval as R's ``survfit``)
        and ``survival_difference_<t>`` (compared minus reference; SE the root of the summed
        Greenwood variances, normal interval, two-sided P of no difference); columns
        :data:`SUMMARY_COLUMNS` with ``tau`` the milestone.
    """
    z = _z(comparison.conf_level)
    q = np.atleast_1d(np.asarray(times, dtype=float))
    at = [km.survival_at(q) for km in comparison.curves]
    rows = []
    for level, tab in zip(comparison.levels, at, strict=True):
        for t, r in zip(q, tab.itertuples(), strict=True):
            rows.append((f"survival_{level}_{t:g}", r.survival, r.se, r.lower, r.upper, np.nan, t))
    for i, t in enumerate(q):
        s0, s1 = at[0].iloc[i], at[1].iloc[i]
        d, se = s1["survival"] - s0["survival"], float(np.hypot(s0["se"], s1["se"]))
        p = _two_sided_p(d / se) if se > 0 else np.nan
        rows.append((f"survival_difference_{t:g}", d, se, d - z * se, d + z * se, p, t))
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
