"""A post-operative exposure that starts after time zero: start delays and a time-dependent HR.

The paper's endocrine therapy is given *after* the spinal operation, while survival is counted
from the operation. This module draws cohorts in which the therapy starts a random delay after
surgery and lowers the hazard only from its start (a true time-dependent hazard ratio), so that
the same cohort can be analysed three ways:

- **naively**, as the paper did: "ever treated" (started before the end of follow-up) as a
  baseline covariate, time from surgery — a patient who dies before her start counts as
  untreated, so the treated group is credited with the time before the start ("immortal time");
- **time-dependently**: (start, stop] episodes with the therapy switched on at its start
  (:func:`bayes_bcsm.data.episodes.build_episodes`);
- **by landmark** (:func:`bayes_bcsm.data.landmark.landmark_frame`).

The covariates, their exact Table 1 counts and the calibrated baseline hazard are those of
:func:`bayes_bcsm.reconstruct.simulate_cohort`; the generator's endocrine-therapy indicator
marks the patients *intended* for therapy (Table 1's count). Of those, a share ``share`` would
start it, after a Gamma-distributed delay with median ``median_months``; the others never do.

How an event time is drawn: with ``eta`` the log relative hazard of the other covariates,
``s`` the start, ``b`` the therapy's log HR and ``H0`` the baseline cumulative hazard, the
patient's cumulative hazard is ``exp(eta) [H0(min(t, s)) + exp(b) (H0(t) - H0(s))+]``; the
event time solves ``H(T) = E`` with ``E ~ Exp(1)`` (inversion, Bender, Augustin & Blettner
2005; the time-dependent case: Austin 2012).

References
----------
Suissa S (2008). Immortal time bias in pharmaco-epidemiology. Am J Epidemiol 167:492-499.
Austin PC (2012). Generating survival times to simulate Cox proportional hazards models with
time-varying covariates. Stat Med 31:3946-3958.
Bender R, Augustin T, Blettner M (2005). Generating survival times to simulate Cox
proportional hazards models. Stat Med 24:1713-1723.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayes_bcsm.data.contract import REQUIRED_COLUMNS
from bayes_bcsm.data.io import validate_cohort
from bayes_bcsm.errors import SettingError
from bayes_bcsm.reconstruct.covariates import simulate_covariates
from bayes_bcsm.reconstruct.generator import CALIBRATED_PARAMS, GeneratorParams
from bayes_bcsm.reconstruct.survival import (
    ACCRUAL_MONTHS,
    baseline_cumhaz,
    close_study,
    inverse_baseline_cumhaz,
    linear_predictor,
)

__all__ = [
    "EXPOSURE",
    "START_COLUMN",
    "DelayDraws",
    "StartDelay",
    "cohort_from_draws",
    "delayed_event_times",
    "draw_delay_inputs",
    "simulate_delayed_cohort",
    "start_times",
]

#: The post-operative exposure whose start is delayed (a generator indicator and cohort column).
EXPOSURE = "hormone_therapy"
#: Cohort column of the observed start (months after surgery; empty = not started during
#: follow-up).
START_COLUMN = "hormone_therapy_start_months"


@dataclass(frozen=True)
class StartDelay:
    """When the intended patients would start the exposure.

    Attributes
    ----------
    median_months : float
        Median delay from surgery to the start, months (> 0).
    shape : float
        Shape of the Gamma distribution of the delay (> 0; 1 = exponential, larger = less
        spread around the median).
    share : float
        Share of the intended patients who would start it at all (0 to 1); the others never
        do.

    Raises
    ------
    SettingError
        For a value outside its range (naming the field).
    """

    median_months: float
    shape: float = 2.0
    share: float = 1.0

    def __post_init__(self) -> None:
        for name in ("median_months", "shape"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise SettingError("expected a finite number > 0", (name,), (value,))
        if not (np.isfinite(self.share) and 0 <= self.share <= 1):
            raise SettingError("expected a share between 0 and 1", ("share",), (self.share,))

    @property
    def scale_months(self) -> float:
        """Scale of the Gamma distribution (months): median / the unit-scale Gamma's median."""
        return self.median_months / float(stats.gamma.median(self.shape))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Delays (months) at probabilities ``u`` (inversion, so one uniform per patient gives
        coupled delays across settings)."""
        return stats.gamma.ppf(u, self.shape, scale=self.scale_months)


def start_times(
    intended: np.ndarray, u_start: np.ndarray, u_delay: np.ndarray, delay: StartDelay
) -> np.ndarray:
    """Start time of each patient (months after surgery; NaN = would never start).

    Parameters
    ----------
    intended : ndarray of bool
        Patients intended for the exposure.
    u_start, u_delay : ndarray
        Uniform(0, 1) draws: a patient starts when ``u_start < share``, after the delay
        ``delay.quantile(u_delay)``.
    delay : StartDelay
    """
    starts = np.asarray(intended, dtype=bool) & (np.asarray(u_start) < delay.share)
    return np.where(starts, delay.quantile(np.asarray(u_delay)), np.nan)


def delayed_event_times(
    unit_exp: np.ndarray,
    eta: np.ndarray,
    start_months: np.ndarray,
    log_hr: float,
    params: GeneratorParams,
) -> np.ndarray:
    """Event times (months) under an exposure that multiplies the hazard by ``exp(log_hr)``
    from its start on.

    Parameters
    ----------
    unit_exp : ndarray
        Unit exponential draws.
    eta : ndarray
        Log relative hazard of every other covariate.
    start_months : ndarray
        Start of the exposure (NaN = never).
    log_hr : float
        The exposure's (time-dependent) log hazard ratio.
    params : GeneratorParams
        For the baseline hazard.

    Returns
    -------
    ndarray
        ``T`` solving ``exp(eta) [H0(min(T, s)) + exp(log_hr) (H0(T) - H0(s))+] = E``.
    """
    target = np.asarray(unit_exp, dtype=float) * np.exp(-np.asarray(eta, dtype=float))
    start = np.asarray(start_months, dtype=float)
    at_start = np.where(np.isnan(start), np.inf, baseline_cumhaz(np.nan_to_num(start), params))
    after = target > at_start  # the event falls after the start: hazard scaled from there
    base = np.where(after, at_start, target)  # finite everywhere (no inf - inf)
    shifted = base + (target - base) * np.exp(-log_hr)
    return inverse_baseline_cumhaz(shifted, params)


@dataclass(frozen=True)
class DelayDraws:
    """The random draws of one delayed-exposure cohort (shared by every delay and HR setting).

    Attributes
    ----------
    covariates : DataFrame
        :func:`bayes_bcsm.reconstruct.covariates.simulate_covariates` (latent columns too).
    unit_exp : ndarray
        Unit exponential per patient (event time by inversion).
    entry_months : ndarray
        Surgery dates, months after July 2010.
    u_start, u_delay : ndarray
        Uniforms deciding whether and when an intended patient starts.
    """

    covariates: pd.DataFrame
    unit_exp: np.ndarray
    entry_months: np.ndarray
    u_start: np.ndarray
    u_delay: np.ndarray


def draw_delay_inputs(
    n: int, rng: np.random.Generator, params: GeneratorParams | None = None
) -> DelayDraws:
    """Draw the covariates and the uniforms / exponentials of ``n`` patients.

    Parameters
    ----------
    n : int
        Patients (Table 1 counts scaled when ``n != 78``).
    rng : numpy.random.Generator
    params : GeneratorParams, optional
        Default: the calibrated parameters.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    params = params or CALIBRATED_PARAMS
    covariates = simulate_covariates(n, rng, params)
    unit_exp = rng.exponential(size=n)
    a, b = params.accrual_beta
    entry = rng.beta(a, b, size=n) * ACCRUAL_MONTHS
    return DelayDraws(covariates, unit_exp, entry, rng.random(n), rng.random(n))


