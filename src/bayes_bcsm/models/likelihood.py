"""The one per-patient survival log-likelihood every model family shares.

For a patient followed to time ``t`` (months) with event indicator ``delta`` (1 = death,
0 = censored) the contribution is the log density of the observation ``(t, delta)``::

    log f(t, delta) = delta * log h(t) + log S(t) = delta * log h(t) - H(t)

with ``h`` the hazard *per month* and ``H`` the cumulative hazard. A family only has to
supply ``log h(t_i)`` and ``H(t_i)`` per patient (lifelines' design: the concrete model
is its hazard functions, the shared part is the likelihood). Because every family is
written on the same scale (density of ``t`` in months, one value per patient), the
pointwise log-likelihoods can be compared by PSIS-LOO across Weibull, exponential and
piecewise-exponential models. The Poisson-trick form (one row per patient x interval) is
deliberately *not* used: it differs by the data constant ``sum(delta * log t)`` and has
the wrong number of rows for LOO.

The hazard helpers take an array namespace ``xp`` (``pytensor.tensor`` by default,
``numpy`` for simulation and tests), so the formulas are written once.

Delayed entry (left truncation) and (start, stop] episodes: a row at risk on
``(start, stop]`` contributes ``delta * log h(stop) - [H(stop) - H(start)]``, the log density
of its observation conditional on being alive at ``start``. The cumulative-hazard helpers
take ``entry`` (the start, months; ``None`` = 0, the right-censored case, whose graph is
unchanged) and return ``H(stop) - H(start)``. Summed over a patient's episodes (covariates
constant within each), this is her right-censored contribution when the covariates do not
change, and the time-varying-covariate likelihood when they do.

References
----------
Klein, J. P. and Moeschberger, M. L. (2003). *Survival Analysis*, 2nd ed., sections 3.5
and 3.6 (likelihood for right-censored and left-truncated data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

__all__ = [
    "exposure_matrix",
    "interval_onehot",
    "observe_survival",
    "observe_survival_mixture",
    "piecewise_cumulative_hazard",
    "piecewise_log_hazard",
    "survival_log_density",
    "weibull_cumulative_hazard",
    "weibull_log_hazard",
]


def survival_log_density(event: Any, log_hazard: Any, cumulative_hazard: Any) -> Any:
    """Right-censored log density ``delta * log h(t) - H(t)``.

    Parameters
    ----------
    event : array or tensor
        1 = event observed at ``t``, 0 = censored at ``t``.
    log_hazard : array or tensor
        ``log h(t)`` with ``h`` per month.
    cumulative_hazard : array or tensor
        ``H(t)`` (dimensionless); ``H(stop) - H(start)`` for a row at risk on
        ``(start, stop]``.

    Returns
    -------
    array or tensor
        Log density of ``(t, delta)`` with respect to ``t`` in months (events) or
        log survival probability (censored).
    """
    return event * log_hazard - cumulative_hazard


# --------------------------------------------------------------------------- families
def weibull_log_hazard(
    time: Any,
    log_alpha: Any,
    log_lambda: Any,
    eta: Any,
    time_scale: float,
    xp: Any = pt,
    log_time_scaled: Any = None,
) -> Any:
    """Log hazard per month of the Weibull PH model.

    ``h(t | x) = (alpha / s) * lambda * (t / s) ** (alpha - 1) * exp(eta)`` where ``s`` is
    the time scale (months), ``lambda`` the baseline cumulative hazard at ``t = s``,
    ``alpha`` the shape and ``eta = x @ beta`` the linear predictor (``beta`` = log-HRs).

    Parameters
    ----------
    time : array or tensor
        Times, months (> 0).
    log_alpha, log_lambda : scalar or array
        Log shape and log baseline cumulative hazard at ``time_scale``.
    eta : array or tensor
        Linear predictor per patient.
    time_scale : float
        Reference time ``s`` in months (12 = rates per year).
    xp : module
        ``pytensor.tensor`` or ``numpy``.
    log_time_scaled : array or tensor, optional
        ``log(time / time_scale)`` computed once (a data node), so that a graph evaluated at
        every leapfrog step does not take ``n`` logarithms of data each time.

    Returns
    -------
    array or tensor
        ``log h(t)``.
    """
    alpha = xp.exp(log_alpha)
    log_t = xp.log(time / time_scale) if log_time_scaled is None else log_time_scaled
    return log_alpha - np.log(time_scale) + log_lambda + (alpha - 1.0) * log_t + eta


def weibull_cumulative_hazard(
    time: Any,
    log_alpha: Any,
    log_lambda: Any,
    eta: Any,
    time_scale: float,
    xp: Any = pt,
    entry: Any = None,
    log_time_scaled: Any = None,
) -> Any:
    """Cumulative hazard ``H(t | x) = lambda * (t / s) ** alpha * exp(eta)`` (see
    :func:`weibull_log_hazard` for the parameters, ``log_time_scaled`` included).

    With ``entry`` (months, ``0 <= entry < time``; array or tensor), the hazard accumulated
    on ``(entry, time]``: ``lambda * exp(eta) * [(t / s) ** alpha - (entry / s) ** alpha]``.
    Entries of 0 contribute exactly 0, with finite gradients.
    """
    alpha = xp.exp(log_alpha)
    log_t = xp.log(time / time_scale) if log_time_scaled is None else log_time_scaled
    if entry is None:
        return xp.exp(log_lambda + eta + alpha * log_t)
    entered = entry > 0
    # (entry / s) ** alpha, written so that entry = 0 gives 0 without log(0) in the graph
    safe = xp.where(entered, entry, time_scale)
    at_entry = xp.where(entered, xp.exp(alpha * xp.log(safe / time_scale)), 0.0)
    at_time = xp.exp(alpha * log_t)
    return xp.exp(log_lambda + eta) * (at_time - at_entry)


def exposure_matrix(
    time: np.ndarray, cuts: Sequence[float], entry: np.ndarray | None = None
) -> np.ndarray:
    """Time each patient (or episode) spends at risk in each baseline interval.

    Parameters
    ----------
    time : ndarray, shape (n,)
        Follow-up times (episode stops), months.
    cuts : sequence of float
        Interior cut points in months, strictly increasing and > 0. The intervals are
        ``[0, c1), [c1, c2), ..., [cK-1, inf)``.
    entry : ndarray, shape (n,), optional
        Entry times (episode starts), months, ``0 <= entry < time``; None = 0.

    Returns
    -------
    ndarray, shape (n, K)
        ``E[i, k] = |[entry_i, t_i) ∩ interval k|`` in months; rows sum to
        ``t_i - entry_i``.
    """
    time = np.asarray(time, dtype=float)
    edges = np.concatenate([[0.0], np.asarray(cuts, dtype=float)])
    upper = np.concatenate([np.asarray(cuts, dtype=float), [np.inf]])
    exposure = np.clip(time[:, None] - edges[None, :], 0.0, upper - edges)
    if entry is None:
        return exposure
    before = np.clip(np.asarray(entry, dtype=float)[:, None] - edges[None, :], 0.0, upper - edges)
    return exposure - before


def interval_onehot(time: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """One-hot indicator of the interval containing each time (same intervals as
    :func:`exposure_matrix`), shape ``(n, K)``."""
    idx = np.searchsorted(
        np.asarray(cuts, dtype=float), np.asarray(time, dtype=float), side="right"
    )
    out = np.zeros((len(idx), len(cuts) + 1))
    out[np.arange(len(idx)), idx] = 1.0
    return out


def piecewise_log_hazard(onehot: Any, log_rate: Any, eta: Any, time_scale: float) -> Any:
    """Log hazard per month of the piecewise-exponential PH model at each patient's time.

    Parameters
    ----------
    onehot : array or tensor, shape (n, K)
        Interval containing ``t_i`` (:func:`interval_onehot`).
    log_rate : array or tensor, shape (K,)
        Baseline log hazard per ``time_scale`` months in each interval.
    eta : array or tensor, shape (n,)
        Linear predictor.
    time_scale : float
        Months per rate unit (12 = rates per person-year).

    Returns
    -------
    array or tensor, shape (n,)
    """
    return onehot @ log_rate - np.log(time_scale) + eta


def piecewise_cumulative_hazard(
    exposure: Any, log_rate: Any, eta: Any, time_scale: float, xp: Any = pt
) -> Any:
    """``H(t_i) = exp(eta_i) * sum_k E[i, k] * exp(log_rate_k) / time_scale`` (exposure in
    months, see :func:`exposure_matrix`; an exposure built with ``entry`` gives
    ``H(t_i) - H(entry_i)``)."""
    return xp.exp(eta) * ((exposure / time_scale) @ xp.exp(log_rate))


# --------------------------------------------------------------------- observed nodes
def _survival_logp(value: Any, log_hazard: Any, cumulative_hazard: Any, event: Any) -> Any:
    return survival_log_density(event, log_hazard, cumulative_hazard)


def _episodes_logp(
    value: Any, log_hazard: Any, cumulative_hazard: Any, event: Any, patient: Any
) -> Any:
    per_episode = survival_log_density(event, log_hazard, cumulative_hazard)
    return pt.inc_subtensor(pt.zeros_like(value)[patient], per_episode)  # sums duplicates


def observe_survival(
    name: str,
    time: Any,
    event: Any,
    log_hazard: Any,
    cumulative_hazard: Any,
    dims: str = "patient",
    patient: Any = None,
) -> Any:
    """Add the per-patient survival likelihood as an *observed* variable to the model in
    context.

    A ``pm.CustomDist`` (not ``pm.Potential``) so that sampling can store one
    log-likelihood value per patient in the DataTree's ``log_likelihood`` group.

    Parameters
    ----------
    name : str
        Name of the observed variable (also its name in ``log_likelihood``).
    time : tensor, shape (n,)
        Observed times, months (the ``pm.Data`` node); one per patient (her end of
        follow-up) when ``patient`` is given.
    event : tensor, shape (n,) or (n_episodes,)
        Event indicators (per episode with ``patient``).
    log_hazard, cumulative_hazard : tensor, shape (n,) or (n_episodes,)
        ``log h(t_i)`` and ``H(t_i)`` from a family; per (start, stop] episode with
        ``patient``: ``log h(stop)`` and ``H(stop) - H(start)``.
    dims : str
        Patient dimension name.
    patient : tensor of int, shape (n_episodes,), optional
        Position (0..n-1) of each episode's patient. The pointwise log-likelihood is then
        the sum over a patient's episodes, so LOO leaves out patients, not episodes. None:
        one row per patient (the graph is the right-censored one).

    Returns
    -------
    TensorVariable
        The observed variable.
    """
    if patient is None:
        return pm.CustomDist(
            name,
            log_hazard,
            cumulative_hazard,
            event,
            logp=_survival_logp,
            observed=time,
            dims=dims,
        )
    return pm.CustomDist(
        name,
        log_hazard,
        cumulative_hazard,
        event,
        patient,
        logp=_episodes_logp,
        observed=time,
        dims=dims,
        signature="(e),(e),(e),(e)->()",
    )


def _mixture_logp(
    value: Any, log_hazard: Any, cumulative_hazard: Any, event: Any, log_weight: Any
) -> Any:
    per_level = survival_log_density(event[..., None], log_hazard, cumulative_hazard)
    return pt.logsumexp(per_level + log_weight, axis=-1)


def observe_survival_mixture(
    name: str,
    time: Any,
    event: Any,
    log_hazard: Any,
    cumulative_hazard: Any,
    log_weight: Any,
    dims: str = "patient",
) -> Any:
    """Per-patient likelihood summed exactly over the levels of a missing covariate.

    ``log p_i = logsumexp_l [delta_i log h_il(t_i) - H_il(t_i) + log w_il]`` where
    ``w_il = P(Z_i = l | x_i)`` restricted to the levels compatible with what was
    observed (``log w = -inf`` for the other levels). With weights normalised over the
    compatible levels (as :func:`bayes_bcsm.models.base.assemble` passes them) this is
    ``log p(t, delta | x, z)`` for a patient whose ``Z`` is observed and the marginal
    ``log p(t, delta | x)`` for a patient with ``Z`` missing; with unnormalised weights
    ``P(Z = l | x)`` it would be the joint density of ``(t, delta, z)``.

    Parameters
    ----------
    name, time, event, dims
        As in :func:`observe_survival`.
    log_hazard, cumulative_hazard, log_weight : tensor, shape (n, L)
        Per patient and level.

    Returns
    -------
    TensorVariable
    """
    return pm.CustomDist(
        name,
        log_hazard,
        cumulative_hazard,
        event,
        log_weight,
        logp=_mixture_logp,
        observed=time,
        dims=dims,
        signature="(l),(l),(),(l)->()",
    )
