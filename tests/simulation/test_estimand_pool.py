"""The estimand pool (issue 20): independent cohorts and survival redraws, and the Monte Carlo
SE of their average.

Small cohorts (2,000 patients) keep this fast; what is checked is the pooling, by hand from
the single-cohort functions, not the values of the estimands (``test_estimands.py``, slow).
"""

from __future__ import annotations

import numpy as np
import pytest

from bayes_bcsm.simulation.estimands import (
    cox_limit,
    draw_cohort_pool,
    draw_large_cohort,
    large_design,
    null_table3_effect,
    pool_mean,
    pseudo_true,
    redraw_survival,
)
from bayes_bcsm.simulation.settings import TABLE3_COVARIATES

N = 2_000


@pytest.fixture(scope="module")
def pool():
    return draw_cohort_pool(N, 7, 3, 2, TABLE3_COVARIATES)


def test_pool_is_seeded_cohorts_with_survival_redraws(pool):
    """Cohort k is the single large cohort of seed 7 + k; redraw 0 is that cohort itself,
    redraw 1 keeps its covariates and complete-case rows and changes only the survival draws,
    reproducibly."""
    assert len(pool) == 3 and all(len(group) == 2 for group in pool)
    for k, group in enumerate(pool):
        single = draw_large_cohort(N, 7 + k, TABLE3_COVARIATES)
        np.testing.assert_array_equal(group[0].unit_exp, single.unit_exp)
        np.testing.assert_array_equal(group[0].design.time, single.design.time)
        redrawn = group[1]
        assert redrawn.indicators is group[0].indicators
        np.testing.assert_array_equal(redrawn.design.X, group[0].design.X)
        assert not np.allclose(redrawn.unit_exp, group[0].unit_exp)
        again = redraw_survival(group[0], 1)
        np.testing.assert_array_equal(again.entry_months, redrawn.entry_months)
        np.testing.assert_array_equal(again.design.time, redrawn.design.time)
        # the redrawn design is the one large_design gives from the new draws
        np.testing.assert_array_equal(redrawn.design.time, large_design(redrawn).time)
    assert not np.allclose(pool[0][0].unit_exp, pool[1][0].unit_exp)


def test_pool_does_not_depend_on_the_worker_count(pool):
    parallel = draw_cohort_pool(N, 7, 3, 2, TABLE3_COVARIATES, workers=2)
    for group, other in zip(pool, parallel, strict=True):
        for a, b in zip(group, other, strict=True):
            np.testing.assert_array_equal(a.design.time, b.design.time)
            np.testing.assert_array_equal(a.design.X, b.design.X)


def test_pooled_pseudo_true_is_the_mean_with_the_between_cohort_mcse(pool):
    """Value: the mean of the 3 x 2 single-design Cox fits; MCSE: the SD of the 3 cohort means
    over sqrt(3) (written out here)."""
    result = pseudo_true(pool, targets=("cox",))
    coef = np.array([[cox_limit(large_design(c))[0] for c in group] for group in pool])
    means = coef.mean(axis=1)
    column = list(pool[0][0].design.columns)
    np.testing.assert_allclose([result.values["cox"][c] for c in column], coef.mean(axis=(0, 1)))
    np.testing.assert_allclose(
        [result.mcse["cox"][c] for c in column],
        np.sqrt(((means - means.mean(axis=0)) ** 2).sum(axis=0) / 2) / np.sqrt(3),
    )
    assert (result.cohorts, result.redraws, result.n) == (3, 2, N)
    assert set(result.summary[["cohorts", "redraws"]].itertuples(index=False)) == {(3, 2)}


def test_pool_mean_of_one_cohort_falls_back_on_the_model_se():
    """One cohort: no between-cohort spread to measure; the mean model SE over sqrt(redraws)."""
    estimates = np.array([[[0.1, 1.0], [0.3, 1.2], [0.2, 0.8], [0.0, 1.0]]])
    ses = np.array([[[0.02, 0.04], [0.04, 0.04], [0.02, 0.04], [0.04, 0.04]]])
    mean, mcse = pool_mean(estimates, ses)
    np.testing.assert_allclose(mean, [0.15, 1.0])
    np.testing.assert_allclose(mcse, [0.03 / 2, 0.04 / 2])


def test_pooled_root_zeroes_the_pooled_table3_target(pool):
    """The null_table3 root of a pool makes the *pooled* Cox target of endocrine therapy 0
    (within the 0.01 tolerance), and is found from the first cohort's root."""
    root = null_table3_effect(pool)
    pooled = pseudo_true(pool, {"hormone_therapy": root}, targets=("cox",))
    assert abs(pooled.values["cox"]["hormone_therapy"]) < 0.01
    single = null_table3_effect(pool[0][0])
    assert abs(root - single) < 0.5  # the bracket searched first: within 0.1 of this guess


def test_pool_sizes_below_one_are_refused():
    with pytest.raises(ValueError, match="cohorts=0, redraws=1: expected >= 1 each"):
        draw_cohort_pool(N, 7, 0, 1, TABLE3_COVARIATES)
