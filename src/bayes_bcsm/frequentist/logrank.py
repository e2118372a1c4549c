"""Log-rank and G-rho (Harrington-Fleming) tests for k >= 2 groups, stratified and trend versions.

Reproduces R's ``survdiff``: for each distinct event time t_j (within a stratum), with n_j at
risk, d_j events, n_gj at risk and d_gj events in group g, and weight w_j = S(t_j-)^rho (the
left-continuous pooled Kaplan-Meier estimate of the stratum),

    O_g = sum_j w_j d_gj,   E_g = sum_j w_j d_j n_gj / n_j,
    V_gh = sum_j w_j^2 d_j (n_j - d_j) / (n_j - 1) * (n_gj / n_j) * (delta_gh - n_hj / n_j),

summed over strata. The k-group statistic is (O - E)' V^- (O - E) on the groups with E > 0,
dropping one (a generalised inverse covers singular cases), with df = rank of that matrix.
The trend test for ordered groups with scores c is [c'(O - E)]^2 / (c' V c) on 1 df.

Vectorised: one sort per stratum and ``bincount`` / ``cumsum`` over (time, group) cells, no
Python loop over event times.

References
----------
Mantel N (1966). Evaluation of survival data and two new rank order statistics arising in its
consideration. Cancer Chemotherapy Reports 50:163-170.
Harrington DP, Fleming TR (1982). A class of rank test procedures for censored survival data.
Biometrika 69:553-566.
Peto R, Peto J (1972). Asymptotically efficient rank invariant test procedures. JRSS A 135:185-207.
Klein JP, Moeschberger ML (2003). Survival Analysis, 2nd ed., sections 7.3-7.5 (trend test 7.4).
Therneau TM. ``survival`` package for R: ``survdiff``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from bayes_bcsm.frequentist._ties import distinct_times, entered_later
from bayes_bcsm.frequentist._validate import (
    SurvivalInputError,
    as_entry_array,
    as_survival_arrays,
    missing_mask,
)

__all__ = ["LogrankResult", "logrank_test"]


@dataclass(frozen=True)
class LogrankResult:
    """Result of :func:`logrank_test` (immutable).

    Attributes
    ----------
    statistic : float
        Chi-square statistic.
    df : int
        Degrees of freedom (k - 1 for the k-group test when every group has E > 0; 1 for the
        trend test).
    p_value : float
        Upper-tail chi-square probability of ``statistic`` on ``df``; NaN when no test is
        possible (``df`` = 0: zero variance, e.g. a single event time shared by everyone).
    observed, expected : numpy.ndarray, shape (k,)
        Weighted observed and expected event counts per group (plain counts when rho = 0),
        summed over strata, in the order of ``groups``.
    variance : numpy.ndarray, shape (k, k)
        Covariance matrix of O - E (singular: rows sum to 0).
    groups : tuple
        Group labels, in the order used (categorical order, otherwise sorted).
    n : int
        Observations used.
    n_per_group : numpy.ndarray of int, shape (k,)
        Observations per group.
    rho : float
        G-rho weight exponent (0 = log-rank, 1 = Peto-Peto).
    test : {"k-group", "trend"}
        Which statistic was computed.
    scores : numpy.ndarray or None
        Trend-test scores per group (None for the k-group test).
    n_strata : int
        Number of strata (1 when unstratified).
    n_excluded : int
        Rows dropped for a missing time, event, group or stratum (``dropna=True``).
    """

    statistic: float
    df: int
    p_value: float
    observed: np.ndarray = field(repr=False)
    expected: np.ndarray = field(repr=False)
    variance: np.ndarray = field(repr=False)
    groups: tuple
    n: int
    n_per_group: np.ndarray = field(repr=False)
    rho: float = 0.0
    test: str = "k-group"
    scores: np.ndarray | None = field(default=None, repr=False)
    n_strata: int = 1
    n_excluded: int = 0

    @property
    def summary(self) -> pd.DataFrame:
        """Tidy per-group table: n, observed, expected, (O-E)^2/E and (O-E)^2/V (as survdiff)."""
        o, e = self.observed, self.expected
        v = np.diag(self.variance)
        with np.errstate(divide="ignore", invalid="ignore"):
            oe_e = np.where(e > 0, (o - e) ** 2 / e, np.nan)
            oe_v = np.where(v > 0, (o - e) ** 2 / v, np.nan)
        return pd.DataFrame(
            {
                "n": self.n_per_group,
                "observed": o,
                "expected": e,
                "(O-E)^2/E": oe_e,
                "(O-E)^2/V": oe_v,
            },
            index=pd.Index(list(self.groups), name="group"),
        )


def _codes(values: object, name: str) -> tuple[np.ndarray, tuple]:
    """Integer codes 0..k-1 and labels; categorical order for a pandas Categorical."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        values = values.array
    if isinstance(values, pd.Categorical):
        cat = values.remove_unused_categories()
        return np.asarray(cat.codes, dtype=np.int64), tuple(cat.categories)
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise SurvivalInputError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    try:
        labels, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:  # mixed, unorderable labels: keep order of appearance
        codes_pd, uniques = pd.factorize(arr, sort=False)
        if (codes_pd < 0).any():
            raise SurvivalInputError(f"{name} has missing values") from exc
        return codes_pd.astype(np.int64), tuple(uniques)
    return codes.astype(np.int64).ravel(), tuple(labels.tolist())


