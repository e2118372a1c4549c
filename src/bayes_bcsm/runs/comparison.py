"""The fitting half of a comparison run: each planned variant fitted and saved, then compared.

:mod:`bayes_bcsm.runs.compare` parses the run and its variants (no PyMC); this module, imported
after that, fits them (:func:`compare_variants`), compares them by PSIS-LOO and (optionally)
power-scaling sensitivity, and re-reads the printed aHRs beside the posteriors.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import arviz as az
import pandas as pd

from bayes_bcsm.config import ReinterpretSettings
from bayes_bcsm.hazard_ratios import (
    PUBLISHED,
    agreement,
    published_estimates,
    summary_level_label,
    summary_level_rows,
)
from bayes_bcsm.models.base import OBSERVED
from bayes_bcsm.models.families import model_family
from bayes_bcsm.reinterpret import Reinterpretation, reinterpret
from bayes_bcsm.results import Comparison, RunInputs, VariantFit
from bayes_bcsm.runs.compare import VariantSpec, variant_slug
from bayes_bcsm.runs.variant import fit_variant, save_variant
from bayes_bcsm.settings import RunSettings
from bayes_bcsm.study import load_targets


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
    coefficient = model_family(variant.fit.model.family).coefficient
    return az.psense_summary(tree, var_names=[coefficient]).reset_index(names="parameter")


def compare_variants(
    settings: RunSettings, specs: Sequence[VariantSpec], inputs: RunInputs
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
    """
    fits = []
    for spec in specs:
        folder = inputs.output_dir / "variants" / variant_slug(spec.label)
        variant = fit_variant(spec.settings, inputs, spec.label, spec.hr_label, folder)
        save_variant(variant, folder, spec.settings.report)
        fits.append(variant)
    table = pd.concat([v.hazard_ratios for v in fits], ignore_index=True)
    table = table.drop_duplicates(["covariate", "model"]).reset_index(drop=True)
    if settings.covariates.mode == "univariate":
        table = table[table["model"] != PUBLISHED].reset_index(drop=True)
    loo, note = _loo_table(fits)
    psense = {}
    if settings.compare.psense:
        psense = {v.label: _psense(v) for v in fits if v.fit is not None}
    reinterpretation, table = _with_printed_reread(settings.reinterpret, table)
    default_prior = settings.reinterpret.default_prior
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
    settings: ReinterpretSettings, table: pd.DataFrame
) -> tuple[Reinterpretation | None, pd.DataFrame]:
    """Re-read the printed aHRs present in ``table`` under the prior grid; add the default
    prior's summary-level posteriors to the table, right after the published rows."""
    published = table[table["model"] == PUBLISHED]
    if published.empty:
        return None, table
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
