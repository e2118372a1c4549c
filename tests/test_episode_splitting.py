"""Episode-splitting identity (issue 21): splitting follow-up into (start, stop] is neutral.

A patient followed on (0, T] with event indicator d, covariates unchanged, is the same data as
the episodes (0, c1], (c1, c2], ..., (ck, T] with the event on the last one: each estimator
that sees the risk set from entry (Cox's partial likelihood with Efron and Breslow ties, the
Kaplan-Meier curve, the log-rank test) and each parametric likelihood with the start term
delta log h(stop) - [H(stop) - H(start)] must give the same value. Expected values are the
unsplit (right-censored) computations, which the rest of the suite pins against R and
lifelines; the tolerance is the issue's 1e-10 (rounding of sums of a few hundred terms is
~1e-13). Integer times make ties common, and cut points are drawn among the integers too, so
splits fall on other patients' event times.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_bcsm.frequentist import cox_ph, cox_zph, kaplan_meier, logrank_test
from bayes_bcsm.frequentist._partial_likelihood import CoxEngine, evaluate
from bayes_bcsm.models.likelihood import (
    exposure_matrix,
    interval_onehot,
    piecewise_cumulative_hazard,
    piecewise_log_hazard,
    survival_log_density,
    weibull_cumulative_hazard,
    weibull_log_hazard,
)

TOL = {"rtol": 1e-10, "atol": 1e-10}
CUTS = (2.5, 6.0, 9.0)


def split(time, event, cuts_per_patient):
    """Episodes (patient index, start, stop, event) of patients cut at the given times."""
    rows = []
    for i, (t, d, cuts) in enumerate(zip(time, event, cuts_per_patient, strict=True)):
        edges = [0.0, *sorted({c for c in cuts if 0 < c < t}), float(t)]
        for k, (a, b) in enumerate(itertools.pairwise(edges)):
            rows.append((i, a, b, d if k == len(edges) - 2 else 0))
    ep = np.array(rows, dtype=float)
    return ep[:, 0].astype(int), ep[:, 1], ep[:, 2], ep[:, 3]


@st.composite
def cohorts(draw):
    n = draw(st.integers(2, 16))
    time = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), float)
    event = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), float)
    event[0] = 1.0  # at least one event
    X = np.array(draw(st.lists(st.floats(-2, 2), min_size=2 * n, max_size=2 * n))).reshape(n, 2)
    strata = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    cut = st.one_of(st.integers(1, 11).map(float), st.floats(0.01, 11.99))
    cuts = [draw(st.lists(cut, max_size=3)) for _ in range(n)]
    return time, event, X, strata, cuts


@settings(max_examples=60, deadline=None)
@given(cohorts(), st.lists(st.floats(-1, 1), min_size=2, max_size=2))
def test_cox_partial_likelihood_score_and_information(cohort, beta):
    time, event, X, strata, cuts = cohort
    pid, start, stop, ev = split(time, event, cuts)
    beta = np.array(beta)
    for ties in ("efron", "breslow"):
        for s in (None, strata):
            whole = evaluate(CoxEngine(time, event, X, s, ties), beta)
            pieces = evaluate(
                CoxEngine(stop, ev, X[pid], None if s is None else s[pid], ties, start), beta
            )
            for a, b in zip(whole, pieces, strict=True):
                np.testing.assert_allclose(b, a, **TOL)


@settings(max_examples=60, deadline=None)
@given(
    cohorts(),
    st.floats(-0.7, 0.7),
    st.floats(-3, 1),
    st.lists(st.floats(-1, 1), min_size=2, max_size=2),
    st.lists(st.floats(-3, 1), min_size=4, max_size=4),
)
def test_weibull_exponential_and_piecewise_log_likelihoods(
    cohort, log_alpha, log_lambda, beta, log_rate
):
    time, event, X, _, cuts = cohort
    pid, start, stop, ev = split(time, event, cuts)
    eta = X @ np.array(beta)
    for la in (log_alpha, 0.0):  # Weibull, exponential
        whole = survival_log_density(
            event,
            weibull_log_hazard(time, la, log_lambda, eta, 12.0, xp=np),
            weibull_cumulative_hazard(time, la, log_lambda, eta, 12.0, xp=np),
        ).sum()
        pieces = survival_log_density(
            ev,
            weibull_log_hazard(stop, la, log_lambda, eta[pid], 12.0, xp=np),
            weibull_cumulative_hazard(stop, la, log_lambda, eta[pid], 12.0, xp=np, entry=start),
        ).sum()
        np.testing.assert_allclose(pieces, whole, **TOL)
    rate = np.array(log_rate)
    whole = survival_log_density(
        event,
        piecewise_log_hazard(interval_onehot(time, CUTS), rate, eta, 12.0),
        piecewise_cumulative_hazard(exposure_matrix(time, CUTS), rate, eta, 12.0, xp=np),
    ).sum()
    pieces = survival_log_density(
        ev,
        piecewise_log_hazard(interval_onehot(stop, CUTS), rate, eta[pid], 12.0),
        piecewise_cumulative_hazard(
            exposure_matrix(stop, CUTS, entry=start), rate, eta[pid], 12.0, xp=np
        ),
    ).sum()
    np.testing.assert_allclose(pieces, whole, **TOL)


@settings(max_examples=60, deadline=None)
@given(cohorts())
def test_kaplan_meier_curve_and_log_rank(cohort):
    time, event, _, strata, cuts = cohort
    pid, start, stop, ev = split(time, event, cuts)
    whole = kaplan_meier(time, event)
    pieces = kaplan_meier(stop, ev, entry=start)
    grid = np.unique(np.r_[time, stop, stop - 0.5])
    a, b = whole.survival_at(grid), pieces.survival_at(grid)
    for column in ("survival", "se", "lower", "upper"):
        np.testing.assert_allclose(b[column], a[column], **TOL)
    at_events = whole.table[whole.table["events"] > 0]
    same = pieces.table.set_index("time").loc[at_events["time"]]
    np.testing.assert_array_equal(same["at_risk"], at_events["at_risk"])
    if len(np.unique(strata)) == 2:
        for rho in (0.0, 1.0):
            lr_whole = logrank_test(time, event, strata, rho=rho)
            lr_pieces = logrank_test(stop, ev, strata[pid], rho=rho, entry=start)
            np.testing.assert_allclose(lr_pieces.statistic, lr_whole.statistic, **TOL)
            np.testing.assert_allclose(lr_pieces.variance, lr_whole.variance, **TOL)


def _seeded_cohort_and_episodes(seed: int = 7, n: int = 120):
    rng = np.random.default_rng(seed)
    wide = pd.DataFrame(
        {
            "id": np.arange(n),
            "time": np.ceil(rng.exponential(20, n)),  # whole months: ties
            "event": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
            "group": rng.choice(["a", "b", "c"], n),
            "site": rng.integers(0, 2, n),
        }
    )
    cuts = [rng.uniform(0, t, rng.integers(0, 4)).round(1) for t in wide["time"]]
    pid, start, stop, ev = split(wide["time"].to_numpy(), wide["event"].to_numpy(), cuts)
    long = wide.iloc[pid].reset_index(drop=True).assign(start=start, time=stop, event=ev)
    return wide, long


def test_fitted_cox_models_tests_concordance_and_zph_are_unchanged():
    """Public API: every number of a Cox fit (Efron / Breslow, strata, Firth) is the same on
    the split data; Newton starts at 0 and takes the same steps on the same function."""
    wide, long = _seeded_cohort_and_episodes()
    covariates = ["x", "group"]
    for kwargs in (
        {"ties": "efron"},
        {"ties": "breslow"},
        {"strata": "site"},
        {"penalty": "firth"},
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            a = cox_ph(wide, "time", "event", covariates, **kwargs)
            b = cox_ph(long, "time", "event", covariates, entry="start", **kwargs)
        for name in ("coef", "se", "ci", "p_value", "loglik", "loglik_null", "concordance"):
            np.testing.assert_allclose(getattr(b, name), getattr(a, name), **TOL, err_msg=name)
        for test in ("lr_test", "wald_test", "score_test"):
            np.testing.assert_allclose(
                getattr(b, test).statistic, getattr(a, test).statistic, **TOL, err_msg=test
            )
        if kwargs.get("penalty") is None:
            za, zb = cox_zph(a), cox_zph(b)
            np.testing.assert_allclose(zb.table[["chisq", "p"]], za.table[["chisq", "p"]], **TOL)
            np.testing.assert_allclose(zb.residuals, za.residuals, **TOL)
