"""Calibration of predicted survival at a horizon t0: by risk group, slope, intercept, curve.

Definitions (predicted survival ``S_i = S(t0 | x_i)``, ``c_i = log(-log S_i)``, follow-up
stopped at t0: ``T*_i = min(T_i, t0)``, ``delta*_i = delta_i 1(T_i <= t0)``):

* **Groups**: patients split into equal-sized groups by the quantiles of ``S_i``; per group
  the mean predicted ``S_i`` beside the Kaplan-Meier ``S(t0)`` of the group (log band).
* **Calibration slope**: the coefficient of ``c_i`` in a Cox model of ``(T*, delta*)``.
  1 for a calibrated model; below 1 when predictions are too extreme (overfitting), e.g. 0.5
  when the linear predictor is twice what it should be (Cox 1958; Crowson et al. 2016).
* **Calibration intercept** (calibration-in-the-large): ``log(O / E)``, O the events by t0 and
  E the sum of the predicted cumulative hazards ``-log S(T*_i | x_i)``, with SE ``1/sqrt(O)``
  (Poisson; Crowson et al. 2016). 0 when the predicted event counts are right overall.
* **Smoothed curve**: a Cox model of ``(T*, delta*)`` on a restricted cubic spline of ``c_i``
  (knots at its 10th, 50th and 90th percentiles) gives the observed ``S(t0)`` as a smooth
  function of the predicted one (Austin, Harrell & van Klaveren 2020).

References
----------
Crowson, C. S., Atkinson, E. J., Therneau, T. M. (2016). Assessing calibration of prognostic
risk scores. *Stat. Methods Med. Res.* 25, 1692-1706.
Austin, P. C., Harrell, F. E., van Klaveren, D. (2020). Graphical calibration curves and the
integrated calibration index (ICI) for survival models. *Stat. Med.* 39, 2714-2742.
Harrell, F. E. (2015). *Regression Modeling Strategies*, 2nd ed., section 2.4.5 (splines).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from bayes_bcsm.frequentist._validate import as_survival_arrays
from bayes_bcsm.frequentist.breslow import breslow_cumulative_hazard
from bayes_bcsm.frequentist.cox import cox_ph
from bayes_bcsm.frequentist.ipcw import as_horizons
from bayes_bcsm.frequentist.km import kaplan_meier
from bayes_bcsm.frequentist.metric import MetricEstimate

__all__ = ["HorizonCalibration", "calibration_at_horizon", "calibration_slope"]

#: Predicted survival is kept inside [_EPS, 1 - 1e-16] before the log(-log) transform
#: (the smallest positive double: a cumulative hazard up to ~708).
_EPS = float(np.finfo(float).tiny)


@dataclass(frozen=True)
class HorizonCalibration:
    """Calibration of predicted survival at one horizon.

    Attributes
    ----------
    horizon : float
        t0 (unit of the follow-up times).
    groups : DataFrame
        One row per risk group: ``group`` (1 = highest predicted survival), ``n``,
        ``predicted`` (mean predicted S(t0)), ``observed`` (Kaplan-Meier S(t0)), ``lower``,
        ``upper`` (its 95% log band).
    slope, intercept : MetricEstimate
        See the module docstring.
    curve : DataFrame
        ``predicted``, ``observed``: the smoothed calibration curve on a grid of predicted
        S(t0) from the 5th to the 95th percentile.
    """

    horizon: float
    groups: pd.DataFrame
    slope: MetricEstimate
    intercept: MetricEstimate
    curve: pd.DataFrame


def _stopped(time: np.ndarray, event: np.ndarray, horizon: float) -> pd.DataFrame:
    return pd.DataFrame({"time": np.minimum(time, horizon), "event": event * (time <= horizon)})


def _cloglog(survival: np.ndarray) -> np.ndarray:
    return np.log(-np.log(np.clip(survival, _EPS, 1 - 1e-16)))


def calibration_slope(
    time: npt.ArrayLike, event: npt.ArrayLike, survival: npt.ArrayLike, horizon: float
) -> MetricEstimate:
    """Calibration slope at ``horizon``: the Cox coefficient of ``log(-log S(t0 | x))``.

    Parameters
    ----------
    time, event : array, shape (n,)
        Follow-up (any unit) and 1 = event, 0 = censored.
    survival : array, shape (n,)
        Predicted survival beyond ``horizon`` per patient.
    horizon : float
        t0, unit of ``time``.

    Returns
    -------
    MetricEstimate
        Coefficient and its model-based SE (inverse information).
    """
    time, event = as_survival_arrays(time, event)
    frame = _stopped(time, event, horizon).assign(c=_cloglog(np.asarray(survival, dtype=float)))
    fit = cox_ph(frame, "time", "event", ["c"])
    return MetricEstimate(float(fit.coef[0]), float(fit.se[0]))


def _spline_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Restricted cubic spline with three knots: x and one non-linear column (Harrell)."""
    k1, k2, k3 = knots

    def cube(v: np.ndarray) -> np.ndarray:
        return np.maximum(v, 0.0) ** 3

    extra = (
        cube(x - k1) - cube(x - k2) * (k3 - k1) / (k3 - k2) + cube(x - k3) * (k2 - k1) / (k3 - k2)
    ) / (k3 - k1) ** 2
    return np.column_stack([x, extra])


