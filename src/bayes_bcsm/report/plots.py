"""Plots for reports (matplotlib). Every function returns a Figure; callers save and close it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from bayes_bcsm.atomic import atomic_path
from bayes_bcsm.hazard_ratios import row_labels


def plot_km_curves(
    curves: Mapping[str, pd.DataFrame],
    title: str = "",
    published_points: Mapping[float, float] | None = None,
    annotation: str | None = None,
    time_label: str = "Months after spinal surgery",
    outcome_label: str = "Overall survival",
) -> Figure:
    """Kaplan-Meier step curves with pointwise confidence bands.

    Parameters
    ----------
    curves : mapping of label to DataFrame
        Each a Kaplan-Meier table with columns ``time``, ``survival``, ``lower``, ``upper``
        (as ``KaplanMeierResult.table``); the curve starts at (0, 1).
    title : str
        Axes title.
    published_points : mapping of float to float, optional
        Published survival proportions by time (months), drawn as markers.
    annotation : str, optional
        Text placed in the lower left (e.g. a log-rank P value).
    time_label : str
        x-axis label (time unit).
    outcome_label : str
        y-axis label (the dataset card's ``outcome_label``).
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, table in curves.items():
        t = np.concatenate([[0.0], table["time"].to_numpy(float)])
        s = np.concatenate([[1.0], table["survival"].to_numpy(float)])
        (line,) = ax.step(t, s, where="post", label=label)
        lo = np.concatenate([[1.0], table["lower"].to_numpy(float)])
        hi = np.concatenate([[1.0], table["upper"].to_numpy(float)])
        ax.fill_between(t, lo, hi, step="post", alpha=0.15, color=line.get_color())
    if published_points:
        times = sorted(published_points)
        ax.plot(
            times, [published_points[k] for k in times], "kD", ms=5, label="published (Hu 2025)"
        )
    if annotation:
        ax.text(0.02, 0.04, annotation, transform=ax.transAxes)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(time_label)
    ax.set_ylabel(outcome_label)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_forest(
    hazard_ratios: pd.DataFrame, title: str | None = None, measure: str = "hazard ratio"
) -> Figure:
    """Forest plot of hazard ratios (or of time ratios) from several sources side by side.

    Parameters
    ----------
    hazard_ratios : DataFrame
        Columns ``covariate``, ``model``, ``estimate``, ``lower``, ``upper`` (ratio scale), and
        optionally ``label`` (each covariate's axis label, e.g. ``"chemotherapy: yes vs no"``)
        and ``measure``. Rows with a missing interval are drawn as points.
    title : str, optional
        Axes title (default ``"Hazard ratios (log scale)"``, or the measure's).
    measure : {"hazard ratio", "time ratio"}
        The rows drawn (those of this ``measure``; all rows when the table has no such column)
        and the axis label: hazard ratios and time ratios never share an axis.
    """
    frame = hazard_ratios.dropna(subset=["estimate"])
    if "measure" in frame:
        frame = frame[frame["measure"] == measure]
    frame = frame.reset_index(drop=True)
    title = title or f"{measure.capitalize()}s (log scale)"
    covariates = list(dict.fromkeys(frame["covariate"]))
    models = list(dict.fromkeys(frame["model"]))
    height = max(2.5, 0.35 * len(covariates) * len(models) + 1)
    fig, ax = plt.subplots(figsize=(7, height))
    step = 0.8 / max(len(models), 1)
    for j, model in enumerate(models):
        rows = frame[frame["model"] == model]
        y = np.array([covariates.index(c) for c in rows["covariate"]], float) + j * step
        est = rows["estimate"].to_numpy(float)
        lo = rows["lower"].to_numpy(float)
        hi = rows["upper"].to_numpy(float)
        err = np.vstack([np.where(np.isnan(lo), 0, est - lo), np.where(np.isnan(hi), 0, hi - est)])
        ax.errorbar(est, y, xerr=err, fmt="o", ms=4, capsize=2, label=model)
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 3.0)))
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_yticks(np.arange(len(covariates)) + step * (len(models) - 1) / 2)
    labels = row_labels(frame)
    ax.set_yticklabels([labels[c] for c in covariates])
    ax.invert_yaxis()
    ax.set_xlabel(measure.capitalize())
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def plot_model_average(
    curves: pd.DataFrame,
    km: pd.DataFrame,
    last_follow_up_months: float,
    time_label: str = "Months",
    outcome_label: str = "Overall survival",
) -> Figure:
    """Each family's standardised survival curve over the Kaplan-Meier curve, with its
    stacking weight, and the stacked average with its interval; the time beyond the last
    follow-up is shaded and labelled extrapolation.

    Parameters
    ----------
    curves : DataFrame
        ``ModelAverage.curves`` (``model``, ``weight``, ``time_months``, ``mean``, ``lower``,
        ``upper``); the model ``"stacked average"`` is drawn in black with its band.
    km : DataFrame
        ``time_months``, ``survival`` of the data.
    last_follow_up_months : float
    time_label, outcome_label : str
        Axis labels (the dataset card's).
    """
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    t = np.concatenate([[0.0], km["time_months"].to_numpy(float)])
    s = np.concatenate([[1.0], km["survival"].to_numpy(float)])
    ax.step(t, s, where="post", color="grey", lw=1.6, label="Kaplan-Meier (data)")
    for model, rows in curves.groupby("model", sort=False):
        x = np.concatenate([[0.0], rows["time_months"].to_numpy(float)])
        y = np.concatenate([[1.0], rows["mean"].to_numpy(float)])
        if model == "stacked average":
            lo = np.concatenate([[1.0], rows["lower"].to_numpy(float)])
            hi = np.concatenate([[1.0], rows["upper"].to_numpy(float)])
            ax.fill_between(x, lo, hi, color="black", alpha=0.12)
            ax.plot(x, y, color="black", lw=2.2, label="stacked average")
        else:
            ax.plot(x, y, lw=1.1, label=f"{model} (weight {rows['weight'].iloc[0]:.2f})")
    end = float(curves["time_months"].max())
    ax.axvspan(last_follow_up_months, end, color="orange", alpha=0.08)
    ax.text(
        (last_follow_up_months + end) / 2, 0.97, "extrapolation", ha="center", va="top", fontsize=9
    )
    ax.set_xlim(0, end)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(time_label)
    ax.set_ylabel(f"{outcome_label} (standardised)")
    ax.set_title("Families and their stacked average over the Kaplan-Meier curve")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path) -> None:
    """Save ``fig`` as PNG at a report-friendly resolution and release its memory."""
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=110, format="png")
    plt.close(fig)


def save_collection(collection, path) -> Path:
    """Save an ArviZ plot collection (``arviz_plots.PlotCollection``) as PNG, release its
    figures and return ``path``.

    ArviZ's figures have a fixed size and place some titles and axis labels outside it (the
    rank plot's titles, the LOO comparison's axis label): the image is cropped to everything
    the figure draws (``bbox_inches="tight"``), so that none is cut off.
    """
    with atomic_path(path) as temporary:
        collection.savefig(temporary, dpi=100, format="png", bbox_inches="tight")
    plt.close("all")
    return path


def draw_figure(path, plot: Callable[..., Figure], *args: object) -> None:
    """Draw ``plot(*args)`` and save it as ``path`` (:func:`save_figure`): a figure as one job
    that a plotting worker can run (:meth:`bayes_bcsm.report.plot_worker.FitPlotter.draw`)."""
    save_figure(plot(*args), path)


def draw_here(write: Callable[..., object], *args: object) -> None:
    """Run ``write(*args)`` in this process: the default way reports draw their figures."""
    write(*args)
