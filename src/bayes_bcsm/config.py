"""Structured configs: the schema every Hydra run is checked against, and its section parsers.

The dataclasses here are registered in Hydra's ConfigStore as ``base_config``; ``conf/config.yaml``
lists it first in its defaults, so every YAML option and command-line override is type-checked
(OmegaConf rejects an unknown key or an invalid enum value and lists the valid ones). Enums and
defaults come from the library's settings dataclasses. The functions below turn each section into
a library object (:class:`SamplerSettings`, :class:`PriorSpec`, :class:`CutSpec`,
:class:`ReportSettings`, ...), whose own ``__post_init__`` holds the one range rule of each value,
and re-raise a refusal as :class:`ConfigError` naming the config key; checks that belong to no
library object (covariates against the card, an existing file) live here.
:func:`bayes_bcsm.settings.parse_settings` calls them all, once per run, into ``RunSettings``.

Nothing here imports PyMC, PyTensor or ArviZ: a bad value is reported before they load.
Configuration stops at the edge: runs pass parts of ``RunSettings`` to library code, which never
reads a config.
"""

from __future__ import annotations

import dataclasses
import os
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from bayes_bcsm.data.card import DatasetCard, card_from_mapping, undescribed_file_message
from bayes_bcsm.data.contract import REQUIRED_COLUMNS
from bayes_bcsm.data.groupings import DERIVED_GROUPINGS
from bayes_bcsm.data.landmark import Landmark
from bayes_bcsm.data.profiles import PROFILE_COLUMN, read_profiles_csv
from bayes_bcsm.data.zero_time import DEFAULT_ZERO_TIME
from bayes_bcsm.errors import BayesBcsmUserError, SettingError
from bayes_bcsm.inference.absolute_settings import AbsoluteSettings, PredictSettings
from bayes_bcsm.inference.settings import (
    POINTWISE_FAMILIES,
    SAMPLERS,
    DiagnosticThresholds,
    SamplerSettings,
)
from bayes_bcsm.models.specs import (
    DEFAULT_CUTS_MONTHS,
    PRIOR_FAMILIES,
    CutSpec,
    PriorSpec,
    SplineSpec,
)
from bayes_bcsm.prognosis.folds import CrossValidationSpec
from bayes_bcsm.prognosis.plan import PrognosisPlan, predictor_specs
from bayes_bcsm.reinterpret import (
    NamedPrior,
    PrintedEstimate,
    ReinterpretError,
    check_unique_names,
    prior_grid,
)
from bayes_bcsm.resources import bundled_cohort, bundled_file, conf_dir, user_path
from bayes_bcsm.results import ReportSettings
from bayes_bcsm.simulation.methods import METHODS, SCENARIOS

BUNDLED_COHORT = bundled_cohort()


class ConfigError(BayesBcsmUserError, ValueError):
    """A configuration that cannot run; the message names the key and what was expected."""


class ModelFamily(Enum):
    """Survival model families."""

    weibull = "weibull"
    exponential = "exponential"
    piecewise = "piecewise"
    gompertz = "gompertz"
    mspline = "mspline"
    lognormal = "lognormal"
    loglogistic = "loglogistic"
    cox = "cox"


class CutMethod(Enum):
    """How piecewise-exponential interval cut points are chosen (``auto``: ``model.cuts_months``
    when given, else the study's fixed cuts on its card and event-time quantiles on any other)."""

    auto = "auto"
    fixed = "fixed"
    quantile = "quantile"


class BaselinePrior(Enum):
    """Prior on the piecewise log baseline hazards."""

    independent = "independent"
    random_walk = "random_walk"


#: Prior families for log hazard ratios (the library's ``models.specs.PRIOR_FAMILIES``).
PriorFamily = Enum("PriorFamily", {name: name for name in PRIOR_FAMILIES})


class MissingStrategy(Enum):
    """Handling of covariates with missing values."""

    complete_case = "complete_case"
    marginalize = "marginalize"


class CovariateMode(Enum):
    """One model with all covariates (``joint``) or one model per covariate (``univariate``)."""

    joint = "joint"
    univariate = "univariate"


#: MCMC back ends (the library's :data:`~bayes_bcsm.inference.settings.SAMPLERS`).
SamplerBackend = Enum("SamplerBackend", {name: name for name in SAMPLERS})


@dataclass
class CovariateCardConfig:
    """One covariate of a dataset card (``bayes_bcsm.data.card.CovariateSpec``)."""

    kind: str = MISSING
    label: str | None = None
    levels: list[str] = field(default_factory=list)
    reference: str | None = None
    missing_codes: list[str] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    hr_per: float = 1.0
    unit: str | None = None
    time_varying: bool = False


@dataclass
class ExposureStartConfig:
    """A 0/1 exposure that starts at a per-patient time (``bayes_bcsm.data.card.ExposureSpec``)."""

    start_column: str = MISSING
    label: str | None = None


class ExposureCoding(Enum):
    """How time-varying covariates enter: as such, or the naive 'ever exposed' coding."""

    time_dependent = "time_dependent"
    ever = "ever"


@dataclass
class DataConfig:
    """The dataset card: the file and what it holds (``bayes_bcsm.data.card.DatasetCard``).

    ``path`` (relative to where the command runs) or ``bundled`` (a file shipped in the
    package) names the file; with ``contract=hu2025`` and neither, the bundled reconstruction.
    ``time_unit`` (days, weeks, months, years) and ``zero_time`` (``shift`` or ``refuse``, see
    :mod:`bayes_bcsm.data.zero_time`) are checked by the card's own rule
    (:func:`~bayes_bcsm.data.card.card_from_mapping`), so a bad value is one line naming the key.

    ``start_column``: start of each row's follow-up (with ``id_column``: one row per (start,
    stop] episode; alone: delayed entry); ``time_varying``: exposures built from per-patient
    start times; ``exposure_coding=ever``: the naive time-fixed coding instead.
    """

    name: str = MISSING
    title: str = ""
    path: str | None = None
    bundled: str | None = None
    contract: str | None = None
    study: bool = False
    id_column: str | None = None
    time_column: str = "time_months"
    time_unit: str = "months"
    zero_time: str = DEFAULT_ZERO_TIME
    event_column: str = "event"
    event_values: list[str] = field(default_factory=lambda: ["1"])
    censor_values: list[str] = field(default_factory=lambda: ["0"])
    covariates: dict[str, CovariateCardConfig] = field(default_factory=dict)
    time_label: str = "Months"
    outcome_label: str | None = None
    start_column: str | None = None
    time_varying: dict[str, ExposureStartConfig] = field(default_factory=dict)
    exposure_coding: ExposureCoding = ExposureCoding.time_dependent


