"""The "Absolute effects" section of a comparison report: standardised survival and RMST.

Draws and writes :class:`~bayes_bcsm.results.AbsoluteEffects`; computes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayes_bcsm.report.plots import draw_figure, draw_here
from bayes_bcsm.report.render import markdown_table
from bayes_bcsm.report.sentences import (
    draw_percent,
    interval_percent,
    rmst_gain_sentence,
)
from bayes_bcsm.results import STACKED, AbsoluteEffects

__all__ = ["absolute_lines", "plot_standardised_curves"]

#: File name of the standardised-curves figure in the run folder.
CURVES_PNG = "absolute_curves.png"

#: Panels (one per model) in a row of the standardised-curves figure.
PANELS_PER_ROW = 3


def plot_standardised_curves(effects: AbsoluteEffects, time_label: str) -> Figure:
    """One panel per Bayesian model: each level's standardised survival (posterior median) with
    its 50 % and ``prob`` bands, and the level's unadjusted Kaplan-Meier curve (dashed steps).
    A grey line marks the last follow-up when the curves reach beyond it."""
    methods = list(dict.fromkeys(effects.curves["method"]))
    ncols = min(PANELS_PER_ROW, len(methods))
    nrows = -(-len(methods) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(5.2 * ncols, 4.2 * nrows), sharey=True, squeeze=False
    )
    for ax in axes.flat[len(methods) :]:
        ax.set_visible(False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, method in zip(axes.flat, methods, strict=False):
        rows = effects.curves[effects.curves["method"] == method]
        for k, level in enumerate(effects.levels):
            c = colours[k % len(colours)]
            curve = rows[rows["level"] == level]
            t = curve["time_months"].to_numpy()
            ax.fill_between(t, curve["lower"], curve["upper"], color=c, alpha=0.15, lw=0)
            ax.fill_between(t, curve["lower_50"], curve["upper_50"], color=c, alpha=0.3, lw=0)
            ax.plot(t, curve["median"], color=c, lw=1.8, label=f"{effects.label}: {level}")
            km = effects.km_curves[effects.km_curves["level"] == level]
            if len(km):
                steps_t = np.concatenate([[0.0], km["time_months"].to_numpy()])
                steps_s = np.concatenate([[1.0], km["survival"].to_numpy()])
                ax.step(steps_t, steps_s, where="post", color=c, lw=0.9, ls="--")
        if effects.model_dependent:
            ax.axvline(effects.last_follow_up_months, color="grey", lw=0.8, ls=":")
        ax.axvline(effects.tau_months, color="black", lw=0.6, alpha=0.5)
        ax.annotate(
            f" tau = {effects.tau_months:g}", (effects.tau_months, 1.0), fontsize=8, va="top"
        )
        ax.set_title(f"{method}: standardised")
        ax.set_xlabel(time_label)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for row in axes:
        row[0].set_ylabel("Survival (standardised over the cohort)")
    axes[0][0].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def _interval(row: pd.Series, digits: int = 1) -> str:
    return f"{row['estimate']:.{digits}f} ({row['lower']:.{digits}f} to {row['upper']:.{digits}f})"


def _rmst_table(effects: AbsoluteEffects) -> pd.DataFrame:
    """One row per method and contrast: each level's RMST, the difference and the ratio."""
    table = effects.table
    ref = effects.levels[0]
    out = []
    for method, rows in table.groupby("method", sort=False):
        by = rows.set_index(["quantity", "level"])
        for level in effects.levels[1:]:
            contrast = f"{level} vs {ref}"
            if ("rmst_difference", contrast) not in by.index:
                continue
            diff = by.loc[("rmst_difference", contrast)]
            ratio = by.loc[("rmst_ratio", contrast)]
            bayes = np.isnan(diff["p_value"])
            out.append(
                {
                    "method": method,
                    "contrast": contrast,
                    f"RMST {ref}": _interval(by.loc[("rmst", ref)]),
                    f"RMST {level}": _interval(by.loc[("rmst", level)]),
                    "difference (months)": _interval(diff),
                    "ratio": _interval(ratio, 2),
                    "P(diff > 0)": (
                        draw_percent(diff["p_positive"], int(diff["n_draws"])) if bayes else ""
                    ),
                    f"P(diff > {effects.mcid_months:g})": (
                        draw_percent(diff["p_above_mcid"], int(diff["n_draws"])) if bayes else ""
                    ),
                    "P value (KM)": "" if bayes else f"{diff['p_value']:.3g}",
                    "model-dependent": "yes" if diff["model_dependent"] else "",
                }
            )
    return pd.DataFrame(out)


