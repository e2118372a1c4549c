"""Posterior predictive check of right-censored data: predictions censored as the data are.

A model predicts event times; the data are event times *or* censoring times. Comparing the
Kaplan-Meier curve of the data with the empirical survival of uncensored predictions (what
``arviz.plot_ppc_censored`` draws) makes a correct model look wrong on any heavily censored
cohort: the predicted curves fall to 0 where the data's curve stops. Here each predicted time is
censored as the patient's own time was:

- a censored patient keeps their observed censoring time ``c_i``;
- for a patient with an event the censoring time was not seen, so it is drawn from the
  censoring distribution (the reverse Kaplan-Meier: censorings as the events) conditional on
  ``C >= t_i`` (the patient was still under follow-up at their event); where that distribution
  has mass left after its last censoring time, that share of draws is never censored.

The predicted data ``(min(T, C), T <= C)`` then have the observed data's censoring, and the
Kaplan-Meier curves of the replicates form a band the observed curve should lie within when the
model fits (Gelman et al., *Bayesian Data Analysis*, 3rd ed., section 6.3, replicate the data
*including* the observation process).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayes_bcsm.frequentist.km import kaplan_meier, kaplan_meier_rows

__all__ = ["CensoredPPC", "censored_ppc", "censoring_draws"]

#: Points of the time grid on which the curves are compared.
GRID_POINTS = 200


@dataclass(frozen=True)
class CensoredPPC:
    """Kaplan-Meier curves of the data and of censored posterior predictive replicates.

    Attributes
    ----------
    times_months : ndarray
        Time grid (months), 0 to the last observed time.
    observed : ndarray
        Kaplan-Meier survival of the data on the grid.
    predicted : ndarray
        Kaplan-Meier survival of each censored replicate on the grid, shape
        ``(replicate, time)``.
    """

    times_months: np.ndarray
    observed: np.ndarray
    predicted: np.ndarray

    def band(self, prob: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise equal-tailed band of the replicates' curves, probability ``prob``."""
        tail = (1 - prob) / 2
        lower, upper = np.quantile(self.predicted, [tail, 1 - tail], axis=0)
        return lower, upper

    def coverage(self, prob: float = 0.95) -> float:
        """Share of grid points at which the observed curve lies within :meth:`band`."""
        lower, upper = self.band(prob)
        return float(np.mean((self.observed >= lower) & (self.observed <= upper)))


def censoring_draws(
    time: np.ndarray, event: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Censoring times of each patient, ``size`` draws, as the module docstring describes.

    Parameters
    ----------
    time : ndarray, shape (n,)
        Observed times (months).
    event : ndarray of {0, 1}, shape (n,)
        1 = event at ``time``, 0 = censored at ``time``.
    size : int
        Number of draws (replicates).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (size, n)
        Censoring time (months); ``inf`` where a patient is never censored.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    out = np.broadcast_to(time, (size, time.size)).copy()
    if event.all():  # no censoring seen: nobody is censored in the replicates
        out[:] = np.inf
        return out
    reverse = kaplan_meier(time, (~event).astype(int)).table
    jumps = reverse[reverse["events"] > 0]
    support = jumps["time"].to_numpy()
    before = np.concatenate([[1.0], reverse["survival"].to_numpy()[:-1]])
    mass = before[reverse["events"].to_numpy() > 0] - jumps["survival"].to_numpy()
    cumulative = np.cumsum(mass)
    first = np.searchsorted(support, time[event], side="left")
    already = np.concatenate([[0.0], cumulative])[first]
    remaining = 1.0 - already  # mass of C >= t_i, the tail beyond the support included
    target = already + rng.uniform(size=(size, first.size)) * remaining
    index = np.searchsorted(cumulative, target, side="right")
    drawn = np.where(index < support.size, support[np.minimum(index, support.size - 1)], np.inf)
    out[:, event] = drawn
    return out


def censored_ppc(
    predicted_months: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    rng: np.random.Generator,
    n_replicates: int = 200,
) -> CensoredPPC:
    """Kaplan-Meier curves of the data and of ``n_replicates`` censored predictive replicates.

    Parameters
    ----------
    predicted_months : ndarray, shape (..., n)
        Predicted event times (months), e.g. ``(chain, draw, patient)`` from
        :func:`bayes_bcsm.inference.predictive.predict_times`.
    time, event : ndarray, shape (n,)
        The observed data (months; 1 = event, 0 = censored).
    rng : numpy.random.Generator
        Chooses the replicates and draws the censoring times.
    n_replicates : int
        Replicates drawn (without replacement) from the predictive draws.

    Returns
    -------
    CensoredPPC
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(int)
    flat = np.asarray(predicted_months, dtype=float).reshape(-1, time.size)
    chosen = rng.choice(flat.shape[0], size=min(n_replicates, flat.shape[0]), replace=False)
    predicted = flat[chosen]
    censor = censoring_draws(time, event, len(chosen), rng)
    grid = np.linspace(0.0, time.max(), GRID_POINTS)
    seen = np.minimum(predicted, censor)
    curves = kaplan_meier_rows(seen, (predicted <= censor).astype(int), grid)
    observed = kaplan_meier(time, event).survival_at(grid, extend=True)["survival"].to_numpy()
    return CensoredPPC(grid, observed, curves)
