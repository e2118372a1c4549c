"""Posterior (and prior) prediction: event times, survival curves, median survival, HRs.

Everything here works from the posterior draws of a :class:`~bayes_bcsm.inference.sample.Fit`
and the family's closed-form hazard (numpy), so it needs no recompilation and is the same
for every family: the baseline parameters, cumulative hazard, median and event-time sampler
of each family come from the model-family registry (:func:`bayes_bcsm.models.model_family`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayes_bcsm.data.design import DesignError
from bayes_bcsm.data.follow_up import STUDY_HORIZONS_MONTHS
from bayes_bcsm.inference.sample import Fit
from bayes_bcsm.models.base import OBSERVED, SurvivalModel
from bayes_bcsm.models.families import model_family

DEFAULT_TIMES_MONTHS: tuple[float, ...] = STUDY_HORIZONS_MONTHS

__all__ = [
    "DEFAULT_TIMES_MONTHS",
    "average_survival",
    "beta_draws",
    "hazard_ratio_summary",
    "log_hazard_ratio_draws",
    "median_survival",
    "one_at_a_time_profiles",
    "patient_eta",
    "posterior_predictive",
    "predict_times",
    "prior_predictive",
    "profiles",
    "rmst_draws",
    "survival_bands",
    "survival_curves",
    "survival_summary",
]


# ----------------------------------------------------------------------------- helpers
def _baseline_draws(sm: SurvivalModel, post: xr.Dataset) -> dict[str, np.ndarray]:
    """Baseline parameters as arrays with leading (chain, draw) dims."""
    return model_family(sm.family).baseline(post)


def beta_draws(sm: SurvivalModel, post: xr.Dataset) -> np.ndarray:
    """Regression coefficients per draw, shape ``(chain, draw, covariate)`` (zero columns for a
    model without covariates)."""
    if not sm.columns:
        c, d = post.sizes["chain"], post.sizes["draw"]
        return np.zeros((c, d, 0))
    return post[model_family(sm.family).coefficient].transpose("chain", "draw", "covariate").values


def profiles(
    sm: SurvivalModel, rows: Mapping[str, Mapping[str, float]] | None = None
) -> pd.DataFrame:
    """Covariate profiles on the design scale (rows = profiles, columns = ``sm.columns``).

    Parameters
    ----------
    sm : SurvivalModel
    rows : mapping of str to mapping, optional
        ``{profile name: {design column: value}}``; unspecified columns are 0 (the
        reference level of a categorical, the centre of a standardised continuous
        covariate). Default: a single ``"reference"`` profile.

    Returns
    -------
    DataFrame
    """
    rows = rows or {"reference": {}}
    frame = pd.DataFrame(0.0, index=list(rows), columns=list(sm.columns))
    for name, values in rows.items():
        unknown = [c for c in values if c not in sm.columns]
        if unknown:
            raise KeyError(
                f"profile {name!r}: unknown design column(s) {unknown}; "
                f"available: {list(sm.columns)}"
            )
        for col, val in values.items():
            frame.loc[name, col] = float(val)
    frame.index.name = "profile"
    return frame


def one_at_a_time_profiles(sm: SurvivalModel) -> pd.DataFrame:
    """The reference profile plus one profile per design column switched on (value 1).

    Used for survival summaries and curves "by covariate".
    """
    return profiles(sm, {"reference": {}, **{c: {c: 1.0} for c in sm.columns}})


def _profile_eta(fit: Fit, prof: pd.DataFrame) -> np.ndarray:
    post = fit.idata["posterior"].dataset
    beta = beta_draws(fit.model, post)
    x = prof[list(fit.model.columns)].to_numpy(dtype=float)
    return beta @ x.T  # (c, d, m)


#: Most array elements (chains x draws x rows x times) :func:`average_survival` evaluates at
#: once: blocks of 8 MB, which the allocator reuses from block to block, instead of arrays of
#: hundreds of MB. (Blocks of 32 MB or more are mapped afresh from the system for each block,
#: and their page faults made the model-averaged curves of ``make run`` 5-7 times slower.)
_CHUNK_ELEMENTS = 1_000_000


def average_survival(
    sm: SurvivalModel, base: dict[str, np.ndarray], eta: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """Per draw, the mean over rows of ``S(t | eta)``, evaluated in blocks of draws.

    Elementwise the same operations as ``exp(-H)`` on all draws at once, so the result is
    the same to the bit; the blocks bound memory to :data:`_CHUNK_ELEMENTS` values.

    Parameters
    ----------
    sm : SurvivalModel
    base : dict of str to ndarray
        The family's baseline parameters, leading dims ``(chain, draw)``.
    eta : ndarray, shape (chain, draw, rows)
        Linear predictors (patients or profiles).
    times : ndarray, shape (T,)
        Times, months (> 0).

    Returns
    -------
    ndarray, shape (chain, draw, T)
    """
    family = model_family(sm.family)
    block = max(1, _CHUNK_ELEMENTS // max(1, eta.shape[0] * eta.shape[-1] * times.size))
    parts = []
    for start in range(0, eta.shape[1], block):
        draws = slice(start, start + block)
        part = {k: v[:, draws] for k, v in base.items()}
        hazard = family.cumulative_hazard(sm, part, eta[:, draws], times)
        np.negative(hazard, out=hazard)
        parts.append(np.exp(hazard, out=hazard).mean(axis=2))
    return np.concatenate(parts, axis=1)


def _survival(fit: Fit, eta: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Draws of ``S(t | eta)``, shape ``(chain, draw, rows, times)``: ``exp(-H)`` computed in
    place on the family's cumulative hazard (draws x rows x times values)."""
    base = _baseline_draws(fit.model, fit.idata["posterior"].dataset)
    surv = model_family(fit.model.family).cumulative_hazard(fit.model, base, eta, times)
    return np.exp(np.negative(surv, out=surv), out=surv)