def _milestone_table(effects: AbsoluteEffects) -> pd.DataFrame:
    """Survival differences at the horizons: one row per method and contrast."""
    table = effects.table
    rows = table[table["quantity"].str.startswith("survival_difference_")]
    out = []
    for (method, contrast), group in rows.groupby(["method", "level"], sort=False):
        row = {"method": method, "contrast": contrast}
        for r in group.itertuples():
            flag = " (model-dependent)" if r.model_dependent else ""
            row[f"{r.time_months:g} months"] = (
                f"{r.estimate:+.3f} ({r.lower:+.3f} to {r.upper:+.3f}){flag}"
            )
        out.append(row)
    return pd.DataFrame(out)


def absolute_lines(
    effects: AbsoluteEffects,
    out: Path,
    plots: bool,
    time_label: str,
    outcome: str,
    draw: Callable[..., None] = draw_here,
) -> list[str]:
    """Markdown lines of the "Absolute effects" section (and its figure, with ``plots``).

    Parameters
    ----------
    effects : AbsoluteEffects
    out : Path
        The run folder (the figure is written there).
    plots : bool
        Draw the standardised curves.
    time_label : str
        x-axis label (months).
    outcome : str
        What the time is of (the card's outcome label), for the sentences.
    draw : callable
        Runs a figure job, ``draw(draw_figure, path, plot, *args)``: here (default) or in a
        plotting worker (:meth:`bayes_bcsm.report.plot_worker.FitPlotter.draw`).
    """
    ci = interval_percent(effects.prob)
    ref = effects.levels[0]
    lines = [
        "## Absolute effects",
        "",
        f"What {effects.label} means in months. Standardised (g-computation) survival: in each "
        f"posterior draw, every analysed patient is set to each level of {effects.label} (their "
        "other covariates as observed) and the patients' survival curves are averaged; the "
        f"restricted mean survival time (RMST) is the area under that curve up to "
        f"tau = {effects.tau_months:g} months (each family's closed form). Differences are "
        f"level minus {ref}, with posterior medians and {ci} equal-tailed credible intervals; "
        f"the clinically meaningful difference is {effects.mcid_months:g} months "
        "(absolute.mcid_months). The Kaplan-Meier rows are unadjusted (no covariates; the "
        "patients with every covariate recorded; Greenwood-type SE as R's survRM2, "
        "normal-theory CI and P value).",
        "",
    ]
    if STACKED in set(effects.table["method"]):
        lines += [
            f"`{STACKED}`: the models' draws mixed with their stacking weights (Model averaging "
            "below), each draw one model's, so the interval carries the uncertainty between "
            "models as well as within them.",
            "",
        ]
    if effects.model_dependent:
        lines += [
            f"> **Model-dependent figures.** Follow-up ends at "
            f"{effects.last_follow_up_months:.3g} months; tau or a horizon lies beyond it "
            "(absolute.extrapolate=true), so those figures come from each model's tail alone "
            "and differ between families: read them side by side, not as observed.",
            "",
        ]
    table = effects.table
    diffs = table[(table["quantity"] == "rmst_difference") & table["p_positive"].notna()]
    for row in diffs.itertuples():
        lines.append(
            "- "
            + rmst_gain_sentence(
                row.method,
                f"{effects.label} ({row.level})",
                row.estimate,
                row.lower,
                row.upper,
                effects.prob,
                effects.tau_months,
                effects.mcid_months,
                row.p_above_mcid,
                outcome.lower(),
                bool(row.model_dependent),
                n_draws=int(row.n_draws),
            )
        )
    lines += [
        "",
        f"### RMST up to {effects.tau_months:g} months",
        "",
        markdown_table(_rmst_table(effects)),
        "",
        "### Survival differences at the horizons",
        "",
        markdown_table(_milestone_table(effects)),
        "",
    ]
    if plots and len(effects.curves):
        draw(draw_figure, out / CURVES_PNG, plot_standardised_curves, effects, time_label)
        lines += [
            f"![Standardised survival by {effects.label}, posterior median with 50% and {ci} "
            f"bands; dashed: unadjusted Kaplan-Meier]({CURVES_PNG})",
            "",
        ]
    lines += [f"- {note}" for note in effects.notes]
    lines += [
        "",
        "Every row is in `absolute_effects.csv` (method, quantity, level, estimate, lower, "
        "upper, tau_months, time_months, P(diff > 0), P(diff > MCID), the posterior draws "
        "behind them, SE and P value of the Kaplan-Meier rows, model_dependent).",
        "",
    ]
    return lines
