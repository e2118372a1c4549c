"""Prognostic metrics against their oracles: scikit-survival (Harrell's and Uno's C,
cumulative/dynamic AUC, Brier score, integrated Brier score), lifelines (Harrell's C, Breslow
survival, Cox calibration slope) and closed forms (calibration of simulated Weibull data).

scikit-survival and lifelines are test-only dependencies; the package never imports them. The
scikit-survival estimators are the same formulas evaluated by independent code, so they agree
to rounding (1e-8 asked by the issue; Harrell's C and lifelines to 1e-12).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index as lifelines_concordance
from sksurv import metrics as sk
from sksurv.util import Surv

from bayes_bcsm.frequentist import cox_ph
from bayes_bcsm.frequentist.breslow import breslow_survival
from bayes_bcsm.frequentist.brier import brier_score, integrated_brier_score
from bayes_bcsm.frequentist.concordance import (
    cumulative_dynamic_auc,
    harrell_concordance,
    harrell_difference,
    uno_concordance,
)
from bayes_bcsm.frequentist.horizon_calibration import calibration_at_horizon, calibration_slope
from bayes_bcsm.frequentist.ipcw import censoring_distribution
from bayes_bcsm.resources import bundled_file

TOL = 1e-8


@st.composite
def censored_with_ties(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer times (many ties, events and censorings at the same time), integer risks
    (ties), plus one patient censored after everyone: the censoring distribution stays
    positive at every event time, which scikit-survival requires."""
    n = draw(st.integers(8, 60))
    time = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), float)
    event = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    risk = np.array(draw(st.lists(st.integers(0, 4), min_size=n + 1, max_size=n + 1)), float)
    assume(event.sum() >= 2)
    return np.r_[time, 13.0], np.r_[event, 0], risk


