"""One configured model fitted on the loaded cohort, beside its Cox / Firth baselines.

:func:`fit_variant` computes a :class:`~bayes_bcsm.results.VariantFit` (saving what exists as
soon as it exists); :func:`save_variant` writes its artefacts. Both the single-fit run and the
comparison run use them.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayes_bcsm.atomic import write_csv_atomic, write_netcdf_atomic, write_text_atomic
from bayes_bcsm.config import MODEL_RECORD, ConfigError
from bayes_bcsm.data import Design, build_design, check_estimable
from bayes_bcsm.data.card import design_roles
from bayes_bcsm.data.follow_up import curve_times_months, default_horizons_months
from bayes_bcsm.data.labels import covariate_contrasts, covariate_labels
from bayes_bcsm.frequentist import CoxResult, cox_ph_design
from bayes_bcsm.hazard_ratios import (
    cox_rows,
    posterior_rows,
    prior_adjusted,
    published_rows,
    with_labels,
)
from bayes_bcsm.report.plot_worker import FitPlotter
from bayes_bcsm.report.render import strict_json
from bayes_bcsm.results import ReportSettings, RunInputs, VariantFit
from bayes_bcsm.settings import RunSettings
from bayes_bcsm.study import bundled_targets

if TYPE_CHECKING:
    import xarray as xr

    from bayes_bcsm.inference.sample import Fit
    from bayes_bcsm.models import MissingDesign, SurvivalModel

# The modelling stack (PyMC, ArviZ and what builds on them) is imported by the functions that
# fit or save a Bayesian model: a frequentist run (model=cox) does without it (seconds of
# imports at every start).

log = logging.getLogger(__name__)


#: The last design's baselines, by :func:`_design_digest`: the variants of a comparison that
#: differ only in their Bayesian model share their design and fit Cox and Firth once.
_LAST_BASELINES: dict[str, tuple[CoxResult, CoxResult, tuple[str, ...]]] = {}


def _design_digest(design: Design) -> str:
    """SHA-256 of what the Cox and Firth fits read: times, events, entry times, patients and
    the covariate matrix with its column names."""
    digest = hashlib.sha256(repr(design.columns).encode())
    for part in (design.time, design.event, design.X, design.entry):
        array = np.empty(0) if part is None else np.ascontiguousarray(part)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    if design.patient is not None:
        digest.update(pd.util.hash_array(np.asarray(design.patient, dtype=object)).tobytes())
    return digest.hexdigest()


def _baselines(design: Design) -> tuple[CoxResult, CoxResult, list[str]]:
    """Cox (Efron) and Firth fits; warnings (e.g. separation) are kept, not lost."""
    key = _design_digest(design)
    if key not in _LAST_BASELINES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cox = cox_ph_design(design)
            firth = cox_ph_design(design, penalty="firth")
        _LAST_BASELINES.clear()
        _LAST_BASELINES[key] = (cox, firth, tuple(str(w.message) for w in caught))
    cox, firth, messages = _LAST_BASELINES[key]
    return cox, firth, list(messages)


def model_for(settings: RunSettings, design: Design | MissingDesign) -> SurvivalModel:
    """Build the configured Bayesian model on ``design`` (through the model-family registry).

    Fixed cut points (``settings.model.cuts``) are used as given; otherwise the cut points are
    the event-time quantiles of ``design``. The model records the ones used
    (``SurvivalModel.cuts_months``) and its prior, for the report. Above
    ``settings.sampler.pointwise_max_patients`` patients on complete cases the piecewise
    likelihood is collapsed to covariate pattern x interval cells (the same posterior); a
    marginalised covariate keeps the per-patient mixture.

    Raises
    ------
    ConfigError
        If the configured family is not a Bayesian model (``model=cox``).
    """
    from bayes_bcsm.models import FAMILIES, MissingDesign, model_family, piecewise_cuts

    model = settings.model
    if model.family not in FAMILIES:
        raise ConfigError(f"model.family={model.family} has no Bayesian model")
    entry = model_family(model.family)
    options = {}
    if "cuts" in entry.options:
        base = design.design if isinstance(design, MissingDesign) else design
        if model.cuts.fixed:
            options["cuts"] = piecewise_cuts(cuts=model.cuts.cuts_months)
        else:
            options["cuts"] = piecewise_cuts(
                time=base.time,
                event=base.event,
                n_quantile_intervals=model.cuts.n_quantile_intervals,
            )
    if "baseline_prior" in entry.options:
        options["baseline_prior"] = model.baseline_prior
    if "df" in entry.options:
        options["df"] = model.spline.df
    if "collapse" in entry.options and not isinstance(design, MissingDesign):
        options["collapse"] = not settings.sampler.per_patient(design.n_patients)
    return entry.build(design, prior=settings.prior, **options)


def complete_case_design(settings: RunSettings, inputs: RunInputs) -> Design:
    """The design of the run's covariates on the complete cases of the loaded cohort (what the
    Cox baselines and a complete-case Bayesian model use)."""
    chosen = settings.covariates
    return build_design(
        inputs.frame,
        list(chosen.names),
        reference=dict(chosen.reference),
        standardize=chosen.standardize,
        **design_roles(inputs.frame),
    )


def fit_variant(
    settings: RunSettings,
    inputs: RunInputs,
    label: str,
    hr_label: str | None = None,
    folder: Path | None = None,
    design: Design | None = None,
    plotter: FitPlotter | None = None,
) -> VariantFit:
    """Fit one configured model (joint covariate set) and its baselines.

    With ``folder``, what exists is saved as soon as it exists, so a later failure loses
    nothing already computed: the baselines' ``hazard_ratios.csv`` before sampling, and
    ``posterior.nc`` (draws, pointwise log-likelihood, predictive draws) right after it, once
    (:func:`save_variant` completes the folder without writing it again).

    Parameters
    ----------
    settings : RunSettings
        The variant's parsed configuration.
    inputs : RunInputs
        The loaded cohort.
    label : str
        Name of the variant (reports, folders).
    hr_label : str, optional
        Label of its posterior rows in the hazard-ratio table (default ``label``).
    folder : Path, optional
        Where to save the variant's results as they appear.
    design : Design, optional
        :func:`complete_case_design` of ``settings`` on ``inputs``, when the caller has built
        it already.
    plotter : FitPlotter, optional
        With ``folder`` and ``report.plots``: handed the chains' plots (rank, trace) as soon as
        the draws exist (:meth:`FitPlotter.submit_chains`; :func:`save_variant` hands it the
        rest).

    Returns
    -------
    VariantFit
    """
    chosen = settings.covariates
    covariates = list(chosen.names)
    reference = dict(chosen.reference)
    design = complete_case_design(settings, inputs) if design is None else design
    check_estimable(design)
    cox, firth, messages = _baselines(design)
    for message in messages:
        log.warning("Cox baseline: %s", message)
    family = settings.model.family
    tables = [
        published_rows(bundled_targets(), list(design.columns)) if inputs.card.study else None,
        cox_rows(cox, "cox", design.n_patients),
        cox_rows(firth, "firth", design.n_patients),
    ]
    labels = covariate_labels(design.terms, inputs.card)
    contrasts = covariate_contrasts(design.terms, inputs.card)
    baselines = {
        "label": label,
        "family": family,
        "design": design,
        "cox": cox,
        "firth": firth,
        "time_label": inputs.card.time_label,
        "outcome_label": inputs.card.outcome_label,
    }
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(
            _stack(tables, labels, contrasts), folder / "hazard_ratios.csv", index=False
        )
    if not settings.model.bayesian:
        return VariantFit(**baselines, hazard_ratios=_stack(tables, labels, contrasts))
    from bayes_bcsm.inference.diagnostics import check_convergence
    from bayes_bcsm.inference.loo import loo_summary
    from bayes_bcsm.inference.ppc import censored_ppc
    from bayes_bcsm.inference.predictive import (
        hazard_ratio_summary,
        one_at_a_time_profiles,
        posterior_predictive,
        survival_bands,
        survival_summary,
    )
    from bayes_bcsm.inference.sample import sample
    from bayes_bcsm.models import build_design_with_missing, model_family
    from bayes_bcsm.models.base import OBSERVED

    if settings.missing.marginalize:
        model_design = build_design_with_missing(
            inputs.frame,
            covariates,
            settings.missing.covariate,
            reference=reference,
            standardize=chosen.standardize,
            depends_on=settings.missing.depends_on,
        )
    else:
        model_design = design
    survival_model = model_for(settings, model_design)
    log.info("fitting %s: %s", label, survival_model.rows)
    fit = sample(survival_model, settings.sampler)
    # event times drawn from time 0 do not compare with follow-up that starts later; above
    # sampler.pointwise_max_patients nothing of size draws x patients is held
    per_patient = settings.sampler.per_patient(survival_model.n_used)
    predictive = None
    try:
        if per_patient and not survival_model.delayed_entry:
            predictive = posterior_predictive(fit, seed=settings.seed)
    finally:  # the draws are saved at once, also when the predictive draws fail
        if folder is not None:
            write_netcdf_atomic(posterior_tree(fit, predictive), folder / POSTERIOR_FILE)
    if plotter is not None and folder is not None and settings.report.plots:
        plotter.submit_chains(fit.idata, folder)
    diagnostics = check_convergence(fit.idata, strict=settings.strict)
    if not diagnostics.passed:
        log.warning("%s failed convergence checks:\n%s", label, diagnostics.describe())
    hr = hazard_ratio_summary(fit, prob=settings.report.hdi_prob)
    effect = model_family(family).effect
    tables.append(posterior_rows(hr, hr_label or label, measure=effect))
    # with a marginalised covariate the posterior uses more rows than Cox, and time ratios
    # are not hazard ratios: neither compares with the Cox fit
    comparable = effect == "hazard ratio" and not settings.missing.marginalize
    adjusted = prior_adjusted(hr, cox) if comparable else None
    profiles = one_at_a_time_profiles(survival_model)
    last_months = float(np.max(survival_model.data["time_months"]))
    horizons = settings.report.horizons_months or default_horizons_months(last_months)
    beyond = [t for t in horizons if t > last_months]
    if beyond:
        log.warning(
            "report.horizons_months %s lie beyond the last follow-up (%.4g months): reported "
            "as extrapolations from the %s model's tail",
            [f"{t:g}" for t in beyond],
            last_months,
            family,
        )
    survival = survival_summary(
        fit, profiles, horizons, prob=settings.report.hdi_prob, last_follow_up_months=last_months
    )
    ppc = None
    if predictive is not None:
        ppc = censored_ppc(
            predictive["posterior_predictive"][OBSERVED].values,
            survival_model.data["time_months"],
            survival_model.data["event"],
            np.random.default_rng(settings.seed),
        )
    loo_warnings: list[str] = []
    loo, loo_note = loo_of(fit, loo_warnings)
    return VariantFit(
        **baselines,
        fit=fit,
        diagnostics=diagnostics,
        hazard_ratios=_stack(tables, labels, contrasts),
        survival=survival,
        predictive=predictive,
        censored_ppc=ppc,
        prior_adjusted=adjusted,
        loo=loo,
        survival_bands=survival_bands(
            fit, profiles, curve_times_months(last_months, tuple(horizons))
        ),
        last_follow_up_months=last_months,
        loo_summary=None if loo is None else loo_summary(loo),
        loo_warnings=tuple(loo_warnings),
        posterior_file=None if folder is None else folder / POSTERIOR_FILE,
        notices={
            **({} if loo_note is None else {"loo": loo_note}),
            **({} if per_patient else {"ppc": ppc_notice(fit)}),
        },
    )


def loo_of(fit: Fit, warned: list[str] | None = None) -> tuple[object | None, str | None]:
    """PSIS-LOO of a fit and, when there is none, why.

    On the stored pointwise log-likelihood; above ``sampler.pointwise_max_patients`` patients
    from the draws in chunks of patients when ``sampler.chunked_loo``
    (:func:`bayes_bcsm.inference.pointwise.chunked_loo`). ArviZ's warnings are appended to
    ``warned`` when given, not shown. When Pareto smoothing cannot be done
    (e.g. a chain stuck on one value leaves the largest importance ratios all equal) the fit
    keeps its other results and the notice says so: one failed family must not stop a
    comparison of several.

    Returns
    -------
    tuple
        The ``arviz`` ELPD result or None, and None or the one-sentence notice
        (:func:`loo_notice`).
    """
    from bayes_bcsm.inference.loo import psis_loo
    from bayes_bcsm.inference.pointwise import chunked_loo, pointwise_available

    if "log_likelihood" not in fit.idata.children:
        if fit.settings.chunked_loo and pointwise_available(fit.model):
            return chunked_loo(fit.model, fit.idata["posterior"].dataset), None
        return None, loo_notice(fit)
    try:
        return psis_loo(fit.idata, warned), None
    except ValueError as err:
        log.warning("PSIS-LOO of the %s model failed: %s", fit.model.family, err)
        return None, (
            f"PSIS-LOO failed ({err}): the importance ratios could not be smoothed, which "
            "happens when draws repeat (a chain stuck on one value; see the convergence "
            "checks); this model has no ELPD and is left out of LOO comparisons."
        )


def loo_notice(fit: Fit) -> str:
    """Why a fit has no PSIS-LOO (one sentence naming the setting that changes it)."""
    from bayes_bcsm.inference.pointwise import pointwise_available
    from bayes_bcsm.inference.settings import POINTWISE_FAMILIES

    limit = fit.settings.pointwise_max_patients
    if fit.settings.per_patient(fit.n_used):
        return "PSIS-LOO not computed: the pointwise log-likelihood was not stored."
    text = (
        f"PSIS-LOO not computed: {fit.n_used:,} patients exceed "
        f"sampler.pointwise_max_patients={limit:,}, above which no draws x patients "
        "quantity is held"
    )
    if pointwise_available(fit.model):
        return text + "; set sampler.chunked_loo=true to compute it in chunks of patients."
    return (
        text + f"; chunked PSIS-LOO covers families {', '.join(POINTWISE_FAMILIES)} on complete "
        f"cases, raise sampler.pointwise_max_patients above {fit.n_used:,} for this model."
    )


def ppc_notice(fit: Fit) -> str:
    """Why a fit of more than ``sampler.pointwise_max_patients`` patients has no posterior
    predictive check."""
    return (
        f"No posterior predictive check: {fit.n_used:,} patients exceed "
        f"sampler.pointwise_max_patients={fit.settings.pointwise_max_patients:,}, above which "
        "no draws x patients quantity (here, predicted event times) is held."
    )


#: The posterior draws, pointwise log-likelihood and predictive draws of a fit, in its folder.
POSTERIOR_FILE = "posterior.nc"


def posterior_tree(fit: Fit, predictive: xr.DataTree | None) -> xr.DataTree:
    """What :data:`POSTERIOR_FILE` holds: the fit's DataTree (posterior, sample stats,
    pointwise log-likelihood, data) with the ``posterior_predictive`` group of
    ``predictive`` (:func:`bayes_bcsm.inference.predictive.posterior_predictive`) when
    there is one."""
    if predictive is None:
        return fit.idata
    tree = fit.idata.copy()
    tree["posterior_predictive"] = predictive["posterior_predictive"]
    return tree


def _stack(
    tables: list[pd.DataFrame], labels: dict[str, str], contrasts: dict[str, str]
) -> pd.DataFrame:
    """Concatenate hazard-ratio tables, skipping empty ones (e.g. no published row applies),
    each row labelled with what it compares (``labels``, ``contrasts``: design column ->
    label, contrast with its reference named)."""
    table = pd.concat([t for t in tables if t is not None and len(t)], ignore_index=True)
    return with_labels(table, labels, contrasts)


def save_variant(
    variant: VariantFit,
    folder: Path,
    report: ReportSettings,
    plotter: FitPlotter | None = None,
) -> dict[str, Path]:
    """Write a variant's numeric artefacts (and plots, if ``report.plots``) into ``folder``.

    ``summary.csv`` gives intervals of probability ``report.hdi_prob``. Returns the paths;
    with a ``plotter`` the plots are handed to it (drawn in its worker process, not listed).
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"hazard_ratios": folder / "hazard_ratios.csv"}
    write_csv_atomic(variant.hazard_ratios, paths["hazard_ratios"], index=False)
    if variant.fit is None:
        return paths
    import arviz as az

    from bayes_bcsm.report.fit_report import write_fit_artefacts

    if report.plots and plotter is not None:
        plotter.submit(variant, folder)  # the worker draws while the files below are written

    paths["posterior"] = folder / POSTERIOR_FILE
    if variant.posterior_file != paths["posterior"]:  # not yet saved there by fit_variant
        write_netcdf_atomic(posterior_tree(variant.fit, variant.predictive), paths["posterior"])
    paths["summary"] = folder / "summary.csv"
    write_csv_atomic(az.summary(variant.fit.idata, ci_prob=report.hdi_prob), paths["summary"])
    paths["diagnostics"] = folder / "diagnostics.json"
    write_text_atomic(paths["diagnostics"], strict_json(diagnostics_record(variant)))
    paths["survival"] = folder / "survival.csv"
    write_csv_atomic(variant.survival, paths["survival"], index=False)
    paths["loo"] = folder / "loo.json"
    loo_record = variant.loo_summary or {"not_computed": variant.notices["loo"]}
    write_text_atomic(paths["loo"], strict_json(loo_record))
    paths["model"] = folder / MODEL_RECORD
    write_text_atomic(paths["model"], strict_json(model_record(variant)))
    if report.plots and plotter is None:
        paths.update(write_fit_artefacts(variant, folder))
    return paths


