"""Breslow's estimate of a Cox model's baseline cumulative hazard, and predicted survival.

``H0(t) = sum over distinct event times t_k <= t of d_k / sum_{j: T_j >= t_k} exp(lp_j)``,
and ``S(t | x) = exp(-H0(t) exp(lp(x)))``: what a fitted Cox model predicts for a patient
(lifelines' ``CoxPHFitter.predict_survival_function``, the test oracle).

References
----------
Breslow, N. E. (1972). Discussion of Professor Cox's paper. *J. R. Stat. Soc. B* 34, 216-217.
Therneau, T. M., Grambsch, P. M. (2000). *Modeling Survival Data*, section 10.2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bayes_bcsm.frequentist._validate import as_survival_arrays

__all__ = ["breslow_cumulative_hazard", "breslow_survival"]


def breslow_cumulative_hazard(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    linear_predictor: npt.ArrayLike,
    times: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """Breslow's baseline cumulative hazard ``H0`` (at linear predictor 0) at ``times``.

    Parameters
    ----------
    time, event : array, shape (n,)
        The data the Cox model was fitted on (any time unit; 1 = event, 0 = censored).
    linear_predictor : array, shape (n,)
        ``X @ beta`` of those rows.
    times : sequence of float
        Where to evaluate ``H0`` (unit of ``time``); carried flat beyond the last event.

    Returns
    -------
    ndarray, shape (len(times),)
    """
    time, event = as_survival_arrays(time, event)
    lp = np.asarray(linear_predictor, dtype=float)
    unique, inverse = np.unique(time, return_inverse=True)
    deaths = np.bincount(inverse, weights=event, minlength=unique.size)
    risk = np.bincount(inverse, weights=np.exp(lp - lp.max()), minlength=unique.size)
    at_risk = np.cumsum(risk[::-1])[::-1] * np.exp(lp.max())
    steps = np.cumsum(deaths / at_risk)
    position = np.searchsorted(unique, np.asarray(times, dtype=float), side="right") - 1
    return np.where(position < 0, 0.0, steps[np.maximum(position, 0)])


def breslow_survival(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    linear_predictor: npt.ArrayLike,
    new_linear_predictor: npt.ArrayLike,
    times: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """Predicted survival ``S(t | x) = exp(-H0(t) exp(lp(x)))`` of new patients.

    Parameters
    ----------
    time, event, linear_predictor
        As in :func:`breslow_cumulative_hazard` (the fitted data).
    new_linear_predictor : array, shape (m,)
        Linear predictors of the patients to predict, on the same scale.
    times : sequence of float
        Horizons (unit of ``time``).

    Returns
    -------
    ndarray, shape (m, len(times))
    """
    h0 = breslow_cumulative_hazard(time, event, linear_predictor, times)
    return np.exp(-np.exp(np.asarray(new_linear_predictor, dtype=float))[:, None] * h0[None, :])
