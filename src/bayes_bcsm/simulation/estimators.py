"""The estimators of the simulation study: every method fitted on one replicate.

``cox_table3``
    Cox PH (Efron ties) on the paper's Table 3 covariate set, complete cases, Wald 95 % CI.
``cox_selection``
    The paper's procedure (:func:`bayes_bcsm.frequentist.paper_selection`): log-rank screen of
    the Table 2 factors at P < 0.05, then Cox backward elimination by likelihood-ratio P > 0.10;
    a Table 3 covariate not in the final model has ``selected = 0`` and no estimate.
``firth_table3``
    Firth-penalised Cox on the Table 3 set, profile penalised-likelihood 95 % CI
    (Heinze & Schemper 2001, Biometrics 57:114).
``weibull_default``, ``weibull_sceptical``, ``piecewise_default``, ``piecewise_sceptical``
    The Bayesian Weibull and piecewise-exponential PH models (built through the model-family
    registry, :func:`bayes_bcsm.models.model_family`) with the default Normal(0, 1) or the
    sceptical log-HR prior; estimate = posterior median of the log-HR, interval = the 95 %
    equal-tailed posterior interval. Models are compiled once per structure and refitted on
    every replicate (the compile cache of :func:`bayes_bcsm.inference.sample.sample`).
    A fit failing any convergence check of ``StudySettings.thresholds`` is recorded as
    failed (the failed checks in the note) and keeps its estimates, so metrics can be
    reported with and without failed fits.
"""

from __future__ import annotations

import dataclasses
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayes_bcsm.data import Design, build_design
from bayes_bcsm.frequentist import CoxResult, cox_ph_design, paper_selection
from bayes_bcsm.inference.diagnostics import check_convergence
from bayes_bcsm.inference.predictive import log_hazard_ratio_draws
from bayes_bcsm.inference.sample import sample
from bayes_bcsm.models import SurvivalModel, model_family
from bayes_bcsm.simulation.methods import BAYESIAN_METHODS
from bayes_bcsm.simulation.settings import StudySettings

__all__ = [
    "Estimates",
    "bayesian_model",
    "cox_estimates",
    "failure",
    "failure_reason",
    "fit_bayesian",
    "fit_frequentist",
    "method_seed",
    "table3_design",
]


def table3_design(settings: StudySettings, frame: pd.DataFrame) -> Design:
    """The complete-case design of the Table 3 covariates (shared by Cox, Firth, Bayes)."""
    return build_design(
        frame,
        list(settings.covariates),
        reference=dict(settings.reference),
        standardize=settings.standardize,
    )


def bayesian_model(settings: StudySettings, method: str, design: Design) -> SurvivalModel:
    """Build the model of a Bayesian method on ``design``.

    Raises
    ------
    ValueError
        If ``method`` is not one of :data:`BAYESIAN_METHODS`.
    """
    if method not in BAYESIAN_METHODS:
        raise ValueError(f"{method!r} is not Bayesian; valid: {', '.join(BAYESIAN_METHODS)}")
    family_name, prior_name = BAYESIAN_METHODS[method]
    family = model_family(family_name)
    options = family.select_options(
        {"cuts": settings.piecewise_cuts_months, "baseline_prior": settings.baseline_prior}
    )
    return family.build(design, prior=settings.priors[prior_name], **options)


def method_seed(seed: np.random.SeedSequence, name: str) -> int:
    """A seed for one method on one replicate, independent of which other methods run."""
    child = np.random.SeedSequence(seed.entropy, spawn_key=(zlib.crc32(name.encode()),))
    return int(child.generate_state(1)[0])


@dataclass(frozen=True)
class Estimates:
    """One method's estimates on one replicate (log-HR per natural unit, 95 % interval).

    Attributes
    ----------
    estimate, lower, upper : dict of str to float
        Point estimate and interval bounds per design column (missing: not estimated).
    selected : dict of str to int
        1 for the design columns in the final model.
    failed : bool
        The fit failed (exception, non-convergence, a failed convergence check). A Bayesian
        fit that failed its checks keeps its estimates; an exception leaves none.
    note : str
        Failure reason, separation, selected factors.
    """

    estimate: dict[str, float]
    lower: dict[str, float]
    upper: dict[str, float]
    selected: dict[str, int]
    failed: bool
    note: str


def failure(note: str) -> Estimates:
    """The estimates of a failed fit (nothing estimated, ``failed`` set, the reason in the note)."""
    return Estimates({}, {}, {}, {}, True, note)


