"""Gompertz, M-spline, log-normal and log-logistic families: likelihood, numpy side, RMST.

Expected values come from outside the code under test: scipy's ``lognorm``, ``fisk`` (the
log-logistic) and ``gompertz`` distributions (``logpdf``, ``logsf``), adaptive quadrature
(``scipy.integrate.quad``) of the hazard and of the survival function, and the defining
property of a median, ``H(median) = log 2``. Tolerances: 1e-8 for quadrature against closed
forms (quad's own error estimate is below 1e-10 on these smooth integrands), 1e-10 for
closed forms evaluated two ways.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from bayes_bcsm.data.design import build_design
from bayes_bcsm.models import OBSERVED, model_family
from bayes_bcsm.models.aft import aft_cumulative_hazard, aft_log_hazard
from bayes_bcsm.models.gompertz import gompertz_cumulative_hazard, gompertz_log_hazard
from bayes_bcsm.models.priors import BaselineSpec
from bayes_bcsm.models.simulate import simulate_frame
from bayes_bcsm.models.splines import SplineBasis, spline_knots

S = 12.0
KNOTS = (0.0, 7.5, 20.0, 41.0, 60.0)
TOL = {"rtol": 1e-10, "atol": 1e-10}


def _model(family: str) -> SimpleNamespace:
    """The attributes the numpy side reads from a SurvivalModel."""
    return SimpleNamespace(
        family=family,
        baseline=BaselineSpec(time_scale_months=S),
        cuts_months=(),
        knots_months=KNOTS,
    )


def _baseline(family: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random baseline draws, shape (2, 3) (plus the basis for the M-spline)."""
    if family == "gompertz":
        return {"log_lambda": rng.normal(-1.5, 0.3, (2, 3)), "shape": rng.normal(0, 0.3, (2, 3))}
    if family == "mspline":
        return {
            "log_scale": rng.normal(0.0, 0.3, (2, 3)),
            "weights": rng.dirichlet(np.ones(SplineBasis(KNOTS).df), (2, 3)),
        }
    return {"mu": rng.normal(3.5, 0.3, (2, 3)), "log_sigma": rng.normal(-0.2, 0.2, (2, 3))}


def _scipy(family: str, base: dict, c: int, d: int, eta: float):
    """The frozen scipy distribution of one draw (AFT families, Gompertz with shape > 0)."""
    if family == "lognormal":
        return stats.lognorm(np.exp(base["log_sigma"][c, d]), scale=np.exp(base["mu"][c, d] + eta))
    if family == "loglogistic":
        return stats.fisk(1 / np.exp(base["log_sigma"][c, d]), scale=np.exp(base["mu"][c, d] + eta))
    shape, lam = base["shape"][c, d], np.exp(base["log_lambda"][c, d] + eta)
    return stats.gompertz(lam / shape, scale=S / shape)


NEW = ("gompertz", "mspline", "lognormal", "loglogistic")


def test_registry_holds_the_new_families_with_their_effect_measure():
    for name in NEW:
        assert model_family(name).name == name
    assert model_family("lognormal").effect == "time ratio"
    assert model_family("loglogistic").coefficient == "gamma"
    assert model_family("gompertz").effect == model_family("mspline").effect == "hazard ratio"
    assert model_family("mspline").options == ("df",)


# ---------------------------------------------------------------------- Gompertz
@pytest.mark.parametrize("shape", [0.7, -0.4, 3e-6, -3e-6, 0.0])
def test_gompertz_hazard_integrates_to_its_cumulative_hazard(shape):
    log_lambda, eta = -1.2, 0.3
    for t in (0.5, 11.0, 48.0, 130.0):
        numeric, _ = integrate.quad(
            lambda u: np.exp(gompertz_log_hazard(u, log_lambda, shape, eta, S, xp=np)),
            0.0,
            t,
            epsabs=1e-13,
            epsrel=1e-13,
        )
        closed = gompertz_cumulative_hazard(t, log_lambda, shape, eta, S, xp=np)
        assert closed == pytest.approx(numeric, rel=1e-8, abs=1e-12)
        entered = gompertz_cumulative_hazard(t, log_lambda, shape, eta, S, xp=np, entry=t / 3)
        tail, _ = integrate.quad(
            lambda u: np.exp(gompertz_log_hazard(u, log_lambda, shape, eta, S, xp=np)),
            t / 3,
            t,
            epsabs=1e-13,
            epsrel=1e-13,
        )
        assert entered == pytest.approx(tail, rel=1e-8, abs=1e-12)


