"""The closed forms of bayes_bcsm.reinterpret against independent computations.

- ``reanalyse``: the conjugate normal-normal posterior written here as a precision-weighted
  average, and by brute-force quadrature of prior x likelihood on a grid.
- ``sceptical_limit`` / ``advocacy_limit``: the defining condition solved numerically (root of
  the posterior interval bound as a function of the prior SD / prior bound).
- ``design_analysis``: a seeded Monte Carlo of 10^6 estimates; tolerances are 4 Monte Carlo
  standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize, stats

from bayes_bcsm.reinterpret import (
    CredibilityError,
    ReinterpretError,
    advocacy_limit,
    credibility,
    design_analysis,
    prior_grid,
    reanalyse,
    sceptical_limit,
    strength_sd,
)

Z95 = stats.norm.ppf(0.975)


def conjugate(b: float, s: float, m: float, t: float) -> tuple[float, float]:
    """Posterior mean and SD of a normal mean: precision-weighted average (textbook form)."""
    w_data, w_prior = s**-2, t**-2
    return (w_data * b + w_prior * m) / (w_data + w_prior), (w_data + w_prior) ** -0.5


log_hrs = st.floats(-3, 3)
half_widths = st.floats(0.05, 3)


@given(log_hrs, half_widths, st.floats(-1.5, 1.5), st.floats(0.05, 5))
def test_reanalyse_matches_conjugate_closed_form(b, half, m, t):
    hr, lower, upper = math.exp(b), math.exp(b - half), math.exp(b + half)
    result = reanalyse(hr, lower, upper, prior_mean_hr=math.exp(m), prior_sd_log=t)
    s = half / Z95
    mean, sd = conjugate(b, s, m, t)
    assert result.likelihood_se_log == pytest.approx(s, rel=1e-12)
    assert result.posterior_mean_log == pytest.approx(mean, rel=1e-9, abs=1e-12)
    assert result.posterior_sd_log == pytest.approx(sd, rel=1e-9)
    assert result.median_hr == pytest.approx(math.exp(mean), rel=1e-9)
    assert result.lower == pytest.approx(math.exp(mean - Z95 * sd), rel=1e-9)
    assert result.upper == pytest.approx(math.exp(mean + Z95 * sd), rel=1e-9)
    assert result.prob_hr_below(1.0) == pytest.approx(stats.norm.cdf(-mean / sd), abs=1e-12)


def test_reanalyse_by_quadrature_of_prior_times_likelihood():
    """Posterior mean, SD and P(HR < 0.8) of the paper's endocrine-therapy aHR, 0.070
    (0.007-0.727), under a N(0, 0.8^2) prior, by direct quadrature on a fine grid."""
    grid = np.linspace(-12, 8, 400_001)
    s = (math.log(0.727) - math.log(0.007)) / (2 * Z95)
    density = stats.norm.pdf(grid, 0, 0.8) * stats.norm.pdf(math.log(0.070), grid, s)
    density /= np.trapezoid(density, grid)
    mean = np.trapezoid(grid * density, grid)
    sd = math.sqrt(np.trapezoid((grid - mean) ** 2 * density, grid))
    below = np.trapezoid(np.where(grid < math.log(0.8), density, 0), grid)
    result = reanalyse(0.070, 0.007, 0.727, prior_mean_hr=1.0, prior_sd_log=0.8)
    assert result.posterior_mean_log == pytest.approx(mean, abs=1e-6)
    assert result.posterior_sd_log == pytest.approx(sd, abs=1e-6)
    assert result.prob_hr_below(0.8) == pytest.approx(below, abs=1e-4)


def test_reanalyse_other_ci_level_and_posterior_level():
    """A printed 90 % CI gives SE = half-width / z_0.95; an 80 % posterior interval uses z_0.9."""
    result = reanalyse(0.8, 0.6, 0.8**2 / 0.6, prior_sd_log=1.0, level=0.8, ci_level=0.90)
    s = math.log(0.8 / 0.6) / stats.norm.ppf(0.95)
    mean, sd = conjugate(math.log(0.8), s, 0.0, 1.0)
    assert result.likelihood_se_log == pytest.approx(s)
    assert result.upper == pytest.approx(math.exp(mean + stats.norm.ppf(0.9) * sd))


@pytest.mark.parametrize(
    ("hr", "lower", "upper", "match"),
    [
        (0.5, 0.6, 0.9, "lower < hr < upper"),
        (0.9, 0.6, 0.8, "lower < hr < upper"),
        (0.0, 0.0, 0.7, "must be finite and > 0"),
        (-1.0, 0.1, 0.7, "must be finite and > 0"),
        (0.5, 0.1, float("inf"), "must be finite and > 0"),
    ],
)
def test_reanalyse_rejects_impossible_estimates(hr, lower, upper, match):
    with pytest.raises(ReinterpretError, match=match):
        reanalyse(hr, lower, upper, name="bad one")


def test_reanalyse_rejects_bad_prior():
    with pytest.raises(ReinterpretError, match="prior_sd_log"):
        reanalyse(0.5, 0.3, 0.9, prior_sd_log=0)
    with pytest.raises(ReinterpretError, match="prior_mean_hr"):
        reanalyse(0.5, 0.3, 0.9, prior_mean_hr=-1)


def posterior_bound(lower: float, upper: float, prior_mean: float, prior_sd: float) -> tuple:
    """Posterior 95 % bounds (log scale) with Matthews' likelihood centre (geometric mean)."""
    b = (math.log(lower) + math.log(upper)) / 2
    s = (math.log(upper) - math.log(lower)) / (2 * Z95)
    mean, sd = conjugate(b, s, prior_mean, prior_sd)
    return mean - Z95 * sd, mean + Z95 * sd


