"""Estimators on (start, stop] data and delayed entry against oracles (issue 21).

Sources of the expected values:

- lifelines 0.30 on its bundled Stanford heart-transplant data (Crowley & Hu 1977; 172
  (start, stop] rows, 103 patients, times in days): ``CoxTimeVaryingFitter`` (Efron ties) for
  the time-dependent Cox model, ``CoxPHFitter`` for the naive "ever transplanted" coding,
  ``WeibullAFTFitter(entry_col=...)`` for the Weibull with delayed entry,
  ``KaplanMeierFitter(entry=...)`` for the delayed-entry Kaplan-Meier curve. Tolerances are
  the issue's (Cox 1e-6 relative, KM 1e-10, Weibull 1e-4 relative); both sides converge far
  tighter (Newton to 1e-9 in the log-likelihood).
- The issue's printed figures (lifelines): time-dependent transplant coef -0.0103, SE 0.3138;
  naive HR 0.18 (coef -1.70), compared at their printed precision.
- Brute-force computations written in this file from the definitions (risk set at t: the rows
  with start < t <= stop, in the event's stratum), with loops over event times and pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from bayes_bcsm.data.design import DesignError
from bayes_bcsm.frequentist import SurvivalInputError, cox_ph, kaplan_meier, logrank_test
from bayes_bcsm.frequentist._partial_likelihood import CoxEngine, evaluate
from bayes_bcsm.frequentist.concordance import concordance_index
from bayes_bcsm.models.likelihood import (
    survival_log_density,
    weibull_cumulative_hazard,
    weibull_log_hazard,
)

COVARIATES = ["age", "year", "surgery", "transplant"]


@pytest.fixture(scope="module")
def stanford() -> pd.DataFrame:
    from lifelines.datasets import load_stanford_heart_transplants

    return load_stanford_heart_transplants()


@pytest.fixture(scope="module")
def naive(stanford) -> pd.DataFrame:
    """One row per patient, transplant coded 'ever transplanted' at acceptance (the
    immortal-time error): follow-up from acceptance to the last stop."""
    return stanford.groupby("id").agg(
        time=("stop", "max"),
        event=("event", "max"),
        age=("age", "first"),
        year=("year", "first"),
        surgery=("surgery", "first"),
        transplant=("transplant", "max"),
    )


# --------------------------------------------------------------------------- Cox, oracles
def test_cox_on_stanford_start_stop_equals_lifelines_time_varying(stanford):
    from lifelines import CoxTimeVaryingFitter

    ctv = CoxTimeVaryingFitter().fit(
        stanford, id_col="id", event_col="event", start_col="start", stop_col="stop"
    )
    fit = cox_ph(stanford, "stop", "event", COVARIATES, entry="start")
    assert fit.columns == tuple(COVARIATES)
    assert (fit.n, fit.n_events) == (172, 75)
    np.testing.assert_allclose(fit.coef, ctv.params_[COVARIATES], rtol=1e-6)
    np.testing.assert_allclose(fit.se, ctv.standard_errors_[COVARIATES], rtol=1e-6)
    np.testing.assert_allclose(fit.loglik, ctv.log_likelihood_, rtol=1e-9)
    lr = ctv.log_likelihood_ratio_test()
    np.testing.assert_allclose(fit.lr_test.statistic, lr.test_statistic, rtol=1e-6)
    assert fit.lr_test.df == lr.degrees_freedom == 4
    # the printed figures for the transplant effect (age, year, surgery adjusted)
    transplant = fit.summary.set_index("covariate").loc["transplant"]
    assert round(transplant["coef"], 4) == -0.0103
    assert round(transplant["se"], 4) == 0.3138


def test_naive_ever_transplanted_cox_equals_lifelines_and_the_printed_hr(naive):
    from lifelines import CoxPHFitter

    oracle = CoxPHFitter().fit(naive[["time", "event", *COVARIATES]], "time", "event")
    fit = cox_ph(naive, "time", "event", COVARIATES)
    np.testing.assert_allclose(fit.coef, oracle.params_[COVARIATES], rtol=1e-6)
    np.testing.assert_allclose(fit.se, oracle.standard_errors_[COVARIATES], rtol=1e-6)
    transplant = fit.summary.set_index("covariate").loc["transplant"]
    assert round(transplant["coef"], 2) == -1.70
    assert round(transplant["hr"], 2) == 0.18


# ---------------------------------------------------------------- Cox, brute force
def brute_cox(start, stop, event, X, strata, beta, ties, time_weight=None):
    """Log partial likelihood, score and information from the definitions, looping over
    strata and event times; Efron's k-th tied event sees S - (k/d) * (sum over the tied
    deaths) (Therneau & Grambsch 2000, section 3.3). ``time_weight(t, stratum)`` weights
    each event time's score and information terms (as the Schoenfeld test needs)."""
    p = X.shape[1]
    loglik, score, info = 0.0, np.zeros(p), np.zeros((p, p))
    for s in np.unique(strata):
        for t in np.unique(stop[(event == 1) & (strata == s)]):
            risk = (strata == s) & (start < t) & (stop >= t)
            dead = risk & (stop == t) & (event == 1)
            sums = []
            for rows in (risk, dead):
                w = np.exp(X[rows] @ beta)
                sums.append((w.sum(), w @ X[rows], (X[rows] * w[:, None]).T @ X[rows]))
            (S0, S1, S2), (D0, D1, D2) = sums
            d = int(dead.sum())
            tw = 1.0 if time_weight is None else time_weight(t, s)
            loglik += X[dead].sum(axis=0) @ beta
            score += tw * X[dead].sum(axis=0)
            for k in range(d):
                f = k / d if ties == "efron" else 0.0
                den = S0 - f * D0
                m1 = (S1 - f * D1) / den
                loglik -= np.log(den)
                score -= tw * m1
                info += tw * ((S2 - f * D2) / den - np.outer(m1, m1))
    return loglik, score, info


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("stratified", [False, True])
def test_cox_engine_and_tests_equal_the_definitions(stanford, ties, stratified):
    start, stop, event = (stanford[c].to_numpy(float) for c in ("start", "stop", "event"))
    strata = stanford["surgery"].to_numpy() if stratified else np.zeros(len(stop), int)
    covariates = [c for c in COVARIATES if not (stratified and c == "surgery")]
    Xc = stanford[covariates].to_numpy(float)
    engine = CoxEngine(stop, event, Xc, strata if stratified else None, ties, start)
    group_time = engine.time_group[engine.egroups]
    group_stratum = engine.s[engine.starts][engine.egroups]

    def weight(t, stratum):
        return np.log(t) + 2.0 * stratum

    for beta in (np.zeros(len(covariates)), np.linspace(-0.4, 0.3, len(covariates)) / 10):
        got = evaluate(engine, beta)
        want = brute_cox(start, stop, event, Xc, strata, beta, ties)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
        # time-weighted score and information (the Schoenfeld test's ingredients)
        got = evaluate(engine, beta, time_weights=weight(group_time, group_stratum))[1:]
        want = brute_cox(start, stop, event, Xc, strata, beta, ties, weight)[1:]
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    fit = cox_ph(
        stanford,
        "stop",
        "event",
        covariates,
        ties=ties,
        strata="surgery" if stratified else None,
        entry="start",
    )
    l0, u0, i0 = brute_cox(start, stop, event, Xc, strata, np.zeros(len(covariates)), ties)
    l1, u1, i1 = brute_cox(start, stop, event, Xc, strata, fit.coef, ties)
    np.testing.assert_allclose(u1, 0.0, atol=1e-6)  # a maximum of the true likelihood
    np.testing.assert_allclose(fit.score_test.statistic, u0 @ np.linalg.solve(i0, u0), rtol=1e-9)
    np.testing.assert_allclose(fit.lr_test.statistic, 2 * (l1 - l0), rtol=1e-9)
    np.testing.assert_allclose(fit.wald_test.statistic, fit.coef @ i1 @ fit.coef, rtol=1e-6)
    np.testing.assert_allclose(fit.se, np.sqrt(np.diag(np.linalg.inv(i1))), rtol=1e-6)


