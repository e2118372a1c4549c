"""Draw event times from the model families (numpy; for prediction, recovery and SBC).

Event times are drawn by inversion of the cumulative hazard: with ``E ~ Exp(1)``,
``T = H^{-1}(E)`` has survival function ``exp(-H(t))`` (Bender, Augustin & Blettner 2005,
*Stat Med* 24: "Generating survival times to simulate Cox proportional hazards models").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "censor",
    "piecewise_inverse_cumulative_hazard",
    "piecewise_times",
    "simulate_frame",
    "weibull_times",
]


def weibull_times(
    rng: np.random.Generator,
    log_alpha: np.ndarray | float,
    log_lambda: np.ndarray | float,
    eta: np.ndarray,
    time_scale: float,
) -> np.ndarray:
    """Weibull PH event times in months: ``t = s * (E / (lambda * exp(eta))) ** (1 / alpha)``.

    Parameters
    ----------
    rng : numpy.random.Generator
    log_alpha, log_lambda : float or ndarray
        Broadcastable against ``eta``.
    eta : ndarray
        Linear predictor(s).
    time_scale : float
        Reference time ``s``, months.

    Returns
    -------
    ndarray
        Event times, months, with the broadcast shape.
    """
    eta = np.asarray(eta, dtype=float)
    shape = np.broadcast_shapes(np.shape(log_alpha), np.shape(log_lambda), eta.shape)
    e = rng.exponential(size=shape)
    return time_scale * np.exp((np.log(e) - log_lambda - eta) / np.exp(log_alpha))


def piecewise_inverse_cumulative_hazard(
    target: np.ndarray,
    log_rate: np.ndarray,
    cuts: Sequence[float],
    time_scale: float,
) -> np.ndarray:
    """Solve ``H0(t) = target`` for a piecewise-constant baseline hazard.

    Parameters
    ----------
    target : ndarray, shape (..., m)
        Baseline cumulative hazard values (>= 0).
    log_rate : ndarray, shape (..., K)
        Log rate per ``time_scale`` months in each interval (leading dims broadcast with
        those of ``target``).
    cuts : sequence of float
        Interior cut points, months.
    time_scale : float

    Returns
    -------
    ndarray, shape (..., m)
        Times, months.
    """
    edges = np.concatenate([[0.0], np.asarray(cuts, dtype=float)])
    rate = np.exp(np.asarray(log_rate, dtype=float)) / time_scale  # per month
    widths = np.diff(edges)
    cum_at_edges = np.concatenate(
        [np.zeros((*rate.shape[:-1], 1)), np.cumsum(rate[..., :-1] * widths, axis=-1)], axis=-1
    )
    target = np.asarray(target, dtype=float)
    # interval k with cum_at_edges[k] <= target < cum_at_edges[k+1]
    k = (target[..., :, None] >= cum_at_edges[..., None, :]).sum(axis=-1) - 1
    cum_k = np.take_along_axis(cum_at_edges, k, axis=-1)
    rate_k = np.take_along_axis(rate, k, axis=-1)
    return edges[k] + (target - cum_k) / rate_k


def piecewise_times(
    rng: np.random.Generator,
    log_rate: np.ndarray,
    cuts: Sequence[float],
    eta: np.ndarray,
    time_scale: float,
) -> np.ndarray:
    """Piecewise-exponential PH event times in months.

    Parameters
    ----------
    rng : numpy.random.Generator
    log_rate : ndarray, shape (..., K)
        Log baseline rate per ``time_scale`` months per interval.
    cuts : sequence of float
        Interior cut points, months.
    eta : ndarray, shape (..., m)
        Linear predictors.
    time_scale : float

    Returns
    -------
    ndarray, shape (..., m)
    """
    eta = np.asarray(eta, dtype=float)
    e = rng.exponential(size=eta.shape)
    return piecewise_inverse_cumulative_hazard(e * np.exp(-eta), log_rate, cuts, time_scale)


def censor(
    rng: np.random.Generator,
    event_time: np.ndarray,
    max_follow_up_months: float,
    censoring_rate_per_month: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply administrative (at ``max_follow_up_months``) and random exponential censoring.

    Returns
    -------
    (time, event)
        Observed times (months) and 0/1 event indicators.
    """
    event_time = np.asarray(event_time, dtype=float)
    c = np.full(event_time.shape, float(max_follow_up_months))
    if censoring_rate_per_month > 0:
        c = np.minimum(c, rng.exponential(1.0 / censoring_rate_per_month, size=event_time.shape))
    time = np.minimum(event_time, c)
    return time, (event_time <= c).astype(int)


def simulate_frame(
    rng: np.random.Generator,
    n: int,
    beta: Sequence[float],
    family: str = "weibull",
    log_alpha: float = 0.2,
    log_lambda: float = -1.0,
    log_rate: Sequence[float] | None = None,
    cuts: Sequence[float] = (),
    time_scale: float = 12.0,
    max_follow_up_months: float = 60.0,
    censoring_rate_per_month: float = 0.01,
) -> pd.DataFrame:
    """A synthetic cohort with known log-HRs (for recovery tests, SBC and benchmarks).

    Covariates ``x1, x2, ...`` alternate binary (Bernoulli(0.5), 0/1) and continuous
    (standard normal).

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Patients.
    beta : sequence of float
        True log-HRs, one per covariate.
    family : {"weibull", "exponential", "piecewise"}
    log_alpha, log_lambda : float
        Weibull shape / baseline (log cumulative hazard at ``time_scale``); exponential
        uses ``log_alpha = 0``.
    log_rate, cuts : sequence of float
        Piecewise baseline: log rates per ``time_scale`` months and interior cuts.
    time_scale : float
        Months.
    max_follow_up_months, censoring_rate_per_month : float
        Censoring (see :func:`censor`).

    Returns
    -------
    DataFrame
        Columns ``time_months``, ``event``, ``x1`` ...
    """
    p = len(beta)
    cols = {}
    for j in range(p):
        cols[f"x{j + 1}"] = (
            rng.binomial(1, 0.5, n).astype(float) if j % 2 == 0 else rng.normal(size=n)
        )
    X = np.column_stack(list(cols.values())) if p else np.zeros((n, 0))
    eta = X @ np.asarray(beta, dtype=float)
    if family == "piecewise":
        if log_rate is None:
            raise ValueError("family 'piecewise' needs log_rate")
        t = piecewise_times(rng, np.asarray(log_rate, dtype=float), cuts, eta, time_scale)
    else:
        la = 0.0 if family == "exponential" else log_alpha
        t = weibull_times(rng, la, log_lambda, eta, time_scale)
    time, event = censor(rng, t, max_follow_up_months, censoring_rate_per_month)
    time = np.maximum(time, 1e-3)
    return pd.DataFrame({"time_months": time, "event": event, **cols})
