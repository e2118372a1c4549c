"""Kaplan-Meier: R ``survfit`` figures on ``lung``, closed forms, lifelines / statsmodels oracles.

R figures come from ``tests/reference/r_survival_lung.md`` (R ``survival``; the calls are in
``tests/reference/r_survival_lung.R``). R prints medians and limits as observed times (integers
on ``lung``), so those are compared exactly (relative error 1e-9); the restricted mean is printed
to 15 digits and compared to 1e-9.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_bcsm.frequentist import KaplanMeierResult, SurvivalInputError, kaplan_meier

RTOL_R = 1e-9  # R prints these figures exactly (observed times) or to >= 12 digits


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    from lifelines.datasets import load_lung

    return load_lung()  # R's lung with status recoded 0/1


def _subset(lung: pd.DataFrame, column: str | None, value: float | None) -> pd.DataFrame:
    return lung if column is None else lung[lung[column] == value]


# --- R survfit medians ---------------------------------------------------------------------
R_MEDIANS = [
    # (column, value, conf_type, median, lower, upper)
    (None, None, "log", 310, 285, 363),
    ("sex", 1, "log", 270, 212, 310),
    ("sex", 2, "log", 426, 348, 550),
    ("sex", 1, "log-log", 270, 210, 306),
    ("sex", 2, "log-log", 426, 345, 524),
    ("ph.ecog", 0, "log", 394, 348, 574),
    ("ph.ecog", 1, "log", 306, 268, 429),
    ("ph.ecog", 2, "log", 199, 156, 288),
]


@pytest.mark.parametrize(("column", "value", "conf_type", "med", "lo", "hi"), R_MEDIANS)
def test_median_and_ci_match_r_survfit(lung, column, value, conf_type, med, lo, hi):
    """R: ``survfit(Surv(time, status) ~ <column>, data = lung, conf.type = <conf_type>)``.

    Printed medians and 0.95 limits: all 310 (285-363); sex 1 270 (212-310), sex 2 426
    (348-550); log-log sex 1 270 (210-306), sex 2 426 (345-524); ph.ecog 0/1/2 394 (348-574),
    306 (268-429), 199 (156-288).
    """
    d = _subset(lung, column, value)
    km = kaplan_meier(d["time"], d["status"], conf_type=conf_type)
    assert km.median == pytest.approx(med, rel=RTOL_R)
    lower, upper = km.median_ci(method="r")
    assert lower == pytest.approx(lo, rel=RTOL_R)
    assert upper == pytest.approx(hi, rel=RTOL_R)
    summ = km.summary.iloc[0]
    assert summ["median"] == med and summ["median_lower"] == lo and summ["median_upper"] == hi
    assert summ["n"] == len(d) and summ["events"] == d["status"].sum()


def test_counts_on_lung(lung):
    """R: ``survfit(Surv(time, status) ~ 1, data = lung)`` prints n = 228, events = 165."""
    km = kaplan_meier(lung["time"], lung["status"])
    assert (km.n, km.n_events) == (228, 165)
    assert km.table["events"].sum() == 165
    assert km.table["censored"].sum() == 228 - 165
    assert km.table["at_risk"].iloc[0] == 228


def test_restricted_mean_matches_r(lung):
    """R: ``print(survfit(Surv(time, status) ~ 1, data = lung), rmean = 500)``.

    rmean 310.334436722258, se(rmean) 11.246009598799.
    """
    km = kaplan_meier(lung["time"], lung["status"])
    est, se = km.restricted_mean(500)
    assert est == pytest.approx(310.334436722258, rel=1e-10)
    assert se == pytest.approx(11.246009598799, rel=1e-10)


def test_restricted_mean_closed_form_and_beyond_last_time():
    """No censoring: RMST(tau) is the mean of min(T, tau); beyond the last time S stays flat."""
    t = np.array([2.0, 4.0, 4.0, 7.0, 9.0])
    km = kaplan_meier(t, np.ones(5))
    for tau in (1.0, 3.0, 4.0, 8.0, 9.0):
        assert km.restricted_mean(tau)[0] == pytest.approx(np.minimum(t, tau).mean(), rel=1e-12)
    # censored last observation: S = 0.5 flat after t = 3 -> area 3 + 0.5 * (10 - 3)
    km2 = kaplan_meier([3.0, 5.0], [1, 0])
    assert km2.restricted_mean(10.0)[0] == pytest.approx(3 + 0.5 * 7, rel=1e-12)
    with pytest.raises(ValueError, match="tau"):
        km.restricted_mean(-1)


def test_spss_median_ci_on_lung(lung):
    """SPSS rule of the reference file: SE(t50) = SE_Greenwood[S(t50)] / f on lung.

    Reference [calc]: median 310, SE 21.773, CI (267.3, 352.7); printed to 5 / 4 significant
    digits, hence the tolerances (half a unit in the last printed digit).
    """
    km = kaplan_meier(lung["time"], lung["status"])
    assert km.median == 310
    assert km.median_se() == pytest.approx(21.773, abs=5e-4)
    lo, hi = km.median_ci(method="spss")
    assert lo == pytest.approx(267.3, abs=0.05)
    assert hi == pytest.approx(352.7, abs=0.05)
    assert (lo + hi) / 2 == pytest.approx(310, rel=1e-12)


# --- small exact checks --------------------------------------------------------------------
def test_small_exact_km_statsmodels_r_example():
    """statsmodels' R-derived test: time (3,1,2,3,2,1,5,3), event (0,1,1,1,0,0,1,0).

    R ``survfit``: S = 0.875, 0.7291667, 0.546875, 0 at t = 1, 2, 3, 5; Greenwood se
    0.1169268, 0.1649762, 0.2005800 (printed to 7 digits -> rel 1e-6).
    """
    km = kaplan_meier([3, 1, 2, 3, 2, 1, 5, 3], [0, 1, 1, 1, 0, 0, 1, 0])
    tab = km.table
    np.testing.assert_allclose(tab["time"], [1, 2, 3, 5])
    np.testing.assert_allclose(tab["survival"], [0.875, 0.7291667, 0.546875, 0.0], rtol=1e-6)
    np.testing.assert_allclose(tab["se"].iloc[:3], [0.1169268, 0.1649762, 0.2005800], rtol=1e-6)
    assert np.isnan(tab["se"].iloc[3])  # S = 0: R prints NaN / NA
    assert np.isnan(tab["lower"].iloc[3]) and np.isnan(tab["upper"].iloc[3])
    np.testing.assert_array_equal(tab["at_risk"], [8, 6, 4, 1])
    np.testing.assert_array_equal(tab["events"], [1, 1, 1, 1])
    np.testing.assert_array_equal(tab["censored"], [1, 1, 2, 0])


def test_band_formulas_closed_form():
    """The three band types written out by hand at t = 1 (S = 7/8, one death of 8 at risk)."""
    z = 1.959963984540054
    s = 7 / 8
    se_log = np.sqrt(1 / (8 * 7))
    t, e = [3, 1, 2, 3, 2, 1, 5, 3], [0, 1, 1, 1, 0, 0, 1, 0]
    log = kaplan_meier(t, e, conf_type="log").table.iloc[0]
    assert log["lower"] == pytest.approx(s * np.exp(-z * se_log), rel=1e-12)
    assert log["upper"] == 1.0  # exp(log S + z se) > 1 is clipped, as in R
    plain = kaplan_meier(t, e, conf_type="plain").table.iloc[0]
    assert plain["lower"] == pytest.approx(s - z * s * se_log, rel=1e-12)
    assert plain["upper"] == 1.0
    ll = kaplan_meier(t, e, conf_type="log-log").table.iloc[0]
    half = z * se_log / np.log(s)
    assert ll["lower"] == pytest.approx(np.exp(-np.exp(np.log(-np.log(s)) - half)), rel=1e-12)
    assert ll["upper"] == pytest.approx(np.exp(-np.exp(np.log(-np.log(s)) + half)), rel=1e-12)
    wide = kaplan_meier(t, e, conf_type="log", conf_level=0.99).table.iloc[0]
    assert wide["lower"] < log["lower"]


def test_median_midpoint_rule_and_not_reached():
    """R's convention: a flat stretch exactly at 0.5 gives the midpoint; never reaching 0.5 -> NA.

    R: ``survfit(Surv(c(1,2,3,4), rep(1,4)) ~ 1)`` prints median 2.5 (S = 0.5 on [2, 3)).
    A flat 0.5 at the end of the curve (last subject censored) uses the last follow-up time.
    """
    assert kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1]).median == 2.5
    assert kaplan_meier([1, 2, 3, 4], [1, 1, 0, 0]).median == pytest.approx((2 + 4) / 2)
    km = kaplan_meier([1, 2, 3, 4, 5], [1, 0, 0, 0, 0])
    assert np.isnan(km.median)
    assert all(np.isnan(v) for v in km.median_ci("r"))
    assert np.isnan(km.median_se())
    q = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1]).quantile([0.25, 0.5, 0.75])
    np.testing.assert_allclose(q["time"], [1.5, 2.5, 3.5])


def test_survival_at_is_right_continuous_step():
    """S at, between, before and after the observed times (closed form on the small example)."""
    km = kaplan_meier([3, 1, 2, 3, 2, 1, 5, 3], [0, 1, 1, 1, 0, 0, 1, 0])
    out = km.survival_at([0.5, 1.0, 1.5, 2.0, 4.99, 5.0, 6.0])
    np.testing.assert_allclose(
        out["survival"], [1.0, 0.875, 0.875, 0.7291667, 0.546875, 0.0, 0.0], rtol=1e-6
    )
    assert out["se"].iloc[0] == 0 and out["lower"].iloc[0] == 1 and out["upper"].iloc[0] == 1
    assert out["se"].iloc[2] == pytest.approx(0.1169268, rel=1e-6)
    # last observation censored: unknown beyond it unless extend=True
    km2 = kaplan_meier([1, 2, 3], [1, 0, 0])
    beyond = km2.survival_at([3.0, 10.0])
    assert beyond["survival"].iloc[0] == pytest.approx(2 / 3)
    assert np.isnan(beyond["survival"].iloc[1])
    assert km2.survival_at([10.0], extend=True)["survival"].iloc[0] == pytest.approx(2 / 3)


def test_result_is_frozen_and_dropna():
    """Results are immutable; dropna=True drops and counts rows with a missing time or event."""
    km = kaplan_meier([1.0, 2.0, np.nan, 4.0], [1, np.nan, 1, 0], dropna=True)
    assert isinstance(km, KaplanMeierResult)
    assert (km.n, km.n_excluded, km.n_events) == (2, 2, 1)
    with pytest.raises(AttributeError):
        km.n = 3  # type: ignore[misc]


# --- input errors --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("time", "event", "match"),
    [
        ([1.0, np.nan, 3.0], [1, 0, 1], r"time must be finite.*position\(s\) 1"),
        ([1.0, np.inf], [1, 0], "time must be finite"),
        ([1.0, -2.0, 3.0], [1, 0, 1], r"time must be > 0.*position\(s\) 1"),
        ([1.0, 0.0], [1, 0], "time must be > 0"),
        ([1.0, 2.0], [1, 2], r"event must be 0 \(censored\) or 1.*R-style 1/2"),
        ([1.0, 2.0], [1.0, 0.5], "event must be 0"),
        ([1.0, 2.0], [1, np.nan], "event must not be missing"),
        ([1.0, 2.0, 3.0], [1, 0], "same length, got 3 and 2"),
        ([], [], "empty"),
        (5.0, 1, "1-D sequence"),
        ([["a"]], [[1]], "1-D"),
        (["a", "b"], [1, 0], "time must be numeric"),
        ([1.0, 2.0], ["x", "y"], "event must be 0/1"),
    ],
)
def test_bad_input_messages(time, event, match):
    """Each invalid input is rejected with a SurvivalInputError (a ValueError) that says why."""
    with pytest.raises(SurvivalInputError, match=match):
        kaplan_meier(time, event)


def test_bad_options():
    """Option errors list the valid values."""
    with pytest.raises(ValueError, match="'log', 'log-log', 'plain'"):
        kaplan_meier([1, 2], [1, 1], conf_type="arcsin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="conf_level"):
        kaplan_meier([1, 2], [1, 1], conf_level=95)
    km = kaplan_meier([1, 2], [1, 1])
    with pytest.raises(ValueError, match="'r' or 'spss'"):
        km.median_ci(method="sas")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="refit"):
        km.median_ci(method="r", conf_level=0.9)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        km.quantile(1.5)


def test_boolean_event_and_pandas_input(lung):
    """Boolean events and pandas Series give the same curve as 0/1 numpy arrays."""
    a = kaplan_meier(lung["time"], lung["status"].astype(bool))
    b = kaplan_meier(lung["time"].to_numpy(), lung["status"].to_numpy())
    pd.testing.assert_frame_equal(a.table, b.table)


# --- oracles on random data with ties and censoring ----------------------------------------
survival_data = st.integers(min_value=2, max_value=80).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 12), min_size=n, max_size=n),
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
    )
)


@settings(max_examples=50, deadline=None)
@given(survival_data)
def test_agrees_with_lifelines_and_statsmodels(data):
    """KaplanMeierFitter's S(t) and log-log band, statsmodels' Greenwood se, to 1e-6.

    Integer times on 1..12 force ties between events and censorings.
    """
    from lifelines import KaplanMeierFitter
    from statsmodels.duration.survfunc import SurvfuncRight

    t = np.asarray(data[0], dtype=float)
    e = np.asarray(data[1])
    km = kaplan_meier(t, e, conf_type="log-log")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kmf = KaplanMeierFitter().fit(t, e)
    ref = kmf.survival_function_.loc[km.time].iloc[:, 0].to_numpy()
    np.testing.assert_allclose(km.survival, ref, rtol=1e-6, atol=1e-12)
    inside = (km.survival > 0) & (km.survival < 1)
    ci = kmf.confidence_interval_.loc[km.time].to_numpy()
    np.testing.assert_allclose(km.table["lower"][inside], ci[inside, 0], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(km.table["upper"][inside], ci[inside, 1], rtol=1e-6, atol=1e-12)
    if e.sum() > 0:
        sm = SurvfuncRight(t, e)
        ev = km.table[km.table["events"] > 0]
        np.testing.assert_allclose(ev["time"], sm.surv_times)
        ok = ev["survival"].to_numpy() > 0
        np.testing.assert_allclose(
            ev["se"].to_numpy()[ok], sm.surv_prob_se[ok], rtol=1e-6, atol=1e-12
        )


@pytest.mark.parametrize("tied", [True, False])
def test_large_input_paths_agree(tied):
    """n = 60,000 takes the hashing path when times are tied, the sorting path otherwise.

    Both must equal ``numpy.unique``'s answer; the curve must equal lifelines' (to 1e-6).
    """
    from lifelines import KaplanMeierFitter

    from bayes_bcsm.frequentist._ties import distinct_times

    rng = np.random.default_rng(7)
    t = rng.exponential(100.0, 60_000) + 1e-3
    if tied:
        t = np.ceil(t)
    e = rng.integers(0, 2, t.size)
    unique, inverse = distinct_times(t)
    ref_u, ref_i = np.unique(t, return_inverse=True)
    np.testing.assert_array_equal(unique, ref_u)
    np.testing.assert_array_equal(inverse, ref_i)
    km = kaplan_meier(t, e)
    assert km.table.shape[0] == ref_u.size
    kmf = KaplanMeierFitter().fit(t, e)
    ref = kmf.survival_function_.loc[km.time].iloc[:, 0].to_numpy()
    np.testing.assert_allclose(km.survival, ref, rtol=1e-6, atol=1e-12)


R_TOL = float(np.sqrt(np.finfo(float).eps))  # R: sqrt(.Machine$double.eps)


def _findq_scalar(x, y_surv, p, xmax, tol=R_TOL):
    """Literal port of R survival's ``findq`` (quantile.survfit.R) for one probability."""
    x = np.concatenate(([0.0], x))
    y = np.concatenate(([0.0], 1.0 - np.asarray(y_surv, dtype=float)))
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return np.nan
    # duplicated(y): keep first occurrences, NA counted once
    seen, keep = set(), []
    for i, v in enumerate(y):
        key = "NA" if np.isnan(v) else v
        if key not in seen:
            seen.add(key)
            keep.append(i)
    x, y = x[keep], y[keep]
    n = y.size

    def approx_const_f1(knot_x, level):
        ok = ~np.isnan(knot_x)
        kx, ky = knot_x[ok], np.arange(n)[ok]
        o = np.argsort(kx)
        kx, ky = kx[o], ky[o]
        if level < kx[0] or level > kx[-1]:
            return None
        return ky[np.flatnonzero(kx >= level)[0]]

    i1 = approx_const_f1(y + tol, p)
    i2 = approx_const_f1(y - tol, p)
    q = np.nan if i1 is None or i2 is None else (x[i1] + x[i2]) / 2
    if p == 0:
        q = x[0]
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol:
        q = np.nan if i1 is None else (x[i1] + xmax) / 2
    return q


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.sampled_from([1.0, 0.9, 0.75, 0.5, 0.4, 0.25, 0.0, np.nan]), min_size=1, max_size=12
    ),
    st.sampled_from([0.1, 0.25, 0.5, 0.6, 0.75, 1.0]),
)
def test_vectorised_quantile_rule_equals_r_findq_port(curve, prob):
    """The one-sort implementation equals a literal port of R's ``findq`` on arbitrary curves
    (non-monotone like a band, with exact duplicates, NaNs and flats at the quantile)."""
    from bayes_bcsm.frequentist.km import _r_quantile

    time = np.arange(1.0, len(curve) + 1.0)
    got = _r_quantile(time, np.asarray(curve), np.array([prob]), xmax=time[-1] + 0.5)[0]
    want = _findq_scalar(time, curve, prob, xmax=time[-1] + 0.5)
    assert (np.isnan(got) and np.isnan(want)) or got == want


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 25),
    st.integers(0, 2**32 - 1),
)
def test_kaplan_meier_rows_equals_kaplan_meier_of_each_row(rows, n, seed):
    """Integer times on a short range force ties between events, between censorings and
    across the two; the grid has points before, at and between the times, and beyond."""
    from bayes_bcsm.frequentist.km import kaplan_meier_rows

    rng = np.random.default_rng(seed)
    time = rng.integers(1, 6, size=(rows, n)).astype(float)
    event = rng.integers(0, 2, size=(rows, n))
    grid = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 3.2, 4.0, 5.0, 5.5, 9.0])
    got = kaplan_meier_rows(time, event, grid)
    for r in range(rows):
        expected = kaplan_meier(time[r], event[r]).survival_at(grid, extend=True)
        np.testing.assert_allclose(got[r], expected["survival"], rtol=1e-12, atol=1e-15)


def test_kaplan_meier_rows_equals_lifelines():
    from lifelines import KaplanMeierFitter

    from bayes_bcsm.frequentist.km import kaplan_meier_rows

    rng = np.random.default_rng(11)
    time = np.round(rng.exponential(10.0, size=(3, 40)), 0) + 1.0  # ties
    event = rng.integers(0, 2, size=(3, 40))
    grid = np.linspace(0.0, 60.0, 121)
    got = kaplan_meier_rows(time, event, grid)
    for r in range(3):
        fitter = KaplanMeierFitter().fit(time[r], event[r])
        expected = fitter.survival_function_at_times(grid).to_numpy()
        np.testing.assert_allclose(got[r], expected, rtol=1e-12)
