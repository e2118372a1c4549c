"""Tier 1: the shared survival log density and the family hazards against scipy.

Expected values come from ``scipy.stats.weibull_min`` / ``scipy.stats.expon`` (``logpdf``
for deaths, ``logsf`` for censored patients) and from a direct piecewise computation;
tolerances are floating-point (1e-10 relative).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayes_bcsm.models.likelihood import (
    exposure_matrix,
    interval_onehot,
    piecewise_cumulative_hazard,
    piecewise_log_hazard,
    survival_log_density,
    weibull_cumulative_hazard,
    weibull_log_hazard,
)
from bayes_bcsm.models.piecewise import interval_labels, piecewise_cuts
from bayes_bcsm.models.simulate import piecewise_inverse_cumulative_hazard, weibull_times
from bayes_bcsm.models.weibull import aft_to_ph

TIMES = np.array([1e-3, 0.5, 1.0, 3.7, 12.0, 25.3, 60.0, 150.0])


def _weibull_logf(t, event, log_alpha, log_lambda, eta, s):
    lh = weibull_log_hazard(t, log_alpha, log_lambda, eta, s, xp=np)
    ch = weibull_cumulative_hazard(t, log_alpha, log_lambda, eta, s, xp=np)
    return survival_log_density(event, lh, ch)


@pytest.mark.parametrize("alpha", [0.6, 1.0, 1.7])
@pytest.mark.parametrize("log_lambda", [-2.0, 0.3])
@pytest.mark.parametrize("eta", [-0.8, 0.0, 1.1])
def test_weibull_matches_scipy(alpha, log_lambda, eta):
    s = 12.0
    # H(t) = lambda e^eta (t/s)^alpha = (t / scale)^alpha with scale = s (lambda e^eta)^(-1/alpha)
    scale = s * np.exp(-(log_lambda + eta) / alpha)
    dist = stats.weibull_min(c=alpha, scale=scale)
    ev = _weibull_logf(TIMES, 1.0, np.log(alpha), log_lambda, eta, s)
    ce = _weibull_logf(TIMES, 0.0, np.log(alpha), log_lambda, eta, s)
    np.testing.assert_allclose(ev, dist.logpdf(TIMES), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ce, dist.logsf(TIMES), rtol=1e-10, atol=1e-12)


def test_weibull_pytensor_equals_numpy():
    import pytensor.tensor as pt

    lh = weibull_log_hazard(pt.as_tensor(TIMES), pt.as_tensor(0.3), pt.as_tensor(-1.0), 0.2, 12.0)
    ch = weibull_cumulative_hazard(
        pt.as_tensor(TIMES), pt.as_tensor(0.3), pt.as_tensor(-1.0), 0.2, 12.0
    )
    got = survival_log_density(np.array([1.0, 0] * 4), lh, ch).eval()
    want = _weibull_logf(TIMES, np.array([1.0, 0] * 4), 0.3, -1.0, 0.2, 12.0)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("rate_per_year", [0.05, 0.6, 3.0])
def test_exponential_matches_scipy(rate_per_year):
    dist = stats.expon(scale=12.0 / rate_per_year)
    ev = _weibull_logf(TIMES, 1.0, 0.0, np.log(rate_per_year), 0.0, 12.0)
    ce = _weibull_logf(TIMES, 0.0, 0.0, np.log(rate_per_year), 0.0, 12.0)
    np.testing.assert_allclose(ev, dist.logpdf(TIMES), rtol=1e-10)
    np.testing.assert_allclose(ce, dist.logsf(TIMES), rtol=1e-10)


def test_aft_ph_identity():
    """beta_PH = -alpha * beta_AFT: the AFT density (scipy, scale exp(mu + x gamma)) equals
    the PH density with the converted parameters (Kalbfleisch & Prentice 2002, 2.3.4)."""
    rng = np.random.default_rng(3)
    mu, alpha, s = 3.1, 1.4, 12.0
    gamma = np.array([0.4, -0.7])
    X = rng.normal(size=(len(TIMES), 2))
    log_lambda, beta = aft_to_ph(mu, gamma, alpha, s)
    np.testing.assert_allclose(beta, -alpha * gamma)
    for i, t in enumerate(TIMES):
        aft = stats.weibull_min(c=alpha, scale=np.exp(mu + X[i] @ gamma))
        ph = _weibull_logf(t, 1.0, np.log(alpha), log_lambda, X[i] @ beta, s)
        np.testing.assert_allclose(ph, aft.logpdf(t), rtol=1e-10)
        ph_c = _weibull_logf(t, 0.0, np.log(alpha), log_lambda, X[i] @ beta, s)
        np.testing.assert_allclose(ph_c, aft.logsf(t), rtol=1e-10)


def test_exposure_matrix_and_piecewise_density_equal_direct_computation():
    cuts = (6.0, 12.0, 24.0, 36.0, 60.0)
    t = np.array([0.5, 6.0, 7.5, 11.99, 30.0, 60.0, 99.0])
    E = exposure_matrix(t, cuts)
    np.testing.assert_allclose(E.sum(axis=1), t)
    assert E.shape == (7, 6)
    np.testing.assert_allclose(E[2], [6.0, 1.5, 0, 0, 0, 0])
    onehot = interval_onehot(t, cuts)
    np.testing.assert_array_equal(onehot.argmax(1), [0, 1, 1, 1, 3, 5, 5])
    log_rate = np.log([0.9, 0.5, 0.4, 0.3, 0.35, 0.2])  # per year
    eta = np.linspace(-0.5, 0.5, len(t))
    event = np.array([1, 0, 1, 1, 0, 1, 0])
    got = survival_log_density(
        event,
        piecewise_log_hazard(onehot, log_rate, eta, 12.0),
        piecewise_cumulative_hazard(E, log_rate, eta, 12.0, xp=np),
    )
    # direct: integrate the step hazard patient by patient
    edges = [0.0, *cuts, np.inf]
    for i, ti in enumerate(t):
        cum, h = 0.0, None
        for k in range(6):
            lo, hi = edges[k], edges[k + 1]
            rate = np.exp(log_rate[k] + eta[i]) / 12.0
            cum += rate * max(0.0, min(ti, hi) - lo)
            if lo <= ti < hi:
                h = rate
        np.testing.assert_allclose(got[i], event[i] * np.log(h) - cum, rtol=1e-12)


def test_piecewise_inverse_cumulative_hazard_roundtrip():
    cuts = (6.0, 12.0, 24.0)
    log_rate = np.log([0.9, 0.5, 0.4, 0.3])
    t = np.array([0.1, 5.9, 6.0, 13.0, 40.0, 120.0])
    H = exposure_matrix(t, cuts) @ (np.exp(log_rate) / 12.0)
    np.testing.assert_allclose(piecewise_inverse_cumulative_hazard(H, log_rate, cuts, 12.0), t)


def test_weibull_times_follow_the_model():
    """Inversion sampling: Kolmogorov-Smirnov against scipy's Weibull (seeded)."""
    rng = np.random.default_rng(11)
    t = weibull_times(rng, np.log(1.3), -0.7, np.zeros(4000), 12.0)
    scale = 12.0 * np.exp(0.7 / 1.3)
    assert stats.kstest(t, stats.weibull_min(c=1.3, scale=scale).cdf).pvalue > 0.01


