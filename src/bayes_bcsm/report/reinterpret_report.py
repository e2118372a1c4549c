"""Report sections of the summary-level re-analysis: tables, figures and sentences from numbers.

Every sentence is a template filled with the :class:`~bayes_bcsm.reinterpret.Reinterpretation`'s
numbers (clauses stating a direction or a credibility limit come from
:mod:`bayes_bcsm.report.sentences`); nothing here computes an estimate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from bayes_bcsm.reinterpret import Reinterpretation, threshold_column
from bayes_bcsm.report.plots import draw_figure, draw_here
from bayes_bcsm.report.reinterpret_plots import (
    plot_design,
    plot_prior_likelihood_posterior,
    plot_sensitivity,
)
from bayes_bcsm.report.render import markdown_table, write_report
from bayes_bcsm.report.sentences import credibility_sentence, percent

METHOD_NOTE = (
    "Each printed hazard ratio and its confidence interval is read as a normal likelihood on the "
    "log-HR scale, centred at log(HR) with SE = (log(upper) - log(lower)) / (2 x 1.96), and "
    "combined with normal priors on the log-HR (the summary-level re-analysis of published "
    "trials: Wijeysundera et al. 2009; Zampieri et al. 2021). Priors are centred on no effect "
    "(neutral), on a clinically meaningful benefit (optimistic) or on the same harm "
    "(pessimistic), each weak, moderate or strong. No patient data enter this section."
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def prior_table(result: Reinterpretation) -> pd.DataFrame:
    """The prior grid as a reader sees it: median HR, SD, 95 % prior interval, P(HR < 1)."""
    rows = []
    for prior in result.priors:
        half = 1.959964 * prior.sd_log
        rows.append(
            {
                "prior": prior.name,
                "median HR": prior.mean_hr,
                "SD (log HR)": prior.sd_log,
                "95% prior interval": f"{math.exp(prior.mean_log - half):.2f}-"
                f"{math.exp(prior.mean_log + half):.2f}",
            }
        )
    return pd.DataFrame(rows)


def posterior_table(result: Reinterpretation, covariate: str) -> pd.DataFrame:
    """One estimate's posteriors under every prior, formatted for a report."""
    rows = result.posteriors[result.posteriors["covariate"] == covariate]
    probs = [c for c in rows.columns if c.startswith("p_hr_below_")]
    table = pd.DataFrame(
        {
            "prior": rows["prior"],
            "posterior median HR": rows["posterior_median_hr"],
            f"{round(100 * result.level)}% credible interval": [
                f"{lo:.2f}-{up:.2f}" for lo, up in zip(rows["lower"], rows["upper"], strict=True)
            ],
        }
    )
    for column in probs:
        table[f"P(HR < {column.removeprefix('p_hr_below_')})"] = rows[column].to_numpy()
    return table.reset_index(drop=True)


def posterior_sentence(result: Reinterpretation, covariate: str, default_prior: str) -> str:
    """Plain-language summary of one estimate under the default prior and across the grid."""
    rows = result.posteriors[result.posteriors["covariate"] == covariate]
    chosen = rows[rows["prior"] == default_prior].iloc[0]
    low = rows.loc[rows["p_hr_below_1"].idxmin()]
    high = rows.loc[rows["p_hr_below_1"].idxmax()]
    printed = next(e for e in result.estimates if e.name == covariate)
    text = (
        f"**{covariate}** (printed HR {printed.hr:g}, {printed.lower:g}-{printed.upper:g}): under "
        f"the {default_prior} prior the probability that it lowers the hazard (HR < 1) is "
        f"{percent(chosen.p_hr_below_1)} (posterior median HR {chosen.posterior_median_hr:.2f}, "
        f"{round(100 * result.level)}% credible interval {chosen.lower:.2f}-{chosen.upper:.2f})"
    )
    half = threshold_column(0.5)
    if half in rows.columns:
        text += f"; the probability of at least halving it (HR < 0.5) is {percent(chosen[half])}"
    return (
        f"{text}. Across the {len(rows)} priors, P(HR < 1) ranges from "
        f"{percent(low.p_hr_below_1)} ({low.prior}) to {percent(high.p_hr_below_1)} "
        f"({high.prior})."
    )


