"""The P value implied by printed medians and group sizes (Schoenfeld's approximation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from bayes_bcsm.frequentist.logrank import logrank_test
from bayes_bcsm.study import load_targets
from bayes_bcsm.study.consistency import (
    crude_versus_adjusted,
    implied_logrank_p,
    median_logrank_consistency,
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