def test_cut_points():
    assert piecewise_cuts(cuts=(0, 6, 12)) == (6.0, 12.0)
    t = np.arange(1.0, 101.0)
    q = piecewise_cuts(t, np.ones(100), n_quantile_intervals=4)
    np.testing.assert_allclose(q, np.quantile(t, [0.25, 0.5, 0.75]))
    assert interval_labels((6.0, 12.0)) == ["[0, 6)", "[6, 12)", "[12, inf)"]
    with pytest.raises(ValueError, match="strictly increasing"):
        piecewise_cuts(cuts=(12, 6))


# ------------------------------------------------------------------ delayed entry
ENTRY = np.array([0.0, 0.0, 0.4, 2.0, 6.0, 25.0, 59.0, 100.0])  # < TIMES, two at 0


@pytest.mark.parametrize("alpha", [0.6, 1.0, 1.7])
@pytest.mark.parametrize("eta", [-0.8, 1.1])
def test_weibull_with_entry_is_the_truncated_scipy_density(alpha, eta):
    """A row at risk on (entry, t]: log f(t) - log S(entry) for a death, log S(t) - log S(entry)
    for a censoring (Klein & Moeschberger 2003, 3.6), from scipy's Weibull."""
    s, log_lambda = 12.0, -1.3
    scale = s * np.exp(-(log_lambda + eta) / alpha)
    dist = stats.weibull_min(c=alpha, scale=scale)
    lh = weibull_log_hazard(TIMES, np.log(alpha), log_lambda, eta, s, xp=np)
    ch = weibull_cumulative_hazard(TIMES, np.log(alpha), log_lambda, eta, s, xp=np, entry=ENTRY)
    np.testing.assert_allclose(
        survival_log_density(1.0, lh, ch),
        dist.logpdf(TIMES) - dist.logsf(ENTRY),
        rtol=1e-10,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        survival_log_density(0.0, lh, ch),
        dist.logsf(TIMES) - dist.logsf(ENTRY),
        rtol=1e-10,
        atol=1e-12,
    )


