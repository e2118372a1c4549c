"""The report of a comparison run: HRs side by side, forest plot, LOO, diagnostics, psense."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import arviz as az
import matplotlib.pyplot as plt
import pandas as pd

from bayes_bcsm.hazard_ratios import side_by_side
from bayes_bcsm.report.plots import plot_forest, save_figure
from bayes_bcsm.report.reinterpret_report import reinterpretation_lines
from bayes_bcsm.report.remedies import remedy_lines
from bayes_bcsm.report.render import markdown_table, report_opening, write_report

if TYPE_CHECKING:
    from bayes_bcsm.results import Comparison, ReportSettings, RunInputs


def diagnostics_overview(comparison: Comparison) -> pd.DataFrame:
    """One row per Bayesian variant: patients used, each check's value with PASS/FAIL."""
    rows = []
    for variant in comparison.variants:
        if variant.fit is None:
            continue
        row = {
            "variant": variant.label,
            "n_used": variant.fit.n_used,
            "n_events": variant.fit.model.n_events,
        }
        for check in variant.diagnostics.summary.itertuples():
            flag = "PASS" if check.passed else "**FAIL**"
            row[check.check] = f"{check.value:.3g} {flag}"
        row["overall"] = "PASS" if variant.diagnostics.passed else "**FAIL**"
        rows.append(row)
    return pd.DataFrame(rows)


CALIBRATION_NOTE = (
    "Where they diverge, the data differ, not the method: the bundled reconstruction is "
    "calibrated to the paper's Tables 1-2 (counts, Kaplan-Meier medians, log-rank P values), "
    "not to its Table 3 estimates (see the calibration report, `docs/calibration/report.md` in "
    "the repository), and the summary-level posterior shrinks the printed estimate towards no "
    "effect by as much as its prior outweighs the printed interval."
)


def printed_vs_patient_level(comparison: Comparison) -> list[str]:
    """One sentence per Table 3 covariate: the printed aHR re-read (summary level) against each
    Bayesian variant's posterior on the cohort and our Cox fit, with where they diverge."""
    compared, printed = comparison.printed_vs_posteriors, comparison.printed_vs_cox
    lines = []
    for covariate, rows in compared.groupby("covariate", sort=False):
        first = rows.iloc[0]
        text = (
            f"- **{covariate}**: the printed aHR re-read under the {comparison.default_prior} "
            f"prior gives {first.ref_estimate:.2f} ({first.ref_lower:.2f}-{first.ref_upper:.2f})"
        )
        parts = []
        for row in rows.itertuples():
            kind = "our Cox fit" if row.model == "cox" else f"the {row.model} posterior"
            verdict = "intervals overlapping" if row.overlap else "intervals **not overlapping**"
            if not 0.5 <= row.ratio <= 2:
                verdict += f", medians {max(row.ratio, 1 / row.ratio):.1f}-fold apart"
            parts.append(
                f"{kind} on this cohort {row.estimate:.2f} ({row.lower:.2f}-{row.upper:.2f}), "
                f"{verdict}"
            )
        text += "; " + "; ".join(parts) + "."
        for cox in printed[printed["covariate"] == covariate].itertuples():
            inside = cox.lower <= cox.ref_estimate <= cox.upper
            text += (
                f" The printed aHR {cox.ref_estimate:g} lies "
                f"{'inside' if inside else '**outside**'} our Cox 95% CI on this cohort."
            )
        lines.append(text)
    return lines


