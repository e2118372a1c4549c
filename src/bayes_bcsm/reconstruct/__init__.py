"""Reconstruction of the cohort: seeded generator, published targets, calibration."""

from bayes_bcsm.reconstruct.generator import (
    CALIBRATED_PARAMS,
    CALIBRATED_SEED,
    TRUE_EFFECTS,
    GeneratorParams,
    format_cohort_csv,
    simulate_cohort,
    true_effects,
)

__all__ = [
    "CALIBRATED_PARAMS",
    "CALIBRATED_SEED",
    "TRUE_EFFECTS",
    "GeneratorParams",
    "format_cohort_csv",
    "simulate_cohort",
    "true_effects",
]
