"""Frequentist baselines on numpy/scipy: Kaplan-Meier, log-rank / G-rho tests, Cox PH, on
right-censored data, delayed entry and (start, stop] episodes alike.

lifelines and statsmodels serve only as test oracles; nothing here imports them.
"""

from bayes_bcsm.frequentist._validate import SurvivalInputError, as_survival_arrays
from bayes_bcsm.frequentist.concordance import concordance_index
from bayes_bcsm.frequentist.cox import (
    ChiSquareTest,
    CoxError,
    CoxResult,
    SeparationWarning,
    cox_ph,
    cox_ph_design,
)
from bayes_bcsm.frequentist.km import KaplanMeierResult, kaplan_meier
from bayes_bcsm.frequentist.logrank import LogrankResult, logrank_test
from bayes_bcsm.frequentist.rmst import RmstComparison, km_milestones, km_rmst, rmst_comparison
from bayes_bcsm.frequentist.selection import SelectionError, SelectionResult, paper_selection
from bayes_bcsm.frequentist.zph import ZphResult, cox_zph

__all__ = [
    "ChiSquareTest",
    "CoxError",
    "CoxResult",
    "KaplanMeierResult",
    "LogrankResult",
    "RmstComparison",
    "SelectionError",
    "SelectionResult",
    "SeparationWarning",
    "SurvivalInputError",
    "ZphResult",
    "as_survival_arrays",
    "concordance_index",
    "cox_ph",
    "cox_ph_design",
    "cox_zph",
    "kaplan_meier",
    "km_milestones",
    "km_rmst",
    "logrank_test",
    "paper_selection",
    "rmst_comparison",
]
