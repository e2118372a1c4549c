"""Report of the paper reproduction: Tables 2 and 3 and Figs 1-3 beside the published values."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bayes_bcsm.hazard_ratios import HR_TABLE_NOTE
from bayes_bcsm.report.hazard_ratio_table import side_by_side
from bayes_bcsm.report.plots import plot_km_curves, save_figure
from bayes_bcsm.report.render import markdown_table, report_opening, write_report

if TYPE_CHECKING:
    from bayes_bcsm.results import ReportSettings, Reproduction, RunInputs


def draw_figures(result: Reproduction, folder: Path) -> list[tuple[str, str]]:
    """Draw Figs 1-3 (KM curves by group, with the published P or survival points).

    Returns
    -------
    list of (file name, caption)
    """
    drawn = []
    for figure in result.figures:
        annotation = None
        if figure.logrank_p is not None:
            annotation = (
                f"log-rank P = {figure.logrank_p:.3f} (published {figure.published_p:g}); "
                f"n = {figure.n_used}"
            )
        fig = plot_km_curves(
            figure.curves,
            title=figure.caption,
            published_points=figure.published_points,
            annotation=annotation,
        )
        save_figure(fig, folder / f"{figure.name}.png")
        drawn.append((f"{figure.name}.png", figure.caption))
    return drawn


def write_paper_report(
    settings: ReportSettings, inputs: RunInputs, result: Reproduction
) -> list[Path]:
    """Write the reproduction's figures, ``report.md`` and ``report.html``."""
    out = inputs.output_dir
    t2 = result.table2
    factors = t2.drop_duplicates("factor")
    same_side = int(factors["same_side_of_0.05"].sum())
    selection = result.table3.selection
    lines = report_opening(
        "Paper reproduction: Hu et al. (2025), Tables 2-3 and Figs 1-3",
        inputs,
    )
    lines += [
        "## Table 2: univariate Kaplan-Meier medians and log-rank tests",
        "",
        "Medians in months; the CI is estimate +/- 1.96 SE (SPSS's rule, as the paper printed). "
        f"Log-rank P on the same side of 0.05 as published for {same_side} of {len(factors)} "
        "comparisons. Each test uses the patients with the factor known (`n_used`).",
        "",
        markdown_table(t2.drop(columns=["column"])),
        "",
        "## Table 3: the paper's selection procedure",
        "",
        f"Candidates: factors with log-rank P < 0.05 among {len(selection.screen)} screened "
        f"({', '.join(selection.candidates) or 'none'}); Cox backward elimination by "
        "likelihood-ratio P > 0.10 (SPSS's default).",
    ]
    if selection.rows is not None:
        lines += [f"Backward elimination: {selection.rows.describe()}."]
    lines += ["", "### Screening", "", markdown_table(selection.screen), ""]
    if len(selection.steps):
        lines += ["### Removal steps", "", markdown_table(selection.steps), ""]
    else:
        lines += ["No candidate was removed.", ""]
    lines += [
        "### Final model beside the published aHRs",
        "",
        markdown_table(side_by_side(result.table3.hazard_ratios)),
        "",
    ]
    if selection.final is not None:
        for message in selection.final.warnings:
            lines += [f"> **Cox warning:** {message}", ""]
    if settings.plots:
        lines += ["## Figures", ""]
        for file_name, caption in draw_figures(result, out):
            lines += [f"![{caption}]({file_name})", ""]
    lines += [
        "## Files",
        "",
        "`table2.csv`, `hazard_ratios.csv` (Table 3), `selection_screen.csv`, "
        "`selection_steps.csv`, figures as PNG, `resolved_config.yaml`, `provenance.json`.",
        "",
        HR_TABLE_NOTE,
    ]
    return write_report(out, "\n".join(lines), "Paper reproduction", settings.html)
