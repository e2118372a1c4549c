"""Named priors on the log hazard ratio, as data: a neutral / optimistic / pessimistic grid.

The grid follows the published Bayesian re-analyses of trials (Wijeysundera et al. 2009,
J Clin Epidemiol 62:13; Zampieri et al. 2021, Am J Respir Crit Care Med 203:543): every prior is
normal on the log-HR scale, centred at

- **neutral**: HR = 1 (no effect);
- **optimistic**: the clinically meaningful benefit ``meaningful_hr``, an HR in (0, 1) (e.g. 0.5:
  half the hazard; an HR >= 1 is refused, since it would put the "optimistic" prior on harm);
- **pessimistic**: its inverse ``1 / meaningful_hr`` (harm of the same size);

and its strength is the SD rule

    sd_log = |log(meaningful_hr)| / z_{1 - tail},

so that a stated prior probability ``tail`` lies beyond the meaningful distance from the centre:
for the neutral prior P(HR < meaningful_hr) = tail, for the optimistic prior P(HR > 1) = tail,
for the pessimistic prior P(HR < 1) = tail. The default tails (``DEFAULT_STRENGTHS``) are
weak 0.25, moderate 0.10 and strong 0.025 (with ``meaningful_hr = 0.5``: prior SDs 1.03, 0.54
and 0.35 on the log scale).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

from bayes_bcsm.reinterpret.estimate import ReinterpretError

#: Prior strength -> prior probability beyond the meaningful distance from the prior's centre.
DEFAULT_STRENGTHS: dict[str, float] = {"weak": 0.25, "moderate": 0.10, "strong": 0.025}
#: Prior centres of the grid, in the order reports show them.
CENTRES: tuple[str, ...] = ("neutral", "optimistic", "pessimistic")
#: The clinically meaningful hazard ratio of the default grid.
DEFAULT_MEANINGFUL_HR = 0.5


@dataclass(frozen=True)
class NamedPrior:
    """A normal prior on the log hazard ratio.

    Attributes
    ----------
    name : str
        Label in tables and plots, e.g. ``"moderate neutral"``.
    mean_hr : float
        Prior median hazard ratio (``exp`` of the prior mean of the log-HR).
    sd_log : float
        Prior standard deviation of the log-HR.
    centre, strength : str
        Grid position (``"user"`` / ``""`` for a user prior).
    """

    name: str
    mean_hr: float
    sd_log: float
    centre: str = "user"
    strength: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean_hr) and self.mean_hr > 0):
            raise ReinterpretError(f"prior {self.name!r}: mean_hr={self.mean_hr} must be > 0")
        if not (math.isfinite(self.sd_log) and self.sd_log > 0):
            raise ReinterpretError(f"prior {self.name!r}: sd_log={self.sd_log} must be > 0")

    @property
    def mean_log(self) -> float:
        """Prior mean of the log-HR."""
        return math.log(self.mean_hr)


def strength_sd(meaningful_hr: float, tail: float) -> float:
    """Prior SD of the log-HR that leaves probability ``tail`` beyond ``|log(meaningful_hr)|``.

    Parameters
    ----------
    meaningful_hr : float
        Clinically meaningful hazard ratio (> 0, != 1).
    tail : float
        Prior probability beyond that distance on one side, in (0, 0.5).

    Returns
    -------
    float
        ``|log(meaningful_hr)| / z_{1 - tail}``.
    """
    if not (meaningful_hr > 0 and meaningful_hr != 1):
        raise ReinterpretError(
            f"meaningful_hr={meaningful_hr}: expected a positive HR other than 1"
        )
    if not 0 < tail < 0.5:
        raise ReinterpretError(f"prior strength tail={tail}: expected a probability in (0, 0.5)")
    return abs(math.log(meaningful_hr)) / float(stats.norm.ppf(1 - tail))


def prior_grid(
    meaningful_hr: float = DEFAULT_MEANINGFUL_HR,
    strengths: Mapping[str, float] | None = None,
    centres: Sequence[str] = CENTRES,
) -> list[NamedPrior]:
    """The neutral / optimistic / pessimistic x strength grid (see the module docstring).

    Parameters
    ----------
    meaningful_hr : float
        The clinically meaningful benefit, an HR in (0, 1): the optimistic prior is centred on
        it, the pessimistic one on its inverse (harm of the same size), so the labels hold.
    strengths : mapping of str to float, optional
        Strength name -> tail probability; default :data:`DEFAULT_STRENGTHS`.
    centres : sequence of str
        Which of ``"neutral"``, ``"optimistic"``, ``"pessimistic"`` to include.

    Raises
    ------
    ReinterpretError
        For ``meaningful_hr`` outside (0, 1) or an unknown centre.
    """
    if not 0 < meaningful_hr < 1:
        raise ReinterpretError(
            f"meaningful_hr={meaningful_hr}: expected a hazard ratio in (0, 1), the benefit the "
            "optimistic prior is centred on (the pessimistic one on its inverse, "
            "1/meaningful_hr); for a harm of size H give meaningful_hr=1/H"
        )
    strengths = DEFAULT_STRENGTHS if strengths is None else strengths
    centre_hr = {"neutral": 1.0, "optimistic": meaningful_hr, "pessimistic": 1 / meaningful_hr}
    unknown = [c for c in centres if c not in centre_hr]
    if unknown:
        raise ReinterpretError(f"prior centres {unknown}: expected some of {list(CENTRES)}")
    return [
        NamedPrior(
            f"{strength} {centre}",
            centre_hr[centre],
            strength_sd(meaningful_hr, tail),
            centre,
            strength,
        )
        for centre in centres
        for strength, tail in strengths.items()
    ]


#: The default prior of :func:`bayes_bcsm.reinterpret.reanalyse`: neutral, moderate strength.
DEFAULT_PRIOR = NamedPrior(
    "moderate neutral",
    1.0,
    strength_sd(DEFAULT_MEANINGFUL_HR, DEFAULT_STRENGTHS["moderate"]),
    "neutral",
    "moderate",
)