def test_gompertz_with_shape_zero_is_the_exponential_model():
    """At shape 0 the Gompertz likelihood is the exponential one at the same (log_lambda,
    beta), patient by patient; so the Gompertz fit restricted to shape 0 is the exponential
    fit, and shapes of +-1e-9 are within 1e-8 of it (the limit is continuous)."""
    frame = simulate_frame(np.random.default_rng(3), 60, [0.5, -0.3])
    design = build_design(frame, ["x1", "x2"])
    gompertz = model_family("gompertz").build(design).model
    exponential = model_family("exponential").build(design).model
    point = {"log_lambda": np.array(-1.3), "beta": np.array([0.4, -0.2])}

    def pointwise(model, extra):
        fn = model.compile_fn(model.logp(vars=[model[OBSERVED]], sum=False)[0])
        return fn({**point, **extra})

    exp_ll = pointwise(exponential, {})
    np.testing.assert_allclose(pointwise(gompertz, {"shape": np.array(0.0)}), exp_ll, **TOL)
    for tiny in (1e-9, -1e-9):
        np.testing.assert_allclose(
            pointwise(gompertz, {"shape": np.array(tiny)}), exp_ll, rtol=1e-8
        )


def test_gompertz_log_density_matches_scipy():
    rng = np.random.default_rng(4)
    base = {"log_lambda": np.array([[-1.0]]), "shape": np.array([[0.35]])}
    eta, times = 0.25, rng.uniform(0.5, 80, 12)
    dist = _scipy("gompertz", base, 0, 0, eta)
    log_h = gompertz_log_hazard(times, -1.0, 0.35, eta, S, xp=np)
    H = gompertz_cumulative_hazard(times, -1.0, 0.35, eta, S, xp=np)
    np.testing.assert_allclose(log_h - H, dist.logpdf(times), **TOL)
    np.testing.assert_allclose(-H, dist.logsf(times), **TOL)


def test_gompertz_falling_hazard_has_a_cure_fraction():
    """With shape < 0, ``H0`` is bounded by ``-lambda / shape``: beyond that the median is inf."""
    sm = _model("gompertz")
    base = {"log_lambda": np.array([[np.log(0.2)]]), "shape": np.array([[-0.5]])}
    eta = np.zeros((1, 1, 1))
    assert np.isinf(model_family("gompertz").median(sm, base, eta)).all()  # H0(inf) = 0.4


# ---------------------------------------------------------------------- M-spline
def test_mspline_basis_integrates_to_its_ispline():
    basis = SplineBasis(KNOTS)
    for t in (0.3, 7.5, 13.0, 40.9, 60.0, 75.0):
        for j in range(basis.df):
            numeric, _ = integrate.quad(
                lambda u, j=j: basis.m_basis(np.array([u]))[0, j],
                0.0,
                t,
                points=[k for k in KNOTS if 0 < k < t],
                epsabs=1e-13,
                epsrel=1e-13,
                limit=200,
            )
            assert basis.i_basis(np.array([t]))[0, j] == pytest.approx(numeric, abs=1e-8)
    np.testing.assert_allclose(basis.i_basis(np.array([60.0]))[0], 1.0, **TOL)


def test_spline_knots_sit_at_event_time_quantiles():
    time = np.array([2.0, 5.0, 9.0, 14.0, 20.0, 33.0, 50.0, 70.0])
    event = np.array([1, 1, 0, 1, 1, 0, 1, 0])
    knots = spline_knots(time, event, df=6)
    expected = np.quantile([2.0, 5.0, 14.0, 20.0, 50.0], [1 / 3, 2 / 3])
    np.testing.assert_allclose(knots, [0.0, *expected, 70.0])
    assert spline_knots(time, event, df=4) == (0.0, 70.0)


