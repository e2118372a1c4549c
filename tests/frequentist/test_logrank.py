"""Log-rank / G-rho tests: R ``survdiff`` figures on ``lung``, closed forms, lifelines oracle.

R figures come from ``tests/reference/r_survival_lung.md`` (R ``survival``; the calls are in
``tests/reference/r_survival_lung.R``), printed to 15 significant digits, so they are compared to
a relative error of 1e-10; the small exact checks are printed to 6 digits (relative error 1e-5).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bayes_bcsm.frequentist import LogrankResult, SurvivalInputError, logrank_test

RTOL_R = 1e-10


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    from lifelines.datasets import load_lung

    return load_lung()  # R's lung with status recoded 0/1


# --- R survdiff on lung --------------------------------------------------------------------
def test_sex_matches_r_survdiff(lung):
    """R: ``survdiff(Surv(time, status) ~ sex, data = lung)``.

    N 138 / 90; observed 112 / 53; expected 91.5817390295728 / 73.4182609704272;
    chisq 10.3267419548856 on 1 df, p 0.00131116452035549.
    """
    r = logrank_test(lung["time"], lung["status"], lung["sex"])
    assert isinstance(r, LogrankResult)
    assert r.groups == (1, 2)
    assert r.statistic == pytest.approx(10.3267419548856, rel=RTOL_R)
    assert r.df == 1
    assert r.p_value == pytest.approx(0.00131116452035549, rel=RTOL_R)
    np.testing.assert_array_equal(r.observed, [112, 53])
    np.testing.assert_allclose(r.expected, [91.5817390295728, 73.4182609704272], rtol=RTOL_R)
    np.testing.assert_array_equal(r.n_per_group, [138, 90])
    summ = r.summary
    assert list(summ.index) == [1, 2]
    np.testing.assert_array_equal(summ["n"], [138, 90])
    # survdiff's (O-E)^2/V column is the 2-group chi-square for either group
    np.testing.assert_allclose(summ["(O-E)^2/V"], 10.3267419548856, rtol=RTOL_R)
    assert r.n == 228 and r.n_excluded == 0


def test_peto_peto_rho1_matches_r(lung):
    """R: ``survdiff(Surv(time, status) ~ sex, data = lung, rho = 1)``: chisq 12.7141514011575."""
    r = logrank_test(lung["time"], lung["status"], lung["sex"], rho=1)
    assert r.statistic == pytest.approx(12.7141514011575, rel=RTOL_R)
    assert r.df == 1 and r.rho == 1.0


def test_four_groups_ph_ecog_matches_r(lung):
    """R: ``survdiff(Surv(time, status) ~ ph.ecog, data = lung)`` (n = 227, one NA dropped).

    chisq 21.962131682476 on 3 df; observed 37/82/44/1; expected 54.1526970189229 /
    83.5275645750819 / 26.1473530653302 / 0.172385340664962.
    """
    r = logrank_test(lung["time"], lung["status"], lung["ph.ecog"], dropna=True)
    assert r.statistic == pytest.approx(21.962131682476, rel=RTOL_R)
    assert r.df == 3
    assert r.p_value == pytest.approx(stats.chi2.sf(21.962131682476, 3), rel=1e-9)
    assert (r.n, r.n_excluded) == (227, 1)
    np.testing.assert_array_equal(r.observed, [37, 82, 44, 1])
    np.testing.assert_allclose(
        r.expected,
        [54.1526970189229, 83.5275645750819, 26.1473530653302, 0.172385340664962],
        rtol=RTOL_R,
    )


def test_small_exact_checks_r():
    """R: ``survdiff(Surv(c(10,20,30,10,20,50), ev) ~ c(1,1,1,0,0,0))``.

    No censoring: chisq 0.254237 (p 0.614107); event (1,0,1,1,0,1): chisq 0.384615
    (p 0.535143). Printed to 6 digits.
    """
    t = [10, 20, 30, 10, 20, 50]
    g = [1, 1, 1, 0, 0, 0]
    r = logrank_test(t, [1] * 6, g)
    assert r.statistic == pytest.approx(0.254237, rel=1e-5)
    assert r.p_value == pytest.approx(0.614107, rel=1e-5)
    r = logrank_test(t, [1, 0, 1, 1, 0, 1], g)
    assert r.statistic == pytest.approx(0.384615, rel=1e-5)
    assert r.p_value == pytest.approx(0.535143, rel=1e-5)
    # closed form of the censored case: 0.384615 = 5/13
    assert r.statistic == pytest.approx(5 / 13, rel=1e-12)


# --- stratified and trend tests -------------------------------------------------------------
def test_stratified_sums_o_e_v_over_strata(lung):
    """survdiff's ``strata()``: O, E and V are per-stratum sums; one stratum = unstratified."""
    d = lung.dropna(subset=["ph.ecog"])
    r = logrank_test(d["time"], d["status"], d["sex"], strata=d["ph.ecog"])
    o = np.zeros(2)
    e = np.zeros(2)
    v = np.zeros((2, 2))
    for _, part in d.groupby("ph.ecog"):
        if part["sex"].nunique() < 2:  # one sex only: O = E = its deaths, V = 0
            idx = int(part["sex"].iloc[0]) - 1
            o[idx] += part["status"].sum()
            e[idx] += part["status"].sum()
            continue
        p = logrank_test(part["time"], part["status"], part["sex"])
        o, e, v = o + p.observed, e + p.expected, v + p.variance
    np.testing.assert_allclose(r.observed, o, rtol=1e-12)
    np.testing.assert_allclose(r.expected, e, rtol=1e-12)
    np.testing.assert_allclose(r.variance, v, rtol=1e-12)
    assert r.statistic == pytest.approx((o - e)[1] ** 2 / v[1, 1], rel=1e-12)
    assert r.n_strata == 4
    one = logrank_test(d["time"], d["status"], d["sex"], strata=np.zeros(len(d)))
    plain = logrank_test(d["time"], d["status"], d["sex"])
    assert one.statistic == pytest.approx(plain.statistic, rel=1e-12)


