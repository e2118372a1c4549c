"""The prognosis report: cross-validated metrics of every predictor, their optimism,
calibration plots, and a paragraph answering the paper's claim about the classic scores."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bayes_bcsm.prognosis.summary import PrognosisSummary
from bayes_bcsm.report.plots import save_figure
from bayes_bcsm.report.render import markdown_table, report_opening, write_report
from bayes_bcsm.report.sentences import (
    c_index_sentence,
    discrimination_comparison,
    p_statement,
)
from bayes_bcsm.results import ReportSettings, RunInputs
from bayes_bcsm.study import load_targets

__all__ = ["calibration_figure", "write_prognosis_report"]

_DEFINITIONS = (
    "Harrell's C: share of comparable pairs the predictor orders correctly (1/2 = chance). "
    "Uno's C: the same with inverse-probability-of-censoring weights, truncated at the last "
    "horizon. AUC(t): cumulative/dynamic time-dependent AUC (deaths by t against patients alive "
    "after t). Brier(t): mean squared error of the predicted survival at t (IPCW; lower is "
    "better, 0.25 is what predicting 50% for everyone scores at a median). IBS: the Brier score "
    "integrated up to the last horizon. Calibration slope: Cox coefficient of the predicted "
    "log(-log S(t)) (1 = calibrated, < 1 = predictions too extreme)."
)


def _cell(row: pd.Series) -> str:
    return f"{row['estimate']:.2f} ({row['lower']:.2f} to {row['upper']:.2f})"


def _wide(metrics: pd.DataFrame, evaluation: str, order: list[str]) -> pd.DataFrame:
    chosen = metrics[metrics["evaluation"] == evaluation]
    table = chosen.assign(cell=chosen.apply(_cell, axis=1)).pivot(
        index="predictor", columns="metric", values="cell"
    )
    columns = [m for m in metrics["metric"].unique() if m != "calibration_intercept"]
    return table.loc[order, columns].reset_index()


def _optimism(metrics: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    est = metrics.pivot_table(
        index=["predictor", "metric"], columns="evaluation", values="estimate"
    )
    rows = []
    for name in order:
        row = {"predictor": name}
        for metric in ("harrell_c", "ibs", "calibration_slope"):
            apparent, cv = est.loc[(name, metric), "apparent"], est.loc[(name, metric), "cv"]
            row[f"{metric} apparent"] = apparent
            row[f"{metric} cv"] = cv
            row[f"{metric} optimism"] = apparent - cv
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_figure(summary: PrognosisSummary, order: list[str]) -> plt.Figure:
    """Predicted against observed survival at the calibration horizon, one panel per predictor:
    risk groups (Kaplan-Meier with 95% band) and the smoothed curve."""
    columns = min(3, len(order))
    rows = int(np.ceil(len(order) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.8 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), order, strict=False):
        cal = summary.calibration[name]
        g = cal.groups
        ax.errorbar(
            g["predicted"],
            g["observed"],
            yerr=[g["observed"] - g["lower"], g["upper"] - g["observed"]],
            fmt="o",
            capsize=3,
            label="risk groups (KM, 95% CI)",
        )
        if len(cal.curve):
            ax.plot(cal.curve["predicted"], cal.curve["observed"], label="smoothed")
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="ideal")
        ax.set(xlim=(0, 1), ylim=(0, 1), title=name, xlabel="predicted survival")
        ax.set_ylabel("observed survival")
    for ax in axes.ravel()[len(order) :]:
        ax.set_visible(False)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Cross-validated calibration at {summary.calibration_months:g} months")
    fig.tight_layout()
    return fig


def _claim(summary: PrognosisSummary, study: bool) -> list[str]:
    m = summary.metrics.set_index(["predictor", "metric", "evaluation"])
    if summary.best_model is None or summary.best_score is None or summary.difference is None:
        return []

    def c_of(name: str) -> str:
        row = m.loc[(name, "harrell_c", "cv")]
        return c_index_sentence(row["estimate"], row["lower"], row["upper"])

    d = summary.difference
    lower, upper = d.interval()
    lines = ["## Do the models predict better than the scores?", ""]
    if study:
        targets = load_targets()
        tomita = targets.logrank("tomita_group").p_value
        tokuhashi = targets.logrank("tokuhashi_group").p_value
        lines += [
            "The paper concluded that the Tomita and Tokuhashi scores failed "
            f"(log-rank {p_statement(tomita)} and {p_statement(tokuhashi)}) and that prognostic "
            "systems need neurological status, hormone receptors and adjuvant therapy. A "
            "log-rank P value does not measure prediction; cross-validated discrimination "
            "does."
        ]
    lines += [
        f"Out of sample ({summary.folds}-fold cross-validation, {summary.repeats} repeats, "
        f"{summary.n_patients} patients, {summary.n_events} deaths), the best score, "
        f"`{summary.best_score}`, has {c_of(summary.best_score)}; the best model, "
        f"`{summary.best_model}`, has {c_of(summary.best_model)}. Paired on the same patients "
        "and splits, "
        + discrimination_comparison(
            f"`{summary.best_model}`", f"`{summary.best_score}`", d.estimate, lower, upper
        )
        + "."
    ]
    if study:
        lines += [
            "",
            "This is the bundled *reconstruction*, calibrated to the paper's aggregates: the "
            "figures show what the study's design and size can and cannot establish, not what "
            "its patients would show.",
        ]
    return [*lines, ""]


def write_prognosis_report(
    settings: ReportSettings, inputs: RunInputs, summary: PrognosisSummary
) -> list[Path]:
    """Write ``calibration.png`` (with ``settings.plots``), ``report.md`` and ``report.html``."""
    order = list(dict.fromkeys(summary.metrics["predictor"]))
    lines = report_opening(settings.title, inputs)
    horizons = ", ".join(f"{h:g}" for h in summary.horizons_months)
    deaths = ", ".join(str(d) for d in summary.deaths_by_horizon)
    lines += [
        "## Design",
        "",
        f"{summary.n_patients} patients (complete cases of every predictor's columns), "
        f"{summary.n_events} deaths. Each predictor is fitted on all of them (apparent) and, "
        f"in {summary.repeats} repeats of {summary.folds}-fold cross-validation stratified by "
        "event, on four fifths and scored on the rest; every fit, the selection procedure "
        "included, is redone without the patients it predicts. Horizons: "
        f"{horizons} months, with {deaths} deaths by each (few deaths make a horizon's AUC "
        "and Brier score fragile). Intervals are 95% (patients' sampling; see "
        "`bayes_bcsm.prognosis.crossval`).",
        "",
        _DEFINITIONS,
        "",
        *_claim(summary, inputs.card.study),
        "## Cross-validated performance",
        "",
        markdown_table(_wide(summary.metrics, "cv", order)),
        "",
        "## Apparent against cross-validated: the optimism",
        "",
        "Optimism = apparent - cross-validated: positive for the C-index and the calibration "
        "slope of an overfitted model, negative for the integrated Brier score (lower is "
        "better).",
        "",
        markdown_table(_optimism(summary.metrics, order)),
        "",
    ]
    if settings.plots:
        save_figure(calibration_figure(summary, order), inputs.output_dir / "calibration.png")
        lines += [
            f"## Calibration at {summary.calibration_months:g} months (cross-validated)",
            "",
            "![Calibration of each predictor](calibration.png)",
            "",
        ]
    return list(write_report(inputs.output_dir, "\n".join(lines), settings.title, settings.html))