def test_mspline_model_likelihood_is_its_hazard_and_its_integral():
    """The model's pointwise log-likelihood at a point equals ``delta log h(t) - H(t)`` with
    ``H`` the quadrature of the hazard the M-spline basis gives (not of the I-spline)."""
    frame = simulate_frame(np.random.default_rng(6), 40, [0.5])
    design = build_design(frame, ["x1"])
    sm = model_family("mspline").build(design, df=6)
    assert len(sm.knots_months) == 4 and sm.knots_months[-1] == pytest.approx(design.time.max())
    weights = np.array([0.1, 0.3, 0.2, 0.15, 0.05, 0.2])
    simplex = sm.model.rvs_to_transforms[sm.model["spline_weights"]]
    point = {
        "log_scale": np.array(0.2),
        "spline_weights_simplex__": simplex.forward(weights).eval(),
        "beta": np.array([0.6]),
    }
    fn = sm.model.compile_fn(sm.model.logp(vars=[sm.model[OBSERVED]], sum=False)[0])
    got = fn(point)
    basis = SplineBasis(sm.knots_months)
    eta = design.X[:, 0] * 0.6
    hazard = lambda u: np.exp(0.2) * basis.m_basis(np.array([u]))[0] @ weights  # noqa: E731
    for i in range(design.n):
        H, _ = integrate.quad(hazard, 0, design.time[i], points=sm.knots_months[1:-1], limit=200)
        want = design.event[i] * (np.log(hazard(design.time[i])) + eta[i]) - H * np.exp(eta[i])
        assert got[i] == pytest.approx(want, rel=1e-8, abs=1e-10)


def test_mspline_df_below_four_is_refused():
    frame = simulate_frame(np.random.default_rng(6), 40, [0.5])
    with pytest.raises(ValueError, match="df"):
        model_family("mspline").build(build_design(frame, ["x1"]), df=3)


# ---------------------------------------------------------------------- AFT families
@pytest.mark.parametrize("family", ["lognormal", "loglogistic"])
def test_aft_log_density_and_entry_match_scipy(family):
    error = "normal" if family == "lognormal" else "logistic"
    rng = np.random.default_rng(8)
    base = _baseline(family, rng)
    eta = 0.4
    dist = _scipy(family, base, 0, 0, eta)
    mu, ls = base["mu"][0, 0], base["log_sigma"][0, 0]
    times = np.concatenate([rng.uniform(0.1, 200, 10), [1e-4, 5e4]])
    log_h = aft_log_hazard(error, times, mu, ls, eta, xp=np)
    H = aft_cumulative_hazard(error, times, mu, ls, eta, xp=np)
    np.testing.assert_allclose(log_h - H, dist.logpdf(times), rtol=1e-9)
    np.testing.assert_allclose(-H, dist.logsf(times), rtol=1e-9, atol=1e-12)
    entry = times / 2
    H_entry = aft_cumulative_hazard(error, times, mu, ls, eta, xp=np, entry=entry)
    np.testing.assert_allclose(-H_entry, dist.logsf(times) - dist.logsf(entry), rtol=1e-9)


@pytest.mark.parametrize("family", ["lognormal", "loglogistic"])
def test_aft_model_pointwise_loglik_is_on_the_time_scale(family):
    """The observed term per patient is scipy's ``logpdf(t)`` (events) / ``logsf(t)``
    (censored) of ``t`` itself, not of ``log t``: LOO compares it with the PH families."""
    frame = simulate_frame(np.random.default_rng(9), 30, [0.5, -0.3])
    design = build_design(frame, ["x1", "x2"])
    sm = model_family(family).build(design)
    point = {"mu": np.array(3.2), "log_sigma": np.array(-0.1), "gamma": np.array([0.3, -0.5])}
    fn = sm.model.compile_fn(sm.model.logp(vars=[sm.model[OBSERVED]], sum=False)[0])
    got = fn(point)
    eta = design.X @ point["gamma"]
    base = {"mu": np.array([[3.2]]), "log_sigma": np.array([[-0.1]])}
    for i in range(design.n):
        dist = _scipy(family, base, 0, 0, eta[i])
        t = design.time[i]
        want = dist.logpdf(t) if design.event[i] else dist.logsf(t)
        assert got[i] == pytest.approx(want, rel=1e-9)


