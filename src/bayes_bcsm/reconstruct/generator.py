"""A seeded generative model of the cohort: covariates with exact published counts, PH survival.

This module holds the generator's parameters, the top-level :func:`simulate_cohort`, the
calibrated parameters (read from the packaged ``reconstruction.yaml``) and the CSV format of
the committed cohort; the work is done by :mod:`~bayes_bcsm.reconstruct.covariates` (with the
primitives of :mod:`~bayes_bcsm.reconstruct.sampling`) and
:mod:`~bayes_bcsm.reconstruct.survival`.

The study's patient-level data are not public. This module draws cohorts that reproduce
the published aggregates of Hu et al. (2025), Table 1 counts exactly (for ``n = 78``) and
the survival figures approximately (the calibration in :mod:`bayes_bcsm.reconstruct.calibrate`
chooses the parameters and the seed).

How a cohort is drawn
---------------------
1. **Exact counts by constrained assignment.** Every categorical item of Table 1 is an
   exact-count vector (scaled by largest remainder when ``n != 78``). Which patients carry
   a level is decided by a Gumbel top-k draw on a clinical score, so the counts are exact
   while the dependence is clinically coherent (e.g. endocrine therapy goes to hormone-
   receptor-positive patients, TES to solitary lesions, vertebroplasty to patients without
   cord compression, chemotherapy / targeted therapy more often to HER2-positive ones).
2. **Nested sets.** ``visceral`` is a subset of ``other_bone`` (Table 1: spine only 30 +
   other bones 48 = 78); solitary lesions are a subset of spine-only patients; ASIA A-C
   before surgery (16) is a subset of the 30 with neurological symptoms; ASIA A-C after
   surgery (16) is a subset of the 30 symptomatic patients, ``postop_abc_overlap`` of them
   being the preoperative A-C patients who did not recover and the rest preoperative
   ASIA D patients who deteriorated (identical sets would make Table 3 singular).
3. **Continuous items** take the values of a quantile function through the published
   median / quartiles (or a normal matched to mean / SD) at plotting positions
   ``(i - 0.5) / m``, assigned to patients by the rank of a latent clinical score
   (a Gaussian-copula-like construction): the marginal matches by construction, the
   dependence comes from the score.
4. **Scores from components.** Tomita (primary growth 1-2, bone 1-2, visceral 0/2/4) and
   revised Tokuhashi (KPS, extraspinal bone, vertebral, visceral, primary = 5 for breast,
   palsy from ASIA) are sums of components: the ones the cohort records are fixed, the
   unrecorded ones are latent and chosen by a seeded local search so that the group
   counts are exact.
5. **Survival.** Event times from a proportional-hazards model with a piecewise-constant
   baseline hazard (knots in :attr:`GeneratorParams.baseline_knots_months`) and log hazard
   ratios :data:`TRUE_EFFECTS` acting on the (latent, complete) covariates; accrual
   staggered over July 2010 - December 2021 (Beta-distributed dates); the study closes when the
   target fraction of deaths (48 / 78) has been observed (event-driven close), which
   fixes the number of deaths exactly and sets administrative censoring.

References
----------
Hu P, Wu X, Li Y, et al. Survival outcomes and prognostic factors of breast cancer spinal
metastases: a retrospective study. Published online 20 May 2025.
Tomita K, et al. Spine 2001;26:298-306. Tokuhashi Y, et al. World J Orthop 2014;5:262-71.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from bayes_bcsm.data.contract import REQUIRED_COLUMNS
from bayes_bcsm.data.io import validate_cohort
from bayes_bcsm.errors import BayesBcsmUserError
from bayes_bcsm.reconstruct.covariates import N_PUBLISHED, simulate_covariates
from bayes_bcsm.reconstruct.survival import simulate_survival
from bayes_bcsm.resources import reconstruction_config
from bayes_bcsm.study import bundled_targets

__all__ = [
    "CALIBRATED_PARAMS",
    "CALIBRATED_SEED",
    "DEFAULT_EFFECTS",
    "TRUE_EFFECTS",
    "GeneratorParams",
    "ReconstructionConfig",
    "ReconstructionConfigError",
    "format_cohort_csv",
    "read_reconstruction_config",
    "simulate_cohort",
    "true_effects",
]


class ReconstructionConfigError(BayesBcsmUserError, ValueError):
    """A reconstruction config that is missing, unreadable or malformed (n, seed, params)."""


def _published_death_fraction() -> float:
    targets = bundled_targets()
    return targets.deaths / targets.n


#: Starting log hazard ratios (centre of the calibration search), per indicator = 1 vs 0.
#: Keys name the indicators the generator builds (see :func:`linear_predictor_columns`).
#: The calibrated truth is :data:`TRUE_EFFECTS`.
DEFAULT_EFFECTS: dict[str, float] = {
    "preop_neuro_abc": 1.0,
    "postop_neuro_abc": 0.45,
    "hormone_therapy": -0.85,
    "hormone_receptor_positive": -0.6,
    "visceral_metastasis": 0.2,
    "solitary_spinal_lesion": -0.3,
    "radiotherapy": -0.3,
    "chemo_or_targeted": -0.15,
    "age_over_50": 0.0,
    "breast_surgery_history": 0.1,
    "low_invasive_pathology": 0.15,
    "palliative_surgery": 0.1,
    "tes": 0.0,
    "kps_post_lt70": 0.0,
    "her2_positive": 0.0,
    "ki67_high": 0.2,
}


@dataclass(frozen=True)
class GeneratorParams:
    """Parameters of the generative model (the published counts come from the study's targets).

    Attributes
    ----------
    effects : dict of str to float
        Log hazard ratios (see :data:`TRUE_EFFECTS`).
    baseline_knots_months : tuple of float
        Right ends (months) of the intervals of the piecewise-constant baseline hazard.
    baseline_cumhaz : tuple of float
        Baseline cumulative hazard at each knot (reference patient, all indicators 0).
    tail_hazard_per_month : float
        Baseline hazard beyond the last knot (per month).
    accrual_beta : tuple of float
        Shape parameters ``(a, b)`` of the Beta distribution of surgery dates over the 137
        months from July 2010 to December 2021 (``(1, 1)`` = uniform; ``b < 1`` = more
        patients in recent years).
    event_fraction : float or None
        Study closes when this fraction of patients has died (event-driven close); ``None``
        uses ``close_months_after_accrual`` instead.
    close_months_after_accrual : float
        Fixed close (months after December 2021) when ``event_fraction`` is ``None``; also the
        earliest close allowed under the event-driven rule is ``min_followup_months`` after the
        last entry.
    min_followup_months : float
        Minimum follow-up of the last patient accrued (months).
    postop_abc_overlap : int
        Of the 16 patients ASIA A-C after surgery, how many were A-C before (for n = 78).
    hr_positive_untested : float
        Probability that an untested patient is (latently) hormone-receptor positive.
    ht_untested_weight : float
        Log-weight of untested vs tested receptor-positive patients for endocrine therapy.
    dependence : float
        Scale of the clinical scores relative to unit Gaussian / Gumbel noise (0 = independent
        columns, larger = stronger dependence).
    """

    effects: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EFFECTS))
    baseline_knots_months: tuple[float, ...] = (6.0, 12.0, 36.0, 50.0, 60.0)
    baseline_cumhaz: tuple[float, ...] = (0.0891, 0.1386, 0.7313, 1.5828, 1.7617)
    tail_hazard_per_month: float = 1.0
    accrual_beta: tuple[float, float] = (1.0, 0.7)
    event_fraction: float | None = field(default_factory=_published_death_fraction)
    close_months_after_accrual: float = 18.0
    min_followup_months: float = 6.0
    postop_abc_overlap: int = 11
    hr_positive_untested: float = 0.85
    ht_untested_weight: float = 0.0
    dependence: float = 1.0

    def with_effects(self, effects: Mapping[str, float] | None) -> GeneratorParams:
        """A copy with some log hazard ratios overridden (unknown names raise ``KeyError``)."""
        if not effects:
            return self
        unknown = sorted(set(effects) - set(self.effects))
        if unknown:
            raise KeyError(
                f"unknown effect(s) {unknown}; valid names: {', '.join(sorted(self.effects))}"
            )
        merged = dict(self.effects)
        merged.update({k: float(v) for k, v in effects.items()})
        return replace(self, effects=merged)

    def to_dict(self) -> dict:
        """Plain types (for YAML)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [float(v) for v in value]
            elif isinstance(value, dict):
                value = {k: float(v) for k, v in value.items()}
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, values: Mapping) -> GeneratorParams:
        """Inverse of :meth:`to_dict`; unknown keys raise ``KeyError`` naming the valid ones."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise KeyError(f"unknown generator parameter(s) {unknown}; valid: {sorted(names)}")
        kwargs = {}
        for key, value in values.items():
            if key in ("baseline_knots_months", "baseline_cumhaz", "accrual_beta"):
                value = tuple(float(v) for v in value)
            elif key == "effects":
                value = {**DEFAULT_EFFECTS, **{k: float(v) for k, v in value.items()}}
            kwargs[key] = value
        return cls(**kwargs)


def simulate_cohort(
    n: int = N_PUBLISHED,
    seed: int | np.random.Generator = 0,
    effects: Mapping[str, float] | None = None,
    params: GeneratorParams | None = None,
) -> pd.DataFrame:
    """Draw a contract-valid cohort of ``n`` patients.

    Parameters
    ----------
    n : int
        Number of patients; published counts are scaled as proportions when ``n != 78``.
    seed : int or numpy.random.Generator
        Seed (or generator) of every random choice.
    effects : mapping of str to float, optional
        Log hazard ratios overriding those of ``params`` (e.g. ``{"hormone_therapy": 0.0}``
        for a null scenario); valid names are the keys of :data:`TRUE_EFFECTS`.
    params : GeneratorParams, optional
        Default :data:`CALIBRATED_PARAMS` (the parameters chosen by the calibration).

    Returns
    -------
    DataFrame
        The typed frame of :func:`bayes_bcsm.data.validate_cohort`, columns in contract order.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    params = (params or CALIBRATED_PARAMS).with_effects(effects)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    cov = simulate_covariates(n, rng, params)
    time, event, _ = simulate_survival(cov, rng, params)
    cov["time_months"] = time
    cov["event"] = event
    width = max(3, len(str(n)))
    cov["patient_id"] = [f"R{i + 1:0{width}d}" for i in range(n)]
    raw = cov[list(REQUIRED_COLUMNS)]
    return validate_cohort(raw, source=f"simulate_cohort(n={n})").frame