# ---------------------------------------------------------------------- public functions
def survival_curves(
    fit: Fit, prof: pd.DataFrame, times_months: Sequence[float] | np.ndarray
) -> xr.DataArray:
    """Posterior draws of ``S(t | x)`` for covariate profiles.

    Parameters
    ----------
    fit : Fit
    prof : DataFrame
        Profiles (see :func:`profiles`).
    times_months : array
        Times (months, > 0).

    Returns
    -------
    DataArray
        Dims ``(chain, draw, profile, time_months)``.
    """
    post = fit.idata["posterior"].dataset
    times = np.asarray(times_months, dtype=float)
    return xr.DataArray(
        _survival(fit, _profile_eta(fit, prof), times),
        dims=("chain", "draw", "profile", "time_months"),
        coords={
            "chain": post["chain"].values,
            "draw": post["draw"].values,
            "profile": list(prof.index),
            "time_months": times,
        },
        name="survival",
    )


#: Quantiles of the posterior survival bands (:func:`survival_bands`): 95 % equal-tailed.
BAND_QUANTILES = (0.025, 0.975)


def survival_bands(
    fit: Fit, prof: pd.DataFrame, times_months: Sequence[float] | np.ndarray
) -> xr.DataArray:
    """Posterior median and 95 % equal-tailed band of ``S(t | x)`` for covariate profiles.

    The draws of one profile at a time are evaluated and summarised (chains x draws x times
    values), so that memory does not grow with the number of profiles; the summaries are
    numpy's median and (linear) quantiles of :func:`survival_curves`' draws.

    The parameters are :func:`survival_curves`'.

    Returns
    -------
    DataArray
        Dims ``(profile, time_months, band)``, ``band`` = ``lower`` (2.5 %), ``median``,
        ``upper`` (97.5 %).
    """
    times = np.asarray(times_months, dtype=float)
    eta = _profile_eta(fit, prof)
    rows = []
    for i in range(eta.shape[-1]):
        draws = _survival(fit, eta[..., i : i + 1], times).reshape(-1, times.size)
        lower, upper = np.quantile(draws, BAND_QUANTILES, axis=0)
        rows.append(np.stack([lower, np.median(draws, axis=0), upper], axis=-1))
    return xr.DataArray(
        np.stack(rows),
        dims=("profile", "time_months", "band"),
        coords={
            "profile": list(prof.index),
            "time_months": times,
            "band": ["lower", "median", "upper"],
        },
        name="survival",
    )