def test_weibull_with_entry_pytensor_equals_numpy_and_has_finite_gradients_at_zero_entry():
    import pytensor
    import pytensor.tensor as pt

    log_alpha = pt.scalar("log_alpha")
    ch = weibull_cumulative_hazard(
        pt.as_tensor(TIMES), log_alpha, pt.as_tensor(-1.0), 0.2, 12.0, entry=pt.as_tensor(ENTRY)
    )
    got = ch.eval({log_alpha: 0.3})
    want = weibull_cumulative_hazard(TIMES, 0.3, -1.0, 0.2, 12.0, xp=np, entry=ENTRY)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # d/d log_alpha of sum_i [H(t_i) - H(e_i)] = sum_i alpha [H(t_i) log(t_i/s) - H(e_i) log(e_i/s)]
    alpha = np.exp(0.3)
    H = weibull_cumulative_hazard
    term_t = H(TIMES, 0.3, -1.0, 0.2, 12.0, xp=np) * np.log(TIMES / 12.0)
    pos = ENTRY > 0
    term_e = np.zeros_like(ENTRY)
    term_e[pos] = H(ENTRY[pos], 0.3, -1.0, 0.2, 12.0, xp=np) * np.log(ENTRY[pos] / 12.0)
    grad = pytensor.grad(ch.sum(), log_alpha).eval({log_alpha: 0.3})
    np.testing.assert_allclose(grad, alpha * np.sum(term_t - term_e), rtol=1e-10)


def test_exponential_with_entry_is_memoryless():
    """Exponential: (entry, t] contributes exactly as a row followed for t - entry."""
    ch = weibull_cumulative_hazard(TIMES, 0.0, np.log(0.7), 0.3, 12.0, xp=np, entry=ENTRY)
    np.testing.assert_allclose(
        ch, weibull_cumulative_hazard(TIMES - ENTRY, 0.0, np.log(0.7), 0.3, 12.0, xp=np)
    )


def test_exposure_with_entry_equals_direct_integration():
    cuts = (6.0, 12.0, 24.0, 36.0, 60.0)
    edges = [0.0, *cuts, np.inf]
    E = exposure_matrix(TIMES, cuts, entry=ENTRY)
    for i, (a, b) in enumerate(zip(ENTRY, TIMES, strict=True)):
        direct = [max(0.0, min(b, edges[k + 1]) - max(a, edges[k])) for k in range(6)]
        np.testing.assert_allclose(E[i], direct, atol=1e-12)
    np.testing.assert_allclose(E.sum(axis=1), TIMES - ENTRY, atol=1e-12)
    np.testing.assert_array_equal(
        exposure_matrix(TIMES, cuts, entry=np.zeros(8)), exposure_matrix(TIMES, cuts)
    )


def test_observed_likelihood_per_patient_sums_her_episodes():
    """With ``patient``, the observed node's pointwise log-likelihood is one value per
    patient, the sum over her (start, stop] episodes; for episodes that split unchanged
    follow-up it equals the right-censored model's value (episode-splitting identity, to
    1e-10) and the numpy sum of the episodes' truncated densities."""
    import pymc as pm

    from bayes_bcsm.models.likelihood import observe_survival

    follow_up, died, eta = (
        np.array([3.0, 7.5, 12.0]),
        np.array([1.0, 0, 1]),
        np.array([0.2, -0.4, 0.1]),
    )
    patient = np.array([0, 0, 1, 2, 2, 2])
    start = np.array([0.0, 1.0, 0.0, 0.0, 2.0, 6.0])
    stop = np.array([1.0, 3.0, 7.5, 2.0, 6.0, 12.0])
    event = np.array([0.0, 1, 0, 0, 0, 1])
    point = {"log_alpha": 0.25, "log_lambda": -1.1}

    def pointwise(episodes: bool) -> np.ndarray:
        with pm.Model(coords={"patient": [0, 1, 2]}) as model:
            la, ll = pm.Normal("log_alpha", 0, 1), pm.Normal("log_lambda", 0, 1)
            if episodes:
                t, e, lin = pm.Data("stop", stop), pm.Data("event", event), eta[patient]
                entry, who = pm.Data("start", start), pm.Data("who", patient)
            else:
                t, e, lin, entry, who = (
                    pm.Data("stop", follow_up),
                    pm.Data("event", died),
                    eta,
                    None,
                    None,
                )
            observe_survival(
                "time",
                pm.Data("follow_up", follow_up) if episodes else t,
                e,
                weibull_log_hazard(t, la, ll, lin, 12.0),
                weibull_cumulative_hazard(t, la, ll, lin, 12.0, entry=entry),
                patient=who,
            )
        fn = model.compile_fn(model.logp(vars=[model["time"]], sum=False)[0])
        return fn(point)

    split, whole = pointwise(True), pointwise(False)
    assert split.shape == (3,)
    np.testing.assert_allclose(split, whole, rtol=1e-10, atol=1e-10)
    per_episode = survival_log_density(
        event,
        weibull_log_hazard(stop, 0.25, -1.1, eta[patient], 12.0, xp=np),
        weibull_cumulative_hazard(stop, 0.25, -1.1, eta[patient], 12.0, xp=np, entry=start),
    )
    np.testing.assert_allclose(split, np.bincount(patient, weights=per_episode), rtol=1e-12)
