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
from bayes_bcsm.inference.diagnostics import rank_rhat
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
        The fit failed (exception, non-convergence, R-hat above the limit).
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

    The fit counts as failed when the largest rank-normalised R-hat of the log-HRs
    (:func:`bayes_bcsm.inference.diagnostics.rank_rhat`) exceeds ``settings.rhat_max``.

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
    worst = float(np.nanmax(rank_rhat(fit.idata, ["beta"]).to_numpy()))
    quantiles = log_hazard_ratio_draws(fit).quantile([0.025, 0.5, 0.975], dim=("chain", "draw"))
    lower, median, upper = quantiles.transpose("quantile", "covariate").values
    columns = list(model.columns)
    diverging = fit.idata["sample_stats"].dataset.get("diverging")
    n_div = int(diverging.sum()) if diverging is not None else 0
    failed = not worst <= settings.rhat_max
    notes = []
    if failed:
        notes.append(f"R-hat {worst:.3f} > {settings.rhat_max}")
    if n_div:
        notes.append(f"{n_div} divergences")
    return Estimates(
        dict(zip(columns, map(float, median), strict=True)),
        dict(zip(columns, map(float, lower), strict=True)),
        dict(zip(columns, map(float, upper), strict=True)),
        dict.fromkeys(columns, 1),
        failed,
        "; ".join(notes),
    )
