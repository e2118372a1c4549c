"""Sampling, compile reuse, diagnostics and prediction (small fits, few compiled models).

Monte Carlo tolerances are set from ArviZ's MCSE; every sampler call is seeded.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from bayes_bcsm.data.design import build_design
from bayes_bcsm.inference.diagnostics import ConvergenceError, check_convergence
from bayes_bcsm.inference.predictive import (
    hazard_ratio_summary,
    median_survival,
    posterior_predictive,
    prior_predictive,
    profiles,
    survival_bands,
    survival_curves,
    survival_summary,
)
from bayes_bcsm.inference.sample import (
    SamplerError,
    SamplerSettings,
    compile_cache_info,
    sample,
)
from bayes_bcsm.models import BaselineSpec, exponential_model, piecewise_model, weibull_model
from bayes_bcsm.models.simulate import simulate_frame

SMALL = SamplerSettings(chains=2, draws=1000, tune=500, seed=7)


@pytest.fixture(scope="module")
def design():
    frame = simulate_frame(np.random.default_rng(21), 150, [0.6, -0.4])
    return build_design(frame, ["x1", "x2"], standardize=True)


@pytest.fixture(scope="module")
def weibull_fit(design):
    return sample(weibull_model(design), SMALL)


@pytest.fixture(scope="module")
def piecewise_fit(design):
    return sample(piecewise_model(design, cuts=(6, 12, 24, 36)), SMALL)


def test_fit_has_per_patient_log_likelihood(weibull_fit, design):
    ll = weibull_fit.idata["log_likelihood"]["time"]
    assert ll.dims == ("chain", "draw", "patient")
    assert ll.shape == (2, 1000, design.n)
    assert weibull_fit.n_used == design.n
    post = weibull_fit.idata["posterior"]
    # draw (0, 5): recompute delta log h - H by hand
    la, ll0 = float(post["log_alpha"][0, 5]), float(post["log_lambda"][0, 5])
    eta = design.X @ post["beta"][0, 5].values
    a = np.exp(la)
    want = design.event * (
        la - np.log(12) + ll0 + (a - 1) * np.log(design.time / 12) + eta
    ) - np.exp(ll0 + eta + a * np.log(design.time / 12))
    np.testing.assert_allclose(ll[0, 5].values, want, rtol=1e-8)
    assert set(weibull_fit.idata.children) >= {
        "posterior",
        "sample_stats",
        "observed_data",
        "constant_data",
        "log_likelihood",
    }


def test_loo_compare_across_families(weibull_fit, piecewise_fit):
    """Same per-patient scale for every family, so PSIS-LOO comparison is valid."""
    loo_w = az.loo(weibull_fit.idata)
    loo_p = az.loo(piecewise_fit.idata)
    assert loo_w.n_data_points == loo_p.n_data_points == weibull_fit.n_used
    table = az.compare({"weibull": weibull_fit.idata, "piecewise": piecewise_fit.idata})
    assert set(table.index) == {"weibull", "piecewise"}


def test_same_seed_identical_draws_and_refit_reuses_compiled_model(weibull_fit, design):
    again = sample(weibull_model(design), SMALL)
    assert again.cache_hit and again.compile_seconds == 0.0
    np.testing.assert_array_equal(
        again.idata["posterior"]["beta"].values, weibull_fit.idata["posterior"]["beta"].values
    )
    other = sample(weibull_model(design), SamplerSettings(chains=2, draws=1000, tune=500, seed=8))
    assert not np.array_equal(
        other.idata["posterior"]["beta"].values, weibull_fit.idata["posterior"]["beta"].values
    )


def test_refit_on_new_data_uses_cache_and_is_fast(weibull_fit):
    new = build_design(
        simulate_frame(np.random.default_rng(99), 150, [1.2, 0.0]), ["x1", "x2"], standardize=True
    )
    before = compile_cache_info()
    refit = sample(
        weibull_model(new),
        SamplerSettings(chains=2, draws=300, tune=300, seed=1, log_likelihood=False),
    )
    after = compile_cache_info()
    assert refit.cache_hit and after.hits == before.hits + 1 and after.misses == before.misses
    # new data really were used: the strong effect of x1 is found
    assert float(refit.idata["posterior"]["beta"].sel(covariate="x1").mean()) > 0.8
    first = weibull_fit.compile_seconds
    if first > 0:  # first fit of this structure in this process compiled the model
        assert refit.sample_seconds + refit.compile_seconds < first / 2


def test_piecewise_refit_uses_cache(piecewise_fit):
    new = build_design(
        simulate_frame(np.random.default_rng(98), 150, [0.0, 0.9]), ["x1", "x2"], standardize=True
    )
    refit = sample(
        piecewise_model(new, cuts=(6, 12, 24, 36)),
        SamplerSettings(chains=2, draws=300, tune=300, seed=1, log_likelihood=False),
    )
    assert refit.cache_hit
    assert float(refit.idata["posterior"]["beta"].sel(covariate="x2").mean()) > 0.5


def test_conjugate_exponential_matches_gamma_posterior():
    """Exponential, no covariates, rate ~ Gamma(a, b) per year: posterior Gamma(a + d,
    b + sum t / 12) (closed form); mean and sd within 4 MCSE."""
    frame = simulate_frame(np.random.default_rng(4), 60, [], family="exponential")
    design = build_design(frame, [])
    a, b = 2.0, 3.0
    sm = exponential_model(design, baseline=BaselineSpec(gamma_shape=a, gamma_rate=b))
    fit = sample(sm, SamplerSettings(chains=2, draws=2000, tune=500, seed=3))
    shape, rate = a + design.n_events, b + design.time.sum() / 12.0
    exact_mean, exact_sd = shape / rate, np.sqrt(shape) / rate
    draws = fit.idata["posterior"]["rate"]
    mcse_mean = float(az.mcse(fit.idata, var_names=["rate"], method="mean")["rate"])
    mcse_sd = float(az.mcse(fit.idata, var_names=["rate"], method="sd")["rate"])
    assert abs(float(draws.mean()) - exact_mean) < 4 * mcse_mean
    assert abs(float(draws.std()) - exact_sd) < 4 * mcse_sd


def test_diagnostics_pass_on_good_fit(weibull_fit):
    diag = check_convergence(weibull_fit.idata, strict=True)
    assert diag.passed, diag.describe()
    assert set(diag.summary["check"]) == {
        "r_hat",
        "ess_bulk",
        "ess_tail",
        "divergences",
        "e_bfmi",
        "tree_depth",
    }


def test_diagnostics_fail_on_bad_fit(design):
    bad = sample(
        weibull_model(design),
        SamplerSettings(chains=2, draws=40, tune=10, seed=1, max_treedepth=2, log_likelihood=False),
    )
    diag = check_convergence(bad.idata)
    assert not diag.passed
    assert {"r_hat", "ess_bulk", "tree_depth"} <= set(diag.failed)
    with pytest.raises(ConvergenceError, match="r_hat"):
        check_convergence(bad.idata, strict=True)


def test_sampler_settings_validation():
    with pytest.raises(SamplerError, match=r"sampler='stan': expected one of nutpie, pymc"):
        SamplerSettings(sampler="stan")
    with pytest.raises(SamplerError, match="target_accept"):
        SamplerSettings(target_accept=1.5)


def test_hazard_ratio_summary(weibull_fit, design):
    table = hazard_ratio_summary(weibull_fit)
    assert list(table.index) == ["x1", "x2"]
    beta = weibull_fit.idata["posterior"]["beta"]
    # x2 is standardised: HR per natural unit uses the recorded scale
    scale = design.terms[1].scale
    hr2 = np.exp(beta.sel(covariate="x2").values.ravel() / scale)
    np.testing.assert_allclose(table.loc["x2", "hr_median"], np.median(hr2), rtol=1e-10)
    # 95 % (not ArviZ's default 89 %) equal-tailed interval
    np.testing.assert_allclose(
        table.loc["x2", ["eti_lower", "eti_upper"]].to_numpy(float),
        np.quantile(hr2, [0.025, 0.975]),
        rtol=1e-10,
    )
    assert table.loc["x2", "p_hr_below_1"] == pytest.approx(np.mean(hr2 < 1))
    assert table.loc["x2", "n_draws"] == hr2.size  # the draws it is a share of
    # the HDI is the log-HR's, exponentiated (issue 20: an HR-scale HDI is another interval):
    # the shortest window holding floor(0.95 N) + 1 sorted log draws (Chen & Shao 1999)
    log_hr2 = np.sort(np.log(hr2))
    inside = int(np.floor(0.95 * len(log_hr2)))
    widths = log_hr2[inside:] - log_hr2[: len(log_hr2) - inside]
    start = int(np.argmin(widths))
    np.testing.assert_allclose(
        table.loc["x2", ["hdi_lower", "hdi_upper"]].to_numpy(float),
        np.exp([log_hr2[start], log_hr2[start + inside]]),
        rtol=1e-10,
    )
    # shortest on the log scale, so no longer than the equal-tailed interval there
    assert (
        np.log(table["hdi_upper"] / table["hdi_lower"])
        <= np.log(table["eti_upper"] / table["eti_lower"]) + 1e-9
    ).all()
    assert (table["n_used"] == design.n).all()


@pytest.mark.parametrize("which", ["weibull_fit", "piecewise_fit"])
def test_survival_curves_and_median(which, request):
    fit = request.getfixturevalue(which)
    prof = profiles(fit.model, {"reference": {}, "x1": {"x1": 1.0}})
    curves = survival_curves(fit, prof, [1.0, 6.0, 12.0, 36.0, 60.0])
    assert curves.dims == ("chain", "draw", "profile", "time_months")
    assert ((curves > 0) & (curves < 1)).all()
    assert (curves.diff("time_months") < 0).all()
    med = median_survival(fit, prof)
    # S(median) = 1/2 for a few draws
    for c, d in [(0, 0), (1, 17)]:
        m = med.isel(chain=c, draw=d).values
        for k, p in enumerate(prof.index):
            s_at = survival_curves(fit, prof.loc[[p]], [m[k]]).isel(chain=c, draw=d)
            np.testing.assert_allclose(float(s_at.squeeze()), 0.5, rtol=1e-8)
    table = survival_summary(fit, prof)
    assert set(table["quantity"]) == {"median_survival_months", "S(6)", "S(12)", "S(36)", "S(60)"}
    assert (table["eti_lower"] <= table["posterior_median"]).all()


@pytest.mark.parametrize("which", ["weibull_fit", "piecewise_fit"])
def test_survival_bands_summarise_the_draws(which, request):
    """Median and 2.5 % / 97.5 % quantiles of S(t | x) over the draws, profile by profile,
    as numpy computes them from survival_curves' draws."""
    fit = request.getfixturevalue(which)
    prof = profiles(fit.model, {"reference": {}, "x1": {"x1": 1.0}, "x2": {"x2": -1.0}})
    times = [0.5, 3.0, 12.0, 48.0]
    bands = survival_bands(fit, prof, times)
    assert bands.dims == ("profile", "time_months", "band")
    draws = survival_curves(fit, prof, times).values.reshape(-1, len(prof), len(times))
    for i, name in enumerate(prof.index):
        np.testing.assert_allclose(
            bands.sel(profile=name).values,
            np.stack(
                [
                    np.quantile(draws[:, i], 0.025, axis=0),
                    np.median(draws[:, i], axis=0),
                    np.quantile(draws[:, i], 0.975, axis=0),
                ],
                axis=-1,
            ),
            rtol=1e-12,
        )


