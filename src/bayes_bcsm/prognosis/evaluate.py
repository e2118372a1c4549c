"""Every prognostic metric of one set of predictions, by name (PyMC-free).

Names (h: a horizon in months, written as ``f"{h:g}"``): ``harrell_c``, ``uno_c`` (truncated
at ``tau``), ``td_auc_<h>``, ``brier_<h>``, ``ibs`` (over the cohort's grid),
``calibration_slope`` and ``calibration_intercept`` (at the calibration horizon). Definitions:
:mod:`bayes_bcsm.frequentist.concordance`, :mod:`~bayes_bcsm.frequentist.brier`,
:mod:`~bayes_bcsm.frequentist.horizon_calibration`. The censoring weights come from one
censoring distribution, estimated once on the whole cohort and shared by every evaluation.
"""

from __future__ import annotations

import numpy as np

from bayes_bcsm.frequentist.brier import brier_score, integrated_brier_score
from bayes_bcsm.frequentist.concordance import (
    cumulative_dynamic_auc,
    harrell_concordance,
    uno_concordance,
)
from bayes_bcsm.frequentist.horizon_calibration import HorizonCalibration, calibration_at_horizon
from bayes_bcsm.frequentist.ipcw import CensoringDistribution
from bayes_bcsm.frequentist.metric import MetricEstimate
from bayes_bcsm.prognosis.predictors import Cohort, Prediction

__all__ = ["calibration_of", "evaluate", "metric_names"]


def _label(h: float) -> str:
    return f"{h:g}"


def metric_names(horizons: np.ndarray) -> list[str]:
    """The metrics :func:`evaluate` returns, in order."""
    return [
        "harrell_c",
        "uno_c",
        *(f"td_auc_{_label(h)}" for h in horizons),
        *(f"brier_{_label(h)}" for h in horizons),
        "ibs",
        "calibration_slope",
        "calibration_intercept",
    ]


def calibration_of(
    cohort: Cohort, prediction: Prediction, calibration_months: float, n_groups: int = 3
) -> HorizonCalibration:
    """Calibration at ``calibration_months`` (one of the cohort's horizons)."""
    k = int(np.flatnonzero(np.isclose(cohort.horizons, calibration_months))[0])
    g = int(np.searchsorted(cohort.grid, cohort.horizons[k]))
    return calibration_at_horizon(
        cohort.time,
        cohort.events,
        prediction.survival[:, g],
        prediction.exit_survival[:, k],
        float(cohort.horizons[k]),
        n_groups=n_groups,
    )


def evaluate(
    cohort: Cohort,
    prediction: Prediction,
    censoring: CensoringDistribution,
    tau: float,
    calibration_months: float,
) -> dict[str, MetricEstimate]:
    """Every metric of predictions made for all the cohort's patients (in its row order).

    Parameters
    ----------
    cohort : Cohort
    prediction : Prediction
        One prediction per patient (apparent: fitted on everyone; cross-validated: each
        patient predicted by the model not fitted on her).
    censoring : CensoringDistribution
        Of the whole cohort.
    tau : float
        Truncation of Uno's C (months).
    calibration_months : float
        Horizon of the calibration slope and intercept (one of ``cohort.horizons``).

    Returns
    -------
    dict of str to MetricEstimate
        Keys :func:`metric_names`.
    """
    time, event = cohort.time, cohort.events
    on_grid = np.searchsorted(cohort.grid, cohort.horizons)
    results = {
        "harrell_c": harrell_concordance(time, event, prediction.risk),
        "uno_c": uno_concordance(time, event, prediction.risk, tau=tau, censoring=censoring),
    }
    auc = cumulative_dynamic_auc(time, event, prediction.risk, cohort.horizons, censoring)
    brier = brier_score(time, event, prediction.survival[:, on_grid], cohort.horizons, censoring)
    for h, a, b in zip(cohort.horizons, auc, brier, strict=True):
        results[f"td_auc_{_label(h)}"] = a
        results[f"brier_{_label(h)}"] = b
    results["ibs"] = integrated_brier_score(
        time, event, prediction.survival, cohort.grid, censoring
    )
    calibration = calibration_of(cohort, prediction, calibration_months)
    results["calibration_slope"] = calibration.slope
    results["calibration_intercept"] = calibration.intercept
    return {name: results[name] for name in metric_names(cohort.horizons)}