def cohort_from_draws(
    draws: DelayDraws,
    delay: StartDelay,
    log_hr: float,
    params: GeneratorParams | None = None,
) -> pd.DataFrame:
    """The cohort a study would record, from the draws (deterministic: no randomness).

    Parameters
    ----------
    draws : DelayDraws
    delay : StartDelay
    log_hr : float
        True time-dependent log HR of the exposure (replacing the generator's effect).
    params : GeneratorParams, optional
        Default: the calibrated parameters (every other effect, baseline, accrual, close).

    Returns
    -------
    DataFrame
        The contract's columns (``time_months`` from surgery; ``hormone_therapy`` = 1 when the
        therapy started before the end of follow-up, the naive "ever treated") and
        :data:`START_COLUMN`: the start, months after surgery, for those who started during
        follow-up, else NaN.
    """
    params = params or CALIBRATED_PARAMS
    cov = draws.covariates.copy()
    intended = cov[EXPOSURE].to_numpy(dtype=int) == 1
    start = start_times(intended, draws.u_start, draws.u_delay, delay)
    cov[EXPOSURE] = 0
    eta = linear_predictor(cov, params.effects)
    t_event = delayed_event_times(draws.unit_exp, eta, start, log_hr, params)
    time, event, _ = close_study(t_event, draws.entry_months, params)
    started = start < time  # NaN (never) compares False
    cov["time_months"] = time
    cov["event"] = event
    cov[EXPOSURE] = started.astype(int)
    n = len(cov)
    width = max(3, len(str(n)))
    cov["patient_id"] = [f"R{i + 1:0{width}d}" for i in range(n)]
    frame = validate_cohort(cov[list(REQUIRED_COLUMNS)], source="delayed-exposure cohort").frame
    frame[START_COLUMN] = np.where(started, start, np.nan)
    return frame


def simulate_delayed_cohort(
    n: int,
    seed: int | np.random.Generator,
    delay: StartDelay,
    log_hr: float,
    params: GeneratorParams | None = None,
) -> pd.DataFrame:
    """Draw a cohort whose post-operative endocrine therapy starts after a delay.

    Parameters
    ----------
    n : int
        Patients.
    seed : int or numpy.random.Generator
    delay : StartDelay
        Share of the intended patients who would start, and the delay distribution.
    log_hr : float
        True time-dependent log HR of the therapy (from its start on).
    params : GeneratorParams, optional
        Default: the calibrated parameters.

    Returns
    -------
    DataFrame
        As :func:`cohort_from_draws`.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return cohort_from_draws(draw_delay_inputs(n, rng, params), delay, log_hr, params)
