"""What a survival model is built from, as plain settings: the log-HR prior, the baseline prior
and the piecewise cut points, each value with its one range rule.

No PyMC here (numpy and scipy only), so a configuration can be checked against these rules before
the modelling stack is imported; :mod:`bayes_bcsm.models.priors` turns them into PyMC variables.
The prior families are described in :mod:`bayes_bcsm.models.priors`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from bayes_bcsm.errors import SettingError

PriorFamily = Literal["normal", "student_t", "sceptical", "log_f", "horseshoe"]
PRIOR_FAMILIES: tuple[str, ...] = ("normal", "student_t", "sceptical", "log_f", "horseshoe")

#: Fixed cut points (months): intervals 0-6, 6-12, 12-24, 24-36, 36-60, 60+.
DEFAULT_CUTS_MONTHS: tuple[float, ...] = (6.0, 12.0, 24.0, 36.0, 60.0)

__all__ = [
    "DEFAULT_CUTS_MONTHS",
    "PRIOR_FAMILIES",
    "BaselineSpec",
    "CutSpec",
    "PriorError",
    "PriorFamily",
    "PriorSpec",
    "SplineSpec",
]


class PriorError(SettingError):
    """An invalid prior specification (unknown family, non-positive scale, ...); a user error
    (the command line prints its message alone). ``fields`` names the fields at fault."""


@dataclass(frozen=True)
class PriorSpec:
    """Prior on the log hazard ratios (one per design column).

    Attributes
    ----------
    family : {"normal", "student_t", "sceptical", "log_f", "horseshoe"}
    scale : float
        Prior scale of a log-HR (normal, student_t, log_f; > 0). Default 1: HR within about
        1/7 .. 7 with 95 % prior probability under the normal.
    center : float
        Prior location (normal, student_t).
    nu : float
        Degrees of freedom (student_t; > 0).
    sceptical_hr, sceptical_tail : float
        Sceptical prior: ``P(HR > sceptical_hr) = sceptical_tail`` (``sceptical_hr > 1``,
        ``0 < sceptical_tail < 0.5``).
    log_f_m : float
        ``m`` of log-F(m, m); 1 is Greenland & Mansournia's default (> 0).
    expected_nonzero : float
        Horseshoe: prior guess ``p0`` of the number of non-zero log-HRs (> 0).
    slab_scale, slab_df : float
        Horseshoe slab (scale on the log-HR scale, degrees of freedom; > 0).
    global_df : float
        Horseshoe: degrees of freedom of the half-t prior on ``tau`` (> 0).
    """

    family: PriorFamily = "normal"
    scale: float = 1.0
    center: float = 0.0
    nu: float = 3.0
    sceptical_hr: float = 2.0
    sceptical_tail: float = 0.05
    log_f_m: float = 1.0
    expected_nonzero: float = 2.0
    slab_scale: float = 2.0
    slab_df: float = 4.0
    global_df: float = 1.0

    def __post_init__(self) -> None:
        if self.family not in PRIOR_FAMILIES:
            raise PriorError(
                f"expected one of {', '.join(PRIOR_FAMILIES)}", ("family",), (self.family,)
            )
        for key in (
            "scale",
            "nu",
            "log_f_m",
            "slab_scale",
            "slab_df",
            "global_df",
            "expected_nonzero",
        ):
            if not getattr(self, key) > 0:
                raise PriorError("expected a value > 0", (key,), (getattr(self, key),))
        if not (self.sceptical_hr > 1 and 0 < self.sceptical_tail < 0.5):
            raise PriorError(
                "a sceptical prior needs sceptical_hr > 1 and 0 < sceptical_tail < 0.5",
                ("sceptical_hr", "sceptical_tail"),
                (self.sceptical_hr, self.sceptical_tail),
            )

    @property
    def sceptical_sd(self) -> float:
        """Standard deviation of the sceptical normal prior on the log-HR."""
        return float(np.log(self.sceptical_hr) / stats.norm.ppf(1 - self.sceptical_tail))

    def describe(self) -> str:
        """The prior in words, with the parameters its family uses (reports)."""
        if self.family == "normal":
            return f"log HR ~ Normal({self.center:g}, {self.scale:g})"
        if self.family == "student_t":
            return f"log HR ~ StudentT(nu={self.nu:g}, {self.center:g}, {self.scale:g})"
        if self.family == "sceptical":
            return (
                f"sceptical: log HR ~ Normal(0, {self.sceptical_sd:.3g}), "
                f"P(HR > {self.sceptical_hr:g}) = {self.sceptical_tail:g}"
            )
        if self.family == "log_f":
            return f"log HR / {self.scale:g} ~ log-F({self.log_f_m:g}, {self.log_f_m:g})"
        return (
            f"regularised horseshoe: {self.expected_nonzero:g} log HRs expected non-zero, "
            f"slab scale {self.slab_scale:g} (df {self.slab_df:g}), half-t({self.global_df:g}) "
            "on tau"
        )


@dataclass(frozen=True)
class BaselineSpec:
    """Prior on the baseline hazard and the time scale it is expressed in.

    The baseline is parametrised by ``log_lambda``: the log baseline cumulative hazard at
    ``time_scale_months`` (Weibull), i.e. the log baseline rate per ``time_scale_months``
    for the exponential and for each piecewise interval.

    Attributes
    ----------
    time_scale_months : float
        Reference time ``s`` (12: rates per person-year).
    log_rate_mu, log_rate_sd : float
        ``log_lambda ~ Normal(mu, sd)``. Default ``Normal(-1, 2)``: a baseline yearly
        hazard between about 0.007 and 19 with 95 % probability.
    log_alpha_sd : float
        Weibull shape: ``log alpha ~ Normal(0, sd)``; default 0.5 (alpha in 0.37 .. 2.7).
    gamma_shape, gamma_rate : float or None
        If both are set, the exponential model uses the conjugate
        ``rate ~ Gamma(gamma_shape, gamma_rate)`` (rate per ``time_scale_months``) instead.
    rw_sd : float
        Piecewise random walk: scale of the half-normal prior on the step sd of the
        log baseline hazard between neighbouring intervals.
    """

    time_scale_months: float = 12.0
    log_rate_mu: float = -1.0
    log_rate_sd: float = 2.0
    log_alpha_sd: float = 0.5
    gamma_shape: float | None = None
    gamma_rate: float | None = None
    rw_sd: float = 0.5

    def __post_init__(self) -> None:
        for key in ("time_scale_months", "log_rate_sd", "log_alpha_sd", "rw_sd"):
            if not getattr(self, key) > 0:
                raise PriorError("baseline: expected a value > 0", (key,), (getattr(self, key),))
        if (self.gamma_shape is None) != (self.gamma_rate is None):
            raise PriorError(
                "baseline gamma_shape and gamma_rate must be given together",
                ("gamma_shape", "gamma_rate"),
                (self.gamma_shape, self.gamma_rate),
            )


@dataclass(frozen=True)
class CutSpec:
    """How a piecewise baseline's interval cut points are chosen: fixed, or event-time quantiles.

    Attributes
    ----------
    cuts_months : tuple of float or None
        Fixed cut points in months, starting at 0 and strictly increasing, at least one after
        0 (one interval is the exponential model); None: quantile cut points.
    n_quantile_intervals : int
        With ``cuts_months=None``: this many intervals, cut at the ``k / K`` quantiles of the
        event times (>= 1).
    """

    cuts_months: tuple[float, ...] | None = (0.0, *DEFAULT_CUTS_MONTHS)
    n_quantile_intervals: int = 6

    def __post_init__(self) -> None:
        if self.n_quantile_intervals < 1:
            raise PriorError(
                "expected a positive integer",
                ("n_quantile_intervals",),
                (self.n_quantile_intervals,),
            )
        cuts = self.cuts_months
        if cuts is not None and (
            len(cuts) < 2 or cuts[0] != 0 or any(b <= a for a, b in itertools.pairwise(cuts))
        ):
            raise PriorError(
                "expected strictly increasing cut points starting at 0, at least one after 0 "
                "(one interval is the exponential model: use model=exponential)",
                ("cuts_months",),
                (list(cuts),),
            )

    @property
    def fixed(self) -> bool:
        """Whether the cut points are fixed (else quantiles of the event times)."""
        return self.cuts_months is not None


@dataclass(frozen=True)
class SplineSpec:
    """The M-spline baseline's size.

    Attributes
    ----------
    df : int
        Number of cubic M-spline basis functions: at least 4 (a cubic with no interior knot);
        ``df - 4`` interior knots at event-time quantiles. Default 5, rstanarm's ``stan_surv``.
    """

    df: int = 5

    def __post_init__(self) -> None:
        if isinstance(self.df, bool) or not isinstance(self.df, int) or self.df < 4:
            raise PriorError(
                "expected an integer >= 4 (a cubic M-spline has at least 4 basis functions)",
                ("df",),
                (self.df,),
            )
