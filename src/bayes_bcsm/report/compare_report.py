"""The report of a comparison run: HRs side by side, forest plot, LOO, diagnostics, psense."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import arviz as az
import numpy as np
import pandas as pd

from bayes_bcsm.data.labels import reference_levels
from bayes_bcsm.hazard_ratios import (
    HR_TABLE_NOTE,
    PUBLISHED,
    row_labels,
    summary_level_label,
)
from bayes_bcsm.report.absolute_report import absolute_lines
from bayes_bcsm.report.fit_report import model_statement
from bayes_bcsm.report.hazard_ratio_table import side_by_side
from bayes_bcsm.report.plot_worker import FitPlotter
from bayes_bcsm.report.plots import (
    draw_figure,
    draw_here,
    plot_forest,
    plot_model_average,
    save_collection,
)
from bayes_bcsm.report.reinterpret_report import reinterpretation_lines
from bayes_bcsm.report.remedies import remedy_lines
from bayes_bcsm.report.render import markdown_table, report_opening, write_report
from bayes_bcsm.report.sentences import (
    fold_comparison,
    interval_percent,
    interval_position,
    naive_immortal_sentence,
    printed_reach_sentence,
    shrinkage_sentence,
    stacking_sentence,
    time_ratio_sentence,
)

if TYPE_CHECKING:
    from bayes_bcsm.data.design import CovariateTerm
    from bayes_bcsm.results import (
        Comparison,
        ImmortalTimeAnswer,
        ModelAverage,
        ReportSettings,
        RunInputs,
    )


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
    "Where our Cox fit and the printed aHR diverge, both are maximum-likelihood fits of a Cox "
    "model, so the data differ: the bundled reconstruction is calibrated to the paper's Tables "
    "1-2 (counts, Kaplan-Meier medians, log-rank P values), not to its Table 3 estimates (see "
    "the calibration report, `docs/calibration/report.md` in the repository). The Bayesian "
    "columns add a method difference on top: each posterior carries its prior's pull towards no "
    "effect, and the re-read column is the printed aHR shrunk by the summary-level prior (by how "
    "much is stated per covariate above), so a gap between the re-read column and a posterior "
    "is part data, part prior."
)


def printed_vs_patient_level(comparison: Comparison) -> list[str]:
    """One sentence per Table 3 covariate: the printed aHR, its summary-level re-reading, and
    each estimate on the cohort (Cox, posteriors) compared with the printed aHR itself.

    Fold differences are taken against the printed (maximum-likelihood) aHR, never against the
    shrunk re-reading, and the re-reading's own shrinkage is stated separately.
    """
    table, cox_rows = comparison.hazard_ratios, comparison.printed_vs_cox
    reread = summary_level_label(comparison.default_prior)
    lines = []
    for covariate, rows in comparison.printed_vs_posteriors.groupby("covariate", sort=False):
        sources = table[table["covariate"] == covariate].set_index("model")
        if PUBLISHED not in sources.index:
            continue
        printed = sources.loc[PUBLISHED]
        text = (
            f"- **{covariate}**: printed aHR {printed.estimate:g} "
            f"({printed.lower:g}-{printed.upper:g})"
        )
        if reread in sources.index:
            shrunk = sources.loc[reread]
            text += (
                f"; re-read under the {comparison.default_prior} prior "
                f"{shrunk.estimate:.2f} ({shrunk.lower:.2f}-{shrunk.upper:.2f}): "
                + shrinkage_sentence(printed.estimate, shrunk.estimate, comparison.default_prior)
            )
        parts = []
        for row in rows.itertuples():
            kind = "our Cox fit" if row.model == "cox" else f"the {row.model} posterior"
            comparison_text = fold_comparison(
                row.estimate,
                row.lower,
                row.upper,
                printed.estimate,
                printed.lower,
                printed.upper,
                "the printed aHR",
            )
            parts.append(
                f"{kind} on this cohort {row.estimate:.2f} ({row.lower:.2f}-{row.upper:.2f}), "
                + comparison_text
            )
        text += ". On this cohort: " + "; ".join(parts) + "."
        for cox in cox_rows[cox_rows["covariate"] == covariate].itertuples():
            text += (
                f" The printed aHR {cox.ref_estimate:g} lies "
                f"{interval_position(cox.ref_estimate, cox.lower, cox.upper)} our Cox 95% CI on "
                "this cohort."
            )
        lines.append(text)
    return lines


def _all_terms(comparison: Comparison) -> list[CovariateTerm]:
    """Each covariate's design term once, as the first variant that uses it coded it."""
    terms: dict[str, CovariateTerm] = {}
    for variant in comparison.variants:
        for term in variant.design.terms:
            terms.setdefault(term.name, term)
    return list(terms.values())


