"""``bayes-bcsm predict``: what patients with given covariate profiles can expect.

From a saved run folder (``predict.run_dir``: its ``posterior.nc`` and ``resolved_config.yaml``;
nothing is refitted) or after fitting the configured model first. Every profile is checked against
the model's covariates and the dataset card before the posterior is loaded or a model fitted.
Writes ``predictions.csv`` (S(t) at the horizons, median or "not reached" with P(alive at the
last follow-up), RMST(tau), each with 50 % and 95 % bands), ``prediction_curves.csv`` and
``prediction_curves.png``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from bayes_bcsm.config import Config, ConfigError
from bayes_bcsm.data.profiles import check_profile_covariates
from bayes_bcsm.settings import RunSettings, parse_settings

log = logging.getLogger(__name__)

__all__ = ["run"]


def _model_settings(settings: RunSettings) -> RunSettings:
    """The settings of the model to predict from: the saved run's, or this run's own.

    Raises
    ------
    ConfigError
        For a saved configuration that no longer parses, or a model that is not one Bayesian
        model of joint covariates.
    """
    run_dir = settings.predict.run_dir
    model = settings
    where = "this run"
    if run_dir is not None:
        where = f"predict.run_dir={run_dir}"
        try:
            saved = OmegaConf.merge(
                OmegaConf.structured(Config), OmegaConf.load(run_dir / "resolved_config.yaml")
            )
            model = parse_settings(saved)
        except (ConfigError, ValueError, KeyError) as error:
            raise ConfigError(f"{where}: its resolved_config.yaml: {error}") from error
    if model.covariates.mode != "joint" or not model.model.bayesian:
        raise ConfigError(
            f"{where}: model.family={model.model.family}, covariates.mode="
            f"{model.covariates.mode}; predict needs one Bayesian model of joint covariates (a "
            "fit run, or a comparison's variants/<variant>/)"
        )
    if model.missing.marginalize:
        raise ConfigError(
            f"{where}: missing.strategy=marginalize; a profile would need the marginalised "
            "covariate's model, so predict from a complete-case fit"
        )
    return model


def run(cfg: DictConfig, output_dir: str | Path):
    """Predict the configured profiles; see the module docstring.

    Raises
    ------
    ConfigError, ProfileError, ExtrapolationError
        Before any model is fitted or a posterior loaded: a bad ``predict`` key, a profile with
        an unknown or missing covariate or a value outside the card, a horizon or tau beyond
        the follow-up without ``absolute.extrapolate=true``.
    """
    settings = parse_settings(cfg)
    model_settings = _model_settings(settings)
    check_profile_covariates(settings.predict.profiles, model_settings.covariates.names)
    from bayes_bcsm.runs.prediction import predict

    return predict(settings, model_settings, Path(output_dir))
