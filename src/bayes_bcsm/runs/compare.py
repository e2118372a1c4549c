"""Several variants of one experiment, fitted on the same cohort, in one comparison report.

Each variant is a space-separated override string applied to the run's config, e.g.
``"model=piecewise"`` (a config-group option: the group is reset to the schema defaults, then
the option's YAML file is merged, as Hydra does) or ``"prior.scale=0.5"`` (a single key).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shlex
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from bayes_bcsm.atomic import write_csv_atomic
from bayes_bcsm.config import ConfigError
from bayes_bcsm.resources import CONF_PACKAGE, conf_dir
from bayes_bcsm.settings import RunSettings, parse_settings

if TYPE_CHECKING:
    from bayes_bcsm.prognosis.summary import PrognosisSummary
    from bayes_bcsm.results import Comparison

log = logging.getLogger(__name__)


def variant_slug(overrides: str) -> str:
    """A folder name for a variant: ``"model=piecewise prior=sceptical"`` ->
    ``"model-piecewise_prior-sceptical"``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", overrides.replace("=", "-").replace(" ", "_"))


def _compose_group(group: str, option: str) -> DictConfig:
    """The ``group`` node of the packaged config composed by Hydra with ``group=option``."""
    overrides = [f"{group}={option}"]
    if GlobalHydra.instance().is_initialized():  # inside a running Hydra application
        return compose(config_name="config", overrides=overrides)[group]
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        return compose(config_name="config", overrides=overrides)[group]


def apply_overrides(cfg: DictConfig, overrides: str) -> DictConfig:
    """Return a copy of ``cfg`` with the variant's overrides applied, the Hydra way.

    The string is split like a shell command line (quote an item that contains spaces) and
    parsed with Hydra's override grammar, so lists, dicts and quoting work as on the command
    line: ``"model=piecewise prior.scale=0.5 covariates.names=[hormone_therapy,age_years]"``.
    A ``group=option`` item replaces the whole group by the option as Hydra composes it; a
    ``key=value`` item sets one key of the schema.

    Parameters
    ----------
    cfg : DictConfig
        The composed base configuration.
    overrides : str
        The variant's override items.

    Raises
    ------
    ConfigError
        Naming the item: unparsable, an unknown group option or key, ``+``/``~`` items (a
        variant changes the schema's keys, it does not add or delete them), ``experiment=``
        (a variant is a change to the run's experiment, not another one), or an invalid value.
    """
    where = f"compare.variants item {overrides!r}"
    try:
        parsed = OverridesParser.create().parse_overrides(shlex.split(overrides))
    except Exception as error:
        raise ConfigError(f"{where}: {error}") from error
    new = cfg.copy()
    for item in parsed:
        key = item.key_or_group
        text = item.input_line
        if item.is_add() or item.is_delete() or item.is_force_add():
            raise ConfigError(f"{where}: {text!r}: '+', '++' and '~' are not allowed in variants")
        if key == "experiment":
            raise ConfigError(f"{where}: {text!r}: a variant cannot select another experiment")
        try:
            if "." not in key and (conf_dir() / key).is_dir():
                schema = OmegaConf.structured(OmegaConf.get_type(cfg, key))
                new[key] = OmegaConf.merge(schema, _compose_group(key, str(item.value())))
            else:
                if OmegaConf.select(cfg, key, default=_ABSENT) is _ABSENT:
                    raise ConfigError(f"{where}: {text!r}: no key {key!r} in the schema")
                OmegaConf.update(new, key, item.value(), merge=False)
        except ConfigError:
            raise
        except Exception as error:
            raise ConfigError(f"{where}: {text!r}: {error}") from error
    return new


_ABSENT = object()

#: Added to each one-covariate variant of a univariate run: absolute effects are computed on
#: joint models only (:func:`bayes_bcsm.runs.absolute.plan_absolute`).
_NO_ABSOLUTE = "absolute.exposure=null"


@dataclass(frozen=True)
class VariantSpec:
    """One variant to fit: its overrides, its name, the label of its posterior HR rows, and its
    parsed configuration."""

    overrides: str
    label: str
    hr_label: str
    settings: RunSettings


