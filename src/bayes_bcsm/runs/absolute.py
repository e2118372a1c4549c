"""A comparison run's absolute effects: standardised survival and RMST of ``absolute.exposure``.

:func:`plan_absolute` runs before any fit (the exposure's levels, the truncation time and the
horizons checked against the analysed rows' follow-up); :func:`absolute_effects` runs after the
fits, on their saved draws (numpy only), and adds the unadjusted Kaplan-Meier RMST of each level.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_bcsm.data import Design
from bayes_bcsm.data.exposure import Exposure, exposure_levels
from bayes_bcsm.frequentist import SurvivalInputError, km_milestones, rmst_comparison
from bayes_bcsm.inference.absolute import Standardised, absolute_rows, standardise
from bayes_bcsm.inference.absolute_settings import ResolvedTimes
from bayes_bcsm.inference.averaging import stacked_standardised
from bayes_bcsm.results import STACKED, AbsoluteEffects, RunInputs, VariantFit
from bayes_bcsm.runs.variant import complete_case_design
from bayes_bcsm.settings import RunSettings

log = logging.getLogger(__name__)

#: Points of the standardised curves (a smooth curve needs few; each costs draws x patients).
CURVE_POINTS = 60

__all__ = ["KAPLAN_MEIER", "AbsolutePlan", "absolute_effects", "plan_absolute"]

#: ``method`` of the unadjusted Kaplan-Meier rows.
KAPLAN_MEIER = "kaplan_meier (unadjusted)"

#: Column order of ``absolute_effects.csv``.
COLUMNS = (
    "method",
    "quantity",
    "level",
    "estimate",
    "lower",
    "upper",
    "tau_months",
    "time_months",
    "p_positive",
    "p_above_mcid",
    "n_draws",
    "se",
    "p_value",
    "prob",
    "model_dependent",
    "exposure",
)


@dataclass(frozen=True)
class AbsolutePlan:
    """What the absolute effects of a run will be, fixed before any fit.

    Attributes
    ----------
    exposure : Exposure
    times : ResolvedTimes
    design : Design
        The complete-case design of the run's covariates (the Kaplan-Meier rows use it).
    """

    exposure: Exposure
    times: ResolvedTimes
    design: Design


def plan_absolute(settings: RunSettings, inputs: RunInputs) -> AbsolutePlan | None:
    """Check the run's ``absolute`` settings against the loaded cohort, before any fit.

    Returns
    -------
    AbsolutePlan or None
        None when ``absolute.exposure`` is not set, with one model per covariate
        (``covariates.mode=univariate``), or when the exposure is not among ``covariates.names``
        (a warning says so: the card's default exposure is not modelled in this run).

    Raises
    ------
    DesignError
        For a continuous exposure (named by ``absolute.exposure``).
    ExtrapolationError
        For ``absolute.tau_months`` or a horizon beyond the last follow-up without
        ``absolute.extrapolate=true``.
    """
    wanted = settings.absolute
    chosen = settings.covariates
    if wanted.exposure is None:
        return None
    if chosen.mode == "univariate":
        log.info("absolute effects are computed on joint models only (covariates.mode=univariate)")
        return None
    if wanted.exposure not in chosen.names:
        log.warning(
            "absolute.exposure=%s is not among covariates.names %s: no standardised survival or "
            "RMST in this run (add it to covariates.names, or set absolute.exposure=null)",
            wanted.exposure,
            list(chosen.names),
        )
        return None
    design = complete_case_design(settings, inputs)
    term = next(t for t in design.terms if t.name == wanted.exposure)
    exposure = exposure_levels(term, inputs.card, "absolute.exposure")
    return AbsolutePlan(exposure, wanted.resolve(float(design.time.max())), design)


def _method(variant: VariantFit) -> str:
    """A Bayesian variant's ``method``: its family when the variant is just ``model=<family>``."""
    return variant.family if variant.label == f"model={variant.family}" else variant.label


def _km_rows(plan: AbsolutePlan, prob: float) -> tuple[list[pd.DataFrame], list[str], pd.DataFrame]:
    """Kaplan-Meier RMST and milestone rows of each level against the reference, the notes of
    what could not be computed, and the curves' steps."""
    design, exposure, times = plan.design, plan.exposure, plan.times
    group = plan.exposure.level_of_rows(design)
    ref = exposure.reference.name
    tables, notes, steps = [], [], []
    for level in exposure.levels[1:]:
        try:
            cmp = rmst_comparison(
                design.time,
                design.event,
                group,
                times.tau_months,
                levels=(ref, level.name),
                entry=design.entry,
                conf_level=prob,
            )
        except SurvivalInputError as error:
            notes.append(f"Kaplan-Meier RMST of {level.name} vs {ref} left out: {error}")
            continue
        summary = cmp.summary.copy()
        own = summary["quantity"].str.fullmatch(r"rmst_(?!difference|ratio).*")
        summary["level"] = np.where(own, summary["quantity"].str[len("rmst_") :], "")
        summary.loc[own, "quantity"] = "rmst"
        contrast = f"{level.name} vs {ref}"
        summary.loc[~own, "level"] = contrast
        milestones = km_milestones(cmp, list(times.horizons_months))
        split = milestones["quantity"].str.extract(r"^survival_(.+)_([^_]+)$")
        is_diff = split[0] == "difference"
        milestones["level"] = np.where(is_diff, contrast, split[0])
        milestones["quantity"] = np.where(
            is_diff, "survival_difference_" + split[1], "survival_" + split[1]
        )
        milestones = milestones.rename(columns={"tau": "time_months"})
        summary = summary.rename(columns={"tau": "time_months"})
        tables += [summary, milestones]
        for name, km in zip(cmp.levels, cmp.curves, strict=True):
            steps.append(
                pd.DataFrame({"level": name, "time_months": km.time, "survival": km.survival})
            )
    km_curves = (
        pd.concat(steps).drop_duplicates(["level", "time_months"]).reset_index(drop=True)
        if steps
        else pd.DataFrame(columns=["level", "time_months", "survival"])
    )
    for table in tables:
        table.insert(0, "method", KAPLAN_MEIER)
        table["tau_months"] = times.tau_months
    return tables, notes, km_curves


def _curve_rows(std: Standardised, method: str, prob: float) -> pd.DataFrame:
    """Posterior median and 50 % / ``prob`` bands of each level's standardised curve."""
    q = [(1 - prob) / 2, 0.25, 0.5, 0.75, (1 + prob) / 2]
    values = np.quantile(std.curves.values, q, axis=(0, 1))  # (5, level, time)
    frames = []
    for k, level in enumerate(std.curves["level"].values):
        frames.append(
            pd.DataFrame(
                {
                    "method": method,
                    "level": str(level),
                    "time_months": std.curves["time_months"].values,
                    "median": values[2, k],
                    "lower": values[0, k],
                    "upper": values[4, k],
                    "lower_50": values[1, k],
                    "upper_50": values[3, k],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def absolute_effects(
    plan: AbsolutePlan,
    variants: Sequence[VariantFit],
    settings: RunSettings,
    weights: Mapping[str, float] | None = None,
) -> AbsoluteEffects:
    """Standardised survival and RMST of the planned exposure under each Bayesian variant
    (and their stacking-weighted mixture, method :data:`STACKED`, given ``weights``), beside
    the unadjusted Kaplan-Meier RMST of each level.

    Parameters
    ----------
    plan : AbsolutePlan
        From :func:`plan_absolute`.
    variants : sequence of VariantFit
        The fitted variants (those without a Bayesian fit, or whose design lacks the exposure,
        are left out with a note).
    settings : RunSettings
        The run's settings (``absolute``, ``report.hdi_prob``, ``seed``).
    weights : mapping of str to float, optional
        Stacking weight per variant label (:attr:`bayes_bcsm.results.ModelAverage.weights`);
        the mixture is left out, with a note, when a weighted variant was left out.

    Returns
    -------
    AbsoluteEffects
    """
    times, exposure = plan.times, plan.exposure
    prob = settings.report.hdi_prob
    mcid = settings.absolute.mcid_months
    end = max(times.last_follow_up_months, times.tau_months, *times.horizons_months)
    grid = np.union1d(np.linspace(end / CURVE_POINTS, end, CURVE_POINTS), times.horizons_months)
    tables, curves, notes = [], [], []
    standardised = {}
    for variant in variants:
        if variant.fit is None:
            continue
        if not set(exposure.columns) <= set(variant.fit.model.columns):
            notes.append(f"{variant.label} left out: its model does not hold {exposure.covariate}")
            continue
        std = standardise(variant.fit, exposure, grid, times.tau_months, settings.seed)
        standardised[variant.label] = std
        method = _method(variant)
        tables.append(absolute_rows(std, method, times.horizons_months, prob, mcid))
        curves.append(_curve_rows(std, method, prob))
    if weights and set(weights) <= set(standardised):
        std = stacked_standardised({k: standardised[k] for k in weights}, weights)
        tables.append(absolute_rows(std, STACKED, times.horizons_months, prob, mcid))
        curves.append(_curve_rows(std, STACKED, prob))
    elif weights:
        notes.append(f"{STACKED} left out: not every weighted model holds {exposure.covariate}")
    km_tables, km_notes, km_curves = _km_rows(plan, prob)
    table = pd.concat([*tables, *km_tables], ignore_index=True)
    # a level's own Kaplan-Meier rows repeat across contrasts with one reference: keep them once
    table = table.drop_duplicates(["method", "quantity", "level"]).reset_index(drop=True)
    table["model_dependent"] = table["time_months"] > times.last_follow_up_months
    table["prob"] = prob
    table["exposure"] = exposure.covariate
    table = table.reindex(columns=list(COLUMNS))
    return AbsoluteEffects(
        exposure=exposure.covariate,
        label=exposure.label,
        levels=tuple(lvl.name for lvl in exposure.levels),
        table=table,
        curves=pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(),
        km_curves=km_curves,
        tau_months=times.tau_months,
        horizons_months=times.horizons_months,
        last_follow_up_months=times.last_follow_up_months,
        mcid_months=mcid,
        prob=prob,
        notes=(*notes, *km_notes),
    )
