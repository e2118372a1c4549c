"""Moved to :mod:`bayes_bcsm.study.targets`; this alias keeps old imports working."""

from bayes_bcsm.study.targets import (
    BUNDLED_TARGETS,
    GroupTarget,
    HazardRatioTarget,
    LogrankTarget,
    Targets,
    TargetsError,
    load_targets,
    parse_targets,
)

__all__ = [
    "BUNDLED_TARGETS",
    "GroupTarget",
    "HazardRatioTarget",
    "LogrankTarget",
    "Targets",
    "TargetsError",
    "load_targets",
    "parse_targets",
]
