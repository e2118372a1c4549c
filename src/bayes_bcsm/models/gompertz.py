"""Gompertz proportional-hazards model.

``h(t | x) = (lambda / s) exp(shape t / s) exp(x @ beta)``: the baseline hazard at time 0 is
``lambda`` per ``s`` months (``BaselineSpec.time_scale_months``) and changes by the factor
``exp(shape)`` every ``s`` months (rising for ``shape > 0``, falling for ``shape < 0``, constant,
the exponential model, at ``shape = 0``). The cumulative hazard is
``H0(t) = lambda (t / s) g(shape t / s)`` with ``g(u) = (e^u - 1) / u`` (``g(0) = 1``); with a
falling hazard ``H0`` tends to ``-lambda / shape``, so a fraction ``exp(lambda e^eta / shape)``
never has the event (survival curves level off; median and event times may be infinite).

Priors: ``log_lambda ~ Normal(log_rate_mu, log_rate_sd)`` (the exponential's), ``shape ~
Normal(0, log_alpha_sd)`` (about the exponential model, on the same scale as the Weibull's log
shape).

References
----------
Gompertz, B. (1825). On the nature of the function expressive of the law of human mortality.
*Philosophical Transactions of the Royal Society* 115:513-583. Parametrisation of flexsurv's
``dgompertz`` (Jackson 2016, *J Stat Softw* 70(8)), with times per ``s``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_bcsm.data.design import Design
from bayes_bcsm.models.base import SurvivalModel, assemble, covariate_prior
from bayes_bcsm.models.missing import MissingDesign
from bayes_bcsm.models.priors import BaselineSpec, PriorSpec

__all__ = [
    "gompertz_cumulative_hazard",
    "gompertz_inverse_cumulative_hazard",
    "gompertz_log_hazard",
    "gompertz_model",
]

#: Below this ``|shape t / s|`` the series ``1 + u/2 + u^2/6 + u^3/24`` replaces ``expm1(u) / u``
#: (relative error < 1e-20 there; the quotient itself loses digits as ``u -> 0``).
_SERIES = 1e-5


def _expm1_over(u: Any, xp: Any) -> Any:
    """``(e^u - 1) / u``, 1 at ``u = 0``, with finite gradients near it."""
    small = xp.abs(u) < _SERIES
    safe = xp.where(small, 1.0, u)
    return xp.where(small, 1.0 + u / 2.0 + u**2 / 6.0 + u**3 / 24.0, xp.expm1(safe) / safe)


def gompertz_log_hazard(
    time: Any, log_lambda: Any, shape: Any, eta: Any, time_scale: float, xp: Any = pt
) -> Any:
    """``log h(t | x) = log_lambda - log s + shape t / s + eta`` (per month).

    Parameters
    ----------
    time : array or tensor
        Times, months.
    log_lambda : scalar or array
        Log baseline hazard at time 0 per ``time_scale`` months.
    shape : scalar or array
        Change of the log hazard per ``time_scale`` months.
    eta : array or tensor
        Linear predictor (log-HR).
    time_scale : float
        ``s``, months.
    xp : module
        ``pytensor.tensor`` or ``numpy``.
    """
    return log_lambda - np.log(time_scale) + shape * time / time_scale + eta


def gompertz_cumulative_hazard(
    time: Any,
    log_lambda: Any,
    shape: Any,
    eta: Any,
    time_scale: float,
    xp: Any = pt,
    entry: Any = None,
) -> Any:
    """``H(t | x) = lambda (t / s) g(shape t / s) e^eta`` (module docstring); with ``entry``
    (months) the hazard accumulated on ``(entry, t]`` (``H`` is 0 at 0, so entries of 0
    contribute exactly 0)."""

    def h0(t: Any) -> Any:
        u = t / time_scale
        return u * _expm1_over(shape * u, xp)

    at = h0(time) if entry is None else h0(time) - h0(entry)
    return xp.exp(log_lambda + eta) * at


def gompertz_inverse_cumulative_hazard(
    target: np.ndarray, log_lambda: Any, shape: Any, time_scale: float
) -> np.ndarray:
    """Solve ``H0(t) = target`` (baseline, ``eta = 0``): ``t = (s / shape) log(1 + shape
    target / lambda)``, ``s target / lambda`` at ``shape = 0``, and ``inf`` where a falling
    hazard never accumulates ``target`` (``1 + shape target / lambda <= 0``)."""
    r = np.asarray(target, dtype=float) / np.exp(log_lambda)  # H0 in units of lambda
    u = shape * r
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.abs(u) < _SERIES, 1.0 - u / 2.0 + u**2 / 3.0, np.log1p(u) / u)
    return np.where(u <= -1.0, np.inf, time_scale * r * ratio)


def gompertz_model(
    design: Design | MissingDesign,
    prior: PriorSpec | None = None,
    baseline: BaselineSpec | None = None,
) -> SurvivalModel:
    """Gompertz PH model (module docstring).

    Parameters
    ----------
    design : Design or MissingDesign
        Times in months, events, covariates.
    prior : PriorSpec, optional
        Prior on the log-HRs; default ``Normal(0, 1)``.
    baseline : BaselineSpec, optional
        Priors on ``log_lambda`` and ``shape`` and the time scale.

    Returns
    -------
    SurvivalModel
        Free parameters ``log_lambda``, ``shape``, ``beta``.
    """
    prior = prior or PriorSpec()
    baseline = baseline or BaselineSpec()
    s = baseline.time_scale_months

    def build(nodes: Mapping[str, Any], n_events: int) -> tuple[Any, Any, Any]:
        log_lambda = pm.Normal("log_lambda", baseline.log_rate_mu, baseline.log_rate_sd)
        shape = pm.Normal("shape", 0.0, baseline.log_alpha_sd)
        beta = covariate_prior(prior, n_events)
        t = nodes["time_months"]
        return (
            gompertz_log_hazard(t, log_lambda, shape, 0.0, s),
            gompertz_cumulative_hazard(
                t, log_lambda, shape, 0.0, s, entry=nodes.get("entry_months")
            ),
            beta,
        )

    return assemble(design, "gompertz", prior, baseline, build)
