"""Issue 25: the piecewise likelihood collapsed to covariate pattern x interval cells.

Oracle: the per-patient model's log density (``pm.Model.compile_logp`` of
:func:`piecewise_model` without ``collapse``), the sum of the per-patient survival densities
with the same priors. The two graphs must give the same number at any parameter value: the
collapse regroups the sum's terms (module docstring of ``bayes_bcsm.models.collapse``), it adds
no constant, so the tolerance is floating-point rounding of a sum of ~10^3 terms of size ~10
(relative 1e-10 is 10^5 times the double precision).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_bcsm.data.design import DesignError, build_design
from bayes_bcsm.models import exponential_model, piecewise_model, weibull_model
from bayes_bcsm.models.base import SUMMED
from bayes_bcsm.models.collapse import collapse_piecewise, covariate_patterns
from bayes_bcsm.models.likelihood import exposure_matrix, interval_onehot
from bayes_bcsm.models.missing import build_design_with_missing

CUTS = (6.0, 12.0, 24.0, 48.0)


def _frame(n: int, seed: int, continuous: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.integers(0, 2, n),
            "b": rng.integers(0, 2, n),
            "stage": rng.choice(["I", "II", "III"], n),
        }
    )
    if continuous:
        frame["age"] = rng.normal(60, 10, n)
    eta = 0.4 * frame["a"] - 0.3 * frame["b"] + 0.5 * (frame["stage"] == "III")
    death = rng.weibull(1.2, n) * 30 * np.exp(-eta / 1.2)
    censor = rng.uniform(5, 90, n)
    frame["time_months"] = np.minimum(death, censor).round(2).clip(0.01)
    frame["event"] = (death <= censor).astype(int)
    frame.loc[:4, "time_months"] = CUTS[1]  # events and censorings exactly at a cut point
    return frame


def _design(frame: pd.DataFrame, continuous: bool = False):
    names = ["a", "b", "stage", *(["age"] if continuous else [])]
    return build_design(frame, names, standardize=True)


def _logps(design, point_seed: int, baseline_prior: str = "random_walk"):
    per_patient = piecewise_model(design, cuts=CUTS, baseline_prior=baseline_prior)
    collapsed = piecewise_model(design, cuts=CUTS, baseline_prior=baseline_prior, collapse=True)
    rng = np.random.default_rng(point_seed)
    point = {
        k: rng.normal(0.0, 0.7, size=np.shape(v))
        for k, v in per_patient.model.initial_point().items()
    }
    return (
        per_patient.model.compile_logp()(point),
        collapsed.model.compile_logp()(point),
        collapsed,
    )


@settings(max_examples=8, deadline=None)
@given(
    n=st.integers(40, 400),
    data_seed=st.integers(0, 10_000),
    point_seed=st.integers(0, 10_000),
    continuous=st.booleans(),
    baseline_prior=st.sampled_from(["random_walk", "independent"]),
)
def test_collapsed_log_density_equals_the_per_patient_one(
    n, data_seed, point_seed, continuous, baseline_prior
):
    design = _design(_frame(n, data_seed, continuous), continuous)
    per_patient, collapsed, _ = _logps(design, point_seed, baseline_prior)
    assert collapsed == pytest.approx(per_patient, rel=1e-10, abs=1e-10)


def _point(model, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(0.0, 0.7, size=np.shape(v)) for k, v in model.initial_point().items()}


@settings(max_examples=8, deadline=None)
@given(
    n=st.integers(40, 400),
    data_seed=st.integers(0, 10_000),
    point_seed=st.integers(0, 10_000),
    family=st.sampled_from([weibull_model, exponential_model]),
    delayed=st.booleans(),
)
def test_summed_weibull_log_density_equals_the_per_patient_one(
    n, data_seed, point_seed, family, delayed
):
    """The Weibull / exponential summed form (one Potential, the linear predictor as a sum of
    columns): the same log density as the per-patient observed variable, with delayed entry
    too (some rows entering at a third of their time)."""
    design = _design(_frame(n, data_seed, continuous=True), continuous=True)
    if delayed:
        entry = np.where(np.arange(design.n) % 3 == 0, design.time / 3.0, 0.0)
        design = dataclasses.replace(design, entry=entry)
    per_patient, summed = family(design), family(design, collapse=True)
    assert summed.collapsed and not summed.model.observed_RVs
    point = _point(per_patient.model, point_seed)
    expected = per_patient.model.compile_logp()(point)
    assert summed.model.compile_logp()(point) == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_collapsed_model_is_small_and_says_so():
    design = _design(_frame(3000, 1))
    _, _, collapsed = _logps(design, 0)
    assert collapsed.collapsed
    assert len(collapsed.model.coords["cell"]) <= 12 * 5  # 2 x 2 x 3 patterns x 5 intervals
    assert SUMMED in collapsed.model.named_vars
    assert not collapsed.model.observed_RVs
    assert "likelihood collapsed to" in collapsed.rows
    # rows for prediction stay per patient; they are not data nodes of the graph
    assert collapsed.data["time_months"].shape == (3000,)
    assert "time_months" not in collapsed.model.named_vars


def test_cells_hold_every_event_and_month_of_exposure():
    design = _design(_frame(500, 3, continuous=True), continuous=True)
    cells = collapse_piecewise(design.X, design.time, design.event, CUTS)
    assert cells.event.sum() == design.event.sum()
    np.testing.assert_allclose(
        cells.exposure.sum(axis=0), exposure_matrix(design.time, CUTS).sum(axis=0), rtol=1e-12
    )
    events = (interval_onehot(design.time, CUTS) * design.event[:, None]).sum(axis=0)
    np.testing.assert_array_equal(cells.onehot.T @ cells.event, events)
    assert cells.n_patterns == len(np.unique(design.X, axis=0))


def test_patterns_of_a_design_without_covariates():
    patterns, index = covariate_patterns(np.zeros((4, 0)))
    assert patterns.shape == (1, 0)
    np.testing.assert_array_equal(index, 0)


@pytest.mark.parametrize("family", ["piecewise", "weibull"])
def test_structure_differs_between_collapsed_and_per_patient_models(family):
    """The compiled-model cache key: a collapsed / summed model never reuses a per-patient
    kernel (the Weibull's two forms have the same variables and data shapes, so only the flag
    tells them apart)."""
    design = _design(_frame(200, 5))
    build = {
        "piecewise": lambda **kw: piecewise_model(design, cuts=CUTS, **kw),
        "weibull": lambda **kw: weibull_model(design, **kw),
    }[family]
    per_patient, collapsed = build(), build(collapse=True)
    assert per_patient.structure != collapsed.structure
    assert per_patient.structure[1] is False and collapsed.structure[1] is True


def test_marginalised_covariate_refuses_the_collapse():
    frame = _frame(100, 2)
    frame["hormone_receptor"] = np.where(np.arange(100) % 4 == 0, np.nan, frame["a"])
    missing = build_design_with_missing(frame, ["b", "hormone_receptor"], "hormone_receptor")
    with pytest.raises(DesignError, match="needs the per-patient likelihood"):
        piecewise_model(missing, cuts=CUTS, collapse=True)
