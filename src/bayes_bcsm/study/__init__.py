"""Everything specific to the paper (Hu et al. 2025), written once.

- :mod:`~bayes_bcsm.study.targets`: the printed figures (``targets.yaml``) as typed objects;
- :mod:`~bayes_bcsm.study.consistency`: the printed figures checked against each other;
- :mod:`~bayes_bcsm.study.factors`: the factor vocabulary, one record per Table 3 factor
  (target name, cohort column, design column, generator indicator) and per Table 2 factor.

Every other module reads the study's numbers and names from here; no printed number is typed
twice (``tests/study/test_single_source.py`` checks the package source).
"""

from bayes_bcsm.study.factors import (
    GENERATOR_FACTORS,
    TABLE2_FACTORS,
    TABLE3_FACTORS,
    Factor,
    LogrankFactor,
    table2_factor,
    table3_factor,
)
from bayes_bcsm.study.targets import (
    BUNDLED_TARGETS,
    GroupTarget,
    HazardRatioTarget,
    LogrankTarget,
    Targets,
    TargetsError,
    bundled_targets,
    load_targets,
    parse_targets,
)

__all__ = [
    "BUNDLED_TARGETS",
    "GENERATOR_FACTORS",
    "TABLE2_FACTORS",
    "TABLE3_FACTORS",
    "Factor",
    "GroupTarget",
    "HazardRatioTarget",
    "LogrankFactor",
    "LogrankTarget",
    "Targets",
    "TargetsError",
    "bundled_targets",
    "load_targets",
    "parse_targets",
    "table2_factor",
    "table3_factor",
]