def model_record(variant: VariantFit) -> dict:
    """What a variant's Bayesian model used, as a JSON-ready dict (``model.json``).

    ``cuts_months``: the piecewise baseline's cut points from 0 (months; fixed as configured,
    or the event-time quantiles of the rows used), null for the other families;
    ``covariate_columns``: the log-HRs' design columns; ``missing``: the marginalised
    covariate and the design columns its own model depends on (null for complete cases);
    ``likelihood``: ``"per patient"`` (an observed variable per patient), ``"summed"`` (one
    summed term: Weibull and exponential above ``sampler.pointwise_max_patients``) or
    ``"collapsed to cells"`` (piecewise above it: covariate pattern x interval cells); a
    marginalised covariate always keeps the per-patient mixture;
    ``pointwise_log_likelihood``: stored, computed from the draws in chunks, or not computed.
    """
    model = variant.fit.model
    missing = model.missing
    if "log_likelihood" in variant.fit.idata.children:
        pointwise = "stored (log_likelihood group of posterior.nc)"
    elif variant.loo is not None:
        pointwise = "computed from the draws in chunks of patients for PSIS-LOO, not stored"
    else:
        pointwise = "not computed"
    return {
        "variant": variant.label,
        "family": model.family,
        "cuts_months": [0.0, *model.cuts_months] if model.family == "piecewise" else None,
        "prior": model.prior.describe(),
        "covariate_columns": list(model.columns),
        "missing": None
        if missing is None
        else {"covariate": missing.name, "depends_on": list(missing.depends_on)},
        "rows": model.rows,
        "likelihood": (
            "collapsed to cells"
            if "cell_event" in model.data
            else ("summed" if model.collapsed else "per patient")
        ),
        "pointwise_log_likelihood": pointwise,
    }


def diagnostics_record(variant: VariantFit) -> dict:
    """The diagnostics of a variant as a JSON-ready dict (each check, value, threshold, pass),
    with its timings and where its compiled model came from: ``kernel_cache`` (``hit``: loaded
    from the compiled-model cache; ``miss``: compiled and stored there; ``rebuilt``: a corrupt
    or foreign entry recompiled; ``memory``: reused within the process; ``uncached``;
    ``none``: the PyMC sampler; see :attr:`bayes_bcsm.inference.sample.Fit.kernel_cache`) and
    ``kernel_key`` (the cache entry's key, the name of its folder)."""
    diag = variant.diagnostics
    return {
        "variant": variant.label,
        "passed": diag.passed,
        "failed_checks": diag.failed,
        "n_used": variant.fit.n_used,
        "rows": variant.fit.model.rows,
        "checks": diag.summary.to_dict(orient="records"),
        "compile_seconds": variant.fit.compile_seconds,
        "sample_seconds": variant.fit.sample_seconds,
        "kernel_cache": variant.fit.kernel_cache,
        "kernel_key": variant.fit.kernel_key,
    }
