"""Distinct sorted times and the index of each observation among them, fast with or without ties.

Survival data are often heavily tied (times in whole days or months). Hash-based factorisation
(``pandas.factorize``) is then O(n) and several times faster than sorting a million values;
with (nearly) all-distinct times a sort (``numpy.unique``) is faster. A deterministic strided
sample decides which to use; both give identical results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["distinct_times"]

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
