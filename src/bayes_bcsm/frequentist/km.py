"""Kaplan-Meier estimator with Greenwood variance, R-compatible confidence bands and medians.

Everything is vectorised (one sort, ``cumsum`` / ``cumprod``): no Python loop over event
times, so a million observations take a fraction of a second.

References
----------
Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations. JASA 53:457-481.
Greenwood M (1926). The natural duration of cancer. Reports on Public Health and Medical
Subjects 33. HMSO, London.
Klein JP, Moeschberger ML (2003). Survival Analysis, 2nd ed., sections 4.2-4.5. Springer.
Therneau TM. ``survival`` package for R: ``survfit``, ``quantile.survfit``, ``print.survfit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

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

__all__ = ["CONF_TYPES", "KaplanMeierResult", "kaplan_meier", "kaplan_meier_rows"]

ConfType = Literal["log", "log-log", "plain"]
CONF_TYPES: tuple[str, ...] = ("log", "log-log", "plain")
MedianCIMethod = Literal["r", "spss"]

#: Tolerance R's ``quantile.survfit`` uses to decide that a curve is flat at a quantile.
_R_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def _z(conf_level: float) -> float:
    """Two-sided standard-normal quantile for a confidence level in (0, 1)."""
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")
    return float(stats.norm.ppf(0.5 + conf_level / 2.0))


def _check_conf_type(conf_type: str) -> None:
    if conf_type not in CONF_TYPES:
        raise ValueError(
            f"conf_type must be one of {', '.join(repr(c) for c in CONF_TYPES)}; got {conf_type!r}"
        )


def _bands(
    surv: np.ndarray, se_log: np.ndarray, conf_type: str, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise confidence limits of S(t), as R's ``survfit`` computes them.

    ``se_log`` is the standard error of log S(t) (square root of Greenwood's sum). Rows with
    S = 0 get NaN limits (R prints NA). Rows with S = 1 (before the first event) get limits
    (1, 1) for every ``conf_type``; R prints NA for "log-log" there. Quantiles are unaffected.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            half = z * se_log * surv
            lower = np.maximum(surv - half, 0.0)
            upper = np.minimum(surv + half, 1.0)
        elif conf_type == "log":
            log_s = np.log(surv)
            lower = np.exp(log_s - z * se_log)
            upper = np.minimum(np.exp(log_s + z * se_log), 1.0)
        else:  # log-log
            log_s = np.log(surv)
            loglog = np.log(-log_s)
            half = z * se_log / log_s  # negative: log S < 0
            lower = np.exp(-np.exp(loglog - half))
            upper = np.exp(-np.exp(loglog + half))
            one = surv == 1.0
            lower[one] = 1.0
            upper[one] = 1.0
    zero = ~(surv > 0.0)  # S == 0 (or NaN)
    lower[zero] = np.nan
    upper[zero] = np.nan
    return lower, upper


def _r_quantile(
    time: np.ndarray,
    curve: np.ndarray,
    probs: np.ndarray,
    xmax: float,
    tol: float = _R_TOLERANCE,
) -> np.ndarray:
    """Times at which a survival curve (or one of its bands) falls to ``1 - probs``.

    Reimplements the rule of R's ``quantile.survfit``: the curve is read as a CDF
    ``F = 1 - S`` starting at (0, 0); exact duplicate values (censoring rows) and missing values
    are dropped; the quantile is the time of the smallest F value >= ``prob``. When the curve is
    flat at ``prob`` (within ``tol``), the midpoint of the flat stretch is returned (the usual
    median convention), or the midpoint between its start and the last follow-up time when the
    flat stretch is the end of the curve. NaN when the curve never reaches ``prob``.
    One stable sort of the curve serves every probability.
    """
    probs = np.asarray(probs, dtype=float)
    out = np.full(probs.shape, np.nan)
    x = np.concatenate(([0.0], time))
    y = np.concatenate(([0.0], 1.0 - curve))
    nan = np.isnan(y)
    if nan.all():
        return np.where(probs == 0.0, 0.0, out)
    # one stable sort (NaN last): the first of a run of equal values is its first occurrence,
    # which is the point R keeps when it drops duplicates
    order = np.argsort(y, kind="stable")
    ys = y[order]
    first = np.empty(ys.size, dtype=bool)
    first[0] = True
    first[1:] = ys[1:] != ys[:-1]  # NaN != NaN, so handle NaNs below
    n_ok = int((~nan).sum())
    first[n_ok:] = False
    knots_pos = order[first]
    knots = ys[first]
    # the last point R keeps (NaNs count as one value, first NaN kept)
    last_kept = int(knots_pos.max())
    if n_ok < y.size:
        last_kept = max(last_kept, int(order[n_ok]))
    y_last = y[last_kept]

    def first_at_or_above(level: np.ndarray) -> np.ndarray:
        # R: approx(knots, index, level, method = "constant", f = 1), rule = 1 (NA outside)
        idx = np.searchsorted(knots, level, side="left")
        valid = (level >= knots[0]) & (level <= knots[-1])
        return np.where(valid, knots_pos[np.minimum(idx, knots.size - 1)], -1)

    i1 = first_at_or_above(probs - tol)
    i2 = first_at_or_above(probs + tol)
    ok = (i1 >= 0) & (i2 >= 0)
    out[ok] = 0.5 * (x[i1[ok]] + x[i2[ok]])
    if not np.isnan(y_last):
        flat_end = np.abs(probs - y_last) < tol
        out[flat_end] = np.where(i1[flat_end] >= 0, 0.5 * (x[i1[flat_end]] + xmax), np.nan)
    out[probs == 0.0] = 0.0
    if knots[-1] < probs.min():  # R: the curve never gets that far -> all NA
        out[:] = np.nan
    return out


@dataclass(frozen=True)
class KaplanMeierResult:
    """A fitted Kaplan-Meier curve (immutable).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per distinct observed time (events and censorings), sorted, with columns
        ``time`` (input unit), ``at_risk``, ``events``, ``censored``, ``survival`` S(t),
        ``se`` (Greenwood standard error of S(t), R's ``std.err * surv``; NaN where S = 0),
        ``lower``, ``upper`` (pointwise limits of the ``conf_type`` band).
    n : int
        Observations used.
    n_events : int
        Events among them.
    conf_type : {"log", "log-log", "plain"}
        Scale of the pointwise confidence band.
    conf_level : float
        Confidence level of the band, e.g. 0.95.
    n_excluded : int
        Rows dropped for missing time or event (only with ``dropna=True``).
    """

    table: pd.DataFrame = field(repr=False)
    n: int
    n_events: int
    conf_type: str
    conf_level: float
    n_excluded: int = 0

    # -- basic arrays ---------------------------------------------------------------------
    @property
    def time(self) -> np.ndarray:
        """Distinct observed times (input unit), sorted."""
        return self.table["time"].to_numpy()

    @property
    def survival(self) -> np.ndarray:
        """S(t) at :attr:`time`."""
        return self.table["survival"].to_numpy()

    # -- quantiles ------------------------------------------------------------------------
    def quantile(self, probs: float | Sequence[float] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Survival-time quantiles with confidence limits, by R's ``quantile.survfit`` rule.

        Parameters
        ----------
        probs : float or sequence of float in [0, 1]
            Probabilities of the event-time distribution: 0.5 is the median, 0.25 the time
            by which a quarter have had the event.

        Returns
        -------
        pandas.DataFrame
            Index ``prob``; columns ``time``, ``lower``, ``upper`` (input time unit; NaN when
            the curve or the band does not reach the level). ``lower`` is where the lower band
            of S crosses ``1 - prob`` and ``upper`` where the upper band does.
        """
        p = np.atleast_1d(np.asarray(probs, dtype=float))
        if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
            raise ValueError(f"probs must lie in [0, 1], got {p.tolist()}")
        t = self.time
        xmax = float(t[-1])
        out = pd.DataFrame(
            {
                "time": _r_quantile(t, self.survival, p, xmax),
                "lower": _r_quantile(t, self.table["lower"].to_numpy(), p, xmax),
                "upper": _r_quantile(t, self.table["upper"].to_numpy(), p, xmax),
            },
            index=pd.Index(p, name="prob"),
        )
        return out

    @property
    def median(self) -> float:
        """Median survival time (input unit); NaN when S(t) never falls to 0.5.

        Smallest time with S(t) <= 0.5, or the midpoint of a flat stretch at exactly 0.5
        (R's ``survfit`` convention).
        """
        return float(_r_quantile(self.time, self.survival, np.array([0.5]), self.time[-1])[0])

    def median_se(self) -> float:
        """Large-sample standard error of the median (the rule documented for SPSS).

        SE(t50) = SE_Greenwood[S(t50)] / f with the crude density estimate
        f = [S(u) - S(l)] / (l - u), where u is the largest event time with S >= 0.55 and l
        the smallest event time with S <= 0.45 (Klein & Moeschberger 2003, section 4.5).

        Returns
        -------
        float
            Standard error in the input time unit; NaN when the median or either of u, l is
            undefined.
        """
        med = self.median
        tab = self.table
        ev = tab[tab["events"] > 0]
        if np.isnan(med) or ev.empty:
            return np.nan
        t, s = ev["time"].to_numpy(), ev["survival"].to_numpy()
        upper_side = np.flatnonzero(s >= 0.55)
        lower_side = np.flatnonzero(s <= 0.45)
        if upper_side.size == 0 or lower_side.size == 0:
            return np.nan
        iu, il = upper_side[-1], lower_side[0]
        dens = (s[iu] - s[il]) / (t[il] - t[iu])
        se_s = float(self.survival_at([med])["se"].iloc[0])
        return float(se_s / dens) if dens > 0 else np.nan

    def median_ci(
        self, method: MedianCIMethod = "r", conf_level: float | None = None
    ) -> tuple[float, float]:
        """Confidence interval of the median survival time.

        Parameters
        ----------
        method : {"r", "spss"}
            ``"r"``: R ``survfit``'s rule, the times at which the pointwise band (this result's
            ``conf_type`` and ``conf_level``) crosses 0.5 (Brookmeyer & Crowley 1982 type).
            ``"spss"``: median +/- z * :meth:`median_se` (what SPSS prints).
        conf_level : float, optional
            Only for ``"spss"``; defaults to the result's ``conf_level``. For ``"r"`` the band
            of the fit is used, so refit with another ``conf_level`` to change it.

        Returns
        -------
        (lower, upper) : tuple of float
            Limits in the input time unit; NaN where not reached / not estimable.

        References
        ----------
        Brookmeyer R, Crowley J (1982). A confidence interval for the median survival time.
        Biometrics 38:29-41.
        """
        if method == "r":
            if conf_level is not None and conf_level != self.conf_level:
                raise ValueError(
                    "median_ci(method='r') uses the band of the fit "
                    f"(conf_level={self.conf_level}); refit with kaplan_meier(..., "
                    f"conf_level={conf_level}) instead"
                )
            q = self.quantile(0.5).iloc[0]
            return float(q["lower"]), float(q["upper"])
        if method == "spss":
            z = _z(self.conf_level if conf_level is None else conf_level)
            med, se = self.median, self.median_se()
            return float(med - z * se), float(med + z * se)
        raise ValueError(f"method must be 'r' or 'spss', got {method!r}")

    # -- evaluation at given times --------------------------------------------------------
    def survival_at(
        self, times: npt.ArrayLike | Sequence[float], *, extend: bool = False
    ) -> pd.DataFrame:
        """Evaluate the (right-continuous) step function S(t) and its band at given times.

        Parameters
        ----------
        times : array-like of float
            Times (input unit), any order; values before the first observed time give S = 1.
        extend : bool, default False
            For times beyond the last observed time: if False, NaN (unknown) unless the curve
            has dropped to 0; if True, carry the last value forward.

        Returns
        -------
        pandas.DataFrame
            Columns ``time``, ``survival``, ``se``, ``lower``, ``upper``, one row per requested
            time, in the requested order.
        """
        q = np.atleast_1d(np.asarray(times, dtype=float))
        if q.ndim != 1 or np.any(np.isnan(q)):
            raise ValueError("times must be a 1-D sequence of numbers without NaN")
        t = self.time
        idx = np.searchsorted(t, q, side="right") - 1
        cols = {}
        for name in ("survival", "se", "lower", "upper"):
            col = self.table[name].to_numpy()
            val = np.where(idx >= 0, col[np.maximum(idx, 0)], 1.0 if name != "se" else 0.0)
            cols[name] = val
        beyond = q > t[-1]
        if not extend and beyond.any() and self.survival[-1] > 0:
            for name in cols:
                cols[name] = np.where(beyond, np.nan, cols[name])
        return pd.DataFrame({"time": q, **cols})

    def restricted_mean(self, tau: float) -> tuple[float, float]:
        """Restricted mean survival time up to ``tau`` and its standard error.

        The area under S(t) on [0, tau] (the curve is carried flat past the last observed time)
        with the standard variance sum_j A_j^2 d_j / [n_j (n_j - d_j)] over event times
        t_j <= tau, A_j the area under S between t_j and tau (terms with n_j = d_j are zero).
        Matches R's ``print(survfit(...), rmean = tau)``.

        Parameters
        ----------
        tau : float
            Truncation time (input unit), > 0.

        Returns
        -------
        (estimate, se) : tuple of float
            In the input time unit.

        References
        ----------
        Klein JP, Moeschberger ML (2003), section 4.5.
        """
        tau = float(tau)
        if not np.isfinite(tau) or tau <= 0:
            raise ValueError(f"tau must be a positive finite time, got {tau!r}")
        tab = self.table
        ev = tab[(tab["events"] > 0) & (tab["time"] <= tau)]
        t = ev["time"].to_numpy()
        s = ev["survival"].to_numpy()
        d = ev["events"].to_numpy(dtype=float)
        r = ev["at_risk"].to_numpy(dtype=float)
        # S is 1 on [0, t_1), s_j on [t_j, t_{j+1}), the last one up to tau
        knots = np.concatenate(([0.0], t, [tau]))
        heights = np.concatenate(([1.0], s))
        pieces = heights * np.diff(knots)
        estimate = float(pieces.sum())
        # area from t_j to tau for each event time j
        tail = np.cumsum(pieces[::-1])[::-1][1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(r - d > 0, d / (r * (r - d)), 0.0)
        var = float(np.sum(tail**2 * h))
        return estimate, float(np.sqrt(var))

    # -- tidy summary ---------------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        """One-row tidy summary: n, events, median and its R-rule confidence limits."""
        lo, hi = self.median_ci("r")
        return pd.DataFrame(
            {
                "n": [self.n],
                "events": [self.n_events],
                "median": [self.median],
                "median_lower": [lo],
                "median_upper": [hi],
                "conf_type": [self.conf_type],
                "conf_level": [self.conf_level],
            }
        )


def kaplan_meier(
    time: npt.ArrayLike | Sequence[float],
    event: npt.ArrayLike | Sequence[int],
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
    *,
    dropna: bool = False,
    entry: npt.ArrayLike | Sequence[float] | None = None,
) -> KaplanMeierResult:
    """Kaplan-Meier estimate of the survival function with Greenwood standard errors.

    Parameters
    ----------
    time : array-like of float, shape (n,)
        Follow-up time of each subject (any unit, e.g. months), > 0.
    event : array-like of {0, 1}, shape (n,)
        1 = event (death) observed at ``time``, 0 = censored at ``time``.
    conf_type : {"log", "log-log", "plain"}, default "log"
        Scale of the pointwise confidence band: "log" (R's default,
        exp(log S +/- z se_log)), "log-log" (exp(-exp(log(-log S) -/+ z se_log / log S)),
        lifelines' and SAS's default) or "plain" (S +/- z se, clipped to [0, 1]).
    conf_level : float, default 0.95
        Confidence level of the band (and of the median's R-rule interval).
    dropna : bool, default False
        If True, drop rows whose time, event (or entry) is missing and record how many in
        ``n_excluded``; if False, missing values raise :class:`SurvivalInputError`.
    entry : array-like of float, shape (n,), optional
        Delayed entry (left truncation), or the start of (start, stop] episodes: the row is
        at risk on (entry, time], same unit as ``time``, 0 <= entry < time. None (default)
        means every row is at risk from 0. Split follow-up ((0, a], (a, b], ... of one
        subject, the event on the last piece) gives the same curve as the unsplit row;
        the split points then appear in the table as rows with censorings only.

    Returns
    -------
    KaplanMeierResult

    Raises
    ------
    SurvivalInputError
        For invalid time / event input (see :func:`as_survival_arrays`).
    ValueError
        For an unknown ``conf_type`` or a ``conf_level`` outside (0, 1).

    Notes
    -----
    Greenwood's variance of log S(t) is sum_{t_j <= t} d_j / [n_j (n_j - d_j)]; the table's
    ``se`` column is S(t) times its square root (R's ``std.err * surv``). Ties between events
    and censorings at the same time follow the usual convention: the censored subjects are
    still at risk at that time. With ``entry``, the number at risk at t counts the rows with
    entry < t <= time (R's ``survfit(Surv(entry, time, event) ~ 1)``); the curve is then
    conditional on surviving to the earliest entry (Klein & Moeschberger 2003, section 4.6).

    Examples
    --------
    >>> km = kaplan_meier([3, 1, 2, 3, 2, 1, 5, 3], [0, 1, 1, 1, 0, 0, 1, 0])
    >>> km.table["survival"].round(4).tolist()
    [0.875, 0.7292, 0.5469, 0.0]
    """
    _check_conf_type(conf_type)
    z = _z(conf_level)
    n_excluded = 0
    if dropna:
        t_in, e_in = np.asarray(time), np.asarray(event)
        if t_in.shape != e_in.shape:
            raise SurvivalInputError(
                f"time and event must have the same length, got {t_in.shape} and {e_in.shape}"
            )
        miss = missing_mask(t_in) | missing_mask(e_in)
        if entry is not None:
            entry = np.asarray(entry)
            if entry.shape != t_in.shape:
                raise SurvivalInputError(
                    f"entry and time must have the same length, got {entry.shape} and {t_in.shape}"
                )
            miss |= missing_mask(entry)
            entry = entry[~miss]
        n_excluded = int(miss.sum())
        time, event = t_in[~miss], e_in[~miss]
    t, e = as_survival_arrays(time, event)

    ut, inv = distinct_times(t)
    counts = np.bincount(inv, minlength=ut.size)
    events = np.bincount(inv, weights=e, minlength=ut.size).astype(np.int64)
    at_risk = np.cumsum(counts[::-1])[::-1]
    if entry is not None:  # not yet at risk at the exit times t_j <= entry
        at_risk = at_risk - entered_later(ut, as_entry_array(entry, t))

    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - events / at_risk)
        gw_terms = np.where(events > 0, events / (at_risk * (at_risk - events)), 0.0)
    var_log = np.cumsum(gw_terms)  # inf from the time S reaches 0
    se_log = np.sqrt(var_log)
    with np.errstate(invalid="ignore"):
        se = np.where(surv > 0, surv * se_log, np.nan)
    lower, upper = _bands(surv, se_log, conf_type, z)

    table = pd.DataFrame(
        {
            "time": ut,
            "at_risk": at_risk,
            "events": events,
            "censored": counts - events,
            "survival": surv,
            "se": se,
            "lower": lower,
            "upper": upper,
        }
    )
    return KaplanMeierResult(
        table=table,
        n=int(t.size),
        n_events=int(e.sum()),
        conf_type=conf_type,
        conf_level=float(conf_level),
        n_excluded=n_excluded,
    )


def kaplan_meier_rows(time: np.ndarray, event: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Kaplan-Meier survival of many samples of the same size at the same times, at once.

    Each row of ``time`` / ``event`` is one sample (complete follow-up from 0, right
    censoring); the curve of row ``r`` at ``at[g]`` equals
    ``kaplan_meier(time[r], event[r]).survival_at(at, extend=True)["survival"][g]`` to
    rounding: events are taken one at a time in time order, the events of a tie before the
    subjects censored at that time (so these are at risk), and a tie of ``d`` events among
    ``n`` at risk gives ``(1 - 1/n) (1 - 1/(n-1)) ... = 1 - d/n``.

    Parameters
    ----------
    time : ndarray, shape (R, n)
        Follow-up times (any unit, > 0).
    event : ndarray of {0, 1}, shape (R, n)
        1 = event at ``time``, 0 = censored.
    at : ndarray, shape (G,)
        Times at which to evaluate the curves (same unit); before a row's first time S = 1,
        beyond its last time its last value.

    Returns
    -------
    ndarray, shape (R, G)
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(int)
    order = np.lexsort((1 - event, time), axis=-1)  # by time, events first within a tie
    t = np.take_along_axis(time, order, axis=-1)
    d = np.take_along_axis(event, order, axis=-1)
    at_risk = time.shape[-1] - np.arange(time.shape[-1])
    survival = np.cumprod(np.where(d == 1, 1.0 - 1.0 / at_risk, 1.0), axis=-1)
    passed = (t[:, :, None] <= np.asarray(at, dtype=float)).sum(axis=1)  # (R, G)
    stepped = np.take_along_axis(survival, np.maximum(passed - 1, 0), axis=-1)
    return np.where(passed > 0, stepped, 1.0)
