"""Pseudo-true log-HRs: large-sample oracles, the MLEs against their analytic derivatives, the
null_table3 root.

Tolerances: a pseudo-true value computed on a cohort of N patients has Monte Carlo error equal
to its estimator's SE there (returned as ``mcse``); two independent values differ by at most
``4 * sqrt(mcse_1^2 + mcse_2^2)`` except with probability about 6e-5.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize

from bayes_bcsm.data import build_design, derive_groupings
from bayes_bcsm.frequentist import cox_ph_design
from bayes_bcsm.reconstruct import CALIBRATED_PARAMS, simulate_cohort
from bayes_bcsm.reconstruct.generator import read_reconstruction_config
from bayes_bcsm.simulation.estimands import (
    cox_limit,
    draw_large_cohort,
    large_design,
    null_table3_effect,
    piecewise_mle,
    pseudo_true,
    weibull_mle,
)
from bayes_bcsm.simulation.settings import TABLE3_COVARIATES
from bayes_bcsm.study import TABLE3_FACTORS

#: Large seeded cohorts (20,000 patients, MLE fits): run with make test-slow.
pytestmark = pytest.mark.slow

N_LARGE = 20_000  # about 9,000 complete-case events: MCSE about 0.025 per log-HR
REPO = Path(__file__).resolve().parents[2]


def _correctly_specified_params():
    """The calibrated generator with every effect outside Table 3 set to 0."""
    table3 = {f.indicator for f in TABLE3_FACTORS}
    return CALIBRATED_PARAMS.with_effects(
        {k: 0.0 for k in CALIBRATED_PARAMS.effects if k not in table3}
    )


@pytest.fixture(scope="module")
def calibrated():
    return draw_large_cohort(N_LARGE, 3, TABLE3_COVARIATES)


@pytest.fixture(scope="module")
def specified():
    return draw_large_cohort(N_LARGE, 11, TABLE3_COVARIATES, params=_correctly_specified_params())


def test_large_cohort_is_the_generators_cohort():
    """Same seed, same draws: the large cohort's times are simulate_cohort's."""
    cohort = draw_large_cohort(300, 5, TABLE3_COVARIATES)
    reference = derive_groupings(simulate_cohort(300, 5))
    rows = np.asarray(cohort.design.index)
    np.testing.assert_array_equal(reference["time_months"].to_numpy()[rows], cohort.design.time)
    np.testing.assert_array_equal(reference["event"].to_numpy()[rows], cohort.design.event)
    # and under other effects, large_design equals simulate_cohort with those effects
    effects = {"hormone_therapy": 0.3, "visceral_metastasis": -0.2}
    other = derive_groupings(simulate_cohort(300, 5, effects=effects))
    design = large_design(cohort, effects)
    np.testing.assert_array_equal(other["time_months"].to_numpy()[rows], design.time)


def test_pseudo_true_equals_the_conditional_truth_when_table3_is_correctly_specified(specified):
    """Omitted covariates with zero effect: the Table 3 Cox model is correctly specified, so its
    pseudo-true log-HRs are the generator's effects (within 4 MCSE); so are the piecewise
    model's when its cuts are the generator's knots (piecewise-constant hazard, exactly the
    generator's baseline)."""
    params = specified.params
    truth = {f.design_column: params.effects[f.indicator] for f in TABLE3_FACTORS}
    knots = params.baseline_knots_months
    result = pseudo_true(specified, cuts_months=knots, targets=("cox", "piecewise"))
    for target in ("cox", "piecewise"):
        for column, value in result.values[target].items():
            mcse = result.mcse[target][column]
            assert abs(value - truth[column]) < 4 * mcse, (target, column, value, truth[column])
    # the misspecified Weibull baseline moves the limit, but not far here
    weibull = pseudo_true(specified, targets=("weibull",))
    assert all(np.isfinite(v) for v in weibull.values["weibull"].values())


def test_calibrated_table3_targets_differ_from_the_conditional_effects():
    """The audit's numbers (issue 14; Cox on 60,000 patients): hormone therapy -1.35 -> -0.96,
    postop neuro 1.35 -> 1.05 (MCSE about 0.02 each here and there). The audit used the
    generator of that time, the one issue 13's search started from
    (docs/calibration/search_start.yaml), so that is the generator checked here."""
    audited = read_reconstruction_config(REPO / "docs" / "calibration" / "search_start.yaml")
    cohort = draw_large_cohort(N_LARGE, 3, TABLE3_COVARIATES, params=audited.params)
    result = pseudo_true(cohort, targets=("cox",))
    cox, mcse = result.values["cox"], result.mcse["cox"]
    assert abs(cox["hormone_therapy"] - (-0.96)) < 4 * np.hypot(mcse["hormone_therapy"], 0.015)
    assert abs(cox["postop_neuro_dysfunction[A-C]"] - 1.05) < 4 * np.hypot(
        mcse["postop_neuro_dysfunction[A-C]"], 0.015
    )


def test_weibull_mle_recovers_a_weibull_truth(specified):
    """On times drawn from a Weibull PH model the MLE recovers (log alpha, log lambda, beta)
    within 4 SE, and its optimum is a stationary point of the numerical gradient."""
    rng = np.random.default_rng(0)
    design = specified.design
    beta = np.array([0.4, 1.0, -0.8, -0.6])
    la, ll, s = np.log(1.3), np.log(0.2), 12.0
    eta = design.X @ beta
    t_event = s * (rng.exponential(size=design.n) / np.exp(ll + eta)) ** (1 / np.exp(la))
    censor = rng.uniform(0, 120, size=design.n)
    data = dataclasses.replace(
        design, time=np.minimum(t_event, censor), event=(t_event <= censor).astype(int)
    )
    fit = weibull_mle(data)
    assert fit.converged
    assert np.all(np.abs(fit.coef - beta) < 4 * fit.se)
    assert abs(fit.baseline[0] - la) < 0.05 and abs(fit.baseline[1] - ll) < 0.1
    # at the optimum a generic optimiser with numerical gradients finds the same point
    from bayes_bcsm.models.likelihood import (
        survival_log_density,
        weibull_cumulative_hazard,
        weibull_log_hazard,
    )

    def nll(theta):
        e = data.X @ theta[2:]
        return -np.sum(
            survival_log_density(
                data.event,
                weibull_log_hazard(data.time, theta[0], theta[1], e, s, xp=np),
                weibull_cumulative_hazard(data.time, theta[0], theta[1], e, s, xp=np),
            )
        )

    theta = np.concatenate([fit.baseline, fit.coef])
    gradient = optimize.approx_fprime(theta, nll, 1e-6)
    assert np.max(np.abs(gradient)) < 1e-2 * np.sqrt(data.n)


def test_piecewise_mle_agrees_with_a_generic_optimiser():
    """The piecewise MLE (analytic gradient) equals BFGS on the same log-likelihood with
    numerical gradients, to optimiser tolerance."""
    frame = derive_groupings(simulate_cohort(400, 2))
    design = build_design(frame, list(TABLE3_COVARIATES))
    cuts = (12.0, 36.0)
    fit = piecewise_mle(design, cuts)
    from bayes_bcsm.models.likelihood import (
        exposure_matrix,
        interval_onehot,
        piecewise_cumulative_hazard,
        piecewise_log_hazard,
        survival_log_density,
    )

    onehot, expo = interval_onehot(design.time, cuts), exposure_matrix(design.time, cuts)

    def nll(theta):
        eta = design.X @ theta[3:]
        return -np.sum(
            survival_log_density(
                design.event,
                piecewise_log_hazard(onehot, theta[:3], eta, 12.0),
                piecewise_cumulative_hazard(expo, theta[:3], eta, 12.0, xp=np),
            )
        )

    generic = optimize.minimize(nll, np.zeros(3 + design.X.shape[1]), method="BFGS")
    np.testing.assert_allclose(fit.coef, generic.x[3:], atol=2e-4)
    np.testing.assert_allclose(fit.baseline, generic.x[:3], atol=2e-4)


def test_null_table3_root_makes_the_table3_target_zero(calibrated):
    """The root leaves a Table 3 Cox log-HR of hormone therapy within 0.01 of 0 on its cohort,
    and the Weibull / piecewise limits there are within 4 MCSE of 0 too."""
    root = null_table3_effect(calibrated)
    result = pseudo_true(calibrated, {"hormone_therapy": root})
    assert abs(result.values["cox"]["hormone_therapy"]) < 0.01
    assert root < 0  # the Table 3 target is positive under the conditional null
    for target in ("weibull", "piecewise"):
        assert (
            abs(result.values[target]["hormone_therapy"])
            < 4 * (result.mcse[target]["hormone_therapy"])
        )


@pytest.mark.slow
def test_null_table3_root_holds_on_an_independent_cohort(calibrated):
    """Root found on one cohort; on an independent cohort (other seed) the Table 3 Cox target
    of hormone therapy at that effect is 0 within 0.01 + 4 MCSE (MCSE of both cohorts)."""
    root = null_table3_effect(calibrated)
    second = draw_large_cohort(N_LARGE, 22, TABLE3_COVARIATES)
    coef2, se2 = cox_limit(large_design(second, {"hormone_therapy": root}))
    assert abs(coef2[-1]) < 0.01 + 4 * np.hypot(se2[-1], se2[-1])
    # the conditional null is not null for Table 3 (issue 14: 0.092 +- 0.013)
    coef0, se0 = cox_limit(large_design(second, {"hormone_therapy": 0.0}))
    assert coef0[-1] > 2 * se0[-1]


def test_joint_prior_moves_endocrine_therapy_through_the_receptor(calibrated):
    """Issue 20's mechanism for the default-prior models' bias towards benefit under the
    Table 3 null (docs/simulation/README.md), in a normal approximation: the Table 3
    likelihood at n = 78 as a normal with the large cohort's Cox covariance scaled to the
    complete cases of 78 patients, times independent N(0, s^2) priors (conjugate posterior
    mean ``(V^-1 + I/s^2)^-1 V^-1 beta``, written out). Since no receptor-negative patient
    receives endocrine therapy, the two estimates are negatively correlated; shrinking the
    receptor coefficient towards 0 then moves endocrine therapy towards benefit (about -0.05
    under N(0, 1), about -0.09 under the sceptical N(0, 0.421^2)), while a prior on endocrine
    therapy alone leaves its null target in place."""
    root = null_table3_effect(calibrated)
    design = large_design(calibrated, {"hormone_therapy": root})
    columns = list(design.columns)
    receptor, therapy = (
        columns.index("hormone_receptor[positive]"),
        columns.index("hormone_therapy"),
    )
    negative = design.X[:, receptor] == 0
    assert negative.sum() > 1000 and (design.X[negative, therapy] == 0).all()
    fit = cox_ph_design(design)
    beta = np.asarray(fit.coef)
    V = np.asarray(fit.variance) * calibrated.n / 78  # same complete-case share as the cohort
    corr = V[receptor, therapy] / np.sqrt(V[receptor, receptor] * V[therapy, therapy])
    assert -0.45 < corr < -0.2
    info = np.linalg.inv(V)

    def shift(sd: float, only: int | None = None) -> np.ndarray:
        precision = np.eye(len(beta)) / sd**2
        if only is not None:
            precision = np.diag(np.where(np.arange(len(beta)) == only, 1 / sd**2, 0.0))
        return np.linalg.solve(info + precision, info @ beta) - beta

    assert -0.08 < shift(1.0)[therapy] < -0.03
    assert shift(1.0)[receptor] > 0.15  # the receptor's log-HR shrunk towards 0
    assert abs(shift(1.0, only=therapy)[therapy]) < 0.01
    assert -0.13 < shift(np.log(2) / 1.6448536269514722)[therapy] < -0.06
