"""Sampling primitives of the generator: exact counts, constrained choice, rank assignment.

Nothing here knows the study: counts, quantile functions and scores are arguments. The
generator (:mod:`bayes_bcsm.reconstruct.covariates`) combines them so that every Table 1 count
is met exactly while the columns depend on each other in a clinically coherent way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

__all__ = [
    "assign_by_rank",
    "choose_exact",
    "expand_counts",
    "local_search_groups",
    "matched_normal",
    "quantile_values",
    "scaled_count",
    "scaled_vector",
    "standard_noise",
]


def scaled_count(count: int, n: int, n_ref: int) -> int:
    """A published count out of ``n_ref`` patients scaled to ``n`` patients (rounded half up).

    Parameters
    ----------
    count : int
        The count among ``n_ref`` patients.
    n : int
        Patients of the cohort being drawn.
    n_ref : int
        Patients the count refers to (the published cohort size).
    """
    if n == n_ref:
        return int(count)
    return int(np.floor(count * n / n_ref + 0.5))


def scaled_vector(counts: Mapping, n: int, n_ref: int | None = None) -> dict:
    """An exact-count partition of ``n_ref`` scaled to one of ``n`` (largest remainder).

    Parameters
    ----------
    counts : mapping
        Level -> count; the counts are scaled by ``n / sum(counts)``.
    n : int
        Size of the partition wanted.
    n_ref : int, optional
        Size the counts partition (default: their sum); when ``n == n_ref == sum(counts)``
        the counts are returned unchanged.

    Returns
    -------
    dict
        Level -> count, summing to ``n``, in the order of ``counts``.
    """
    total = sum(counts.values())
    if n_ref is None:
        n_ref = total
    if n == n_ref and total == n_ref:
        return dict(counts)
    keys = list(counts)
    raw = np.array([counts[k] for k in keys], dtype=float) * n / total
    base = np.floor(raw).astype(int)
    order = np.argsort(-(raw - base), kind="stable")
    for i in order[: n - int(base.sum())]:
        base[i] += 1
    return dict(zip(keys, (int(b) for b in base), strict=True))


def expand_counts(counts: Mapping) -> np.ndarray:
    """Each level repeated its count times, in the order of ``counts`` (object array)."""
    return np.concatenate([np.repeat(np.asarray([k], dtype=object), v) for k, v in counts.items()])


def choose_exact(
    k: int, score: np.ndarray, rng: np.random.Generator, eligible: np.ndarray | None = None
) -> np.ndarray:
    """Choose exactly ``k`` patients, with probabilities tilted by ``score`` (Gumbel top-k).

    Parameters
    ----------
    k : int
        Number to choose.
    score : ndarray
        Log-weights (one per patient); larger = more likely to be chosen.
    rng : numpy.random.Generator
    eligible : ndarray of bool, optional
        Patients that may be chosen first; if fewer than ``k`` are eligible, all of them are
        chosen and the rest are filled from the others.

    Returns
    -------
    ndarray of bool
        ``True`` for the chosen patients.
    """
    n = len(score)
    keys = np.asarray(score, dtype=float) + rng.gumbel(size=n)
    if eligible is not None:
        keys = keys + np.where(eligible, 1e6, 0.0)
    chosen = np.zeros(n, dtype=bool)
    k = int(min(max(k, 0), n))
    chosen[np.argsort(-keys, kind="stable")[:k]] = True
    return chosen


def assign_by_rank(values: np.ndarray, latent: np.ndarray) -> np.ndarray:
    """Give the smallest value to the patient with the smallest latent score, and so on."""
    out = np.empty(len(values), dtype=np.asarray(values).dtype)
    out[np.argsort(latent, kind="stable")] = np.sort(values, kind="stable")
    return out


def quantile_values(m: int, probs: Sequence[float], values: Sequence[float]) -> np.ndarray:
    """Values of a piecewise-linear quantile function at plotting positions ``(i - 0.5) / m``."""
    u = (np.arange(m) + 0.5) / m
    return np.interp(u, probs, values)


def matched_normal(
    m: int, mean: float, sd: float, threshold: float | None = None, count_le: int | None = None
) -> np.ndarray:
    """``m`` values with the given mean and SD, optionally ``count_le`` of them <= threshold.

    Normal quantiles at plotting positions, skewed by ``z + a (z^2 - 1)`` with ``a`` found by
    bisection when a count below ``threshold`` is required, then standardised.
    """
    if m < 2:
        return np.full(m, float(mean))
    z = stats.norm.ppf((np.arange(m) + 0.5) / m)

    def make(a: float) -> np.ndarray:
        x = z + a * (z**2 - 1.0)
        return mean + sd * (x - x.mean()) / x.std(ddof=1)

    if threshold is None or count_le is None or m < 3:
        return make(0.0)
    count_le = int(min(max(count_le, 1), m - 1))
    lo, hi = -0.4, 0.4
    for _ in range(60):
        a = 0.5 * (lo + hi)
        v = np.sort(make(a))
        # right skew (a > 0) lowers the median -> more values below the threshold
        if np.sum(v <= threshold) < count_le:
            lo = a
        else:
            hi = a
    v = np.sort(make(hi))
    # place the boundary exactly between the count_le-th and next value
    below, above = v[count_le - 1], v[count_le]
    if not (below <= threshold < above):
        v[:count_le] = np.minimum(v[:count_le], threshold - 0.05)
        v[count_le:] = np.maximum(v[count_le:], threshold + 0.05)
    return v


def standard_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` standard normal draws (the noise of a latent clinical score)."""
    return rng.normal(size=n)


def local_search_groups(
    fixed: np.ndarray,
    options: list[np.ndarray],
    edges: Sequence[float],
    targets: Sequence[int],
    rng: np.random.Generator,
    max_iter: int = 40000,
) -> np.ndarray:
    """Choose one latent option per patient so that ``fixed + latent`` hits group counts.

    Parameters
    ----------
    fixed : ndarray of int
        Known part of each patient's score.
    options : list of ndarray
        For each patient the allowed values of the unrecorded part.
    edges : sequence of float
        Upper inclusive bounds of all but the last group.
    targets : sequence of int
        Wanted number of patients per group.

    Returns
    -------
    ndarray of int
        The latent part per patient (best effort when the counts are not reachable).
    """
    n = len(fixed)
    latent = np.array([o[rng.integers(len(o))] for o in options], dtype=int)
    free = np.flatnonzero([len(o) > 1 for o in options])
    targets = np.asarray(targets)

    def group(score):
        return np.searchsorted(np.asarray(edges), score, side="left")

    g = group(fixed + latent)
    counts = np.bincount(g, minlength=len(targets))
    dev = int(np.abs(counts - targets).sum())
    it = 0
    while dev > 0 and it < max_iter and len(free):
        it += 1
        i = free[rng.integers(len(free))]
        new = options[i][rng.integers(len(options[i]))]
        g_new = group(fixed[i] + new)
        if g_new == g[i]:
            latent[i] = new
            continue
        trial = counts.copy()
        trial[g[i]] -= 1
        trial[g_new] += 1
        d = int(np.abs(trial - targets).sum())
        if d <= dev:
            latent[i], g[i], counts, dev = new, g_new, trial, d
    del n
    return latent