def test_trend_closed_form(lung):
    """Trend statistic = (c'(O - E))^2 / (c' V c) on 1 df (Klein & Moeschberger 2003, 7.4)."""
    d = lung.dropna(subset=["ph.ecog"])
    k_group = logrank_test(d["time"], d["status"], d["ph.ecog"])
    tr = logrank_test(d["time"], d["status"], d["ph.ecog"], trend=True)
    c = np.arange(1.0, 5.0)
    expected = (c @ (k_group.observed - k_group.expected)) ** 2 / (c @ k_group.variance @ c)
    assert tr.statistic == pytest.approx(expected, rel=1e-12)
    assert tr.df == 1 and tr.test == "trend"
    assert tr.p_value == pytest.approx(stats.chi2.sf(expected, 1), rel=1e-12)
    # invariant to affine changes of the scores (sum(O - E) = 0 and V 1 = 0)
    shifted = logrank_test(d["time"], d["status"], d["ph.ecog"], trend=10 + 3 * c)
    assert shifted.statistic == pytest.approx(tr.statistic, rel=1e-10)
    # custom scores
    w = np.array([0.0, 1.0, 1.0, 5.0])
    custom = logrank_test(d["time"], d["status"], d["ph.ecog"], trend=w)
    want = (w @ (k_group.observed - k_group.expected)) ** 2 / (w @ k_group.variance @ w)
    assert custom.statistic == pytest.approx(want, rel=1e-12)
    # two groups: the trend test is the log-rank test
    two = logrank_test(lung["time"], lung["status"], lung["sex"], trend=True)
    assert two.statistic == pytest.approx(10.3267419548856, rel=RTOL_R)


# --- labels, missing values, errors ---------------------------------------------------------
def test_labels_and_categorical_order(lung):
    """String labels are sorted; a pandas Categorical keeps its category order."""
    sex = lung["sex"].map({1: "male", 2: "female"})
    r = logrank_test(lung["time"], lung["status"], sex)
    assert r.groups == ("female", "male")
    np.testing.assert_array_equal(r.observed, [53, 112])
    cat = pd.Categorical(sex, categories=["male", "female", "unused"], ordered=True)
    rc = logrank_test(lung["time"], lung["status"], pd.Series(cat))
    assert rc.groups == ("male", "female")
    np.testing.assert_array_equal(rc.observed, [112, 53])
    assert rc.statistic == pytest.approx(r.statistic, rel=1e-12)
    assert list(rc.summary.index) == ["male", "female"]


