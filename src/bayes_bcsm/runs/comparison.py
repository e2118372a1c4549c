"""The fitting half of a comparison run: each planned variant fitted and saved, then compared.

:mod:`bayes_bcsm.runs.compare` parses the run and its variants (no PyMC); this module, imported
after that, fits them (:func:`compare_variants`), compares them by PSIS-LOO and (optionally)
power-scaling sensitivity, and re-reads the printed aHRs beside the posteriors.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import arviz as az
import numpy as np
import pandas as pd

from bayes_bcsm.atomic import write_text_atomic
from bayes_bcsm.config import ConfigError
from bayes_bcsm.cpu_load import spare_core
from bayes_bcsm.data.design import Design
from bayes_bcsm.frequentist.km import kaplan_meier
from bayes_bcsm.hazard_ratios import (
    PUBLISHED,
    agreement,
    published_estimates,
    summary_level_label,
    summary_level_rows,
)
from bayes_bcsm.inference.averaging import curve_table, marginal_survival
from bayes_bcsm.models.base import OBSERVED
from bayes_bcsm.models.families import model_family
from bayes_bcsm.reconstruct.delayed_exposure import EXPOSURE as IMMORTAL_EXPOSURE
from bayes_bcsm.reinterpret import Reinterpretation, reinterpret
from bayes_bcsm.report.plot_worker import FitPlotter
from bayes_bcsm.report.reinterpret_report import draw_reinterpretation_figures
from bayes_bcsm.results import Comparison, ModelAverage, RunInputs, VariantFit
from bayes_bcsm.runs.common import load_inputs
from bayes_bcsm.runs.compare import VariantSpec, data_coding, variant_slug
from bayes_bcsm.runs.immortal import committed_immortal_answer
from bayes_bcsm.runs.variant import complete_case_design, fit_variant, save_variant
from bayes_bcsm.settings import RunSettings
from bayes_bcsm.study import bundled_targets


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
    unstored = [v.label for v in bayes if "log_likelihood" not in v.fit.idata.children]
    if unstored:
        limit = bayes[0].fit.settings.pointwise_max_patients
        return None, (
            f"LOO comparison skipped: {bayes[0].fit.n_used:,} patients exceed "
            f"sampler.pointwise_max_patients={limit:,}, so no pointwise log-likelihood is "
            f"stored for {unstored}; raise sampler.pointwise_max_patients above the number of "
            "patients to compare the variants by PSIS-LOO (memory grows as draws x patients)."
        )
    failed = {v.label: v.notices["loo"] for v in bayes if v.loo is None}
    bayes = [v for v in bayes if v.loo is not None]
    left_out = "".join(f" Left out (no ELPD): {label}: {why}" for label, why in failed.items())
    if len(bayes) < 2:
        return None, "LOO comparison needs at least two Bayesian variants with an ELPD." + left_out
    # Comparable only when every variant stores the same pointwise quantity: the survival
    # log-likelihood of each patient (a marginalised covariate's own model, log P(z | x), is
    # a Potential outside the log_likelihood group; see bayes_bcsm.models.missing).
    stored = {v.label: sorted(v.fit.idata["log_likelihood"].data_vars) for v in bayes}
    if any(names != [OBSERVED] for names in stored.values()):
        return None, (
            "LOO comparison refused: the variants' pointwise log-likelihoods are not all the "
            f"survival likelihood alone ({stored}), so their ELPDs are not comparable."
        )
    # each fit's own PSIS-LOO (arviz.compare on the DataTrees computes the same again, twice)
    elpds = {v.label: v.loo for v in bayes}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = az.compare(elpds, method="stacking", round_to="none")
        pseudo_bma = az.compare(elpds, method="BB-pseudo-BMA", round_to="none")["weight"]
    table.insert(
        table.columns.get_loc("weight") + 1, "pseudo_bma_plus_weight", pseudo_bma[table.index]
    )
    n_used = bayes[0].fit.n_used
    note = (
        f"PSIS-LOO on {n_used} patients (pointwise survival log-likelihood; a marginalised "
        "covariate is summed out of it, its own model left out). `weight`: stacking weights "
        "(Yao et al. 2018); `pseudo_bma_plus_weight`: pseudo-BMA+ weights (Bayesian "
        "bootstrap)."
    )
    if n_used < 100:
        note += (
            " ArviZ flags every difference with `N < 100` (column diag_diff): with fewer than "
            "100 observations the normal approximation behind `dse` (the standard error of the "
            "ELPD difference) is unreliable (Sivula et al. 2022), so read small differences as "
            "'no clear preference'."
        )
    warned = [*(m for v in bayes for m in v.loo_warnings), *(str(w.message) for w in caught)]
    for message in dict.fromkeys(warned):
        note += f" ArviZ warned: {message}"
    return table, note + left_out


#: Points of the model-averaged survival curves, from 0 to twice the last follow-up.
AVERAGE_GRID_POINTS = 121


def model_average(fits: list[VariantFit], loo: pd.DataFrame, prob: float) -> ModelAverage:
    """The Bayesian variants' standardised survival averaged by their stacking weights, to
    twice the last follow-up (beyond it: extrapolation), beside the KM of the same patients.

    Parameters
    ----------
    fits : list of VariantFit
        The comparison's variants (the Bayesian ones in ``loo``, fitted on the same patients,
        are used).
    loo : DataFrame
        :func:`_loo_table`'s ``arviz.compare`` table (``weight``: stacking).
    prob : float
        Interval probability of the curves.
    """
    bayes = [v for v in fits if v.fit is not None and v.label in loo.index]
    last = max(v.last_follow_up_months for v in bayes)
    grid = np.linspace(0.0, 2.0 * last, AVERAGE_GRID_POINTS)[1:]
    weights = {v.label: float(loo.loc[v.label, "weight"]) for v in bayes}
    per_model = {v.label: marginal_survival(v.fit, grid) for v in bayes}
    data = bayes[0].fit.model.data
    km = kaplan_meier(data["time_months"], data["event"], entry=data.get("entry_months")).table
    table = loo.reset_index(names="variant")
    return ModelAverage(
        weights=table[["variant", "elpd", "weight", "pseudo_bma_plus_weight"]].rename(
            columns={"weight": "stacking_weight"}
        ),
        curves=curve_table(per_model, weights, last, prob),
        km=km[["time", "survival"]].rename(columns={"time": "time_months"}),
        last_follow_up_months=last,
        prob=prob,
    )


def _psense(variant: VariantFit) -> pd.DataFrame:
    import pymc as pm

    tree = variant.fit.idata.copy()
    with variant.fit.model.model:
        tree = pm.stats.compute_log_prior(tree, progressbar=False)
    coefficient = model_family(variant.fit.model.family).coefficient
    return az.psense_summary(tree, var_names=[coefficient]).reset_index(names="parameter")


def background_plots(specs: Sequence[VariantSpec]) -> bool:
    """Whether a run of ``specs`` draws its plots in a worker process: with several variants
    (each one's plots drawn while the next is fitted) and a core to spare."""
    plots = any(spec.settings.report.plots for spec in specs)
    return len(specs) > 1 and plots and spare_core()


def compare_variants(
    settings: RunSettings,
    specs: Sequence[VariantSpec],
    inputs: RunInputs,
    plotter: FitPlotter | None = None,
) -> Comparison:
    """Fit every planned variant (:func:`bayes_bcsm.runs.compare.planned_variants`) on the
    loaded cohort.

    Each variant is saved to ``variants/<slug>/`` as soon as it is fitted (its posterior right
    after sampling), so a failure in a later variant loses no earlier one. Published Table 3
    rows are adjusted HRs, so univariate runs leave them out.

    Parameters
    ----------
    settings : RunSettings
        The run's own parsed configuration (report, comparison and re-reading settings).
    specs : sequence of VariantSpec
        The variants, each with its parsed configuration.
    inputs : RunInputs
        The loaded cohort.
    plotter : FitPlotter, optional
        Draws each variant's plots (its owner waits for them); by default a plotter of the
        call's own (:func:`background_plots`), waited for before the call returns.

    Raises
    ------
    ConfigError
        For ``compare.psense=true`` on more rows than ``sampler.pointwise_max_patients``
        (power-scaling needs the stored pointwise log-likelihood), before any fit.
    """
    rows = len(inputs.frame)
    if settings.compare.psense and not settings.sampler.per_patient(rows):
        raise ConfigError(
            f"compare.psense=true: power-scaling sensitivity needs the pointwise log-likelihood, "
            f"which is not stored for the {rows:,} rows of the data (more than "
            f"sampler.pointwise_max_patients={settings.sampler.pointwise_max_patients:,}); raise "
            "sampler.pointwise_max_patients or set compare.psense=false"
        )
    if plotter is not None:
        return _compare_fitted(settings, specs, inputs, plotter)
    with FitPlotter(background_plots(specs)) as own:
        return _compare_fitted(settings, specs, inputs, own)


def _compare_fitted(
    settings: RunSettings, specs: Sequence[VariantSpec], inputs: RunInputs, plotter: FitPlotter
) -> Comparison:
    """:func:`compare_variants`, each variant's plots handed to ``plotter``."""
    codings = {spec.label: data_coding(spec.settings) for spec in specs}
    recoded = len(set(codings.values())) > 1
    cohorts = {data_coding(settings): inputs}
    for spec in specs:  # the same data coded another way (naive, landmark)
        if codings[spec.label] not in cohorts:
            cohorts[codings[spec.label]] = load_inputs(spec.settings, inputs.output_dir)
    designs = [complete_case_design(s.settings, cohorts[codings[s.label]]) for s in specs]
    reinterpretation = _printed_reread(settings, inputs, designs)
    if reinterpretation is not None and settings.report.plots:
        # they need no fit: the plotting worker draws them while the first model compiles
        draw_reinterpretation_figures(reinterpretation, inputs.output_dir, plotter.draw)
    fits = []
    for spec, design in zip(specs, designs, strict=True):
        folder = inputs.output_dir / "variants" / variant_slug(spec.label)
        coding = codings[spec.label]
        variant = fit_variant(
            spec.settings, cohorts[coding], spec.label, spec.hr_label, folder, design, plotter
        )
        if recoded:
            variant = _with_coding(variant, coding)
        save_variant(variant, folder, spec.settings.report, plotter)
        # the variant's own configuration: `predict predict.run_dir=<folder>` rebuilds its model
        write_text_atomic(folder / "resolved_config.yaml", spec.settings.resolved_config)
        fits.append(variant)
    table = pd.concat([v.hazard_ratios for v in fits], ignore_index=True)
    table = table.drop_duplicates(["covariate", "model"]).reset_index(drop=True)
    if settings.covariates.mode == "univariate":
        table = table[table["model"] != PUBLISHED].reset_index(drop=True)
    loo, note = _loo_table(fits) if not recoded else (None, _RECODED_LOO_NOTE)
    average = None if loo is None else model_average(fits, loo, settings.report.hdi_prob)
    psense = {}
    if settings.compare.psense:
        psense = {v.label: _psense(v) for v in fits if v.fit is not None}
    default_prior = settings.reinterpret.default_prior
    table = _with_summary_level_rows(reinterpretation, default_prior, table)
    printed_vs_posteriors = printed_vs_cox = None
    if reinterpretation is not None:
        reference = summary_level_label(default_prior)
        estimated = table.loc[table["p_hr_below_1"].notna() & (table["model"] != reference)]
        printed_vs_posteriors = agreement(
            table, reference, [*dict.fromkeys(estimated["model"]), "cox"]
        )
        printed_vs_cox = agreement(table, PUBLISHED, ["cox"])
    asks = recoded or (inputs.card.study and IMMORTAL_EXPOSURE in set(table["covariate"]))
    return Comparison(
        variants=fits,
        hazard_ratios=table,
        loo=loo,
        loo_note=note,
        psense=psense,
        reinterpretation=reinterpretation,
        default_prior=default_prior,
        printed_vs_posteriors=printed_vs_posteriors,
        printed_vs_cox=printed_vs_cox,
        immortal_time=committed_immortal_answer() if asks else None,
        average=average,
    )


_RECODED_LOO_NOTE = (
    "LOO comparison refused: the variants code the data differently (naive, time-dependent, "
    "landmark), so their pointwise log-likelihoods are over different observations (patients "
    "or follow-up) and their ELPDs are not comparable."
)


def _with_coding(variant: VariantFit, coding: str) -> VariantFit:
    """The variant with its data coding recorded and its Cox / Firth rows named after it
    (``cox (naive: ever exposed)``), as the codings' baselines differ."""
    table = variant.hazard_ratios.copy()
    baseline = table["model"].isin(["cox", "firth"])
    table.loc[baseline, "model"] = table.loc[baseline, "model"] + f" ({coding})"
    return dataclasses.replace(variant, hazard_ratios=table, data_coding=coding)


def _printed_reread(
    settings: RunSettings, inputs: RunInputs, designs: Sequence[Design]
) -> Reinterpretation | None:
    """The printed aHRs of the covariates the variants' ``designs`` estimate (the published
    rows :func:`fit_variant` puts in their tables), re-read under the prior grid; None when
    there are none (another cohort than the study's, or univariate models)."""
    if not inputs.card.study or settings.covariates.mode == "univariate":
        return None
    columns = {column for design in designs for column in design.columns}
    estimates = [e for e in published_estimates(bundled_targets()) if e.name in columns]
    if not estimates:
        return None
    chosen = settings.reinterpret
    return reinterpret(
        estimates,
        chosen.priors,
        thresholds=chosen.thresholds,
        true_hrs=chosen.true_hrs,
        alpha=chosen.alpha,
        level=chosen.level,
    )


def _with_summary_level_rows(
    result: Reinterpretation | None, default_prior: str, table: pd.DataFrame
) -> pd.DataFrame:
    """``table`` with the default prior's summary-level posteriors of the re-read printed
    aHRs right after the published rows (Table 3's n: unstated)."""
    if result is None:
        return table
    rows = summary_level_rows(result, default_prior)
    is_published = table["model"] == PUBLISHED
    return pd.concat([table[is_published], rows, table[~is_published]], ignore_index=True)
