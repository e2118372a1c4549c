"""Figures of the summary-level re-analysis (matplotlib). Each function returns a Figure."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from bayes_bcsm.reinterpret import Reinterpretation
from bayes_bcsm.report.sentences import percent


def _hr_ticks(ax, lo: float, hi: float) -> None:
    ticks = [t for t in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30) if lo <= math.log(t) <= hi]
    ax.set_xticks([math.log(t) for t in ticks])
    ax.set_xticklabels([f"{t:g}" for t in ticks])


def plot_prior_likelihood_posterior(result: Reinterpretation, covariate: str) -> Figure:
    """Prior, likelihood and posterior densities of one estimate's log-HR, one panel per prior.

    The x-axis is the log-HR, labelled in hazard ratios; the likelihood is the normal built
    from the printed estimate and interval (scaled as a density in the log-HR).
    """
    priors = result.priors
    ncol = 3
    nrow = math.ceil(len(priors) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(10, 2.6 * nrow), sharex=True, squeeze=False)
    first = result.posterior(covariate, priors[0].name)
    b, s = first.likelihood_mean_log, first.likelihood_se_log
    lo, hi = min(b - 4 * s, -3.0), max(b + 4 * s, 3.0)
    grid = np.linspace(lo, hi, 600)
    for ax, prior in zip(axes.flat, priors, strict=False):
        post = result.posterior(covariate, prior.name)
        ax.plot(grid, stats.norm.pdf(grid, post.prior_mean_log, post.prior_sd_log), label="prior")
        ax.plot(grid, stats.norm.pdf(grid, b, s), label="likelihood (printed)", ls="--")
        ax.plot(
            grid,
            stats.norm.pdf(grid, post.posterior_mean_log, post.posterior_sd_log),
            label="posterior",
            lw=2,
        )
        ax.axvline(0.0, color="grey", lw=0.8, ls=":")
        ax.set_title(f"{prior.name}: P(HR<1) = {percent(post.prob_hr_below(1.0))}", fontsize=9)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(priors) :]:
        ax.set_visible(False)
    _hr_ticks(axes.flat[0], lo, hi)  # the panels share one x-axis: its ticks and labels
    axes.flat[0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("Hazard ratio (log scale)")
    fig.suptitle(f"{covariate}: prior, likelihood and posterior")
    fig.tight_layout()
    return fig


def plot_sensitivity(sensitivity: pd.DataFrame) -> Figure:
    """P(HR < 1) under a neutral prior (centred at HR 1) as its SD grows, one line per estimate."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for covariate, rows in sensitivity.groupby("covariate", sort=False):
        ax.plot(rows["prior_sd_log"], rows["p_hr_below_1"], label=covariate)
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("SD of the neutral prior on the log-HR")
    ax.set_ylabel("Posterior P(HR < 1)")
    ax.set_ylim(0, 1)
    ax.set_title("How the conclusion depends on prior scepticism")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_design(design: pd.DataFrame) -> Figure:
    """Power and exaggeration ratio against the true HR, at each estimate's printed SE."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for covariate, rows in design.groupby("covariate", sort=False):
        label = f"{covariate} (SE {rows['se'].iloc[0]:.2f})"
        left.plot(rows["true_hr"], rows["power"], marker="o", ms=3, label=label)
        right.plot(rows["true_hr"], rows["exaggeration"], marker="o", ms=3, label=label)
    left.set_ylabel("Power")
    left.set_ylim(0, 1)
    right.set_ylabel("Exaggeration ratio (|log HR| given significance)")
    right.axhline(1.0, color="grey", lw=0.8, ls=":")
    for ax in (left, right):
        ax.set_xlabel("True hazard ratio")
    left.legend(fontsize=8)
    fig.suptitle("Design analysis: what a study with this precision can detect")
    fig.tight_layout()
    return fig
