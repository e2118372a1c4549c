"""Collect the predictors' performances into a
:class:`~bayes_bcsm.prognosis.summary.PrognosisSummary` (PyMC-free): the metrics table, the
calibration of the cross-validated predictions, and the paired comparison of the best model
with the best score."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_bcsm.frequentist.concordance import harrell_difference
from bayes_bcsm.frequentist.metric import MetricEstimate
from bayes_bcsm.prognosis.crossval import PredictorPerformance
from bayes_bcsm.prognosis.evaluate import calibration_of
from bayes_bcsm.prognosis.predictors import Cohort
from bayes_bcsm.prognosis.summary import PrognosisSummary

__all__ = ["cv_c_difference", "summarise"]


def cv_c_difference(
    cohort: Cohort, a: PredictorPerformance, b: PredictorPerformance
) -> MetricEstimate:
    """Cross-validated Harrell's C of ``a`` minus that of ``b``, paired.

    Per repeat, the difference of the two C-indices of the pooled out-of-fold risks (the
    same splits: one seed), with the jackknife SE of the paired difference; averaged over
    repeats (SE: root mean square of the repeats' SEs).
    """
    per_repeat = [
        harrell_difference(cohort.time, cohort.events, ra, rb)
        for ra, rb in zip(a.repeat_risks, b.repeat_risks, strict=True)
    ]
    return MetricEstimate(
        float(np.mean([d.estimate for d in per_repeat])),
        float(np.sqrt(np.mean([d.se**2 for d in per_repeat]))),
    )


def _best(performances: list[PredictorPerformance]) -> PredictorPerformance | None:
    def cv_c(p: PredictorPerformance) -> float:
        m = p.metrics
        return float(
            m[(m["metric"] == "harrell_c") & (m["evaluation"] == "cv")]["estimate"].iloc[0]
        )

    return max(performances, key=cv_c) if performances else None


def summarise(
    cohort: Cohort,
    performances: list[PredictorPerformance],
    scores: set[str],
    repeats: int,
    folds: int,
    calibration_months: float,
) -> PrognosisSummary:
    """Collect the performances of every predictor (``scores``: the names that are scores)."""
    best_score = _best([p for p in performances if p.name in scores])
    best_model = _best([p for p in performances if p.name not in scores])
    difference = (
        cv_c_difference(cohort, best_model, best_score) if best_score and best_model else None
    )
    return PrognosisSummary(
        metrics=pd.concat([p.metrics for p in performances], ignore_index=True),
        calibration={
            p.name: calibration_of(cohort, p.cross_validated, calibration_months)
            for p in performances
        },
        n_patients=len(cohort.frame),
        n_events=int(cohort.events.sum()),
        folds=folds,
        repeats=repeats,
        horizons_months=tuple(float(h) for h in cohort.horizons),
        calibration_months=calibration_months,
        best_score=best_score.name if best_score else None,
        best_model=best_model.name if best_model else None,
        difference=difference,
        deaths_by_horizon=tuple(
            int(np.sum(cohort.events * (cohort.time <= h))) for h in cohort.horizons
        ),
    )
