"""The P value implied by printed medians and group sizes: Schoenfeld's approximation, and the
probability of the printed side by simulation conditional on the printed medians."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayes_bcsm.frequentist.km import kaplan_meier
from bayes_bcsm.frequentist.logrank import logrank_test
from bayes_bcsm.resources import bundled_cohort
from bayes_bcsm.study import load_targets
from bayes_bcsm.study.consistency import (
    FollowUp,
    _km_medians,
    _logrank_p,
    crude_versus_adjusted,
    follow_up_from_cohort,
    implied_logrank_p,
    median_logrank_consistency,
    printed_side_probability,
    weibull_shape_from_km,
)


def test_by_hand():
    # 39 vs 39 patients, medians 10 and 20 months, 48 deaths: Z = log 2 * sqrt(48 / 4) = 2.4012
    z = math.log(2.0) * math.sqrt(12.0)
    assert implied_logrank_p(39, 39, 10.0, 20.0, 48) == pytest.approx(2 * stats.norm.sf(z))
    assert implied_logrank_p(39, 39, 10.0, 20.0, 48) == pytest.approx(0.016345, abs=1e-6)


def test_symmetric_and_null():
    assert implied_logrank_p(16, 62, 15, 50, 48) == pytest.approx(
        implied_logrank_p(62, 16, 50, 15, 48)
    )
    assert implied_logrank_p(16, 62, 30, 30, 48) == 1.0


@pytest.mark.parametrize("bad", [{"n_a": 0}, {"median_b_months": -1.0}, {"deaths": 0}])
def test_refuses_non_positive(bad):
    args = {"n_a": 10, "n_b": 10, "median_a_months": 5.0, "median_b_months": 8.0, "deaths": 12}
    with pytest.raises(ValueError, match=next(iter(bad))):
        implied_logrank_p(**{**args, **bad})


def test_matches_the_log_rank_statistic_on_exponential_data():
    """Without censoring, the mean log-rank Z over exponential samples is close to the
    approximation's Z (Schoenfeld's formula is first order in log HR: HR 1.5 here)."""
    rng = np.random.default_rng(7)
    n_a, n_b, m_a, m_b = 60, 140, 20.0, 30.0
    zs = []
    for _ in range(300):
        t = np.concatenate(
            [rng.exponential(m_a / math.log(2), n_a), rng.exponential(m_b / math.log(2), n_b)]
        )
        g = np.repeat([0, 1], [n_a, n_b])
        zs.append(math.sqrt(logrank_test(t, np.ones_like(t), g).statistic))
    z_implied = stats.norm.isf(implied_logrank_p(n_a, n_b, m_a, m_b, n_a + n_b) / 2)
    mcse = np.std(zs) / math.sqrt(len(zs))
    assert abs(np.mean(zs) - z_implied) < max(4 * mcse, 0.05 * z_implied)


def test_paper_rows_that_clash():
    """The three Table 2 factors whose printed P is on the other side of 0.05 from the one
    their printed medians imply (the calibration report's account)."""
    table = median_logrank_consistency(load_targets())
    clash = set(table.loc[~table["same_side"], "factor"])
    assert clash == {"postop_neuro_dysfunction", "hormone_therapy", "hormone_receptor"}
    row = table.set_index("factor").loc["postop_neuro_dysfunction"]
    assert row["implied_p"] < 0.001 and row["printed_p"] == 0.051


def test_crude_versus_adjusted_by_hand():
    """Endocrine therapy: Table 2 medians 54 (yes) vs 43 months (no) give a crude HR of
    43 / 54 = 0.796; the printed aHR 0.070 asks adjustment for a factor of 11.4. Receptor
    positive (43 months) against negative (21): crude 21 / 43."""
    table = crude_versus_adjusted(load_targets()).set_index("factor")
    assert len(table) == 4
    endocrine = table.loc["hormone_therapy"]
    assert endocrine["exposed"] == "yes"
    assert endocrine["crude_hr_from_medians"] == pytest.approx(43 / 54)
    assert endocrine["adjustment_factor"] == pytest.approx(0.070 / (43 / 54))
    assert 1 / endocrine["adjustment_factor"] == pytest.approx(11.4, abs=0.05)
    assert table.loc["hormone_receptor_positive", "crude_hr_from_medians"] == pytest.approx(21 / 43)


# --- the printed side by simulation (issue 20) ------------------------------------------------


def load_bundled_cohort() -> pd.DataFrame:
    """The bundled reconstruction's times and events (plain CSV read, no validation layer)."""
    return pd.read_csv(bundled_cohort(), usecols=["time_months", "event"])


@pytest.fixture(scope="module")
def follow_up():
    cohort = load_bundled_cohort()
    return follow_up_from_cohort(cohort["time_months"], cohort["event"])


def _censored_rows(rng, n, rows, follow):
    time = rng.exponential(30.0, (rows, n))
    censor = follow.draw(rng, (rows, n))
    return np.minimum(time, censor), (time <= censor).astype(float)


@pytest.mark.parametrize("n", [5, 16, 62])
def test_batch_km_medians_equal_the_package_kaplan_meier(n, follow_up):
    """Row by row against :func:`bayes_bcsm.frequentist.km.kaplan_meier` (R's median rule),
    censored rows and, for even n, uncensored rows where the curve is flat at 0.5."""
    rng = np.random.default_rng(n)
    time, event = _censored_rows(rng, n, 150, follow_up)
    time[:20], event[:20] = rng.exponential(30.0, (20, n)), 1.0
    got = _km_medians(time, event)
    expected = [kaplan_meier(t, e).median for t, e in zip(time, event, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


def test_batch_logrank_p_equals_the_package_logrank_test(follow_up):
    rng = np.random.default_rng(3)
    n_a, n_b = 16, 62
    time, event = _censored_rows(rng, n_a + n_b, 150, follow_up)
    time[:, :n_a] *= 0.5
    group = np.repeat([1.0, 0.0], [n_a, n_b])
    got = _logrank_p(time, event, np.broadcast_to(group, time.shape))
    expected = [logrank_test(t, e, group).p_value for t, e in zip(time, event, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_follow_up_is_the_reverse_kaplan_meier_and_draws_from_it(follow_up):
    """The step function equals the package's KM of the censorings; draws follow it (each
    tabulated CDF value within 4 binomial SEs)."""
    cohort = load_bundled_cohort()
    reverse = kaplan_meier(cohort["time_months"], 1 - cohort["event"]).table
    reverse = reverse[reverse["events"] > 0]
    np.testing.assert_allclose(follow_up.times_months, reverse["time"])
    np.testing.assert_allclose(follow_up.survival, reverse["survival"], rtol=1e-12)
    draws = follow_up.draw(np.random.default_rng(0), (100_000,))
    for t, s in zip(follow_up.times_months, follow_up.survival, strict=True):
        se = math.sqrt(s * (1 - s) / draws.size)
        assert abs(np.mean(draws > t) - s) <= 4 * se + 1e-12


def test_weibull_shape_from_exact_weibull_points_and_from_the_paper():
    """Points on S(t) = exp(-(t / 40)^1.7) give back 1.7; the paper's printed KM points (S at
    6/12/36/60 months and the median 50) give about 1.38 (issue 20 quotes 1.39)."""
    points = {t: math.exp(-((t / 40) ** 1.7)) for t in (6, 12, 36, 60)}
    assert weibull_shape_from_km(points, 40 * math.log(2) ** (1 / 1.7)) == pytest.approx(1.7)
    targets = load_targets()
    shape = weibull_shape_from_km(targets.survival_at, targets.os_median_months)
    assert shape == pytest.approx(1.39, abs=0.02)


def test_equal_medians_without_conditioning_give_the_log_rank_size():
    """Known answer: equal exponential groups, no censoring, no conditioning on the medians:
    the share of significant log-rank P values is the test's size, alpha = 0.05 (to within
    4 MCSE; the log-rank test holds its level closely at 40 + 40 patients)."""
    never = FollowUp(np.array([]), np.array([]))
    side = printed_side_probability(
        (40, 40), (20.0, 20.0), 0.01, 80, never, n_sim=40_000, seed=5, tolerance=np.inf
    )
    assert side.n_kept == 40_000
    assert abs(side.probability - 0.05) < 4 * side.mcse


def test_schoenfeld_value_beside_the_simulation_is_the_closed_form(follow_up):
    side = printed_side_probability((16, 62), (15.0, 50.0), 0.051, 48, follow_up, n_sim=100)
    p = 16 / 78
    z = math.log(50 / 15) * math.sqrt(48 * p * (1 - p))
    assert side.schoenfeld_p == pytest.approx(2 * stats.norm.sf(z), rel=1e-12)


def test_printed_side_probabilities_of_the_papers_clashing_rows(follow_up):
    """Issue 20's reading of Table 2, by simulation conditional on the printed medians (both KM
    medians within 5 %), censored by the bundled cohort's potential follow-up:

    - hormone receptor (48 vs 5 patients, 43 vs 21 months, printed P 0.009): exponential groups
      reach the printed side about a third of the time (issue: 33 %), within 2 MCSE: no clash;
    - post-op ASIA (16 vs 62, 15 vs 50 months, printed P 0.051): the printed side is unlikely
      (upper 97.5 % bound below 5 %) under exponential groups and less likely still under
      Weibull-PH groups with the shape of the paper's KM points.

    The issue quotes 4.9 % (exponential) and 0.3 % (Weibull) for post-op ASIA under a censoring
    model it does not specify; with this cohort's reverse-KM follow-up the exponential figure is
    about 0.5 % (MCSE 0.2 %), so only the receptor figure is pinned to the issue's value (every
    other censoring model tried, and its figure, is listed in data/README.md: none exceeds
    about 2 %).
    """
    receptor = printed_side_probability(
        (48, 5), (43.0, 21.0), 0.009, 48 * 53 / 78, follow_up, n_sim=80_000, seed=11
    )
    assert abs(receptor.probability - 0.33) < 2 * receptor.mcse
    postop = printed_side_probability(
        (16, 62), (15.0, 50.0), 0.051, 48, follow_up, n_sim=60_000, seed=12
    )
    shape = weibull_shape_from_km(load_targets().survival_at, 50.0)
    postop_weibull = printed_side_probability(
        (16, 62), (15.0, 50.0), 0.051, 48, follow_up, shape=shape, n_sim=60_000, seed=13
    )
    assert postop.upper_95 < 0.05
    assert postop_weibull.probability <= postop.probability
    assert postop_weibull.upper_95 < 0.01


def test_consistency_table_carries_the_simulated_columns(follow_up):
    """With a follow-up, each two-group row gains both shapes' probabilities of the printed
    side and their MCSEs; the default Weibull shape is the one of the printed KM points."""
    targets = load_targets()
    table = median_logrank_consistency(targets, follow_up=follow_up, n_sim=2_000, seed=1)
    columns = ["p_printed_side_exponential", "mcse_exponential", "p_printed_side_weibull"]
    assert table[columns].notna().all().all()
    assert table["weibull_shape"].unique() == pytest.approx(
        [weibull_shape_from_km(targets.survival_at, targets.os_median_months)]
    )
    assert ((table["p_printed_side_weibull"] >= 0) & (table["p_printed_side_weibull"] <= 1)).all()


def test_the_figures_readme_and_data_readme_quote(follow_up):
    """README.md and data/README.md quote the calibration report's probabilities of the printed
    side (`bayes-bcsm calibrate --report`: 40,000 cohorts per row and shape, seed 0, the bundled
    cohort's follow-up): post-op ASIA about 0.5 % (MCSE 0.2 %) exponential and never Weibull
    (upper bound 0.2 %); endocrine therapy about 4 % and 9 %; receptor about 35 % and 60 %."""
    table = median_logrank_consistency(load_targets(), follow_up=follow_up, n_sim=40_000)
    row = table.set_index("factor").loc
    postop = row["postop_neuro_dysfunction"]
    assert f"{100 * postop['p_printed_side_exponential']:.1f}" == "0.5"
    assert f"{100 * postop['mcse_exponential']:.1f}" == "0.2"
    assert postop["p_printed_side_weibull"] == 0
    assert f"{100 * postop['upper_95_weibull']:.1f}" == "0.2"
    quoted = {"hormone_therapy": ("4", "9"), "hormone_receptor": ("35", "60")}
    for factor, (exponential, weibull) in quoted.items():
        assert f"{100 * row[factor]['p_printed_side_exponential']:.0f}" == exponential
        assert f"{100 * row[factor]['p_printed_side_weibull']:.0f}" == weibull


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"shape": 0.0}, "shape"), ({"n_sim": 0}, "n_sim"), ({"deaths": 0}, "deaths")],
)
def test_printed_side_refuses_bad_inputs_before_simulating(kwargs, match):
    args = {"deaths": 48, **kwargs}
    deaths = args.pop("deaths")
    never = FollowUp(np.array([]), np.array([]))
    with pytest.raises(ValueError, match=match):
        printed_side_probability((16, 62), (15.0, 50.0), 0.051, deaths, never, **args)
