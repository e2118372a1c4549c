"""One model fit with its Cox / Firth baselines, its artefacts and its report.

``run(cfg, output_dir)`` is what ``experiments/fit.py`` calls; ``fit_variant`` does the
computing and returns a :class:`VariantFit` that the comparison run reuses.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import arviz as az
import pandas as pd
import xarray as xr
from omegaconf import DictConfig

from bayes_bcsm.compare import cox_rows, posterior_rows, published_rows
from bayes_bcsm.config import CovariateMode, MissingStrategy, ModelFamily
from bayes_bcsm.data import Design, build_design
from bayes_bcsm.frequentist import CoxResult, cox_ph_design
from bayes_bcsm.inference.diagnostics import Diagnostics, check_convergence
from bayes_bcsm.inference.loo import loo_summary, psis_loo
from bayes_bcsm.inference.predictive import (
    hazard_ratio_summary,
    one_at_a_time_profiles,
    posterior_predictive,
    survival_summary,
)
from bayes_bcsm.inference.sample import Fit, sample
from bayes_bcsm.models import build_design_with_missing
from bayes_bcsm.report.fit_report import write_fit_artefacts, write_fit_report
from bayes_bcsm.runs.common import (
    RunInputs,
    model_for,
    prepare_run,
    sampler_settings,
)
from bayes_bcsm.study import load_targets

if TYPE_CHECKING:
    from bayes_bcsm.runs.compare import Comparison

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VariantFit:
    """Everything one configuration produced.

    Attributes
    ----------
    label : str
        Variant name (e.g. ``"weibull"`` or ``"prior=sceptical"``).
    family : str
        Model family.
    design : Design
        The complete-case design (what the Cox baselines used).
    cox, firth : CoxResult
        Frequentist baselines on the same rows and covariates.
    fit : Fit or None
        The Bayesian fit (None for ``model=cox``).
    diagnostics : Diagnostics or None
        Convergence checks of ``fit``.
    hazard_ratios : DataFrame
        :data:`bayes_bcsm.compare.HR_COLUMNS` rows: published, Cox, Firth, posterior.
    survival : DataFrame or None
        Posterior median survival and S(6/12/36/60) for the reference profile and each
        covariate switched on.
    predictive : DataTree or None
        Posterior predictive event times for ``arviz.plot_ppc_censored``.
    loo : ELPDData or None
        PSIS-LOO of the fit (one term per patient).
    """

    label: str
    family: str
    design: Design
    cox: CoxResult
    firth: CoxResult
    fit: Fit | None
    diagnostics: Diagnostics | None
    hazard_ratios: pd.DataFrame
    survival: pd.DataFrame | None
    predictive: xr.DataTree | None
    loo: Any = None

    @property
    def rows_description(self) -> str:
        """How many patients the Bayesian model used (or the Cox model, for model=cox)."""
        return self.fit.model.rows if self.fit is not None else self.design.rows.describe()


def _baselines(design: Design) -> tuple[CoxResult, CoxResult, list[str]]:
    """Cox (Efron) and Firth fits; warnings (e.g. separation) are kept, not lost."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cox = cox_ph_design(design)
        firth = cox_ph_design(design, penalty="firth")
    return cox, firth, [str(w.message) for w in caught]


