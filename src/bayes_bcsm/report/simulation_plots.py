"""Plots of the simulation study (matplotlib). Every function returns a Figure.

Inputs are the tables of :mod:`bayes_bcsm.simulation`: the aggregate (one row per scenario,
n, method and covariate; :func:`bayes_bcsm.simulation.metrics.aggregate_metrics`), the
replicate rows, and SBC ranks. Callers save and close the figures
(:func:`bayes_bcsm.report.plots.save_figure`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "plot_design_analysis",
    "plot_metric_by_method",
    "plot_replicate_estimates",
    "plot_sbc_ranks",
]


def plot_design_analysis(table: pd.DataFrame, title: str = "") -> Figure:
    """Empirical power and exaggeration against the closed-form design analysis.

    Parameters
    ----------
    table : DataFrame
        Columns ``method``, ``scenario``, ``power``, ``power MCSE``, ``power (closed form)``,
        ``exaggeration``, ``exaggeration MCSE``, ``exaggeration (closed form)`` (the report's
        design table).
    title : str

    Returns
    -------
    Figure
        Two panels; points on the diagonal agree with the closed form, bars are
        +- 1.96 MCSE.
    """
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 4.0), squeeze=False)
    for ax, metric in zip(axes.flat, ("power", "exaggeration"), strict=True):
        for method, part in table.groupby("method", sort=False):
            ax.errorbar(
                part[f"{metric} (closed form)"],
                part[metric],
                yerr=1.96 * part[f"{metric} MCSE"],
                fmt="o",
                ms=4,
                capsize=2,
                label=method,
            )
        values = table[[metric, f"{metric} (closed form)"]].to_numpy(float)
        finite = values[np.isfinite(values)]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            pad = 0.05 * (hi - lo or 1.0)
            ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", lw=0.8)
        ax.set_xlabel(f"{metric}, closed form at the replicates' SE", fontsize=8)
        ax.set_ylabel(f"{metric}, replicates", fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _panels(n: int, width: float = 3.6, height: float = 3.0, max_cols: int = 4):
    cols = min(n, max_cols)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(width * cols, height * rows), squeeze=False, sharey=True
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def plot_metric_by_method(
    aggregate: pd.DataFrame,
    metric: str,
    mcse: str | None = None,
    reference: float | None = None,
    methods: Sequence[str] | None = None,
    title: str = "",
    xlabel: str | None = None,
) -> Figure:
    """One panel per covariate: ``metric`` per method (rows), one marker per scenario.

    Parameters
    ----------
    aggregate : DataFrame
        Columns ``scenario``, ``method``, ``covariate``, ``metric`` (and ``mcse``); a single
        sample size (filter first when the study has several).
    metric : str
        E.g. ``"coverage"`` or ``"bias"`` (log-HR scale).
    mcse : str, optional
        Column of the Monte Carlo standard error; drawn as +- 1.96 MCSE bars.
    reference : float, optional
        Vertical reference line (0.95 for coverage, 0 for bias).
    methods : sequence of str, optional
        Method order (default: order of appearance).
    title, xlabel : str
    """
    methods = list(methods or dict.fromkeys(aggregate["method"]))
    covariates = list(dict.fromkeys(aggregate["covariate"]))
    scenarios = list(dict.fromkeys(aggregate["scenario"]))
    fig, axes = _panels(len(covariates))
    offsets = np.linspace(-0.15, 0.15, len(scenarios)) if len(scenarios) > 1 else [0.0]
    markers = "osD^v"
    for ax, covariate in zip(axes, covariates, strict=False):
        part = aggregate[aggregate["covariate"] == covariate]
        for k, scenario in enumerate(scenarios):
            rows = part[part["scenario"] == scenario].set_index("method").reindex(methods)
            y = np.arange(len(methods)) + offsets[k]
            x = rows[metric].to_numpy(float)
            err = 1.96 * rows[mcse].to_numpy(float) if mcse else None
            ax.errorbar(
                x, y, xerr=err, fmt=markers[k % len(markers)], ms=4, capsize=2, label=scenario
            )
        if reference is not None:
            ax.axvline(reference, color="grey", lw=0.8, ls="--")
        ax.set_yticks(np.arange(len(methods)), methods, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(covariate, fontsize=9)
        ax.set_xlabel(xlabel or metric, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_replicate_estimates(
    replicates: pd.DataFrame,
    covariate: str,
    methods: Sequence[str] | None = None,
    paper_log_hr: float | None = None,
    title: str = "",
) -> Figure:
    """Replicate estimates of one covariate's log-HR per method and scenario (strip plot).

    Parameters
    ----------
    replicates : DataFrame
        Replicate rows (:data:`bayes_bcsm.simulation.metrics.REPLICATE_COLUMNS`); failed and
        unselected rows are left out.
    covariate : str
        Design column, e.g. ``"hormone_therapy"``.
    methods : sequence of str, optional
    paper_log_hr : float, optional
        The published estimate (drawn as a dotted line).
    title : str
    """
    rows = replicates[
        (replicates["covariate"] == covariate)
        & (replicates["failed"] == 0)
        & (replicates["selected"] == 1)
    ]
    methods = list(methods or dict.fromkeys(replicates["method"]))
    scenarios = list(dict.fromkeys(replicates["scenario"]))
    fig, axes = _panels(len(scenarios), width=5.0, height=0.45 * len(methods) + 1.2, max_cols=2)
    rng = np.random.default_rng(0)  # jitter only
    for ax, scenario in zip(axes, scenarios, strict=False):
        part = rows[rows["scenario"] == scenario]
        for j, method in enumerate(methods):
            x = part.loc[part["method"] == method, "estimate"].to_numpy(float)
            ax.plot(x, j + rng.uniform(-0.2, 0.2, len(x)), ".", ms=3, alpha=0.5)
        truths = replicates[
            (replicates["covariate"] == covariate) & (replicates["scenario"] == scenario)
        ]
        if len(truths):
            ax.axvline(
                float(truths["true_conditional"].iloc[0]),
                color="grey",
                ls="--",
                lw=1,
                label="conditional effect",
            )
            own = truths.groupby("method")["true_method"].first()
            for j, method in enumerate(methods):
                if method in own.index and np.isfinite(own[method]):
                    ax.plot(
                        [own[method]] * 2,
                        [j - 0.4, j + 0.4],
                        color="k",
                        lw=1.5,
                        label="method's estimand" if j == 0 else None,
                    )
        if paper_log_hr is not None:
            ax.axvline(paper_log_hr, color="crimson", ls=":", lw=1, label="published")
        ax.set_yticks(np.arange(len(methods)), methods, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("estimated log HR", fontsize=8)
        ax.set_title(f"{covariate}: {scenario}", fontsize=9)
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_sbc_ranks(
    ranks: Mapping[str, pd.DataFrame], n_rank_draws: int, n_bins: int = 10, title: str = ""
) -> Figure:
    """SBC rank histograms: one row per model, one panel per parameter.

    Parameters
    ----------
    ranks : mapping of str to DataFrame
        Model label -> ranks (one column per parameter, values ``0 .. n_rank_draws``).
    n_rank_draws : int
        ``L``; ``L + 1`` must be divisible by ``n_bins``.
    n_bins : int
    title : str

    Notes
    -----
    The grey band is the central 99 % range of a bin count under uniformity
    (binomial(R, 1 / n_bins)), as in Talts et al. (2018), Fig. 3.
    """
    from scipy import stats

    models = list(ranks)
    n_par = max(len(r.columns) for r in ranks.values())
    fig, axes = plt.subplots(
        len(models), n_par, figsize=(2.6 * n_par, 2.0 * len(models)), squeeze=False
    )
    width = (n_rank_draws + 1) // n_bins
    for i, model in enumerate(models):
        frame = ranks[model]
        n_rep = len(frame)
        lo, hi = stats.binom.ppf([0.005, 0.995], n_rep, 1 / n_bins)
        for j in range(n_par):
            ax = axes[i, j]
            if j >= len(frame.columns):
                ax.set_visible(False)
                continue
            column = frame.columns[j]
            counts = np.bincount(frame[column].to_numpy(int) // width, minlength=n_bins)
            ax.axhspan(lo, hi, color="grey", alpha=0.25, lw=0)
            ax.bar(np.arange(n_bins), counts, width=0.9)
            ax.axhline(n_rep / n_bins, color="k", lw=0.7)
            label = column[5:-1] if column.startswith("beta[") else column
            ax.set_title(f"{model}\n{label}", fontsize=7)
            ax.set_xticks([])
            ax.tick_params(axis="y", labelsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
