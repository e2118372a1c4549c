"""Pair-counting measures of discrimination: Harrell's C, Uno's C, cumulative/dynamic AUC.

Harrell's C as R's ``survival::concordance`` computes it: pairs tied on time are not
comparable; pairs tied on the predictor count 1/2. Counting is vectorised (bottom-up merge
counting per level, no loop over patients). With (start, stop] rows an event is compared
with the rows at risk at its time only (R's ``concordance`` on ``Surv(start, stop, event)``).

Definitions (risk score r, higher = worse; a pair counts 1 when concordant, 1/2 when tied
on r, within the tolerance :data:`TIED_TOL`):

* **Harrell's C**: over pairs (i, j) with ``delta_i = 1`` and ``T_i < T_j`` (or ``T_i = T_j``
  with j censored), the share in which ``r_i > r_j``.
* **Uno's C** (truncation time tau): the same pairs with ``T_i < tau``, each weighted by
  ``G(T_i)^-2`` (G: Kaplan-Meier of the censoring times, :mod:`.ipcw`); it does not depend
  on the censoring distribution of the data it is computed on.
* **Cumulative/dynamic AUC(t)**: cases ``T_i <= t`` with ``delta_i = 1`` weighted by
  ``1 / G(T_i)``, controls ``T_j > t``; the weighted share of (case, control) pairs with
  ``r_i > r_j``.

These are the estimators of scikit-survival (``concordance_index_censored``,
``concordance_index_ipcw``, ``cumulative_dynamic_auc``), which the tests use as the oracle.
Standard errors are jackknife (leave one patient out) with the censoring weights held fixed;
each pair sum is updated in closed form, so the jackknife needs no refit.

References
----------
Harrell, F. E. et al. (1982). Evaluating the yield of medical tests. *JAMA* 247, 2543-2546.
Therneau, T. M. (2023). ``survival`` package, ``concordance``.
Uno, H. et al. (2011). On the C-statistics for evaluating overall adequacy of risk prediction
procedures with censored survival data. *Stat. Med.* 30, 1105-1117.
Uno, H., Cai, T., Tian, L., Wei, L. J. (2007). Evaluating prediction rules for t-year
survivors with censored regression models. *JASA* 102, 527-537.
Hung, H., Chiang, C.-T. (2010). Estimation methods for time-dependent AUC models with survival
data. *Can. J. Stat.* 38, 8-26.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from bayes_bcsm.frequentist._validate import as_survival_arrays
from bayes_bcsm.frequentist.ipcw import (
    CensoringDistribution,
    as_horizons,
    censoring_distribution,
)
from bayes_bcsm.frequentist.metric import MetricEstimate

__all__ = [
    "TIED_TOL",
    "concordance_index",
    "cumulative_dynamic_auc",
    "harrell_concordance",
    "harrell_difference",
    "uno_concordance",
]

#: Risk scores closer than this count as tied (scikit-survival's ``tied_tol``).
TIED_TOL = 1e-8

#: Rows of the pair matrix computed at once (bounds memory at ~ _CHUNK * n values).
_CHUNK = 512


def _count_later(
    pos_value: np.ndarray, is_query: np.ndarray, is_point: np.ndarray | None = None
) -> tuple[int, int, int]:
    """For query elements i, count elements j at a later position with value <, =, >.

    Only elements with ``is_point`` (default: all) are counted as j. Bottom-up merge
    counting, vectorised per level (O(n log^2 n) in numpy, no loop over elements)."""
    n = len(pos_value)
    if n < 2:
        return 0, 0, 0
    v = pos_value.astype(np.int64)
    M = int(v.max()) + 2
    pos = np.arange(n, dtype=np.int64)
    less = tied = greater = 0
    s = 1
    while s < n:
        blk = pos // (2 * s)
        right = (pos // s) % 2 == 1
        counted = right if is_point is None else right & is_point
        keys_r = np.sort(blk[counted] * M + v[counted])
        q = (~right) & is_query
        bq = blk[q]
        base = bq * M
        lo = np.searchsorted(keys_r, base, "left")
        hi = np.searchsorted(keys_r, base + M, "left")
        lt = np.searchsorted(keys_r, base + v[q], "left")
        le = np.searchsorted(keys_r, base + v[q], "right")
        less += int(np.sum(lt - lo))
        tied += int(np.sum(le - lt))
        greater += int(np.sum(hi - le))
        s *= 2
    return less, tied, greater


def concordance_index(
    time: np.ndarray,
    event: np.ndarray,
    risk: np.ndarray,
    strata: np.ndarray | None = None,
    entry: np.ndarray | None = None,
) -> float:
    """Harrell's concordance of a risk score with survival, as R's ``concordance``.

    A pair is comparable when the shorter time is an event (a censored time equal to an
    event time counts as longer); pairs of events at the same time are not comparable.
    Concordant: the shorter time has the higher risk; ties in ``risk`` count 1/2.
    With strata only pairs within a stratum are compared.

    Parameters
    ----------
    time : array, shape (n,)
        Follow-up times (any unit).
    event : array, shape (n,)
        1 = event, 0 = censored.
    risk : array, shape (n,)
        Risk score (higher = shorter expected survival), e.g. the linear predictor.
    strata : array, optional
        Stratum code per row.
    entry : array, shape (n,), optional
        Entry (start) time per row for (start, stop] data: a row is compared with an event
        at time t only when entry < t <= time (it is at risk then).

    Returns
    -------
    float
        (concordant + tied / 2) / (concordant + discordant + tied).
    """
    time = np.asarray(time, float)
    event = np.asarray(event, float)
    risk = np.asarray(risk, float)
    codes = np.zeros(len(time), np.int64) if strata is None else np.asarray(strata)
    conc = disc = tie = 0
    for s in np.unique(codes):
        m = codes == s
        t, d, r = time[m], event[m], risk[m]
        # rounding guards against spurious ties/ordering from floating noise
        _, v = np.unique(np.round(r, 10), return_inverse=True)
        order = np.lexsort((-v, 1 - d, t))  # time asc, events first, risk desc
        lt, eq, gt = _count_later(v[order], d[order] == 1)
        if entry is not None:  # minus the rows that enter at or after the event's time
            lt_e, eq_e, gt_e = _not_yet_entered(t, d, v, np.asarray(entry, float)[m])
            lt, eq, gt = lt - lt_e, eq - eq_e, gt - gt_e
        # remove pairs of events tied on time (not comparable)
        dm = d == 1
        tv = pd.DataFrame({"t": t[dm], "v": v[dm]})
        nt = tv.groupby("t").size().to_numpy()
        nv = tv.groupby(["t", "v"]).size().to_numpy()
        pairs_t = int(np.sum(nt * (nt - 1) // 2))
        pairs_tv = int(np.sum(nv * (nv - 1) // 2))
        conc += lt - (pairs_t - pairs_tv)
        tie += eq - pairs_tv
        disc += gt
    total = conc + disc + tie
    return float((conc + 0.5 * tie) / total) if total else float("nan")


def _not_yet_entered(
    t: np.ndarray, d: np.ndarray, v: np.ndarray, entry: np.ndarray
) -> tuple[int, int, int]:
    """Pairs (event i, row j with entry_j >= t_i) by the order of v_j against v_i: the
    rows counted as later than i by the stop-time ordering although not at risk at t_i."""
    ev = d == 1
    when = np.r_[t[ev], entry]
    value = np.r_[v[ev], v]
    is_query = np.r_[np.ones(int(ev.sum()), bool), np.zeros(len(entry), bool)]
    order = np.lexsort((~is_query, when))  # time asc; at equal time the event first
    return _count_later(value[order], is_query[order], ~is_query[order])


Comparable = Callable[[np.ndarray], np.ndarray]
"""``indices of cases -> boolean matrix (cases, n)``: which pairs (case, j) are compared."""


def _pair_sums(
    case_weight: np.ndarray, risk: np.ndarray, comparable: Comparable
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Weighted concordance sums over pairs (case i, j) and each patient's share of them.

    Returns ``(numerator, denominator, numerator_k, denominator_k)``: the weighted counts of
    concordant (+ 1/2 tied) and of all compared pairs, and per patient k the part of each in
    which k takes part (as the case or as the other member)."""
    n = len(risk)
    numerator_k = np.zeros(n)
    denominator_k = np.zeros(n)
    cases = np.flatnonzero(case_weight > 0)
    for start in range(0, len(cases), _CHUNK):
        rows = cases[start : start + _CHUNK]
        pairs = comparable(rows)
        diff = risk[rows, None] - risk[None, :]
        tied = np.abs(diff) <= TIED_TOL
        score = np.where(tied, 0.5, (diff > 0).astype(float)) * pairs
        w = case_weight[rows, None]
        numerator_k[rows] += (w * score).sum(axis=1)
        denominator_k[rows] += (w * pairs).sum(axis=1)
        numerator_k += (w * score).sum(axis=0)
        denominator_k += (w * pairs).sum(axis=0)
    # each pair was added to both of its members
    return numerator_k.sum() / 2, denominator_k.sum() / 2, numerator_k, denominator_k


