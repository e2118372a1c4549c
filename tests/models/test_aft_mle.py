"""Maximum likelihood of the AFT families against lifelines (issue 23, "MLE agreement").

The package's own per-patient log-likelihood (the model's observed term, priors left out, i.e.
flat priors) is maximised with scipy's BFGS on the exact pytensor gradient; the oracle is
lifelines' ``LogNormalAFTFitter``, ``LogLogisticAFTFitter`` and ``WeibullAFTFitter`` on the
same rows and design matrix, run with tightened stopping rules (their defaults, BFGS
``gtol=1e-5`` and SLSQP ``ftol=1e-6``, stop up to 2e-3 short in a coefficient on rossi; the
tightened runs are lifelines' own optimum). Published figure: the rossi Weibull AFT
log-likelihood -679.9166 (lifelines documentation, ``WeibullAFTFitter`` on ``load_rossi``).
Tolerance: 1e-4 relative, as the issue asks (both optimisers converge to ~1e-7).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import optimize

from bayes_bcsm.data.design import Design, build_design
from bayes_bcsm.models import OBSERVED, model_family
from bayes_bcsm.resources import bundled_file

lifelines = pytest.importorskip("lifelines")

ROSSI = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
GBSG2 = ["horTh", "age", "menostat", "tsize", "tgrade", "pnodes", "progrec", "estrec"]
#: family -> (lifelines fitter, its location parameter, its shape parameter, shape -> ours)
ORACLES = {
    "lognormal": ("LogNormalAFTFitter", "mu_", "sigma_", 1.0),
    "loglogistic": ("LogLogisticAFTFitter", "alpha_", "beta_", -1.0),
    "weibull_aft": ("WeibullAFTFitter", "lambda_", "rho_", 1.0),
}
SHAPE = {"lognormal": "log_sigma", "loglogistic": "log_sigma", "weibull_aft": "log_alpha"}


def _design(name: str) -> Design:
    if name == "rossi":
        frame = lifelines.datasets.load_rossi()
        return build_design(frame, ROSSI, duration="week", event="arrest")
    frame = pd.read_csv(bundled_file("gbsg2.csv"))
    return build_design(frame, GBSG2, duration="time", event="cens")


def package_mle(
    family: str, design: Design, **options: object
) -> tuple[dict[str, np.ndarray], float]:
    """Maximise the package model's log-likelihood (its observed term) over its parameters
    (``options``: the family builder's, e.g. the M-spline's ``df``)."""
    model = model_family(family).build(design, **options).model
    values = model.value_vars
    loglik = model.logp(vars=[model[OBSERVED]])
    fn = pytensor.function(values, [loglik, *pt.grad(loglik, values)])
    start = model.initial_point()
    shapes = [start[v.name].shape for v in values]
    bounds = np.cumsum([0] + [int(np.prod(s)) for s in shapes])

    def unpack(x: np.ndarray) -> list[np.ndarray]:
        return [x[a:b].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], shapes, strict=True)]

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, *grad = fn(*unpack(x))
        return -value, -np.concatenate([np.ravel(g) for g in grad])

    x0 = np.concatenate([np.ravel(start[v.name]) for v in values])
    result = optimize.minimize(objective, x0, jac=True, method="BFGS", options={"gtol": 1e-9})
    return dict(zip([v.name for v in values], unpack(result.x), strict=True)), -result.fun


def lifelines_fit(family: str, design: Design):
    fitter_name, *_ = ORACLES[family]
    fitter = getattr(lifelines, fitter_name)()
    frame = pd.DataFrame(design.X, columns=list(design.columns)).assign(
        T=design.time, E=design.event
    )
    tight = {"ftol": 1e-14} if fitter._scipy_fit_method == "SLSQP" else {"gtol": 1e-8}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fitter.fit(frame, "T", "E", fit_options=tight)


@pytest.mark.parametrize("data", ["rossi", "gbsg2"])
@pytest.mark.parametrize("family", list(ORACLES))
def test_flat_prior_mle_equals_lifelines(family, data):
    design = _design(data)
    ours, loglik = package_mle(family, design)
    oracle = lifelines_fit(family, design)
    _, location, shape, sign = ORACLES[family]
    params = oracle.params_
    np.testing.assert_allclose(loglik, oracle.log_likelihood_, rtol=1e-4)
    np.testing.assert_allclose(
        ours["gamma"], params[location][list(design.columns)].to_numpy(), rtol=1e-4
    )
    np.testing.assert_allclose(ours["mu"], params[location]["Intercept"], rtol=1e-4)
    np.testing.assert_allclose(ours[SHAPE[family]], sign * params[shape]["Intercept"], rtol=1e-4)
    if data == "rossi" and family == "weibull_aft":
        assert loglik == pytest.approx(-679.9166, abs=5e-5)


def test_flat_prior_mspline_mle_equals_efron_cox_on_gbsg2():
    """The M-spline PH model (df = 10) maximised under flat priors gives the Efron Cox log-HRs
    (lifelines' CoxPHFitter, same design matrix) to within 0.05 of their standard errors: a
    flexible baseline agrees with the partial likelihood (measured: at most 0.044 SE)."""
    design = _design("gbsg2")
    design = dataclasses.replace(design, time=design.time / 30.4375)  # days -> months
    design = dataclasses.replace(
        design, X=(design.X - design.X.mean(0)) / design.X.std(0)
    )  # a well-conditioned problem for BFGS
    ours, _ = package_mle("mspline", design, df=10)
    frame = pd.DataFrame(design.X, columns=list(design.columns)).assign(
        T=design.time, E=design.event
    )
    cox = lifelines.CoxPHFitter().fit(frame, "T", "E")
    z = (ours["beta"] - cox.params_.to_numpy()) / cox.standard_errors_.to_numpy()
    assert np.all(np.abs(z) < 0.05), z
