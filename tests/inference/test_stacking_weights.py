"""``arviz.compare(method="stacking")`` computes the stacking weights of Yao et al. (2018).

The package's model comparison (``runs/comparison.py``) takes its stacking weights from
``arviz.compare``. Yao, Vehtari, Simpson & Gelman (2018, Bayesian Analysis 13:917, eq. 4 with
the LOO predictive densities) define them as the maximiser over the simplex of

    F(w) = sum_i log sum_k w_k exp(elpd_loo_ik).

Being concave, ``F`` is maximised at ``w`` exactly when the Karush-Kuhn-Tucker conditions hold:
``g_k = dF/dw_k = sum_i exp(elpd_loo_ik) / sum_j w_j exp(elpd_loo_ij)`` equals ``n`` (the
number of observations; ``sum_k w_k g_k = n`` always) for every model with ``w_k > 0`` and is
at most ``n`` for the others. The tests check ArviZ's weights against these conditions and
against an independent maximisation (softmax parametrisation, BFGS, several starts), on
pointwise log-likelihoods built here: data from an equal mixture of N(-2, 1) and N(2, 1),
models N(-2, 1), N(2, 1) and N(0, 3) with posterior draws of the location. The two mixture
components together beat the wide model, so the maximiser is interior on the first two
(near 1/2 each) and the third model gets nothing.

Tolerances: ArviZ stops SciPy's SLSQP at its default ``ftol = 1e-6`` (a change of ``F`` below
1e-6 between iterations); on these data its weights lie 6e-6 from the independent maximiser
and its ``g_k`` 2e-6 relative from ``n``, so the tests allow 1e-4 in the weights and in
``g_k / n`` (moving 0.05 of weight from one component to the other moves ``g_k`` by 8 to 10 %), and
1e-6 relative in ``F``.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from arviz_base import from_dict
from scipy import optimize, stats

N, CHAINS, DRAWS = 200, 2, 500
LOCATIONS = {"left": -2.0, "right": 2.0, "wide": 0.0}
SCALES = {"left": 1.0, "right": 1.0, "wide": 3.0}


def _trees() -> dict:
    """One DataTree per model: posterior draws of the location and the pointwise log-likelihood
    of the data (variable ``y``, dims chain, draw, observation)."""
    rng = np.random.default_rng(23)
    y = np.where(rng.uniform(size=N) < 0.5, -2.0, 2.0) + rng.normal(size=N)
    trees = {}
    for name, loc in LOCATIONS.items():
        draws = loc + rng.normal(scale=0.05, size=(CHAINS, DRAWS))
        loglik = stats.norm.logpdf(y, loc=draws[..., None], scale=SCALES[name])
        trees[name] = from_dict({"posterior": {"loc": draws}, "log_likelihood": {"y": loglik}})
    return trees


def _objective(weights: np.ndarray, elpd_i: np.ndarray) -> float:
    """``F(w)`` of the module docstring; ``elpd_i`` has shape (n, models)."""
    return float(np.sum(np.log(np.exp(elpd_i) @ weights)))


def _own_stacking(elpd_i: np.ndarray) -> np.ndarray:
    """Maximise ``F`` over the simplex with ``w = softmax(a)`` (BFGS, one start at the centre
    and one near each vertex)."""

    def weights(a: np.ndarray) -> np.ndarray:
        e = np.exp(a - a.max())
        return e / e.sum()

    k = elpd_i.shape[1]
    starts = [np.zeros(k), *(4.0 * np.eye(k))]
    fits = [
        optimize.minimize(lambda a: -_objective(weights(a), elpd_i), s, method="BFGS")
        for s in starts
    ]
    return weights(min(fits, key=lambda r: r.fun).x)


@pytest.fixture(scope="module")
def stacking():
    trees = _trees()
    names = list(trees)
    weights = az.compare(trees, method="stacking", round_to="none")["weight"]
    elpd_i = np.column_stack([az.loo(trees[n], pointwise=True).elpd_i.values for n in names])
    return weights.reindex(names).to_numpy(), elpd_i


def test_arviz_stacking_weights_meet_the_optimality_conditions(stacking):
    weights, elpd_i = stacking
    assert weights.sum() == pytest.approx(1.0, abs=1e-9)
    dens = np.exp(elpd_i)
    gradient = dens.T @ (1.0 / (dens @ weights))
    # the two mixture components share the weight, the wide model has none and a lower slope
    assert weights[:2] == pytest.approx([0.5, 0.5], abs=0.1)
    assert weights[2] < 1e-3
    assert gradient[:2] == pytest.approx([N, N], rel=1e-4)
    assert gradient[2] < N


def test_arviz_stacking_weights_equal_an_independent_maximisation(stacking):
    weights, elpd_i = stacking
    own = _own_stacking(elpd_i)
    assert _objective(weights, elpd_i) == pytest.approx(_objective(own, elpd_i), rel=1e-6)
    np.testing.assert_allclose(weights, own, atol=1e-4)
