"""The issue 23 stacking oracle (``docs/stacking/oracle.py``) computes what it says.

The oracle is a standalone script (numpy, scipy, pandas) imported here by path. Checked on one
data set of the stacking simulation's design (seed 7000, n = 300): its per-patient log
densities / log survivals at lifelines' MLE sum to lifelines' log-likelihood, and its own MLE
reaches lifelines' tightened optimum (log-logistic, log-normal, Weibull); its piecewise PH fit
is statsmodels' Poisson GLM on the split data; its Gompertz and M-spline cumulative hazards are
the integrals of their hazards (scipy quad); its stacking weights for two families are the
one-dimensional maximum (scipy's bounded scalar search).
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize

lifelines = pytest.importorskip("lifelines")
sm = pytest.importorskip("statsmodels.api")

SCRIPT = Path(__file__).parents[2] / "docs" / "stacking" / "oracle.py"


@pytest.fixture(scope="module")
def oracle():
    spec = importlib.util.spec_from_file_location("stacking_oracle", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def frame(oracle):
    return oracle.simulate(7000, 300)


@pytest.mark.parametrize(
    ("family", "fitter", "loc", "shape", "to_ours"),
    [
        ("loglogistic", "LogLogisticAFTFitter", "alpha_", "beta_", lambda s: -s),
        ("lognormal", "LogNormalAFTFitter", "mu_", "sigma_", lambda s: s),
    ],
)
def test_aft_loglik_and_mle_equal_lifelines(oracle, frame, family, fitter, loc, shape, to_ours):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(lifelines, fitter)().fit(
            frame, "time_months", "event", fit_options={"gtol": 1e-8}
        )
    a, s = ref.params_[loc], ref.params_[shape]
    # lifelines' shape intercepts: log-logistic beta_ is log(1 / sigma), log-normal sigma_ is
    # log sigma; the oracle's is log sigma
    at_ref = np.array([a["Intercept"], to_ours(s["Intercept"]), a["x1"], a["x2"]])
    data = oracle.make_data(frame)
    assert oracle.aft_lpd(
        "logistic" if family == "loglogistic" else "normal", at_ref, data
    ).sum() == pytest.approx(ref.log_likelihood_, rel=1e-12)
    _, loglik = oracle.fit(family, data)
    assert loglik == pytest.approx(ref.log_likelihood_, abs=1e-4)
    assert loglik >= ref.log_likelihood_ - 1e-7


def test_weibull_ph_loglik_equals_lifelines_weibull_aft(oracle, frame):
    ref = lifelines.WeibullAFTFitter().fit(
        frame, "time_months", "event", fit_options={"gtol": 1e-8}
    )
    _, loglik = oracle.fit("weibull", oracle.make_data(frame))
    assert loglik == pytest.approx(ref.log_likelihood_, abs=1e-4)


def test_piecewise_ph_equals_poisson_glm(oracle, frame):
    data = oracle.make_data(frame)
    rows, y, offset = [], [], []
    for j in range(len(oracle.CUTS) + 1):
        at_risk = data.exposure[:, j] > 0
        intervals = np.zeros((at_risk.sum(), len(oracle.CUTS) + 1))
        intervals[:, j] = 1.0
        rows.append(np.column_stack([intervals, data.x[at_risk]]))
        y.append(((data.interval == j) & (data.d == 1))[at_risk].astype(float))
        offset.append(np.log(data.exposure[at_risk, j]))
    y, offset = np.concatenate(y), np.concatenate(offset)
    glm = sm.GLM(y, np.vstack(rows), family=sm.families.Poisson(), offset=offset).fit(tol=1e-12)
    params, loglik = oracle.fit("piecewise", data)
    np.testing.assert_allclose(params, glm.params, atol=1e-4)
    # Poisson log-likelihood = PH log-likelihood + sum(y * log exposure) (y is 0 or 1)
    assert loglik == pytest.approx(glm.llf - np.sum(y * offset), abs=1e-6)


@pytest.mark.parametrize("g", [0.05, -0.05, 1e-9, 0.0])
def test_gompertz_cumulative_hazard_is_the_integral(oracle, g):
    t = np.array([0.5, 12.0, 60.0, 119.0])
    expected = [integrate.quad(lambda s: np.exp(-3.0 + g * s), 0.0, x)[0] for x in t]
    np.testing.assert_allclose(oracle.gompertz_h0(-3.0, g, t), expected, rtol=1e-9)


def test_mspline_bases(oracle, frame):
    t, d = frame["time_months"].to_numpy(), frame["event"].to_numpy()
    knots = oracle.spline_knots(t, d)
    np.testing.assert_allclose(
        knots[[0, 3, 4, 5, -1]], [0, 0, np.median(t[d == 1]), t.max(), t.max()]
    )
    grid = np.array([0.3, 10.0, 25.0, 70.0, t.max(), t.max() + 30.0])
    m_grid, i_grid = oracle.spline_bases(knots, grid)

    def m(s: float, j: int) -> float:
        return oracle.spline_bases(knots, np.array([s]))[0][0, j]

    for x, row in zip(grid, i_grid, strict=True):
        expected = [integrate.quad(m, 0.0, x, args=(j,), limit=200)[0] for j in range(5)]
        np.testing.assert_allclose(row, expected, atol=1e-7)
    np.testing.assert_allclose(i_grid[-2], np.ones(oracle.SPLINE_DF), atol=1e-12)
    np.testing.assert_allclose(m_grid[-1], m_grid[-2])  # hazard held beyond the last time


def test_stacking_two_families_is_the_scalar_maximum(oracle):
    rng = np.random.default_rng(3)
    lpd = np.column_stack([rng.normal(-3.0, 1.0, 200), rng.normal(-3.1, 1.0, 200)])

    def negative(w: float) -> float:
        return -np.sum(np.log(w * np.exp(lpd[:, 0]) + (1 - w) * np.exp(lpd[:, 1])))

    best = optimize.minimize_scalar(
        negative, bounds=(0, 1), method="bounded", options={"xatol": 1e-10}
    )
    weights, residual = oracle.stacking_weights(lpd)
    np.testing.assert_allclose(weights, [best.x, 1 - best.x], atol=1e-6)
    assert residual < 1e-6
    assert 0.05 < best.x < 0.95  # an interior optimum, not a trivial corner
