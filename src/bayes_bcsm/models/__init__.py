"""Bayesian survival models: functions that take a design and return a PyMC model.

Families (:mod:`~bayes_bcsm.models.weibull`, :mod:`~bayes_bcsm.models.piecewise`,
:mod:`~bayes_bcsm.models.gompertz`, :mod:`~bayes_bcsm.models.mspline`,
:mod:`~bayes_bcsm.models.aft`) supply their hazard functions;
:mod:`~bayes_bcsm.models.likelihood` holds the one per-patient survival log-likelihood they
share; :mod:`~bayes_bcsm.models.families` is the registry that maps a family name to its builder
and numpy hazards (:func:`model_family`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bayes_bcsm.models.aft import loglogistic_model, lognormal_model
    from bayes_bcsm.models.base import OBSERVED, SurvivalModel
    from bayes_bcsm.models.families import (
        FAMILIES,
        SurvivalFamily,
        UnknownFamilyError,
        model_family,
    )
    from bayes_bcsm.models.gompertz import gompertz_model
    from bayes_bcsm.models.missing import MissingDesign, build_design_with_missing
    from bayes_bcsm.models.mspline import mspline_model
    from bayes_bcsm.models.piecewise import piecewise_cuts, piecewise_model
    from bayes_bcsm.models.specs import (
        DEFAULT_CUTS_MONTHS,
        BaselineSpec,
        PriorError,
        PriorSpec,
        SplineSpec,
    )
    from bayes_bcsm.models.weibull import aft_to_ph, exponential_model, weibull_model

#: Public name -> the submodule that defines it. Imported on first use (PEP 562), so the plain
#: settings of :mod:`bayes_bcsm.models.specs` load without PyMC.
_HOMES: dict[str, str] = {
    "loglogistic_model": "aft",
    "lognormal_model": "aft",
    "gompertz_model": "gompertz",
    "mspline_model": "mspline",
    "SplineSpec": "specs",
    "OBSERVED": "base",
    "SurvivalModel": "base",
    "FAMILIES": "families",
    "SurvivalFamily": "families",
    "UnknownFamilyError": "families",
    "model_family": "families",
    "MissingDesign": "missing",
    "build_design_with_missing": "missing",
    "piecewise_cuts": "piecewise",
    "piecewise_model": "piecewise",
    "DEFAULT_CUTS_MONTHS": "specs",
    "BaselineSpec": "specs",
    "PriorError": "specs",
    "PriorSpec": "specs",
    "aft_to_ph": "weibull",
    "exponential_model": "weibull",
    "weibull_model": "weibull",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = [
    "DEFAULT_CUTS_MONTHS",
    "FAMILIES",
    "OBSERVED",
    "BaselineSpec",
    "MissingDesign",
    "PriorError",
    "PriorSpec",
    "SplineSpec",
    "SurvivalFamily",
    "SurvivalModel",
    "UnknownFamilyError",
    "aft_to_ph",
    "build_design_with_missing",
    "exponential_model",
    "gompertz_model",
    "loglogistic_model",
    "lognormal_model",
    "model_family",
    "mspline_model",
    "piecewise_cuts",
    "piecewise_model",
    "weibull_model",
]