def true_effects(params: GeneratorParams | None = None) -> dict[str, float]:
    """The log hazard ratios used as the truth in simulation studies."""
    return dict((params or CALIBRATED_PARAMS).effects)


@dataclass(frozen=True)
class ReconstructionConfig:
    """A generating config: cohort size, seed and generator parameters (plus what else it holds).

    Attributes
    ----------
    n : int
        Patients.
    seed : int
        Seed of :func:`simulate_cohort`.
    params : GeneratorParams
    extra : dict
        The config's other entries (e.g. the search summary).
    """

    n: int
    seed: int
    params: GeneratorParams
    extra: dict = field(default_factory=dict)


def read_reconstruction_config(path: str | Path | None = None) -> ReconstructionConfig:
    """Read a generating config (default: the bundled cohort's ``reconstruction.yaml``,
    :func:`bayes_bcsm.resources.reconstruction_config`).

    Parameters
    ----------
    path : str or Path, optional
        Another config.

    Raises
    ------
    ReconstructionConfigError
        When the file is missing or unreadable, not YAML, or ``n``, ``seed`` or ``params`` is
        missing or malformed (the message names the file).
    """
    path = reconstruction_config() if path is None else Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ReconstructionConfigError(
            f"{path}: cannot read the reconstruction config ({err.strerror or err})"
        ) from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ReconstructionConfigError(f"{path}: not valid YAML{line}") from None
    if not isinstance(raw, dict):
        raise ReconstructionConfigError(
            f"{path}: expected a mapping with keys n, seed, params; found {type(raw).__name__}"
        )
    missing = [key for key in ("n", "seed", "params") if key not in raw]
    if missing:
        raise ReconstructionConfigError(
            f"{path}: missing key {missing[0]!r} (expected n, seed, params)"
        )
    try:
        n, seed = int(raw["n"]), int(raw["seed"])
        params = GeneratorParams.from_dict(raw["params"])
    except KeyError as err:  # an unknown generator parameter (the message lists the valid ones)
        raise ReconstructionConfigError(f"{path}: params: {err.args[0]}") from None
    except (TypeError, ValueError, AttributeError) as err:
        raise ReconstructionConfigError(
            f"{path}: n, seed and params must be two integers and a mapping of generator "
            f"parameters ({err})"
        ) from None
    extra = {k: v for k, v in raw.items() if k not in ("n", "seed", "params")}
    return ReconstructionConfig(n, seed, params, extra)


