"""Harrell's concordance index as R's ``survival::concordance`` computes it.

Pairs tied on time are not comparable; pairs tied on the predictor count 1/2. Counting is
vectorised (bottom-up merge counting per level, no loop over patients). With (start, stop]
rows an event is compared with the rows at risk at its time only (R's ``concordance`` on
``Surv(start, stop, event)``).

References
----------
Harrell, F. E. et al. (1982). Evaluating the yield of medical tests. *JAMA* 247, 2543-2546.
Therneau, T. M. (2023). ``survival`` package, ``concordance``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["concordance_index"]


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