def planned_variants(cfg: DictConfig, settings: RunSettings) -> list[VariantSpec]:
    """The variants a run fits, each parsed (and so checked) before the first one is fitted.

    ``covariates.mode=univariate`` fits one model per covariate (named after it, HR rows
    labelled with the model family, so a table shows each covariate's own model); otherwise
    ``compare.variants`` (or just the configured model).

    Variants may code the run's data differently (``data.exposure_coding``,
    ``landmark_months``: naive vs time-dependent vs landmark); each is then fitted on its own
    coding of the cohort (:func:`data_coding`).

    Raises
    ------
    ConfigError
        Naming the variant and the key of its first bad value, or a variant that reads other
        data (another card or file), which every variant shares.
    """
    family = settings.model.family
    if settings.covariates.mode == "univariate":
        named = [
            (f"covariates.names=[{name}] covariates.mode=joint {_NO_ABSOLUTE}", name, family)
            for name in settings.covariates.names
        ]
    else:
        overrides = list(settings.compare.variants) or [f"model={family}"]
        named = [(o, o, o) for o in overrides]
    specs = []
    for overrides, label, hr_label in named:
        try:
            parsed = parse_settings(apply_overrides(cfg, overrides))
        except ConfigError as error:
            raise ConfigError(f"compare variant {overrides!r}: {error}") from error
        if _data_set(parsed) != _data_set(settings):
            raise ConfigError(
                f"compare variant {overrides!r} reads other data (data=, data.path or the "
                "card's keys): the variants of a comparison analyse the run's one data set, "
                "coded their own way at most (data.exposure_coding, landmark_months); set the "
                "data for the whole run, outside compare.variants"
            )
        specs.append(VariantSpec(overrides, label, hr_label, parsed))
    return specs


def _data_set(settings: RunSettings) -> tuple:
    """The run's data apart from their coding (the card with its exposure coding unified)."""
    data = settings.data
    card = dataclasses.replace(data.card, exposure_coding="time_dependent")
    return data.path, data.is_reconstruction, card


def data_coding(settings: RunSettings) -> str:
    """How a variant codes the data, in words: ``"naive: ever exposed"`` or
    ``"time-dependent"`` (a card with time-varying covariates), or ``"as recorded"``; then
    ``"landmark L months"`` when a landmark is set."""
    card = settings.data.card
    if card.exposure_coding == "ever":
        parts = ["naive: ever exposed"]
    elif card.time_varying or card.long_format:
        parts = ["time-dependent"]
    else:
        parts = ["as recorded"]
    if settings.landmark is not None:
        months = settings.landmark.months
        parts.append(f"landmark {months:g} month{'' if months == 1 else 's'}")
    return ", ".join(parts)


def run(cfg: DictConfig, output_dir: str | Path) -> Comparison | PrognosisSummary:
    """Fit the variants, write each one's artefacts and the comparison report.

    Parameters
    ----------
    cfg : DictConfig
        A composed configuration with ``compare.variants``.
    output_dir : str or Path
        The run's folder; variant artefacts go to ``variants/<slug>/``.
    """
    return run_parsed(cfg, parse_settings(cfg), output_dir)


def run_parsed(
    cfg: DictConfig, settings: RunSettings, output_dir: str | Path
) -> Comparison | PrognosisSummary:
    """:func:`run` with the run's configuration already parsed into ``settings``.

    When the config names ``prognosis.predictors`` (``experiment=prognosis``), the run scores
    those predictors by cross-validation instead (:mod:`bayes_bcsm.runs.prognosis`).

    ``cfg`` is needed only to apply each variant's overrides; every variant is parsed before
    the modelling stack (PyMC, ArviZ) is imported.
    """
    if settings.prognosis is not None:
        from bayes_bcsm.runs.common import prepare_run
        from bayes_bcsm.runs.prognosis import run_prognosis

        return run_prognosis(settings, prepare_run(settings, output_dir))
    specs = planned_variants(cfg, settings)
    from bayes_bcsm.report.compare_report import write_compare_report
    from bayes_bcsm.report.plot_worker import FitPlotter
    from bayes_bcsm.runs.absolute import absolute_effects, plan_absolute
    from bayes_bcsm.runs.common import prepare_run
    from bayes_bcsm.runs.comparison import background_plots, compare_variants

    inputs = prepare_run(settings, output_dir)
    log.info(inputs.cohort.accounting.describe())
    plan = plan_absolute(settings, inputs)  # refusals before any fit
    # one plotting worker (where a core is free) for the fits' plots and the report's figures:
    # it draws while this process fits the next model and computes the comparison
    with FitPlotter(background_plots(specs)) as plotter:
        comparison = compare_variants(settings, specs, inputs, plotter)
        write_csv_atomic(
            comparison.hazard_ratios, inputs.output_dir / "hazard_ratios.csv", index=False
        )
        if plan is not None:
            started = time.perf_counter()
            average = comparison.average
            weights = None if average is None else average.stacking_weights
            absolute = absolute_effects(plan, comparison.variants, settings, weights)
            log.info(
                "absolute effects of %s (numpy on the saved draws): %.2f s",
                plan.exposure.covariate,
                time.perf_counter() - started,
            )
            write_csv_atomic(
                absolute.table, inputs.output_dir / "absolute_effects.csv", index=False
            )
            comparison = replace(comparison, absolute=absolute)
        if comparison.loo is not None:
            write_csv_atomic(comparison.loo, inputs.output_dir / "loo_compare.csv")
        if comparison.average is not None:
            write_csv_atomic(
                comparison.average.curves,
                inputs.output_dir / "model_average_survival.csv",
                index=False,
            )
        write_compare_report(settings.report, inputs, comparison, plotter)
    return comparison
