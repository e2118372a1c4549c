"""The settings of a simulation study, as plain objects (built from the config at the edge)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bayes_bcsm.inference.settings import DiagnosticThresholds, SamplerSettings
from bayes_bcsm.models.specs import PriorSpec
from bayes_bcsm.reconstruct import GeneratorParams
from bayes_bcsm.simulation.methods import BAYESIAN_METHODS, METHODS, SCENARIOS
from bayes_bcsm.study import TABLE3_FACTORS

__all__ = ["FIXED_SCENARIO_EFFECTS", "TABLE3_COVARIATES", "StudySettings"]

#: The paper's Table 3 covariate set (cohort / derived-grouping columns), in its order.
TABLE3_COVARIATES: tuple[str, ...] = tuple(f.cohort_column for f in TABLE3_FACTORS)


#: Scenario effects that need no computation (``null_table3`` is found by root-finding).
FIXED_SCENARIO_EFFECTS: dict[str, dict[str, float]] = {
    "calibrated": {},
    "null_conditional": {"hormone_therapy": 0.0},
}


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
    thresholds : DiagnosticThresholds
        Failure rules of the Bayesian fits: a fit failing any check of
        :func:`bayes_bcsm.inference.diagnostics.check_convergence` (R-hat, bulk / tail ESS,
        divergences, E-BFMI, tree depth; default: the same thresholds as single fits) is
        recorded as failed, with the failed checks as the reason.
    generator_params : GeneratorParams or None
        Generator parameters (default: the calibrated ones).
    scenario_effects : mapping of str to mapping of str to float
        Generator log-HRs overridden per scenario. ``calibrated`` and ``null_conditional``
        have fixed entries; ``null_table3`` needs the root found by
        :func:`bayes_bcsm.simulation.estimands.null_table3_effect` (the study run computes
        it and caches it in the study folder).
    pseudo_true : mapping of str to mapping of str to mapping of str to float
        ``pseudo_true[scenario][target][design column]``: each method's estimand
        (:mod:`bayes_bcsm.simulation.estimands`); a scenario missing here leaves
        ``true_method`` empty (NaN).
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
    thresholds: DiagnosticThresholds = field(default_factory=DiagnosticThresholds)
    generator_params: GeneratorParams | None = None
    scenario_effects: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: dict(FIXED_SCENARIO_EFFECTS)
    )
    pseudo_true: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)

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
        unknown = sorted(set(self.scenario_effects) - set(SCENARIOS))
        if unknown:
            raise ValueError(f"scenario_effects {unknown}: valid scenarios are {list(SCENARIOS)}")
