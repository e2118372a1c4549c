"""Several variants of one experiment, fitted on the same cohort, in one comparison report.

Each variant is a space-separated override string applied to the run's config, e.g.
``"model=piecewise"`` (a config-group option: the group is reset to the schema defaults, then
the option's YAML file is merged, as Hydra does) or ``"prior.scale=0.5"`` (a single key).
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf

from bayes_bcsm.compare import (
    PUBLISHED,
    agreement,
    published_estimates,
    summary_level_label,
    summary_level_rows,
)
from bayes_bcsm.config import (
    ConfigError,
    CovariateMode,
    reinterpret_settings,
    report_settings,
    validate_config,
)
from bayes_bcsm.reconstruct.targets import load_targets
from bayes_bcsm.reinterpret import Reinterpretation, reinterpret
from bayes_bcsm.report.compare_report import write_compare_report
from bayes_bcsm.resources import conf_dir
from bayes_bcsm.results import Comparison, RunInputs, VariantFit
from bayes_bcsm.runs.common import prepare_run
from bayes_bcsm.runs.variant import fit_variant, save_variant

log = logging.getLogger(__name__)


def variant_slug(overrides: str) -> str:
    """A folder name for a variant: ``"model=piecewise prior=sceptical"`` ->
    ``"model-piecewise_prior-sceptical"``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", overrides.replace("=", "-").replace(" ", "_"))


def apply_overrides(cfg: DictConfig, overrides: str) -> DictConfig:
    """Return a copy of ``cfg`` with the variant's overrides applied.

    Parameters
    ----------
    cfg : DictConfig
        The composed base configuration.
    overrides : str
        Space-separated ``key=value`` items; ``group=option`` selects ``conf/group/option.yaml``.

    Raises
    ------
    ConfigError
        For an item without ``=``, an unknown group option or key, or an invalid value.
    """
    new = cfg.copy()
    for item in overrides.split():
        if "=" not in item:
            raise ConfigError(f"compare.variants item {item!r}: expected key=value")
        key, value = item.split("=", 1)
        group_dir = conf_dir() / key
        try:
            if "." not in key and group_dir.is_dir():
                option = group_dir / f"{value}.yaml"
                if not option.is_file():
                    valid = sorted(p.stem for p in group_dir.glob("*.yaml"))
                    raise ConfigError(
                        f"compare.variants item {item!r}: no option {value!r} in group "
                        f"{key!r}; valid: {valid}"
                    )
                schema = OmegaConf.structured(OmegaConf.get_type(cfg, key))
                new[key] = OmegaConf.merge(schema, OmegaConf.load(option))
            else:
                OmegaConf.update(new, key, yaml.safe_load(value), merge=False)
        except ConfigError:
            raise
        except Exception as error:
            raise ConfigError(f"compare.variants item {item!r}: {error}") from error
    return new


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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = az.compare({v.label: v.fit.idata for v in bayes}, round_to="none")
    note = (
        f"PSIS-LOO on {bayes[0].fit.n_used} patients. ArviZ flags every difference with "
        "`N < 100` (column diag_diff): with fewer than 100 observations the normal "
        "approximation behind `dse` (the standard error of the ELPD difference) is unreliable "
        "(Sivula et al. 2022), so read small differences as 'no clear preference'."
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
    rows = summary_level_rows(result, settings.default_prior, targets.n, targets.deaths)
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