# ---------------------------------------------------------------------- numpy side
@pytest.mark.parametrize("family", NEW)
def test_median_has_cumulative_hazard_log2(family):
    rng = np.random.default_rng(2)
    base, entry, sm = _baseline(family, rng), model_family(family), _model(family)
    if family == "gompertz":
        base["shape"] = np.abs(base["shape"])  # a falling hazard may never reach log 2
    eta = rng.normal(0, 0.5, (2, 3, 4))
    med = entry.median(sm, base, eta)
    for c, d, m in np.ndindex(*eta.shape):
        one = {k: v[c : c + 1, d : d + 1] for k, v in base.items()}
        h = entry.cumulative_hazard(
            sm, one, eta[c : c + 1, d : d + 1, m : m + 1], np.array([med[c, d, m]])
        )
        assert h.item() == pytest.approx(np.log(2.0), rel=1e-10)


@pytest.mark.parametrize("family", NEW)
def test_sampled_times_follow_the_family_survival_function(family):
    """20000 draws for one parameter set against the exact cdf ``1 - exp(-H)`` (scipy's for
    the AFT families and Gompertz, the quadrature-checked M-spline otherwise): KS test at a
    fixed seed, plus the draws' median against the family's median to 3 Monte Carlo SEs."""
    rng = np.random.default_rng(12)
    base = {k: v[:1, :1] for k, v in _baseline(family, rng).items()}
    if family == "gompertz":
        base["shape"] = np.array([[0.3]])
    eta = np.full((1, 1, 20000), 0.2)
    entry, sm = model_family(family), _model(family)
    times = entry.sample_times(np.random.default_rng(5), sm, base, eta).ravel()
    if family == "mspline":

        def cdf(t):
            H = entry.cumulative_hazard(sm, base, eta[:, :, :1], np.atleast_1d(t))
            return 1 - np.exp(-H.ravel())

    else:
        cdf = _scipy(family, base, 0, 0, 0.2).cdf
    assert stats.kstest(times, cdf).pvalue > 0.01
    med = entry.median(sm, base, eta[:, :, :1]).item()
    density = (cdf(med * 1.001) - cdf(med * 0.999)) / (0.002 * med)
    se = 0.5 / (density * np.sqrt(len(times)))
    assert abs(np.median(times) - med) < 3 * se


@pytest.mark.parametrize("family", NEW)
def test_rmst_is_the_integral_of_survival(family):
    """``rmst`` (closed forms for the AFT families, quadrature for Gompertz and M-spline,
    beyond the last knot too) against adaptive quadrature of ``exp(-H)``."""
    rng = np.random.default_rng(14)
    base = _baseline(family, rng)
    eta = rng.normal(0, 0.5, (2, 3, 2))
    entry, sm = model_family(family), _model(family)
    for tau in (5.0, 36.0, 90.0):
        got = entry.rmst(sm, base, eta, tau)
        assert got.shape == eta.shape
        for c, d, m in np.ndindex(*eta.shape):
            one = {k: v[c : c + 1, d : d + 1] for k, v in base.items()}
            e = eta[c : c + 1, d : d + 1, m : m + 1]
            want, _ = integrate.quad(
                lambda t, one=one, e=e: np.exp(
                    -entry.cumulative_hazard(sm, one, e, np.array([t])).item()
                ),
                0.0,
                tau,
                points=[k for k in KNOTS if 0 < k < tau],
                epsabs=1e-12,
                epsrel=1e-12,
                limit=200,
            )
            assert got[c, d, m] == pytest.approx(want, rel=1e-8)


