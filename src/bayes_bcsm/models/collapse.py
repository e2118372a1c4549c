"""Piecewise-exponential likelihood collapsed exactly to sufficient statistics.

Summed over rows ``i`` (patients or (start, stop] episodes), the piecewise-exponential PH
log-likelihood is (``s`` the time scale, months; ``E`` the exposure in months, ``d`` the events)::

    sum_i [d_i (log_rate_k(i) - log s + eta_i) - exp(eta_i) sum_k E_ik exp(log_rate_k) / s]
      = sum_(p, k) [D_pk (log_rate_k - log s + eta_p) - exp(eta_p) E_pk exp(log_rate_k) / s]

where ``p`` runs over the distinct covariate rows (patterns), ``D_pk`` counts the events of
pattern ``p`` in interval ``k`` and ``E_pk`` sums its exposure there. The two sides are the
same number, not just equal up to a constant: each row's interval-``k`` event and exposure
enter linearly, with the pattern's ``eta``. So a model written on the cells ``(p, k)``
(:func:`collapse_piecewise`) has exactly the posterior of the per-patient one, and its cost
per log-density evaluation is ``O(cells)`` instead of ``O(n K)``: with discrete covariates a
few hundred cells stand for any number of patients; with a continuous covariate every patient
is a pattern and the cells are at most ``n K`` (the nonzero ones of the per-patient sum).

References
----------
Holford, T. R. (1980). The analysis of rates and of survivorship using log-linear models.
*Biometrics* 36:299-305 (the Poisson form of the piecewise-exponential likelihood).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bayes_bcsm.models.likelihood import exposure_matrix, interval_onehot

__all__ = ["CollapsedCells", "collapse_piecewise", "covariate_patterns"]


def covariate_patterns(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a design matrix and each row's pattern.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Design matrix (``p`` may be 0).

    Returns
    -------
    patterns : ndarray, shape (P, p)
        The distinct rows, sorted.
    index : ndarray of int, shape (n,)
        ``X[i] == patterns[index[i]]``.
    """
    X = np.asarray(X, dtype=float)
    if X.shape[1] == 0:
        return np.zeros((1, 0)), np.zeros(len(X), dtype=int)
    patterns, index = np.unique(X, axis=0, return_inverse=True)
    return patterns, np.asarray(index).ravel()


@dataclass(frozen=True)
class CollapsedCells:
    """The cells ``(pattern, interval)`` holding exposure or events.

    Attributes
    ----------
    X : ndarray, shape (m, p)
        Covariate pattern of each cell.
    event : ndarray, shape (m,)
        Events of the pattern in the interval (``D_pk``).
    exposure : ndarray, shape (m, K)
        The pattern's summed exposure in the interval (months), in the interval's column
        (zeros elsewhere), the shape of :func:`exposure_matrix`'s rows.
    onehot : ndarray, shape (m, K)
        The cell's interval (the shape of :func:`interval_onehot`'s rows).
    n_patterns : int
        Distinct covariate rows ``P``.
    """

    X: np.ndarray
    event: np.ndarray
    exposure: np.ndarray
    onehot: np.ndarray
    n_patterns: int

    @property
    def n_cells(self) -> int:
        """Cells ``m`` (at most ``P K``)."""
        return len(self.event)


def collapse_piecewise(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    cuts: Sequence[float],
    entry: np.ndarray | None = None,
) -> CollapsedCells:
    """Events and exposure per covariate pattern and interval (see the module docstring).

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Design matrix of the rows (patients or episodes).
    time : ndarray, shape (n,)
        Follow-up times (episode stops), months.
    event : ndarray, shape (n,)
        1 = event at ``time``, 0 = censored.
    cuts : sequence of float
        Interior cut points, months.
    entry : ndarray, shape (n,), optional
        Entry times (episode starts), months; None = 0.

    Returns
    -------
    CollapsedCells
        Only cells with exposure or events (a cell with neither adds 0 to the likelihood).
    """
    patterns, index = covariate_patterns(X)
    n_int = len(cuts) + 1
    exposure = exposure_matrix(time, cuts, entry)
    events = interval_onehot(time, cuts) * np.asarray(event, dtype=float)[:, None]
    n_pat = len(patterns)
    cell_exposure = np.zeros((n_pat, n_int))
    cell_events = np.zeros((n_pat, n_int))
    for k in range(n_int):
        cell_exposure[:, k] = np.bincount(index, weights=exposure[:, k], minlength=n_pat)
        cell_events[:, k] = np.bincount(index, weights=events[:, k], minlength=n_pat)
    pattern, interval = np.nonzero((cell_exposure > 0) | (cell_events > 0))
    onehot = np.eye(n_int)[interval]
    return CollapsedCells(
        X=patterns[pattern],
        event=cell_events[pattern, interval],
        exposure=onehot * cell_exposure[pattern, interval][:, None],
        onehot=onehot,
        n_patterns=n_pat,
    )
