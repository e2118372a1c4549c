"""The model-family registry: lookup, numpy hazards against closed forms, medians, samplers.

Expected values: the Weibull survival function of :func:`scipy.stats.weibull_min` (shape
``alpha``, scale ``s (lambda e^eta)^(-1/alpha)``), the defining property of a median,
``H(median) = log 2``, and of the RMST, ``int_0^tau S(t) dt`` (``scipy.integrate.quad``).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from bayes_bcsm.models import FAMILIES, UnknownFamilyError, model_family
from bayes_bcsm.models.priors import BaselineSpec
from bayes_bcsm.models.simulate import piecewise_times, weibull_times

S = 12.0
CUTS = (6.0, 12.0, 24.0)


def _model(family: str) -> SimpleNamespace:
    """The two attributes the numpy side reads from a SurvivalModel."""
    return SimpleNamespace(
        family=family, baseline=BaselineSpec(time_scale_months=S), cuts_months=CUTS
    )


def test_unknown_family_lists_the_valid_ones():
    with pytest.raises(UnknownFamilyError, match="valid: exponential, gompertz, loglogistic"):
        model_family("cox")
    assert set(FAMILIES) == {
        "weibull",
        "weibull_aft",
        "exponential",
        "piecewise",
        "gompertz",
        "mspline",
        "lognormal",
        "loglogistic",
    }


def test_weibull_cumulative_hazard_matches_scipy():
    rng = np.random.default_rng(1)
    la, ll = rng.normal(0, 0.3, (2, 3)), rng.normal(-1, 0.3, (2, 3))
    eta = rng.normal(0, 0.5, (2, 3, 4))
    times = np.array([1.0, 6.0, 30.0])
    H = model_family("weibull").cumulative_hazard(
        _model("weibull"), {"log_alpha": la, "log_lambda": ll}, eta, times
    )
    alpha = np.exp(la)[..., None, None]
    scale = S * np.exp(-(ll[..., None, None] + eta[..., None]) / alpha)
    expected = -stats.weibull_min.logsf(times, alpha, scale=scale)
    np.testing.assert_allclose(H, expected, rtol=1e-12)


@pytest.mark.parametrize("family", ["weibull", "piecewise"])
def test_median_has_cumulative_hazard_log2(family):
    rng = np.random.default_rng(2)
    base = (
        {"log_rate": rng.normal(-1, 0.5, (2, 3, len(CUTS) + 1))}
        if family == "piecewise"
        else {"log_alpha": rng.normal(0, 0.3, (2, 3)), "log_lambda": rng.normal(-1, 0.3, (2, 3))}
    )
    eta = rng.normal(0, 0.5, (2, 3, 4))
    entry, sm = model_family(family), _model(family)
    med = entry.median(sm, base, eta)
    for c in range(2):
        for d in range(3):
            for m in range(4):
                one = {k: v[c : c + 1, d : d + 1] for k, v in base.items()}
                h = entry.cumulative_hazard(
                    sm, one, eta[c : c + 1, d : d + 1, m : m + 1], np.array([med[c, d, m]])
                )
                assert h.item() == pytest.approx(np.log(2.0), rel=1e-10)


def test_samplers_are_the_models_inversion_samplers():
    rng = np.random.default_rng(3)
    eta = rng.normal(0, 0.5, (2, 3, 4))
    weibull = {"log_alpha": rng.normal(0, 0.3, (2, 3)), "log_lambda": rng.normal(-1, 0.3, (2, 3))}
    got = model_family("weibull").sample_times(
        np.random.default_rng(9), _model("weibull"), weibull, eta
    )
    want = weibull_times(
        np.random.default_rng(9),
        weibull["log_alpha"][..., None],
        weibull["log_lambda"][..., None],
        eta,
        S,
    )
    np.testing.assert_array_equal(got, want)
    rate = {"log_rate": rng.normal(-1, 0.5, (2, 3, len(CUTS) + 1))}
    got = model_family("piecewise").sample_times(
        np.random.default_rng(9), _model("piecewise"), rate, eta
    )
    want = piecewise_times(np.random.default_rng(9), rate["log_rate"], CUTS, eta, S)
    np.testing.assert_array_equal(got, want)


def test_select_options_keeps_what_the_builder_takes():
    available = {"cuts": CUTS, "baseline_prior": "independent"}
    assert model_family("weibull").select_options(available) == {}
    assert model_family("piecewise").select_options(available) == available


# ------------------------------------------------------------------------ RMST
def _quad_rmst(entry, sm, base, eta: float, tau: float) -> float:
    """``int_0^tau S(t) dt`` by adaptive quadrature of the family's own cumulative hazard."""

    def surv(t: float) -> float:
        h = entry.cumulative_hazard(sm, base, np.array([[[eta]]]), np.array([t]))
        return float(np.exp(-h.item()))

    points = [c for c in sm.cuts_months if c < tau] if sm.family == "piecewise" else None
    value, _ = integrate.quad(surv, 0.0, tau, points=points, epsabs=0.0, epsrel=1e-13, limit=200)
    return value


