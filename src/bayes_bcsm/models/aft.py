"""Log-normal and log-logistic accelerated-failure-time (AFT) models.

Both are log-location-scale models ``log T = mu + x @ gamma + sigma * W`` with ``W`` standard
normal (log-normal) or standard logistic (log-logistic): a covariate multiplies survival time by
``exp(gamma)`` (the *time ratio*), and the hazards are not proportional, so these models have
no hazard ratios. With ``z = (log t - mu - eta) / sigma`` and ``eta = x @ gamma``::

    S(t | x) = S_W(z),    h(t | x) = h_W(z) / (sigma t),    H(t | x) = -log S_W(z)

where ``S_W`` and ``h_W`` are the survival and hazard functions of ``W``: ``log S_W(z) =
log Phi(-z)`` and ``h_W = phi / Phi(-z)`` for the normal, ``log S_W(z) = -log(1 + e^z)`` and
``h_W = 1 / (1 + e^-z)`` for the logistic (the log-logistic survival ``1 / (1 + (t/a)^b)`` with
``a = exp(mu + eta)``, ``b = 1 / sigma``). The hazard is per month of ``t``, so the per-patient
log-likelihood is the log density / log survival of the observed time itself (not of
``log t``) and PSIS-LOO compares these models with the proportional-hazards ones like with like.

Parameters: ``mu`` (log months), ``log_sigma``, and ``gamma`` (log time ratios, dims
``covariate``). Priors: ``mu ~ Normal(log s - log_rate_mu, log_rate_sd)`` (the Weibull AFT
one), ``log_sigma ~ Normal(0, log_alpha_sd)`` (``1 / sigma`` plays the Weibull shape's part),
``gamma`` the configured coefficient prior.

References
----------
Kalbfleisch, J. D. and Prentice, R. L. (2002). *The Statistical Analysis of Failure Time
Data*, 2nd ed., sections 2.2.3-2.2.4 and 3.6 (log-normal, log-logistic, AFT models).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy import special

from bayes_bcsm.data.design import Design
from bayes_bcsm.models.base import SurvivalModel, assemble, covariate_prior
from bayes_bcsm.models.missing import MissingDesign
from bayes_bcsm.models.priors import BaselineSpec, PriorSpec

Error = Literal["normal", "logistic"]

__all__ = [
    "aft_cumulative_hazard",
    "aft_log_hazard",
    "aft_median",
    "aft_rmst",
    "aft_times",
    "loglogistic_model",
    "lognormal_model",
]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _log_sf(error: Error, z: Any, xp: Any) -> Any:
    """``log S_W(z)`` of the standard error distribution."""
    if error == "logistic":
        return -(xp.logaddexp(0.0, z) if xp is np else pt.softplus(z))
    if xp is np:
        return special.log_ndtr(-z)
    return pt.switch(  # PyMC's normal_lccdf: erfcx in the upper tail
        pt.gt(z, 1.0),
        pt.log(pt.erfcx(z / np.sqrt(2.0)) / 2.0) - pt.sqr(z) / 2.0,
        pt.log1p(-pt.erfc(-z / np.sqrt(2.0)) / 2.0),
    )


def _log_hazard_w(error: Error, z: Any, xp: Any) -> Any:
    """``log h_W(z)``: log density minus log survival of the standard error distribution."""
    if error == "logistic":
        return -(xp.logaddexp(0.0, -z) if xp is np else pt.softplus(-z))
    return -0.5 * z**2 - _LOG_SQRT_2PI - _log_sf(error, z, xp)


def aft_log_hazard(error: Error, time: Any, mu: Any, log_sigma: Any, eta: Any, xp: Any = pt) -> Any:
    """``log h(t | x)`` per month (see the module docstring).

    Parameters
    ----------
    error : {"normal", "logistic"}
        Distribution of ``W``: log-normal or log-logistic model.
    time : array or tensor
        Times, months (> 0).
    mu, log_sigma : scalar or array
        Intercept (log months) and log scale of ``log T``.
    eta : array or tensor
        Linear predictor ``x @ gamma`` (log time ratio).
    xp : module
        ``pytensor.tensor`` or ``numpy``.
    """
    z = (xp.log(time) - mu - eta) / xp.exp(log_sigma)
    return _log_hazard_w(error, z, xp) - log_sigma - xp.log(time)


def aft_cumulative_hazard(
    error: Error,
    time: Any,
    mu: Any,
    log_sigma: Any,
    eta: Any,
    xp: Any = pt,
    entry: Any = None,
) -> Any:
    """``H(t | x) = -log S_W(z)``; with ``entry`` (months, ``0 <= entry < time``) the hazard
    accumulated on ``(entry, t]``, ``H(t) - H(entry)`` (entries of 0 contribute exactly 0)."""
    sigma = xp.exp(log_sigma)
    at_time = -_log_sf(error, (xp.log(time) - mu - eta) / sigma, xp)
    if entry is None:
        return at_time
    entered = entry > 0
    safe = xp.where(entered, entry, 1.0)
    at_entry = -_log_sf(error, (xp.log(safe) - mu - eta) / sigma, xp)
    return at_time - xp.where(entered, at_entry, 0.0)


def aft_median(mu: Any, eta: np.ndarray) -> np.ndarray:
    """Median survival ``exp(mu + eta)`` months (both error distributions have median 0)."""
    return np.exp(mu + eta)


def aft_times(
    rng: np.random.Generator, error: Error, mu: Any, log_sigma: Any, eta: np.ndarray
) -> np.ndarray:
    """Event times ``exp(mu + eta + sigma W)`` months, ``W`` drawn by inversion of its cdf."""
    eta = np.asarray(eta, dtype=float)
    shape = np.broadcast_shapes(np.shape(mu), np.shape(log_sigma), eta.shape)
    u = rng.uniform(size=shape)
    w = special.ndtri(u) if error == "normal" else special.logit(u)
    return np.exp(mu + eta + np.exp(log_sigma) * w)


def aft_rmst(error: Error, mu: Any, log_sigma: Any, eta: np.ndarray, tau: float) -> np.ndarray:
    """Restricted mean survival time ``int_0^tau S(t | x) dt`` (months), closed forms.

    Log-normal (the normal partial expectation):
    ``exp(mu + eta + sigma^2 / 2) Phi((log tau - mu - eta - sigma^2) / sigma)
    + tau Phi(-(log tau - mu - eta) / sigma)``.
    Log-logistic (``a = exp(mu + eta)``, ``b = 1 / sigma``, ``x = (tau / a)^b``; substituting
    ``v = x / (1 + x)`` turns the integral into an incomplete beta function):
    ``tau * 2F1(1, 1/b; 1 + 1/b; -x)``, which is
    ``(a / b) B(x / (1 + x); 1/b, 1 - 1/b)`` for ``b > 1``.
    """
    loc = mu + np.asarray(eta, dtype=float)
    sigma = np.exp(log_sigma)
    log_tau = np.log(tau)
    if error == "normal":
        return np.exp(loc + sigma**2 / 2) * special.ndtr(
            (log_tau - loc - sigma**2) / sigma
        ) + tau * special.ndtr(-(log_tau - loc) / sigma)
    x = np.exp((log_tau - loc) / sigma)
    return tau * special.hyp2f1(1.0, sigma, 1.0 + sigma, -x)


def _aft_model(
    error: Error,
    family: str,
    design: Design | MissingDesign,
    prior: PriorSpec | None,
    baseline: BaselineSpec | None,
) -> SurvivalModel:
    prior = prior or PriorSpec()
    baseline = baseline or BaselineSpec()
    s = baseline.time_scale_months

    def build(nodes: Mapping[str, Any], n_events: int) -> tuple[Any, Any]:
        mu = pm.Normal("mu", np.log(s) - baseline.log_rate_mu, baseline.log_rate_sd)
        log_sigma = pm.Normal("log_sigma", 0.0, baseline.log_alpha_sd)
        pm.Deterministic("sigma", pt.exp(log_sigma))
        gamma = covariate_prior(prior, n_events, name="gamma")
        time, entry = nodes["time_months"], nodes.get("entry_months")

        def hazards(eta: Any) -> tuple[Any, Any]:
            t = time if eta.ndim == 1 else time[:, None]
            e = entry if entry is None or eta.ndim == 1 else entry[:, None]
            return (
                aft_log_hazard(error, t, mu, log_sigma, eta),
                aft_cumulative_hazard(error, t, mu, log_sigma, eta, entry=e),
            )

        return hazards, gamma

    return assemble(design, family, prior, baseline, build)


def lognormal_model(
    design: Design | MissingDesign,
    prior: PriorSpec | None = None,
    baseline: BaselineSpec | None = None,
) -> SurvivalModel:
    """Log-normal AFT model ``log T = mu + x @ gamma + sigma Z``, ``Z ~ Normal(0, 1)``.

    Parameters
    ----------
    design : Design or MissingDesign
        Times in months, events, covariates.
    prior : PriorSpec, optional
        Prior on the log time ratios ``gamma``; default ``Normal(0, 1)``.
    baseline : BaselineSpec, optional
        Priors on ``mu`` and ``log_sigma`` (module docstring).

    Returns
    -------
    SurvivalModel
        Free parameters ``mu``, ``log_sigma``, ``gamma`` (log time ratios); deterministic
        ``sigma``.
    """
    return _aft_model("normal", "lognormal", design, prior, baseline)


def loglogistic_model(
    design: Design | MissingDesign,
    prior: PriorSpec | None = None,
    baseline: BaselineSpec | None = None,
) -> SurvivalModel:
    """Log-logistic AFT model ``log T = mu + x @ gamma + sigma L``, ``L`` standard logistic:
    ``S(t | x) = 1 / (1 + (t / a)^b)`` with ``a = exp(mu + x @ gamma)``, ``b = 1 / sigma``.

    Parameters and returns as :func:`lognormal_model`.
    """
    return _aft_model("logistic", "loglogistic", design, prior, baseline)
