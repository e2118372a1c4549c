"""Reconstruction of the cohort: seeded generator, calibration against the study's targets.

- :mod:`~bayes_bcsm.reconstruct.generator`: parameters, :func:`simulate_cohort`, the calibrated
  parameters (packaged ``reconstruction.yaml``), the CSV format;
- :mod:`~bayes_bcsm.reconstruct.sampling`, :mod:`~bayes_bcsm.reconstruct.covariates`,
  :mod:`~bayes_bcsm.reconstruct.survival`: how a cohort is drawn;
- :mod:`~bayes_bcsm.reconstruct.delayed_exposure`: a post-operative exposure (endocrine therapy)
  that starts after a delay, with a time-dependent hazard ratio (the immortal-time question);
- :mod:`~bayes_bcsm.reconstruct.calibrate`: the loss against every published figure;
- :mod:`~bayes_bcsm.reconstruct.fast_score`, :mod:`~bayes_bcsm.reconstruct.search`: the
  calibration search.

The published figures themselves live in :mod:`bayes_bcsm.study`.
"""

from bayes_bcsm.reconstruct.generator import (
    CALIBRATED_PARAMS,
    CALIBRATED_SEED,
    TRUE_EFFECTS,
    GeneratorParams,
    ReconstructionConfig,
    format_cohort_csv,
    read_reconstruction_config,
    simulate_cohort,
    true_effects,
)

__all__ = [
    "CALIBRATED_PARAMS",
    "CALIBRATED_SEED",
    "TRUE_EFFECTS",
    "GeneratorParams",
    "ReconstructionConfig",
    "format_cohort_csv",
    "read_reconstruction_config",
    "simulate_cohort",
    "true_effects",
]