def test_missing_values_rejected_unless_dropna():
    """Missing time / event / group / stratum: clear error, or dropped and counted."""
    t = [1.0, 2.0, np.nan, 4.0, 5.0, 6.0]
    e = [1, 1, 1, 0, 1, 1]
    g = ["a", "b", "a", None, "a", "b"]
    with pytest.raises(SurvivalInputError, match=r"2 row\(s\).*time, group.*dropna=True"):
        logrank_test(t, e, g)
    r = logrank_test(t, e, g, dropna=True)
    assert (r.n, r.n_excluded) == (4, 2)
    s = [1, 1, 1, 1, np.nan, 1]
    r2 = logrank_test(t, e, g, strata=s, dropna=True)
    assert (r2.n, r2.n_excluded) == (3, 3)
    gc = pd.Series(pd.Categorical(["a", "b", "a", None, "a", "b"]))
    r3 = logrank_test(t, e, gc, dropna=True)
    assert r3.groups == ("a", "b") and r3.n_excluded == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"group": [1, 1, 1, 1]}, SurvivalInputError, "at least 2 distinct values"),
        ({"group": [1, 2, 1]}, SurvivalInputError, "same length.*group=3"),
        ({"event": [1, 2, 1, 0]}, SurvivalInputError, "event must be 0"),
        ({"time": [1.0, -1.0, 2.0, 3.0]}, SurvivalInputError, "time must be > 0"),
        ({"rho": -1}, ValueError, "rho"),
        ({"trend": [1.0, 2.0, 3.0]}, ValueError, r"2 finite numbers.*\[0, 1\]"),
        ({"strata": [1, 1]}, SurvivalInputError, "same length.*strata=2"),
    ],
)
def test_bad_input_messages(kwargs, error, match):
    """Each invalid input is rejected with a message that names the problem."""
    args = {"time": [1.0, 2.0, 3.0, 4.0], "event": [1, 0, 1, 1], "group": [0, 1, 0, 1]}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        logrank_test(**args)


def test_group_without_expected_events_is_left_out():
    """As survdiff: a group with E = 0 (all censored before the first event) drops out of df."""
    t = [0.5, 0.6, 1, 2, 3, 4, 5, 6]
    e = [0, 0, 1, 1, 1, 1, 0, 1]
    g = ["c", "c", "a", "b", "a", "b", "a", "b"]
    r = logrank_test(t, e, g)
    assert r.expected[2] == 0 and r.df == 1
    ab = [i for i, x in enumerate(g) if x != "c"]
    two = logrank_test(np.take(t, ab), np.take(e, ab), np.take(g, ab))
    assert r.statistic == pytest.approx(two.statistic, rel=1e-12)


# --- lifelines oracle on random data with ties and censoring --------------------------------
def _data(k: int):
    return st.integers(min_value=4, max_value=80).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(1, 10), min_size=n, max_size=n),
            st.lists(st.integers(0, 1), min_size=n, max_size=n),
            st.lists(st.integers(0, k - 1), min_size=n, max_size=n),
        )
    )


@settings(max_examples=50, deadline=None)
@given(_data(2), st.sampled_from([0.0, 1.0]))
def test_two_groups_agree_with_lifelines(data, rho):
    """lifelines.statistics.logrank_test (rho = 1: Fleming-Harrington p = 1, q = 0), to 1e-6."""
    from lifelines.statistics import logrank_test as ll_logrank

    t, e, g = (np.asarray(x) for x in data)
    if np.unique(g).size < 2 or e.sum() == 0:
        return
    r = logrank_test(t, e, g, rho=rho)
    if not np.any(r.variance):  # e.g. every subject dies at one time: no test, df = 0
        assert (r.df, r.statistic) == (0, 0.0) and np.isnan(r.p_value)
        return
    a, b = g == 0, g == 1
    kw = {"weightings": "fleming-harrington", "p": 1, "q": 0} if rho == 1 else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ll_logrank(t[a], t[b], e[a], e[b], **kw)
    assert r.statistic == pytest.approx(ref.test_statistic, rel=1e-6, abs=1e-10)
    assert r.p_value == pytest.approx(ref.p_value, rel=1e-6, abs=1e-10)


@settings(max_examples=50, deadline=None)
@given(_data(4))
def test_k_groups_agree_with_lifelines(data):
    """lifelines.statistics.multivariate_logrank_test with k up to 4 groups, to 1e-6."""
    from lifelines.statistics import multivariate_logrank_test

    t, e, g = (np.asarray(x) for x in data)
    k = np.unique(g).size
    if k < 2 or e.sum() == 0:
        return
    r = logrank_test(t, e, g)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = multivariate_logrank_test(t, g, e)
    if r.df == k - 1:  # lifelines has no rule for groups with E = 0
        assert r.statistic == pytest.approx(ref.test_statistic, rel=1e-6, abs=1e-10)
    assert r.variance.sum(axis=1) == pytest.approx(np.zeros(k), abs=1e-9)
    assert r.observed.sum() == pytest.approx(r.expected.sum(), rel=1e-12)