def _estimate(case_weight: np.ndarray, risk: np.ndarray, comparable: Comparable) -> MetricEstimate:
    """Ratio of the pair sums and its jackknife standard error (weights held fixed)."""
    numerator, denominator, numerator_k, denominator_k = _pair_sums(case_weight, risk, comparable)
    if denominator == 0:
        return MetricEstimate(float("nan"), float("nan"))
    loo = _leave_one_out(numerator, denominator, numerator_k, denominator_k)
    return MetricEstimate(float(numerator / denominator), _jackknife_se(loo))


def _leave_one_out(
    numerator: float, denominator: float, numerator_k: np.ndarray, denominator_k: np.ndarray
) -> np.ndarray:
    """``numerator / denominator`` without each patient in turn (NaN where nothing is left)."""
    left = denominator - denominator_k
    return np.divide(numerator - numerator_k, left, out=np.full(len(left), np.nan), where=left > 0)


def _jackknife_se(loo: np.ndarray) -> float:
    """Jackknife SE from the leave-one-out values (undefined ones left out)."""
    n = len(loo)
    loo = loo[np.isfinite(loo)]
    if len(loo) < 2:
        return float("nan")
    return float(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))


def _later_or_censored_tie(time: np.ndarray, event: np.ndarray) -> Comparable:
    """Harrell's comparable pairs: j outlives case i, or is censored at i's event time."""

    def comparable(rows: np.ndarray) -> np.ndarray:
        t = time[rows, None]
        return (time[None, :] > t) | ((time[None, :] == t) & (event[None, :] == 0))

    return comparable


