"""The calibration report of the reconstructed cohort: Markdown + PNG.

Draws the Kaplan-Meier curve of the reconstruction with the paper's survival points and the
search's trade-off frontier between Tables 1-2 and Table 3, and writes a Markdown page with
every published figure beside its reconstructed value
(:func:`bayes_bcsm.reconstruct.calibrate.calibration_report_tables` computes them; the
frontier comes from the search summary saved in ``reconstruction.yaml``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bayes_bcsm.report.plots import plot_km_curves, save_figure
from bayes_bcsm.report.render import RECONSTRUCTION_NOTICE, markdown_table, write_report
from bayes_bcsm.report.sentences import percent, surprise


def plot_km_with_targets(km, targets) -> Figure:
    """KM curve (95% band) of the reconstruction with the published S(t) points and median.

    Parameters
    ----------
    km : KaplanMeierResult
        From :func:`bayes_bcsm.frequentist.kaplan_meier`.
    targets : Targets
        Published figures (:func:`bayes_bcsm.study.load_targets`).

    Returns
    -------
    Figure
        :func:`bayes_bcsm.report.plots.plot_km_curves` plus the +/- 3-point tolerance of each
        published point and the published median.
    """
    points = {float(t): float(s) for t, s in targets.survival_at.items()}
    fig = plot_km_curves(
        {"reconstruction (KM, 95% band)": km.table},
        title="Reconstructed cohort vs published Kaplan-Meier figures",
        published_points=points,
        annotation=f"published median {targets.os_median_months:g} months (dashed)",
    )
    ax = fig.axes[0]
    times = sorted(points)
    ax.errorbar(
        times, [points[t] for t in times], yerr=0.03, fmt="none", ecolor="k", capsize=3, alpha=0.6
    )
    ax.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax.axvline(targets.os_median_months, color="k", lw=0.8, ls="--")
    return fig


def plot_frontier(frontier: list[dict], tolerance_se: float = 1.0) -> Figure:
    """Best attainable Table 3 distance against the number of failed Table 1-2 criteria.

    Parameters
    ----------
    frontier : list of dict
        Rows with ``max_failed_table12`` and ``table3_distance_se`` (None = not attained),
        the ``frontier`` of the search summary.
    tolerance_se : float
        The Table 3 criterion (published SEs), drawn as a horizontal line.

    Returns
    -------
    Figure
    """
    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.subplots()
    ks = [r["max_failed_table12"] for r in frontier if r.get("table3_distance_se") is not None]
    ds = [r["table3_distance_se"] for r in frontier if r.get("table3_distance_se") is not None]
    ax.step(ks, ds, where="post", color="C0", marker="o")
    ax.axhline(tolerance_se, color="k", ls="--", lw=0.8)
    ax.annotate(
        f"Table 3 criterion ({tolerance_se:g} published SE)",
        (0.01, tolerance_se),
        xycoords=("axes fraction", "data"),
        xytext=(2, -11),
        textcoords="offset points",
        fontsize=8,
    )
    ax.set_xlabel("Table 1-2 acceptance criteria allowed to fail")
    ax.set_ylabel("best Table 3 distance (published SEs)")
    ax.set_title("Trade-off frontier of the calibration search", fontsize=10)
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    return fig


def frontier_account(frontier: list[dict]) -> str:
    """One paragraph reading the frontier: the two ends and what the Table 3 end fails."""
    rows = [r for r in frontier if r.get("table3_distance_se") is not None]
    if not rows:
        return "No scored cohort had a finite Table 3 distance."
    first = rows[0]
    text = (
        f"Allowing {first['max_failed_table12']} Table 1-2 failures, the best Table 3 distance "
        f"is {first['table3_distance_se']:.2f} published SEs"
        + (
            f" (Table 3 criteria failed: {first['failed_table3']})"
            if first["failed_table3"]
            else ""
        )
        + "."
    )
    within = [r for r in rows if r["table3_distance_se"] <= 1.0]
    if within:
        r = within[0]
        text += (
            f" Every Table 3 criterion holds once {r['max_failed_table12']} Table 1-2 "
            f"criteria may fail (distance {r['table3_distance_se']:.2f}; the cohort fails: "
            f"{r['failed_table12'] or 'none'})."
        )
    else:
        text += (
            f" No scored cohort brings Table 3 within 1 SE with at most "
            f"{rows[-1]['max_failed_table12']} Table 1-2 failures (best "
            f"{min(r['table3_distance_se'] for r in rows):.2f})."
        )
    return text


def _side_probability(row: pd.Series, label: str) -> str:
    """``"0.45% (MCSE 0.22%)"``, or ``"none (upper bound 0.24%)"`` when no cohort got there."""
    p = row[f"p_printed_side_{label}"]
    if p == 0:
        return f"none (97.5% upper bound {percent(row[f'upper_95_{label}'])})"
    return f"{percent(p)} (MCSE {percent(row[f'mcse_{label}'])})"


def consistency_account(consistency: pd.DataFrame) -> str:
    """One paragraph on the Table 2 rows whose printed P is surprising given their medians.

    Parameters
    ----------
    consistency : DataFrame
        From :func:`bayes_bcsm.study.consistency.median_logrank_consistency` (with the
        simulated columns).
    """
    text = (
        "Table 2 prints, for each factor, the group sizes, the group medians and the log-rank "
        "P. Under exponential survival the medians fix the hazard ratio (their ratio), and "
        "Schoenfeld's approximation turns it, the group sizes and the deaths into the P at the "
        "*expected* log-rank statistic (`implied_p`). The statistic varies from cohort to "
        "cohort, and the approximation is poor with a handful of patients in a group, so a "
        "printed P on the other side of 0.05 measures a surprise rather than proving a "
        "contradiction. The `p_printed_side_*` columns measure it by simulation "
        "(`bayes_bcsm.study.consistency`): two groups with the printed sizes and medians, "
        "exponential or Weibull with proportional hazards (shape "
        f"{consistency['weibull_shape'].iloc[0]:.2f}, the shape of the paper's overall KM "
        "points), censored by this cohort's potential follow-up (reverse Kaplan-Meier), kept "
        "when both KM medians land within 5% of the printed ones; the share of kept cohorts "
        "whose log-rank P is on the printed side of 0.05, with its Monte Carlo SE (MCSE) and "
        "an exact 97.5% upper bound. Words: below 1% very unlikely, below 5% unlikely, below "
        "20% uncommon, judged on the larger of the two shapes' probabilities."
    )
    clash = consistency[~consistency["same_side"]]
    if clash.empty:
        return text + " Every two-group factor's printed P is on the side its medians imply."
    parts = []
    for _, r in clash.iterrows():
        likeliest = max(r["p_printed_side_exponential"], r["p_printed_side_weibull"])
        parts.append(
            f"{r['factor']} ({r['groups']}: Schoenfeld P {r['implied_p']:.2g}, printed "
            f"{r['printed_p']:g}): the printed side in {_side_probability(r, 'exponential')} "
            f"of such cohorts with exponential groups and {_side_probability(r, 'weibull')} "
            f"with Weibull groups, {surprise(likeliest)}"
        )
    return (
        text + f" For {len(clash)} of the {len(consistency)} two-group factors the Schoenfeld P "
        "lies on the other side of 0.05 from the printed one: "
        + "; ".join(parts)
        + ". A reconstruction that keeps the medians and sizes of an unlikely row reaches its "
        "printed side only by chance or with curves far from proportional hazards, and those "
        "curves shape the Table 3 refit: these rows are among those the calibration trades "
        "against the Table 3 aHRs (see the frontier above)."
    )


def adjustment_account(adjustment: pd.DataFrame) -> str:
    """One paragraph on how far Table 3's printed aHRs sit from the crude HRs of Table 2.

    Parameters
    ----------
    adjustment : DataFrame
        From :func:`bayes_bcsm.study.consistency.crude_versus_adjusted`.
    """
    r = adjustment.loc[(np.log(adjustment["adjustment_factor"])).abs().idxmax()]
    return (
        "Table 3 against Table 2: the medians give each Table 3 factor a crude hazard ratio "
        "(ratio of medians); the printed adjusted HR divided by it is the change the "
        "adjustment for the other three Table 3 covariates, on the complete cases, would have "
        f"to produce. The largest is {r['factor']}: crude HR {r['crude_hr_from_medians']:.2f} "
        f"from the medians, printed aHR {r['printed_ahr']:g}, a factor of "
        f"{1 / r['adjustment_factor']:.1f} from adjustment by three binary covariates. A "
        "reconstruction that keeps Table 2's medians has to produce that change by confounding "
        "alone, which pulls against the Table 2 figures of the covariates doing the "
        "confounding; the frontier above shows how far the search could take it."
    )


def _exception_lines(tables: dict) -> list[str]:
    """The documented exceptions to the log-rank side criterion, and the count under the rule
    without them (the one the search chose the cohort by)."""
    exceptions = tables.get("criteria_exceptions")
    if exceptions is None:
        return []
    threshold = tables["surprise_threshold"]
    before = tables["criteria_failed_without_exceptions"]
    return [
        f"- documented exceptions (a printed log-rank side that fewer than "
        f"{100 * threshold:g}% of cohorts with the printed sizes and medians reach, under both "
        "exponential and Weibull groups; not counted as failures): "
        + ("; ".join(exceptions) or "none"),
        f"- the search chose this cohort with every log-rank side a criterion: "
        f"{len(before)} criteria not met under that rule, {len(tables['criteria_failed'])} "
        "with the exceptions",
    ]


def write_calibration_report(tables: dict, cohort: pd.DataFrame, out_dir: Path) -> Path:
    """Write ``report.md``, a self-contained ``report.html`` and ``km_calibration.png``.

    Parameters
    ----------
    tables : dict
        From :func:`bayes_bcsm.reconstruct.calibrate.calibration_report_tables`.
    cohort : DataFrame
        The reconstructed cohort (for the header counts).
    out_dir : Path
        Folder (created if needed).

    Returns
    -------
    Path
        The Markdown file (the HTML file is beside it).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png = out_dir / "km_calibration.png"
    save_figure(plot_km_with_targets(tables["km"], tables["targets"]), png)
    comp: pd.DataFrame = tables["comparisons"]
    side = comp[comp["group"] == "table2_p"]
    ci = comp[comp["group"] == "table2_median_ci"]
    search = tables.get("search") or {}
    failed = tables.get("criteria_failed", [])
    lines = [
        "# Calibration report: reconstructed cohort vs published figures",
        "",
        RECONSTRUCTION_NOTICE + " It is generated by `bayes_bcsm.reconstruct` "
        "(see data/README.md, 'How the reconstruction was made').",
        "",
        f"- patients: {len(cohort)}, deaths: {int(cohort['event'].sum())}",
        f"- calibration loss: {tables['loss']:.2f}",
        f"- figures within tolerance: {int(comp['pass'].sum())} of {len(comp)}",
        f"- log-rank P on the published side of 0.05: {int(side['pass'].sum())} of {len(side)}",
        f"- median CI half-widths within 50 % of the printed ones: {int(ci['pass'].sum())} "
        f"of {len(ci)}",
        f"- Table 3 distance (largest of the four aHRs and the selection, published SEs): "
        f"{tables.get('table3_distance', float('nan')):.2f}",
        "- acceptance criteria not met: " + ("; ".join(failed) or "none"),
        *_exception_lines(tables),
        f"- reverse Kaplan-Meier median follow-up: {tables['reverse_km_median']:.1f} months "
        "(the table uses the median of observed times, Table 1's reading)",
    ]
    if search and search.get("budget_evaluations") is None:
        lines.append(
            "- search: this cohort's parameters come from the earlier wall-clock search (before "
            "the Table 3 criteria); no budgeted search has been recorded for it yet"
        )
    elif search:
        start = search.get("start_config")
        lines.append(
            f"- search: budget {search.get('budget_evaluations')} evaluations, search seed "
            f"{search.get('search_seed')}, {search.get('n_seeds', '?')} cohort seeds per "
            "covariate setting"
            + (f", warm start {start} (seed {search.get('start_seed')})" if start else "")
            + " (`bayes-bcsm calibrate --search --budget "
            f"{search.get('budget_evaluations')} --search-seed {search.get('search_seed')}"
            + (f" --start {start}" if start else "")
            + "`)"
        )
    lines += ["", f"![KM curve with the published survival points]({png.name})", ""]
    truth: pd.DataFrame | None = tables.get("truth")
    if truth is not None:
        lines += [
            "## Table 3: truth, realisation, print",
            "",
            "The generator's true hazard ratio (what the simulation study calls the truth), "
            "the hazard ratio realised on the bundled cohort (Table 3 model: the four factors, "
            "complete cases, Efron ties) and the printed one; the distance is in published SEs "
            "(half-width of the printed log CI / 1.96), the unit of the pass rule (within 1).",
            "",
            markdown_table(truth),
            "",
        ]
    sections = [
        ("Survival and follow-up", ["cohort", "km", "followup"]),
        ("Table 2: log-rank P (distance in decades of log10 P)", ["table2_p"]),
        ("Table 2: group medians (months)", ["table2_median"]),
        (
            "Table 2: median CI half-widths (months; SPSS rule, tolerance 50 % of the printed)",
            ["table2_median_ci"],
        ),
        (
            "Table 3: adjusted hazard ratios and the paper's selection (distance and tolerance "
            "in published SEs; the selection's P in decades of log10 P)",
            ["table3", "selection"],
        ),
        ("Table 1: continuous items (matched by construction)", ["table1"]),
    ]
    cols = ["target", "published", "reconstructed", "distance", "tolerance", "pass"]
    for title, groups in sections:
        part = comp[comp["group"].isin(groups)][cols]
        lines += [f"## {title}", "", markdown_table(part), ""]
    frontier = search.get("frontier") or []
    if frontier:
        fpng = out_dir / "frontier.png"
        save_figure(plot_frontier(frontier), fpng)
        table = pd.DataFrame(frontier)
        lines += [
            "## Trade-off frontier between Tables 1-2 and Table 3",
            "",
            "For each number k of Table 1-2 acceptance criteria allowed to fail, the smallest "
            "Table 3 distance among the cohorts the search scored (re-scored with the full "
            "criteria), and what that cohort fails. Read down the column for the best Table 3 "
            "distance as Tables 1-2 are relaxed; read across for the fewest Table 1-2 failures "
            "at which a Table 3 distance is attained.",
            "",
            f"![Trade-off frontier]({fpng.name})",
            "",
            markdown_table(table),
            "",
        ]
        lines += [frontier_account(frontier), ""]
    consistency: pd.DataFrame | None = tables.get("consistency")
    if consistency is not None and len(consistency):
        lines += [
            "## Which printed figures pull against which",
            "",
            consistency_account(consistency),
            "",
            markdown_table(consistency),
            "",
        ]
    adjustment: pd.DataFrame | None = tables.get("adjustment")
    if adjustment is not None and len(adjustment):
        lines += [adjustment_account(adjustment), "", markdown_table(adjustment), ""]
    fit = tables.get("table3_fit")
    if fit is not None:
        t3 = pd.DataFrame(
            {
                "covariate": list(fit.columns),
                "aHR (reconstruction)": fit.hazard_ratio,
                "lower": fit.ci[:, 0],
                "upper": fit.ci[:, 1],
                "P": fit.p_value,
            }
        )
        lines += [
            "## Table 3 model refitted on the reconstruction (bayes_bcsm.frequentist.cox_ph)",
            "",
            f"Complete cases: {fit.rows.describe()}.",
            "",
            markdown_table(t3),
            "",
        ]
    written = write_report(out_dir, "\n".join(lines) + "\n", "Calibration report")
    return written[0]