@pytest.mark.parametrize(("lower", "upper"), [(0.007, 0.727), (0.4, 0.95), (1.1, 3.0)])
def test_sceptical_limit_makes_the_posterior_interval_just_reach_one(lower, upper):
    """Solve for the sceptic's prior SD at which the posterior bound nearest 1 equals 1."""
    protective = upper < 1

    def gap(tau: float) -> float:
        lo, up = posterior_bound(lower, upper, 0.0, tau)
        return up if protective else lo

    tau = optimize.brentq(gap, 1e-4, 50, xtol=1e-14)
    expected = math.exp(-Z95 * tau) if protective else math.exp(Z95 * tau)
    assert sceptical_limit(lower, upper) == pytest.approx(expected, rel=1e-8)


def test_sceptical_limit_of_the_papers_endocrine_therapy_aHR():
    """Matthews' centre of 0.070 (0.007-0.727) is the geometric mean 0.0713 (issue text)."""
    result = credibility(0.007, 0.727)
    assert result.centre_hr == pytest.approx(0.0713, abs=5e-5)
    assert result.significant
    assert 0 < result.sceptical_limit < 0.07
    assert math.isnan(result.advocacy_limit)


@pytest.mark.parametrize(("lower", "upper"), [(0.357, 4.138), (0.019, 2.387), (0.6, 1.2)])
def test_advocacy_limit_makes_the_posterior_interval_just_exclude_one(lower, upper):
    """Solve for the advocate's prior bound AL (prior 95 % interval (1, AL)) at which the
    posterior bound nearest 1 equals 1."""
    centre = (math.log(lower) + math.log(upper)) / 2

    def gap(log_al: float) -> float:
        lo, up = posterior_bound(lower, upper, log_al / 2, abs(log_al) / (2 * Z95))
        return lo if centre > 0 else up

    bracket = (1e-6, 60) if centre > 0 else (-60, -1e-6)
    log_al = optimize.brentq(gap, *bracket, xtol=1e-14)
    assert advocacy_limit(lower, upper) == pytest.approx(math.exp(log_al), rel=1e-7)


def test_credibility_limits_refuse_the_wrong_kind_of_interval():
    with pytest.raises(CredibilityError, match=r"includes 1.*advocacy limit"):
        sceptical_limit(0.357, 4.138)
    assert math.isnan(sceptical_limit(0.357, 4.138, if_includes_one="nan"))
    with pytest.raises(CredibilityError, match=r"excludes 1.*sceptical limit"):
        advocacy_limit(0.007, 0.727)
    with pytest.raises(ReinterpretError, match="0 < lower < upper"):
        sceptical_limit(0.8, 0.2)
    with pytest.raises(ReinterpretError, match="0 < lower < upper"):
        sceptical_limit(0.0, 0.2)


@pytest.mark.parametrize(
    ("true_hr", "se", "alpha"), [(0.5, 1.184, 0.05), (0.8, 0.3, 0.05), (1.6, 0.5, 0.1)]
)
def test_design_analysis_against_monte_carlo(true_hr, se, alpha):
    """10^6 seeded estimates; each figure within 4 Monte Carlo standard errors."""
    rng = np.random.default_rng(20260101)
    d = math.log(true_hr)
    estimates = rng.normal(d, se, 1_000_000)
    significant = np.abs(estimates) > stats.norm.ppf(1 - alpha / 2) * se
    power = significant.mean()
    wrong = (np.sign(estimates[significant]) != np.sign(d)).astype(float)
    ratio = np.abs(estimates[significant]) / abs(d)
    result = design_analysis(true_hr, se, alpha)
    n_sig = significant.sum()
    assert result.power == pytest.approx(power, abs=4 * math.sqrt(power * (1 - power) / 1e6))
    assert result.type_s == pytest.approx(wrong.mean(), abs=4 * wrong.std() / math.sqrt(n_sig))
    assert result.exaggeration == pytest.approx(
        ratio.mean(), abs=4 * ratio.std() / math.sqrt(n_sig)
    )


def test_design_analysis_at_no_effect():
    result = design_analysis(1.0, 0.5)
    assert result.power == pytest.approx(0.05)
    assert result.type_s == pytest.approx(0.5)
    assert math.isnan(result.exaggeration)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"true_hr": 0.0, "se": 1}, "true_hr"),
        ({"true_hr": 0.5, "se": 0}, "se"),
        ({"true_hr": 0.5, "se": 1, "alpha": 1.2}, "alpha"),
    ],
)
def test_design_analysis_rejects_bad_input(kwargs, match):
    with pytest.raises(ReinterpretError, match=match):
        design_analysis(**kwargs)


def test_prior_grid_puts_the_stated_probability_beyond_the_meaningful_hr():
    """Neutral: P(HR < m) = tail; optimistic: P(HR > 1) = tail; pessimistic: P(HR < 1) = tail."""
    tails = {"weak": 0.25, "moderate": 0.10, "strong": 0.025}
    grid = prior_grid(0.7, tails)
    assert len(grid) == 9
    for prior in grid:
        tail = tails[prior.strength]
        dist = stats.norm(prior.mean_log, prior.sd_log)
        stated = {
            "neutral": dist.cdf(math.log(0.7)),
            "optimistic": dist.sf(0.0),
            "pessimistic": dist.cdf(0.0),
        }[prior.centre]
        assert stated == pytest.approx(tail, abs=1e-12)
    assert strength_sd(0.5, 0.025) == pytest.approx(math.log(2) / Z95)
    with pytest.raises(ReinterpretError, match="meaningful_hr"):
        strength_sd(1.0, 0.1)
    with pytest.raises(ReinterpretError, match="tail"):
        strength_sd(0.5, 0.7)