def test_firth_on_start_stop_data_is_the_maximum_of_the_penalised_definition(stanford):
    """Firth's estimate maximises l(beta) + 0.5 log det I(beta) (Heinze & Schemper 2001) with
    l and I from the definitions: the Newton step of that objective (gradient by central
    differences, h = 1e-5, error ~1e-9 in the gradient) is negligible there."""
    start, stop, event = (stanford[c].to_numpy(float) for c in ("start", "stop", "event"))
    X = stanford[COVARIATES].to_numpy(float)
    strata = np.zeros(len(stop), int)
    fit = cox_ph(stanford, "stop", "event", COVARIATES, entry="start", penalty="firth")

    def penalised(beta):
        loglik, _, info = brute_cox(start, stop, event, X, strata, beta, "efron")
        return loglik + 0.5 * np.linalg.slogdet(info)[1]

    h = 1e-5
    grad = np.array(
        [(penalised(fit.coef + h * e) - penalised(fit.coef - h * e)) / (2 * h) for e in np.eye(4)]
    )
    info = brute_cox(start, stop, event, X, strata, fit.coef, "efron")[2]
    assert np.max(np.abs(np.linalg.solve(info, grad))) < 1e-6
    assert np.all(fit.ci[:, 0] < fit.hazard_ratio) and np.all(fit.hazard_ratio < fit.ci[:, 1])


