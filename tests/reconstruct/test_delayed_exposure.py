"""The delayed-exposure generator: start-delay sampler, time-dependent event times, the cohort."""

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data import build_design
from bayes_bcsm.data.episodes import build_episodes
from bayes_bcsm.errors import SettingError
from bayes_bcsm.frequentist import cox_ph_design
from bayes_bcsm.reconstruct import CALIBRATED_PARAMS, simulate_cohort
from bayes_bcsm.reconstruct.delayed_exposure import (
    START_COLUMN,
    StartDelay,
    cohort_from_draws,
    delayed_event_times,
    draw_delay_inputs,
    start_times,
)
from bayes_bcsm.reconstruct.survival import baseline_cumhaz, inverse_baseline_cumhaz


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"median_months": 0.0}, "median_months"),
        ({"median_months": float("nan")}, "median_months"),
        ({"median_months": 3.0, "shape": -1.0}, "shape"),
        ({"median_months": 3.0, "share": 1.5}, "share"),
        ({"median_months": 3.0, "share": -0.1}, "share"),
    ],
)
def test_start_delay_refuses_values_out_of_range(kwargs, field):
    with pytest.raises(SettingError, match=f"^{field}=") as caught:
        StartDelay(**kwargs)
    assert caught.value.fields == (field,)


def test_start_delay_sampler_median_and_share_match_the_settings():
    """Share of starters ~ Binomial(m, share) and P(delay <= median) = 1/2 among them: both
    within 4 binomial standard errors (a false alarm about 1 in 16,000)."""
    m = 200_000
    rng = np.random.default_rng(20260)
    delay = StartDelay(median_months=3.0, shape=2.0, share=0.6)
    intended = np.arange(m) % 4 != 0  # a quarter not intended: they never start
    start = start_times(intended, rng.random(m), rng.random(m), delay)
    assert np.all(np.isnan(start[~intended]))
    started = ~np.isnan(start)
    k = int(intended.sum())
    share = started.sum() / k
    assert abs(share - 0.6) < 4 * np.sqrt(0.6 * 0.4 / k)
    below = np.mean(start[started] <= 3.0)
    assert abs(below - 0.5) < 4 * np.sqrt(0.25 / started.sum())
    assert np.all(start[started] > 0)


def test_delayed_event_times_solve_the_cumulative_hazard():
    """Closed form: exp(eta) [H0(min(T, s)) + exp(b) (H0(T) - H0(s))+] = E at the drawn T."""
    rng = np.random.default_rng(3)
    m = 2_000
    unit_exp = rng.exponential(size=m)
    eta = rng.normal(0.0, 0.5, size=m)
    start = np.where(rng.random(m) < 0.7, rng.gamma(2.0, 3.0, size=m), np.nan)
    b = np.log(0.5)
    t = delayed_event_times(unit_exp, eta, start, b, CALIBRATED_PARAMS)
    h0 = baseline_cumhaz(t, CALIBRATED_PARAMS)
    h0_start = baseline_cumhaz(np.nan_to_num(start), CALIBRATED_PARAMS)
    never = np.isnan(start) | (t <= np.nan_to_num(start))
    cumulative = np.where(never, h0, h0_start + np.exp(b) * (h0 - h0_start)) * np.exp(eta)
    np.testing.assert_allclose(cumulative, unit_exp, rtol=1e-10)
    # never started: the plain proportional-hazards inversion
    plain = inverse_baseline_cumhaz(unit_exp * np.exp(-eta), CALIBRATED_PARAMS)
    np.testing.assert_allclose(t[np.isnan(start)], plain[np.isnan(start)], rtol=0, atol=1e-12)


def test_immediate_start_reproduces_the_baseline_generator():
    """With a start at surgery (median delay 1e-9 months) the cohort is simulate_cohort's with
    the same seed and endocrine effect (same draws in the same order)."""
    b = -0.4
    delayed = cohort_from_draws(
        draw_delay_inputs(78, np.random.default_rng(11)), StartDelay(1e-9), b
    )
    plain = simulate_cohort(78, 11, effects={"hormone_therapy": b})
    for column in ("time_months", "event", "hormone_therapy", "age_years", "hormone_receptor"):
        pd.testing.assert_series_equal(delayed[column], plain[column], check_dtype=False)


def test_cohort_records_the_start_of_those_who_started_during_follow_up():
    frame = cohort_from_draws(
        draw_delay_inputs(300, np.random.default_rng(5)), StartDelay(6.0, share=0.8), 0.0
    )
    started = frame[START_COLUMN].notna()
    assert (frame["hormone_therapy"] == started.astype(int)).all()
    assert (frame.loc[started, START_COLUMN] < frame.loc[started, "time_months"]).all()
    assert 0 < started.sum() < len(frame)


def test_time_dependent_cox_removes_the_immortal_time_bias_at_large_n():
    """True HR 1 and long delays (median 12 months), n = 20,000: the time-dependent Cox
    estimate lies within 4 SE of 0; the naive 'ever treated' one is clearly negative."""
    n = 20_000
    rng = np.random.default_rng(2026)
    confounder = (rng.random(n) < 0.5).astype(int)
    intended = rng.random(n) < np.where(confounder == 1, 0.7, 0.4)
    start = start_times(intended, rng.random(n), rng.random(n), StartDelay(12.0))
    eta = 0.5 * confounder
    t = delayed_event_times(rng.exponential(size=n), eta, start, 0.0, CALIBRATED_PARAMS)
    time = np.minimum(t, 60.0)
    frame = pd.DataFrame(
        {
            "patient_id": np.arange(n),
            "time_months": time,
            "event": (t <= 60.0).astype(int),
            "confounder": confounder,
            "start": np.where(start < time, start, np.nan),
        }
    )
    naive = frame.assign(treated=frame["start"].notna().astype(int))
    fit_naive = cox_ph_design(build_design(naive, ["treated", "confounder"]))
    episodes = build_episodes(
        frame, "patient_id", "time_months", "event", {"treated": "start"}, start_column="entry"
    )
    design = build_design(
        episodes, ["treated", "confounder"], entry="entry", id_column="patient_id"
    )
    fit_td = cox_ph_design(design)
    assert abs(fit_td.coef[0]) < 4 * fit_td.se[0]
    assert fit_naive.coef[0] < -0.5
    assert fit_naive.coef[0] + 4 * fit_naive.se[0] < 0
