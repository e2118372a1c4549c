"""Conjugate normal-normal re-analysis of a printed hazard ratio (closed form, no MCMC).

Likelihood ``log HR ~ N(b, s^2)`` from the printed estimate (see
:mod:`bayes_bcsm.reinterpret.estimate`), prior ``log HR ~ N(m, t^2)``; the posterior is normal
with precision ``1/t^2 + 1/s^2`` and mean ``(m/t^2 + b/s^2) / precision`` (Spiegelhalter,
Abrams & Myles 2004, section 3.6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from bayes_bcsm.reinterpret.estimate import PrintedEstimate, ReinterpretError, z_two_sided
from bayes_bcsm.reinterpret.priors import DEFAULT_PRIOR


@dataclass(frozen=True)
class Reanalysis:
    """The posterior of a log hazard ratio from a printed estimate and a normal prior.

    Attributes
    ----------
    median_hr : float
        Posterior median hazard ratio (``exp`` of the posterior mean of the log-HR).
    lower, upper : float
        Posterior equal-tailed interval at ``level``, hazard-ratio scale.
    level : float
        Probability of the interval.
    prior_mean_log, prior_sd_log : float
        Prior mean and SD of the log-HR.
    likelihood_mean_log, likelihood_se_log : float
        Centre and standard error of the normal likelihood on the log-HR scale.
    posterior_mean_log, posterior_sd_log : float
        Posterior mean and SD of the log-HR.
    """

    median_hr: float
    lower: float
    upper: float
    level: float
    prior_mean_log: float
    prior_sd_log: float
    likelihood_mean_log: float
    likelihood_se_log: float
    posterior_mean_log: float
    posterior_sd_log: float

    def prob_hr_below(self, threshold: float) -> float:
        """Posterior probability that the hazard ratio is below ``threshold`` (> 0)."""
        if not threshold > 0:
            raise ReinterpretError(f"threshold={threshold}: expected a hazard ratio > 0")
        z = (math.log(threshold) - self.posterior_mean_log) / self.posterior_sd_log
        return float(stats.norm.cdf(z))

    @property
    def prior_weight(self) -> float:
        """Share of the posterior precision contributed by the prior (0 = data only)."""
        return self.likelihood_se_log**2 / (self.likelihood_se_log**2 + self.prior_sd_log**2)


def reanalyse(
    hr: float,
    lower: float,
    upper: float,
    prior_mean_hr: float = 1.0,
    prior_sd_log: float = DEFAULT_PRIOR.sd_log,
    level: float = 0.95,
    ci_level: float = 0.95,
    name: str = "estimate",
) -> Reanalysis:
    """Posterior of a printed hazard ratio under a normal prior on the log-HR.

    The likelihood is normal on the log-HR scale, centred at ``log(hr)``, with standard error
    ``(log(upper) - log(lower)) / (2 * z_{(1 + ci_level)/2})`` (for a printed 95 % CI, divided
    by ``2 * 1.96``).

    Parameters
    ----------
    hr, lower, upper : float
        Printed hazard ratio and confidence bounds (0 < lower < hr < upper).
    prior_mean_hr : float
        Prior median hazard ratio (default 1: no effect).
    prior_sd_log : float
        Prior SD of the log-HR (default: the neutral moderate prior of the grid,
        :data:`bayes_bcsm.reinterpret.priors.DEFAULT_PRIOR`, SD 0.54: P(HR < 0.5) = 10 %).
    level : float
        Probability of the posterior equal-tailed interval.
    ci_level : float
        Level of the printed interval (0.95 for a 95 % CI).
    name : str
        Name of the estimate, for error messages.

    Returns
    -------
    Reanalysis

    Raises
    ------
    ReinterpretError
        For a non-positive value, an interval not containing the estimate, or a non-positive
        prior SD.
    """
    estimate = PrintedEstimate(name, hr, lower, upper, ci_level)
    if not (prior_mean_hr > 0 and math.isfinite(prior_mean_hr)):
        raise ReinterpretError(f"prior_mean_hr={prior_mean_hr}: expected a hazard ratio > 0")
    if not (prior_sd_log > 0 and math.isfinite(prior_sd_log)):
        raise ReinterpretError(f"prior_sd_log={prior_sd_log}: expected a positive number")
    b, s = estimate.log_hr, estimate.se_log
    m, t = math.log(prior_mean_hr), float(prior_sd_log)
    precision = 1 / t**2 + 1 / s**2
    mean = (m / t**2 + b / s**2) / precision
    sd = 1 / math.sqrt(precision)
    half = z_two_sided(level) * sd
    return Reanalysis(
        median_hr=math.exp(mean),
        lower=math.exp(mean - half),
        upper=math.exp(mean + half),
        level=level,
        prior_mean_log=m,
        prior_sd_log=t,
        likelihood_mean_log=b,
        likelihood_se_log=s,
        posterior_mean_log=mean,
        posterior_sd_log=sd,
    )
