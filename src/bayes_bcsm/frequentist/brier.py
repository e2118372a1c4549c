"""Brier score at horizons and the integrated Brier score for right-censored data (IPCW).

At a horizon t, a patient with an event by t (``T_i <= t``, ``delta_i = 1``) contributes
``S(t | x_i)^2 / G(T_i)``, one still at risk after t contributes ``(1 - S(t | x_i))^2 / G(t)``,
and one censored by t contributes 0 (Graf et al. 1999); the Brier score is the mean of the
contributions. G is the Kaplan-Meier estimate of the censoring distribution (:mod:`.ipcw`),
evaluated at ``T_i`` itself (scikit-survival's ``brier_score``, the test oracle). The
integrated Brier score is the trapezoidal integral of the Brier score over the given times
divided by their range. The standard error of either is that of a mean of independent
per-patient contributions (the weights held fixed).

References
----------
Graf, E., Schmoor, C., Sauerbrei, W., Schumacher, M. (1999). Assessment and comparison of
prognostic classification schemes for survival data. *Stat. Med.* 18, 2529-2545.
Gerds, T. A., Schumacher, M. (2006). Consistent estimation of the expected Brier score in
general survival models with right-censored event times. *Biom. J.* 48, 1029-1040.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bayes_bcsm.frequentist._validate import as_survival_arrays
from bayes_bcsm.frequentist.ipcw import (
    CensoringDistribution,
    as_horizons,
    censoring_distribution,
)
from bayes_bcsm.frequentist.metric import MetricEstimate

__all__ = ["brier_contributions", "brier_score", "integrated_brier_score"]


def brier_contributions(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    survival: npt.ArrayLike,
    times: Sequence[float] | np.ndarray,
    censoring: CensoringDistribution | None = None,
) -> np.ndarray:
    """Each patient's IPCW contribution to the Brier score at each horizon.

    Parameters
    ----------
    time : array, shape (n,)
        Follow-up times (> 0, any unit).
    event : array, shape (n,)
        1 = event, 0 = censored.
    survival : array, shape (n, len(times))
        Predicted probability of surviving beyond each horizon, per patient.
    times : sequence of float
        Horizons, strictly increasing, within ``[min(time), max(time))`` (unit of ``time``).
    censoring : CensoringDistribution, optional
        The censoring distribution of the weights (e.g. of the whole cohort); default: the
        reverse Kaplan-Meier of ``time, event``.

    Returns
    -------
    ndarray, shape (n, len(times))
        Their column means are the Brier scores.

    Raises
    ------
    ValueError
        Horizons not increasing or outside the follow-up, or ``survival`` of the wrong
        shape or outside [0, 1].
    """
    time, event = as_survival_arrays(time, event)
    times = as_horizons(times, time)
    survival = np.asarray(survival, dtype=float).reshape(len(time), -1)
    if survival.shape[1] != len(times) or np.any((survival < 0) | (survival > 1)):
        raise ValueError(
            f"survival must hold probabilities of shape {(len(time), len(times))}, "
            f"got shape {survival.shape}"
        )
    censoring = censoring or censoring_distribution(time, event)
    inverse_at_time = _inverse(censoring.at(time))
    inverse_at_horizon = _inverse(censoring.at(times))
    case = (time[:, None] <= times[None, :]) & (event[:, None] == 1)
    control = time[:, None] > times[None, :]
    return (
        survival**2 * case * inverse_at_time[:, None]
        + (1.0 - survival) ** 2 * control * inverse_at_horizon[None, :]
    )


def _inverse(g: np.ndarray) -> np.ndarray:
    """``1 / G``, and 0 where G = 0 (no weight where nobody can remain uncensored)."""
    return np.divide(1.0, g, out=np.zeros_like(g), where=g > 0)


def _mean(values: np.ndarray) -> MetricEstimate:
    n = len(values)
    se = float(np.std(values, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return MetricEstimate(float(np.mean(values)), se)


def brier_score(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    survival: npt.ArrayLike,
    times: Sequence[float] | np.ndarray,
    censoring: CensoringDistribution | None = None,
) -> list[MetricEstimate]:
    """IPCW Brier score at each horizon (lower is better; 0.25 is a coin flip at S = 1/2).

    Parameters are those of :func:`brier_contributions`.

    Returns
    -------
    list of MetricEstimate
        One per horizon.
    """
    contributions = brier_contributions(time, event, survival, times, censoring)
    return [_mean(column) for column in contributions.T]


def integrated_brier_score(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    survival: npt.ArrayLike,
    times: Sequence[float] | np.ndarray,
    censoring: CensoringDistribution | None = None,
) -> MetricEstimate:
    """Integrated Brier score: ``int BS(t) dt / (t_last - t_first)`` by the trapezoidal rule.

    Parameters are those of :func:`brier_contributions` (at least two times: the grid).

    Returns
    -------
    MetricEstimate
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if len(times) < 2:
        raise ValueError("the integrated Brier score needs at least two times")
    contributions = brier_contributions(time, event, survival, times, censoring)
    per_patient = np.trapezoid(contributions, times, axis=1) / (times[-1] - times[0])
    return _mean(per_patient)