def _y(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    return Surv.from_arrays(event.astype(bool), time)


@settings(max_examples=150, deadline=None)
@given(censored_with_ties(), st.integers(3, 12))
def test_concordances_match_scikit_survival_and_lifelines(data, tau) -> None:
    time, event, risk = data
    harrell = harrell_concordance(time, event, risk).estimate
    assert harrell == pytest.approx(
        sk.concordance_index_censored(event.astype(bool), time, risk)[0], abs=TOL
    )
    assert harrell == pytest.approx(lifelines_concordance(time, -risk, event), abs=1e-12)
    y = _y(time, event)
    assert uno_concordance(time, event, risk).estimate == pytest.approx(
        sk.concordance_index_ipcw(y, y, risk)[0], abs=TOL
    )
    assume((event[time < tau] == 1).any())
    assert uno_concordance(time, event, risk, tau=tau).estimate == pytest.approx(
        sk.concordance_index_ipcw(y, y, risk, tau=tau)[0], abs=TOL
    )


@settings(max_examples=150, deadline=None)
@given(censored_with_ties(), st.data())
def test_auc_and_brier_match_scikit_survival(data, draws) -> None:
    time, event, risk = data
    horizons = np.unique(draws.draw(st.lists(st.integers(1, 12), min_size=2, max_size=4)))
    assume(len(horizons) >= 2)
    for h in horizons:  # each horizon needs a case and a control
        assume(((time <= h) & (event == 1)).any() and (time > h).any())
    y = _y(time, event)
    expected_auc = sk.cumulative_dynamic_auc(y, y, risk, horizons)[0]
    got_auc = [m.estimate for m in cumulative_dynamic_auc(time, event, risk, horizons)]
    np.testing.assert_allclose(got_auc, expected_auc, atol=TOL, rtol=0)
    rng = np.random.default_rng(len(time))
    survival = np.sort(rng.uniform(size=(len(time), len(horizons))), axis=1)[:, ::-1]
    expected = sk.brier_score(y, y, survival, horizons)[1]
    got = [m.estimate for m in brier_score(time, event, survival, horizons)]
    np.testing.assert_allclose(got, expected, atol=TOL, rtol=0)
    assert integrated_brier_score(time, event, survival, horizons).estimate == pytest.approx(
        sk.integrated_brier_score(y, y, survival, horizons), abs=TOL
    )


@pytest.fixture(scope="module")
def gbsg2() -> tuple[pd.DataFrame, np.ndarray]:
    """GBSG2 with the standard covariates and our Cox linear predictor (time in days)."""
    frame = pd.read_csv(bundled_file("gbsg2.csv"))
    frame["hormone"] = (frame["horTh"] == "yes").astype(int)
    frame["post"] = (frame["menostat"] == "Post").astype(int)
    frame["grade3"] = (frame["tgrade"] == "III").astype(int)
    covariates = ["hormone", "age", "post", "tsize", "grade3", "pnodes", "progrec", "estrec"]
    fit = cox_ph(frame, "time", "cens", covariates)
    return frame, frame[covariates].to_numpy(float) @ fit.coef


def test_metrics_on_gbsg2_match_scikit_survival(gbsg2) -> None:
    frame, lp = gbsg2
    time, event = frame["time"].to_numpy(float), frame["cens"].to_numpy()
    y = _y(time, event)
    horizons = np.array([365.0, 730.0, 1825.0])
    assert harrell_concordance(time, event, lp).estimate == pytest.approx(
        sk.concordance_index_censored(event.astype(bool), time, lp)[0], abs=TOL
    )
    assert uno_concordance(time, event, lp, tau=1825).estimate == pytest.approx(
        sk.concordance_index_ipcw(y, y, lp, tau=1825)[0], abs=TOL
    )
    np.testing.assert_allclose(
        [m.estimate for m in cumulative_dynamic_auc(time, event, lp, horizons)],
        sk.cumulative_dynamic_auc(y, y, lp, horizons)[0],
        atol=TOL,
    )
    survival = breslow_survival(time, event, lp, lp, horizons)
    np.testing.assert_allclose(
        [m.estimate for m in brier_score(time, event, survival, horizons)],
        sk.brier_score(y, y, survival, horizons)[1],
        atol=TOL,
    )
    grid = np.linspace(100, 2000, 40)
    assert integrated_brier_score(
        time, event, breslow_survival(time, event, lp, lp, grid), grid
    ).estimate == pytest.approx(
        sk.integrated_brier_score(y, y, breslow_survival(time, event, lp, lp, grid), grid), abs=TOL
    )


def test_censoring_weights_from_other_data_match_scikit_survival(gbsg2) -> None:
    """Weights estimated on one set (the whole cohort), metrics on another (a test fold)."""
    frame, lp = gbsg2
    time, event = frame["time"].to_numpy(float), frame["cens"].to_numpy()
    fold = np.random.default_rng(1).permutation(len(time))[:150]
    g = censoring_distribution(time, event)
    y, y_fold = _y(time, event), _y(time[fold], event[fold])
    got = uno_concordance(time[fold], event[fold], lp[fold], tau=1500, censoring=g)
    assert got.estimate == pytest.approx(
        sk.concordance_index_ipcw(y, y_fold, lp[fold], tau=1500)[0], abs=TOL
    )
    horizons = np.array([500.0, 1000.0])
    auc = cumulative_dynamic_auc(time[fold], event[fold], lp[fold], horizons, censoring=g)
    np.testing.assert_allclose(
        [m.estimate for m in auc],
        sk.cumulative_dynamic_auc(y, y_fold, lp[fold], horizons)[0],
        atol=TOL,
    )


def test_jackknife_standard_errors_match_brute_force_leave_one_out(gbsg2) -> None:
    """The closed-form jackknife equals recomputing the estimate without each patient
    (scikit-survival's estimator on n - 1 patients; Uno's weights held fixed)."""
    frame, lp = gbsg2
    time, event = frame["time"].to_numpy(float)[:120], frame["cens"].to_numpy()[:120]
    risk = np.round(lp[:120], 1)  # ties
    n = len(time)
    keep = [np.arange(n) != k for k in range(n)]
    loo = np.array(
        [sk.concordance_index_censored(event[m].astype(bool), time[m], risk[m])[0] for m in keep]
    )
    expected = np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2))
    assert harrell_concordance(time, event, risk).se == pytest.approx(expected, rel=1e-9)
    weights = censoring_distribution(time, event).event_weights(time, event) ** 2
    loo = np.array(
        [
            sk._estimate_concordance_index(event[m].astype(bool), time[m], risk[m], weights[m])[0]
            for m in keep
        ]
    )
    expected = np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2))
    assert uno_concordance(time, event, risk).se == pytest.approx(expected, rel=1e-9)


def test_paired_difference_of_two_c_indices_matches_brute_force(gbsg2) -> None:
    """C(a) - C(b) and the jackknife SE of the paired difference, each leave-one-out value
    recomputed by scikit-survival."""
    frame, lp = gbsg2
    time, event = frame["time"].to_numpy(float)[:100], frame["cens"].to_numpy()[:100]
    a, b = lp[:100], frame["pnodes"].to_numpy(float)[:100]

    def c(m: np.ndarray, risk: np.ndarray) -> float:
        return sk.concordance_index_censored(event[m].astype(bool), time[m], risk[m])[0]

    everyone = np.ones(100, bool)
    loo = np.array([c(np.arange(100) != k, a) - c(np.arange(100) != k, b) for k in range(100)])
    expected_se = np.sqrt(99 / 100 * np.sum((loo - loo.mean()) ** 2))
    got = harrell_difference(time, event, a, b)
    assert got.estimate == pytest.approx(c(everyone, a) - c(everyone, b), abs=TOL)
    assert got.se == pytest.approx(expected_se, rel=1e-9)