_CALIBRATED = read_reconstruction_config()
#: Parameters chosen by the calibration search (``bayes-bcsm calibrate --search``), read from
#: the bundled ``reconstruction.yaml``.
CALIBRATED_PARAMS: GeneratorParams = _CALIBRATED.params
#: Seed of the committed cohort.
CALIBRATED_SEED: int = _CALIBRATED.seed
#: True log hazard ratios of the calibrated generator: the known truth for simulation studies.
TRUE_EFFECTS: dict[str, float] = dict(CALIBRATED_PARAMS.effects)


_CSV_DECIMALS = {
    "age_years": 1,
    "interval_to_spinal_surgery_months": 1,
    "operation_minutes": 0,
    "blood_loss_ml": 0,
    "time_months": 2,
}


def format_cohort_csv(frame: pd.DataFrame) -> str:
    """The cohort as CSV text with fixed formatting (bit-identical for identical data).

    Floats are written with a fixed number of decimals per column, integers and 0/1 as
    integers, missing values as empty cells, ``\\n`` line endings.
    """
    cols = []
    for name in REQUIRED_COLUMNS:
        s = frame[name]
        if name in _CSV_DECIMALS:
            d = _CSV_DECIMALS[name]
            text = s.astype(float).map(lambda v, d=d: "" if pd.isna(v) else f"{v:.{d}f}")
        elif pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(
            s.dtype, pd.CategoricalDtype
        ):
            text = s.map(lambda v: "" if pd.isna(v) else str(int(v)))
        else:
            text = s.astype(object).map(lambda v: "" if v is None or pd.isna(v) else str(v))
        cols.append(text.to_numpy(dtype=object))
    lines = [",".join(REQUIRED_COLUMNS)]
    for row in zip(*cols, strict=True):
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"