def test_concordance_on_start_stop_data_counts_pairs_in_the_risk_set(stanford):
    """Brute force: each event is compared with every other row at risk at its time
    (start < t <= stop); rows with an event at the same time are not comparable."""
    start, stop, event = (stanford[c].to_numpy(float) for c in ("start", "stop", "event"))
    risk = cox_ph(stanford, "stop", "event", COVARIATES, entry="start").linear_predictor
    conc = disc = tie = 0.0
    for i in np.flatnonzero(event == 1):
        t = stop[i]
        others = (start < t) & (stop >= t) & ~((stop == t) & (event == 1))
        r = np.round(risk[others], 10)
        ri = np.round(risk[i], 10)
        conc += np.sum(r < ri)
        disc += np.sum(r > ri)
        tie += np.sum(r == ri)
    want = (conc + tie / 2) / (conc + disc + tie)
    got = concordance_index(stop, event, risk, entry=start)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    fit = cox_ph(stanford, "stop", "event", COVARIATES, entry="start")
    np.testing.assert_allclose(fit.concordance, want, rtol=1e-12)


# ------------------------------------------------------------------- Kaplan-Meier
def _delayed_entry_sample(seed: int = 3, n: int = 300) -> tuple[np.ndarray, ...]:
    """Continuous times (no entry equal to an exit time: lifelines' and R's conventions for
    such ties differ)."""
    rng = np.random.default_rng(seed)
    entry = rng.uniform(0, 5, n) * rng.integers(0, 2, n)  # half enter at 0
    latent = rng.weibull(1.3, n) * 10
    keep = latent > entry  # left truncation: only those alive at entry are observed
    entry, latent = entry[keep], latent[keep]
    censor = entry + rng.exponential(12, len(entry))
    time = np.minimum(latent, censor)
    return entry, time, (latent <= censor).astype(int), rng.integers(0, 2, len(entry))


def test_kaplan_meier_with_delayed_entry_equals_lifelines():
    from lifelines import KaplanMeierFitter

    entry, time, event, _ = _delayed_entry_sample()
    km = kaplan_meier(time, event, conf_type="log-log", entry=entry)
    oracle = KaplanMeierFitter().fit(time, event, entry=entry)
    sf = oracle.survival_function_.iloc[:, 0]
    ci = oracle.confidence_interval_
    np.testing.assert_allclose(km.survival, sf.loc[km.time], rtol=1e-10, atol=1e-10)
    positive = km.survival > 0
    np.testing.assert_allclose(
        km.table["lower"][positive], ci.iloc[:, 0].loc[km.time[positive]], rtol=1e-10
    )
    np.testing.assert_allclose(
        km.table["upper"][positive], ci.iloc[:, 1].loc[km.time[positive]], rtol=1e-10
    )
    np.testing.assert_array_equal(
        km.table["at_risk"], oracle.event_table["at_risk"].loc[km.time].to_numpy()
    )


