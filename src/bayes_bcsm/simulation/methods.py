"""The vocabulary of the simulation study: scenarios and methods (light to import)."""

from __future__ import annotations

#: "calibrated": the generator's calibrated true effects; "null": endocrine therapy HR = 1.
SCENARIOS: tuple[str, ...] = ("calibrated", "null")

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
