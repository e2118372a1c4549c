"""What a patient with a given covariate profile can expect, from the posterior draws.

For each profile: the posterior survival curve with 50 % and 95 % bands, S(t) at horizons, the
median survival time (or "not reached", with P(T > last follow-up)) and the restricted mean
survival time RMST(tau). Numpy on saved draws (the family's closed forms).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayes_bcsm.inference.predictive import median_survival, rmst_draws, survival_curves
from bayes_bcsm.inference.sample import Fit

__all__ = ["BANDS", "profile_curves", "profile_predictions"]

#: Quantiles of the bands: 95 % and 50 % equal-tailed, and the median.
BANDS = {"lower": 0.025, "lower_50": 0.25, "estimate": 0.5, "upper_50": 0.75, "upper": 0.975}


def _summary(draws: np.ndarray) -> dict[str, float]:
    """Posterior median and 50 % / 95 % equal-tailed bounds of draws (any shape, all pooled)."""
    values = np.quantile(np.ravel(draws), list(BANDS.values()))
    return dict(zip(BANDS, map(float, values), strict=True))


def profile_predictions(
    fit: Fit,
    prof: pd.DataFrame,
    horizons_months: Sequence[float],
    tau_months: float,
    last_follow_up_months: float,
) -> pd.DataFrame:
    """Per profile: S(t) at the horizons, the median survival, P(T > last follow-up), RMST(tau).

    Parameters
    ----------
    fit : Fit
    prof : pandas.DataFrame
        Profiles on the design scale (index ``profile``; :func:`bayes_bcsm.data.profiles.
        design_profiles`).
    horizons_months : sequence of float
        Times of the survival rows (months).
    tau_months : float
        RMST truncation time (months).
    last_follow_up_months : float
        Longest follow-up of the fitted data (months).

    Returns
    -------
    pandas.DataFrame
        Columns ``profile``, ``quantity`` (``survival_<t>``, ``median_months``,
        ``p_alive_at_last_follow_up``, ``rmst``), ``time_months``, ``estimate`` (posterior
        median; for the median survival NaN when not reached), ``lower``/``upper`` (95 %),
        ``lower_50``/``upper_50``, ``extrapolated`` (the time lies beyond the last follow-up),
        ``note``. The median counts as *not reached* when its posterior median lies beyond the
        last follow-up; ``p_alive_at_last_follow_up`` is the posterior mean of S(last follow-up)
        (the predictive probability of surviving the whole follow-up) with its bands.
    """
    last = float(last_follow_up_months)
    horizons = [float(t) for t in horizons_months]
    surv = survival_curves(fit, prof, [*horizons, last])
    median = median_survival(fit, prof)
    rmst = rmst_draws(fit, prof, tau_months)
    rows = []
    for p in prof.index:
        s = surv.sel(profile=p)
        for t in horizons:
            rows.append(
                {
                    "profile": p,
                    "quantity": f"survival_{t:g}",
                    "time_months": t,
                    **_summary(s.sel(time_months=t).values),
                    "extrapolated": t > last,
                    "note": "",
                }
            )
        med = _summary(median.sel(profile=p).values)
        reached = med["estimate"] <= last
        rows.append(
            {
                "profile": p,
                "quantity": "median_months",
                "time_months": med["estimate"],
                **(med if reached else {**med, "estimate": np.nan}),
                "extrapolated": False,
                "note": "" if reached else f"not reached within {last:.3g} months",
            }
        )
        alive = s.sel(time_months=last).values
        rows.append(
            {
                "profile": p,
                "quantity": "p_alive_at_last_follow_up",
                "time_months": last,
                **_summary(alive),
                "extrapolated": False,
                "note": f"posterior mean {float(alive.mean()):.3f}",
            }
        )
        rows.append(
            {
                "profile": p,
                "quantity": "rmst",
                "time_months": float(tau_months),
                **_summary(rmst.sel(profile=p).values),
                "extrapolated": tau_months > last,
                "note": "",
            }
        )
    return pd.DataFrame(rows)


def profile_curves(fit: Fit, prof: pd.DataFrame, times_months: np.ndarray) -> pd.DataFrame:
    """Each profile's posterior survival curve: median and 50 % / 95 % bands on a time grid.

    Returns
    -------
    pandas.DataFrame
        Columns ``profile``, ``time_months``, ``estimate``, ``lower``, ``upper``, ``lower_50``,
        ``upper_50``.
    """
    curves = survival_curves(fit, prof, times_months)
    q = np.quantile(curves.values, list(BANDS.values()), axis=(0, 1))  # (5, profile, time)
    frames = [
        pd.DataFrame(
            {
                "profile": p,
                "time_months": curves["time_months"].values,
                **{name: q[k, i] for k, name in enumerate(BANDS)},
            }
        )
        for i, p in enumerate(curves["profile"].values)
    ]
    return pd.concat(frames, ignore_index=True)