def test_posterior_predictive_form(piecewise_fit, design):
    pp = posterior_predictive(piecewise_fit, seed=3)
    assert pp["posterior_predictive"]["time"].shape == (2, 1000, design.n)
    assert (pp["posterior_predictive"]["time"] > 0).all()
    np.testing.assert_array_equal(pp["observed_data"]["time"].values, design.time)
    np.testing.assert_array_equal(pp["constant_data"]["time"].values, design.event)
    # replicated median event time is near the observed Kaplan-Meier scale (sanity)
    again = posterior_predictive(piecewise_fit, seed=3)
    np.testing.assert_array_equal(
        again["posterior_predictive"]["time"].values, pp["posterior_predictive"]["time"].values
    )


def test_prior_predictive(design):
    tree = prior_predictive(weibull_model(design), draws=50, seed=2)
    assert tree["prior_predictive"]["time"].shape == (1, 50, design.n)
    assert "beta" in tree["prior"]


def test_pymc_fallback_sampler(design):
    fit = sample(
        exponential_model(design),
        SamplerSettings(sampler="pymc", chains=1, draws=100, tune=100, seed=5),
    )
    assert fit.idata["log_likelihood"]["time"].shape == (1, 100, design.n)
    assert fit.idata["posterior"]["beta"].shape == (1, 100, 2)


