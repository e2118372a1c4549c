"""How to sample and when a fit counts as converged: plain settings with their range rules.

No PyMC, PyTensor or ArviZ here, so a configuration can be parsed and checked against these rules
before the modelling stack is imported. Each value has one rule, stated once, in
``__post_init__``; the config layer builds these dataclasses and reports their refusals under its
own key names (:class:`~bayes_bcsm.errors.SettingError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bayes_bcsm.errors import SettingError

Sampler = Literal["nutpie", "pymc"]
SAMPLERS: tuple[str, ...] = ("nutpie", "pymc")

#: Fewest draws in all (chains x draws) for PSIS-LOO: ArviZ fits the Pareto tail to
#: ``floor(S / 5)`` draws when ``S * r_eff <= 225`` and needs at least 5 of them, so ``S >= 25``
#: (``arviz_stats.base.diagnostics._get_ps_tails``; below it ``arviz.loo`` fails after sampling).
MIN_LOO_DRAWS = 25

#: Fewest tuning steps of nutpie (its adaptation windows).
MIN_NUTPIE_TUNE = 10

__all__ = [
    "MIN_LOO_DRAWS",
    "MIN_NUTPIE_TUNE",
    "SAMPLERS",
    "DiagnosticThresholds",
    "Sampler",
    "SamplerError",
    "SamplerSettings",
    "ThresholdError",
]


class SamplerError(SettingError):
    """Invalid sampler settings; ``fields`` names the :class:`SamplerSettings` fields at fault."""


class ThresholdError(SettingError):
    """Invalid convergence thresholds; ``fields`` names the :class:`DiagnosticThresholds` fields."""


#: Families whose per-patient log-likelihood is computed from the draws in chunks of patients
#: (:mod:`bayes_bcsm.inference.pointwise`; on complete cases).
POINTWISE_FAMILIES: tuple[str, ...] = ("weibull", "exponential", "piecewise")


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample.

    Attributes
    ----------
    sampler : {"nutpie", "pymc"}
    chains, draws, tune : int
        Draws and tuning steps are per chain; each >= 1, and ``tune >= 10`` with nutpie.
    target_accept : float
        Target acceptance probability of NUTS's step size adaptation, in [0.5, 1) (below 0.5
        the step size is too large for NUTS's trajectories to be trusted; Stan's minimum advice).
    max_treedepth : int
        Maximum NUTS tree depth (>= 1).
    seed : int
        Random seed (>= 0; 0 is a seed); the same seed gives identical draws.
    cores : int or None
        Parallel chains (default ``min(chains, available)``).
    log_likelihood : bool
        Store the per-patient log-likelihood (group ``log_likelihood``) for PSIS-LOO, which then
        needs ``chains * draws >= MIN_LOO_DRAWS``.
    progress_bar : bool
    pointwise_max_patients : int
        Largest number of patients (>= 0) whose per-patient log-likelihood is stored (draws x
        patients values: 1.6 GB at 50,000 patients x 4,000 draws) and whose fit runs the
        per-patient posterior predictive check. Above it nothing of size draws x patients is
        held: the piecewise likelihood is collapsed to covariate pattern x interval cells
        (:mod:`bayes_bcsm.models.collapse`), PSIS-LOO is computed in chunks of patients only
        with ``chunked_loo`` and the posterior predictive check is left out. The default
        keeps every bundled data set (at most 686 patients) as before.
    chunked_loo : bool
        Above ``pointwise_max_patients``: compute PSIS-LOO from the pointwise log-likelihood
        evaluated from the draws a chunk of patients at a time
        (:func:`bayes_bcsm.inference.pointwise.chunked_loo`; time grows as draws x patients).
    """

    sampler: Sampler = "nutpie"
    chains: int = 4
    draws: int = 1000
    tune: int = 1000
    target_accept: float = 0.9
    max_treedepth: int = 10
    seed: int = 0
    cores: int | None = None
    log_likelihood: bool = True
    progress_bar: bool = False
    pointwise_max_patients: int = 5_000
    chunked_loo: bool = False

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise SamplerError(
                f"expected one of {', '.join(SAMPLERS)}", ("sampler",), (self.sampler,)
            )
        for key in ("chains", "draws", "tune", "max_treedepth"):
            value = getattr(self, key)
            if value < 1:
                raise SamplerError("expected a positive integer", (key,), (value,))
        if self.pointwise_max_patients < 0:
            raise SamplerError(
                "expected a non-negative integer (patients)",
                ("pointwise_max_patients",),
                (self.pointwise_max_patients,),
            )
        if self.cores is not None and self.cores < 1:
            raise SamplerError("expected a positive integer or None", ("cores",), (self.cores,))
        if self.sampler == "nutpie" and self.tune < MIN_NUTPIE_TUNE:
            raise SamplerError(
                f"expected >= {MIN_NUTPIE_TUNE} with nutpie (its adaptation windows)",
                ("tune",),
                (self.tune,),
            )
        if not 0.5 <= self.target_accept < 1:
            raise SamplerError(
                "expected a value in [0.5, 1)", ("target_accept",), (self.target_accept,)
            )
        if self.seed < 0:
            raise SamplerError(
                "expected a non-negative integer (0 is a seed)", ("seed",), (self.seed,)
            )
        if self.log_likelihood and self.chains * self.draws < MIN_LOO_DRAWS:
            raise SamplerError(
                f"too few draws for PSIS-LOO: expected chains x draws >= {MIN_LOO_DRAWS} "
                "(its Pareto tail is a fifth of the draws, at least 5)",
                ("chains", "draws"),
                (self.chains, self.draws),
            )

    def per_patient(self, n_patients: int) -> bool:
        """Whether a fit of ``n_patients`` stores draws x patients quantities (at most
        ``pointwise_max_patients``)."""
        return n_patients <= self.pointwise_max_patients


@dataclass(frozen=True)
class DiagnosticThresholds:
    """Pass thresholds of :func:`bayes_bcsm.inference.diagnostics.check_convergence`.

    Attributes
    ----------
    rhat_max : float
        Largest acceptable rank-normalised R-hat (>= 1: R-hat is 1 at convergence).
    ess_bulk_min, ess_tail_min : float
        Smallest acceptable bulk / tail effective sample size (whole fit; >= 0).
    divergences_max : int
        Largest acceptable number of divergent transitions (>= 0).
    ebfmi_min : float
        Smallest acceptable E-BFMI per chain (>= 0).
    max_treedepth_fraction : float
        Largest acceptable fraction of draws that saturated the tree depth, in [0, 1].
    """

    rhat_max: float = 1.01
    ess_bulk_min: float = 400.0
    ess_tail_min: float = 400.0
    divergences_max: int = 0
    ebfmi_min: float = 0.3
    max_treedepth_fraction: float = 0.01

    def __post_init__(self) -> None:
        if not self.rhat_max >= 1:
            raise ThresholdError(
                "expected >= 1 (R-hat is 1 at convergence)", ("rhat_max",), (self.rhat_max,)
            )
        for key in ("ess_bulk_min", "ess_tail_min", "divergences_max", "ebfmi_min"):
            value = getattr(self, key)
            if not value >= 0:
                raise ThresholdError("expected a value >= 0", (key,), (value,))
        if not 0 <= self.max_treedepth_fraction <= 1:
            raise ThresholdError(
                "expected a fraction in [0, 1]",
                ("max_treedepth_fraction",),
                (self.max_treedepth_fraction,),
            )
