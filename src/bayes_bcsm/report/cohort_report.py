"""Report of ``reproduce`` on a cohort that is not the paper's: KM by group, log-rank, Cox."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bayes_bcsm.report.plots import plot_km_curves, save_figure
from bayes_bcsm.report.render import markdown_table, report_opening, write_report
from bayes_bcsm.report.sentences import p_statement

if TYPE_CHECKING:
    from bayes_bcsm.results import ReportSettings, RunInputs
    from bayes_bcsm.survival_tables import CohortTables


def write_cohort_report(
    settings: ReportSettings, inputs: RunInputs, tables: CohortTables
) -> list[Path]:
    """Write the figures, ``report.md`` and ``report.html`` of a cohort's frequentist tables."""
    out = inputs.output_dir
    lines = report_opening(settings.heading(inputs.card.title), inputs)
    lines += [
        "## Kaplan-Meier medians by group",
        "",
        "Medians in months with 95% CIs (R `survfit`'s rule: where the log-transformed pointwise "
        "band crosses 0.5; empty where not reached).",
        "",
        markdown_table(tables.km),
        "",
        "## Log-rank tests",
        "",
        markdown_table(tables.logrank),
        "",
        "## Cox model",
        "",
        "Efron ties, Wald 95% CIs, per natural unit of each covariate (see the units above); "
        "`contrast` names each hazard ratio's reference level.",
        "",
        markdown_table(
            tables.hazard_ratios.assign(covariate=tables.hazard_ratios["label"])[
                ["covariate", "contrast", "estimate", "lower", "upper", "p_value", "n_used"]
            ]
        ),
        "",
    ]
    for message in tables.cox_warnings:
        lines += [f"> **Cox warning:** {message}", ""]
    if settings.plots:
        lines += ["## Figures", ""]
        for figure in tables.figures:
            annotation = f"log-rank {p_statement(figure.logrank_p)}; n = {figure.n_used}"
            fig = plot_km_curves(
                figure.curves,
                title=figure.caption,
                annotation=annotation,
                time_label=inputs.card.time_label,
                outcome_label=inputs.card.outcome_label,
            )
            save_figure(fig, out / f"{figure.name}.png")
            lines += [f"![{figure.caption}]({figure.name}.png)", ""]
    lines += [
        "## Files",
        "",
        "`km_by_group.csv`, `logrank.csv`, `hazard_ratios.csv`, figures as PNG, "
        "`resolved_config.yaml`, `provenance.json`.",
    ]
    return list(write_report(out, "\n".join(lines), settings.title, settings.html))
