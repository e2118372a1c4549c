"""Several variants of one experiment, fitted on the same cohort, in one comparison report.

Each variant is a space-separated override string applied to the run's config, e.g.
``"model=piecewise"`` (a config-group option: the group is reset to the schema defaults, then
the option's YAML file is merged, as Hydra does) or ``"prior.scale=0.5"`` (a single key).
"""

from __future__ import annotations

import logging
import re
import shlex
import warnings
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import pandas as pd
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from bayes_bcsm.config import (
    ConfigError,
    CovariateMode,
    reinterpret_settings,
    report_settings,
    validate_config,
)
from bayes_bcsm.hazard_ratios import (
    PUBLISHED,
    agreement,
    published_estimates,
    summary_level_label,
    summary_level_rows,
)
from bayes_bcsm.models.base import OBSERVED
from bayes_bcsm.reinterpret import Reinterpretation, reinterpret
from bayes_bcsm.report.compare_report import write_compare_report
from bayes_bcsm.resources import CONF_PACKAGE, conf_dir
from bayes_bcsm.results import Comparison, RunInputs, VariantFit
from bayes_bcsm.runs.common import prepare_run
from bayes_bcsm.runs.variant import fit_variant, save_variant
from bayes_bcsm.study import load_targets

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


def _loo_table(fits: list[VariantFit]) -> tuple[pd.DataFrame | None, str]:
    bayes = [v for v in fits if v.fit is not None]
    if len(bayes) < 2:
        return None, "LOO comparison needs at least two Bayesian variants."
    patients = {tuple(v.fit.model.data["time_months"]) for v in bayes}
    if len(patients) > 1:
        return None, (
            "LOO comparison skipped: the variants were fitted on different patients "
            "(e.g. complete-case vs marginalised), so their ELPDs are not comparable."
        )
    # Comparable only when every variant stores the same pointwise quantity: the survival
    # log-likelihood of each patient (a marginalised covariate's own model, log P(z | x), is
    # a Potential outside the log_likelihood group; see bayes_bcsm.models.missing).
    stored = {v.label: sorted(v.fit.idata["log_likelihood"].data_vars) for v in bayes}
    if any(names != [OBSERVED] for names in stored.values()):
        return None, (
            "LOO comparison refused: the variants' pointwise log-likelihoods are not all the "
            f"survival likelihood alone ({stored}), so their ELPDs are not comparable."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = az.compare({v.label: v.fit.idata for v in bayes}, round_to="none")
    n_used = bayes[0].fit.n_used
    note = (
        f"PSIS-LOO on {n_used} patients (pointwise survival log-likelihood; a marginalised "
        "covariate is summed out of it, its own model left out)."
    )
    if n_used < 100:
        note += (
            " ArviZ flags every difference with `N < 100` (column diag_diff): with fewer than "
            "100 observations the normal approximation behind `dse` (the standard error of the "
            "ELPD difference) is unreliable (Sivula et al. 2022), so read small differences as "
            "'no clear preference'."
        )
    for w in caught:
        note += f" ArviZ warned: {w.message}"
    return table, note


def _psense(variant: VariantFit) -> pd.DataFrame:
    import pymc as pm

    tree = variant.fit.idata.copy()
    with variant.fit.model.model:
        tree = pm.stats.compute_log_prior(tree, progressbar=False)
    return az.psense_summary(tree, var_names=["beta"]).reset_index(names="parameter")


@dataclass(frozen=True)
class VariantSpec:
    """One variant to fit: its overrides, its name, and the label of its posterior HR rows."""

    overrides: str
    label: str
    hr_label: str


def planned_variants(cfg: DictConfig) -> list[VariantSpec]:
    """The variants a run fits.

    ``covariates.mode=univariate`` fits one model per covariate (named after it, HR rows
    labelled with the model family, so a table shows each covariate's own model); otherwise
    ``compare.variants`` (or just the configured model).
    """
    family = cfg.model.family.value
    if cfg.covariates.mode == CovariateMode.univariate:
        return [
            VariantSpec(f"covariates.names=[{name}] covariates.mode=joint", name, family)
            for name in cfg.covariates.names
        ]
    overrides = list(cfg.compare.variants) or [f"model={family}"]
    return [VariantSpec(o, o, o) for o in overrides]


def compare_variants(cfg: DictConfig, inputs: RunInputs, plots: bool = True) -> Comparison:
    """Fit every planned variant (:func:`planned_variants`) on the loaded cohort.

    Every variant's configuration is validated before the first one is fitted, and each
    variant is saved to ``variants/<slug>/`` as soon as it is fitted (its posterior right
    after sampling), so a failure in a later variant loses no earlier one. Published Table 3
    rows are adjusted HRs, so univariate runs leave them out.
    """
    specs = planned_variants(cfg)
    configs = [(spec, apply_overrides(cfg, spec.overrides)) for spec in specs]
    for spec, variant_cfg in configs:
        try:
            validate_config(variant_cfg)
        except ConfigError as error:
            raise ConfigError(f"compare variant {spec.overrides!r}: {error}") from error
    fits = []
    for spec, variant_cfg in configs:
        folder = inputs.output_dir / "variants" / variant_slug(spec.label)
        variant = fit_variant(variant_cfg, inputs, spec.label, spec.hr_label, folder)
        save_variant(variant, folder, plots=plots)
        fits.append(variant)
    table = pd.concat([v.hazard_ratios for v in fits], ignore_index=True)
    table = table.drop_duplicates(["covariate", "model"]).reset_index(drop=True)
    if cfg.covariates.mode == CovariateMode.univariate:
        table = table[table["model"] != PUBLISHED].reset_index(drop=True)
    loo, note = _loo_table(fits)
    psense = {}
    if cfg.compare.psense:
        psense = {v.label: _psense(v) for v in fits if v.fit is not None}
    reinterpretation, table = _with_printed_reread(cfg, table)
    default_prior = reinterpret_settings(cfg).default_prior
    printed_vs_posteriors = printed_vs_cox = None
    if reinterpretation is not None:
        reference = summary_level_label(default_prior)
        estimated = table.loc[table["p_hr_below_1"].notna() & (table["model"] != reference)]
        printed_vs_posteriors = agreement(
            table, reference, [*dict.fromkeys(estimated["model"]), "cox"]
        )
        printed_vs_cox = agreement(table, PUBLISHED, ["cox"])
    return Comparison(
        fits,
        table,
        loo,
        note,
        psense,
        reinterpretation,
        default_prior,
        printed_vs_posteriors,
        printed_vs_cox,
    )


def _with_printed_reread(
    cfg: DictConfig, table: pd.DataFrame
) -> tuple[Reinterpretation | None, pd.DataFrame]:
    """Re-read the printed aHRs present in ``table`` under the prior grid; add the default
    prior's summary-level posteriors to the table, right after the published rows."""
    published = table[table["model"] == PUBLISHED]
    if published.empty:
        return None, table
    settings = reinterpret_settings(cfg)
    targets = load_targets()
    estimates = [e for e in published_estimates(targets) if e.name in set(published["covariate"])]
    result = reinterpret(
        estimates,
        settings.priors,
        thresholds=settings.thresholds,
        true_hrs=settings.true_hrs,
        alpha=settings.alpha,
        level=settings.level,
    )
    rows = summary_level_rows(result, settings.default_prior)  # Table 3's n: unstated
    is_published = table["model"] == PUBLISHED
    table = pd.concat([table[is_published], rows, table[~is_published]], ignore_index=True)
    return result, table


def run(cfg: DictConfig, output_dir: str | Path) -> Comparison:
    """Fit the variants, write each one's artefacts and the comparison report.

    Parameters
    ----------
    cfg : DictConfig
        A composed configuration with ``compare.variants``.
    output_dir : str or Path
        The run's folder; variant artefacts go to ``variants/<slug>/``.
    """
    inputs = prepare_run(cfg, output_dir)
    log.info(inputs.cohort.accounting.describe())
    comparison = compare_variants(cfg, inputs, plots=cfg.report.plots)
    comparison.hazard_ratios.to_csv(inputs.output_dir / "hazard_ratios.csv", index=False)
    if comparison.loo is not None:
        comparison.loo.to_csv(inputs.output_dir / "loo_compare.csv")
    write_compare_report(report_settings(cfg), inputs, comparison)
    return comparison