def test_kaplan_meier_entry_at_an_event_time_is_not_at_risk_then():
    """(start, stop] convention, by hand: rows (0, 2] death, (0, 4] death, (2, 5] censored,
    (3, 6] death. At t = 2 the row entering at 2 is not at risk: n = 2, S = 1/2; at t = 4 the
    risk set is (0, 4], (2, 5], (3, 6]: S = 1/2 * 2/3 = 1/3; at t = 6: n = 1, S = 0."""
    km = kaplan_meier([2, 4, 5, 6], [1, 1, 0, 1], entry=[0, 0, 2, 3])
    np.testing.assert_array_equal(km.table["at_risk"], [2, 3, 2, 1])
    np.testing.assert_allclose(km.survival, [1 / 2, 1 / 3, 1 / 3, 0.0], rtol=1e-15)


# ------------------------------------------------------------------------ log-rank
def brute_logrank(start, stop, event, group, strata, rho):
    """O, E, V from the definitions (risk sets start < t <= stop per stratum, weight the
    pooled delayed-entry KM just before t to the power rho)."""
    levels = np.unique(group)
    k = len(levels)
    obs, expct, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for s in np.unique(strata):
        surv = 1.0
        for t in np.unique(stop[(strata == s)]):
            risk = (strata == s) & (start < t) & (stop >= t)
            dead = risk & (stop == t) & (event == 1)
            n, d = risk.sum(), dead.sum()
            if d:
                w = surv**rho
                ng = np.array([np.sum(risk & (group == g)) for g in levels])
                dg = np.array([np.sum(dead & (group == g)) for g in levels])
                obs += w * dg
                expct += w * d * ng / n
                if n > 1:
                    var += (
                        w**2 * d * (n - d) / (n - 1) * (np.diag(ng / n) - np.outer(ng, ng) / n**2)
                    )
                surv *= 1 - d / n
    return obs, expct, var


@pytest.mark.parametrize("rho", [0.0, 1.0])
@pytest.mark.parametrize("stratified", [False, True])
def test_logrank_with_delayed_entry_equals_the_definitions(rho, stratified):
    rng = np.random.default_rng(8)
    n = 150
    entry = rng.integers(0, 4, n).astype(float)  # entries tie with exit times
    time = entry + rng.integers(1, 15, n)
    event = rng.integers(0, 2, n)
    group = rng.choice(["a", "b", "c"], n)
    strata = rng.integers(0, 2, n) if stratified else np.zeros(n, int)
    res = logrank_test(
        time, event, group, rho=rho, strata=strata if stratified else None, entry=entry
    )
    obs, expct, var = brute_logrank(entry, time, event, group, strata, rho)
    np.testing.assert_allclose(res.observed, obs, rtol=1e-12)
    np.testing.assert_allclose(res.expected, expct, rtol=1e-12)
    np.testing.assert_allclose(res.variance, var, rtol=1e-12, atol=1e-12)
    diff = (obs - expct)[1:]
    want = diff @ np.linalg.solve(var[1:, 1:], diff)
    np.testing.assert_allclose(res.statistic, want, rtol=1e-10)


# -------------------------------------------------------------- Weibull, delayed entry
def weibull_mle(start, stop, event, X, s):
    """Maximise the package's numpy Weibull log-likelihood with the start term (flat priors:
    the posterior mode is the MLE), parameters (log_alpha, log_lambda, beta)."""

    def negloglik(theta):
        eta = X @ theta[2:]
        lh = weibull_log_hazard(stop, theta[0], theta[1], eta, s, xp=np)
        ch = weibull_cumulative_hazard(stop, theta[0], theta[1], eta, s, xp=np, entry=start)
        return -np.sum(survival_log_density(event, lh, ch))

    x0 = np.zeros(2 + X.shape[1])
    x0[1] = np.log(event.sum() / np.sum((stop - start) / s))
    res = optimize.minimize(negloglik, x0, method="BFGS", options={"gtol": 1e-8})
    assert np.max(np.abs(res.jac)) < 1e-4, res.message  # at the maximum (FD gradient)
    return res.x