def _risk_vector(risk: npt.ArrayLike, n: int, name: str = "risk") -> np.ndarray:
    values = np.asarray(risk, dtype=float)
    if values.shape != (n,) or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must hold {n} finite values, got shape {values.shape}")
    return values


def harrell_concordance(
    time: npt.ArrayLike, event: npt.ArrayLike, risk: npt.ArrayLike
) -> MetricEstimate:
    """Harrell's C of a risk score with right-censored survival, and its standard error.

    Parameters
    ----------
    time : array, shape (n,)
        Follow-up times (> 0, any unit).
    event : array, shape (n,)
        1 = event, 0 = censored.
    risk : array, shape (n,)
        Risk score, higher = shorter expected survival (e.g. a linear predictor).

    Returns
    -------
    MetricEstimate
        The estimate of :func:`concordance_index` (R's ``concordance``); the SE is the
        jackknife over patients.
    """
    time, event = as_survival_arrays(time, event)
    risk = _risk_vector(risk, len(time))
    se = _estimate(event.astype(float), risk, _later_or_censored_tie(time, event)).se
    return MetricEstimate(concordance_index(time, event, risk), se)


def harrell_difference(
    time: npt.ArrayLike, event: npt.ArrayLike, risk_a: npt.ArrayLike, risk_b: npt.ArrayLike
) -> MetricEstimate:
    """Difference of two risk scores' Harrell's C on the same patients, paired.

    Parameters
    ----------
    time, event : array, shape (n,)
        As in :func:`harrell_concordance`.
    risk_a, risk_b : array, shape (n,)
        The two risk scores (higher = worse).

    Returns
    -------
    MetricEstimate
        ``C_a - C_b`` and the jackknife SE of the paired difference (both C-indices
        recomputed without each patient in turn), which accounts for their correlation.
    """
    time, event = as_survival_arrays(time, event)
    comparable = _later_or_censored_tie(time, event)
    loo = []
    for risk in (risk_a, risk_b):
        sums = _pair_sums(event.astype(float), _risk_vector(risk, len(time)), comparable)
        loo.append(_leave_one_out(*sums))
    estimate = concordance_index(time, event, np.asarray(risk_a, float)) - concordance_index(
        time, event, np.asarray(risk_b, float)
    )
    return MetricEstimate(float(estimate), _jackknife_se(loo[0] - loo[1]))