@dataclass
class ModelConfig:
    """Model family and its structure (cut points only matter for ``piecewise``, ``df`` only
    for ``mspline``).

    ``cuts_months``: fixed cut points (months, from 0); given, they are always the ones used
    (``cut_method=quantile`` with them is refused). Not given (null): ``cut_method=fixed`` and,
    on the study's card, ``auto`` use the study's cuts (0, 6, 12, 24, 36, 60); ``quantile`` and,
    on any other card, ``auto`` use ``n_intervals`` event-time quantile intervals.
    ``df``: cubic M-spline basis functions of ``mspline`` (>= 4; ``df - 4`` interior knots at
    event-time quantiles).
    """

    family: ModelFamily = ModelFamily.weibull
    cut_method: CutMethod = CutMethod.auto
    cuts_months: list[float] | None = None
    n_intervals: int = CutSpec.n_quantile_intervals
    baseline_prior: BaselinePrior = BaselinePrior.random_walk
    df: int = SplineSpec.df


@dataclass
class PriorConfig:
    """Prior on log hazard ratios, per design unit (mirrors ``bayes_bcsm.models.PriorSpec``).

    ``scale``: sd of the normal / scale of Student-t and log-F priors. Sceptical prior:
    ``P(HR > sceptical_hr) = sceptical_tail``. Horseshoe: ``expected_nonzero`` log-HRs
    expected away from 0, slab ``slab_scale`` / ``slab_df``, half-t(``global_df``) on tau.
    """

    family: PriorFamily = PriorFamily[PriorSpec.family]
    scale: float = PriorSpec.scale
    center: float = PriorSpec.center
    nu: float = PriorSpec.nu
    sceptical_hr: float = PriorSpec.sceptical_hr
    sceptical_tail: float = PriorSpec.sceptical_tail
    log_f_m: float = PriorSpec.log_f_m
    expected_nonzero: float = PriorSpec.expected_nonzero
    slab_scale: float = PriorSpec.slab_scale
    slab_df: float = PriorSpec.slab_df
    global_df: float = PriorSpec.global_df


@dataclass
class CovariatesConfig:
    """Which covariates enter the model, how, and their reference levels."""

    mode: CovariateMode = CovariateMode.joint
    names: list[str] = field(default_factory=list)
    reference: dict[str, str] = field(default_factory=dict)
    standardize: bool = True


@dataclass
class MissingConfig:
    """Missing-covariate strategy; ``marginalize`` sums out ``covariate`` exactly.

    ``depends_on``: covariates (of ``covariates.names``, other than ``covariate``) on which the
    marginalised covariate's own distribution ``P(covariate | depends_on)`` depends (a
    multinomial logit); empty = one distribution for every patient. Only with ``marginalize``.
    """

    strategy: MissingStrategy = MissingStrategy.complete_case
    covariate: str = "hormone_receptor"
    depends_on: list[str] = field(default_factory=list)


@dataclass
class SamplerConfig:
    """MCMC settings and the diagnostic policy (defaults: the library's ``SamplerSettings``)."""

    backend: SamplerBackend = SamplerBackend[SamplerSettings.sampler]
    chains: int = SamplerSettings.chains
    draws: int = SamplerSettings.draws
    tune: int = SamplerSettings.tune
    target_accept: float = SamplerSettings.target_accept
    progress_bar: bool = SamplerSettings.progress_bar
    strict: bool = False
    pointwise_max_patients: int = SamplerSettings.pointwise_max_patients
    chunked_loo: bool = SamplerSettings.chunked_loo


@dataclass
class ReportConfig:
    """What a run writes besides its numbers."""

    title: str = ReportSettings.title
    html: bool = ReportSettings.html
    plots: bool = ReportSettings.plots
    hdi_prob: float = ReportSettings.hdi_prob
    horizons_months: list[float] | None = None


@dataclass
class CompareConfig:
    """Variants compared by ``experiments/compare.py``: each a space-separated override string."""

    variants: list[str] = field(default_factory=list)
    psense: bool = False


@dataclass
class PrognosisConfig:
    """Prognostic performance (``compare experiment=prognosis``): which predictors, how they are
    cross-validated and where they are scored (:mod:`bayes_bcsm.prognosis.plan`). An empty
    ``predictors`` list makes ``compare`` fit its variants instead."""

    predictors: list[str] = field(default_factory=list)
    scores: dict[str, str] = field(default_factory=dict)
    covariate_sets: dict[str, list[str]] = field(default_factory=dict)
    selection_factors: list[str] = field(default_factory=list)
    folds: int = 5
    repeats: int | None = None
    workers: int = 1
    horizons_months: list[float] = field(default_factory=lambda: [12.0, 36.0, 60.0])
    calibration_months: float = 36.0
    tau_months: float | None = None  # null: the last horizon


SIMULATION_SCENARIOS = SCENARIOS
SIMULATION_METHODS = METHODS


@dataclass
class DiagnosticsConfig:
    """Convergence thresholds (defaults: those of
    :class:`~bayes_bcsm.inference.diagnostics.DiagnosticThresholds`)."""

    rhat_max: float = DiagnosticThresholds.rhat_max
    ess_bulk_min: float = DiagnosticThresholds.ess_bulk_min
    ess_tail_min: float = DiagnosticThresholds.ess_tail_min
    divergences_max: int = DiagnosticThresholds.divergences_max
    ebfmi_min: float = DiagnosticThresholds.ebfmi_min
    max_treedepth_fraction: float = DiagnosticThresholds.max_treedepth_fraction


