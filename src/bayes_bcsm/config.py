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

import itertools
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf

from bayes_bcsm.data.contract import REQUIRED_COLUMNS
from bayes_bcsm.data.groupings import DERIVED_GROUPINGS
from bayes_bcsm.errors import BayesBcsmUserError
from bayes_bcsm.resources import bundled_cohort, user_path
from bayes_bcsm.simulation.methods import METHODS, SCENARIOS

BUNDLED_COHORT = bundled_cohort()


class ConfigError(BayesBcsmUserError, ValueError):
    """A configuration that cannot run; the message names the key and what was expected."""


class DataSource(Enum):
    """Where the cohort comes from."""

    reconstructed = "reconstructed"
    csv = "csv"


class ModelFamily(Enum):
    """Survival model families."""

    weibull = "weibull"
    exponential = "exponential"
    piecewise = "piecewise"
    cox = "cox"


class CutMethod(Enum):
    """How piecewise-exponential interval cut points are chosen."""

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
class DataConfig:
    """Cohort source. ``path`` is required when ``source=csv``; ignored for the bundled cohort."""

    source: DataSource = DataSource.reconstructed
    path: str | None = None


@dataclass
class ModelConfig:
    """Model family and its structure (cut points only matter for ``piecewise``)."""

    family: ModelFamily = ModelFamily.weibull
    cut_method: CutMethod = CutMethod.fixed
    cuts_months: list[float] = field(default_factory=lambda: [0.0, 6.0, 12.0, 24.0, 36.0, 60.0])
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

    name: str = "paper_table3"
    mode: CovariateMode = CovariateMode.joint
    names: list[str] = field(default_factory=list)
    reference: dict[str, str] = field(default_factory=dict)
    standardize: bool = True


@dataclass
class MissingConfig:
    """Missing-covariate strategy; ``marginalize`` sums out ``covariate`` exactly."""

    strategy: MissingStrategy = MissingStrategy.complete_case
    covariate: str = "hormone_receptor"


@dataclass
class SamplerConfig:
    """MCMC settings and the diagnostic policy."""

    backend: SamplerBackend = SamplerBackend.nutpie
    chains: int = 4
    draws: int = 1000
    tune: int = 1000
    target_accept: float = 0.9
    progress_bar: bool = True
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
class SimulationConfig:
    """The simulation study (``experiments/simulate.py``).

    ``scenarios``: "calibrated" uses the generator's calibrated true effects, "null" sets the
    endocrine-therapy effect to HR = 1. ``shard`` selects one shard for a multirun sweep
    (``-m simulation.shard=range(0,16)``); null runs every shard not yet done, then aggregates.
    ``sbc_replicates``: simulation-based calibration replicates per Bayesian model (0 = off).
    ``selection_factors``: candidates of the paper's selection procedure (empty = the Table 2
    factors of ``conf/covariates/univariate.yaml``).
    """

    replicates: int = 200
    n: list[int] = field(default_factory=lambda: [78])
    scenarios: list[str] = field(default_factory=lambda: list(SIMULATION_SCENARIOS))
    methods: list[str] = field(default_factory=lambda: list(SIMULATION_METHODS))
    shard_size: int = 25
    shard: int | None = None
    run_dir: str = "outputs/simulation/${experiment_name}"
    aggregate_only: bool = False
    sbc_replicates: int = 100
    selection_factors: list[str] = field(default_factory=list)


@dataclass
class Config:
    """The whole run configuration."""

    data: DataConfig = MISSING
    model: ModelConfig = MISSING
    prior: PriorConfig = MISSING
    covariates: CovariatesConfig = MISSING
    missing: MissingConfig = MISSING
    sampler: SamplerConfig = MISSING
    report: ReportConfig = MISSING
    compare: CompareConfig = field(default_factory=CompareConfig)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    seed: int = 20250520
    experiment_name: str = "fit"


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore (idempotent)."""
    ConfigStore.instance().store(name="base_config", node=Config)


KNOWN_COVARIATES: frozenset[str] = frozenset(REQUIRED_COLUMNS) | frozenset(DERIVED_GROUPINGS)


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
    if c.prior.scale <= 0:
        raise ConfigError(f"prior.scale={c.prior.scale}: expected a positive number")
    if c.model.n_intervals < 1:
        raise ConfigError(f"model.n_intervals={c.model.n_intervals}: expected >= 1")
    cuts = list(c.model.cuts_months)
    if cuts and (cuts[0] != 0 or any(b <= a for a, b in itertools.pairwise(cuts))):
        raise ConfigError(
            f"model.cuts_months={cuts}: expected strictly increasing cut points starting at 0"
        )
    if not c.covariates.names:
        raise ConfigError("covariates.names is empty: expected at least one covariate")
    unknown = [n for n in c.covariates.names if n not in KNOWN_COVARIATES]
    if unknown:
        raise ConfigError(
            f"covariates.names: {unknown} not in the data contract; valid covariates: "
            + ", ".join(sorted(KNOWN_COVARIATES))
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
    if c.data.source == DataSource.csv:
        if OmegaConf.is_missing(c.data, "path") or not c.data.path:
            raise ConfigError("data.path is empty: expected a CSV/Parquet file when data=csv")
        if not user_path(c.data.path).is_file():
            raise ConfigError(f"data.path={c.data.path}: no such file{_resolved(c.data.path)}")


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
    if sim.sbc_replicates < 0:
        raise ConfigError(f"simulation.sbc_replicates={sim.sbc_replicates}: expected >= 0")
    unknown = [f for f in sim.selection_factors if f not in KNOWN_COVARIATES]
    if unknown:
        raise ConfigError(
            f"simulation.selection_factors: {unknown} not in the data contract; valid: "
            + ", ".join(sorted(KNOWN_COVARIATES))
        )
    if sim.shard is not None and sim.shard < 0:
        raise ConfigError(f"simulation.shard={sim.shard}: expected a shard index >= 0 or null")


def _resolved(path: str) -> str:
    """`` (looked for /abs/path)`` for a relative path, else nothing."""
    return "" if Path(path).is_absolute() else f" (looked for {user_path(path)})"


def cohort_path(cfg: DictConfig | Config) -> Path:
    """The cohort file a run reads: the bundled reconstruction or ``data.path``.

    A relative ``data.path`` is relative to the folder the command was run from.
    """
    if cfg.data.source == DataSource.csv:
        return user_path(cfg.data.path)
    return BUNDLED_COHORT


def resolved_yaml(cfg: DictConfig) -> str:
    """The config with every interpolation resolved, as YAML (saved beside a run's results)."""
    return OmegaConf.to_yaml(cfg, resolve=True)