def median_survival(fit: Fit, prof: pd.DataFrame) -> xr.DataArray:
    """Posterior draws of the median survival time (months) for each profile, dims
    ``(chain, draw, profile)``."""
    post = fit.idata["posterior"].dataset
    base = _baseline_draws(fit.model, post)
    med = model_family(fit.model.family).median(fit.model, base, _profile_eta(fit, prof))
    return xr.DataArray(
        med,
        dims=("chain", "draw", "profile"),
        coords={
            "chain": post["chain"].values,
            "draw": post["draw"].values,
            "profile": list(prof.index),
        },
        name="median_survival_months",
    )


def rmst_draws(fit: Fit, prof: pd.DataFrame, tau_months: float) -> xr.DataArray:
    """Posterior draws of the restricted mean survival time up to ``tau_months`` for each
    profile (months; the family's closed form, :attr:`SurvivalFamily.rmst`), dims
    ``(chain, draw, profile)``."""
    post = fit.idata["posterior"].dataset
    base = _baseline_draws(fit.model, post)
    family = model_family(fit.model.family)
    rmst = family.rmst(fit.model, base, _profile_eta(fit, prof), float(tau_months))
    return xr.DataArray(
        rmst,
        dims=("chain", "draw", "profile"),
        coords={
            "chain": post["chain"].values,
            "draw": post["draw"].values,
            "profile": list(prof.index),
        },
        name="rmst_months",
    )


def survival_summary(
    fit: Fit,
    prof: pd.DataFrame,
    times_months: Sequence[float] = DEFAULT_TIMES_MONTHS,
    prob: float = 0.95,
    last_follow_up_months: float = np.inf,
) -> pd.DataFrame:
    """Posterior median and equal-tailed interval of the median survival and of
    ``S(t)`` at ``times_months`` for each profile.

    Parameters
    ----------
    fit : Fit
    prof : DataFrame
        Profiles (see :func:`profiles`).
    times_months : sequence of float
        Horizons (months).
    prob : float
        Interval probability.
    last_follow_up_months : float
        Longest follow-up of the data (months): an ``S(t)`` with ``t`` beyond it, or a median
        whose posterior median lies beyond it, comes from the model's tail alone and is
        marked ``extrapolated``.

    Returns
    -------
    DataFrame
        Columns ``profile``, ``quantity`` (``median_survival_months`` or ``S(12)`` ...),
        ``posterior_median``, ``eti_lower``, ``eti_upper``, ``extrapolated``, ``prob``,
        ``n_used``.
    """
    curves = survival_curves(fit, prof, times_months)
    med = median_survival(fit, prof)
    rows = []
    for p in prof.index:
        median = med.sel(profile=p)
        items = [("median_survival_months", median, float(median.median()))]
        items += [(f"S({t:g})", curves.sel(profile=p, time_months=t), t) for t in times_months]
        for label, da, when_months in items:
            eti = az.eti(da, prob=prob).values
            rows.append(
                {
                    "profile": p,
                    "quantity": label,
                    "posterior_median": float(da.median()),
                    "eti_lower": float(eti[0]),
                    "eti_upper": float(eti[1]),
                    "extrapolated": bool(when_months > last_follow_up_months),
                    "prob": prob,
                    "n_used": fit.n_used,
                }
            )
    return pd.DataFrame(rows)


def log_hazard_ratio_draws(fit: Fit) -> xr.DataArray:
    """Posterior draws of the log hazard ratios, per natural unit of each covariate (of the
    log time ratios for an accelerated-failure-time family: its registry ``coefficient``).

    Continuous covariates standardised in the design are converted with the recorded scale
    (``log HR = beta / scale``).

    Returns
    -------
    DataArray
        Dims ``(chain, draw, covariate)``.
    """
    beta = fit.idata["posterior"][model_family(fit.model.family).coefficient]
    factor = xr.DataArray(
        np.asarray(fit.model.per_natural_unit),
        dims="covariate",
        coords={"covariate": beta["covariate"].values},
    )
    return beta * factor


