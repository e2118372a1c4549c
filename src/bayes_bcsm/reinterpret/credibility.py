"""Analysis of Credibility (Matthews 2001, J Stat Plan Inference 94:43; Matthews 2018, R Soc
Open Sci 5:171047) for a printed ratio estimate.

With ``l = log(lower)``, ``u = log(upper)`` of a 95 % interval, the likelihood is centred, as
Matthews does, at the geometric mean of the bounds, ``(l + u) / 2`` (which can differ slightly
from the printed estimate: 0.070 (0.007-0.727) is centred at 0.0713), with SE
``(u - l) / (2 * 1.96)``.

- **Sceptical limit** (CI excludes 1): the bound SL of a sceptic's prior 95 % interval
  ``(SL, 1/SL)`` centred on no effect that makes the posterior 95 % interval just reach 1:
  ``SL = exp(-(u - l)^2 / (4 sqrt(u l)))``. If prior evidence supports effects as large as SL,
  the finding is credible; if such effects are implausible, it is not.
- **Advocacy limit** (CI includes 1): the bound AL of an advocate's prior 95 % interval
  ``(1, AL)`` that makes the posterior 95 % interval just exclude 1:
  ``AL = exp(-(u + l)(u - l)^2 / (2 u l))``. AL is the *widest* advocacy prior that still
  convinces: every narrower one (95 % interval from 1 to a bound between 1 and AL) makes the
  posterior exclude 1, every wider one does not. The non-significant finding is credible
  evidence of an effect if prior evidence confines the effect to between 1 and AL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bayes_bcsm.reinterpret.estimate import ReinterpretError


class CredibilityError(ReinterpretError):
    """The requested credibility limit does not exist for this interval."""


def _log_bounds(lower: float, upper: float) -> tuple[float, float]:
    if not (0 < lower < upper and math.isfinite(upper)):
        raise ReinterpretError(
            f"interval ({lower}, {upper}): expected 0 < lower < upper (hazard-ratio scale)"
        )
    return math.log(lower), math.log(upper)


def sceptical_limit(lower: float, upper: float, *, if_includes_one: str = "raise") -> float:
    """Matthews' sceptical limit SL of a 95 % ratio interval that excludes 1.

    Parameters
    ----------
    lower, upper : float
        Printed 95 % confidence bounds of the ratio (0 < lower < upper).
    if_includes_one : {"raise", "nan"}
        When the interval includes 1 there is no sceptical limit: raise
        :class:`CredibilityError` (whose message gives the advocacy limit instead), or return NaN.

    Returns
    -------
    float
        SL on the ratio scale: below 1 for a protective estimate (the sceptic's prior interval is
        ``(SL, 1/SL)``), above 1 for a harmful one (``(1/SL, SL)``).
    """
    if if_includes_one not in ("raise", "nan"):
        raise ValueError(f"if_includes_one={if_includes_one!r}: expected 'raise' or 'nan'")
    lo, up = _log_bounds(lower, upper)
    if lo <= 0 <= up:
        if if_includes_one == "nan":
            return math.nan
        raise CredibilityError(
            f"interval ({lower}, {upper}) includes 1: no sceptical limit (the result is not "
            f"significant); its advocacy limit is {advocacy_limit(lower, upper):.3g} "
            "(Matthews 2018)"
        )
    log_sl = -((up - lo) ** 2) / (4 * math.sqrt(up * lo))
    return math.exp(log_sl if up < 0 else -log_sl)


def advocacy_limit(lower: float, upper: float, *, if_excludes_one: str = "raise") -> float:
    """Matthews' advocacy limit AL of a 95 % ratio interval that includes 1.

    Parameters
    ----------
    lower, upper : float
        Printed 95 % confidence bounds of the ratio (0 < lower < 1 < upper).
    if_excludes_one : {"raise", "nan"}
        When the interval excludes 1 the sceptical limit applies instead: raise
        :class:`CredibilityError` or return NaN.

    Returns
    -------
    float
        AL on the ratio scale, on the side of 1 where the interval's centre lies.
    """
    if if_excludes_one not in ("raise", "nan"):
        raise ValueError(f"if_excludes_one={if_excludes_one!r}: expected 'raise' or 'nan'")
    lo, up = _log_bounds(lower, upper)
    if not lo < 0 < up:
        if if_excludes_one == "nan":
            return math.nan
        raise CredibilityError(
            f"interval ({lower}, {upper}) excludes 1: use the sceptical limit "
            f"({sceptical_limit(lower, upper):.3g})"
        )
    return math.exp(-(up + lo) * (up - lo) ** 2 / (2 * up * lo))


@dataclass(frozen=True)
class Credibility:
    """The applicable credibility limit of a printed 95 % interval.

    Attributes
    ----------
    significant : bool
        Whether the interval excludes 1.
    sceptical_limit, advocacy_limit : float
        The limit that applies; the other is NaN.
    centre_hr : float
        Geometric mean of the bounds (Matthews' likelihood centre).
    """

    significant: bool
    sceptical_limit: float
    advocacy_limit: float
    centre_hr: float


def credibility(lower: float, upper: float) -> Credibility:
    """Sceptical limit for a significant 95 % interval, advocacy limit otherwise.

    Reports word the limits with :func:`bayes_bcsm.report.sentences.credibility_sentence`.
    """
    lo, up = _log_bounds(lower, upper)
    centre = math.exp((lo + up) / 2)
    if lo <= 0 <= up:
        return Credibility(False, math.nan, advocacy_limit(lower, upper), centre)
    return Credibility(True, sceptical_limit(lower, upper), math.nan, centre)
