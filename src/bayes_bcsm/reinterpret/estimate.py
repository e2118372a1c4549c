"""A printed ratio estimate (hazard ratio with its confidence interval) and its normal likelihood.

Summary-level Bayesian re-analysis treats a published hazard ratio and its confidence interval
as a normal likelihood on the log-HR scale: centred at ``log(hr)``, with standard error

    SE = (log(upper) - log(lower)) / (2 * z_{(1 + ci_level) / 2}),

i.e. ``/ (2 * 1.959964)`` for a printed 95 % CI (Spiegelhalter, Abrams & Myles 2004, *Bayesian
Approaches to Clinical Trials and Health-Care Evaluation*, section 3.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats


class ReinterpretError(ValueError):
    """A printed estimate or prior that cannot be re-read; the message names the entry."""


def z_two_sided(level: float) -> float:
    """The standard-normal quantile ``z_{(1 + level) / 2}`` of a two-sided interval at ``level``.

    Raises
    ------
    ReinterpretError
        If ``level`` is not strictly between 0 and 1.
    """
    if not 0 < level < 1:
        raise ReinterpretError(f"interval level {level!r}: expected a value in (0, 1)")
    return float(stats.norm.ppf(0.5 + level / 2))


@dataclass(frozen=True)
class PrintedEstimate:
    """A published hazard ratio with its confidence interval.

    Attributes
    ----------
    name : str
        What the estimate is of (e.g. the covariate), used in messages and tables.
    hr : float
        The printed point estimate (hazard ratio, > 0).
    lower, upper : float
        The printed confidence bounds (hazard-ratio scale, 0 < lower < hr < upper).
    ci_level : float
        Level of the printed interval (0.95 for a 95 % CI).
    """

    name: str
    hr: float
    lower: float
    upper: float
    ci_level: float = 0.95

    def __post_init__(self) -> None:
        values = {"hr": self.hr, "lower": self.lower, "upper": self.upper}
        bad = {k: v for k, v in values.items() if not (math.isfinite(v) and v > 0)}
        if bad:
            raise ReinterpretError(
                f"estimate {self.name!r}: {bad} must be finite and > 0 (hazard-ratio scale)"
            )
        if not self.lower < self.hr < self.upper:
            raise ReinterpretError(
                f"estimate {self.name!r}: expected lower < hr < upper, got "
                f"{self.lower} < {self.hr} < {self.upper}"
            )
        z_two_sided(self.ci_level)

    @property
    def log_hr(self) -> float:
        """Centre of the likelihood: ``log(hr)``."""
        return math.log(self.hr)

    @property
    def se_log(self) -> float:
        """Standard error on the log-HR scale recovered from the printed interval."""
        return (math.log(self.upper) - math.log(self.lower)) / (2 * z_two_sided(self.ci_level))

    @property
    def excludes_one(self) -> bool:
        """Whether the printed interval excludes HR = 1 ("statistically significant")."""
        return self.upper < 1 or self.lower > 1
