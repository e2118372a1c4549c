"""Plots and report of one model fit (``experiments/fit.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayes_bcsm.report.plots import plot_forest, save_figure
from bayes_bcsm.report.remedies import remedy_lines
from bayes_bcsm.report.render import markdown_table, report_opening, write_report
from bayes_bcsm.results import CURVE_TIMES_MONTHS

if TYPE_CHECKING:
    from bayes_bcsm.results import ReportSettings, RunInputs, VariantFit


def plot_posterior_survival(variant: VariantFit) -> Figure:
    """Posterior median S(t) with 95 % bands: reference profile and each covariate switched on."""
    curves = variant.survival_curves
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name in curves["profile"].values:
        da = curves.sel(profile=name)
        median = da.median(("chain", "draw")).values
        lo, hi = da.quantile([0.025, 0.975], dim=("chain", "draw")).values
        (line,) = ax.plot(CURVE_TIMES_MONTHS, median, label=str(name))
        ax.fill_between(CURVE_TIMES_MONTHS, lo, hi, alpha=0.12, color=line.get_color())
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(variant.time_label)
    ax.set_ylabel("Posterior survival S(t | x)")
    ax.set_title(f"{variant.label}: reference profile vs one covariate on")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _save_collection(collection, path: Path) -> Path:
    collection.savefig(path, dpi=100)
    plt.close("all")
    return path


def write_fit_artefacts(variant: VariantFit, folder: Path) -> dict[str, Path]:
    """Write the plots of one fit as PNG; return ``{name: path}``."""
    paths = {}
    paths["rank_plot"] = _save_collection(
        az.plot_rank(variant.fit.idata, var_names=["beta"], backend="matplotlib"),
        folder / "rank.png",
    )
    paths["trace_plot"] = _save_collection(
        az.plot_trace_dist(variant.fit.idata, var_names=["beta"], backend="matplotlib"),
        folder / "trace.png",
    )
    paths["ppc_plot"] = _save_collection(
        az.plot_ppc_censored(variant.predictive, backend="matplotlib"),
        folder / "ppc_censored.png",
    )
    save_figure(plot_forest(variant.hazard_ratios), folder / "forest.png")
    paths["forest_plot"] = folder / "forest.png"
    save_figure(plot_posterior_survival(variant), folder / "survival.png")
    paths["survival_plot"] = folder / "survival.png"
    paths["loo_plot"] = _save_collection(
        az.plot_khat(variant.loo, backend="matplotlib"), folder / "loo_pareto_k.png"
    )
    return paths


def diagnostics_table(variant: VariantFit) -> pd.DataFrame:
    """Diagnostics of a fit with PASS/FAIL spelled out."""
    table = variant.diagnostics.summary.copy()
    table["passed"] = np.where(table["passed"], "PASS", "**FAIL**")
    return table


def hazard_ratio_table(hazard_ratios: pd.DataFrame) -> pd.DataFrame:
    """The columns of a hazard-ratio table that a reader needs."""
    columns = [
        "covariate",
        "model",
        "estimate",
        "lower",
        "upper",
        "interval",
        "p_hr_below_1",
        "p_value",
        "n_used",
        "n_events",
    ]
    return hazard_ratios[columns]


def write_fit_report(
    settings: ReportSettings, inputs: RunInputs, variant: VariantFit
) -> list[Path]:
    """Write ``report.md`` and ``report.html`` of one fit into the run folder."""
    lines = report_opening(
        f"{settings.title}: {variant.label}",
        inputs,
    )
    lines += [
        f"Cox and Firth baselines: {variant.design.rows.describe()} "
        f"({variant.design.n_events} events).",
        "",
    ]
    if variant.fit is not None:
        lines += [f"Bayesian model ({variant.family}): {variant.fit.model.rows}.", ""]
    for message in variant.cox.warnings:
        lines += [f"> **Cox warning:** {message}", ""]
    lines += [
        "## Hazard ratios",
        "",
        "Per natural unit of each covariate; Bayesian rows give the posterior median and 95% "
        "equal-tailed interval, frequentist rows the estimate and 95% CI.",
        "",
        markdown_table(hazard_ratio_table(variant.hazard_ratios)),
        "",
    ]
    if variant.fit is None:
        return write_report(inputs.output_dir, "\n".join(lines), settings.title, settings.html)
    verdict = (
        "all checks passed"
        if variant.diagnostics.passed
        else (
            "**some checks FAILED: do not interpret this posterior as it stands** "
            f"({', '.join(variant.diagnostics.failed)}; what to change is listed below the table)"
        )
    )
    lines += [
        "## Diagnostics",
        "",
        f"Sampler: {variant.fit.describe()}; {verdict}.",
        "",
        markdown_table(diagnostics_table(variant)),
        "",
        *remedy_lines(variant),
        "## Survival",
        "",
        markdown_table(variant.survival.drop(columns=["prob"])),
        "",
        "## Leave-one-out cross-validation (PSIS-LOO)",
        "",
        markdown_table(pd.DataFrame([variant.loo_summary])),
        "",
        f"Pareto k above {variant.loo.good_k:.2f} marks patients whose LOO estimate is "
        "unreliable (Vehtari et al. 2024); compare families with `experiments/compare.py "
        "experiment=model_comparison`.",
        "",
    ]
    if settings.plots:
        lines += [
            "## Plots",
            "",
            "![Forest plot of hazard ratios](forest.png)",
            "",
            "![Posterior survival curves](survival.png)",
            "",
            "![Kaplan-Meier of the data against posterior predictive curves](ppc_censored.png)",
            "",
            "![Pareto k per patient (PSIS-LOO)](loo_pareto_k.png)",
            "",
            "![Rank plots](rank.png)",
            "",
            "![Trace plots](trace.png)",
            "",
        ]
    lines += [
        "## Files",
        "",
        "`posterior.nc` (DataTree: `arviz.from_netcdf`), `summary.csv`, `diagnostics.json`, "
        "`hazard_ratios.csv`, `survival.csv`, `loo.json`, `resolved_config.yaml`, "
        "`provenance.json`.",
    ]
    return write_report(inputs.output_dir, "\n".join(lines), settings.title, settings.html)
