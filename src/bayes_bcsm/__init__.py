"""bayes_bcsm: Bayesian and frequentist survival re-analysis of a breast-cancer spinal-metastasis
study.

The bundled cohort (``data/bcsm_reconstructed.csv``, shipped as ``bayes_bcsm.bundled``; see
:func:`bayes_bcsm.resources.bundled_cohort`) is a *reconstruction* calibrated to the study's
published aggregates; it is not patient data.
"""

__version__ = "0.1.0"