@dataclass
class SimulationConfig:
    """The simulation study (``experiments/simulate.py``).

    ``scenarios``: "calibrated" uses the generator's calibrated true effects,
    "null_conditional" sets the endocrine-therapy effect to HR = 1 (conditional on all the
    generator's indicators), "null_table3" to the value that makes the Table 3 model's
    pseudo-true endocrine HR 1. ``estimand_n`` / ``estimand_seed`` / ``estimand_cohorts`` /
    ``estimand_redraws``: the pool of large cohorts (``estimand_cohorts`` covariate draws of
    ``estimand_n`` patients from seed ``estimand_seed`` on, each with ``estimand_redraws``
    survival draws) on which each method's pseudo-true log-HRs and the null_table3 effect are
    computed, with their Monte Carlo SEs (cached in ``run_dir``). ``diagnostics``: failure
    rules of the Bayesian fits (thresholds of
    :class:`bayes_bcsm.inference.diagnostics.DiagnosticThresholds`, as single fits).
    ``shard`` selects one shard for a multirun sweep
    (``-m simulation.shard=range(0,16)``); null runs every shard not yet done, then aggregates.
    ``workers``: shards run at once, each in its own process, and then each Bayesian model's
    SBC in the same processes (the numbers do not depend on it: seeds depend on scenario, n
    and replicate only).
    ``sbc_replicates``: simulation-based calibration replicates per Bayesian model (0 = off).
    ``selection_factors``: candidates of the paper's selection procedure (empty = the Table 2
    factors of ``conf/covariates/univariate.yaml``).
    """

    replicates: int = 150
    n: list[int] = field(default_factory=lambda: [78])
    scenarios: list[str] = field(default_factory=lambda: list(SIMULATION_SCENARIOS))
    methods: list[str] = field(default_factory=lambda: list(SIMULATION_METHODS))
    shard_size: int = 25
    shard: int | None = None
    run_dir: str = "outputs/simulation/${experiment_name}"
    aggregate_only: bool = False
    workers: int = 1
    sbc_replicates: int = 50
    selection_factors: list[str] = field(default_factory=list)
    estimand_n: int = 100_000
    estimand_seed: int = 1
    estimand_cohorts: int = 1
    estimand_redraws: int = 1
    diagnostics: DiagnosticsConfig = field(default_factory=DiagnosticsConfig)


@dataclass
class EstimateConfig:
    """A printed hazard ratio to re-read: ``name``, ``hr``, ``lower``, ``upper`` (HR scale) and
    the level of the printed interval."""

    name: str = MISSING
    hr: float = MISSING
    lower: float = MISSING
    upper: float = MISSING
    ci_level: float = 0.95


@dataclass
class UserPriorConfig:
    """A user's own normal prior on the log-HR: prior median HR ``mean_hr`` and SD ``sd_log``."""

    name: str = MISSING
    mean_hr: float = MISSING
    sd_log: float = MISSING