def fit_variant(
    cfg: DictConfig, inputs: RunInputs, label: str, hr_label: str | None = None
) -> VariantFit:
    """Fit one configured model (joint covariate set) and its baselines.

    Parameters
    ----------
    cfg : DictConfig
        A validated run configuration.
    inputs : RunInputs
        The loaded cohort.
    label : str
        Name of the variant (reports, folders).
    hr_label : str, optional
        Label of its posterior rows in the hazard-ratio table (default ``label``).

    Returns
    -------
    VariantFit
    """
    covariates = list(cfg.covariates.names)
    reference = dict(cfg.covariates.reference)
    design = build_design(
        inputs.frame, covariates, reference=reference, standardize=cfg.covariates.standardize
    )
    cox, firth, messages = _baselines(design)
    for message in messages:
        log.warning("Cox baseline: %s", message)
    family = cfg.model.family.value
    tables = [
        published_rows(load_targets(), list(design.columns)),
        cox_rows(cox, "cox"),
        cox_rows(firth, "firth"),
    ]
    baselines = {"label": label, "family": family, "design": design, "cox": cox, "firth": firth}
    if cfg.model.family == ModelFamily.cox:
        return VariantFit(
            **baselines,
            fit=None,
            diagnostics=None,
            hazard_ratios=_stack(tables),
            survival=None,
            predictive=None,
        )

    if cfg.missing.strategy == MissingStrategy.marginalize:
        model_design = build_design_with_missing(
            inputs.frame,
            covariates,
            cfg.missing.covariate,
            reference=reference,
            standardize=cfg.covariates.standardize,
        )
    else:
        model_design = design
    survival_model = model_for(cfg, model_design)
    log.info("fitting %s: %s", label, survival_model.rows)
    fit = sample(survival_model, sampler_settings(cfg))
    diagnostics = check_convergence(fit.idata, strict=cfg.sampler.strict)
    if not diagnostics.passed:
        log.warning("%s failed convergence checks:\n%s", label, diagnostics.describe())
    hr = hazard_ratio_summary(fit, prob=cfg.report.hdi_prob)
    tables.append(posterior_rows(hr, hr_label or label))
    survival = survival_summary(fit, one_at_a_time_profiles(survival_model))
    predictive = posterior_predictive(fit, seed=int(cfg.seed))
    return VariantFit(
        **baselines,
        fit=fit,
        diagnostics=diagnostics,
        hazard_ratios=_stack(tables),
        survival=survival,
        predictive=predictive,
        loo=psis_loo(fit.idata),
    )


def _stack(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate hazard-ratio tables, skipping empty ones (e.g. no published row applies)."""
    return pd.concat([t for t in tables if len(t)], ignore_index=True)


def save_variant(variant: VariantFit, folder: Path, plots: bool = True) -> dict[str, Path]:
    """Write a variant's numeric artefacts (and plots) into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"hazard_ratios": folder / "hazard_ratios.csv"}
    variant.hazard_ratios.to_csv(paths["hazard_ratios"], index=False)
    if variant.fit is None:
        return paths
    idata = variant.fit.idata.copy()
    idata["posterior_predictive"] = variant.predictive["posterior_predictive"]
    paths["posterior"] = folder / "posterior.nc"
    idata.to_netcdf(paths["posterior"])
    paths["summary"] = folder / "summary.csv"
    az.summary(variant.fit.idata, ci_prob=0.95).to_csv(paths["summary"])
    paths["diagnostics"] = folder / "diagnostics.json"
    paths["diagnostics"].write_text(json.dumps(diagnostics_record(variant), indent=2) + "\n")
    paths["survival"] = folder / "survival.csv"
    variant.survival.to_csv(paths["survival"], index=False)
    paths["loo"] = folder / "loo.json"
    paths["loo"].write_text(json.dumps(loo_summary(variant.loo), indent=2) + "\n")
    if plots:
        paths.update(write_fit_artefacts(variant, folder))
    return paths


def diagnostics_record(variant: VariantFit) -> dict:
    """The diagnostics of a variant as a JSON-ready dict (each check, value, threshold, pass)."""
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
    }


def run(cfg: DictConfig, output_dir: str | Path) -> VariantFit | Comparison:
    """Fit the configured model, write every artefact and the report into ``output_dir``.

    With ``covariates.mode=univariate`` every covariate gets a model of its own (as the
    paper's univariate analysis); that is a comparison run over covariates
    (:func:`bayes_bcsm.runs.compare.run`) and returns its :class:`Comparison`.

    Parameters
    ----------
    cfg : DictConfig
        A composed configuration (validated here, before any work).
    output_dir : str or Path
        The run's folder.

    Returns
    -------
    VariantFit or Comparison
    """
    if cfg.covariates.mode == CovariateMode.univariate:
        from bayes_bcsm.runs.compare import run as run_comparison

        return run_comparison(cfg, output_dir)
    inputs = prepare_run(cfg, output_dir)
    log.info(inputs.cohort.accounting.describe())
    variant = fit_variant(cfg, inputs, cfg.model.family.value)
    save_variant(variant, inputs.output_dir, plots=cfg.report.plots)
    write_fit_report(cfg, inputs, variant)
    return variant
