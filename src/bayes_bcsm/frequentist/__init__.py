"""Frequentist baselines on numpy/scipy: Kaplan-Meier, log-rank / G-rho tests, Cox PH.

lifelines and statsmodels serve only as test oracles; nothing here imports them.
"""

from bayes_bcsm.frequentist._validate import SurvivalInputError, as_survival_arrays
from bayes_bcsm.frequentist.km import KaplanMeierResult, kaplan_meier
from bayes_bcsm.frequentist.logrank import LogrankResult, logrank_test

__all__ = [
    "KaplanMeierResult",
    "LogrankResult",
    "SurvivalInputError",
    "as_survival_arrays",
    "kaplan_meier",
    "logrank_test",
]
