"""One model fit with its Cox / Firth baselines, its artefacts and its report.

``run(cfg, output_dir)`` is what ``experiments/fit.py`` calls; the fitting itself is
:func:`bayes_bcsm.runs.variant.fit_variant`, which the comparison run reuses. The config is
parsed first (:func:`bayes_bcsm.settings.parse_settings`); the modelling stack (PyMC, ArviZ) is
imported only after it passed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import DictConfig

from bayes_bcsm.config import ConfigError
from bayes_bcsm.runs import compare
from bayes_bcsm.settings import parse_settings

if TYPE_CHECKING:
    from bayes_bcsm.results import Comparison, VariantFit

log = logging.getLogger(__name__)


def run(cfg: DictConfig, output_dir: str | Path) -> VariantFit | Comparison:
    """Fit the configured model, write every artefact and the report into ``output_dir``.

    With ``covariates.mode=univariate`` every covariate gets a model of its own (as the
    paper's univariate analysis); that is a comparison run over covariates
    (:func:`bayes_bcsm.runs.compare.run`) and returns its :class:`Comparison`.

    Parameters
    ----------
    cfg : DictConfig
        A composed configuration (parsed and checked here, before any work).
    output_dir : str or Path
        The run's folder.

    Returns
    -------
    VariantFit or Comparison

    Raises
    ------
    ConfigError
        For a bad setting, and for ``prognosis.predictors`` (scored by ``compare`` only).
    """
    settings = parse_settings(cfg)
    if settings.prognosis is not None:
        raise ConfigError(
            f"prognosis.predictors={list(cfg.prognosis.predictors)}: the predictors are "
            "cross-validated by `bayes-bcsm compare experiment=prognosis`; `fit` fits one model "
            "(drop experiment=prognosis or set prognosis.predictors=[])"
        )
    if settings.covariates.mode == "univariate":
        return compare.run_parsed(cfg, settings, output_dir)
    # The modelling stack loads only once the config has passed.
    from bayes_bcsm.report.fit_report import write_fit_report
    from bayes_bcsm.runs.common import prepare_run
    from bayes_bcsm.runs.variant import fit_variant, save_variant

    inputs = prepare_run(settings, output_dir)
    log.info(inputs.cohort.accounting.describe())
    variant = fit_variant(settings, inputs, settings.model.family, folder=inputs.output_dir)
    save_variant(variant, inputs.output_dir, settings.report)
    write_fit_report(settings.report, inputs, variant)
    return variant
