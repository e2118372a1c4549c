"""Plots of the immortal-time simulation (matplotlib). Every function returns a Figure.

The input is the per-cell summary of :func:`bayes_bcsm.simulation.immortal.cell_summary`;
callers save and close the figures (:func:`bayes_bcsm.report.plots.save_figure`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["plot_coverage_by_delay", "plot_hr_by_delay"]

_METHOD_TITLES = {
    "naive": "naive: ever treated at baseline",
    "time_dependent": "time-dependent (start, stop]",
    "landmark": "landmark",
}


def plot_hr_by_delay(summary: pd.DataFrame, printed_hr: float, title: str = "") -> Figure:
    """Median estimated HR (and its interquartile range) against the median start delay.

    Parameters
    ----------
    summary : DataFrame
        :func:`~bayes_bcsm.simulation.immortal.cell_summary`.
    printed_hr : float
        The paper's aHR (drawn as a red line: how far the estimates are from it).
    title : str

    Returns
    -------
    Figure
        One panel per analysis; log scales; each true HR in its own colour, its value as a
        dotted line of that colour.
    """
    methods = list(dict.fromkeys(summary["method"]))
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.8), sharey=True)
    axes = np.atleast_1d(axes)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, method in zip(axes, methods, strict=True):
        part = summary[summary["method"] == method]
        for k, (true_hr, cell) in enumerate(part.groupby("true_hr", sort=False)):
            cell = cell.sort_values("delay_median_months")
            colour = colours[k % len(colours)]
            x = cell["delay_median_months"].to_numpy(float)
            ax.plot(x, cell["median_hr"], "o-", color=colour, label=f"true HR {true_hr:g}")
            ax.fill_between(x, cell["hr_q25"], cell["hr_q75"], color=colour, alpha=0.15)
            ax.axhline(true_hr, color=colour, ls=":", lw=1)
        ax.axhline(printed_hr, color="crimson", lw=1.5, label=f"printed aHR {printed_hr:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(sorted(set(summary["delay_median_months"])))
        ax.set_xticklabels([f"{v:g}" for v in sorted(set(summary["delay_median_months"]))])
        ax.set_xlabel("median start delay (months after surgery)")
        ax.set_title(_METHOD_TITLES.get(method, method), fontsize=10)
    axes[0].set_ylabel("estimated HR: median and quartiles")
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_coverage_by_delay(summary: pd.DataFrame, title: str = "") -> Figure:
    """Coverage of the true HR by the 95 % intervals against the median start delay.

    Parameters
    ----------
    summary : DataFrame
        :func:`~bayes_bcsm.simulation.immortal.cell_summary` (``coverage``,
        ``coverage_mcse``).
    title : str

    Returns
    -------
    Figure
        One panel per true HR, one line per analysis; bars are +- 1.96 MCSE; the nominal
        0.95 as a grey line.
    """
    hrs = list(dict.fromkeys(summary["true_hr"]))
    fig, axes = plt.subplots(1, len(hrs), figsize=(4.0 * len(hrs), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, true_hr in zip(axes, hrs, strict=True):
        part = summary[summary["true_hr"] == true_hr]
        for method, cell in part.groupby("method", sort=False):
            cell = cell.sort_values("delay_median_months")
            ax.errorbar(
                cell["delay_median_months"],
                cell["coverage"],
                yerr=1.96 * cell["coverage_mcse"],
                fmt="o-",
                ms=4,
                capsize=2,
                label=_METHOD_TITLES.get(method, method),
            )
        ax.axhline(0.95, color="grey", lw=1)
        ax.set_xscale("log")
        ax.set_xticks(sorted(set(summary["delay_median_months"])))
        ax.set_xticklabels([f"{v:g}" for v in sorted(set(summary["delay_median_months"]))])
        ax.set_xlabel("median start delay (months after surgery)")
        ax.set_title(f"true HR {true_hr:g}", fontsize=10)
    axes[0].set_ylabel("coverage of the true HR (95 % CI)")
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