@settings(max_examples=60, deadline=None)
@given(
    log_alpha=st.floats(-1.2, 1.2),
    log_lambda=st.floats(-5.0, 2.0),
    eta=st.floats(-2.0, 2.0),
    tau=st.floats(0.5, 150.0),
    family=st.sampled_from(["weibull", "exponential"]),
)
def test_weibull_rmst_equals_quadrature(log_alpha, log_lambda, eta, tau, family):
    """Closed form (incomplete gamma) against ``scipy.integrate.quad`` of S(t), 1e-8 relative."""
    la = 0.0 if family == "exponential" else log_alpha
    base = {"log_alpha": np.array([[la]]), "log_lambda": np.array([[log_lambda]])}
    entry, sm = model_family(family), _model(family)
    got = entry.rmst(sm, base, np.array([[[eta]]]), tau)
    assert got.shape == (1, 1, 1)
    assert got.item() == pytest.approx(_quad_rmst(entry, sm, base, eta, tau), rel=1e-8)


@settings(max_examples=60, deadline=None)
@given(
    log_rate=st.lists(st.floats(-6.0, 2.0), min_size=len(CUTS) + 1, max_size=len(CUTS) + 1),
    eta=st.floats(-2.0, 2.0),
    tau=st.floats(0.5, 150.0),
)
def test_piecewise_rmst_equals_quadrature(log_rate, eta, tau):
    """Exact sum over intervals against ``scipy.integrate.quad`` of S(t), 1e-8 relative."""
    base = {"log_rate": np.array([[log_rate]])}
    entry, sm = model_family("piecewise"), _model("piecewise")
    got = entry.rmst(sm, base, np.array([[[eta]]]), tau)
    assert got.shape == (1, 1, 1)
    assert got.item() == pytest.approx(_quad_rmst(entry, sm, base, eta, tau), rel=1e-8)


def test_rmst_shapes_and_limits():
    """Shape of ``eta``; a vanishing hazard gives tau; the exponential's (1 - e^(-r tau)) / r."""
    rng = np.random.default_rng(4)
    eta = rng.normal(0, 0.5, (2, 3, 4))
    weib = {"log_alpha": np.zeros((2, 3)), "log_lambda": rng.normal(-1, 0.3, (2, 3))}
    got = model_family("weibull").rmst(_model("weibull"), weib, eta, 30.0)
    rate = np.exp(weib["log_lambda"][..., None] + eta) / S  # per month
    np.testing.assert_allclose(got, -np.expm1(-rate * 30.0) / rate, rtol=1e-12)
    tiny = {"log_rate": np.full((2, 3, len(CUTS) + 1), -800.0)}
    got = model_family("piecewise").rmst(_model("piecewise"), tiny, eta, 30.0)
    np.testing.assert_allclose(got, 30.0, rtol=1e-15)