IMMORTAL_QUESTION = (
    "Endocrine therapy is given after the spinal operation, while survival is counted from "
    "the operation and the therapy is coded yes / no at baseline (as in the paper's Table 3): "
    "a patient who died before her therapy would have started counts as untreated, so the "
    "time before each start is credited to the treated group (immortal time; Suissa 2008, Am J "
    "Epidemiol 167:492), which makes a therapy look protective even when it does nothing."
)


def immortal_time_lines(answer: ImmortalTimeAnswer) -> list[str]:
    """The immortal-time question and the committed simulation's answer, in two sentences."""
    delays = sorted(answer.naive_median_hr_null)
    low, high = answer.td_coverage_null
    answer_text = (
        "The therapy's start times are not published, so the package simulated them "
        f"(`docs/immortal_time` in the repository: {answer.replicates} cohorts of "
        f"{answer.n} patients per setting, start delays with medians of "
        f"{', '.join(f'{d:g}' for d in delays)} months, the paper's Table 3 Cox model): "
        + naive_immortal_sentence(answer.naive_median_hr_null, answer.threshold_delay_months)
        + "; "
        + printed_reach_sentence(
            answer.max_p_at_most_printed,
            answer.max_p_at_most_printed_upper,
            *answer.max_p_cell,
            answer.printed_hr,
        )
        + ". The time-dependent Cox model (therapy switched on at its start) covers a true HR "
        f"of 1 in {100 * low:.0f}-{100 * high:.0f}% of cohorts (95% intervals)."
    )
    return [
        f"**Endocrine therapy and immortal time.** {IMMORTAL_QUESTION}",
        "",
        answer_text[0].upper() + answer_text[1:],
        "",
    ]


def data_coding_lines(comparison: Comparison) -> list[str]:
    """Each data coding's cohort (patients, rows, events), when the variants differ in it."""
    lines = [
        "The variants code the same data differently; each is fitted, with its Cox and Firth "
        "baselines, on its own coding:",
        "",
    ]
    seen = {}
    for variant in comparison.variants:
        design = variant.design
        seen.setdefault(
            variant.data_coding,
            f"- **{variant.data_coding}**: {design.n_patients} patients, {design.n} rows "
            f"({'(start, stop] episodes' if design.entry is not None else 'one per patient'}), "
            f"{design.n_events} events; variants "
            + ", ".join(
                f"`{v.label}`" for v in comparison.variants if v.data_coding == variant.data_coding
            ),
        )
    return [*lines, *seen.values(), ""]


def coding_table(comparison: Comparison, covariate: str) -> pd.DataFrame:
    """One covariate's hazard ratio under each data coding: one row per coding (its patients
    and events), one column per source (Cox, Firth, each Bayesian family), ``HR (interval)``
    with the intervals of the main table."""
    rows: dict[str, dict[str, object]] = {}
    for variant in comparison.variants:
        design = variant.design
        row = rows.setdefault(
            variant.data_coding,
            {
                "data coding": variant.data_coding,
                "patients": design.n_patients,
                "events": design.n_events,
            },
        )
        table = variant.hazard_ratios
        for hr in table[table["covariate"] == covariate].itertuples():
            baseline = hr.model.split(" (")[0]
            source = baseline if baseline in ("cox", "firth") else variant.family
            row[source] = f"{hr.estimate:.2f} ({hr.lower:.2f}-{hr.upper:.2f})"
    return pd.DataFrame(list(rows.values())).fillna("")