def credibility_table(result: Reinterpretation) -> pd.DataFrame:
    """Printed figures with Matthews' centre and the applicable credibility limit."""
    frame = result.credibility
    return pd.DataFrame(
        {
            "covariate": frame["covariate"],
            "printed HR (95% CI)": [
                f"{r.hr:g} ({r.lower:g}-{r.upper:g})" for r in frame.itertuples()
            ],
            "SE (log HR)": frame["se_log"],
            "centre (geometric mean of bounds)": frame["centre_hr"],
            "significant": frame["significant"],
            "sceptical limit": frame["sceptical_limit"],
            "advocacy limit": frame["advocacy_limit"],
        }
    )


def design_wide(result: Reinterpretation) -> pd.DataFrame:
    """Design analysis as one row per true HR, one ``power / type S / exaggeration`` cell per
    estimate (its SE in the header)."""
    frame = result.design
    wide = pd.DataFrame({"true HR": sorted(frame["true_hr"].unique())})
    for covariate, rows in frame.groupby("covariate", sort=False):
        header = f"{covariate} (SE {rows['se'].iloc[0]:.2f})"
        cells = {
            r.true_hr: f"{percent(r.power)} / {percent(r.type_s)} / "
            + (f"{r.exaggeration:.1f}x" if math.isfinite(r.exaggeration) else "n/a")
            for r in rows.itertuples()
        }
        wide[header] = wide["true HR"].map(cells)
    return wide


def design_sentence(result: Reinterpretation, covariate: str) -> str:
    """Power, type S and exaggeration at the middle of the design grid, in words."""
    rows = result.design[result.design["covariate"] == covariate].reset_index(drop=True)
    at = rows.iloc[(rows["true_hr"] - 0.5).abs().idxmin()]
    printed = next(e for e in result.estimates if e.name == covariate)
    text = (
        f"**{covariate}**: with the precision its printed interval implies (SE {at.se:.2f} on the "
        f"log-HR scale), a study like this detects a true HR of {at.true_hr:g} with probability "
        f"{percent(at.power)} at alpha = {result.alpha:g}"
    )
    if math.isfinite(at.exaggeration):
        text += (
            f"; a significant estimate would overstate |log HR| {at.exaggeration:.1f}-fold on "
            f"average and point the wrong way with probability {percent(at.type_s)}"
        )
        if printed.excludes_one:
            ratio = abs(math.log(printed.hr)) / abs(math.log(at.true_hr))
            text += (
                f". The printed HR {printed.hr:g} lies {ratio:.1f} times as far from 1 as HR "
                f"{at.true_hr:g} (log scale): the size of effect such a study reports when it "
                "reports a significant one"
            )
    return text + "."


def figure_files(result: Reinterpretation) -> dict[str, str]:
    """File names of the re-analysis figures: one per estimate (its covariate as key), the
    prior-sensitivity curves (``"sensitivity"``) and the design analysis (``"design"``)."""
    names = {e.name: f"reinterpret_{_slug(e.name)}.png" for e in result.estimates}
    return {**names, "sensitivity": "reinterpret_sensitivity.png", "design": "design_analysis.png"}


def draw_reinterpretation_figures(
    result: Reinterpretation, folder: Path, draw: Callable[..., None] = draw_here
) -> None:
    """Draw the figures :func:`reinterpretation_lines` shows (:func:`figure_files`) into
    ``folder``. They depend on the printed estimates and the prior grid only, so a run can
    hand them to its plotting worker before it fits anything.

    Parameters
    ----------
    result : Reinterpretation
        The computed re-analysis.
    folder : Path
        The report's folder.
    draw : callable
        Runs a figure job, ``draw(draw_figure, path, plot, *args)``: here (default) or in a
        plotting worker (:meth:`bayes_bcsm.report.plot_worker.FitPlotter.draw`).
    """
    files = figure_files(result)
    for estimate in result.estimates:
        covariate = estimate.name
        path = folder / files[covariate]
        draw(draw_figure, path, plot_prior_likelihood_posterior, result, covariate)
    draw(draw_figure, folder / files["sensitivity"], plot_sensitivity, result.sensitivity)
    draw(draw_figure, folder / files["design"], plot_design, result.design)


