"""Firth's penalised partial likelihood with profile penalised-likelihood intervals.

Maximises ``l(beta) + 0.5 log det I(beta)``, which keeps estimates finite under monotone
likelihood (separation); confidence limits and P values come from the profile penalised
likelihood.

References
----------
Heinze, G. & Schemper, M. (2001). A solution to the problem of monotone likelihood in
Cox regression. *Biometrics* 57, 114-119.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from bayes_bcsm.frequentist._partial_likelihood import CoxEngine, evaluate, inverse, solve

__all__ = ["FirthFit", "FirthProfileError", "firth_fit"]


class FirthProfileError(ArithmeticError):
    """The profile penalised likelihood of one coefficient is not finite where its confidence
    limit is searched (overflow: a covariate on an extreme scale, or one that nearly orders
    the events by time).

    Attributes
    ----------
    index : int
        The coefficient's position in the design.
    value : float
        The log hazard ratio at which the profile is not finite.
    """

    def __init__(self, index: int, value: float):
        self.index = index
        self.value = value
        super().__init__(
            f"profile penalised likelihood of coefficient {index}: not finite at {value:g}"
        )


@dataclass(frozen=True)
class FirthFit:
    """A Firth-penalised fit: estimates, penalised log-likelihoods, profile limits and P."""

    beta: np.ndarray
    loglik: float
    loglik_null: float
    lower: np.ndarray
    upper: np.ndarray
    p_values: np.ndarray
    converged: bool
    iterations: int


def _penalised(engine: CoxEngine, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Penalised loglik l + 0.5 log det I, its gradient (penalty part by central
    differences of log det I) and the information I (used as the Newton matrix)."""
    ll, U, info = evaluate(engine, beta)
    sign, logdet = np.linalg.slogdet(info)
    pen = 0.5 * logdet if sign > 0 else -np.inf
    p = len(beta)
    grad = np.array(U, dtype=float)
    h = 1e-5
    for r in range(p):
        e = np.zeros(p)
        e[r] = h
        lp = np.linalg.slogdet(evaluate(engine, beta + e)[2])[1]
        lm = np.linalg.slogdet(evaluate(engine, beta - e)[2])[1]
        grad[r] += 0.5 * (lp - lm) / (2 * h)
    return ll + pen, grad, info


def _penalised_value(engine: CoxEngine, beta: np.ndarray) -> float:
    ll, _, info = evaluate(engine, beta)
    sign, logdet = np.linalg.slogdet(info)
    return ll + 0.5 * logdet if sign > 0 else -np.inf


def _firth_maximise(
    engine: CoxEngine,
    beta0: np.ndarray,
    free: np.ndarray,
    max_iter: int,
    tol: float = 1e-8,
) -> tuple[np.ndarray, float, bool, int]:
    """Maximise the penalised loglik over the ``free`` coefficients (others fixed):
    modified-score Newton steps with the information as the curvature, step halving."""
    beta = beta0.copy()
    value, grad, info = _penalised(engine, beta)
    for it in range(1, max_iter + 1):
        if not free.any():
            return beta, value, True, it
        step = np.zeros_like(beta)
        step[free] = solve(info[np.ix_(free, free)], grad[free])
        big = float(np.max(np.abs(step)))
        if big < tol:  # the full modified-score step is negligible: converged
            return beta, value, True, it
        if big > 5:
            step *= 5 / big
        for _ in range(40):
            nb = beta + step
            nv = _penalised_value(engine, nb)
            if np.isfinite(nv) and nv >= value - 1e-12:
                break
            step /= 2
        else:  # no ascent along the step at rounding level: at the maximum numerically
            return beta, value, big < 1e-5, it
        beta = nb
        value, grad, info = _penalised(engine, beta)
    return beta, value, False, max_iter


def firth_fit(engine: CoxEngine, p: int, conf_level: float, max_iter: int) -> FirthFit:
    """Firth-penalised estimates with profile penalised-likelihood limits and P values.

    Parameters
    ----------
    engine : CoxEngine
        The partial likelihood of the design.
    p : int
        Number of coefficients.
    conf_level : float
        Confidence level of the limits.
    max_iter : int
        Newton iterations per maximisation.

    Returns
    -------
    FirthFit

    Raises
    ------
    FirthProfileError
        When a profile is not finite where a confidence limit is searched.
    """
    all_free = np.ones(p, dtype=bool)
    beta, value, converged, iters = _firth_maximise(engine, np.zeros(p), all_free, max_iter)
    null_value = _penalised_value(engine, np.zeros(p))
    crit = stats.chi2.ppf(conf_level, 1) / 2
    lower = np.empty(p)
    upper = np.empty(p)
    p_values = np.empty(p)
    profiles: dict[int, np.ndarray] = {}

    def profile(r: int, c: float) -> float:
        free = all_free.copy()
        free[r] = False
        start = profiles.get(r, beta).copy()
        start[r] = c
        b, v, _, _ = _firth_maximise(engine, start, free, max_iter)
        profiles[r] = b
        return v

    for r in range(p):
        se_r = np.sqrt(max(inverse(_penalised(engine, beta)[2])[r, r], 1e-12))
        profiles[r] = beta.copy()
        v0 = profile(r, 0.0)
        p_values[r] = stats.chi2.sf(max(2 * (value - v0), 0.0), 1)
        for side, out in ((-1, lower), (1, upper)):
            profiles[r] = beta.copy()

            def g(c: float, r: int = r) -> float:
                distance = value - profile(r, c) - crit
                if not np.isfinite(distance):
                    raise FirthProfileError(r, c)
                return distance

            step = 2 * se_r
            a_ = beta[r]
            b_ = beta[r] + side * step
            k = 0
            while g(b_) < 0 and k < 30:
                a_ = b_
                step *= 2
                b_ = beta[r] + side * step
                k += 1
            if g(b_) < 0:
                out[r] = side * np.inf
                continue
            profiles[r] = beta.copy()
            out[r] = optimize.brentq(g, min(a_, b_), max(a_, b_), xtol=1e-8)
    return FirthFit(beta, value, null_value, lower, upper, p_values, converged, iters)
