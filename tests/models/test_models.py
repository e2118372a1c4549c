"""Model construction, priors, and the exact marginalisation of a missing covariate.

Reference values: closed forms (normal quantiles, the log-F density of Greenland &
Mansournia 2015, numerical integration) and a brute-force sum over every completion of
the missing covariate.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import integrate, special, stats

from bayes_bcsm.data.design import build_design
from bayes_bcsm.models import (
    OBSERVED,
    BaselineSpec,
    PriorError,
    PriorSpec,
    build_design_with_missing,
    exponential_model,
    piecewise_model,
    weibull_model,
)
from bayes_bcsm.models.likelihood import survival_log_density
from bayes_bcsm.models.priors import log_f_logpdf
from bayes_bcsm.models.simulate import simulate_frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return simulate_frame(np.random.default_rng(5), 40, [0.5, -0.3, 0.2])


def _pointwise(sm, point):
    fn = sm.model.compile_fn(sm.model.logp(vars=[sm.model[OBSERVED]], sum=False)[0])
    return fn(point)


def test_normal_default_prior_mass():
    """Normal(0, 1): 95 % of prior mass for HR in exp(±1.96) ≈ 1/7 .. 7."""
    lo, hi = np.exp(stats.norm.ppf([0.025, 0.975]))
    assert 1 / 7.2 < lo < 1 / 7 and 7 < hi < 7.2
    assert PriorSpec().scale == 1.0


def test_sceptical_prior_tail():
    spec = PriorSpec(family="sceptical")
    assert stats.norm(0, spec.sceptical_sd).sf(np.log(2)) == pytest.approx(0.05)


def test_log_f_density():
    """log-F(1,1) integrates to 1 and matches the Beta construction (logit of Beta(1/2, 1/2))."""
    total, _ = integrate.quad(lambda b: np.exp(log_f_logpdf(b, 1.0)), -60, 60)
    assert total == pytest.approx(1.0, abs=1e-6)
    b = np.linspace(-5, 5, 11)
    u = special.expit(b)
    via_beta = stats.beta(0.5, 0.5).logpdf(u) + np.log(u * (1 - u))
    np.testing.assert_allclose(log_f_logpdf(b, 1.0), via_beta, rtol=1e-10)


@pytest.mark.parametrize("family", ["normal", "student_t", "sceptical", "log_f", "horseshoe"])
def test_every_prior_builds(frame, family):
    design = build_design(frame, ["x1", "x2", "x3"])
    sm = weibull_model(design, PriorSpec(family=family))
    assert sm.model["beta"].eval().shape == (3,) or family == "horseshoe"
    assert tuple(sm.model.coords["covariate"]) == ("x1", "x2", "x3")


def test_log_f_prior_logp_matches_closed_form(frame):
    design = build_design(frame, ["x1"])
    sm = weibull_model(design, PriorSpec(family="log_f", scale=1.0))
    value = np.array([0.7])
    got = pm.logp(sm.model["beta"], value).eval()
    # pytensor's gammaln/log1pexp are accurate to ~1e-8 relative, hence the tolerance
    np.testing.assert_allclose(got, log_f_logpdf(value, 1.0), rtol=1e-6)


def test_invalid_specs():
    with pytest.raises(PriorError, match=r"family='laplace': expected one of normal"):
        PriorSpec(family="laplace")
    with pytest.raises(PriorError, match="scale"):
        PriorSpec(scale=0)
    with pytest.raises(PriorError, match="together"):
        BaselineSpec(gamma_shape=1.0)


def test_model_loglik_is_per_patient_and_matches_formula(frame):
    """The observed variable gives one value per patient equal to delta log h - H."""
    design = build_design(frame, ["x1", "x2"])
    sm = weibull_model(design)
    point = {"log_alpha": 0.2, "log_lambda": -0.5, "beta": np.array([0.3, -0.1])}
    got = _pointwise(sm, point)
    assert got.shape == (design.n,)
    eta = design.X @ point["beta"]
    scale = 12.0 * np.exp(-(-0.5 + eta) / np.exp(0.2))
    dist = stats.weibull_min(c=np.exp(0.2), scale=scale)
    want = np.where(design.event == 1, dist.logpdf(design.time), dist.logsf(design.time))
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_aft_model_equals_ph_model_pointwise(frame):
    design = build_design(frame, ["x1", "x2"])
    aft, ph = weibull_model(design, parametrisation="aft"), weibull_model(design)
    mu, gamma, la = 3.0, np.array([0.4, -0.2]), 0.25
    alpha = np.exp(la)
    ph_point = {"log_alpha": la, "log_lambda": -alpha * (mu - np.log(12.0)), "beta": -alpha * gamma}
    np.testing.assert_allclose(
        _pointwise(aft, {"mu": mu, "gamma": gamma, "log_alpha": la}),
        _pointwise(ph, ph_point),
        rtol=1e-10,
    )


def test_piecewise_model_pointwise(frame):
    design = build_design(frame, ["x1"])
    sm = piecewise_model(design, cuts=(6, 12, 24), baseline_prior="independent")
    assert list(sm.model.coords["interval"]) == ["[0, 6)", "[6, 12)", "[12, 24)", "[24, inf)"]
    log_rate = np.log([0.8, 0.6, 0.5, 0.4])
    got = _pointwise(sm, {"log_rate": log_rate, "beta": np.array([0.3])})
    edges = np.array([0, 6, 12, 24, np.inf])
    for i in range(design.n):
        t, eta = design.time[i], 0.3 * design.X[i, 0]
        rates = np.exp(log_rate + eta) / 12
        cum = np.sum(rates * np.clip(t - edges[:-1], 0, np.diff(edges)))
        k = np.searchsorted(edges, t, side="right") - 1
        np.testing.assert_allclose(got[i], design.event[i] * np.log(rates[k]) - cum, rtol=1e-10)


def test_random_walk_baseline_builds(frame):
    sm = piecewise_model(build_design(frame, ["x1"]))
    assert {"log_rate_mean", "rw_sigma", "rw_raw"} <= {v.name for v in sm.model.free_RVs}
    assert sm.model["log_rate"].eval().shape == (6,)


def test_no_covariate_exponential_with_gamma_prior(frame):
    design = build_design(frame, [])
    sm = exponential_model(design, baseline=BaselineSpec(gamma_shape=2.0, gamma_rate=3.0))
    assert "beta" not in sm.model.named_vars and "rate" in sm.model.named_vars


@pytest.mark.parametrize("depends", [(), ("x1",)])
def test_marginalised_missing_equals_brute_force(depends):
    """The summed-out likelihood equals the log of the sum over every completion of the
    missing values (tiny data: 6 patients, 3 with the binary covariate missing)."""
    frame = pd.DataFrame(
        {
            "time_months": [3.0, 8.5, 14.0, 2.2, 30.0, 11.0],
            "event": [1, 0, 1, 1, 0, 1],
            "x1": [0.3, -1.2, 0.8, 1.5, -0.4, 0.0],
            "hr": [1.0, np.nan, 0.0, np.nan, 1.0, np.nan],
        }
    )
    md = build_design_with_missing(frame, ["x1", "hr"], "hr", depends_on=depends)
    assert md.n == 6 and md.n_missing == 3
    assert "hr missing for 3 (marginalised)" in md.describe()
    sm = weibull_model(md)
    assert sm.columns == ("x1", "hr") and sm.n_used == 6
    point = {
        "log_alpha": 0.1,
        "log_lambda": -0.4,
        "beta": np.array([0.5, -0.7]),
        "level_intercept": np.array([0.3]),
    }
    if depends:
        point["level_coef"] = np.array([[0.8]])
    pointwise = _pointwise(sm, point)
    (potential_graph,) = sm.model.replace_rvs_by_values([sm.model["level_observed_logp"]])
    potential = sm.model.compile_fn(
        potential_graph, inputs=sm.model.value_vars, on_unused_input="ignore"
    )(point)
    model_total = pointwise.sum() + potential

    t, d, x = frame["time_months"].to_numpy(), frame["event"].to_numpy(), frame["x1"].to_numpy()
    obs = frame["hr"].to_numpy()
    miss = np.flatnonzero(np.isnan(obs))
    terms = []
    for completion in itertools.product([0.0, 1.0], repeat=len(miss)):
        z = obs.copy()
        z[miss] = completion
        eta = 0.5 * x - 0.7 * z
        alpha = np.exp(0.1)
        logf = survival_log_density(
            d,
            np.log(alpha / 12) - 0.4 + (alpha - 1) * np.log(t / 12) + eta,
            np.exp(-0.4 + eta) * (t / 12) ** alpha,
        )
        logit = 0.3 + (0.8 * x if depends else 0.0)
        log_p1 = -np.logaddexp(0, -logit)
        log_p0 = -np.logaddexp(0, logit)
        terms.append(np.sum(logf + np.where(z == 1, log_p1, log_p0)))
    np.testing.assert_allclose(model_total, special.logsumexp(terms), rtol=1e-10)
    # the pointwise log-likelihood (what LOO reads) is the survival part alone:
    # log f(t | x, z) where z is observed, log sum_z P(z | x) f(t | x, z) where it is missing
    alpha = np.exp(0.1)
    logit = 0.3 + (0.8 * x if depends else 0.0)
    expected = []
    for i in range(len(t)):
        per_level = [
            survival_log_density(
                d[i],
                np.log(alpha / 12) - 0.4 + (alpha - 1) * np.log(t[i] / 12) + 0.5 * x[i] - 0.7 * z,
                np.exp(-0.4 + 0.5 * x[i] - 0.7 * z) * (t[i] / 12) ** alpha,
            )
            for z in (0.0, 1.0)
        ]
        if np.isnan(obs[i]):
            log_w = [-np.logaddexp(0, logit[i] if depends else logit), 0.0]
            log_w[1] = -np.logaddexp(0, -(logit[i] if depends else logit))
            expected.append(special.logsumexp(np.add(per_level, log_w)))
        else:
            expected.append(per_level[int(obs[i])])
    np.testing.assert_allclose(pointwise, expected, rtol=1e-10)


def test_missing_design_categorical_and_errors():
    frame = pd.DataFrame(
        {
            "time_months": [3.0, 8.5, 14.0, 2.2, 30.0],
            "event": [1, 0, 1, 1, 0],
            "grade": pd.Series(["a", "b", None, "c", "a"], dtype=object),
        }
    )
    md = build_design_with_missing(frame, ["grade"], "grade", reference={"grade": "b"})
    assert md.levels == ("b", "a", "c")
    assert md.columns == ("grade[a]", "grade[c]")
    np.testing.assert_array_equal(md.codes, [1, 0, -1, 2, 1])
    mask = md.log_mask()
    assert np.isneginf(mask[0, [0, 2]]).all() and mask[0, 1] == 0 and (mask[2] == 0).all()
    with pytest.raises(ValueError, match="not among"):
        build_design_with_missing(frame, ["grade"], "other")


def test_horseshoe_tau0_from_events_with_one_and_four_covariates():
    """tau0 = p0 / (p - p0) / sqrt(events) (Piironen & Vehtari 2017, eq. 3.12, sigma = 1, n =
    events): p = 4, p0 = 2, 35 events -> 1 / sqrt(35); p = 1 needs p0 < 1 (0.5 -> 1 /
    sqrt(35)); p0 >= p is refused with a message naming prior.expected_nonzero."""
    from bayes_bcsm.models.priors import horseshoe_tau0

    assert horseshoe_tau0(2.0, 4, 35) == pytest.approx(1 / np.sqrt(35))
    assert horseshoe_tau0(0.5, 1, 35) == pytest.approx(1 / np.sqrt(35))
    assert horseshoe_tau0(1.0, 4, 100) == pytest.approx(1 / 3 / 10)
    for p0, p in ((2.0, 1), (1.0, 1), (4.0, 4)):
        with pytest.raises(PriorError, match="expected_nonzero"):
            horseshoe_tau0(p0, p, 35)


def test_horseshoe_model_uses_the_number_of_events(frame):
    """The model's half-t scale of tau is tau0 from the design's events, not its patients;
    one covariate with the default p0 = 2 is refused."""
    design = build_design(frame, ["x1", "x2", "x3"])
    sm = weibull_model(design, prior=PriorSpec(family="horseshoe", expected_nonzero=1.0))
    tau = sm.model["beta_tau"]
    sigma = float(tau.owner.inputs[-1].eval())
    assert sigma == pytest.approx(1.0 / 2.0 / np.sqrt(design.n_events))
    assert design.n_events < design.n  # the two scales differ on this design
    with pytest.raises(PriorError, match="expected_nonzero=2"):
        weibull_model(build_design(frame, ["x1"]), prior=PriorSpec(family="horseshoe"))


def test_marginalised_covariate_depending_on_a_binary_and_a_categorical_covariate():
    """``depends_on`` names covariates; each enters the covariate model through its design
    columns (a categorical by one column per non-reference level). Hand-computed check of the
    exponential model with receptor status (text levels, 3 of 7 missing) depending on therapy
    and a three-level grade: P(positive | x) = expit(a + b_t therapy + b_b [grade=b] + b_c
    [grade=c]); the pointwise log-likelihood per patient is log f(t | x, z) where z is known and
    log sum_z P(z | x) f(t | x, z) where it is missing (scipy's exponential logpdf / logsf),
    and the joint adds log P(z | x) of each known status."""
    frame = pd.DataFrame(
        {
            "time_months": [3.0, 8.5, 14.0, 2.2, 30.0, 11.0, 6.0],
            "event": [1, 0, 1, 1, 0, 1, 1],
            "therapy": [1, 0, 1, 0, 1, 1, 0],
            "grade": ["a", "b", "c", "a", "c", "b", "a"],
            "receptor": ["positive", None, "negative", None, "positive", None, "negative"],
        }
    )
    md = build_design_with_missing(
        frame, ["therapy", "grade", "receptor"], "receptor", depends_on=["therapy", "grade"]
    )
    assert md.depends_on == ("therapy", "grade[b]", "grade[c]")
    assert md.columns == ("receptor[positive]",)
    sm = exponential_model(md)
    coef = np.array([0.6, -0.9, 0.4])  # level_coef per predictor (therapy, grade b, grade c)
    point = {
        "log_lambda": -0.7,
        "beta": np.array([0.3, 0.5, -0.2, -0.8]),  # therapy, grade[b], grade[c], receptor
        "level_intercept": np.array([0.2]),
        "level_coef": coef[:, None],
    }
    pointwise = _pointwise(sm, point)
    (graph,) = sm.model.replace_rvs_by_values([sm.model["level_observed_logp"]])
    potential = sm.model.compile_fn(graph, inputs=sm.model.value_vars, on_unused_input="ignore")(
        point
    )

    therapy = frame["therapy"].to_numpy(float)
    grade_b = (frame["grade"] == "b").to_numpy(float)
    grade_c = (frame["grade"] == "c").to_numpy(float)
    logit = 0.2 + 0.6 * therapy - 0.9 * grade_b + 0.4 * grade_c
    log_p = {1.0: -np.logaddexp(0, -logit), 0.0: -np.logaddexp(0, logit)}
    t, d = frame["time_months"].to_numpy(), frame["event"].to_numpy()
    expected, covariate_terms = [], 0.0
    for i, status in enumerate(frame["receptor"]):
        per_level = {}
        for z in (0.0, 1.0):
            rate = (
                np.exp(-0.7)
                / 12
                * np.exp(0.3 * therapy[i] + 0.5 * grade_b[i] - 0.2 * grade_c[i] - 0.8 * z)
            )
            dist = stats.expon(scale=1 / rate)
            per_level[z] = dist.logpdf(t[i]) if d[i] else dist.logsf(t[i])
        if status is None:
            expected.append(np.logaddexp(*(per_level[z] + log_p[z][i] for z in (0.0, 1.0))))
        else:
            z = float(status == "positive")
            expected.append(per_level[z])
            covariate_terms += log_p[z][i]
    np.testing.assert_allclose(pointwise, expected, rtol=1e-10)
    np.testing.assert_allclose(potential, covariate_terms, rtol=1e-10)


@pytest.mark.parametrize(
    ("depends_on", "match"),
    [
        (["receptor"], "'receptor' cannot depend on itself"),
        (["stage"], r"covariate\(s\) \['stage'\] outside the design"),
    ],
)
def test_marginalised_covariate_dependency_refusals(depends_on, match):
    frame = pd.DataFrame(
        {
            "time_months": [3.0, 8.5, 14.0, 2.2],
            "event": [1, 0, 1, 1],
            "therapy": [1, 0, 1, 0],
            "stage": [1, 2, 1, 2],
            "receptor": [1.0, None, 0.0, 1.0],
        }
    )
    with pytest.raises(ValueError, match=match):
        build_design_with_missing(frame, ["therapy", "receptor"], "receptor", depends_on=depends_on)