def reinterpretation_lines(
    result: Reinterpretation, default_prior: str, plots: bool = True, heading: str = "##"
) -> list[str]:
    """Markdown lines for the whole summary-level re-analysis.

    Parameters
    ----------
    result : Reinterpretation
        The computed re-analysis.
    default_prior : str
        The prior the plain-language sentences lead with.
    plots : bool
        Whether to show the figures (drawn by :func:`draw_reinterpretation_figures`).
    heading : str
        Markdown heading level of the section.
    """
    sub = heading + "#"
    covariates = [e.name for e in result.estimates]
    files = figure_files(result)
    lines = [
        f"{heading} The printed hazard ratios re-read the Bayesian way",
        "",
        METHOD_NOTE,
        "",
        *[f"- {posterior_sentence(result, c, default_prior)}" for c in covariates],
        "",
        f"{sub} Prior grid",
        "",
        markdown_table(prior_table(result)),
        "",
    ]
    for covariate in covariates:
        lines += [f"{sub} {covariate}", "", markdown_table(posterior_table(result, covariate)), ""]
        if plots:
            name = files[covariate]
            lines += [f"![Prior, likelihood and posterior of {covariate}]({name})", ""]
    lines += [
        f"{sub} Credibility (Matthews' Analysis of Credibility)",
        "",
        "For an interval that excludes 1 the *sceptical limit* SL says how extreme effects must "
        "be plausible a priori for the finding to convince a sceptic (a prior 95% interval "
        "(SL, 1/SL) centred on no effect leaves the posterior interval just touching 1; any "
        "narrower sceptical prior brings 1 back into it). For an interval that includes 1 the "
        "*advocacy limit* AL is the widest advocate's prior that still turns the result into "
        "evidence of an effect: a prior 95% interval from no effect to AL leaves the posterior "
        "interval just touching 1, every narrower advocacy prior (from no effect to an HR "
        "between 1 and AL) makes it exclude 1, and a wider one does not (Matthews 2001; 2018). "
        "Matthews centres the likelihood at the geometric mean of the printed bounds.",
        "",
        markdown_table(credibility_table(result)),
        "",
        *[
            f"- **{r.covariate}**: {credibility_sentence(r.sceptical_limit, r.advocacy_limit)}."
            for r in result.credibility.itertuples()
        ],
        "",
        f"{sub} Sensitivity to prior scepticism",
        "",
        "P(HR < 1) under a neutral prior as its SD grows from very sceptical (left) to almost "
        "flat (right, where it approaches the one-sided P value's complement).",
        "",
    ]
    if plots:
        lines += [f"![P(HR < 1) against prior SD]({files['sensitivity']})", ""]
    design = design_wide(result)
    lines += [
        f"{sub} Design analysis: what can a study this size detect?",
        "",
        "Power, type S error (a significant estimate with the wrong sign) and exaggeration ratio "
        "(expected |log estimate| / |log true HR| among significant estimates) at each printed "
        "estimate's own SE, over plausible true HRs (Gelman & Carlin 2014; closed form). Each "
        "cell: power / type S / exaggeration.",
        "",
        *[f"- {design_sentence(result, c)}" for c in covariates],
        "",
        markdown_table(design),
        "",
    ]
    if plots:
        lines += [f"![Power and exaggeration against true HR]({files['design']})", ""]
    return lines


def write_reinterpret_report(
    result: Reinterpretation,
    default_prior: str,
    folder: Path,
    title: str,
    source_note: str,
    plots: bool = True,
    html: bool = True,
) -> Sequence[Path]:
    """Write the standalone re-analysis report (``report.md`` / ``report.html``) in ``folder``.

    Parameters
    ----------
    source_note : str
        Where the estimates come from (e.g. "the paper's printed Table 3 aHRs").
    """
    if plots:
        draw_reinterpretation_figures(result, folder)
    lines = [
        f"# {title}",
        "",
        f"Estimates: {source_note}. Summary-level analysis of printed numbers only.",
        "",
        *reinterpretation_lines(result, default_prior, plots),
        "## Files",
        "",
        "`reinterpretation.csv` (estimate x prior), `credibility.csv`, `design_analysis.csv`, "
        "`sensitivity.csv`, the PNGs above, `resolved_config.yaml`, `provenance.json`.",
    ]
    return write_report(folder, "\n".join(lines), title, html)
