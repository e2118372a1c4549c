"""Survival of a reconstructed cohort: PH event times, staggered accrual, event-driven close.

Event times follow a proportional-hazards model whose baseline cumulative hazard is piecewise
linear through knots (:attr:`GeneratorParams.baseline_knots_months`) with a linear tail, and
whose log hazard ratios act on the 0/1 indicators of :func:`linear_predictor_columns`.
Patients enter over July 2010 - December 2021 (Beta-distributed dates); the study closes when
the target fraction of deaths has been observed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayes_bcsm.study import bundled_targets

if TYPE_CHECKING:
    from bayes_bcsm.reconstruct.generator import GeneratorParams

__all__ = [
    "ACCRUAL_MONTHS",
    "baseline_cumhaz",
    "close_study",
    "inverse_baseline_cumhaz",
    "linear_predictor",
    "linear_predictor_columns",
    "simulate_survival",
    "solve_baseline",
    "survival_from_draws",
]

#: Length of accrual (months), from the first to the last month of surgery in the targets
#: (July 2010 -> December 2021).
ACCRUAL_MONTHS: float = bundled_targets().accrual_months


def linear_predictor_columns(cov: pd.DataFrame) -> pd.DataFrame:
    """The 0/1 indicators the true effects act on (one column per key of ``TRUE_EFFECTS``).

    Computed from the generator's own columns, latent ones included (``_hr_latent_positive``:
    the receptor status of untested patients too), so they are not the cohort's observed
    indicators. The names of those with an observable counterpart are the ``indicator`` of the
    study's records (:data:`bayes_bcsm.study.GENERATOR_FACTORS`, the Table 3 rows among them);
    ``tests/study/test_factors.py`` checks that every record names a column here.
    """
    surg = cov["surgery_type"].astype(str)
    return pd.DataFrame(
        {
            "preop_neuro_abc": cov["asia_pre"].isin(["A", "B", "C"]).astype(int),
            "postop_neuro_abc": cov["asia_post"].isin(["A", "B", "C"]).astype(int),
            "hormone_therapy": cov["hormone_therapy"].astype(int),
            "hormone_receptor_positive": cov["_hr_latent_positive"].astype(int),
            "visceral_metastasis": cov["visceral_metastasis"].astype(int),
            "solitary_spinal_lesion": cov["solitary_spinal_lesion"].astype(int),
            "radiotherapy": cov["radiotherapy"].astype(int),
            "chemo_or_targeted": cov["chemo_or_targeted"].astype(int),
            "age_over_50": (cov["age_years"].astype(float) > 50).astype(int),
            "breast_surgery_history": cov["breast_surgery_history"].astype(int),
            "low_invasive_pathology": cov["pathology"]
            .isin(["papillary", "mucinous", "other"])
            .astype(int),
            "palliative_surgery": surg.isin(["palliative_decompression", "vertebroplasty"]).astype(
                int
            ),
            "tes": (surg == "tes").astype(int),
            "kps_post_lt70": (cov["kps_post"].astype(float) < 70).astype(int),
            "her2_positive": (cov["her2"] == "positive").astype(int),
            "ki67_high": (cov["ki67"] == ">40").astype(int),
        },
        index=cov.index,
    )


def linear_predictor(cov: pd.DataFrame, effects: Mapping[str, float]) -> np.ndarray:
    """``eta_i = sum_k beta_k x_ik`` (log relative hazard of each patient)."""
    x = linear_predictor_columns(cov)
    beta = np.array([effects.get(k, 0.0) for k in x.columns])
    return x.to_numpy(dtype=float) @ beta


def baseline_cumhaz(t: np.ndarray, params: GeneratorParams) -> np.ndarray:
    """Baseline cumulative hazard at ``t`` (months): piecewise linear, linear tail."""
    knots = np.concatenate([[0.0], params.baseline_knots_months])
    cum = np.concatenate([[0.0], params.baseline_cumhaz])
    t = np.asarray(t, dtype=float)
    inside = np.interp(t, knots, cum)
    return np.where(t > knots[-1], cum[-1] + params.tail_hazard_per_month * (t - knots[-1]), inside)


def inverse_baseline_cumhaz(h: np.ndarray, params: GeneratorParams) -> np.ndarray:
    """Inverse of :func:`baseline_cumhaz` (months at which the cumulative hazard reaches ``h``)."""
    knots = np.concatenate([[0.0], params.baseline_knots_months])
    cum = np.concatenate([[0.0], params.baseline_cumhaz])
    h = np.asarray(h, dtype=float)
    inside = np.interp(h, cum, knots)
    tail = knots[-1] + (h - cum[-1]) / max(params.tail_hazard_per_month, 1e-12)
    return np.where(h > cum[-1], tail, inside)


def solve_baseline(
    eta: np.ndarray, knots_months: Sequence[float], survival: Sequence[float]
) -> tuple[float, ...]:
    """Baseline cumulative hazards at the knots so that mean_i S_i(t_k) equals ``survival[k]``.

    Solves ``mean_i exp(-H0(t_k) exp(eta_i)) = S_k`` by bisection on ``log H0`` for each knot
    (the left side is monotone in ``H0``), so the population-averaged survival of the
    covariate mix ``eta`` passes through the published Kaplan-Meier points.
    """
    w = np.exp(np.asarray(eta, dtype=float))
    target = np.asarray(survival, dtype=float)
    lo = np.full(target.shape, -15.0)
    hi = np.full(target.shape, 5.0)
    for _ in range(48):  # bisection on log H0, all knots at once (precision 20 / 2^48)
        mid = 0.5 * (lo + hi)
        above = np.mean(np.exp(-np.exp(mid)[:, None] * w[None, :]), axis=1) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    out = [float(v) for v in np.exp(0.5 * (lo + hi))]
    return tuple(np.maximum.accumulate(out))


def simulate_survival(
    cov: pd.DataFrame, rng: np.random.Generator, params: GeneratorParams
) -> tuple[np.ndarray, np.ndarray, float]:
    """Event times, censoring and status for the patients in ``cov``.

    Returns
    -------
    time_months : ndarray
        Observed time (months, rounded to 0.01, >= 0.01).
    event : ndarray of int
        1 = died before the close of the study.
    close_months : float
        Study close, months after July 2010.
    """
    n = len(cov)
    eta = linear_predictor(cov, params.effects)
    unit_exp = rng.exponential(size=n)
    # accrual dates: Beta(a, b) over July 2010 - December 2021
    a, b = params.accrual_beta
    entry = rng.beta(a, b, size=n) * ACCRUAL_MONTHS
    return survival_from_draws(eta, unit_exp, entry, params)


def survival_from_draws(
    eta: np.ndarray, unit_exp: np.ndarray, entry_months: np.ndarray, params: GeneratorParams
) -> tuple[np.ndarray, np.ndarray, float]:
    """Observed times and events from the random draws of :func:`simulate_survival`.

    A pure function (no randomness), so the calibration can re-use one seed's draws for many
    parameter sets and get exactly what :func:`simulate_cohort` would produce.

    Parameters
    ----------
    eta : ndarray
        Log relative hazards (:func:`linear_predictor`).
    unit_exp : ndarray
        Unit exponential draws; the event time solves ``H0(t) exp(eta) = unit_exp``.
    entry_months : ndarray
        Surgery dates, months after July 2010.
    params : GeneratorParams

    Returns
    -------
    time_months, event, close_months
        As :func:`simulate_survival`.
    """
    t_event = inverse_baseline_cumhaz(unit_exp * np.exp(-eta), params)
    return close_study(t_event, entry_months, params)


def close_study(
    t_event: np.ndarray, entry_months: np.ndarray, params: GeneratorParams
) -> tuple[np.ndarray, np.ndarray, float]:
    """Observed times and events from latent event times, staggered entry and the study's close.

    The study closes when ``params.event_fraction`` of the patients have died (event-driven
    close, at least ``params.min_followup_months`` after the last entry), or
    ``params.close_months_after_accrual`` after accrual ends; a patient alive at the close is
    censored then.

    Parameters
    ----------
    t_event : ndarray
        Latent event time of each patient, months after her surgery.
    entry_months : ndarray
        Surgery dates, months after July 2010.
    params : GeneratorParams

    Returns
    -------
    time_months, event, close_months
        As :func:`simulate_survival`.
    """
    n = len(t_event)
    entry = entry_months
    earliest_close = entry.max() + params.min_followup_months
    if params.event_fraction is None:
        close = ACCRUAL_MONTHS + params.close_months_after_accrual
    else:
        k = int(np.floor(params.event_fraction * n + 0.5))
        death_dates = np.sort(entry + t_event)
        if k <= 0:
            close = death_dates[0] - 1e-3
        elif k >= n:
            close = death_dates[-1] + 1.0
        else:
            close = 0.5 * (death_dates[k - 1] + death_dates[k])
        close = max(close, earliest_close)
    censor = close - entry
    event = (t_event <= censor).astype(int)
    time = np.where(event == 1, t_event, censor)
    time = np.maximum(np.round(time, 2), 0.01)
    return time, event, float(close)
