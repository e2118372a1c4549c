"""bayes_bcsm: Bayesian and frequentist survival re-analysis of a breast-cancer spinal-metastasis
study.

The bundled cohort (``bayes_bcsm/data/bundled/bcsm_reconstructed.csv``, see
:func:`bayes_bcsm.resources.bundled_cohort`) is a *reconstruction* calibrated to the study's
published aggregates; it is not patient data.
"""

__version__ = "0.1.0"
