"""Plots and report of one model fit (``experiments/fit.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayes_bcsm.data.labels import profile_parts, reference_levels
from bayes_bcsm.hazard_ratios import HR_TABLE_NOTE, row_labels
from bayes_bcsm.report.remedies import remedy_lines
from bayes_bcsm.report.render import markdown_table, report_opening, write_report
from bayes_bcsm.report.sentences import (
    extrapolation_sentence,
    interval_percent,
    ppc_sentence,
    prior_adjusted_sentence,
    profile_sentence,
    time_ratio_sentence,
)

if TYPE_CHECKING:
    from collections.abc import Container

    import xarray as xr
    from matplotlib.figure import Figure

    from bayes_bcsm.results import ReportSettings, RunInputs, VariantFit

# matplotlib is imported where a Bayesian fit is plotted: a model=cox report has no plots


def plot_posterior_survival(variant: VariantFit) -> Figure:
    """Posterior median S(t) with 95 % bands: reference profile and each covariate switched on
    (each curve named by what it compares, e.g. ``"chemotherapy: yes vs no"``); any part
    beyond the last follow-up is shaded and labelled as an extrapolation."""
    bands = variant.survival_bands
    times = bands["time_months"].values
    labels = row_labels(variant.hazard_ratios)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name in bands["profile"].values:
        lo, median, hi = (
            bands.sel(profile=name, band=b).values for b in ("lower", "median", "upper")
        )
        (line,) = ax.plot(times, median, label=labels.get(str(name), str(name)))
        ax.fill_between(times, lo, hi, alpha=0.12, color=line.get_color())
    last = variant.last_follow_up_months
    if times[-1] > last:
        ax.axvspan(last, times[-1], color="0.85", zorder=0, label="extrapolated (beyond follow-up)")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(variant.time_label)
    ax.set_ylabel("Posterior survival S(t | x)")
    ax.set_title(f"{variant.label}: reference profile vs one covariate on")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_censored_ppc(variant: VariantFit, prob: float = 0.95) -> Figure:
    """Kaplan-Meier curve of the data over the band of the Kaplan-Meier curves of predictive
    replicates censored as the data are (:mod:`bayes_bcsm.inference.ppc`)."""
    ppc = variant.censored_ppc
    lower, upper = ppc.band(prob)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.fill_between(
        ppc.times_months,
        lower,
        upper,
        step="post",
        alpha=0.3,
        label=f"{interval_percent(prob)} band of censored replicates",
    )
    ax.step(
        ppc.times_months, np.median(ppc.predicted, axis=0), where="post", label="replicates' median"
    )
    ax.step(
        ppc.times_months, ppc.observed, where="post", color="black", label="data (Kaplan-Meier)"
    )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(variant.time_label)
    ax.set_ylabel(variant.outcome_label)
    ax.set_title(f"{variant.label}: posterior predictive check, censored as the data")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


#: Probability of the posterior predictive band.
PPC_PROB = 0.95

NO_PPC = (
    "No posterior predictive check: the data have entry times (delayed entry or (start, stop] "
    "episodes), and event times drawn from time 0 are not comparable with them."
)


def _loo_lines(variant: VariantFit) -> list[str]:
    if variant.loo is None:
        return [variant.notices.get("loo", "PSIS-LOO not computed."), ""]
    return [
        markdown_table(pd.DataFrame([variant.loo_summary])),
        "",
        f"Pareto k above {variant.loo.good_k:.2f} marks patients whose LOO estimate is "
        "unreliable (Vehtari et al. 2024); compare families with `experiments/compare.py "
        "experiment=model_comparison`.",
        "",
    ]


def _time_ratios(variant: VariantFit) -> bool:
    """Whether the variant's model is an accelerated-failure-time one: its coefficients are
    log time ratios (variable ``gamma``, no log-HR ``beta`` beside it), never log-HRs. Read
    from the PyMC model, or from the posterior when the model was left behind (the copy a
    plotting worker receives, :mod:`bayes_bcsm.report.plot_worker`)."""
    model = variant.fit.model
    if model is None:
        return _time_ratio_names(variant.fit.idata["posterior"].data_vars)
    return _time_ratio_names(model.model.named_vars)


def _time_ratio_names(names: Container[str]) -> bool:
    """Whether variables ``names`` are an accelerated-failure-time model's (see
    :func:`_time_ratios`)."""
    return "gamma" in names and "beta" not in names


def write_fit_artefacts(variant: VariantFit, folder: Path) -> dict[str, Path]:
    """Write the plots of one fit as PNG; return ``{name: path}``: :func:`write_chain_plots`
    and :func:`write_result_plots`."""
    return {
        **write_chain_plots(variant.fit.idata, folder),
        **write_result_plots(variant, folder),
    }


def rank_plot(idata: xr.DataTree, coefficient: str):
    """ArviZ's rank plot (``arviz_plots.PlotCollection``) of the coefficient ``coefficient``
    of a fit's DataTree, one panel per covariate.

    Thinned to about one draw per effective draw: the multi-chain uniformity test behind the
    plot's p-values treats draws as independent (and it costs half as much). Laid out with
    matplotlib's constrained layout, so that with more covariates than fit on one row each
    row's titles stay clear of the x-axis labels of the row above.
    """
    import arviz as az  # the Bayesian diagnostics only: a model=cox report does without it

    return az.plot_rank(
        idata,
        var_names=[coefficient],
        thin=True,
        backend="matplotlib",
        figure_kwargs={"layout": "constrained"},
    )


def write_chain_plots(idata: xr.DataTree, folder: Path) -> dict[str, Path]:
    """Write the rank and trace plots of a fit's coefficients (``rank.png``, ``trace.png``);
    they read the draws and the sampler's statistics alone (``idata``: a fit's DataTree), so
    they can be drawn as soon as the draws exist."""
    import arviz as az

    from bayes_bcsm.report.plots import save_collection

    coefficient = "gamma" if _time_ratio_names(idata["posterior"].data_vars) else "beta"
    return {
        "rank_plot": save_collection(rank_plot(idata, coefficient), folder / "rank.png"),
        "trace_plot": save_collection(
            az.plot_trace_dist(idata, var_names=[coefficient], backend="matplotlib"),
            folder / "trace.png",
        ),
    }


def write_result_plots(variant: VariantFit, folder: Path) -> dict[str, Path]:
    """Write the plots of what the fit says: the censored predictive check, the forest plot(s),
    the posterior survival curves and the PSIS-LOO Pareto k (when there is a LOO)."""
    import arviz as az

    from bayes_bcsm.report.plots import plot_forest, save_collection, save_figure

    paths = {}
    if variant.censored_ppc is not None:
        save_figure(plot_censored_ppc(variant), folder / "ppc_censored.png")
        paths["ppc_plot"] = folder / "ppc_censored.png"
    save_figure(plot_forest(variant.hazard_ratios), folder / "forest.png")
    if _time_ratios(variant):
        save_figure(
            plot_forest(variant.hazard_ratios, measure="time ratio"),
            folder / "forest_time_ratios.png",
        )
        paths["forest_time_ratios_plot"] = folder / "forest_time_ratios.png"
    paths["forest_plot"] = folder / "forest.png"
    save_figure(plot_posterior_survival(variant), folder / "survival.png")
    paths["survival_plot"] = folder / "survival.png"
    if variant.loo is not None:
        paths["loo_plot"] = save_collection(
            az.plot_khat(variant.loo, backend="matplotlib"), folder / "loo_pareto_k.png"
        )
    return paths


def diagnostics_table(variant: VariantFit) -> pd.DataFrame:
    """Diagnostics of a fit with PASS/FAIL spelled out."""
    table = variant.diagnostics.summary.copy()
    table["passed"] = np.where(table["passed"], "PASS", "**FAIL**")
    return table


def hazard_ratio_table(hazard_ratios: pd.DataFrame) -> pd.DataFrame:
    """The columns of a hazard-ratio table that a reader needs, each covariate shown by its
    ``label`` (what it compares, e.g. ``"chemotherapy: yes vs no"``)."""
    columns = [
        "covariate",
        "model",
        "estimate",
        "lower",
        "upper",
        "interval",
        "measure",
        "p_hr_below_1",
        "p_value",
        "n_used",
        "n_events",
    ]
    table = hazard_ratios.assign(covariate=hazard_ratios["label"])[columns]
    if (table["measure"] == "time ratio").any():  # the probability is P(ratio < 1)
        table = table.rename(columns={"p_hr_below_1": "p_ratio_below_1"})
    return table


def prior_adjusted_lines(variant: VariantFit) -> list[str]:
    """One line per covariate whose posterior the prior moved from the Cox estimate."""
    if variant.prior_adjusted is None or variant.prior_adjusted.empty:
        return []
    labels = row_labels(variant.hazard_ratios)
    lines = [
        "- " + prior_adjusted_sentence(labels.get(r.covariate, r.covariate), *r[2:])
        for r in variant.prior_adjusted.itertuples()
    ]
    return [*lines, ""]


def model_statement(variant: VariantFit) -> str:
    """The prior and (piecewise) the cut points a Bayesian fit actually used, in one sentence."""
    model = variant.fit.model
    text = f"Prior on each log HR (per design unit): {model.prior.describe()}"
    if _time_ratios(variant):
        text = "Prior on each log time ratio (per design unit): " + model.prior.describe().replace(
            "log HR", "log TR"
        )
    if model.cuts_months:
        cuts = ", ".join(f"{c:.4g}" for c in (0.0, *model.cuts_months))
        text += f"; piecewise baseline cut points used: {cuts} months"
    return text + "."


def write_fit_report(
    settings: ReportSettings, inputs: RunInputs, variant: VariantFit
) -> list[Path]:
    """Write ``report.md`` and ``report.html`` of one fit into the run folder."""
    lines = report_opening(
        f"{settings.heading(inputs.card.title)}: {variant.label}",
        inputs,
    )
    lines += [
        f"Cox and Firth baselines: {variant.design.rows.describe()} "
        f"({variant.design.n_events} events).",
        "",
    ]
    if variant.fit is not None:
        lines += [
            f"Bayesian model ({variant.family}): {variant.fit.model.rows}.",
            "",
            model_statement(variant),
            "",
        ]
    for message in variant.cox.warnings:
        lines += [f"> **Cox warning:** {message}", ""]
    time_ratios = variant.hazard_ratios["measure"] == "time ratio"
    lines += [
        "## Hazard ratios and time ratios" if time_ratios.any() else "## Hazard ratios",
        "",
        "Per natural unit of each covariate; Bayesian rows give the posterior median and "
        f"{interval_percent(settings.hdi_prob)} equal-tailed interval (report.hdi_prob), "
        "frequentist rows "
        "the estimate and 95% CI. " + reference_levels(variant.design.terms, inputs.card),
        "",
        time_ratio_sentence(list(variant.hazard_ratios.loc[time_ratios, "model"].unique())),
        "",
        markdown_table(hazard_ratio_table(variant.hazard_ratios)),
        "",
        *prior_adjusted_lines(variant),
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
        profile_sentence(*profile_parts(variant.design.terms, inputs.card)),
        "",
        extrapolation_sentence(
            variant.last_follow_up_months,
            list(variant.survival.loc[variant.survival["extrapolated"], "quantity"].unique()),
        ),
        "",
        markdown_table(variant.survival.drop(columns=["prob"])),
        "",
        "## Leave-one-out cross-validation (PSIS-LOO)",
        "",
        *_loo_lines(variant),
    ]
    if settings.plots:
        lines += [
            "## Plots",
            "",
            "![Forest plot of hazard ratios](forest.png)",
            "",
            *(
                ["![Forest plot of time ratios](forest_time_ratios.png)", ""]
                if time_ratios.any()
                else []
            ),
            "![Posterior survival curves](survival.png)",
            "",
            (
                ppc_sentence(variant.censored_ppc.coverage(PPC_PROB), PPC_PROB)
                + "\n\n![Kaplan-Meier of the data against censored posterior predictive "
                "replicates](ppc_censored.png)"
                if variant.censored_ppc is not None
                else variant.notices.get("ppc", NO_PPC)
            ),
            "",
            *(
                ["![Pareto k per patient (PSIS-LOO)](loo_pareto_k.png)", ""]
                if variant.loo is not None
                else []
            ),
            "![Rank plots (draws thinned to about one per effective draw)](rank.png)",
            "",
            "![Trace plots](trace.png)",
            "",
        ]
    lines += [
        "## Files",
        "",
        "`posterior.nc` (DataTree: `arviz.from_netcdf`), `summary.csv`, `diagnostics.json`, "
        "`hazard_ratios.csv`, `survival.csv`, `loo.json`, `model.json` (what the model used: "
        "piecewise cut points, marginalised covariate), `resolved_config.yaml`, "
        "`provenance.json`.",
        "",
        HR_TABLE_NOTE,
    ]
    return write_report(inputs.output_dir, "\n".join(lines), settings.title, settings.html)