def cox_estimates(result: CoxResult, penalty_name: str) -> Estimates:
    """Estimates from a (penalised) Cox fit: Wald intervals on the log scale, or the fit's own
    profile intervals; separation and non-convergence noted."""
    if result.ci_method == "wald":  # on the log scale directly: finite even under separation
        z = stats.norm.ppf(0.5 + result.conf_level / 2)
        log_ci = np.column_stack([result.coef - z * result.se, result.coef + z * result.se])
    else:
        with np.errstate(divide="ignore"):
            log_ci = np.log(result.ci)
    notes = []
    if result.separated:
        notes.append("separation: " + ", ".join(result.separated))
    if not result.converged:
        notes.append(f"{penalty_name} did not converge")
    return Estimates(
        dict(zip(result.columns, map(float, result.coef), strict=True)),
        dict(zip(result.columns, map(float, log_ci[:, 0]), strict=True)),
        dict(zip(result.columns, map(float, log_ci[:, 1]), strict=True)),
        dict.fromkeys(result.columns, 1),
        not result.converged,
        "; ".join(notes),
    )


def fit_frequentist(
    method: str, settings: StudySettings, frame: pd.DataFrame, design: Design
) -> Estimates:
    """Fit a frequentist method (``cox_table3``, ``firth_table3``, ``cox_selection``).

    Parameters
    ----------
    method : str
    settings : StudySettings
    frame : DataFrame
        The replicate's cohort with derived groupings (for the selection procedure).
    design : Design
        The Table 3 design (:func:`table3_design`).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation / convergence are recorded in the rows
        if method == "cox_table3":
            return cox_estimates(cox_ph_design(design), "Cox")
        if method == "firth_table3":
            return cox_estimates(cox_ph_design(design, penalty="firth"), "Firth Cox")
        selection = paper_selection(
            frame,
            "time_months",
            "event",
            list(settings.selection_factors),
            screen_p=settings.screen_p,
            remove_p=settings.remove_p,
            reference=dict(settings.reference),
        )
    if selection.final is None:
        return Estimates({}, {}, {}, {}, False, "no factor selected")
    est = cox_estimates(selection.final, "Cox after selection")
    note = "selected: " + ", ".join(selection.selected)
    return dataclasses.replace(est, note=f"{note}; {est.note}" if est.note else note)


def fit_bayesian(method: str, settings: StudySettings, design: Design, seed: int) -> Estimates:
    """Fit a Bayesian method: posterior median and 95 % equal-tailed interval of each log-HR.

    The fit counts as failed when it fails any check of
    :func:`bayes_bcsm.inference.diagnostics.check_convergence` at ``settings.thresholds``
    (every posterior variable, as for single fits: rank R-hat, bulk and tail ESS,
    divergences, E-BFMI, tree depth); the note names each failed check with its value and
    threshold. The estimates are kept either way.

    Parameters
    ----------
    method : str
        One of :data:`BAYESIAN_METHODS`.
    settings : StudySettings
    design : Design
    seed : int
        Sampler seed.
    """
    model = bayesian_model(settings, method, design)
    fit = sample(model, dataclasses.replace(settings.sampler, seed=seed))
    diagnostics = check_convergence(fit.idata, settings.thresholds)
    quantiles = log_hazard_ratio_draws(fit).quantile([0.025, 0.5, 0.975], dim=("chain", "draw"))
    lower, median, upper = quantiles.transpose("quantile", "covariate").values
    columns = list(model.columns)
    return Estimates(
        dict(zip(columns, map(float, median), strict=True)),
        dict(zip(columns, map(float, lower), strict=True)),
        dict(zip(columns, map(float, upper), strict=True)),
        dict.fromkeys(columns, 1),
        not diagnostics.passed,
        failure_reason(diagnostics.summary),
    )


def failure_reason(summary: pd.DataFrame) -> str:
    """The failed checks of a diagnostics summary, e.g. ``ess_bulk 212 < 400; divergences 3 > 0``.

    Parameters
    ----------
    summary : DataFrame
        :attr:`bayes_bcsm.inference.diagnostics.Diagnostics.summary`.

    Returns
    -------
    str
        Empty when every check passed.
    """
    below = {"ess_bulk", "ess_tail", "e_bfmi"}  # checks with a lower bound
    parts = []
    for row in summary.loc[~summary["passed"]].itertuples():
        sign = "<" if row.check in below else ">"
        parts.append(f"{row.check} {row.value:.5g} {sign} {row.threshold:g}")
    return "; ".join(parts)
