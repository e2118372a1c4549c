"""Design analysis of a study that estimates a log hazard ratio with a given standard error
(Gelman & Carlin 2014, Perspect Psychol Sci 9:641), in closed form.

The estimate is ``log HR_hat ~ N(D, s^2)`` with ``D = log(true_hr)``; it is "significant" when
``|log HR_hat| > z s`` with ``z = z_{1 - alpha/2}``. With ``lambda = D / s``:

- power ``= Phi(-z - lambda) + 1 - Phi(z - lambda)``;
- type S error (a significant estimate of the wrong sign) ``= Phi(-z - |lambda|) / power``;
- exaggeration ratio ``= E(|log HR_hat| | significant) / |D|``, using the truncated-normal
  moments ``E[X; X > c] = mu (1 - Phi(a)) + s phi(a)`` with ``a = (c - mu)/s`` (and its mirror).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from bayes_bcsm.reinterpret.estimate import ReinterpretError


@dataclass(frozen=True)
class DesignAnalysis:
    """Power, type S error and exaggeration ratio of a design.

    Attributes
    ----------
    true_hr : float
        The assumed true hazard ratio.
    se : float
        Standard error of the log-HR estimate.
    alpha : float
        Two-sided significance level.
    power : float
        Probability that the estimate is significant.
    type_s : float
        Probability that a significant estimate has the wrong sign (0.5 when true_hr = 1).
    exaggeration : float
        Expected |log estimate| / |log true HR| among significant estimates (NaN when
        true_hr = 1, where it is undefined).
    """

    true_hr: float
    se: float
    alpha: float
    power: float
    type_s: float
    exaggeration: float


def design_analysis(true_hr: float, se: float, alpha: float = 0.05) -> DesignAnalysis:
    """Closed-form design analysis (power, type S, exaggeration) of a log-HR estimate.

    Parameters
    ----------
    true_hr : float
        Assumed true hazard ratio (> 0).
    se : float
        Standard error of the log-HR estimate (> 0), e.g. the SE recovered from a printed CI.
    alpha : float
        Two-sided significance level, in (0, 1).

    Returns
    -------
    DesignAnalysis
    """
    if not (true_hr > 0 and math.isfinite(true_hr)):
        raise ReinterpretError(f"true_hr={true_hr}: expected a hazard ratio > 0")
    if not (se > 0 and math.isfinite(se)):
        raise ReinterpretError(f"se={se}: expected a positive standard error (log-HR scale)")
    if not 0 < alpha < 1:
        raise ReinterpretError(f"alpha={alpha}: expected a value in (0, 1)")
    d = math.log(true_hr)
    z = float(stats.norm.ppf(1 - alpha / 2))
    lam = d / se
    upper_tail = float(stats.norm.sf(z - lam))  # P(estimate > z se)
    lower_tail = float(stats.norm.cdf(-z - lam))  # P(estimate < -z se)
    power = upper_tail + lower_tail
    type_s = float(stats.norm.cdf(-z - abs(lam))) / power
    if d == 0:
        return DesignAnalysis(true_hr, se, alpha, power, type_s, math.nan)
    a_up, a_low = z - lam, -z - lam
    mean_abs_up = d * upper_tail + se * float(stats.norm.pdf(a_up))
    mean_abs_low = -d * lower_tail + se * float(stats.norm.pdf(a_low))
    exaggeration = (mean_abs_up + mean_abs_low) / (power * abs(d))
    return DesignAnalysis(true_hr, se, alpha, power, type_s, exaggeration)


def design_table(
    true_hrs: Iterable[float], se: float, alpha: float = 0.05, name: str | None = None
) -> pd.DataFrame:
    """Design analyses over a range of true HRs at one SE, one row each.

    Columns ``covariate`` (when ``name`` is given), ``true_hr``, ``se``, ``power``, ``type_s``,
    ``exaggeration``.
    """
    rows = []
    for true_hr in true_hrs:
        result = design_analysis(float(true_hr), se, alpha)
        row = {} if name is None else {"covariate": name}
        row |= {
            "true_hr": result.true_hr,
            "se": result.se,
            "power": result.power,
            "type_s": result.type_s,
            "exaggeration": result.exaggeration,
        }
        rows.append(row)
    return pd.DataFrame(rows)
