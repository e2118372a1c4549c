"""Apparent and repeated K-fold cross-validated performance of one predictor.

* **Apparent**: the predictor fitted on every patient predicts those same patients.
* **Cross-validated**: in each repeat every patient is predicted by the predictor fitted on
  the other K - 1 folds (the whole procedure, selection included, is refitted on each
  training set); the metrics are computed on the n pooled out-of-fold predictions of the
  repeat, and averaged over repeats. Pooling (rather than averaging fold-wise figures) keeps
  small cohorts' C-indices defined (a fold of 16 patients holds few comparable pairs).
* **Intervals**: estimate -/+ 1.96 SE. The apparent SE is the metric's own (jackknife over
  patients, a mean's SE, or the Cox SE; :mod:`bayes_bcsm.prognosis.evaluate`); the
  cross-validated SE is the root mean square of the repeats' SEs (sampling of patients; the
  spread over splits is reported beside it as ``repeat_sd``). They ignore the refits'
  variability, so they are somewhat narrow.
* **Optimism**: apparent minus cross-validated.

Fits run in ``spec.workers`` processes; each refit has its own seed
(:func:`bayes_bcsm.prognosis.folds.task_seed`), so the figures do not depend on the number of
workers or on the order in which the fits finish.

References
----------
Harrell, F. E., Lee, K. L., Mark, D. B. (1996). Multivariable prognostic models.
*Stat. Med.* 15, 361-387 (optimism).
Simon, R. M. et al. (2011). Using cross-validation to evaluate predictive accuracy of survival
risk classifiers based on high-dimensional data. *Brief. Bioinform.* 12, 203-214 (pooling).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_bcsm.frequentist.ipcw import censoring_distribution
from bayes_bcsm.frequentist.metric import MetricEstimate
from bayes_bcsm.prognosis.evaluate import evaluate
from bayes_bcsm.prognosis.folds import CrossValidationSpec, fold_labels, task_seed
from bayes_bcsm.prognosis.predictors import Cohort, Prediction, Predictor

__all__ = ["METRIC_COLUMNS", "PredictorPerformance", "cross_validate", "worker_pool"]

#: Columns of the metrics table.
METRIC_COLUMNS = [
    "predictor",
    "metric",
    "evaluation",
    "estimate",
    "lower",
    "upper",
    "se",
    "repeat_sd",
]

_Z = 1.959963984540054


@dataclass(frozen=True)
class PredictorPerformance:
    """One predictor's apparent and cross-validated figures.

    Attributes
    ----------
    name : str
    metrics : DataFrame
        :data:`METRIC_COLUMNS`; ``evaluation`` is ``apparent`` or ``cv``.
    apparent : Prediction
        The fit on everyone, for everyone.
    cross_validated : Prediction
        Each patient's out-of-fold prediction averaged over the repeats.
    repeat_risks : ndarray, shape (repeats, n)
        The pooled out-of-fold risk scores of each repeat (for paired comparisons).
    """

    name: str
    metrics: pd.DataFrame
    apparent: Prediction
    cross_validated: Prediction
    repeat_risks: np.ndarray


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of fresh ("spawn") worker processes: no state of this process is inherited."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _run(task: tuple[Predictor, Cohort, np.ndarray, np.ndarray, int]) -> Prediction:
    predictor, cohort, train, test, seed = task
    return predictor.fit_predict(cohort, train, test, seed)


def _pooled(parts: list[tuple[np.ndarray, Prediction]], n: int) -> Prediction:
    """Out-of-fold predictions put back in the cohort's row order."""
    first = parts[0][1]
    risk = np.empty(n)
    survival = np.empty((n, first.survival.shape[1]))
    exit_survival = np.empty((n, first.exit_survival.shape[1]))
    for rows, p in parts:
        risk[rows], survival[rows], exit_survival[rows] = p.risk, p.survival, p.exit_survival
    return Prediction(risk, survival, exit_survival)


def _rows(name: str, evaluation: str, figures: dict[str, MetricEstimate], spread=None) -> list:
    return [
        (
            name,
            metric,
            evaluation,
            m.estimate,
            m.estimate - _Z * m.se,
            m.estimate + _Z * m.se,
            m.se,
            np.nan if spread is None else spread[metric],
        )
        for metric, m in figures.items()
    ]


def cross_validate(
    cohort: Cohort,
    predictor: Predictor,
    spec: CrossValidationSpec,
    tau: float,
    calibration_months: float,
    executor: Executor | None = None,
) -> PredictorPerformance:
    """Apparent and repeated K-fold cross-validated metrics of one predictor.

    Parameters
    ----------
    cohort : Cohort
        Patients, horizons and prediction grid (months).
    predictor : Predictor
    spec : CrossValidationSpec
        Folds, repeats, seed, worker processes.
    tau : float
        Truncation time of Uno's C (months).
    calibration_months : float
        Horizon of the calibration slope (one of ``cohort.horizons``).
    executor : Executor, optional
        Where the fits run (e.g. one process pool shared by several predictors, so that its
        workers start once). Default: in this process when ``spec.workers == 1``, else a
        pool of ``spec.workers`` processes started for this call.

    Returns
    -------
    PredictorPerformance
    """
    n = len(cohort.frame)
    labels = fold_labels(cohort.events, spec)
    everyone = np.arange(n)
    tasks = [(predictor, cohort, everyone, everyone, task_seed(spec.seed, -1, 0))]
    for r, row in enumerate(labels):
        for k in range(spec.folds):
            test = np.flatnonzero(row == k)
            tasks.append(
                (predictor, cohort, np.flatnonzero(row != k), test, task_seed(spec.seed, r, k))
            )
    if executor is not None:
        predictions = list(executor.map(_run, tasks))
    elif spec.workers == 1:
        predictions = [_run(task) for task in tasks]
    else:
        with worker_pool(spec.workers) as pool:
            predictions = list(pool.map(_run, tasks))
    censoring = censoring_distribution(cohort.time, cohort.events)
    apparent = predictions[0]
    figures = evaluate(cohort, apparent, censoring, tau, calibration_months)
    rows = _rows(predictor.name, "apparent", figures)
    repeats = []
    for r in range(len(labels)):
        chunk = range(1 + r * spec.folds, 1 + (r + 1) * spec.folds)
        repeats.append(_pooled([(tasks[i][3], predictions[i]) for i in chunk], n))
    per_repeat = [evaluate(cohort, p, censoring, tau, calibration_months) for p in repeats]
    combined, spread = {}, {}
    for metric in figures:
        estimates = np.array([f[metric].estimate for f in per_repeat])
        ses = np.array([f[metric].se for f in per_repeat])
        combined[metric] = MetricEstimate(float(estimates.mean()), float(np.sqrt(np.mean(ses**2))))
        spread[metric] = float(estimates.std(ddof=1)) if len(estimates) > 1 else np.nan
    rows += _rows(predictor.name, "cv", combined, spread)
    mean = Prediction(
        np.mean([p.risk for p in repeats], axis=0),
        np.mean([p.survival for p in repeats], axis=0),
        np.mean([p.exit_survival for p in repeats], axis=0),
    )
    return PredictorPerformance(
        predictor.name,
        pd.DataFrame(rows, columns=METRIC_COLUMNS),
        apparent,
        mean,
        np.array([p.risk for p in repeats]),
    )
