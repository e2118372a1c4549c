"""Kaplan-Meier RMST and milestones: R ``survRM2`` figures on ``lung``, lifelines, closed forms.

The ``lung`` figures are R's ``survRM2::rmst2(lung$time, lung$status - 1, lung$sex - 1,
tau = 965)`` as quoted in issue 22 (printed to 4 decimals, hence the 1e-4 absolute tolerance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bayes_bcsm.frequentist import (
    SurvivalInputError,
    km_milestones,
    km_rmst,
    rmst_comparison,
)


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    from lifelines.datasets import load_lung

    return load_lung()  # R's lung with status recoded 0/1


def test_lung_by_sex_matches_survrm2(lung):
    """survRM2 at tau = 965 days: 324.0484 (SE 22.2979) for men, 455.9041 (SE 32.9174) for
    women, difference 131.8557 (SE 39.7587)."""
    cmp = rmst_comparison(lung["time"], lung["status"], lung["sex"], tau=965)
    assert cmp.levels == (1, 2)
    men, women, diff = cmp.row("rmst_1"), cmp.row("rmst_2"), cmp.row("rmst_difference")
    assert men["estimate"] == pytest.approx(324.0484, abs=1e-4)
    assert men["se"] == pytest.approx(22.2979, abs=1e-4)
    assert women["estimate"] == pytest.approx(455.9041, abs=1e-4)
    assert women["se"] == pytest.approx(32.9174, abs=1e-4)
    assert diff["estimate"] == pytest.approx(131.8557, abs=1e-4)
    assert diff["se"] == pytest.approx(39.7587, abs=1e-4)
    # interval and P by their definitions (normal theory, two-sided)
    z = stats.norm.ppf(0.975)
    assert diff["lower"] == pytest.approx(diff["estimate"] - z * diff["se"], rel=1e-12)
    assert diff["p_value"] == pytest.approx(2 * stats.norm.sf(131.8557 / 39.7587), rel=1e-4)
    ratio = cmp.row("rmst_ratio")
    assert ratio["estimate"] == pytest.approx(455.9041 / 324.0484, rel=1e-6)
    se_log = np.sqrt((32.9174 / 455.9041) ** 2 + (22.2979 / 324.0484) ** 2)
    assert ratio["se"] == pytest.approx(se_log, rel=1e-5)
    assert ratio["upper"] == pytest.approx(ratio["estimate"] * np.exp(z * ratio["se"]), rel=1e-12)
    assert set(cmp.summary["tau"]) == {965.0}


def test_levels_pick_the_reference(lung):
    """Swapping (reference, compared) flips the difference and inverts the ratio."""
    a = rmst_comparison(lung["time"], lung["status"], lung["sex"], tau=965)
    b = rmst_comparison(lung["time"], lung["status"], lung["sex"], tau=965, levels=(2, 1))
    assert b.row("rmst_difference")["estimate"] == pytest.approx(
        -a.row("rmst_difference")["estimate"], rel=1e-12
    )
    assert b.row("rmst_ratio")["estimate"] == pytest.approx(
        1 / a.row("rmst_ratio")["estimate"], rel=1e-12
    )
    assert b.row("rmst_difference")["p_value"] == pytest.approx(
        a.row("rmst_difference")["p_value"], rel=1e-12
    )


def test_one_group_matches_r_rmean(lung):
    """R: ``print(survfit(Surv(time, status) ~ 1, data = lung), rmean = 500)``: 310.334436722258,
    se 11.246009598799."""
    row = km_rmst(lung["time"], lung["status"], 500).iloc[0]
    assert row["estimate"] == pytest.approx(310.334436722258, rel=1e-10)
    assert row["se"] == pytest.approx(11.246009598799, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(1, 60), st.booleans()), min_size=3, max_size=40),
    frac=st.floats(0.05, 1.0),
)
def test_point_estimate_matches_lifelines(data, frac):
    """lifelines' ``restricted_mean_survival_time`` of a fitted ``KaplanMeierFitter``."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    t = np.array([d[0] for d in data], dtype=float)
    e = np.array([d[1] for d in data], dtype=int)
    tau = float(frac * t.max())
    ours = km_rmst(t, e, tau).iloc[0]["estimate"]
    theirs = restricted_mean_survival_time(KaplanMeierFitter().fit(t, e), t=tau)
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def test_split_follow_up_with_entry_equals_unsplit(lung):
    """Each row split at half its time into (0, t/2] censored and (t/2, t] with entry gives the
    same curve, so the same RMST and SE (the KM's entry rule)."""
    t, e = lung["time"].to_numpy(float), lung["status"].to_numpy()
    half = t / 2
    time = np.concatenate([half, t])
    event = np.concatenate([np.zeros_like(e), e])
    entry = np.concatenate([np.zeros_like(t), half])
    group = np.tile(lung["sex"].to_numpy(), 2)
    split = rmst_comparison(time, event, group, tau=700, entry=entry).summary
    whole = rmst_comparison(t, e, lung["sex"], tau=700).summary
    pd.testing.assert_frame_equal(split, whole, rtol=1e-10)


def test_milestones_against_greenwood_by_hand(lung):
    """S(365) per sex and their difference, Greenwood's sum computed here row by row."""
    cmp = rmst_comparison(lung["time"], lung["status"], lung["sex"], tau=965)
    out = km_milestones(cmp, [365.0]).set_index("quantity")
    by_hand = {}
    for sex in (1, 2):
        d = lung[lung["sex"] == sex]
        s, v = 1.0, 0.0
        for u in sorted(d.loc[d["status"] == 1, "time"].unique()):
            if u > 365:
                break
            n = (d["time"] >= u).sum()
            k = ((d["time"] == u) & (d["status"] == 1)).sum()
            s *= 1 - k / n
            v += k / (n * (n - k))
        by_hand[sex] = (s, s * np.sqrt(v))
        row = out.loc[f"survival_{sex}_365"]
        assert row["estimate"] == pytest.approx(s, rel=1e-12)
        assert row["se"] == pytest.approx(s * np.sqrt(v), rel=1e-12)
        assert row["lower"] == pytest.approx(s * np.exp(-1.959963984540054 * np.sqrt(v)), rel=1e-9)
    diff = out.loc["survival_difference_365"]
    assert diff["estimate"] == pytest.approx(by_hand[2][0] - by_hand[1][0], rel=1e-12)
    assert diff["se"] == pytest.approx(np.hypot(by_hand[1][1], by_hand[2][1]), rel=1e-12)
    assert 0 < diff["p_value"] < 1


def test_refusals(lung):
    """tau beyond a group's last time, a third group level, a bad tau: each a clear error."""
    beyond = r"tau = 1000 is beyond the last observed time of group 2 \(965\)"
    with pytest.raises(SurvivalInputError, match=beyond):
        rmst_comparison(lung["time"], lung["status"], lung["sex"], tau=1000)
    with pytest.raises(SurvivalInputError, match="exactly two values"):
        rmst_comparison(lung["time"], lung["status"], lung["ph.ecog"].fillna(9), tau=100)
    with pytest.raises(ValueError, match="tau must be a positive"):
        km_rmst(lung["time"], lung["status"], 0)