def write_compare_report(
    settings: ReportSettings, inputs: RunInputs, comparison: Comparison
) -> list[Path]:
    """Write the comparison's plots, ``report.md`` and ``report.html`` into the run folder."""
    out = inputs.output_dir
    first = comparison.variants[0]
    lines = report_opening(
        f"{settings.experiment_name}: {', '.join(v.label for v in comparison.variants)}",
        inputs,
    )
    if len({v.design.columns for v in comparison.variants}) == 1:
        lines += [
            f"Covariates: {', '.join(first.design.columns)}. Cox and Firth baselines: "
            f"{first.design.rows.describe()}, {first.design.n_events} events.",
            "",
        ]
    else:
        lines += [
            "Each variant has its own covariates; its Cox and Firth baselines use the same "
            "patients as its Bayesian model (complete cases of its covariates):",
            "",
        ]
    for variant in comparison.variants:
        lines.append(f"- `{variant.label}` ({variant.family}): {variant.rows_description}")
    lines.append("")
    warnings = dict.fromkeys(m for v in comparison.variants for m in v.cox.warnings)
    for message in warnings:
        lines += [f"> **Cox warning:** {message}", ""]

    lines += [
        "## Hazard ratios side by side",
        "",
        ("Published aHR (Table 3), our " if inputs.card.study else "Our ")
        + "Cox (Efron; Wald CI) and Firth (profile CI) on the same "
        "rows, and each Bayesian variant's posterior median HR with its 95% equal-tailed "
        "interval and posterior P(HR < 1). Per natural unit of each covariate.",
        "",
        markdown_table(side_by_side(comparison.hazard_ratios)),
        "",
    ]
    if settings.plots:
        save_figure(plot_forest(comparison.hazard_ratios), out / "forest.png")
        lines += ["![Forest plot of hazard ratios](forest.png)", ""]

    if comparison.reinterpretation is not None:
        lines += [
            "## Printed results beside the patient-level posteriors",
            "",
            "Each published aHR re-read as a summary-level posterior (its printed interval as a "
            f"normal likelihood, the {comparison.default_prior} prior; next section) beside "
            "the posteriors and Cox fit on this run's cohort. Intervals are 95%.",
            "",
            *printed_vs_patient_level(comparison),
            "",
            CALIBRATION_NOTE if inputs.is_reconstruction else "",
            "",
            *reinterpretation_lines(
                comparison.reinterpretation, comparison.default_prior, out, settings.plots
            ),
        ]

    diag = diagnostics_overview(comparison)
    if len(diag):
        failed = diag[diag["overall"] != "PASS"]["variant"].tolist()
        verdict = (
            "Every variant passed every check."
            if not failed
            else (
                f"**{', '.join(failed)} failed at least one check: do not interpret "
                "those posteriors as they stand.** What to change is listed below the table."
            )
        )
        lines += [
            "## Diagnostics",
            "",
            "Thresholds: R-hat <= 1.01, bulk and tail ESS >= 400, no divergences, "
            f"E-BFMI >= 0.3. {verdict}",
            "",
            markdown_table(diag),
            "",
        ]
        for variant in comparison.variants:
            if variant.fit is not None:
                lines += remedy_lines(variant)

    lines += ["## Model comparison (PSIS-LOO)", ""]
    if comparison.loo is not None:
        table = comparison.loo.reset_index(names="variant")
        lines += [markdown_table(table), "", comparison.loo_note, ""]
        if settings.plots:
            az.plot_compare(comparison.loo, backend="matplotlib").savefig(
                out / "loo_compare.png", dpi=100
            )
            plt.close("all")
            lines += ["![LOO comparison](loo_compare.png)", ""]
    else:
        lines += [comparison.loo_note, ""]

    if comparison.psense:
        lines += [
            "## Prior sensitivity (power scaling)",
            "",
            "ArviZ's `psense_summary` (Kallioinen et al. 2023): the sensitivity of each log-HR "
            "to power-scaling its prior and the likelihood; values above 0.05 are flagged.",
            "",
        ]
        for label, table in comparison.psense.items():
            lines += [f"### {label}", "", markdown_table(table), ""]

    lines += [
        "## Files",
        "",
        "`hazard_ratios.csv` (all sources), `loo_compare.csv`, and per variant in "
        "`variants/<variant>/`: `posterior.nc`, `summary.csv`, `diagnostics.json`, "
        "`hazard_ratios.csv`, `survival.csv` and plots; `resolved_config.yaml`, "
        "`provenance.json`.",
    ]
    return write_report(out, "\n".join(lines), settings.title, settings.html)