@pytest.mark.parametrize("family", ["lognormal", "loglogistic"])
def test_aft_rmst_closed_form_matches_scipy_survival(family):
    """The closed forms against quadrature of scipy's own survival function, with a
    log-logistic shape on each side of 1 (``b <= 1``: infinite mean, finite RMST)."""
    for log_sigma in (-0.5, 0.4):
        base = {"mu": np.array([[3.0]]), "log_sigma": np.array([[log_sigma]])}
        dist = _scipy(family, base, 0, 0, 0.1)
        got = model_family(family).rmst(_model(family), base, np.full((1, 1, 1), 0.1), 50.0)
        want, _ = integrate.quad(dist.sf, 0, 50.0, epsabs=1e-12, epsrel=1e-12)
        assert got.item() == pytest.approx(want, rel=1e-9)


def test_time_ratio_rows_are_labelled_time_ratios():
    from bayes_bcsm.hazard_ratios import posterior_rows

    summary = pd.DataFrame(
        {
            "hr_median": [1.4],
            "eti_lower": [1.1],
            "eti_upper": [1.8],
            "hdi_lower": [1.1],
            "hdi_upper": [1.8],
            "p_hr_below_1": [0.01],
            "n_draws": [4000],
            "prob": [0.95],
            "n_used": [50],
            "n_events": [20],
        },
        index=pd.Index(["x1"], name="covariate"),
    )
    rows = posterior_rows(summary, "lognormal", measure=model_family("lognormal").effect)
    assert rows["measure"].tolist() == ["time ratio"]
    assert posterior_rows(summary, "weibull")["measure"].tolist() == ["hazard ratio"]


@pytest.mark.parametrize("family", NEW)
def test_missing_covariate_is_summed_out_exactly(family):
    """A binary covariate missing for 3 of 8 patients: the pointwise log-likelihood is the
    complete-data model's where it is observed and ``log sum_z P(z) f(t | x, z)`` where it is
    missing (the complete-data models, filled with 0 and with 1, are pinned to scipy above)."""
    from scipy import special

    from bayes_bcsm.models import build_design_with_missing

    frame = pd.DataFrame(
        {
            "time_months": [3.0, 8.5, 14.0, 2.2, 30.0, 11.0, 19.0, 6.0],
            "event": [1, 0, 1, 1, 0, 1, 1, 0],
            "x1": [0.3, -1.2, 0.8, 1.5, -0.4, 0.0, 0.7, -0.9],
            "hr": [1.0, np.nan, 0.0, np.nan, 1.0, np.nan, 0.0, 1.0],
        }
    )
    options = {"df": 5} if family == "mspline" else {}
    build = model_family(family).build
    sm = build(build_design_with_missing(frame, ["x1", "hr"], "hr"), **options)
    coef = model_family(family).coefficient
    point = {k: v + 0.1 for k, v in sm.model.initial_point().items()}
    point[coef] = np.array([0.5, -0.7])
    point["level_intercept"] = np.array([0.3])

    def pointwise(model, values):
        fn = model.compile_fn(
            model.logp(vars=[model[OBSERVED]], sum=False)[0], on_unused_input="ignore"
        )
        return fn({k: v for k, v in values.items() if k in {x.name for x in model.value_vars}})

    got = pointwise(sm.model, point)
    designs = [build_design(frame.fillna({"hr": z}), ["x1", "hr"]) for z in (0.0, 1.0)]
    filled = [pointwise(build(d, **options).model, point) for d in designs]
    log_w = np.array([-np.logaddexp(0, 0.3), -np.logaddexp(0, -0.3)])  # P(hr = 0), P(hr = 1)
    missing = frame["hr"].isna().to_numpy()
    want = np.where(missing, special.logsumexp(np.stack(filled, -1) + log_w, axis=-1), filled[0])
    want = np.where(~missing & (frame["hr"] == 1).to_numpy(), filled[1], want)
    np.testing.assert_allclose(got, want, rtol=1e-10)