@pytest.mark.parametrize("data", ["stanford", "simulated"])
def test_weibull_with_delayed_entry_equals_lifelines_aft_on_the_ph_scale(stanford, data):
    """lifelines: S(t | x) = exp(-(t / lambda(x)) ** rho), lambda(x) = exp(b0 + x b). On the
    PH scale (Kalbfleisch & Prentice 2002, 2.3.4): alpha = rho, beta = -rho b and
    log lambda_PH = -rho (b0 - log s)."""
    from lifelines import WeibullAFTFitter

    if data == "stanford":
        frame = stanford[["start", "stop", "event", *COVARIATES]]
        covariates = COVARIATES
    else:
        entry, time, event, x = _delayed_entry_sample()
        frame = pd.DataFrame({"start": entry, "stop": time, "event": event, "x": x})
        covariates = ["x"]
    s = 30.0
    aft = WeibullAFTFitter().fit(frame, "stop", "event", entry_col="start")
    rho = float(np.exp(aft.params_.loc[("rho_", "Intercept")]))
    b = aft.params_.loc["lambda_"]
    theta = weibull_mle(
        *(frame[c].to_numpy(float) for c in ("start", "stop", "event")),
        frame[covariates].to_numpy(float),
        s,
    )
    np.testing.assert_allclose(np.exp(theta[0]), rho, rtol=1e-4)
    np.testing.assert_allclose(theta[1], -rho * (b["Intercept"] - np.log(s)), rtol=1e-4)
    np.testing.assert_allclose(theta[2:], -rho * b[covariates].to_numpy(), rtol=1e-4)


# ------------------------------------------------------------------- validation
def test_entry_errors_name_the_positions():
    with pytest.raises(SurvivalInputError, match=r"entry must be < time .*position\(s\) 1 "):
        kaplan_meier([3.0, 2.0], [1, 0], entry=[0.0, 2.0])
    with pytest.raises(SurvivalInputError, match=r"entry must be >= 0: .*position\(s\) 0 "):
        logrank_test([3.0, 2.0], [1, 0], ["a", "b"], entry=[-1.0, 0.0])
    with pytest.raises(SurvivalInputError, match="entry must be finite"):
        kaplan_meier([3.0, 2.0], [1, 0], entry=[np.inf, 0.0])
    with pytest.raises(SurvivalInputError, match="entry and time must have the same length"):
        kaplan_meier([3.0, 2.0], [1, 0], entry=[0.0])
    with pytest.raises(SurvivalInputError, match=r"missing value .*in entry"):
        logrank_test([3.0, 2.0], [1, 0], ["a", "b"], entry=[np.nan, 0.0])
    km = kaplan_meier([3.0, 2.0, 4.0], [1, 0, 1], entry=[np.nan, 0.0, 1.0], dropna=True)
    assert (km.n, km.n_excluded) == (2, 1)


def test_cox_entry_column_errors_name_the_column_and_row(stanford):
    bad = stanford.assign(start=stanford["start"].where(stanford.index != 5, 50.0))
    with pytest.raises(DesignError, match=r"column 'start' must be < 'stop'.*index 5 .*start = 50"):
        cox_ph(bad, "stop", "event", COVARIATES, entry="start")
    bad = stanford.assign(start=stanford["start"].where(stanford.index != 7, -1.0))
    with pytest.raises(DesignError, match=r"column 'start' must be >= 0.*index 7"):
        cox_ph(bad, "stop", "event", COVARIATES, entry="start")
    with pytest.raises(DesignError, match=r"unknown column\(s\) \['begin'\]"):
        cox_ph(stanford, "stop", "event", COVARIATES, entry="begin")
