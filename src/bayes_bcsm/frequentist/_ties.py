"""Distinct sorted times and the index of each observation among them, fast with or without ties.

Survival data are often heavily tied (times in whole days or months). Hash-based factorisation
(``pandas.factorize``) is then O(n) and several times faster than sorting a million values;
with (nearly) all-distinct times a sort (``numpy.unique``) is faster. A deterministic strided
sample decides which to use; both give identical results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["distinct_times", "entered_later"]

_SMALL = 50_000  # below this, np.unique is already fast
_SAMPLE = 20_000  # size of the strided sample that estimates how tied the times are
_TIED = 0.2  # use hashing when fewer than this fraction of sampled values are distinct


def distinct_times(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of ``t`` and, for each element, its index among them.

    Parameters
    ----------
    t : numpy.ndarray of float, shape (n,)
        Finite times (validated beforehand).

    Returns
    -------
    unique : numpy.ndarray of float, shape (m,)
        Sorted distinct times.
    inverse : numpy.ndarray of intp, shape (n,)
        ``unique[inverse] == t``.
    """
    n = t.size
    if n >= _SMALL:
        sample = t[:: max(1, n // _SAMPLE)]
        if np.unique(sample).size < _TIED * sample.size:
            codes, uniques = pd.factorize(t, sort=True)
            return np.asarray(uniques, dtype=np.float64), codes.astype(np.intp, copy=False)
    unique, inverse = np.unique(t, return_inverse=True)
    return unique, inverse.reshape(-1).astype(np.intp, copy=False)


def entered_later(
    distinct: np.ndarray, entry: np.ndarray, codes: np.ndarray | None = None, k: int = 1
) -> np.ndarray:
    """Rows (per group) whose entry is at or after each distinct exit time.

    With delayed entry a row is at risk on (entry, time]; the number at risk at a distinct
    exit time t_j is #{time >= t_j} minus this count.

    Parameters
    ----------
    distinct : numpy.ndarray of float, shape (m,)
        Sorted distinct exit times.
    entry : numpy.ndarray of float, shape (n,)
        Entry times (validated: 0 <= entry < time).
    codes : numpy.ndarray of int, shape (n,), optional
        Group code 0..k-1 of each row; None = one group.
    k : int
        Number of groups.

    Returns
    -------
    numpy.ndarray of int64, shape (m,) without ``codes``, (m, k) with them
        ``#{rows (of group g) with entry >= t_j}``.
    """
    m = distinct.size
    # a row is not yet at risk at the distinct times t_j <= entry, i.e. at j < position
    position = np.searchsorted(distinct, entry, side="right")
    cell = position if codes is None else position * k + codes
    counts = np.bincount(cell, minlength=(m + 1) * k).reshape(m + 1, k)
    later = np.cumsum(counts[::-1], axis=0)[::-1][1:]
    return later[:, 0] if codes is None else later
