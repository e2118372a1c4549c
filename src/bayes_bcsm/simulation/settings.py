"""The settings of a simulation study, as plain objects (built from the config at the edge)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bayes_bcsm.inference.sample import SamplerSettings
from bayes_bcsm.models import PriorSpec
from bayes_bcsm.reconstruct import GeneratorParams
from bayes_bcsm.simulation.methods import BAYESIAN_METHODS, METHODS
from bayes_bcsm.study import TABLE3_FACTORS

__all__ = ["TABLE3_COVARIATES", "StudySettings"]

#: The paper's Table 3 covariate set (cohort / derived-grouping columns), in its order.
TABLE3_COVARIATES: tuple[str, ...] = tuple(f.cohort_column for f in TABLE3_FACTORS)


def _default_priors() -> dict[str, PriorSpec]:
    return {"default": PriorSpec(), "sceptical": PriorSpec(family="sceptical")}


@dataclass(frozen=True)
class StudySettings:
    """Everything a replicate needs, as plain objects (built from the config at the edge).

    Attributes
    ----------
    base_seed : int
        The run's seed; each replicate's seed is derived from it, the scenario, n and the
        replicate index.
    methods : tuple of str
        Subset of :data:`METHODS`.
    covariates : tuple of str
        The Table 3 covariate set (cohort / derived-grouping columns).
    selection_factors : tuple of str
        Candidate factors of the paper's selection procedure (the Table 2 factors).
    reference : mapping of str to str
        Reference levels of categorical covariates.
    standardize : bool
        Standardise continuous covariates in the design (binary ones are never scaled).
    priors : mapping of str to PriorSpec
        Log-HR priors by name (``"default"``, ``"sceptical"``).
    piecewise_cuts_months : tuple of float
        Interior cut points of the piecewise baseline, months.
    baseline_prior : {"random_walk", "independent"}
        Prior of the piecewise log baseline hazards.
    sampler : SamplerSettings
        Sampler settings; the seed is replaced per replicate and method.
    screen_p, remove_p : float
        Thresholds of the selection procedure (paper: 0.05 and SPSS's 0.10).
    rhat_max : float
        A Bayesian fit whose largest log-HR R-hat exceeds this is recorded as failed.
    generator_params : GeneratorParams or None
        Generator parameters (default: the calibrated ones).
    """

    base_seed: int
    methods: tuple[str, ...] = METHODS
    covariates: tuple[str, ...] = TABLE3_COVARIATES
    selection_factors: tuple[str, ...] = ()
    reference: Mapping[str, str] = field(default_factory=dict)
    standardize: bool = True
    priors: Mapping[str, PriorSpec] = field(default_factory=_default_priors)
    piecewise_cuts_months: tuple[float, ...] = (6.0, 12.0, 24.0, 36.0, 60.0)
    baseline_prior: str = "random_walk"
    sampler: SamplerSettings = field(default_factory=lambda: SamplerSettings(log_likelihood=False))
    screen_p: float = 0.05
    remove_p: float = 0.10
    rhat_max: float = 1.05
    generator_params: GeneratorParams | None = None

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods {list(self.methods)}: expected a subset of {list(METHODS)}")
        if "cox_selection" in self.methods and not self.selection_factors:
            raise ValueError("method cox_selection needs selection_factors (the Table 2 factors)")
        needed = {BAYESIAN_METHODS[m][1] for m in self.methods if m in BAYESIAN_METHODS}
        missing = sorted(needed - set(self.priors))
        if missing:
            raise ValueError(f"priors {missing} are needed by the methods but not given")
