"""The Bayesian predictor: refits through the compile cache, posterior-mean survival of the
test patients (checked against the Weibull closed form on the posterior draws), and a
compile-cache key that separates horseshoe models with different numbers of events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data import build_design
from bayes_bcsm.inference.sample import SamplerSettings, clear_compile_cache, compile_cache_info
from bayes_bcsm.models import model_family
from bayes_bcsm.models.specs import PriorSpec
from bayes_bcsm.prognosis.bayes_predictor import BayesPredictor
from bayes_bcsm.prognosis.crossval import cross_validate
from bayes_bcsm.prognosis.folds import CrossValidationSpec
from bayes_bcsm.prognosis.predictors import Cohort

QUICK = SamplerSettings(chains=2, draws=200, tune=200, seed=1)


def _cohort(n: int = 60) -> Cohort:
    rng = np.random.default_rng(4)
    x = rng.normal(size=n)
    group = rng.choice(["a", "b"], size=n)
    latent = rng.exponential(15.0 * np.exp(-0.7 * x))
    censor = rng.uniform(0, 40, n)
    frame = pd.DataFrame(
        {
            "time_months": np.minimum(latent, censor),
            "event": (latent <= censor).astype(int),
            "x": x,
            "group": group,
        }
    )
    horizons = np.array([6.0, 12.0])
    grid = np.unique(np.r_[horizons, np.linspace(frame["time_months"].min(), 12.0, 6)])
    return Cohort(frame, "time_months", "event", grid, horizons)


def test_refits_reuse_the_compiled_model_and_predict_posterior_mean_survival() -> None:
    cohort = _cohort()
    predictor = BayesPredictor("weibull", ("x", "group"), "weibull", PriorSpec(), QUICK)
    clear_compile_cache()
    result = cross_validate(cohort, predictor, CrossValidationSpec(3, 2, seed=0), 12.0, 6.0)
    info = compile_cache_info()
    # 1 fit on all 60 + 6 refits on 40 (stratified folds of equal size): two structures
    assert (info.misses, info.hits) == (2, 5)
    survival = result.cross_validated.survival
    assert np.all((survival > 0) & (survival < 1))
    assert np.all(np.diff(survival, axis=1) <= 0)
    c = result.metrics.query("metric == 'harrell_c' and evaluation == 'cv'")["estimate"].iloc[0]
    assert c > 0.6  # x carries a log-HR of 0.7


def test_apparent_prediction_is_the_posterior_mean_of_the_weibull_survival() -> None:
    """Recomputed from the posterior draws with the closed form
    S(t | x) = exp(-exp(log_lambda + x beta) (t / s)^alpha) (s: the model's time scale)."""
    from bayes_bcsm.inference.sample import sample

    cohort = _cohort(40)
    predictor = BayesPredictor("weibull", ("x",), "weibull", PriorSpec(), QUICK)
    everyone = np.arange(40)
    got = predictor.fit_predict(cohort, everyone, everyone[:5], seed=3)
    design = cohort.design(("x",), standardize=True)
    sm = model_family("weibull").build(design, prior=PriorSpec())
    post = sample(sm, SamplerSettings(chains=2, draws=200, tune=200, seed=3)).idata["posterior"]
    alpha = post["alpha"].values.ravel()
    log_lambda = post["log_lambda"].values.ravel()
    beta = post["beta"].values.reshape(-1)
    s = sm.baseline.time_scale_months
    t = cohort.grid
    eta = design.X[:5, 0][:, None] * beta[None, :]  # (patient, draw)
    h = (
        np.exp(log_lambda[None, :, None] + eta[..., None])
        * (t / s)[None, None, :] ** alpha[None, :, None]
    )
    np.testing.assert_allclose(got.survival, np.exp(-h).mean(axis=1), rtol=1e-10)
    centred = design.X[:5, 0] - design.X[:, 0].mean()  # centred on the whole cohort
    np.testing.assert_allclose(got.risk, centred * beta.mean(), rtol=1e-10, atol=1e-12)


def test_horseshoe_models_with_different_event_counts_do_not_share_a_compiled_sampler() -> None:
    frame = _cohort().frame
    fewer = frame.assign(event=np.where(np.arange(len(frame)) < 5, 0, frame["event"]))
    horseshoe = PriorSpec(family="horseshoe", expected_nonzero=1.0)

    def structure(data: pd.DataFrame, prior: PriorSpec) -> tuple:
        design = build_design(data, ["x", "group"], "time_months", "event")
        return model_family("weibull").build(design, prior=prior).structure

    assert structure(frame, horseshoe) != structure(fewer, horseshoe)
    assert structure(frame, PriorSpec()) == structure(fewer, PriorSpec())


@pytest.mark.slow
def test_bayesian_refits_give_the_same_figures_with_one_or_two_workers() -> None:
    """Each refit's sampler seed comes from (seed, repeat, fold), and a compiled model reused
    from the cache samples as a fresh one: worker processes change nothing."""
    cohort = _cohort(40)
    fast = SamplerSettings(chains=2, draws=100, tune=100, seed=0)
    predictor = BayesPredictor("weibull", ("x",), "weibull", PriorSpec(), fast)
    one = cross_validate(cohort, predictor, CrossValidationSpec(2, 1, seed=4), 12.0, 6.0)
    two = cross_validate(cohort, predictor, CrossValidationSpec(2, 1, seed=4, workers=2), 12.0, 6.0)
    pd.testing.assert_frame_equal(one.metrics, two.metrics)
