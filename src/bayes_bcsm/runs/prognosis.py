"""``bayes-bcsm compare experiment=prognosis``: cross-validate the configured predictors on the
run's cohort, write ``prognosis_metrics.csv`` as each predictor's figures exist, then the report.

It runs inside ``compare`` (:func:`bayes_bcsm.runs.compare.run_parsed` hands over when the
config names ``prognosis.predictors``): like a comparison it scores several candidates on one
cohort and writes one report, with the same loading, run folder and provenance; what differs
(predictors refitted per fold rather than variants fitted once) lives here.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import replace

import numpy as np

from bayes_bcsm.atomic import write_csv_atomic
from bayes_bcsm.config import ConfigError
from bayes_bcsm.data.design import complete_cases
from bayes_bcsm.models import piecewise_cuts
from bayes_bcsm.models.specs import PriorSpec
from bayes_bcsm.prognosis.collect import summarise
from bayes_bcsm.prognosis.crossval import cross_validate, worker_pool
from bayes_bcsm.prognosis.plan import PredictorSpec, PrognosisPlan
from bayes_bcsm.prognosis.predictors import Cohort, CoxPredictor, Predictor, SelectionPredictor
from bayes_bcsm.prognosis.summary import PrognosisSummary
from bayes_bcsm.results import RunInputs
from bayes_bcsm.settings import RunSettings

log = logging.getLogger(__name__)

DURATION, EVENT = "time_months", "event"

#: Points of the integrated Brier score's grid between the shortest follow-up and the last
#: horizon (the horizons are added to it).
IBS_POINTS = 25


def prognosis_cohort(plan: PrognosisPlan, inputs: RunInputs, reference: dict[str, str]) -> Cohort:
    """The complete cases of every predictor's columns, checked against the horizons.

    Raises
    ------
    ConfigError
        A horizon or ``tau_months`` at or beyond the last follow-up of the patients used
        (no one is left at risk to estimate it), or fewer events than folds; before any fit.
    """
    frame, _ = complete_cases(inputs.frame, [*plan.factors, DURATION, EVENT])
    frame = frame.reset_index(drop=True)
    time = frame[DURATION].to_numpy(float)
    last = float(time.max())
    horizons = np.asarray(plan.horizons_months, dtype=float)
    for key, value in (
        ("prognosis.horizons_months", list(plan.horizons_months)),
        ("prognosis.tau_months", plan.tau_months),
    ):
        if np.max(value) >= last or np.min(value) < time.min():
            raise ConfigError(
                f"{key}={value}: expected times within the follow-up of the {len(frame)} "
                f"patients used ({time.min():.3g} to {last:.4g} months, complete cases of "
                "every predictor's columns)"
            )
    events = int(frame[EVENT].sum())
    if plan.cv.folds > events:
        raise ConfigError(
            f"prognosis.folds={plan.cv.folds}: expected at most the {events} events of the "
            f"{len(frame)} patients used"
        )
    grid = np.unique(np.r_[horizons, np.linspace(time.min(), horizons[-1], IBS_POINTS)])
    return Cohort(frame, DURATION, EVENT, grid, horizons, reference)


def build_predictor(spec: PredictorSpec, settings: RunSettings, cohort: Cohort) -> Predictor:
    """The predictor a spec names, with the run's sampler, prior and piecewise cut points."""
    if spec.kind in ("score", "cox"):
        return CoxPredictor(spec.name, spec.factors)
    if spec.kind == "selection":
        return SelectionPredictor(spec.name, spec.factors)
    from bayes_bcsm.prognosis.bayes_predictor import BayesPredictor

    cuts = settings.model.cuts
    fixed = (
        piecewise_cuts(cuts=cuts.cuts_months)
        if cuts.fixed
        else piecewise_cuts(
            time=cohort.time, event=cohort.events, n_quantile_intervals=cuts.n_quantile_intervals
        )
    )
    return BayesPredictor(
        spec.name,
        spec.factors,
        spec.family,
        PriorSpec(family="horseshoe") if spec.horseshoe else settings.prior,
        settings.sampler,
        (("cuts", fixed), ("baseline_prior", settings.model.baseline_prior)),
        settings.covariates.standardize,
    )


def run_prognosis(settings: RunSettings, inputs: RunInputs) -> PrognosisSummary:
    """Cross-validate every configured predictor; write the metrics and the report.

    ``prognosis_metrics.csv`` is rewritten (atomically) after each predictor, so a later
    failure loses none of the figures already computed.
    """
    plan = settings.prognosis
    assert plan is not None
    cohort = prognosis_cohort(plan, inputs, dict(settings.covariates.reference))
    repeats = plan.cv.repeats_for(len(cohort.frame))
    log.info(
        "prognosis: %d patients, %d events; %d-fold cross-validation x %d repeats",
        len(cohort.frame),
        int(cohort.events.sum()),
        plan.cv.folds,
        repeats,
    )
    predictors = [build_predictor(spec, settings, cohort) for spec in plan.predictors]
    scores = {s.name for s in plan.predictors if s.kind == "score"}
    performances = []
    path = inputs.output_dir / "prognosis_metrics.csv"
    # Cox fits take milliseconds: only the Bayesian refits go to the worker processes, which
    # start once and keep their compiled models from one predictor to the next
    bayes = plan.cv.workers > 1 and any(s.kind == "bayes" for s in plan.predictors)
    with worker_pool(plan.cv.workers) if bayes else nullcontext() as pool:
        for spec, predictor in zip(plan.predictors, predictors, strict=True):
            log.info("prognosis: cross-validating %s", predictor.name)
            executor = pool if spec.kind == "bayes" else None
            one = replace(plan.cv, workers=1) if executor is None else plan.cv
            performances.append(
                cross_validate(
                    cohort, predictor, one, plan.tau_months, plan.calibration_months, executor
                )
            )
            summary = summarise(
                cohort, performances, scores, repeats, plan.cv.folds, plan.calibration_months
            )
            write_csv_atomic(summary.metrics, path, index=False)
    from bayes_bcsm.report.prognosis_report import write_prognosis_report

    write_prognosis_report(settings.report, inputs, summary)
    return summary