def hazard_ratio_summary(fit: Fit, prob: float = 0.95) -> pd.DataFrame:
    """Posterior hazard ratios per covariate, per natural unit (time ratios, in the same
    columns, for an accelerated-failure-time family: its registry ``effect``).

    For each design column: posterior median HR, ``prob`` equal-tailed and HDI intervals
    (both asked of ArviZ with ``prob`` explicitly; ArviZ's default is 89 %), and
    ``P(HR < 1)``. The HDI is that of the log-HR, exponentiated: an HDI is not invariant
    under transformation, and the HR-scale HDI would be shifted towards 0 (the equal-tailed
    interval is the same on either scale). Continuous covariates standardised in the design
    are converted to one natural unit with the recorded scale (``HR = exp(beta / scale)``).

    Parameters
    ----------
    fit : Fit
    prob : float
        Interval probability (default 0.95).

    Returns
    -------
    DataFrame
        Indexed by covariate: ``hr_median``, ``eti_lower``, ``eti_upper``, ``hdi_lower``,
        ``hdi_upper`` (HR scale, from the log-HR's HDI), ``p_hr_below_1``, ``log_hr_mean``,
        ``log_hr_sd`` (per natural unit),
        ``design_scale`` (natural units per design unit), ``n_draws`` (the draws behind
        ``p_hr_below_1``), ``n_used``, ``n_events``.
    """
    sm = fit.model
    log_hr = log_hazard_ratio_draws(fit)
    hr = np.exp(log_hr)
    eti = az.eti(hr, prob=prob)
    hdi = np.exp(az.hdi(log_hr, prob=prob))  # on the log scale, see the docstring
    out = pd.DataFrame(
        {
            "hr_median": hr.median(("chain", "draw")).to_series(),
            "eti_lower": eti.sel(ci_bound="lower").to_series(),
            "eti_upper": eti.sel(ci_bound="upper").to_series(),
            "hdi_lower": hdi.sel(ci_bound="lower").to_series(),
            "hdi_upper": hdi.sel(ci_bound="upper").to_series(),
            "p_hr_below_1": (log_hr < 0).mean(("chain", "draw")).to_series(),
            "log_hr_mean": log_hr.mean(("chain", "draw")).to_series(),
            "log_hr_sd": log_hr.std(("chain", "draw")).to_series(),
        }
    )
    out["design_scale"] = 1.0 / np.asarray(sm.per_natural_unit)
    out["n_draws"] = log_hr.sizes["chain"] * log_hr.sizes["draw"]
    out["prob"] = prob
    out["n_used"] = sm.n_used
    out["n_events"] = sm.n_events
    out.index.name = "covariate"
    return out


def patient_eta(sm: SurvivalModel, post: xr.Dataset, rng: np.random.Generator) -> np.ndarray:
    """Linear predictor per (chain, draw, patient); a marginalised covariate is drawn from
    its model ``P(Z | x)`` where missing."""
    beta = beta_draws(sm, post)
    X = np.asarray(sm.data.get("X", np.zeros((sm.n_used, 0))))
    p = X.shape[1]
    eta = beta[..., :p] @ X.T
    if sm.missing is None:
        return eta
    md = sm.missing
    codes = md.codes
    n_levels = len(md.levels)
    logits = np.zeros((*eta.shape, n_levels))
    a = post["level_intercept"].transpose("chain", "draw", "level_contrast").values
    logits[..., 1:] += a[..., None, :]
    if md.depends_on:
        b = (
            post["level_coef"]
            .transpose("chain", "draw", "level_predictor", "level_contrast")
            .values
        )
        logits[..., 1:] += np.einsum("np,cdpl->cdnl", sm.data["level_X"], b)
    prob = np.exp(logits - logits.max(-1, keepdims=True))
    prob /= prob.sum(-1, keepdims=True)
    u = rng.uniform(size=eta.shape)[..., None]
    drawn = (u > np.cumsum(prob, axis=-1)).sum(-1)
    level = np.where(codes[None, None, :] >= 0, codes[None, None, :], drawn)
    shift = np.concatenate([np.zeros((*beta.shape[:2], 1)), beta[..., p:]], axis=-1)
    return eta + np.take_along_axis(shift, level, axis=-1)


