"""Standardised (g-computation) survival and RMST from posterior draws.

For an exposure with levels ``a_0`` (reference), ``a_1``, ...: within each posterior draw, set
the exposure to ``a_k`` for every analysed patient (their other covariates as observed), and
average the patients' survival curves and restricted mean survival times (RMST),

``S_k(t) = (1/n) sum_i S(t | a_k, x_i)``, ``RMST_k(tau) = (1/n) sum_i RMST(tau | a_k, x_i)``.

The RMST is the family's closed form per patient (:attr:`SurvivalFamily.rmst`), averaged
exactly (the RMST of the average curve is the average of the RMSTs). Differences and ratios are
taken within each draw, so their posterior carries every parameter's uncertainty. Everything is
numpy on saved draws: no model is compiled or sampled.

References
----------
Robins J (1986). A new approach to causal inference in mortality studies with a sustained
exposure period. Math Model 7:1393-1512 (the g-formula).
Remiro-Azocar A, Heath A, Baio G (2022). Marginalization of regression-adjusted treatment
effects in indirect comparisons with limited patient data. Stat Med (Bayesian g-computation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from bayes_bcsm.data.design import DesignError
from bayes_bcsm.data.exposure import Exposure
from bayes_bcsm.inference.predictive import average_survival, beta_draws, patient_eta
from bayes_bcsm.inference.sample import Fit
from bayes_bcsm.models.families import model_family

__all__ = ["Standardised", "absolute_rows", "standardise"]


@dataclass(frozen=True)
class Standardised:
    """Posterior draws of standardised survival and RMST, one per exposure level.

    Attributes
    ----------
    exposure : Exposure
    tau_months : float
        Truncation time of the RMST (months).
    curves : xarray.DataArray
        ``S_k(t)``, dims ``(chain, draw, level, time_months)``.
    rmst : xarray.DataArray
        ``RMST_k(tau)`` (months), dims ``(chain, draw, level)``.
    n_patients : int
        Patients averaged over.
    """

    exposure: Exposure
    tau_months: float
    curves: xr.DataArray = field(repr=False)
    rmst: xr.DataArray = field(repr=False)
    n_patients: int = 0


def standardise(
    fit: Fit,
    exposure: Exposure,
    times_months: Sequence[float] | np.ndarray,
    tau_months: float,
    seed: int | np.random.Generator,
) -> Standardised:
    """Standardised survival curves and RMST of each exposure level, per posterior draw.

    Parameters
    ----------
    fit : Fit
        A fitted model whose design holds the exposure's columns.
    exposure : Exposure
        The exposure and its levels (:func:`bayes_bcsm.data.exposure.exposure_levels`).
    times_months : array of float
        Times of the curves (months, > 0).
    tau_months : float
        RMST truncation time (months, > 0).
    seed : int or numpy.random.Generator
        Draws a marginalised covariate's missing values (one per draw and patient).

    Returns
    -------
    Standardised

    Raises
    ------
    DesignError
        When the model's rows are (start, stop] episodes (a patient's covariates change over
        follow-up, so "set for every patient" is not one row each), or its design lacks the
        exposure's columns.
    """
    sm = fit.model
    if sm.episodes:
        raise DesignError(
            "standardised survival needs one row per patient; this model's rows are "
            "(start, stop] episodes"
        )
    missing = [c for c in exposure.columns if c not in sm.columns]
    if missing:
        raise DesignError(
            f"the model's design has no column(s) {missing} of exposure {exposure.covariate!r}"
        )
    post = fit.idata["posterior"].dataset
    family = model_family(sm.family)
    base = family.baseline(post)
    beta = beta_draws(sm, post)
    idx = [sm.columns.index(c) for c in exposure.columns]
    x = np.asarray(sm.data["X"])[:, idx]  # (n, e): the observed exposure columns
    rng = np.random.default_rng(seed)
    eta_others = patient_eta(sm, post, rng) - np.einsum("ne,cde->cdn", x, beta[..., idx])
    times = np.asarray(times_months, dtype=float)
    tau = float(tau_months)
    curves, rmst = [], []
    n = eta_others.shape[-1]
    for level in exposure.levels:
        setting = np.array([level.values[c] for c in exposure.columns])
        eta = eta_others + (beta[..., idx] @ setting)[..., None]
        rmst.append(family.rmst(sm, base, eta, tau).mean(axis=-1))
        curves.append(average_survival(sm, base, eta, times))
    coords = {
        "chain": post["chain"].values,
        "draw": post["draw"].values,
        "level": [lvl.name for lvl in exposure.levels],
    }
    return Standardised(
        exposure=exposure,
        tau_months=tau,
        curves=xr.DataArray(
            np.stack(curves, axis=2),
            dims=("chain", "draw", "level", "time_months"),
            coords={**coords, "time_months": times},
            name="standardised_survival",
        ),
        rmst=xr.DataArray(
            np.stack(rmst, axis=2),
            dims=("chain", "draw", "level"),
            coords=coords,
            name="standardised_rmst_months",
        ),
        n_patients=n,
    )


def _row(
    quantity: str,
    level: str,
    draws: np.ndarray,
    prob: float,
    time_months: float,
    null: float | None = None,
    mcid: float | None = None,
) -> dict:
    """Posterior median, equal-tailed interval and tail probabilities of one quantity:
    ``p_positive = P(draws > null)`` and ``p_above_mcid = P(draws > mcid)`` (NaN when not
    given)."""
    lo, mid, hi = np.quantile(draws, [(1 - prob) / 2, 0.5, (1 + prob) / 2])
    return {
        "quantity": quantity,
        "level": level,
        "estimate": float(mid),
        "lower": float(lo),
        "upper": float(hi),
        "p_positive": np.nan if null is None else float(np.mean(draws > null)),
        "p_above_mcid": np.nan if mcid is None else float(np.mean(draws > mcid)),
        "n_draws": int(np.size(draws)),
        "time_months": float(time_months),
    }


def absolute_rows(
    std: Standardised,
    method: str,
    horizons_months: Sequence[float],
    prob: float,
    mcid_months: float,
) -> pd.DataFrame:
    """The posterior summaries of a standardisation, one row per quantity and level.

    Parameters
    ----------
    std : Standardised
        Its ``curves`` must hold every horizon among their times.
    method : str
        Name of the model (the ``method`` column).
    horizons_months : sequence of float
        Milestones (months) of the survival rows.
    prob : float
        Probability of the equal-tailed credible intervals.
    mcid_months : float
        Clinically meaningful RMST difference (months): ``p_above_mcid`` is
        ``P(RMST difference > mcid_months)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``quantity`` (``rmst``, ``survival_<t>`` per level;
        ``rmst_difference``, ``rmst_ratio``, ``survival_difference_<t>`` per contrast),
        ``level`` (the level, or ``"<level> vs <reference>"``), ``estimate`` (posterior median),
        ``lower``, ``upper`` (equal-tailed, probability ``prob``), ``p_positive`` (differences:
        P(> 0); ratios: P(> 1); a level's own rows: NaN), ``p_above_mcid`` (RMST difference
        only), ``n_draws`` (the posterior draws behind these summaries), ``time_months`` (the
        milestone of survival rows, else ``tau_months``),
        ``tau_months``, ``prob``.
    """
    levels = std.exposure.levels
    tau = std.tau_months
    rmst = std.rmst.stack(sample=("chain", "draw")).transpose("level", "sample").values
    stacked = std.curves.stack(sample=("chain", "draw"))
    surv = {
        t: stacked.sel(time_months=t).transpose("level", "sample").values for t in horizons_months
    }
    rows = []
    for k, level in enumerate(levels):
        rows.append(_row("rmst", level.name, rmst[k], prob, tau))
        rows += [_row(f"survival_{t:g}", level.name, s[k], prob, t) for t, s in surv.items()]
    for k, level in enumerate(levels[1:], start=1):
        contrast = f"{level.name} vs {levels[0].name}"
        diff = rmst[k] - rmst[0]
        rows.append(_row("rmst_difference", contrast, diff, prob, tau, 0.0, mcid_months))
        rows.append(_row("rmst_ratio", contrast, rmst[k] / rmst[0], prob, tau, 1.0))
        rows += [
            _row(f"survival_difference_{t:g}", contrast, s[k] - s[0], prob, t, 0.0)
            for t, s in surv.items()
        ]
    out = pd.DataFrame(rows)
    out.insert(0, "method", method)
    out["tau_months"] = tau
    out["prob"] = prob
    return out
