"""One model fit with its Cox / Firth baselines, its artefacts and its report.

``run(cfg, output_dir)`` is what ``experiments/fit.py`` calls; the fitting itself is
:func:`bayes_bcsm.runs.variant.fit_variant`, which the comparison run reuses.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from bayes_bcsm.config import CovariateMode, report_settings
from bayes_bcsm.report.fit_report import write_fit_report
from bayes_bcsm.results import Comparison, VariantFit
from bayes_bcsm.runs import compare
from bayes_bcsm.runs.common import prepare_run
from bayes_bcsm.runs.variant import fit_variant, save_variant

log = logging.getLogger(__name__)


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
        return compare.run(cfg, output_dir)
    inputs = prepare_run(cfg, output_dir)
    log.info(inputs.cohort.accounting.describe())
    variant = fit_variant(cfg, inputs, cfg.model.family.value, folder=inputs.output_dir)
    save_variant(variant, inputs.output_dir, plots=cfg.report.plots)
    write_fit_report(report_settings(cfg), inputs, variant)
    return variant
