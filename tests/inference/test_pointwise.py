"""Issue 25: the per-patient log-likelihood computed from the draws, in chunks of patients.

Oracles: ``pm.compute_log_likelihood`` on the per-patient model (PyMC's own evaluation of the
observed variable's log density, an independent code path from the numpy formulas under test)
and ``arviz.loo`` on the whole draws x patients matrix. The draws are prior draws relabelled as
a posterior: the arithmetic compared does not depend on where the draws come from, and no MCMC
is needed. Tolerances: rounding of sums of a few terms (1e-10), and for PSIS-LOO the same
numbers computed in another order (1e-9 relative).
"""

from __future__ import annotations

import dataclasses

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

from bayes_bcsm.data.design import build_design
from bayes_bcsm.inference.pointwise import (
    chunked_loo,
    pointwise_available,
    pointwise_log_likelihood,
)
from bayes_bcsm.inference.sample import SamplerSettings, sample
from bayes_bcsm.models import exponential_model, gompertz_model, piecewise_model, weibull_model
from bayes_bcsm.models.base import OBSERVED

CUTS = (6.0, 12.0, 24.0, 48.0)


def _design(n: int = 120, seed: int = 3, delayed: bool = False):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.integers(0, 2, n),
            "stage": rng.choice(["I", "II", "III"], n),
            "age": rng.normal(60, 10, n),
        }
    )
    death = rng.weibull(1.3, n) * 30 * np.exp(-0.5 * frame["a"])
    censor = rng.uniform(5, 90, n)
    frame["time_months"] = np.minimum(death, censor).round(2).clip(0.01)
    frame["event"] = (death <= censor).astype(int)
    design = build_design(frame, ["a", "stage", "age"])
    if delayed:
        entry = np.where(np.arange(n) % 3 == 0, design.time / 2.0, 0.0)
        design = dataclasses.replace(design, entry=entry)
    return design


def _prior_as_posterior(model: pm.Model, draws: int = 40) -> xr.DataTree:
    names = [v.name for v in model.free_RVs + model.deterministics]
    with model:
        prior = pm.sample_prior_predictive(draws=draws, var_names=names, random_seed=11)
    return xr.DataTree.from_dict({"posterior": prior["prior"].to_dataset()})


def _pymc_pointwise(sm, tree: xr.DataTree) -> np.ndarray:
    tree = pm.compute_log_likelihood(
        tree.copy(), model=sm.model, var_names=[OBSERVED], progressbar=False
    )
    return tree["log_likelihood"][OBSERVED].transpose("chain", "draw", ...).values


BUILDERS = {
    "weibull": weibull_model,
    "exponential": exponential_model,
    "piecewise": lambda design, **kw: piecewise_model(design, cuts=CUTS, **kw),
}


@pytest.mark.parametrize("family", list(BUILDERS))
@pytest.mark.parametrize("delayed", [False, True])
def test_pointwise_from_draws_equals_pymc_compute_log_likelihood(family, delayed):
    design = _design(delayed=delayed)
    per_patient = BUILDERS[family](design)
    tree = _prior_as_posterior(per_patient.model)
    expected = _pymc_pointwise(per_patient, tree)
    post = tree["posterior"].dataset
    np.testing.assert_allclose(
        pointwise_log_likelihood(per_patient, post), expected, rtol=1e-10, atol=1e-10
    )
    # the collapsed / summed model of the same data: the same per-patient values, in chunks
    collapsed = BUILDERS[family](design, collapse=True)
    chunks = [
        pointwise_log_likelihood(collapsed, post, slice(a, min(a + 37, design.n)))
        for a in range(0, design.n, 37)
    ]
    np.testing.assert_allclose(np.concatenate(chunks, axis=-1), expected, rtol=1e-10, atol=1e-10)


def test_episodes_sum_to_the_patient_as_pymc_does():
    """(start, stop] episodes: one value per patient, the sum of her episodes."""
    design = _design(60)
    # split every patient at half her time: two episodes, the second entering at the split
    half = design.time / 2.0
    split = dataclasses.replace(
        design,
        X=np.repeat(design.X, 2, axis=0),
        time=np.ravel(np.column_stack([half, design.time])),
        event=np.ravel(np.column_stack([np.zeros(design.n), design.event])),
        entry=np.ravel(np.column_stack([np.zeros(design.n), half])),
        patient=np.repeat(np.arange(design.n), 2),
        index=pd.RangeIndex(2 * design.n),
    )
    sm = weibull_model(split)
    tree = _prior_as_posterior(sm.model)
    expected = _pymc_pointwise(sm, tree)
    got = pointwise_log_likelihood(sm, tree["posterior"].dataset, slice(10, 50))
    np.testing.assert_allclose(got, expected[..., 10:50], rtol=1e-10, atol=1e-10)


def test_chunked_loo_equals_arviz_loo_on_the_whole_matrix():
    design = _design(150)
    sm = weibull_model(design)
    tree = _prior_as_posterior(sm.model, draws=200)
    post = tree["posterior"].dataset
    whole = pm.compute_log_likelihood(
        tree.copy(), model=sm.model, var_names=[OBSERVED], progressbar=False
    )
    expected = az.loo(whole, pointwise=True)
    got = chunked_loo(sm, post, chunk=41)
    assert got.elpd == pytest.approx(expected.elpd, rel=1e-9)
    assert got.se == pytest.approx(expected.se, rel=1e-9)
    assert got.p == pytest.approx(expected.p, rel=1e-9)
    assert got.n_data_points == expected.n_data_points == 150
    assert got.good_k == expected.good_k
    np.testing.assert_allclose(got.pareto_k.values, expected.pareto_k.values, rtol=1e-9)
    np.testing.assert_allclose(got.elpd_i.values, expected.elpd_i.values, rtol=1e-9)


def test_pointwise_refuses_a_family_it_does_not_cover():
    sm = gompertz_model(_design())
    assert not pointwise_available(sm)
    tree = _prior_as_posterior(sm.model, draws=5)
    with pytest.raises(ValueError, match="not for 'gompertz'"):
        pointwise_log_likelihood(sm, tree["posterior"].dataset)


def test_sample_stores_log_likelihood_only_up_to_the_limit():
    """A collapsed fit of at most ``pointwise_max_patients`` patients gets its
    ``log_likelihood`` group from the draws; above the limit none is stored."""
    design = _design(80)
    sm = piecewise_model(design, cuts=CUTS, collapse=True)
    small = SamplerSettings(chains=2, draws=100, tune=100, seed=1)
    fit = sample(sm, small)
    ll = fit.idata["log_likelihood"][OBSERVED]
    assert ll.dims == ("chain", "draw", "patient") and ll.shape == (2, 100, 80)
    expected = pointwise_log_likelihood(sm, fit.idata["posterior"].dataset)
    np.testing.assert_array_equal(ll.values, expected)
    large = dataclasses.replace(small, pointwise_max_patients=79)
    assert "log_likelihood" not in sample(sm, large).idata.children