def _smoothed_curve(
    time: np.ndarray, event: np.ndarray, survival: np.ndarray, horizon: float
) -> pd.DataFrame:
    c = _cloglog(survival)
    knots = np.quantile(c, [0.1, 0.5, 0.9])
    frame = _stopped(time, event, horizon)
    if len(np.unique(knots)) < 3 or frame["event"].sum() < 3:
        return pd.DataFrame({"predicted": [], "observed": []})
    basis = _spline_basis(c, knots)
    frame = frame.assign(s1=basis[:, 0], s2=basis[:, 1])
    fit = cox_ph(frame, "time", "event", ["s1", "s2"])
    lp = basis @ fit.coef
    h0 = breslow_cumulative_hazard(frame["time"], frame["event"], lp, [horizon])[0]
    grid = np.linspace(*np.quantile(survival, [0.05, 0.95]), 50)
    observed = np.exp(-h0 * np.exp(_spline_basis(_cloglog(grid), knots) @ fit.coef))
    return pd.DataFrame({"predicted": grid, "observed": observed})


def calibration_at_horizon(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    survival: npt.ArrayLike,
    survival_at_exit: npt.ArrayLike,
    horizon: float,
    n_groups: int = 3,
) -> HorizonCalibration:
    """Calibration of predicted survival at ``horizon`` (see the module docstring).

    Parameters
    ----------
    time, event : array, shape (n,)
        Follow-up (any unit) and 1 = event, 0 = censored.
    survival : array, shape (n,)
        Predicted ``S(t0 | x_i)``.
    survival_at_exit : array, shape (n,)
        Predicted ``S(min(T_i, t0) | x_i)``: each patient's predicted survival at the end of
        her follow-up stopped at t0 (for the expected event count of the intercept).
    horizon : float
        t0, unit of ``time``, below the last follow-up time.
    n_groups : int
        Number of risk groups (>= 2).

    Returns
    -------
    HorizonCalibration
    """
    time, event = as_survival_arrays(time, event)
    survival = np.asarray(survival, dtype=float)
    if n_groups < 2:
        raise ValueError(f"n_groups must be at least 2, got {n_groups}")
    as_horizons([horizon], time)
    order = np.argsort(-survival, kind="stable")
    rows = []
    for g, members in enumerate(np.array_split(order, n_groups), start=1):
        band = kaplan_meier(time[members], event[members]).survival_at([horizon], extend=True)
        rows.append(
            (
                g,
                len(members),
                float(survival[members].mean()),
                *band.iloc[0][["survival", "lower", "upper"]].astype(float),
            )
        )
    groups = pd.DataFrame(rows, columns=["group", "n", "predicted", "observed", "lower", "upper"])
    observed_events = float(np.sum(event * (time <= horizon)))
    expected = float(-np.log(np.clip(np.asarray(survival_at_exit, dtype=float), _EPS, 1)).sum())
    intercept = MetricEstimate(
        float(np.log(observed_events / expected)) if observed_events else float("-inf"),
        float(1 / np.sqrt(observed_events)) if observed_events else float("nan"),
    )
    return HorizonCalibration(
        horizon,
        groups,
        calibration_slope(time, event, survival, horizon),
        intercept,
        _smoothed_curve(time, event, survival, horizon),
    )
