"""The censored posterior predictive check (bayes_bcsm.inference.ppc).

A heavily censored Weibull cohort (about 80 % censored: uniform entry over 24 months, analysis at
36, so censoring times between 12 and 36 months) checked against predictions from its own
generating model. The predictions, censored as the data are, give Kaplan-Meier curves whose band
holds the data's curve; the uncensored predictions (what ``arviz.plot_ppc_censored`` draws) fall
far below it, which made every good fit on Rossi or AIDS look like a gross misfit.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayes_bcsm.inference.ppc import censored_ppc, censoring_draws

SHAPE, SCALE_MONTHS = 1.3, 120.0


def weibull_times(rng, size):
    return SCALE_MONTHS * rng.weibull(SHAPE, size=size)


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(20)
    n = 400
    event_time = weibull_times(rng, n)
    censor = 36.0 - rng.uniform(0, 24, n)
    time = np.minimum(event_time, censor)
    event = (event_time <= censor).astype(int)
    return time, event


def test_the_cohort_is_heavily_censored(cohort):
    _, event = cohort
    assert 0.7 < 1 - event.mean() < 0.9


def test_censoring_draws_keep_censored_times_and_follow_the_censoring_range(cohort):
    time, event = cohort
    drawn = censoring_draws(time, event, 50, np.random.default_rng(1))
    censored = event == 0
    np.testing.assert_array_equal(
        drawn[:, censored], np.broadcast_to(time[censored], (50, censored.sum()))
    )
    # for an event: a censoring time at or after the event, inside the observed censoring range
    assert (drawn[:, ~censored] >= time[~censored]).all()
    assert (drawn[:, ~censored] <= time[censored].max()).all()
    assert (drawn[:, ~censored] >= time[censored].min()).all()


def test_censoring_draws_follow_the_reverse_kaplan_meier():
    """Censoring at 10 (half) or 20 (half), every event at 5: C | C >= 5 is 10 or 20 with
    probability 1/2 each (reverse KM: mass 1/2 at 10, 1/2 at 20)."""
    time = np.array([10.0] * 50 + [20.0] * 50 + [5.0] * 20)
    event = np.array([0] * 100 + [1] * 20)
    drawn = censoring_draws(time, event, 2000, np.random.default_rng(3))[:, 100:]
    assert set(np.unique(drawn)) == {10.0, 20.0}
    share = (drawn == 10.0).mean()
    # binomial MCSE with 40,000 draws (correlated within rows only through the same u): < 0.003
    assert abs(share - 0.5) < 0.01


def test_a_death_after_the_last_censoring_is_never_censored():
    time = np.array([3.0, 4.0, 9.0])
    event = np.array([0, 1, 1])
    drawn = censoring_draws(time, event, 10, np.random.default_rng(0))
    assert np.isinf(drawn[:, 1:]).all()


def test_the_correct_model_s_censored_replicates_hold_the_data(cohort):
    time, event = cohort
    rng = np.random.default_rng(5)
    predicted = weibull_times(rng, (2, 200, time.size))
    ppc = censored_ppc(predicted, time, event, np.random.default_rng(6))
    assert ppc.coverage(0.95) >= 0.95
    # the replicates' median curve is close to the data's (KM SE at S about 0.8, n = 400: < 0.03)
    assert np.max(np.abs(np.median(ppc.predicted, axis=0) - ppc.observed)) < 0.05
    # what arviz.plot_ppc_censored drew: the empirical survival of the uncensored predictions
    # kept below 1.2 x the longest observed time, which falls to 0 there, far below the data
    end = time.max()
    kept = [p[p <= 1.2 * end] for p in predicted[0, :50]]
    arviz_like = np.median([np.mean(k > end) for k in kept])
    assert arviz_like < ppc.observed[-1] - 0.5


def test_a_wrong_model_leaves_the_band(cohort):
    """Predictions from an exponential with a third of the hazard miss the data's curve."""
    time, event = cohort
    rng = np.random.default_rng(7)
    predicted = rng.exponential(3 * SCALE_MONTHS, size=(1, 200, time.size))
    ppc = censored_ppc(predicted, time, event, np.random.default_rng(8))
    assert ppc.coverage(0.95) < 0.5
