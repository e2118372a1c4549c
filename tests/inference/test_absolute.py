"""Absolute effects from posterior draws: per-draw RMST against a closed-form posterior, and
standardised (g-computation) survival against its definition.

Monte Carlo tolerances are set from ArviZ's MCSE; every sampler call is seeded.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import integrate, stats

from bayes_bcsm.data.card import DatasetCard
from bayes_bcsm.data.design import DesignError, build_design
from bayes_bcsm.data.exposure import exposure_levels
from bayes_bcsm.inference import predictive
from bayes_bcsm.inference.absolute import absolute_rows, standardise
from bayes_bcsm.inference.predictive import profiles, rmst_draws
from bayes_bcsm.inference.profile_prediction import profile_predictions
from bayes_bcsm.inference.sample import Fit, SamplerSettings, sample
from bayes_bcsm.models import BaselineSpec, exponential_model, piecewise_model, weibull_model
from bayes_bcsm.models.simulate import simulate_frame

MONTHS_PER_DAY = 12 / 365.25


def test_exponential_rmst_quantiles_match_the_gamma_posterior():
    """Issue 22's closed-form oracle. lung, no covariates, exponential with
    ``rate ~ Gamma(a, b)`` per 12 months: 165 deaths in 69,593 days at risk, so the posterior
    is ``Gamma(a + 165, b + 69593 / 365.25)``; RMST(tau) = (1 - e^(-r tau)) / r decreases in
    the rate, so its 2.5/50/97.5 % quantiles are the map of the Gamma's 97.5/50/2.5 %. The
    sampled quantiles agree within 3 MCSE (ArviZ's quantile MCSE)."""
    from lifelines.datasets import load_lung

    lung = load_lung()
    assert (int(lung["status"].sum()), int(lung["time"].sum())) == (165, 69593)
    frame = pd.DataFrame(
        {"time_months": lung["time"] * MONTHS_PER_DAY, "event": lung["status"].astype(int)}
    )
    design = build_design(frame, [])
    a, b = 1.0, 0.5
    sm = exponential_model(design, baseline=BaselineSpec(gamma_shape=a, gamma_rate=b))
    fit = sample(sm, SamplerSettings(chains=2, draws=2000, tune=500, seed=11))
    tau = 965 * MONTHS_PER_DAY
    draws = rmst_draws(fit, profiles(sm), tau).sel(profile="reference")
    posterior = stats.gamma(a + 165, scale=1 / (b + 69593 / 365.25))  # per 12 months
    idata = az.from_dict({"posterior": {"rmst": draws.values}})
    for prob in (0.025, 0.5, 0.975):
        rate = posterior.ppf(1 - prob) / 12  # per month
        exact = -np.expm1(-rate * tau) / rate
        sampled = float(np.quantile(draws.values, prob))
        mcse = float(az.mcse(idata, method="quantile", prob=prob)["rmst"])
        assert abs(sampled - exact) < 3 * mcse, (prob, sampled, exact, mcse)


@pytest.fixture(scope="module")
def small_design():
    frame = simulate_frame(np.random.default_rng(5), 80, [-0.7, 0.3, 0.2])
    frame["x3"] = np.where(frame["x3"] > 0, "b", "a")  # a categorical covariate too
    return build_design(frame, ["x1", "x2", "x3"])


@pytest.fixture(scope="module", params=["weibull", "piecewise"])
def small_fit(request, small_design):
    if request.param == "weibull":
        sm = weibull_model(small_design)
    else:
        sm = piecewise_model(small_design, cuts=(6.0, 18.0))
    return sample(sm, SamplerSettings(chains=2, draws=100, tune=200, seed=2))


def _card() -> DatasetCard:
    return DatasetCard(name="sim", title="sim")


def test_standardised_curves_and_rmst_by_their_definition(small_fit, small_design, monkeypatch):
    """Per draw: the mean over patients of S(t | level, x_i), by hand from the family's
    parameters; the standardised RMST is the quadrature of that mean curve. The chunked loop
    (a tiny chunk size) gives the same numbers."""
    exposure = exposure_levels(small_design.terms[0], _card(), "absolute.exposure")
    times = np.array([3.0, 12.0, 30.0])
    std = standardise(small_fit, exposure, times, 24.0, seed=1)
    monkeypatch.setattr(predictive, "_CHUNK_ELEMENTS", 50)
    chunked = standardise(small_fit, exposure, times, 24.0, seed=1)
    np.testing.assert_array_equal(std.curves.values, chunked.curves.values)
    post = small_fit.idata["posterior"]
    X = small_design.X
    for c, d in [(0, 0), (1, 57)]:
        beta = post["beta"].values[c, d]
        if small_fit.model.family == "weibull":
            alpha = np.exp(post["log_alpha"].values[c, d])
            lam = np.exp(post["log_lambda"].values[c, d])

            def cum0(t, alpha=alpha, lam=lam):
                return lam * (np.asarray(t) / 12.0) ** alpha
        else:
            rates = np.exp(post["log_rate"].values[c, d]) / 12.0
            edges = np.array([0.0, 6.0, 18.0, np.inf])

            def cum0(t, rates=rates, edges=edges):
                t = np.asarray(t, dtype=float)[..., None]
                return np.sum(rates * np.clip(t - edges[:-1], 0, np.diff(edges)), axis=-1)

        for k, x1 in enumerate((0.0, 1.0)):
            x = X.copy()
            x[:, 0] = x1
            risk = np.exp(x @ beta)

            def mean_curve(t, risk=risk, cum0=cum0):
                return float(np.mean(np.exp(-risk * cum0(t))))

            want = [mean_curve(t) for t in times]
            np.testing.assert_allclose(std.curves.values[c, d, k], want, rtol=1e-12)
            area, _ = integrate.quad(mean_curve, 0, 24.0, points=[6.0, 18.0], epsrel=1e-12)
            assert std.rmst.values[c, d, k] == pytest.approx(area, rel=1e-8)


def test_categorical_exposure_levels_and_rows(small_fit, small_design):
    """A two-level categorical exposure: its levels, and the summary rows by their definition
    (posterior median, equal-tailed interval, P(difference > 0), P(difference > MCID))."""
    exposure = exposure_levels(small_design.terms[2], _card(), "absolute.exposure")
    assert [lvl.name for lvl in exposure.levels] == ["a", "b"]
    assert exposure.levels[1].values == {"x3[b]": 1.0}
    std = standardise(small_fit, exposure, np.array([6.0, 12.0]), 18.0, seed=3)
    rows = absolute_rows(std, "weibull", [6.0, 12.0], 0.9, 1.0).set_index(["quantity", "level"])
    diff = (std.rmst.sel(level="b") - std.rmst.sel(level="a")).values.ravel()
    row = rows.loc[("rmst_difference", "b vs a")]
    assert row["estimate"] == pytest.approx(np.median(diff), rel=1e-12)
    assert row["lower"] == pytest.approx(np.quantile(diff, 0.05), rel=1e-12)
    assert row["p_positive"] == pytest.approx(np.mean(diff > 0))
    assert row["p_above_mcid"] == pytest.approx(np.mean(diff > 1.0))
    assert row["tau_months"] == 18.0
    ratio = (std.rmst.sel(level="b") / std.rmst.sel(level="a")).values.ravel()
    assert rows.loc[("rmst_ratio", "b vs a"), "p_positive"] == pytest.approx(np.mean(ratio > 1))
    s12 = std.curves.sel(time_months=12.0)
    d12 = (s12.sel(level="b") - s12.sel(level="a")).values.ravel()
    assert rows.loc[("survival_difference_12", "b vs a"), "upper"] == pytest.approx(
        np.quantile(d12, 0.95), rel=1e-12
    )
    assert rows.loc[("survival_12", "a"), "time_months"] == 12.0
    assert np.isnan(rows.loc[("rmst", "a"), "p_positive"])


def test_continuous_exposure_is_refused(small_design):
    with pytest.raises(DesignError, match=r"absolute.exposure=x2: a continuous covariate"):
        exposure_levels(small_design.terms[1], _card(), "absolute.exposure")


def _fake_fit(design, log_lambda: float, seed: int = 0) -> Fit:
    """A Weibull fit whose 'posterior' is drawn here (no sampling): 2 x 300 draws."""
    rng = np.random.default_rng(seed)
    sm = weibull_model(design)
    shape = (2, 300)
    post = xr.Dataset(
        {
            "beta": (("chain", "draw", "covariate"), rng.normal(0, 0.2, (*shape, len(sm.columns)))),
            "log_alpha": (("chain", "draw"), rng.normal(0.1, 0.05, shape)),
            "log_lambda": (("chain", "draw"), rng.normal(log_lambda, 0.1, shape)),
        },
        coords={"chain": [0, 1], "draw": np.arange(300), "covariate": list(sm.columns)},
    )
    return Fit(xr.DataTree.from_dict({"posterior": post}), sm, SamplerSettings(), 0, 0, False)


@pytest.mark.parametrize(("log_lambda", "reached"), [(-0.5, True), (-6.0, False)])
def test_profile_median_reached_or_not(small_design, log_lambda, reached):
    """The median is the posterior median of the per-draw median when that lies within the
    follow-up; otherwise NaN, 'not reached', and P(alive at the last follow-up) is the posterior
    mean of S(last)."""
    fit = _fake_fit(small_design, log_lambda)
    prof = profiles(fit.model, {"p": {"x1": 1.0}})
    last = 40.0
    table = profile_predictions(fit, prof, [12.0], 24.0, last).set_index("quantity")
    post = fit.idata["posterior"]
    alpha, lam = np.exp(post["log_alpha"].values), np.exp(post["log_lambda"].values)
    eta = post["beta"].sel(covariate="x1").values
    median = 12 * (np.log(2) / (lam * np.exp(eta))) ** (1 / alpha)
    alive = np.exp(-lam * (last / 12) ** alpha * np.exp(eta))
    row = table.loc["median_months"]
    assert bool(np.median(median) <= last) == reached
    if reached:
        assert row["estimate"] == pytest.approx(np.median(median), rel=1e-12)
        assert row["note"] == ""
    else:
        assert np.isnan(row["estimate"]) and row["note"] == "not reached within 40 months"
    assert row["upper"] == pytest.approx(np.quantile(median, 0.975), rel=1e-12)
    p_alive = table.loc["p_alive_at_last_follow_up"]
    assert p_alive["note"] == f"posterior mean {alive.mean():.3f}"
    assert p_alive["estimate"] == pytest.approx(np.median(alive), rel=1e-12)
    rmst = table.loc["rmst"]
    assert rmst["time_months"] == 24.0 and not rmst["extrapolated"]
