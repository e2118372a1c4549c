"""Structured configs: the schema every Hydra run is validated against, before any work starts.

The dataclasses here are registered in Hydra's ConfigStore as ``base_config``; ``conf/config.yaml``
lists it first in its defaults, so every YAML option and command-line override is type-checked
(OmegaConf rejects an unknown key or an invalid enum value and lists the valid ones). Checks that
types cannot express (draws > 0, covariates in the data contract, an existing CSV path) live in
:func:`validate_config`, which raises :class:`ConfigError` naming the key and what was expected.

Configuration stops at the edge: experiments turn the config into plain objects and pass those to
library code, which never reads a config.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import typing
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from bayes_bcsm.data.card import DatasetCard, card_from_mapping, undescribed_file_message
from bayes_bcsm.data.contract import REQUIRED_COLUMNS
from bayes_bcsm.data.groupings import DERIVED_GROUPINGS
from bayes_bcsm.errors import BayesBcsmUserError
from bayes_bcsm.inference.diagnostics import DiagnosticThresholds
from bayes_bcsm.inference.sample import SamplerError, SamplerSettings
from bayes_bcsm.models.piecewise import DEFAULT_CUTS_MONTHS
from bayes_bcsm.models.priors import PriorError, PriorSpec
from bayes_bcsm.reinterpret import NamedPrior, PrintedEstimate, ReinterpretError, prior_grid
from bayes_bcsm.resources import bundled_cohort, bundled_file, conf_dir, user_path
from bayes_bcsm.results import ReportSettings
from bayes_bcsm.simulation.methods import METHODS, SCENARIOS

BUNDLED_COHORT = bundled_cohort()


class ConfigError(BayesBcsmUserError, ValueError):
    """A configuration that cannot run; the message names the key and what was expected."""


class TimeUnit(Enum):
    """Units a dataset card may declare for its time column."""

    days = "days"
    weeks = "weeks"
    months = "months"
    years = "years"


class ModelFamily(Enum):
    """Survival model families."""

    weibull = "weibull"
    exponential = "exponential"
    piecewise = "piecewise"
    cox = "cox"


class CutMethod(Enum):
    """How piecewise-exponential interval cut points are chosen (``auto``: ``fixed`` on the
    study's card, ``quantile`` of the event times on any other)."""

    auto = "auto"
    fixed = "fixed"
    quantile = "quantile"


class BaselinePrior(Enum):
    """Prior on the piecewise log baseline hazards."""

    independent = "independent"
    random_walk = "random_walk"


class PriorFamily(Enum):
    """Prior families for log hazard ratios."""

    normal = "normal"
    student_t = "student_t"
    sceptical = "sceptical"
    log_f = "log_f"
    horseshoe = "horseshoe"


class MissingStrategy(Enum):
    """Handling of covariates with missing values."""

    complete_case = "complete_case"
    marginalize = "marginalize"


class CovariateMode(Enum):
    """One model with all covariates (``joint``) or one model per covariate (``univariate``)."""

    joint = "joint"
    univariate = "univariate"


class SamplerBackend(Enum):
    """MCMC back ends."""

    nutpie = "nutpie"
    pymc = "pymc"


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


@dataclass
class DataConfig:
    """The dataset card: the file and what it holds (``bayes_bcsm.data.card.DatasetCard``).

    ``path`` (relative to where the command runs) or ``bundled`` (a file shipped in the
    package) names the file; with ``contract=hu2025`` and neither, the bundled reconstruction.
    """

    name: str = MISSING
    title: str = ""
    path: str | None = None
    bundled: str | None = None
    contract: str | None = None
    study: bool = False
    id_column: str | None = None
    time_column: str = "time_months"
    time_unit: TimeUnit = TimeUnit.months
    event_column: str = "event"
    event_values: list[str] = field(default_factory=lambda: ["1"])
    censor_values: list[str] = field(default_factory=lambda: ["0"])
    covariates: dict[str, CovariateCardConfig] = field(default_factory=dict)
    time_label: str = "Months"


@dataclass
class ModelConfig:
    """Model family and its structure (cut points only matter for ``piecewise``)."""

    family: ModelFamily = ModelFamily.weibull
    cut_method: CutMethod = CutMethod.auto
    cuts_months: list[float] = field(default_factory=lambda: [0.0, *DEFAULT_CUTS_MONTHS])
    n_intervals: int = 6
    baseline_prior: BaselinePrior = BaselinePrior.random_walk


@dataclass
class PriorConfig:
    """Prior on log hazard ratios, per design unit (mirrors ``bayes_bcsm.models.PriorSpec``).

    ``scale``: sd of the normal / scale of Student-t and log-F priors. Sceptical prior:
    ``P(HR > sceptical_hr) = sceptical_tail``. Horseshoe: ``expected_nonzero`` log-HRs
    expected away from 0, slab ``slab_scale`` / ``slab_df``, half-t(``global_df``) on tau.
    """

    family: PriorFamily = PriorFamily.normal
    scale: float = 1.0
    center: float = 0.0
    nu: float = 3.0
    sceptical_hr: float = 2.0
    sceptical_tail: float = 0.05
    log_f_m: float = 1.0
    expected_nonzero: float = 2.0
    slab_scale: float = 2.0
    slab_df: float = 4.0
    global_df: float = 1.0


@dataclass
class CovariatesConfig:
    """Which covariates enter the model, how, and their reference levels."""

    mode: CovariateMode = CovariateMode.joint
    names: list[str] = field(default_factory=list)
    reference: dict[str, str] = field(default_factory=dict)
    standardize: bool = True


@dataclass
class MissingConfig:
    """Missing-covariate strategy; ``marginalize`` sums out ``covariate`` exactly."""

    strategy: MissingStrategy = MissingStrategy.complete_case
    covariate: str = "hormone_receptor"


_SAMPLER_DEFAULTS = SamplerSettings()
_DEFAULT_BACKEND = SamplerBackend(_SAMPLER_DEFAULTS.sampler)


@dataclass
class SamplerConfig:
    """MCMC settings and the diagnostic policy (defaults: the library's ``SamplerSettings``)."""

    backend: SamplerBackend = _DEFAULT_BACKEND
    chains: int = _SAMPLER_DEFAULTS.chains
    draws: int = _SAMPLER_DEFAULTS.draws
    tune: int = _SAMPLER_DEFAULTS.tune
    target_accept: float = _SAMPLER_DEFAULTS.target_accept
    progress_bar: bool = _SAMPLER_DEFAULTS.progress_bar
    strict: bool = False


@dataclass
class ReportConfig:
    """What a run writes besides its numbers."""

    title: str = "bayes_bcsm run"
    html: bool = True
    plots: bool = True
    hdi_prob: float = 0.95


@dataclass
class CompareConfig:
    """Variants compared by ``experiments/compare.py``: each a space-separated override string."""

    variants: list[str] = field(default_factory=list)
    psense: bool = False


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
    ``workers``: shards run at once, each in its own process (the numbers do not depend on
    it: seeds depend on scenario, n and replicate only).
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
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    reinterpret: ReinterpretConfig = MISSING
    reproduce: ReproduceConfig = field(default_factory=ReproduceConfig)
    seed: int = MISSING  # set in conf/config.yaml (one home)
    experiment_name: str = MISSING


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore and the ``run_id`` resolver (idempotent).

    ``${run_id:}`` is ``p<process id>``: the default run folder
    ``outputs/<date>/<time>_<experiment>_p<pid>`` cannot be shared by two runs started in the
    same second, since no two live processes share a process id.
    """
    ConfigStore.instance().store(name="base_config", node=Config)
    if not OmegaConf.has_resolver("run_id"):
        OmegaConf.register_new_resolver("run_id", lambda: f"p{os.getpid()}", use_cache=True)


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


def validate_config(cfg: DictConfig | Config) -> None:
    """Check what the schema's types cannot, before any data are read or models compiled.

    Parameters
    ----------
    cfg : DictConfig or Config
        A composed run configuration.

    Raises
    ------
    ConfigError
        Naming the first offending key, its value and what was expected.
    """
    c = cfg if isinstance(cfg, DictConfig) else OmegaConf.structured(cfg)
    extra = [k for k in unknown_keys(c) if k != "hydra"]
    if extra:
        raise ConfigError(
            f"unknown config key(s) {extra}: not in the schema (a typo, or a '+' override "
            "that added a key nothing reads); see conf/ for the valid keys"
        )
    for key in ("chains", "draws", "tune"):
        value = c.sampler[key]
        if value is None or value <= 0:
            raise ConfigError(f"sampler.{key}={value}: expected a positive integer")
    if not 0.5 <= c.sampler.target_accept < 1:
        raise ConfigError(
            f"sampler.target_accept={c.sampler.target_accept}: expected a value in [0.5, 1)"
        )
    if c.seed is None or c.seed < 0:
        raise ConfigError(f"seed={c.seed}: expected a non-negative integer (0 is a seed)")
    sampler_settings(c)
    prior_spec(c)
    if not 0 < c.report.hdi_prob < 1:
        raise ConfigError(f"report.hdi_prob={c.report.hdi_prob}: expected a value in (0, 1)")
    if c.model.n_intervals < 1:
        raise ConfigError(f"model.n_intervals={c.model.n_intervals}: expected >= 1")
    cuts = list(c.model.cuts_months)
    if cuts and (cuts[0] != 0 or any(b <= a for a, b in itertools.pairwise(cuts))):
        raise ConfigError(
            f"model.cuts_months={cuts}: expected strictly increasing cut points starting at 0"
        )
    if c.model.family == ModelFamily.piecewise and uses_fixed_cuts(c) and len(cuts) < 2:
        raise ConfigError(
            f"model.cuts_months={cuts}: a piecewise model needs 0 and at least one more cut "
            "point (one interval is the exponential model: use model=exponential)"
        )
    if OmegaConf.is_missing(c.data, "path") or (
        c.data.path is None and c.data.bundled is None and c.data.contract is None
    ):
        raise ConfigError(
            f"data.path is empty: expected the CSV/Parquet file the card {c.data.name!r} describes"
        )
    if c.data.path is not None and not user_path(c.data.path).is_file():
        raise ConfigError(f"data.path={c.data.path}: no such file{_resolved(c.data.path)}")
    if c.data.bundled is not None:
        try:
            bundled_file(c.data.bundled)
        except FileNotFoundError as error:
            raise ConfigError(f"data.bundled={c.data.bundled}: {error}") from error
    card = dataset_card(c)
    if card.contract is None and not card.covariates:
        raise ConfigError(undescribed_file_message(card, cohort_path(c)))
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
    _validate_simulation(c.simulation)
    reinterpret_settings(c)


def _validate_simulation(sim: DictConfig) -> None:
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


def uses_fixed_cuts(cfg: DictConfig | Config) -> bool:
    """Whether a piecewise model takes ``model.cuts_months`` (else event-time quantiles)."""
    method = cfg.model.cut_method
    return method == CutMethod.fixed or (method == CutMethod.auto and bool(cfg.data.study))


def report_settings(cfg: DictConfig | Config) -> ReportSettings:
    """What the run's report needs: ``report.*`` and the experiment name."""
    return ReportSettings(
        experiment_name=str(cfg.experiment_name),
        title=str(cfg.report.title),
        html=bool(cfg.report.html),
        plots=bool(cfg.report.plots),
        hdi_prob=float(cfg.report.hdi_prob),
    )


def prior_spec(cfg: DictConfig | Config) -> PriorSpec:
    """The configured log-HR prior as a plain :class:`~bayes_bcsm.models.PriorSpec`.

    ``PriorConfig`` mirrors ``PriorSpec`` field for field (the family as an enum).

    Raises
    ------
    ConfigError
        Naming the ``prior.*`` key(s) the prior's own check rejected (e.g. ``prior.nu``).
    """
    values = {f.name: cfg.prior[f.name] for f in dataclasses.fields(PriorSpec)}
    values["family"] = cfg.prior.family.value
    try:
        return PriorSpec(**values)
    except PriorError as error:
        keys = ", ".join(f"prior.{f}={values[f]}" for f in error.fields) or "prior"
        raise ConfigError(f"{keys}: {error}") from error


#: SamplerSettings field -> config key.
_SAMPLER_KEYS = {"sampler": "sampler.backend", "seed": "seed"}


def sampler_settings(cfg: DictConfig | Config) -> SamplerSettings:
    """The configured sampler as plain :class:`~bayes_bcsm.inference.sample.SamplerSettings`.

    Raises
    ------
    ConfigError
        Naming the key the sampler's own check rejected (e.g. ``sampler.tune=5``).
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
    }
    try:
        return SamplerSettings(**values)
    except SamplerError as error:
        keys = ", ".join(
            f"{_SAMPLER_KEYS.get(f, f'sampler.{f}')}={values[f]}" for f in error.fields
        )
        raise ConfigError(f"{keys or 'sampler'}: {error}") from error


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


def reinterpret_settings(cfg: DictConfig | Config) -> ReinterpretSettings:
    """Parse and check ``cfg.reinterpret``, naming the offending key.

    Raises
    ------
    ConfigError
        E.g. ``reinterpret.estimates[1] (name 'x'): expected lower < hr < upper ...``.
    """
    section = cfg.reinterpret
    estimates = []
    for i, item in enumerate(section.estimates):
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
    for i, item in enumerate(section.priors):
        try:
            priors.append(NamedPrior(str(item.name), float(item.mean_hr), float(item.sd_log)))
        except ReinterpretError as error:
            raise ConfigError(f"reinterpret.priors[{i}]: {error}") from error
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
    return frozenset(c.column for c in card.covariates)


def _study_names_hint(card: DatasetCard, unknown: list[str]) -> str:
    """When a command's default (the study's covariates) meets another card: its experiments."""
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
        ". These are the study's covariates (this command's default, for data=bcsm); for "
        f"data={card.name} use {', '.join(experiments)} or covariates.names=[...] from the "
        "valid covariates above"
    )


def _role_columns(card: DatasetCard) -> set[str]:
    return {card.time_column, card.event_column} | ({card.id_column} - {None})


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


def resolved_yaml(cfg: DictConfig) -> str:
    """The config with every interpolation resolved, as YAML (saved beside a run's results)."""
    return OmegaConf.to_yaml(cfg, resolve=True)