@dataclass
class ReinterpretConfig:
    """Summary-level re-reading of printed hazard ratios (``bayes_bcsm.reinterpret``).

    ``estimates``: empty = the paper's printed Table 3 aHRs. The prior grid is every
    ``centres`` x ``strengths`` (tail probability beyond ``meaningful_hr``; see
    ``bayes_bcsm.reinterpret.priors``) plus ``priors`` (user priors); ``default_prior`` is the
    one reports put beside the patient-level posteriors. ``true_hrs``: design-analysis grid.
    """

    estimates: list[EstimateConfig] = field(default_factory=list)
    meaningful_hr: float = 0.5
    centres: list[str] = field(default_factory=lambda: ["neutral", "optimistic", "pessimistic"])
    strengths: dict[str, float] = field(
        default_factory=lambda: {"weak": 0.25, "moderate": 0.10, "strong": 0.025}
    )
    priors: list[UserPriorConfig] = field(default_factory=list)
    default_prior: str = "moderate neutral"
    thresholds: list[float] = field(default_factory=lambda: [1.0, 0.8, 0.5])
    true_hrs: list[float] = field(default_factory=lambda: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    alpha: float = 0.05
    level: float = 0.95


@dataclass
class AbsoluteConfig:
    """Standardised survival and RMST of an exposure (``bayes-bcsm compare``); the meaning and
    range of each key: :class:`~bayes_bcsm.inference.absolute_settings.AbsoluteSettings`."""

    exposure: str | None = None
    tau_months: float | None = None
    horizons_months: list[float] | None = None
    mcid_months: float = AbsoluteSettings.mcid_months
    extrapolate: bool = False


@dataclass
class PredictConfig:
    """``bayes-bcsm predict``: covariate profiles and where the posterior comes from.

    ``run_dir``: a saved fit run folder (or a comparison's ``variants/<variant>/``) holding
    ``posterior.nc`` and ``resolved_config.yaml`` (null: fit the configured model first).
    ``profiles``: a list of ``{profile: name, covariate: value, ...}`` (``profile`` optional);
    ``profiles_csv``: a CSV with one row per profile (an optional ``profile`` column names them)
    and one column per covariate. ``tau_months``, ``horizons_months`` (null: the predicted
    model's ``absolute`` settings, else the default horizons within its follow-up) and
    ``extrapolate`` as in :class:`AbsoluteConfig`.
    """

    run_dir: str | None = None
    profiles: list[typing.Any] = field(default_factory=list)
    profiles_csv: str | None = None
    tau_months: float | None = None
    horizons_months: list[float] | None = None
    extrapolate: bool = False


@dataclass
class ReproduceConfig:
    """``bayes-bcsm reproduce`` on a card other than the study's: the columns to split the
    Kaplan-Meier curves by (empty: the binary and categorical covariates in use)."""

    groups: list[str] = field(default_factory=list)


@dataclass
class Config:
    """The whole run configuration."""

    data: DataConfig = MISSING
    model: ModelConfig = MISSING
    prior: PriorConfig = MISSING
    covariates: CovariatesConfig = field(default_factory=CovariatesConfig)
    missing: MissingConfig = MISSING
    sampler: SamplerConfig = MISSING
    report: ReportConfig = MISSING
    compare: CompareConfig = field(default_factory=CompareConfig)
    prognosis: PrognosisConfig = field(default_factory=PrognosisConfig)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    reinterpret: ReinterpretConfig = MISSING
    reproduce: ReproduceConfig = field(default_factory=ReproduceConfig)
    absolute: AbsoluteConfig = field(default_factory=AbsoluteConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)
    seed: int = MISSING  # set in conf/config.yaml (one home)
    experiment_name: str = MISSING
    landmark_months: float | None = None  # landmark analysis from L months (null: none)


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore and the ``run_id`` and
    ``reproduction_name`` resolvers (idempotent).

    ``${run_id:}`` is ``p<process id>``: the default run folder
    ``outputs/<date>/<time>_<experiment>_p<pid>`` cannot be shared by two runs started in the
    same second, since no two live processes share a process id.
    ``${reproduction_name:${data.name},${data.study}}`` names a reproduction (its folder, log and
    Hydra job) after the data: ``paper_reproduction`` on the study's card, else
    ``<card>_reproduction``.
    """
    ConfigStore.instance().store(name="base_config", node=Config)
    if not OmegaConf.has_resolver("run_id"):
        OmegaConf.register_new_resolver("run_id", lambda: f"p{os.getpid()}", use_cache=True)
    if not OmegaConf.has_resolver("reproduction_name"):
        OmegaConf.register_new_resolver("reproduction_name", reproduction_name)


def reproduction_name(card_name: str, study: bool) -> str:
    """``paper_reproduction`` on the study's card, else ``<card_name>_reproduction``."""
    return "paper_reproduction" if study else f"{card_name}_reproduction"


#: Columns with a role of their own that can never be a covariate: id, time, event.
ROLE_COLUMNS: frozenset[str] = frozenset({"patient_id", "time_months", "event"})
KNOWN_COVARIATES: frozenset[str] = (
    frozenset(REQUIRED_COLUMNS) | frozenset(DERIVED_GROUPINGS)
) - ROLE_COLUMNS


def unknown_keys(node: DictConfig, schema: type | None = None, prefix: str = "") -> list[str]:
    """Keys of ``node`` that the schema dataclass does not define (full dotted names).

    Hydra's ``+key=value`` adds a key even to a structured config; this finds every such key
    (e.g. ``sampler.drawz``) so that no route lets an unknown key through silently. Free-form
    mappings of the schema (``dict`` fields such as ``covariates.reference``) are not descended.
    """
    schema = schema or Config
    hints = typing.get_type_hints(schema)
    found = []
    for key in node.keys():
        name = f"{prefix}{key}"
        if key not in hints:
            found.append(name)
            continue
        kind = hints[key]
        if dataclasses.is_dataclass(kind) and isinstance(node[key], DictConfig):
            found += unknown_keys(node[key], kind, f"{name}.")
    return found


def as_dictconfig(cfg: DictConfig | Config) -> DictConfig:
    """``cfg`` as a DictConfig (a structured ``Config`` instance is converted)."""
    return cfg if isinstance(cfg, DictConfig) else OmegaConf.structured(cfg)


def check_keys(cfg: DictConfig) -> None:
    """Refuse keys the schema does not define (``hydra`` aside).

    Raises
    ------
    ConfigError
        Listing every unknown dotted key.
    """
    extra = [k for k in unknown_keys(cfg) if k != "hydra"]
    if extra:
        raise ConfigError(
            f"unknown config key(s) {extra}: not in the schema (a typo, or a '+' override "
            "that added a key nothing reads); see conf/ for the valid keys"
        )


def build_setting[T](
    build: Callable[..., T], values: Mapping[str, typing.Any], key: Callable[[str], str]
) -> T:
    """``build(**values)``: a library settings dataclass, its refusal named by config key.

    The range rule of each value lives in the library dataclass (its ``__post_init__``); this
    reports a :class:`~bayes_bcsm.errors.SettingError` under the config's own key names.

    Parameters
    ----------
    build : callable
        The dataclass (or a function returning it).
    values : mapping
        Its keyword arguments, as plain values.
    key : callable
        Field name -> config key (e.g. ``"draws"`` -> ``"sampler.draws"``).

    Raises
    ------
    ConfigError
        ``<key>=<value>: <what the rule expects>``.
    """
    try:
        return build(**values)
    except SettingError as error:
        named = ", ".join(f"{key(f)}={_shown(values[f])}" for f in error.fields if f in values)
        raise ConfigError(f"{named or key('')}: {error.reason}") from error


def _shown(value: typing.Any) -> typing.Any:
    """A value as the user wrote it (a tuple of cut points as a list)."""
    return list(value) if isinstance(value, tuple) else value


def _horizons(value: typing.Any) -> tuple[float, ...] | None:
    """``report.horizons_months`` as a tuple of floats (None stays None: derived from follow-up)."""
    if value is None:
        return None
    return tuple(float(v) for v in value)


def report_settings(cfg: DictConfig | Config) -> ReportSettings:
    """What the run's report needs: ``report.*`` and the experiment name."""
    values = {
        "experiment_name": str(cfg.experiment_name),
        "title": str(cfg.report.title),
        "html": bool(cfg.report.html),
        "plots": bool(cfg.report.plots),
        "hdi_prob": float(cfg.report.hdi_prob),
        "horizons_months": _horizons(cfg.report.horizons_months),
    }
    return build_setting(ReportSettings, values, lambda f: f"report.{f}".rstrip("."))


def absolute_settings(cfg: DictConfig | Config, card: DatasetCard) -> AbsoluteSettings:
    """The ``absolute`` section (the card's default, ``conf/absolute/<card>.yaml``, if any),
    checked against the card.

    An exposure that is a covariate of the card but not among ``covariates.names`` is kept: the
    comparison run then leaves the absolute effects out and says so (the card's default exposure
    must not refuse a run that models other covariates).

    Raises
    ------
    ConfigError
        Naming ``absolute.<key>``: a bad value, an exposure that is not a covariate of the card,
        a continuous covariate, the marginalised covariate, or a card whose rows are
        (start, stop] episodes or time-varying exposures (no single row per patient to set the
        exposure on).
    """
    a = cfg.absolute
    values = {
        "exposure": None if a.exposure is None else str(a.exposure),
        "tau_months": None if a.tau_months is None else float(a.tau_months),
        "horizons_months": _horizons(a.horizons_months),
        "mcid_months": float(a.mcid_months),
        "extrapolate": bool(a.extrapolate),
    }
    settings = build_setting(AbsoluteSettings, values, lambda f: f"absolute.{f}".rstrip("."))
    name = settings.exposure
    if name is None:
        return settings
    where = f"absolute.exposure={name}"
    valid = card_covariates(card)
    if name not in valid:
        raise ConfigError(
            f"{where}: not a covariate of the dataset card {card.name!r}; expected a binary or "
            f"categorical covariate of covariates.names (valid covariates: "
            f"{', '.join(sorted(valid))}), or absolute.exposure=null for no absolute effects"
        )
    kinds = {spec.column: spec.kind for spec in card.covariates}
    if kinds.get(name) == "continuous":
        raise ConfigError(
            f"{where}: a continuous covariate has no levels to set every patient to; expected a "
            "binary or categorical covariate of covariates.names"
        )
    if cfg.missing.strategy == MissingStrategy.marginalize and name == cfg.missing.covariate:
        raise ConfigError(
            f"{where} is the marginalised covariate (missing.covariate): standardisation sets "
            "an observed exposure; choose another exposure or missing.strategy=complete_case"
        )
    if card.long_format or card.time_varying:
        raise ConfigError(
            f"{where}: data={card.name} has (start, stop] episodes or time-varying exposures, "
            "so a patient has no single row to set the exposure on; set absolute.exposure=null"
        )
    return settings


def predict_settings(cfg: DictConfig | Config) -> PredictSettings:
    """The ``predict`` section: the saved run (checked to hold a posterior and its config) and
    the profiles (from ``predict.profiles`` and ``predict.profiles_csv``, not both).

    Raises
    ------
    ConfigError
        Naming ``predict.<key>``: a folder without ``posterior.nc`` or ``resolved_config.yaml``,
        both or a malformed profile source, a profile that is not a mapping of covariates.
    """
    p = cfg.predict
    run_dir = None
    if p.run_dir is not None:
        run_dir = user_path(str(p.run_dir))
        needed = ("posterior.nc", "resolved_config.yaml")
        missing = [f for f in needed if not (run_dir / f).is_file()]
        if missing:
            raise ConfigError(
                f"predict.run_dir={p.run_dir}: no {' or '.join(missing)} there; expected the "
                "folder of a fit run (or a comparison's variants/<variant>/)"
                + _resolved(str(p.run_dir))
            )
    if p.profiles and p.profiles_csv is not None:
        raise ConfigError(
            "predict.profiles and predict.profiles_csv are both set: give the profiles one way"
        )
    if p.profiles_csv is not None:
        path = user_path(str(p.profiles_csv))
        if not path.is_file():
            raise ConfigError(
                f"predict.profiles_csv={p.profiles_csv}: no such file"
                + _resolved(str(p.profiles_csv))
            )
        profiles = read_profiles_csv(path)
    else:
        profiles = {}
        for i, item in enumerate(p.profiles):
            where = f"predict.profiles[{i}]"
            if not isinstance(item, DictConfig):
                raise ConfigError(
                    f"{where}={item}: expected a mapping {{profile: name, covariate: value, ...}}"
                )
            values = {str(k): v for k, v in item.items()}
            name = str(values.pop(PROFILE_COLUMN, f"profile {i + 1}"))
            if name in profiles:
                raise ConfigError(f"{where}: profile name {name!r} repeated")
            profiles[name] = (where, values)
    values = {
        "tau_months": None if p.tau_months is None else float(p.tau_months),
        "horizons_months": _horizons(p.horizons_months),
        "extrapolate": bool(p.extrapolate),
    }
    times = build_setting(AbsoluteSettings, values, lambda f: f"predict.{f}".rstrip("."))
    return PredictSettings(run_dir=run_dir, profiles=profiles, times=times)


def prior_spec(cfg: DictConfig | Config) -> PriorSpec:
    """The configured log-HR prior as a plain :class:`~bayes_bcsm.models.PriorSpec`.

    ``PriorConfig`` mirrors ``PriorSpec`` field for field (the family as an enum).

    Raises
    ------
    ConfigError
        Naming the ``prior.*`` key(s) the prior's own rule rejected (e.g. ``prior.nu``).
    """
    values = {f.name: cfg.prior[f.name] for f in dataclasses.fields(PriorSpec)}
    values["family"] = cfg.prior.family.value
    return build_setting(PriorSpec, values, lambda f: f"prior.{f}".rstrip("."))


#: SamplerSettings field -> config key.
_SAMPLER_KEYS = {"sampler": "sampler.backend", "seed": "seed"}


def check_chunked_loo(cfg: DictConfig | Config) -> None:
    """Refuse ``sampler.chunked_loo=true`` where the pointwise log-likelihood cannot be computed
    from the draws (a family outside ``POINTWISE_FAMILIES`` or a marginalised covariate).

    Raises
    ------
    ConfigError
        Naming ``sampler.chunked_loo`` and why.
    """
    if not cfg.sampler.chunked_loo:
        return
    family = cfg.model.family.value
    if family != "cox" and family not in POINTWISE_FAMILIES:
        raise ConfigError(
            f"sampler.chunked_loo=true: chunked PSIS-LOO covers model.family "
            f"{', '.join(POINTWISE_FAMILIES)}, not {family}; raise "
            "sampler.pointwise_max_patients above the number of patients instead"
        )
    if cfg.missing.strategy == MissingStrategy.marginalize:
        raise ConfigError(
            "sampler.chunked_loo=true: not with missing.strategy=marginalize (its per-patient "
            "mixture keeps the stored log-likelihood); raise sampler.pointwise_max_patients "
            "above the number of patients instead"
        )


def sampler_settings(cfg: DictConfig | Config) -> SamplerSettings:
    """The configured sampler as plain :class:`~bayes_bcsm.inference.settings.SamplerSettings`.

    Built with the per-patient log-likelihood (runs compute PSIS-LOO from it), so settings too
    small for PSIS-LOO are refused here, before sampling.

    Raises
    ------
    ConfigError
        Naming the key the sampler's own rule rejected (e.g. ``sampler.tune=5``).
    """
    s = cfg.sampler
    values = {
        "sampler": s.backend.value,
        "chains": s.chains,
        "draws": s.draws,
        "tune": s.tune,
        "target_accept": s.target_accept,
        "seed": int(cfg.seed),
        "progress_bar": s.progress_bar,
        "pointwise_max_patients": s.pointwise_max_patients,
        "chunked_loo": s.chunked_loo,
    }
    return build_setting(
        SamplerSettings, values, lambda f: _SAMPLER_KEYS.get(f, f"sampler.{f}".rstrip("."))
    )


def diagnostic_thresholds(section: DictConfig) -> DiagnosticThresholds:
    """``simulation.diagnostics`` as :class:`~bayes_bcsm.inference.settings.DiagnosticThresholds`.

    Raises
    ------
    ConfigError
        Naming the ``simulation.diagnostics.*`` key the thresholds' own rule rejected.
    """
    values = OmegaConf.to_container(section, resolve=True)
    return build_setting(
        DiagnosticThresholds, values, lambda f: f"simulation.diagnostics.{f}".rstrip(".")
    )


def cut_spec(cfg: DictConfig | Config, study: bool) -> CutSpec:
    """The piecewise cut points the configuration asks for (see :class:`ModelConfig`).

    Explicit ``model.cuts_months`` always win; without them ``auto`` means the study's fixed cuts
    on the study's card (``study``) and event-time quantiles on any other.

    Raises
    ------
    ConfigError
        For bad cut points, ``model.n_intervals < 1``, or explicit cuts with
        ``cut_method=quantile``.
    """
    model = cfg.model
    given = None if model.cuts_months is None else tuple(float(c) for c in model.cuts_months)
    if given is not None and model.cut_method == CutMethod.quantile:
        raise ConfigError(
            f"model.cuts_months={list(given)} with model.cut_method=quantile: fixed cut points "
            "and quantile cut points exclude each other; drop one of the two"
        )
    fixed = model.cut_method == CutMethod.fixed or (model.cut_method == CutMethod.auto and study)
    if given is None and fixed:
        given = (0.0, *DEFAULT_CUTS_MONTHS)
    values = {"cuts_months": given, "n_quantile_intervals": model.n_intervals}
    keys = {"cuts_months": "model.cuts_months", "n_quantile_intervals": "model.n_intervals"}
    return build_setting(CutSpec, values, lambda f: keys.get(f, "model"))


def spline_spec(cfg: DictConfig | Config) -> SplineSpec:
    """The M-spline baseline's size (``model.df``).

    Raises
    ------
    ConfigError
        ``model.df=<value>: expected an integer >= 4 ...``.
    """
    return build_setting(SplineSpec, {"df": int(cfg.model.df)}, lambda f: f"model.{f}".rstrip("."))


def landmark_setting(cfg: DictConfig | Config, card: DatasetCard) -> Landmark | None:
    """The ``landmark_months`` of a run (None: no landmark), checked.

    Raises
    ------
    ConfigError
        For a landmark that is not > 0, or one asked with ``data.exposure_coding=ever`` (that
        coding counts exposures started after the landmark, which were not known at it).
    """
    months = cfg.landmark_months
    if months is None:
        return None
    if card.exposure_coding == "ever":
        raise ConfigError(
            f"landmark_months={months} with data.exposure_coding=ever: a landmark classifies "
            "exposures as known at the landmark, 'ever' counts later ones too; drop one of them"
        )
    return build_setting(Landmark, {"months": float(months)}, lambda f: "landmark_months")


def data_card(cfg: DictConfig | Config) -> DatasetCard:
    """Check the ``data`` section (a file is named and exists) and return its dataset card.

    Raises
    ------
    ConfigError
        For a missing or absent file, an unknown bundled file, or a card that cannot be one.
    """
    c = cfg.data
    if OmegaConf.is_missing(c, "path") or (
        c.path is None and c.bundled is None and c.contract is None
    ):
        raise ConfigError(
            f"data.path is empty: expected the CSV/Parquet file the card {c.name!r} describes"
        )
    if c.path is not None and not user_path(c.path).is_file():
        raise ConfigError(f"data.path={c.path}: no such file{_resolved(c.path)}")
    if c.bundled is not None:
        try:
            bundled_file(c.bundled)
        except FileNotFoundError as error:
            raise ConfigError(f"data.bundled={c.bundled}: {error}") from error
    card = dataset_card(cfg)
    if card.contract is None and not card.covariates:
        raise ConfigError(undescribed_file_message(card, cohort_path(cfg)))
    return card


def check_covariates(cfg: DictConfig | Config, card: DatasetCard) -> None:
    """Check ``covariates``, ``missing`` and ``reproduce.groups`` against the card.

    Raises
    ------
    ConfigError
        Naming the key and the card's valid covariates.
    """
    c = cfg
    if not c.covariates.names:
        raise ConfigError(
            "covariates.names is empty: expected at least one covariate; the dataset card "
            f"{card.name!r} offers: {', '.join(card_covariates(card))}"
        )
    roles = [n for n in c.covariates.names if n in ROLE_COLUMNS or n in _role_columns(card)]
    if roles:
        raise ConfigError(
            f"covariates.names: {roles} identify patients or define the outcome (id, time, "
            "event) and cannot be covariates"
        )
    valid = card_covariates(card)
    unknown = [n for n in c.covariates.names if n not in valid]
    if unknown:
        raise ConfigError(
            f"covariates.names: {unknown} not covariates of the dataset card {card.name!r} "
            f"(data={card.name}); valid covariates: "
            + ", ".join(sorted(valid))
            + _study_names_hint(card, unknown)
        )
    bad_groups = [g for g in c.reproduce.groups if g not in valid]
    if bad_groups:
        raise ConfigError(
            f"reproduce.groups: {bad_groups} not covariates of the dataset card {card.name!r}; "
            "valid: " + ", ".join(sorted(valid))
        )
    bad_ref = [k for k in c.covariates.reference if k not in c.covariates.names]
    if bad_ref:
        raise ConfigError(f"covariates.reference: {bad_ref} are not among covariates.names")
    if c.missing.strategy == MissingStrategy.marginalize and (
        c.missing.covariate not in c.covariates.names
    ):
        raise ConfigError(
            f"missing.covariate={c.missing.covariate!r} must be one of covariates.names "
            f"{list(c.covariates.names)} when missing.strategy=marginalize"
        )
    if c.missing.strategy == MissingStrategy.marginalize and (
        card.start_column or card.time_varying
    ):
        raise ConfigError(
            f"missing.strategy=marginalize is not supported on data={card.name}, whose follow-up "
            "starts after time zero (data.start_column / data.time_varying: delayed entry or "
            "(start, stop] episodes); use missing.strategy=complete_case"
        )
    check_missing_depends_on(c, card)


def check_missing_depends_on(cfg: DictConfig | Config, card: DatasetCard) -> None:
    """Check ``missing.depends_on``: covariates of the model other than the marginalised one.

    Raises
    ------
    ConfigError
        For a name that is not a covariate of the card, one outside ``covariates.names`` (the
        covariate model can use only covariates known for every patient it keeps), the
        marginalised covariate itself, or any name with ``missing.strategy=complete_case``.
    """
    m = cfg.missing
    depends = list(m.depends_on)
    if not depends:
        return
    key = f"missing.depends_on={depends}"
    if m.strategy != MissingStrategy.marginalize:
        raise ConfigError(
            f"{key}: used only with missing.strategy=marginalize (strategy is "
            f"{m.strategy.value}); drop it or set missing=marginalize"
        )
    valid = card_covariates(card)
    unknown = [n for n in depends if n not in valid]
    if unknown:
        raise ConfigError(
            f"{key}: {unknown} not covariates of the dataset card {card.name!r}; valid: "
            + ", ".join(sorted(valid))
            + " (or missing.depends_on=[] for one distribution for every patient)"
        )
    if m.covariate in depends:
        raise ConfigError(
            f"{key}: the marginalised covariate {m.covariate!r} cannot depend on itself"
        )
    outside = [n for n in depends if n not in cfg.covariates.names]
    if outside:
        raise ConfigError(
            f"{key}: {outside} not among covariates.names {list(cfg.covariates.names)}: the "
            f"model of {m.covariate!r} can depend only on covariates in the model (known for "
            "every patient it uses)"
        )


def check_simulation(sim: DictConfig) -> None:
    """Check the ``simulation`` section (its ``diagnostics`` by :func:`diagnostic_thresholds`).

    Raises
    ------
    ConfigError
        Naming the ``simulation.*`` key.
    """
    if sim.replicates <= 0:
        raise ConfigError(f"simulation.replicates={sim.replicates}: expected a positive integer")
    if sim.shard_size <= 0:
        raise ConfigError(f"simulation.shard_size={sim.shard_size}: expected a positive integer")
    if not sim.n or any(n < 10 for n in sim.n):
        raise ConfigError(f"simulation.n={list(sim.n)}: expected cohort sizes >= 10")
    for key, valid in (("scenarios", SIMULATION_SCENARIOS), ("methods", SIMULATION_METHODS)):
        values = list(sim[key])
        unknown = [v for v in values if v not in valid]
        if not values or unknown:
            raise ConfigError(
                f"simulation.{key}={values}: expected a non-empty subset of {list(valid)}"
            )
    if sim.estimand_n < 1000:
        raise ConfigError(
            f"simulation.estimand_n={sim.estimand_n}: expected >= 1000 (pseudo-true values are "
            "large-sample limits; the study default is 100000)"
        )
    for key in ("estimand_cohorts", "estimand_redraws", "workers"):
        if sim[key] < 1:
            raise ConfigError(f"simulation.{key}={sim[key]}: expected a positive integer")
    if sim.sbc_replicates < 0:
        raise ConfigError(f"simulation.sbc_replicates={sim.sbc_replicates}: expected >= 0")
    unknown = [f for f in sim.selection_factors if f not in KNOWN_COVARIATES]  # study only
    if unknown:
        raise ConfigError(
            f"simulation.selection_factors: {unknown} not in the data contract; valid: "
            + ", ".join(sorted(KNOWN_COVARIATES))
        )
    if sim.shard is not None and sim.shard < 0:
        raise ConfigError(f"simulation.shard={sim.shard}: expected a shard index >= 0 or null")


@dataclass(frozen=True)
class ReinterpretSettings:
    """The ``reinterpret`` section parsed into library objects (see :class:`ReinterpretConfig`).

    ``estimates`` is empty when the paper's printed Table 3 aHRs are to be re-read.
    """

    estimates: tuple[PrintedEstimate, ...]
    priors: tuple[NamedPrior, ...]
    default_prior: str
    thresholds: tuple[float, ...]
    true_hrs: tuple[float, ...]
    alpha: float
    level: float


def _entries(section: DictConfig, key: str, schema: type) -> list[DictConfig]:
    """The items of list ``reinterpret.<key>``, each with every required field given."""
    required = [f.name for f in dataclasses.fields(schema) if f.default == MISSING]
    items = list(section[key])
    for i, item in enumerate(items):
        absent = [f for f in required if f not in item or OmegaConf.is_missing(item, f)]
        if absent:
            raise ConfigError(
                f"reinterpret.{key}[{i}]: missing {', '.join(absent)}; each entry needs "
                + ", ".join(required)
            )
    return items


def reinterpret_settings(cfg: DictConfig | Config) -> ReinterpretSettings:
    """Parse and check ``cfg.reinterpret``, naming the offending key.

    Raises
    ------
    ConfigError
        E.g. ``reinterpret.estimates[1]: estimate 'x': expected lower < hr < upper ...``, an
        entry missing a field, ``meaningful_hr`` outside (0, 1), or repeated names.
    """
    section = cfg.reinterpret
    estimates = []
    for i, item in enumerate(_entries(section, "estimates", EstimateConfig)):
        try:
            estimates.append(
                PrintedEstimate(
                    str(item.name),
                    float(item.hr),
                    float(item.lower),
                    float(item.upper),
                    float(item.ci_level),
                )
            )
        except ReinterpretError as error:
            raise ConfigError(f"reinterpret.estimates[{i}]: {error}") from error
    try:
        priors = prior_grid(section.meaningful_hr, dict(section.strengths), list(section.centres))
    except ReinterpretError as error:
        raise ConfigError(f"reinterpret (meaningful_hr / strengths / centres): {error}") from error
    for i, item in enumerate(_entries(section, "priors", UserPriorConfig)):
        try:
            priors.append(NamedPrior(str(item.name), float(item.mean_hr), float(item.sd_log)))
        except ReinterpretError as error:
            raise ConfigError(f"reinterpret.priors[{i}]: {error}") from error
    try:
        check_unique_names(estimates, priors)
    except ReinterpretError as error:
        raise ConfigError(f"reinterpret.estimates / reinterpret.priors: {error}") from error
    names = [p.name for p in priors]
    if section.default_prior not in names:
        raise ConfigError(
            f"reinterpret.default_prior={section.default_prior!r}: expected one of {names}"
        )
    for key in ("thresholds", "true_hrs"):
        values = [float(v) for v in section[key]]
        if not values or any(not v > 0 for v in values):
            raise ConfigError(f"reinterpret.{key}={values}: expected hazard ratios > 0")
    for key in ("alpha", "level"):
        if not 0 < section[key] < 1:
            raise ConfigError(f"reinterpret.{key}={section[key]}: expected a value in (0, 1)")
    return ReinterpretSettings(
        tuple(estimates),
        tuple(priors),
        section.default_prior,
        tuple(float(v) for v in section.thresholds),
        tuple(float(v) for v in section.true_hrs),
        float(section.alpha),
        float(section.level),
    )


def _resolved(path: str) -> str:
    """`` (looked for /abs/path)`` for a relative path, else nothing."""
    return "" if Path(path).is_absolute() else f" (looked for {user_path(path)})"


#: The study contract's name in a dataset card.
STUDY_CONTRACT = "hu2025"


def dataset_card(cfg: DictConfig | Config) -> DatasetCard:
    """The ``data`` section as a :class:`~bayes_bcsm.data.card.DatasetCard`.

    Raises
    ------
    ConfigError
        Naming the ``data.*`` key that cannot be a card (unknown contract, covariate kind,
        levels, reference, ``hr_per``).
    """
    section = OmegaConf.to_container(cfg.data, resolve=True, enum_to_str=True)
    if section.get("contract") not in (None, STUDY_CONTRACT):
        raise ConfigError(
            f"data.contract={section['contract']!r}: expected {STUDY_CONTRACT!r} or null"
        )
    try:
        return card_from_mapping(str(section["name"]), section)
    except ValueError as error:
        raise ConfigError(str(error)) from error


def card_covariates(card: DatasetCard) -> frozenset[str]:
    """Covariates a run may request: the study contract's, or the card's own."""
    if card.contract == STUDY_CONTRACT:
        return KNOWN_COVARIATES
    return frozenset(card.covariate_names)


def _study_names_hint(card: DatasetCard, unknown: list[str]) -> str:
    """When the study's covariates (an experiment written for the study) meet another card:
    that card's experiments and covariate set."""
    if card.contract == STUDY_CONTRACT or not set(unknown) <= KNOWN_COVARIATES:
        return ""
    experiments = []
    for path in sorted((conf_dir() / "experiment").glob("*.yaml")):
        defaults = (yaml.safe_load(path.read_text()) or {}).get("defaults") or []
        if {"override /data": card.name} in defaults:
            experiments.append(f"experiment={path.stem}")
    if (conf_dir() / "covariates" / f"{card.name}.yaml").is_file():
        experiments.append(f"covariates={card.name}")
    return (
        ". These are the study's covariates (an experiment for data=bcsm, e.g. its Table 3 "
        "set); for "
        f"data={card.name} use {', '.join(experiments)} or covariates.names=[...] from the "
        "valid covariates above"
    )


def _role_columns(card: DatasetCard) -> set[str]:
    starts = {card.id_column, card.start_column} | {e.start_column for e in card.time_varying}
    return {card.time_column, card.event_column} | (starts - {None})


def cohort_path(cfg: DictConfig | Config) -> Path:
    """The cohort file a run reads: ``data.path``, a bundled file, or the bundled reconstruction.

    A relative ``data.path`` is relative to the folder the command was run from.
    """
    if cfg.data.path is not None:
        return user_path(cfg.data.path)
    if cfg.data.bundled is not None:
        return bundled_file(cfg.data.bundled)
    return BUNDLED_COHORT


def is_bundled_reconstruction(cfg: DictConfig | Config) -> bool:
    """Whether the run analyses the bundled reconstruction (reports then say it is one)."""
    return cfg.data.contract == STUDY_CONTRACT and cfg.data.path is None


#: File beside each Bayesian fit's ``posterior.nc`` recording what the fit used (the piecewise
#: cut points among them), which the configuration alone does not say.
MODEL_RECORD = "model.json"


def resolved_yaml(cfg: DictConfig) -> str:
    """The config with every interpolation resolved, as YAML (saved beside a run's results).

    The ``model`` section is what was configured; a comment on it points to
    :data:`MODEL_RECORD`, where each Bayesian fit records the cut points it used (event-time
    quantiles are known only once the data are read).
    """
    text = OmegaConf.to_yaml(cfg, resolve=True)
    pointer = (
        "model:  # as configured; the cut points each Bayesian fit used are in its "
        f"{MODEL_RECORD} (fit: beside this file; compare: variants/<variant>/{MODEL_RECORD})"
    )
    return re.sub(r"^model:$", pointer, text, count=1, flags=re.MULTILINE)


def prognosis_plan(cfg: DictConfig | Config, card: DatasetCard) -> PrognosisPlan | None:
    """The checked ``prognosis`` section, or None when it names no predictor.

    Raises
    ------
    ConfigError
        Naming the key: an unknown predictor, a score or covariate column that is not a
        covariate of the card, ``folds`` below 2, horizons not increasing and positive, a
        calibration horizon that is not one of them.
    """
    section = cfg.prognosis
    if not section.predictors:
        return None
    valid = card_covariates(card)
    columns = [(f"prognosis.scores.{k}", [v]) for k, v in section.scores.items()]
    sets = {k: list(v) for k, v in section.covariate_sets.items()}
    columns += [(f"prognosis.covariate_sets.{k}", v) for k, v in sets.items()]
    columns += [("prognosis.selection_factors", list(section.selection_factors))]
    for key, names in columns:
        unknown = [n for n in names if n not in valid]
        if unknown:
            raise ConfigError(
                f"{key}: {unknown} not columns of the dataset card {card.name!r}; valid: "
                + ", ".join(sorted(valid))
            )
    cv = build_setting(
        CrossValidationSpec,
        {
            "folds": section.folds,
            "repeats": section.repeats,
            "seed": int(cfg.seed),
            "workers": section.workers,
        },
        lambda f: f"prognosis.{f}",
    )
    horizons = tuple(float(h) for h in section.horizons_months)

    def plan(
        predictors: tuple[str, ...],
        selection_factors: list[str],
        horizons_months: tuple[float, ...],
        calibration_months: float,
        tau_months: float,
    ) -> PrognosisPlan:
        specs = predictor_specs(predictors, dict(section.scores), sets, selection_factors)
        return PrognosisPlan(specs, cv, horizons_months, calibration_months, tau_months)

    values = {
        "predictors": tuple(section.predictors),
        "selection_factors": list(section.selection_factors),
        "horizons_months": horizons,
        "calibration_months": float(section.calibration_months),
        "tau_months": float(section.tau_months if section.tau_months is not None else horizons[-1]),
    }
    return build_setting(plan, values, lambda f: f"prognosis.{f}".rstrip("."))