def _stratum_sums(
    t: np.ndarray, e: np.ndarray, g: np.ndarray, k: int, rho: float, entry: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted O, E (length k) and V (k x k) for one stratum (rows at risk on (entry, t])."""
    ut, inv = distinct_times(t)
    m = ut.size
    cell = inv * k + g
    n_cell = np.bincount(cell, minlength=m * k).reshape(m, k).astype(np.float64)
    d_cell = np.bincount(cell, weights=e, minlength=m * k).reshape(m, k)
    # at risk at each distinct time: reverse cumulative sum over later-or-equal times
    risk = np.cumsum(n_cell[::-1], axis=0)[::-1]
    if entry is not None:  # minus the rows not yet entered
        risk = risk - entered_later(ut, entry, g, k)
    n_j = risk.sum(axis=1)
    d_j = d_cell.sum(axis=1)
    if rho != 0.0:
        factor = 1.0 - d_j / n_j
        km_left = np.concatenate(([1.0], np.cumprod(factor)[:-1]))  # S(t-), pooled
        w = km_left**rho
    else:
        w = np.ones(m)
    keep = d_j > 0
    risk, n_j, d_j, d_cell, w = risk[keep], n_j[keep], d_j[keep], d_cell[keep], w[keep]
    p = risk / n_j[:, None]
    observed = w @ d_cell
    expected = (w * d_j) @ p
    multi = n_j > 1
    c = np.zeros_like(n_j)
    c[multi] = w[multi] ** 2 * d_j[multi] * (n_j[multi] - d_j[multi]) / (n_j[multi] - 1.0)
    variance = np.diag(c @ p) - (p * c[:, None]).T @ p
    return observed, expected, variance


def logrank_test(
    time: npt.ArrayLike | Sequence[float],
    event: npt.ArrayLike | Sequence[int],
    group: npt.ArrayLike | Sequence[object],
    rho: float = 0.0,
    strata: npt.ArrayLike | Sequence[object] | None = None,
    trend: bool | Sequence[float] | None = None,
    *,
    dropna: bool = False,
    entry: npt.ArrayLike | Sequence[float] | None = None,
) -> LogrankResult:
    """Compare survival between k >= 2 groups: log-rank / G-rho test, stratified or trend.

    Parameters
    ----------
    time : array-like of float, shape (n,)
        Follow-up times (any unit, e.g. months), > 0.
    event : array-like of {0, 1}, shape (n,)
        1 = event observed, 0 = censored.
    group : array-like, shape (n,)
        Group labels (numbers, strings, pandas Categorical). A Categorical keeps its category
        order (unused categories are dropped); other labels are sorted.
    rho : float, default 0
        G-rho weight exponent, weights S(t-)^rho with S the pooled left-continuous Kaplan-Meier
        estimate (within stratum): 0 = log-rank (Mantel-Haenszel), 1 = Peto-Peto modification
        of the Gehan-Wilcoxon test (R's ``survdiff(rho = 1)``).
    strata : array-like, shape (n,), optional
        Stratum labels: O, E and V are computed within strata and summed (``survdiff`` with
        ``strata()``).
    trend : bool or sequence of float, optional
        ``True``: test for trend across ordered groups with scores 1..k in group order; a
        sequence: one score per group (in the order of ``groups``). 1 df.
    dropna : bool, default False
        Drop rows with a missing time, event, group, stratum (or entry) and record the count
        in ``n_excluded``. If False, missing values raise :class:`SurvivalInputError`.
    entry : array-like of float, shape (n,), optional
        Delayed entry, or the start of (start, stop] episodes: the row is at risk on
        (entry, time] (R's ``Surv(entry, time, event)``), 0 <= entry < time. None (default):
        at risk from 0. A subject's group must not change between its episodes.

    Returns
    -------
    LogrankResult

    Raises
    ------
    SurvivalInputError
        Invalid time / event, length mismatch, missing values without ``dropna``, fewer than
        two groups.
    ValueError
        Bad ``rho`` or ``trend`` scores.

    Notes
    -----
    As in ``survdiff``, groups with E = 0 are left out of the k-group statistic, and ``observed``
    / ``expected`` are weighted by w_j when rho != 0. The variance uses the hypergeometric
    form with the (n_j - d_j) / (n_j - 1) tie correction. With ``entry`` the numbers at risk
    n_j and n_gj count rows with entry < t_j <= time, and the G-rho weight uses the
    delayed-entry Kaplan-Meier estimate.
    """
    rho = float(rho)
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite number >= 0, got {rho!r}")
    n_in = len(np.asarray(time))
    lengths = {"time": n_in, "event": len(np.asarray(event)), "group": len(group)}
    if strata is not None:
        lengths["strata"] = len(strata)
    if entry is not None:
        lengths["entry"] = len(entry)
    if len(set(lengths.values())) != 1:
        raise SurvivalInputError(
            ", ".join(lengths)
            + " must have the same length, got "
            + ", ".join(f"{k}={v}" for k, v in lengths.items())
        )
    optional = tuple((k, v) for k, v in (("strata", strata), ("entry", entry)) if v is not None)

    miss = missing_mask(time) | missing_mask(event) | missing_mask(group)
    for _, v in optional:
        miss |= missing_mask(v)
    n_excluded = 0
    if miss.any():
        if not dropna:
            cols = [
                name
                for name, v in (("time", time), ("event", event), ("group", group), *optional)
                if missing_mask(v).any()
            ]
            raise SurvivalInputError(
                f"{int(miss.sum())} row(s) have a missing value (in {', '.join(cols)}); "
                "pass dropna=True to exclude them (the count is recorded in n_excluded)"
            )
        n_excluded = int(miss.sum())
        keep = ~miss

        def sub(v: object) -> object:
            if isinstance(v, pd.Series):
                v = v.array
            if isinstance(v, pd.Categorical):
                return v[keep]
            return np.asarray(v)[keep]

        time, event, group = sub(time), sub(event), sub(group)
        if strata is not None:
            strata = sub(strata)
        if entry is not None:
            entry = sub(entry)

    t, e = as_survival_arrays(time, event)
    start = None if entry is None else as_entry_array(entry, t)
    g, labels = _codes(group, "group")
    k = len(labels)
    if k < 2:
        raise SurvivalInputError(
            f"group must have at least 2 distinct values to compare, found {k}: {list(labels)}"
        )

    o = np.zeros(k)
    ex = np.zeros(k)
    v = np.zeros((k, k))
    if strata is None:
        o, ex, v = _stratum_sums(t, e, g, k, rho, start)
        n_strata = 1
    else:
        s_codes, s_labels = _codes(strata, "strata")
        n_strata = len(s_labels)
        order = np.argsort(s_codes, kind="stable")
        bounds = np.searchsorted(s_codes[order], np.arange(n_strata + 1))
        for i in range(n_strata):  # loop over strata (few), not over event times
            idx = order[bounds[i] : bounds[i + 1]]
            oi, ei, vi = _stratum_sums(
                t[idx], e[idx], g[idx], k, rho, None if start is None else start[idx]
            )
            o += oi
            ex += ei
            v += vi

    scores: np.ndarray | None = None
    if trend is None or trend is False:
        test = "k-group"
        use = np.flatnonzero(ex > 0)
        if use.size < 2:
            stat, df = 0.0, 0
        else:
            diff = (o - ex)[use][1:]
            vv = v[np.ix_(use, use)][1:, 1:]
            stat = float(diff @ np.linalg.pinv(vv, hermitian=True) @ diff)
            df = int(np.linalg.matrix_rank(vv, hermitian=True))
    else:
        test = "trend"
        if trend is True:
            scores = np.arange(1.0, k + 1.0)
        else:
            scores = np.asarray(trend, dtype=float)
            if scores.shape != (k,) or not np.all(np.isfinite(scores)):
                raise ValueError(
                    f"trend scores must be {k} finite numbers, one per group in the order "
                    f"{list(labels)}; got {np.asarray(trend).tolist()}"
                )
        num = float(scores @ (o - ex))
        den = float(scores @ v @ scores)
        stat, df = (num**2 / den, 1) if den > 0 else (0.0, 0)
    p_value = float(stats.chi2.sf(stat, df)) if df > 0 else np.nan

    return LogrankResult(
        statistic=float(stat),
        df=df,
        p_value=p_value,
        observed=o,
        expected=ex,
        variance=v,
        groups=labels,
        n=int(t.size),
        n_per_group=np.bincount(g, minlength=k),
        rho=rho,
        test=test,
        scores=scores,
        n_strata=n_strata,
        n_excluded=n_excluded,
    )
