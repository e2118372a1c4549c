"""What a prognosis run found, as the report reads it (PyMC-free): the metrics table, the
cross-validated calibration of each predictor, and the paired comparison of the best model
with the best score (computed by :func:`bayes_bcsm.prognosis.collect.summarise`)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bayes_bcsm.frequentist.horizon_calibration import HorizonCalibration
from bayes_bcsm.frequentist.metric import MetricEstimate

__all__ = ["PrognosisSummary"]


@dataclass(frozen=True)
class PrognosisSummary:
    """A prognosis run's results.

    Attributes
    ----------
    metrics : DataFrame
        Every predictor x metric x evaluation (``prognosis_metrics.csv``).
    calibration : dict of str to HorizonCalibration
        Each predictor's calibration of its cross-validated predictions (averaged over
        repeats) at the calibration horizon.
    n_patients, n_events, folds, repeats : int
    horizons_months : tuple of float
    calibration_months : float
    best_score, best_model : str or None
        The score and the model with the highest cross-validated Harrell's C.
    difference : MetricEstimate or None
        Paired cross-validated C(best model) - C(best score).
    deaths_by_horizon : tuple of int
        Deaths observed by each horizon (the cases of the AUC and Brier score there).
    """

    metrics: pd.DataFrame
    calibration: dict[str, HorizonCalibration]
    n_patients: int
    n_events: int
    folds: int
    repeats: int
    horizons_months: tuple[float, ...]
    calibration_months: float
    best_score: str | None
    best_model: str | None
    difference: MetricEstimate | None
    deaths_by_horizon: tuple[int, ...] = ()
