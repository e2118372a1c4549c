"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018).

For each replicate: draw the parameters from the prior, simulate a data set of the same
shape (same covariates, independent censoring), fit the model, and record the rank of the
true value among ``L`` (thinned) posterior draws. If the sampler and the model code are
correct, each parameter's ranks are uniform on ``0 .. L``; a chi-square test on binned
ranks checks this. The model is compiled once and refitted on every replicate (the
compile cache of :mod:`bayes_bcsm.inference.sample`).

Reference: Talts, S. et al. (2018). Validating Bayesian inference algorithms with
simulation-based calibration. arXiv:1804.06788.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats

from bayes_bcsm.data.design import Design
from bayes_bcsm.inference.predictive import predict_times
from bayes_bcsm.inference.sample import SamplerSettings, sample
from bayes_bcsm.models.base import SurvivalModel
from bayes_bcsm.models.simulate import censor

__all__ = ["SBCResult", "rank_uniformity", "run_sbc"]


@dataclass(frozen=True)
class SBCResult:
    """Ranks and uniformity tests.

    Attributes
    ----------
    ranks : DataFrame
        One row per replicate, one column per scalar parameter; values in ``0 .. L``.
    uniformity : DataFrame
        Per parameter: ``chi2``, ``df``, ``p_value`` (binned ranks).
    n_rank_draws : int
        ``L``.
    n_patients : int
        Patients per simulated data set.
    """

    ranks: pd.DataFrame
    uniformity: pd.DataFrame
    n_rank_draws: int
    n_patients: int


def rank_uniformity(ranks: pd.DataFrame, n_rank_draws: int, n_bins: int = 10) -> pd.DataFrame:
    """Chi-square test of uniformity of SBC ranks in ``n_bins`` equal bins.

    Parameters
    ----------
    ranks : DataFrame
        Ranks in ``0 .. n_rank_draws``; ``n_rank_draws + 1`` must be divisible by ``n_bins``.
    n_rank_draws : int
    n_bins : int

    Returns
    -------
    DataFrame
        Indexed by parameter: ``chi2``, ``df``, ``p_value``.
    """
    if (n_rank_draws + 1) % n_bins:
        raise ValueError(f"n_rank_draws + 1 = {n_rank_draws + 1} is not divisible by {n_bins}")
    width = (n_rank_draws + 1) // n_bins
    rows = {}
    for col in ranks.columns:
        counts = np.bincount(ranks[col].to_numpy(int) // width, minlength=n_bins)
        res = stats.chisquare(counts)
        rows[col] = {"chi2": float(res.statistic), "df": n_bins - 1, "p_value": float(res.pvalue)}
    out = pd.DataFrame(rows).T
    out.index.name = "parameter"
    return out


def run_sbc(
    template: Design,
    build: Callable[[Design], SurvivalModel],
    n_replicates: int,
    seed: int,
    settings: SamplerSettings | None = None,
    parameters: Sequence[str] = ("beta",),
    n_rank_draws: int = 99,
    max_follow_up_months: float = 60.0,
    censoring_rate_per_month: float = 0.01,
) -> SBCResult:
    """Run SBC for a model family on data shaped like ``template``.

    Parameters
    ----------
    template : Design
        Supplies the covariate matrix and the number of patients (times are simulated).
    build : callable
        ``design -> SurvivalModel`` (e.g. ``lambda d: weibull_model(d)``); the prior must
        not depend on the data.
    n_replicates : int
    seed : int
    settings : SamplerSettings, optional
        Default 2 chains x 500 draws, 500 tuning steps, no log-likelihood.
    parameters : sequence of str
        Posterior variables whose ranks are recorded (vector variables give one column per
        element).
    n_rank_draws : int
        ``L``: posterior draws (evenly thinned) the truth is ranked among.
    max_follow_up_months, censoring_rate_per_month : float
        Censoring of the simulated data.

    Returns
    -------
    SBCResult
    """
    settings = settings or SamplerSettings(
        chains=2, draws=500, tune=500, seed=seed, log_likelihood=False
    )
    rng = np.random.default_rng(seed)
    template_model = build(template)
    names = [v.name for v in template_model.model.free_RVs + template_model.model.deterministics]
    with template_model.model:
        prior = pm.sample_prior_predictive(
            draws=n_replicates, var_names=names, random_seed=int(rng.integers(2**31))
        )
    prior_ds = prior["prior"].dataset
    rows = []
    for r in range(n_replicates):
        truth = prior_ds.isel(draw=[r])
        t = predict_times(template_model, truth, rng)[0, 0]
        time, event = censor(rng, t, max_follow_up_months, censoring_rate_per_month)
        time = np.maximum(time, np.finfo(float).tiny)
        design = dataclasses.replace(template, time=time, event=event)
        fit = sample(build(design), dataclasses.replace(settings, seed=settings.seed + r + 1))
        post = fit.idata["posterior"].dataset
        row = {}
        for name in parameters:
            draws = post[name].stack(sample=("chain", "draw")).transpose("sample", ...).values
            idx = np.linspace(0, draws.shape[0] - 1, n_rank_draws).round().astype(int)
            thinned = draws[idx]
            true = truth[name].isel(chain=0, draw=0).values
            ranks = (thinned < true).sum(axis=0)
            labels = (
                [name]
                if np.ndim(true) == 0
                else [f"{name}[{c}]" for c in post[name].coords[post[name].dims[-1]].values]
            )
            for lab, rk in zip(labels, np.atleast_1d(ranks), strict=True):
                row[lab] = int(rk)
        rows.append(row)
    ranks = pd.DataFrame(rows)
    return SBCResult(ranks, rank_uniformity(ranks, n_rank_draws), n_rank_draws, template.n)
