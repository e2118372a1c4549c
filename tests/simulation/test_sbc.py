"""Simulation-based calibration (Talts et al. 2018) for the Weibull and piecewise models at
the cohort's size (n = 78), 100 replicates each.

Ranks of the true value among L = 99 thinned posterior draws, binned in 10 bins, must not
reject uniformity (chi-square, 9 df) at a Bonferroni-corrected 1 % level over the
parameters tested. Seeds are fixed, so the outcome is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayes_bcsm.data.design import build_design
from bayes_bcsm.models import piecewise_model, weibull_model
from bayes_bcsm.models.simulate import simulate_frame
from bayes_bcsm.simulation.sbc import rank_uniformity, run_sbc

N_REPLICATES = 100


@pytest.fixture(scope="module")
def template():
    return build_design(simulate_frame(np.random.default_rng(78), 78, [0.5, -0.3]), ["x1", "x2"])


def test_rank_uniformity_detects_non_uniform_ranks():
    import pandas as pd

    rng = np.random.default_rng(0)
    ranks = pd.DataFrame(
        {"uniform": rng.integers(0, 100, 500), "skewed": np.minimum(rng.integers(0, 100, 500), 50)}
    )
    table = rank_uniformity(ranks, 99)
    assert table.loc["uniform", "p_value"] > 0.01 > table.loc["skewed", "p_value"]


def _check(result):
    print(result.uniformity)
    alpha = 0.01 / len(result.uniformity)
    assert len(result.ranks) == N_REPLICATES
    assert (result.uniformity["p_value"] > alpha).all(), result.uniformity


@pytest.mark.slow
def test_sbc_weibull(template):
    res = run_sbc(
        template,
        weibull_model,
        N_REPLICATES,
        seed=2024,
        parameters=("beta", "log_alpha", "log_lambda"),
    )
    _check(res)


@pytest.mark.slow
def test_sbc_piecewise(template):
    res = run_sbc(
        template,
        lambda d: piecewise_model(d, cuts=(6, 12, 24, 36)),
        N_REPLICATES,
        seed=2025,
        parameters=("beta", "log_rate"),
    )
    _check(res)