def test_breslow_survival_matches_lifelines(gbsg2) -> None:
    """lifelines' ``predict_survival_function`` uses Breslow's baseline; the coefficients
    of the two fits agree to ~1e-9, hence the 1e-7 tolerance on S. The horizons are observed
    times, where lifelines does not interpolate linearly between steps."""
    frame, lp = gbsg2
    covariates = ["hormone", "age", "post", "tsize", "grade3", "pnodes", "progrec", "estrec"]
    oracle = CoxPHFitter().fit(
        frame[["time", "cens", *covariates]], "time", "cens", fit_options={"precision": 1e-12}
    )
    horizons = np.sort(frame["time"].to_numpy(float))[[50, 300, 600]]
    expected = oracle.predict_survival_function(frame[covariates].iloc[:20], times=horizons)
    time, event = frame["time"].to_numpy(float), frame["cens"].to_numpy()
    got = breslow_survival(time, event, lp, lp[:20], horizons)
    np.testing.assert_allclose(got, expected.to_numpy().T, atol=1e-7)


def _weibull_cohort(n: int, seed: int) -> dict[str, np.ndarray]:
    """Weibull PH data (shape 1.3, scale 20 months), two normal covariates, uniform censoring."""
    rng = np.random.default_rng(seed)
    eta = rng.normal(size=(n, 2)) @ np.array([0.8, -0.5])
    latent = 20.0 * (-np.log(rng.uniform(size=n)) / np.exp(eta)) ** (1 / 1.3)
    censor = rng.uniform(0, 60, n)
    return {"time": np.minimum(latent, censor), "event": (latent <= censor).astype(int), "eta": eta}


def _weibull_survival(t: np.ndarray | float, eta: np.ndarray, factor: float = 1.0) -> np.ndarray:
    return np.exp(-factor * (np.asarray(t) / 20.0) ** 1.3 * np.exp(eta))


def test_calibration_of_a_correct_and_of_an_overfitted_weibull_model() -> None:
    """n = 5000: the true model's slope is within 0.05 of 1 (SE ~ 0.024) and its intercept
    within 3 SE of 0; doubling the linear predictor gives a slope near 1/2; doubling the
    cumulative hazard gives the intercept log(O/E) = -log 2."""
    d = _weibull_cohort(5000, seed=3)
    t0 = 24.0
    stop = np.minimum(d["time"], t0)
    true = calibration_at_horizon(
        d["time"],
        d["event"],
        _weibull_survival(t0, d["eta"]),
        _weibull_survival(stop, d["eta"]),
        t0,
        n_groups=5,
    )
    assert abs(true.slope.estimate - 1) < 0.05
    assert abs(true.intercept.estimate) < 3 * true.intercept.se
    np.testing.assert_allclose(true.groups["observed"], true.groups["predicted"], atol=0.04)
    curve = true.curve
    np.testing.assert_allclose(curve["observed"], curve["predicted"], atol=0.03)
    doubled = calibration_slope(d["time"], d["event"], _weibull_survival(t0, 2 * d["eta"]), t0)
    assert abs(doubled.estimate - 0.5) < 0.05
    twice_hazard = calibration_at_horizon(
        d["time"],
        d["event"],
        _weibull_survival(t0, d["eta"], 2.0),
        _weibull_survival(stop, d["eta"], 2.0),
        t0,
    )
    assert abs(twice_hazard.intercept.estimate + np.log(2)) < 3 * twice_hazard.intercept.se


def test_calibration_slope_is_the_cox_coefficient_lifelines_finds() -> None:
    d = _weibull_cohort(400, seed=5)
    t0 = 12.0
    predicted = _weibull_survival(t0, 0.7 * d["eta"])
    frame = pd.DataFrame(
        {
            "time": np.minimum(d["time"], t0),
            "event": d["event"] * (d["time"] <= t0),
            "c": np.log(-np.log(predicted)),
        }
    )
    oracle = CoxPHFitter().fit(frame, "time", "event", fit_options={"precision": 1e-12})
    got = calibration_slope(d["time"], d["event"], predicted, t0)
    assert got.estimate == pytest.approx(oracle.params_["c"], abs=1e-6)
    assert got.se == pytest.approx(oracle.standard_errors_["c"], rel=1e-5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t, e, r: cumulative_dynamic_auc(t, e, r, [100.0]), "within the follow-up"),
        (lambda t, e, r: brier_score(t, e, np.full((len(t), 1), 0.5), [0.5]), "within the"),
        (lambda t, e, r: brier_score(t, e, np.full((len(t), 2), 0.5), [3, 2]), "increasing"),
        (lambda t, e, r: integrated_brier_score(t, e, np.full((len(t), 1), 0.5), [3]), "two"),
        (lambda t, e, r: harrell_concordance(t, e, r[:-1]), "finite values"),
    ],
)
def test_bad_horizons_and_shapes_are_refused(call, message) -> None:
    time = np.array([1.0, 2, 3, 4, 5, 6])
    event = np.array([1, 0, 1, 1, 0, 1])
    with pytest.raises(ValueError, match=message):
        call(time, event, np.arange(6.0))
