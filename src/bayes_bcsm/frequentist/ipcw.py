"""The censoring distribution G(t) = P(C > t) and inverse-probability-of-censoring weights.

G is the Kaplan-Meier estimator of the censoring times ("reverse" Kaplan-Meier): at each
distinct time t_k with c_k censorings, d_k events and n_k patients at risk (time >= t_k),
``G`` drops by the factor ``1 - c_k / (n_k - d_k)`` (events at t_k are taken to happen just
before the censorings at t_k). G is right-continuous: ``G(t)`` includes the drops at t.
This is scikit-survival's ``CensoringDistributionEstimator`` and the weight of Uno et al.
(2011), Graf et al. (1999) and Uno et al. (2007) as that package computes them.

References
----------
Graf, E., Schmoor, C., Sauerbrei, W., Schumacher, M. (1999). Assessment and comparison of
prognostic classification schemes for survival data. *Stat. Med.* 18, 2529-2545.
Uno, H., Cai, T., Pencina, M. J., D'Agostino, R. B., Wei, L. J. (2011). On the C-statistics
for evaluating overall adequacy of risk prediction procedures with censored survival data.
*Stat. Med.* 30, 1105-1117.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bayes_bcsm.frequentist._validate import as_survival_arrays

__all__ = ["CensoringDistribution", "as_horizons", "censoring_distribution"]


@dataclass(frozen=True)
class CensoringDistribution:
    """Kaplan-Meier estimate of the censoring survival function ``G(t) = P(C > t)``.

    Attributes
    ----------
    times : ndarray, shape (m,)
        Distinct follow-up times (time unit of the data), ascending.
    values : ndarray, shape (m,)
        ``G`` just after each of ``times`` (right-continuous step function).
    """

    times: np.ndarray
    values: np.ndarray

    def at(self, t: npt.ArrayLike) -> np.ndarray:
        """``G(t)``: 1 before the first time, the step value at or after each time.

        Raises
        ------
        ValueError
            When a ``t`` lies beyond the last follow-up time while ``G`` is still positive
            there: the censoring distribution is unknown beyond the data.
        """
        t = np.asarray(t, dtype=float)
        beyond = t > self.times[-1]
        if self.values[-1] > 0 and beyond.any():
            raise ValueError(
                f"time {float(t[beyond].max()):g} lies beyond the last follow-up time "
                f"{self.times[-1]:g}, where the censoring distribution is unknown"
            )
        position = np.searchsorted(self.times, t, side="right") - 1
        return np.where(position < 0, 1.0, self.values[np.maximum(position, 0)])

    def event_weights(
        self, time: np.ndarray, event: np.ndarray, before: float = np.inf
    ) -> np.ndarray:
        """``delta_i / G(T_i)``: the inverse-probability-of-censoring weight of each event
        before ``before`` (0 for censored rows and later events).

        Raises
        ------
        ValueError
            When ``G`` is 0 at a weighted event time (the weight is infinite).
        """
        weighted = (event == 1) & (time < before)
        g = self.at(time[weighted])
        if (g == 0).any():
            raise ValueError("the censoring distribution is zero at an event time")
        weights = np.zeros(len(time))
        weights[weighted] = 1.0 / g
        return weights


def censoring_distribution(time: npt.ArrayLike, event: npt.ArrayLike) -> CensoringDistribution:
    """The reverse Kaplan-Meier estimate of the censoring distribution.

    Parameters
    ----------
    time : array, shape (n,)
        Follow-up times (> 0, any unit).
    event : array, shape (n,)
        1 = event, 0 = censored (a censoring is the "event" of ``G``).

    Returns
    -------
    CensoringDistribution
        Constant 1 when nothing is censored.
    """
    time, event = as_survival_arrays(time, event)
    unique, inverse = np.unique(time, return_inverse=True)
    deaths = np.bincount(inverse, weights=event, minlength=unique.size)
    censored = np.bincount(inverse, weights=1 - event, minlength=unique.size)
    leaving = deaths + censored
    at_risk = np.cumsum(leaving[::-1])[::-1]
    denominator = at_risk - deaths
    ratio = np.divide(censored, denominator, out=np.zeros_like(censored), where=censored > 0)
    return CensoringDistribution(unique, np.cumprod(1.0 - ratio))


def as_horizons(times: npt.ArrayLike, time: np.ndarray) -> np.ndarray:
    """Horizons as a strictly increasing float array within the follow-up ``[min, max)``.

    Raises
    ------
    ValueError
        Naming the horizons and the follow-up range.
    """
    horizons = np.atleast_1d(np.asarray(times, dtype=float))
    if np.any(np.diff(horizons) <= 0):
        raise ValueError(f"horizons must be strictly increasing, got {horizons.tolist()}")
    if horizons[0] < time.min() or horizons[-1] >= time.max():
        raise ValueError(
            f"horizons must lie within the follow-up [{time.min():g}, {time.max():g}), "
            f"got {horizons.tolist()}"
        )
    return horizons
