"""M-spline proportional-hazards model (the baseline of rstanarm's ``stan_surv``).

``h(t | x) = exp(log_scale) * sum_j w_j M_j(t) * exp(x @ beta)`` with a cubic M-spline basis
``M_j`` (:mod:`bayes_bcsm.models.splines`), simplex weights ``w ~ Dirichlet(1, ..., 1)`` and
cumulative hazard ``exp(log_scale) * sum_j w_j I_j(t) * exp(x @ beta)`` from the I-spline basis:
``exp(log_scale)`` is the baseline cumulative hazard at the last follow-up time (the upper
boundary knot), where every I-spline reaches 1.

Prior: ``log_scale ~ Normal(log_rate_mu + log(t_max / s), log_rate_sd)``, the exponential
model's prior on the rate per ``s`` months carried to the cumulative hazard over ``t_max``
months.

The bases at each row's time (and entry) are data nodes, so a compiled model refitted on new
data takes the new data's bases.

References
----------
Brilleman, S. L., Elci, E. M., Novik, J. B. and Wolfe, R. (2020). Bayesian survival analysis
using the rstanarm R package. arXiv:2002.09633.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_bcsm.data.design import Design
from bayes_bcsm.models.base import SurvivalModel, assemble, covariate_prior, row_dim
from bayes_bcsm.models.missing import MissingDesign
from bayes_bcsm.models.priors import BaselineSpec, PriorSpec
from bayes_bcsm.models.specs import SplineSpec
from bayes_bcsm.models.splines import SplineBasis

__all__ = ["mspline_model"]


def mspline_model(
    design: Design | MissingDesign,
    prior: PriorSpec | None = None,
    baseline: BaselineSpec | None = None,
    df: int = SplineSpec.df,
) -> SurvivalModel:
    """M-spline PH model (module docstring).

    Parameters
    ----------
    design : Design or MissingDesign
        Times in months, events, covariates.
    prior : PriorSpec, optional
        Prior on the log-HRs; default ``Normal(0, 1)``.
    baseline : BaselineSpec, optional
        Prior on ``log_scale`` (through ``log_rate_mu``, ``log_rate_sd``) and the time scale.
    df : int
        Number of basis functions (>= 4; ``df - 4`` interior knots at event-time quantiles).

    Returns
    -------
    SurvivalModel
        Free parameters ``log_scale``, ``spline_weights`` (dims ``basis``), ``beta``; the
        knots on ``knots_months``.
    """
    prior = prior or PriorSpec()
    baseline = baseline or BaselineSpec()
    SplineSpec(df=df)  # the one range rule
    base = design.design if isinstance(design, MissingDesign) else design
    basis = SplineBasis.from_data(base.time, base.event, df)
    s = baseline.time_scale_months
    rows = row_dim(base)

    def build(nodes: Mapping[str, Any], n_events: int) -> tuple[Any, Any, Any]:
        log_scale = pm.Normal(
            "log_scale", baseline.log_rate_mu + np.log(basis.upper / s), baseline.log_rate_sd
        )
        weights = pm.Dirichlet("spline_weights", np.ones(basis.df), dims="basis")
        beta = covariate_prior(prior, n_events)
        cumulative = nodes["i_basis"] @ weights
        if "i_basis_entry" in nodes:
            cumulative = cumulative - nodes["i_basis_entry"] @ weights
        return (
            log_scale + pt.log(nodes["m_basis"] @ weights),
            pt.exp(log_scale) * cumulative,
            beta,
        )

    extra = {
        "m_basis": (basis.m_basis(base.time), (rows, "basis")),
        "i_basis": (basis.i_basis(base.time), (rows, "basis")),
    }
    if base.entry is not None:
        extra["i_basis_entry"] = (basis.i_basis(base.entry), (rows, "basis"))
    coords = {"basis": [f"M{j + 1}" for j in range(basis.df)]}
    return assemble(
        design, "mspline", prior, baseline, build, extra, coords, knots_months=basis.knots
    )
