"""What a prognosis run compares, checked once (PyMC-free): named predictors, folds, horizons.

Predictor names (each resolved here, an unknown one refused with the valid ones):

* a key of ``scores`` (e.g. ``tomita: tomita_score``, ``tomita_groups: tomita_group``): a
  prognostic score as given, one ordinal (numeric) or categorical (risk-group) column;
* ``cox_selection``: the paper's selection procedure among ``selection_factors``;
* ``<family>_<set>``: a model of family ``cox``, ``weibull``, ``piecewise`` or
  ``exponential`` on the covariate set ``covariate_sets[<set>]``; a Bayesian family may end
  in ``_horseshoe`` (the regularised horseshoe prior instead of the run's prior).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from bayes_bcsm.errors import SettingError
from bayes_bcsm.prognosis.folds import CrossValidationSpec

__all__ = ["FAMILIES", "PredictorSpec", "PrognosisPlan", "predictor_specs"]

#: Families a ``<family>_<set>`` predictor may name (``cox`` is the frequentist one).
FAMILIES = ("cox", "weibull", "piecewise", "exponential")


@dataclass(frozen=True)
class PredictorSpec:
    """One predictor to validate.

    Attributes
    ----------
    name : str
    kind : {"score", "cox", "selection", "bayes"}
        ``score``: a prognostic score's column in a Cox model (refitted per fold).
    factors : tuple of str
        Columns it uses (candidates of the selection).
    family : str
        ``cox`` or a Bayesian family.
    horseshoe : bool
        Bayesian model under the regularised horseshoe prior.
    """

    name: str
    kind: str
    factors: tuple[str, ...]
    family: str = "cox"
    horseshoe: bool = False


@dataclass(frozen=True)
class PrognosisPlan:
    """A checked prognosis run.

    Attributes
    ----------
    predictors : tuple of PredictorSpec
    cv : CrossValidationSpec
    horizons_months : tuple of float
        Increasing, > 0.
    calibration_months : float
        One of the horizons.
    tau_months : float
        Truncation of Uno's C (> 0).
    """

    predictors: tuple[PredictorSpec, ...]
    cv: CrossValidationSpec = field(default_factory=CrossValidationSpec)
    horizons_months: tuple[float, ...] = (12.0, 36.0, 60.0)
    calibration_months: float = 36.0
    tau_months: float = 60.0

    def __post_init__(self) -> None:
        h = self.horizons_months
        if not h or any(x <= 0 for x in h) or any(b <= a for a, b in pairwise(h)):
            raise SettingError(
                "expected increasing positive times (months)", ("horizons_months",), (list(h),)
            )
        if self.calibration_months not in h:
            raise SettingError(
                f"expected one of the horizons {list(h)}",
                ("calibration_months",),
                (self.calibration_months,),
            )
        if self.tau_months <= 0:
            raise SettingError("expected a time > 0 (months)", ("tau_months",), (self.tau_months,))

    @property
    def factors(self) -> tuple[str, ...]:
        """Every column any predictor uses (the cohort is their complete cases)."""
        return tuple(dict.fromkeys(f for p in self.predictors for f in p.factors))


def _resolve(
    name: str,
    scores: Mapping[str, str],
    covariate_sets: Mapping[str, Sequence[str]],
    selection_factors: Sequence[str],
) -> PredictorSpec | None:
    if name in scores:
        return PredictorSpec(name, "score", (scores[name],))
    if name == "cox_selection":
        return PredictorSpec(name, "selection", tuple(selection_factors))
    family, _, rest = name.partition("_")
    horseshoe = rest.endswith("_horseshoe") and family != "cox"
    chosen = rest.removesuffix("_horseshoe") if horseshoe else rest
    if family not in FAMILIES or chosen not in covariate_sets:
        return None
    kind = "cox" if family == "cox" else "bayes"
    return PredictorSpec(name, kind, tuple(covariate_sets[chosen]), family, horseshoe)


def predictor_specs(
    names: Sequence[str],
    scores: Mapping[str, str],
    covariate_sets: Mapping[str, Sequence[str]],
    selection_factors: Sequence[str],
) -> tuple[PredictorSpec, ...]:
    """Resolve predictor names (see the module docstring).

    Raises
    ------
    SettingError
        An unknown or repeated name (field ``predictors``), listing the valid forms.
    """
    if len(set(names)) != len(names):
        raise SettingError("expected each predictor once", ("predictors",), (list(names),))
    specs = []
    for name in names:
        spec = _resolve(name, scores, covariate_sets, selection_factors)
        if spec is None:
            valid = [*scores, "cox_selection"] + [
                f"{f}_{s}" for f in FAMILIES for s in covariate_sets
            ]
            raise SettingError(
                f"unknown predictor {name!r}; valid: {', '.join(valid)} (a Bayesian family "
                "may end in _horseshoe)",
                ("predictors",),
                (list(names),),
            )
        if spec.kind == "selection" and not spec.factors:
            raise SettingError(
                "cox_selection needs candidate factors", ("selection_factors",), ([],)
            )
        specs.append(spec)
    return tuple(specs)
