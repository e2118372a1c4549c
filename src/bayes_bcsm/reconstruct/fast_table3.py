"""Table 3 of the calibration, vectorised: a small Cox fit and the paper's selection procedure.

The search scores hundreds of thousands of candidate cohorts; the package's general Cox fit
(:func:`bayes_bcsm.frequentist.cox.cox_ph`: design building, Efron ties, separation checks) costs
milliseconds of Python overhead per call. Here the same Newton-Raphson iteration as R's
``coxfit6`` (start at 0, halve the step when the log partial likelihood falls, stop when
``|1 - loglik_old / loglik_new| <= 1e-9`` on a full step, at most 50 iterations) is written on
plain arrays for a handful of 0/1 covariates, with Breslow's risk sets taken over the rows
sorted by time (events before censorings). Without tied event times Breslow and Efron agree
exactly, so on such cohorts the results equal :func:`~bayes_bcsm.frequentist.cox.cox_ph`'s (a
test checks it); with ties they are an approximation, which is why the search re-scores its
finalists with :func:`bayes_bcsm.reconstruct.calibrate.check_targets`.

:func:`fast_selection` repeats :func:`bayes_bcsm.frequentist.selection.paper_selection` on the
same arrays: the log-rank screen (P values passed in, they are Table 2's), then backward
elimination by likelihood-ratio P > 0.10 on the complete cases of the candidates.

References
----------
Therneau TM, Grambsch PM (2000). *Modeling Survival Data: Extending the Cox Model*, ch. 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc, ndtr

__all__ = ["FastCox", "fast_cox", "fast_selection"]

_MAX_ITER = 50
_TOL = 1e-9


@dataclass(frozen=True)
class FastCox:
    """A Cox fit on arrays: coefficients (log HR), Wald P values and log partial likelihoods."""

    beta: np.ndarray
    p_value: np.ndarray
    loglik: float
    loglik_null: float


def _evaluate(x: np.ndarray, xx: np.ndarray, event: np.ndarray, beta: np.ndarray):
    """Log partial likelihood, score and information (Breslow, rows sorted by time)."""
    eta = x @ beta
    shift = eta.max()
    w = np.exp(eta - shift)
    s0 = np.cumsum(w[::-1])[::-1]
    s1 = np.cumsum((w[:, None] * x)[::-1], axis=0)[::-1]
    s2 = np.cumsum((w[:, None, None] * xx)[::-1], axis=0)[::-1]
    ev = event > 0
    s0e, s1e, s2e = s0[ev], s1[ev], s2[ev]
    mean = s1e / s0e[:, None]
    loglik = float(np.sum(eta[ev] - shift - np.log(s0e)))
    score = np.sum(x[ev] - mean, axis=0)
    info = np.sum(s2e / s0e[:, None, None] - mean[:, :, None] * mean[:, None, :], axis=0)
    return loglik, score, info


def _solve(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(info, score, rcond=None)[0]


def fast_cox(x: np.ndarray, event: np.ndarray) -> FastCox:
    """Cox fit of ``event`` on the columns of ``x``; rows sorted by time, events first at ties.

    Parameters
    ----------
    x : ndarray, shape (n, p)
        Covariates (here 0/1 indicators), rows in ascending order of time.
    event : ndarray, shape (n,)
        1 = death, 0 = censored.

    Returns
    -------
    FastCox
        Wald P values are ``2 (1 - Phi(|beta| / se))``, ``se`` from the inverse information
        (NaN where it is not positive).
    """
    x = np.asarray(x, dtype=float)
    p = x.shape[1]
    xx = x[:, :, None] * x[:, None, :]
    beta = np.zeros(p)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ll, score, info = _evaluate(x, xx, event, beta)
        ll_null = ll
        if p:
            new = beta + _solve(info, score)
            halving = False
            for iteration in range(1, _MAX_ITER + 1):
                nll, nscore, ninfo = _evaluate(x, xx, event, new)
                if not np.isfinite(nll):
                    nll = -np.inf
                if not halving and np.isfinite(nll) and abs(1.0 - ll / nll) <= _TOL:
                    beta, ll, score, info = new, nll, nscore, ninfo
                    break
                if iteration == _MAX_ITER:
                    break
                if nll < ll:
                    halving = True
                    new = (new + beta) / 2.0
                else:
                    halving = False
                    beta, ll, score, info = new, nll, nscore, ninfo
                    new = beta + _solve(info, score)
            try:
                var = np.diag(np.linalg.inv(info))
            except np.linalg.LinAlgError:
                var = np.full(p, np.nan)
            se = np.sqrt(np.where(var > 0, var, np.nan))
            p_value = 2.0 * ndtr(-np.abs(beta / se))
        else:
            p_value = np.zeros(0)
    return FastCox(beta, p_value, float(ll), float(ll_null))


def fast_selection(
    x: np.ndarray,
    event: np.ndarray,
    known: np.ndarray,
    screen_p: np.ndarray,
    target: int,
    screen_threshold: float = 0.05,
    remove_threshold: float = 0.10,
) -> tuple[float, float]:
    """log HR and Wald P of column ``target`` in the paper's selection (NaN if not kept).

    Parameters
    ----------
    x : ndarray, shape (n, p)
        The candidate factors' 0/1 columns, rows sorted by time (events first at ties).
    event : ndarray, shape (n,)
    known : ndarray of bool, shape (p, n)
        Rows where each factor is known (complete cases are the rows known for every
        candidate).
    screen_p : ndarray, shape (p,)
        Log-rank P of each factor on its known rows (the screen).
    target : int
        Column whose estimate is wanted (endocrine therapy).
    screen_threshold, remove_threshold : float
        As :func:`bayes_bcsm.frequentist.selection.paper_selection` (0.05 and 0.10).

    Returns
    -------
    (log_hr, p_value) : tuple of float
    """
    current = [j for j in range(x.shape[1]) if screen_p[j] < screen_threshold]
    if target not in current:
        return float("nan"), float("nan")
    rows = np.all(known[current], axis=0)
    xs, ev = x[rows], event[rows]
    if ev.sum() == 0:
        return float("nan"), float("nan")
    full = fast_cox(xs[:, current], ev)
    while current:
        best: tuple[float, int] | None = None
        for k, j in enumerate(current):
            reduced = [c for c in current if c != j]
            ll = fast_cox(xs[:, reduced], ev).loglik if reduced else full.loglik_null
            chisq = max(2.0 * (full.loglik - ll), 0.0)
            p = float(chdtrc(1.0, chisq))
            if best is None or p > best[0]:
                best = (p, k)
        assert best is not None
        if best[0] <= remove_threshold:
            break
        current.pop(best[1])
        if target not in current:
            return float("nan"), float("nan")
        full = fast_cox(xs[:, current], ev)
    i = current.index(target)
    return float(full.beta[i]), float(full.p_value[i])


def sort_rows(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Row order for :func:`fast_cox`: time ascending, events before censorings at ties."""
    return np.lexsort((-np.asarray(event), np.asarray(time)))


def columns_of(names: Sequence[str], all_names: Sequence[str]) -> list[int]:
    """Positions of ``names`` in ``all_names`` (a ``ValueError`` names a missing one)."""
    return [list(all_names).index(name) for name in names]
