"""The vocabulary of the simulation study: scenarios and methods (light to import)."""

from __future__ import annotations

#: "calibrated": the generator's calibrated true effects; "null_conditional": the generator's
#: endocrine-therapy effect set to 0 (HR = 1 conditional on all 16 of its indicators);
#: "null_table3": the endocrine effect chosen so that the Table 3 model's pseudo-true
#: endocrine log-HR is 0 (null for the question the paper's Table 3 asks).
SCENARIOS: tuple[str, ...] = ("calibrated", "null_conditional", "null_table3")

#: Null scenarios: scenario -> the design column that is null in it and in which sense.
NULL_SCENARIOS: dict[str, tuple[str, str]] = {
    "null_conditional": ("hormone_therapy", "conditional"),
    "null_table3": ("hormone_therapy", "table3"),
}

#: Every method the study can fit on a replicate.
METHODS: tuple[str, ...] = (
    "cox_table3",
    "cox_selection",
    "firth_table3",
    "weibull_default",
    "weibull_sceptical",
    "piecewise_default",
    "piecewise_sceptical",
)

#: Bayesian methods: name -> (model family, prior name in ``StudySettings.priors``).
BAYESIAN_METHODS: dict[str, tuple[str, str]] = {
    "weibull_default": ("weibull", "default"),
    "weibull_sceptical": ("weibull", "sceptical"),
    "piecewise_default": ("piecewise", "default"),
    "piecewise_sceptical": ("piecewise", "sceptical"),
}

#: The estimand of each method (a key of
#: :data:`bayes_bcsm.simulation.estimands.TARGETS`): the large-sample limit of its estimator.
#: Firth's penalty vanishes as n grows, so Firth shares Cox's target; ``cox_selection`` is
#: scored against the Table 3 Cox target (its own target changes with the model selected).
METHOD_TARGETS: dict[str, str] = {
    "cox_table3": "cox",
    "cox_selection": "cox",
    "firth_table3": "cox",
    "weibull_default": "weibull",
    "weibull_sceptical": "weibull",
    "piecewise_default": "piecewise",
    "piecewise_sceptical": "piecewise",
}