NEW_FAMILIES = ("gompertz", "mspline", "lognormal", "loglogistic")


@pytest.fixture(scope="module", params=NEW_FAMILIES)
def new_family_fit(request, design):
    from bayes_bcsm.models import model_family

    settings = SamplerSettings(chains=2, draws=200, tune=300, seed=7)
    return sample(model_family(request.param).build(design), settings)


def test_every_new_family_predicts_curves_medians_and_times(new_family_fit, design):
    """Survival curves fall, S(median) = 1/2, posterior and prior predictive times exist for
    every patient, and the effect summary reads the family's own coefficient (the AFT
    families' log time ratios ``gamma``)."""
    from bayes_bcsm.models import model_family

    fit = new_family_fit
    prof = profiles(fit.model, {"reference": {}, "x1": {"x1": 1.0}})
    curves = survival_curves(fit, prof, [1.0, 6.0, 12.0, 36.0, 60.0])
    assert ((curves > 0) & (curves < 1)).all() and (curves.diff("time_months") < 0).all()
    med = median_survival(fit, prof).isel(chain=1, draw=17).values
    for k, p in enumerate(prof.index):
        s_at = survival_curves(fit, prof.loc[[p]], [med[k]]).isel(chain=1, draw=17)
        np.testing.assert_allclose(float(s_at.squeeze()), 0.5, rtol=1e-8)
    pp = posterior_predictive(fit, seed=3)["posterior_predictive"]["time"]
    assert pp.shape == (2, 200, design.n) and (pp > 0).all()
    family = model_family(fit.model.family)
    summary = hazard_ratio_summary(fit)
    coefficient = fit.idata["posterior"][family.coefficient]
    np.testing.assert_allclose(
        summary["log_hr_mean"].to_numpy(),
        coefficient.mean(("chain", "draw")).values / np.asarray(summary["design_scale"]),
    )
    tree = prior_predictive(fit.model, draws=20, seed=2)
    assert tree["prior_predictive"]["time"].shape == (1, 20, design.n)