def uno_concordance(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    risk: npt.ArrayLike,
    tau: float | None = None,
    censoring: CensoringDistribution | None = None,
) -> MetricEstimate:
    """Uno's IPCW concordance, truncated at ``tau``, and its standard error.

    Parameters
    ----------
    time, event, risk : array, shape (n,)
        As in :func:`harrell_concordance`.
    tau : float, optional
        Truncation time (unit of ``time``): only pairs whose earlier time is an event
        before ``tau`` count. ``G`` must be positive at tau. None: no truncation.
    censoring : CensoringDistribution, optional
        The censoring distribution of the weights (e.g. estimated on training data or on
        the whole cohort); default: the reverse Kaplan-Meier of ``time, event``.

    Returns
    -------
    MetricEstimate
        SE: jackknife over patients with the weights held fixed.
    """
    time, event = as_survival_arrays(time, event)
    risk = _risk_vector(risk, len(time))
    censoring = censoring or censoring_distribution(time, event)
    weight = censoring.event_weights(time, event, np.inf if tau is None else tau) ** 2
    return _estimate(weight, risk, _later_or_censored_tie(time, event))


def cumulative_dynamic_auc(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    risk: npt.ArrayLike,
    times: Sequence[float] | np.ndarray,
    censoring: CensoringDistribution | None = None,
) -> list[MetricEstimate]:
    """Cumulative/dynamic time-dependent AUC at each of ``times``, with standard errors.

    Parameters
    ----------
    time, event : array, shape (n,)
        As in :func:`harrell_concordance`.
    risk : array, shape (n,) or (n, len(times))
        Risk score (higher = worse), one column per time when it depends on time (e.g.
        ``1 - S(t | x)`` of a model without proportional hazards).
    times : sequence of float
        Horizons (unit of ``time``), increasing, within ``[min(time), max(time))``.
    censoring : CensoringDistribution, optional
        As in :func:`uno_concordance`.

    Returns
    -------
    list of MetricEstimate
        One per horizon, in the order given; SE: jackknife with the weights held fixed.

    Raises
    ------
    ValueError
        A horizon outside the follow-up, or ``risk`` of the wrong shape.
    """
    time, event = as_survival_arrays(time, event)
    times = as_horizons(times, time)
    risk = np.asarray(risk, dtype=float)
    if risk.ndim == 1:
        risk = np.repeat(_risk_vector(risk, len(time))[:, None], len(times), axis=1)
    if risk.shape != (len(time), len(times)) or not np.all(np.isfinite(risk)):
        raise ValueError(f"risk must have shape {(len(time), len(times))}, got {risk.shape}")
    censoring = censoring or censoring_distribution(time, event)
    # only events up to the last horizon are cases
    weight = censoring.event_weights(time, event, np.nextafter(times.max(), np.inf))
    results = []
    for k, horizon in enumerate(times):
        case = np.where(time <= horizon, weight, 0.0)
        control = time > horizon

        def comparable(rows: np.ndarray, control: np.ndarray = control) -> np.ndarray:
            return np.broadcast_to(control[None, :], (len(rows), len(control)))

        results.append(_estimate(case, risk[:, k], comparable))
    return results