def write_compare_report(
    settings: ReportSettings,
    inputs: RunInputs,
    comparison: Comparison,
    plotter: FitPlotter | None = None,
) -> list[Path]:
    """Write the comparison's plots, ``report.md`` and ``report.html`` into the run folder.

    With a ``plotter`` the figures are handed to it (drawn in its worker while this process
    writes the text, and by this process too once the text is done); they are all waited for
    before ``report.html`` embeds them.
    """
    figures = FitPlotter(background=False) if plotter is None else plotter
    lines = _report_lines(settings, inputs, comparison, figures.draw)
    figures.wait()
    return write_report(inputs.output_dir, "\n".join(lines), settings.title, settings.html)


def _report_lines(
    settings: ReportSettings,
    inputs: RunInputs,
    comparison: Comparison,
    draw: Callable[..., None],
) -> list[str]:
    """:func:`write_compare_report`'s Markdown lines, each figure handed to ``draw``."""
    out = inputs.output_dir
    first = comparison.variants[0]
    study_answer = comparison.immortal_time is not None and comparison.reinterpretation is not None
    lines = report_opening(
        f"{settings.experiment_name}: {', '.join(v.label for v in comparison.variants)}",
        inputs,
    )
    recoded = len({v.data_coding for v in comparison.variants}) > 1
    if recoded:
        lines += data_coding_lines(comparison)
    elif len({v.design.columns for v in comparison.variants}) == 1:
        labels = row_labels(first.hazard_ratios)
        lines += [
            f"Covariates: {', '.join(labels[c] for c in first.design.columns)}. Cox and Firth "
            f"baselines: {first.design.rows.describe()}, {first.design.n_events} events.",
            "",
        ]
    else:
        lines += [
            "Each variant has its own covariates; its Cox and Firth baselines use the same "
            "patients as its Bayesian model (complete cases of its covariates):",
            "",
        ]
    for variant in comparison.variants:
        line = f"- `{variant.label}` ({variant.family}): {variant.rows_description}."
        if variant.fit is not None:
            line += f" {model_statement(variant)}"
        lines.append(line)
    lines.append("")
    warnings = dict.fromkeys(m for v in comparison.variants for m in v.cox.warnings)
    for message in warnings:
        lines += [f"> **Cox warning:** {message}", ""]

    time_ratios = comparison.hazard_ratios["measure"] == "time ratio"
    lines += [
        "## Hazard ratios and time ratios side by side"
        if time_ratios.any()
        else "## Hazard ratios side by side",
        "",
        ("Published aHR (Table 3), our " if inputs.card.study else "Our ")
        + "Cox (Efron; Wald CI) and Firth (profile CI) on the same "
        "rows, and each Bayesian variant's posterior median HR (TR, time ratio, for an "
        "accelerated-failure-time model) with its "
        f"{interval_percent(settings.hdi_prob)} equal-tailed interval (report.hdi_prob) and "
        "posterior "
        "P(HR < 1) (P(TR < 1)). Per natural unit of each covariate. "
        + reference_levels(_all_terms(comparison), inputs.card),
        "",
        markdown_table(side_by_side(comparison.hazard_ratios)),
        "",
        time_ratio_sentence(list(comparison.hazard_ratios.loc[time_ratios, "model"].unique())),
        "",
    ]
    if recoded:
        labels = row_labels(comparison.hazard_ratios)
        varying = [c.column for c in inputs.card.covariates if c.time_varying]
        varying += [e.name for e in inputs.card.time_varying]
        for covariate in [c for c in varying if c in labels]:
            lines += [
                f"### {labels[covariate]}: by data coding",
                "",
                markdown_table(coding_table(comparison, covariate)),
                "",
            ]
    if settings.plots:
        draw(draw_figure, out / "forest.png", plot_forest, comparison.hazard_ratios)
        lines += ["![Forest plot of hazard ratios](forest.png)", ""]
        if time_ratios.any():
            path = out / "forest_time_ratios.png"
            draw(draw_figure, path, plot_forest, comparison.hazard_ratios, None, "time ratio")
            lines += ["![Forest plot of time ratios](forest_time_ratios.png)", ""]

    if comparison.absolute is not None:
        lines += absolute_lines(
            comparison.absolute,
            out,
            settings.plots,
            first.time_label,
            inputs.card.outcome_label,
            draw,
        )

    if comparison.reinterpretation is not None:
        lines += [
            "## Printed results beside the patient-level posteriors",
            "",
            "Each published aHR, its summary-level re-reading (its printed interval as a "
            f"normal likelihood, the {comparison.default_prior} prior; next section), and "
            "the Cox fit and posteriors on this run's cohort, each compared with the printed "
            "aHR itself (like with like: fold differences are never taken against the shrunk "
            "re-reading). Intervals are 95%.",
            "",
            *printed_vs_patient_level(comparison),
            "",
            *(immortal_time_lines(comparison.immortal_time) if study_answer else []),
            CALIBRATION_NOTE if inputs.is_reconstruction else "",
            "",
            *reinterpretation_lines(
                comparison.reinterpretation, comparison.default_prior, settings.plots
            ),
        ]

    if comparison.immortal_time is not None and not study_answer:
        lines += [
            "## The paper's question, by simulation",
            "",
            *immortal_time_lines(comparison.immortal_time),
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
            draw(_save_loo_compare, comparison.loo, out / "loo_compare.png")
            lines += ["![LOO comparison](loo_compare.png)", ""]
    else:
        lines += [comparison.loo_note, ""]
    if comparison.average is not None:
        lines += model_average_lines(comparison.average, inputs, out, settings.plots, draw)

    if comparison.psense:
        lines += [
            "## Prior sensitivity (power scaling)",
            "",
            "ArviZ's `psense_summary` (Kallioinen et al. 2023): the sensitivity of each "
            "coefficient (log-HR; log time ratio for an accelerated-failure-time model) "
            "to power-scaling its prior and the likelihood; values above 0.05 are flagged.",
            "",
        ]
        for label, table in comparison.psense.items():
            lines += [f"### {label}", "", markdown_table(table), ""]

    lines += [
        "## Files",
        "",
        "`hazard_ratios.csv` (all sources), `loo_compare.csv`, `absolute_effects.csv` "
        "(standardised survival and RMST, when absolute.exposure is modelled), and per variant in "
        "`variants/<variant>/`: `posterior.nc`, `summary.csv`, `diagnostics.json`, "
        "`model.json` (piecewise cut points used), `hazard_ratios.csv`, `survival.csv` and "
        "plots; `resolved_config.yaml`, "
        "`provenance.json`.",
        "",
        HR_TABLE_NOTE,
    ]
    return lines


def _save_loo_compare(loo: pd.DataFrame, path: Path) -> None:
    """ArviZ's plot of an ``arviz.compare`` table, saved as ``path``."""
    save_collection(az.plot_compare(loo, backend="matplotlib"), path)


def model_average_lines(
    average: ModelAverage,
    inputs: RunInputs,
    out: Path,
    plots: bool,
    draw: Callable[..., None] = draw_here,
) -> list[str]:
    """The report's model-averaging section: weights beside ELPD, the stacked standardised
    survival at a few times (observed and extrapolated), and the plot (a figure job handed to
    ``draw``)."""
    weights = dict(zip(average.weights["variant"], average.weights["stacking_weight"], strict=True))
    curves = average.curves
    times = curves["time_months"].unique()
    picks = times[np.linspace(0, len(times) - 1, 7).astype(int)[1:]]
    shown = curves[curves["time_months"].isin(picks) & (curves["model"] == "stacked average")]
    lines = [
        "## Model averaging (stacking)",
        "",
        stacking_sentence(weights, average.last_follow_up_months),
        "",
        markdown_table(average.weights),
        "",
        f"Stacked standardised survival (mean over the patients of S(t | x); posterior mean "
        f"and {interval_percent(average.prob)} interval of the mixture), to twice the last "
        "follow-up; rows marked `extrapolated` lie beyond it:",
        "",
        markdown_table(shown.drop(columns=["model", "weight"])),
        "",
        "Every family's curve and the average: `model_average_survival.csv`.",
        "",
    ]
    if plots:
        draw(
            draw_figure,
            out / "model_average.png",
            plot_model_average,
            curves,
            average.km,
            average.last_follow_up_months,
            inputs.card.time_label,
            inputs.card.outcome_label or "Overall survival",
        )
        lines += [
            "![Each family's standardised survival over the Kaplan-Meier curve, with its "
            "stacking weight; shaded: extrapolation](model_average.png)",
            "",
        ]
    return lines
