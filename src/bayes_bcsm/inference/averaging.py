"""Model averaging by stacking: the weighted mixture of several families' posterior draws.

Stacking (Yao, Vehtari, Simpson & Gelman 2018) chooses weights ``w_k`` (summing to 1) that
maximise the leave-one-out log score of the mixture ``sum_k w_k p_k(y_i | y_-i)``; the
averaged posterior of any quantity is then the mixture ``sum_k w_k p_k(theta | y)``. Here a
mixture of ``N`` draws takes ``n_k`` draws from family ``k``, with ``n_k / N`` the weights
rounded by the largest-remainder rule (:func:`mixture_counts`) and the draws of each family
evenly spaced through its own (chain, draw) sequence, so the mixture is deterministic and can be
written down by hand. Its mean is the exact weighted mean up to that rounding; the exact
weighted posterior mean is :func:`weighted_mean`.

Survival curves are averaged over the patients of the data (standardised, or marginal,
survival ``(1/n) sum_i S(t | x_i)``), the curve a Kaplan-Meier estimate of the same patients
estimates, so each family's curve and the average can be drawn over the KM.

References
----------
Yao, Y., Vehtari, A., Simpson, D. and Gelman, A. (2018). Using stacking to average Bayesian
predictive distributions. *Bayesian Analysis* 13:917-1007.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from bayes_bcsm.inference.absolute import Standardised
from bayes_bcsm.inference.predictive import average_survival, beta_draws, profiles
from bayes_bcsm.inference.sample import Fit
from bayes_bcsm.models.families import model_family

__all__ = [
    "curve_table",
    "marginal_survival",
    "mixture_counts",
    "stacked_mixture",
    "stacked_standardised",
    "weighted_mean",
]


def mixture_counts(weights: Mapping[str, float], total: int) -> dict[str, int]:
    """Draws per model in a mixture of ``total`` draws: ``total * w_k`` rounded down, the
    draws left over given to the largest remainders (ties: the order of ``weights``).

    Parameters
    ----------
    weights : mapping of str to float
        Non-negative weights summing to 1 (to within 1e-6).
    total : int
        Draws in the mixture (> 0).

    Returns
    -------
    dict of str to int
        Summing to ``total``.
    """
    w = np.asarray(list(weights.values()), dtype=float)
    if np.any(w < 0) or abs(w.sum() - 1.0) > 1e-6 or total < 1:
        raise ValueError(f"weights must be >= 0 and sum to 1, total >= 1; got {dict(weights)}")
    exact = w / w.sum() * total
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return dict(zip(weights, (int(c) for c in counts), strict=True))


def stacked_mixture(
    draws: Mapping[str, xr.DataArray], weights: Mapping[str, float], total: int | None = None
) -> xr.DataArray:
    """The weighted mixture of several models' posterior draws of one quantity.

    Parameters
    ----------
    draws : mapping of str to DataArray
        Per model, draws with dims ``chain``, ``draw`` and the quantity's own (the same for
        every model, e.g. ``time_months``).
    weights : mapping of str to float
        Weight of each model (keys of ``draws``; zero weights allowed).
    total : int, optional
        Draws in the mixture (default: the fewest draws any model has).

    Returns
    -------
    DataArray
        Dims ``sample`` and the quantity's own; coordinate ``model`` on ``sample`` names the
        model of each draw. Model ``k`` gives ``n_k`` (:func:`mixture_counts`) of its
        ``chain x draw`` draws, at positions ``floor((j + 1/2) M / n_k)``, ``j < n_k``, of its
        flattened (chain-major) sequence of ``M`` draws.
    """
    stacked = {
        k: v.stack(sample=("chain", "draw")).transpose("sample", ...) for k, v in draws.items()
    }
    total = total or min(v.sizes["sample"] for v in stacked.values())
    counts = mixture_counts({k: weights[k] for k in draws}, total)
    parts = []
    for model, n in counts.items():
        if n == 0:
            continue
        m = stacked[model].sizes["sample"]
        positions = np.floor((np.arange(n) + 0.5) * m / n).astype(int)
        part = stacked[model].isel(sample=positions).drop_vars(["sample", "chain", "draw"])
        parts.append(part.assign_coords(model=("sample", [model] * n)))
    return xr.concat(parts, dim="sample")


def stacked_standardised(
    standardised: Mapping[str, Standardised], weights: Mapping[str, float]
) -> Standardised:
    """The stacking-weighted mixture of several models' standardised survival and RMST.

    Each mixture draw is one posterior draw of one model, taken whole: its curves and RMST of
    every level together (the same positions of :func:`stacked_mixture` for both), so
    differences and ratios between levels are computed within a draw, as for one model.

    Parameters
    ----------
    standardised : mapping of str to Standardised
        Per model, the standardisation of the same exposure, truncation time and time grid.
    weights : mapping of str to float
        Stacking weight of each model (keys of ``standardised``; summing to 1).

    Returns
    -------
    Standardised
        With one chain whose draws are the mixture's (dims ``chain``, ``draw``).

    Raises
    ------
    ValueError
        When the models' exposures, truncation times or time grids differ.
    """
    first = next(iter(standardised.values()))
    for std in standardised.values():
        same_grid = np.array_equal(std.curves["time_months"], first.curves["time_months"])
        if std.exposure != first.exposure or std.tau_months != first.tau_months or not same_grid:
            raise ValueError("stacked_standardised needs one exposure, tau and time grid")

    def mixture(name: str) -> xr.DataArray:
        draws = {k: getattr(std, name) for k, std in standardised.items()}
        mixed = stacked_mixture(draws, weights).drop_vars("model")
        return mixed.rename(sample="draw").expand_dims(chain=[0]).transpose("chain", "draw", ...)

    return dataclasses.replace(first, curves=mixture("curves"), rmst=mixture("rmst"))


def weighted_mean(draws: Mapping[str, xr.DataArray], weights: Mapping[str, float]) -> xr.DataArray:
    """The exact posterior mean of the mixture: ``sum_k w_k E_k[quantity]`` (draws as in
    :func:`stacked_mixture`)."""
    return sum(weights[k] * v.mean(("chain", "draw")) for k, v in draws.items())


def marginal_survival(
    fit: Fit, times_months: Sequence[float] | np.ndarray, max_draws: int = 1000
) -> xr.DataArray:
    """Posterior draws of the standardised survival ``(1/n) sum_i S(t | x_i)`` over the
    model's patients (a marginalised covariate at its reference level).

    Parameters
    ----------
    fit : Fit
    times_months : array
        Times, months (> 0; may lie beyond follow-up: the model's tail).
    max_draws : int
        At most this many draws per chain, evenly spaced (bounds memory: draws x patients x
        times).

    Returns
    -------
    DataArray
        Dims ``(chain, draw, time_months)``.
    """
    sm = fit.model
    x = np.asarray(sm.data.get("X", np.zeros((sm.n_used, 0))), dtype=float)
    observed = list(sm.columns[: x.shape[1]])
    rows = {f"patient {i}": dict(zip(observed, row, strict=True)) for i, row in enumerate(x)} or {
        "reference": {}
    }
    draws = fit.idata["posterior"].sizes["draw"]
    keep = np.unique(np.linspace(0, draws - 1, min(max_draws, draws)).astype(int))
    post = fit.idata["posterior"].dataset.isel(draw=keep)
    times = np.asarray(times_months, dtype=float)
    eta = beta_draws(sm, post) @ profiles(sm, rows)[list(sm.columns)].to_numpy(dtype=float).T
    base = model_family(sm.family).baseline(post)
    return xr.DataArray(
        average_survival(sm, base, eta, times),
        dims=("chain", "draw", "time_months"),
        coords={"chain": post["chain"].values, "draw": post["draw"].values, "time_months": times},
        name="survival",
    )


def curve_table(
    per_model: Mapping[str, xr.DataArray],
    weights: Mapping[str, float],
    last_follow_up_months: float,
    prob: float,
) -> pd.DataFrame:
    """Long table of each model's and the stacked average's survival curve.

    Columns ``model`` (the models and ``"stacked average"``), ``weight``, ``time_months``,
    ``mean`` (posterior mean; for the average the exact weighted mean), ``lower``, ``upper``
    (equal-tailed ``prob`` interval; the average's from :func:`stacked_mixture`) and
    ``extrapolated`` (time beyond the last follow-up).
    """
    frames = []
    tail = (1 - prob) / 2
    mixture = stacked_mixture(per_model, weights)
    summaries = {
        **{
            k: (v.mean(("chain", "draw")), v.quantile([tail, 1 - tail], ("chain", "draw")))
            for k, v in per_model.items()
        },
        "stacked average": (
            weighted_mean(per_model, weights),
            mixture.quantile([tail, 1 - tail], "sample"),
        ),
    }
    for model, (mean, bounds) in summaries.items():
        times = mean["time_months"].values
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "weight": weights.get(model, 1.0),
                    "time_months": times,
                    "mean": mean.values,
                    "lower": bounds.isel(quantile=0).values,
                    "upper": bounds.isel(quantile=1).values,
                    "extrapolated": times > last_follow_up_months,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
