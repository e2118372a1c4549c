"""Firth's profile-likelihood limits at few evaluations (issue 25): each profile maximisation
starts on the tangent of the path of constrained maximisers and each limit's Newton iteration
stops once its quadratic convergence bounds the remaining error, without moving the limits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from bayes_bcsm.frequentist import firth
from bayes_bcsm.frequentist._partial_likelihood import CoxEngine


def _engine() -> CoxEngine:
    rng = np.random.default_rng(7)
    n, p = 2000, 6
    X = np.column_stack([rng.integers(0, 2, (n, 3)), rng.normal(size=(n, 3))])
    t = np.round(rng.exponential(np.exp(-X @ np.linspace(-0.4, 0.4, p))) * 100) + 1
    d = (rng.random(n) < 0.7).astype(float)
    return CoxEngine(t, d, X, None, "efron")


def test_limits_take_few_penalty_gradients_and_solve_the_profile_equation(monkeypatch):
    """n = 2,000, 6 covariates, tied times: the former search needed 99 penalty gradients
    (each profile maximisation from the previous maximiser, Newton on the limit down to a
    1e-10 step); now at most 70. Each limit still solves ``top - profile(c) = chi2_0.95(1) / 2``
    to 1e-7, the profile at the limit maximised afresh by BFGS from the estimate (a maximiser
    independent of the one under test; the penalised likelihood itself is pinned to R and to
    brute force in test_cox.py)."""
    engine = _engine()
    calls = []
    gradient = firth.logdet_gradient
    monkeypatch.setattr(
        firth, "logdet_gradient", lambda *a, **k: calls.append(1) or gradient(*a, **k)
    )
    fit = firth.firth_fit(engine, 6, 0.95, 100)
    monkeypatch.undo()
    assert fit.converged
    assert len(calls) <= 70
    crit = stats.chi2.ppf(0.95, 1) / 2
    for r in range(6):
        others = np.arange(6) != r
        for limit in (fit.lower[r], fit.upper[r]):

            def negative(free, c=limit, r=r, others=others):
                beta = np.empty(6)
                beta[r], beta[others] = c, free
                return -firth._value_and_information(engine, beta)[0]

            best = optimize.minimize(negative, fit.beta[others], method="BFGS", tol=1e-12)
            assert fit.loglik + best.fun == pytest.approx(crit, abs=1e-7)