def predict_times(sm: SurvivalModel, post: xr.Dataset, rng: np.random.Generator) -> np.ndarray:
    """Event times (months) for every patient of ``sm``, one per (chain, draw) of ``post``.

    Parameters
    ----------
    sm : SurvivalModel
    post : xarray.Dataset
        Posterior or prior draws (dims ``chain``, ``draw``).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray
        Shape ``(chain, draw, patient)``; a marginalised covariate is drawn where missing.
    """
    if sm.delayed_entry:
        raise DesignError(
            "event times drawn from time 0 are not defined for a model with entry times "
            "(delayed entry or (start, stop] episodes)"
        )
    eta = patient_eta(sm, post, rng)
    base = _baseline_draws(sm, post)
    return model_family(sm.family).sample_times(rng, sm, base, eta)


def _ppc_tree(
    sm: SurvivalModel, group: str, times: np.ndarray, chains: np.ndarray, draws: np.ndarray
) -> xr.DataTree:
    patient = np.arange(sm.n_used)
    pp = xr.Dataset(
        {
            OBSERVED: xr.DataArray(
                times,
                dims=("chain", "draw", "patient"),
                coords={"chain": chains, "draw": draws, "patient": patient},
            )
        }
    )
    obs = xr.Dataset(
        {OBSERVED: ("patient", np.asarray(sm.data["time_months"]))}, coords={"patient": patient}
    )
    status = xr.Dataset(
        {OBSERVED: ("patient", np.asarray(sm.data["event"]))}, coords={"patient": patient}
    )
    return xr.DataTree.from_dict({group: pp, "observed_data": obs, "constant_data": status})


def posterior_predictive(fit: Fit, seed: int | np.random.Generator) -> xr.DataTree:
    """Posterior predictive event times for every patient, one replicate per draw.

    The result has the form ``arviz.plot_ppc_censored`` expects: group
    ``posterior_predictive`` with variable ``time`` (predicted, *uncensored* event times,
    months), ``observed_data.time`` (observed times) and ``constant_data.time`` (the event status
    of each observed time: 1 = death, 0 = censored). Compare them with the data only once
    censored as the data are (:func:`bayes_bcsm.inference.ppc.censored_ppc`): that arviz plot
    truncates uncensored times at a multiple of the largest observed time, which makes a good
    fit to heavily censored data look like a misfit.

    Parameters
    ----------
    fit : Fit
    seed : int or numpy.random.Generator

    Returns
    -------
    xarray.DataTree
    """
    rng = np.random.default_rng(seed)
    post = fit.idata["posterior"].dataset
    times = predict_times(fit.model, post, rng)
    return _ppc_tree(
        fit.model, "posterior_predictive", times, post["chain"].values, post["draw"].values
    )


def prior_predictive(sm: SurvivalModel, draws: int, seed: int) -> xr.DataTree:
    """Prior predictive event times (same layout as :func:`posterior_predictive`, group
    ``prior_predictive``) plus the prior draws of the parameters in group ``prior``.

    Parameters
    ----------
    sm : SurvivalModel
    draws : int
        Number of prior draws.
    seed : int

    Returns
    -------
    xarray.DataTree
    """
    names = [v.name for v in sm.model.free_RVs + sm.model.deterministics]
    with sm.model:
        prior = pm.sample_prior_predictive(draws=draws, var_names=names, random_seed=seed)
    prior_ds = prior["prior"].dataset
    rng = np.random.default_rng(seed)
    times = predict_times(sm, prior_ds, rng)
    tree = _ppc_tree(
        sm, "prior_predictive", times, prior_ds["chain"].values, prior_ds["draw"].values
    )
    tree["prior"] = xr.DataTree(prior_ds)
    return tree
