"""One parse of a composed config into one settings object per run.

:func:`parse_settings` is called once, at the top of a run: it checks every value (each range rule
lives once, in the library dataclass that holds the value: :class:`SamplerSettings`,
:class:`PriorSpec`, :class:`CutSpec`, :class:`ReportSettings`, :class:`DiagnosticThresholds`,
:class:`PrintedEstimate`, ...) and returns a frozen :class:`RunSettings` built from those
dataclasses. Runs then pass its parts down, never the config. Nothing here imports PyMC, PyTensor
or ArviZ, so a bad value is reported before the modelling stack loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from bayes_bcsm.config import (
    Config,
    ReinterpretSettings,
    absolute_settings,
    as_dictconfig,
    check_chunked_loo,
    check_covariates,
    check_keys,
    check_simulation,
    cohort_path,
    cut_spec,
    data_card,
    diagnostic_thresholds,
    is_bundled_reconstruction,
    landmark_setting,
    predict_settings,
    prior_spec,
    prognosis_plan,
    reinterpret_settings,
    report_settings,
    resolved_yaml,
    sampler_settings,
    spline_spec,
)
from bayes_bcsm.data.card import DatasetCard
from bayes_bcsm.data.landmark import Landmark
from bayes_bcsm.inference.absolute_settings import AbsoluteSettings, PredictSettings
from bayes_bcsm.inference.settings import DiagnosticThresholds, SamplerSettings
from bayes_bcsm.models.specs import CutSpec, PriorSpec, SplineSpec
from bayes_bcsm.prognosis.plan import PrognosisPlan
from bayes_bcsm.resources import user_path
from bayes_bcsm.results import ReportSettings

__all__ = [
    "CompareSettings",
    "CovariateSettings",
    "DataSettings",
    "MissingSettings",
    "ModelSettings",
    "RunSettings",
    "SimulationSettings",
    "parse_settings",
]


@dataclass(frozen=True)
class DataSettings:
    """The cohort a run reads.

    Attributes
    ----------
    card : DatasetCard
        What the file holds.
    path : Path
        The file (``data.path``, a bundled file, or the bundled reconstruction).
    is_reconstruction : bool
        True for the bundled reconstructed cohort (reports say so).
    """

    card: DatasetCard
    path: Path
    is_reconstruction: bool


@dataclass(frozen=True)
class CovariateSettings:
    """Which covariates enter the model and how.

    Attributes
    ----------
    mode : {"joint", "univariate"}
        One model with all covariates, or one model per covariate.
    names : tuple of str
        Columns of the card (or of the study contract).
    reference : mapping of str to str
        Reference levels of categorical covariates.
    standardize : bool
        Standardise continuous covariates in the design.
    """

    mode: str
    names: tuple[str, ...]
    reference: Mapping[str, str]
    standardize: bool


@dataclass(frozen=True)
class MissingSettings:
    """Handling of missing covariate values: ``complete_case``, or ``marginalize`` ``covariate``
    (its distribution depending on the covariates ``depends_on``)."""

    strategy: str
    covariate: str
    depends_on: tuple[str, ...] = ()

    @property
    def marginalize(self) -> bool:
        """Whether ``covariate`` is summed out of the likelihood."""
        return self.strategy == "marginalize"


@dataclass(frozen=True)
class ModelSettings:
    """The model family and its structure.

    Attributes
    ----------
    family : str
        ``weibull``, ``exponential``, ``piecewise``, ``gompertz``, ``mspline``, ``lognormal``,
        ``loglogistic`` (the model-family registry), or ``cox``: the frequentist baselines only,
        no sampling.
    cuts : CutSpec
        Cut points of a piecewise baseline (fixed, or event-time quantiles).
    baseline_prior : {"random_walk", "independent"}
        Prior of the piecewise log baseline hazards.
    spline : SplineSpec
        Size of the M-spline baseline.
    """

    family: str
    cuts: CutSpec
    baseline_prior: str
    spline: SplineSpec = field(default_factory=SplineSpec)

    @property
    def bayesian(self) -> bool:
        """Whether the family is sampled (everything but ``cox``)."""
        return self.family != "cox"


@dataclass(frozen=True)
class CompareSettings:
    """Variants of a comparison run (override strings) and whether to run power-scaling."""

    variants: tuple[str, ...]
    psense: bool


@dataclass(frozen=True)
class SimulationSettings:
    """The simulation study's plan (see :class:`bayes_bcsm.config.SimulationConfig`).

    Attributes
    ----------
    replicates, shard_size : int
        Replicates per scenario and cohort size; replicates per shard.
    n : tuple of int
        Cohort sizes.
    scenarios, methods : tuple of str
    shard : int or None
        The one shard to run (a sweep's job), or None for every shard not yet done.
    run_dir : Path
        The study folder (relative paths resolved against the folder the command ran from).
    aggregate_only : bool
    workers, sbc_replicates : int
    selection_factors : tuple of str
        Candidates of the paper's selection procedure (empty: the Table 2 factors).
    estimand_n, estimand_seed, estimand_cohorts, estimand_redraws : int
        The large cohort of the pseudo-true values.
    thresholds : DiagnosticThresholds
        Failure rules of the Bayesian fits.
    """

    replicates: int
    n: tuple[int, ...]
    scenarios: tuple[str, ...]
    methods: tuple[str, ...]
    shard_size: int
    shard: int | None
    run_dir: Path
    aggregate_only: bool
    workers: int
    sbc_replicates: int
    selection_factors: tuple[str, ...]
    estimand_n: int
    estimand_seed: int
    estimand_cohorts: int
    estimand_redraws: int
    thresholds: DiagnosticThresholds


@dataclass(frozen=True)
class RunSettings:
    """Everything a run reads from its configuration, parsed once and checked.

    Attributes
    ----------
    experiment_name : str
    seed : int
    data : DataSettings
    covariates : CovariateSettings
    missing : MissingSettings
    model : ModelSettings
    prior : PriorSpec
        Prior on the log hazard ratios.
    sampler : SamplerSettings
    strict : bool
        Stop a run whose fit fails a convergence check.
    report : ReportSettings
    compare : CompareSettings
    reinterpret : ReinterpretSettings
    reproduce_groups : tuple of str
        Columns to split the Kaplan-Meier curves by (``reproduce`` on another card).
    simulation : SimulationSettings
    resolved_config : str
        The configuration with every interpolation resolved, as YAML (saved beside results).
    landmark : Landmark or None
        Landmark analysis: the patients alive and under follow-up at ``landmark_months``,
        exposures as known then, time from it (:mod:`bayes_bcsm.data.landmark`).
    absolute : AbsoluteSettings
        Standardised survival and RMST of an exposure (``absolute.*``).
    predict : PredictSettings
        Profiles and the saved run of ``bayes-bcsm predict`` (``predict.*``).
    prognosis : PrognosisPlan or None
        Predictors to cross-validate (``compare`` then scores them instead of fitting its
        variants); None when ``prognosis.predictors`` is empty.
    """

    experiment_name: str
    seed: int
    data: DataSettings
    covariates: CovariateSettings
    missing: MissingSettings
    model: ModelSettings
    prior: PriorSpec
    sampler: SamplerSettings
    strict: bool
    report: ReportSettings
    compare: CompareSettings
    reinterpret: ReinterpretSettings
    reproduce_groups: tuple[str, ...]
    simulation: SimulationSettings
    resolved_config: str
    landmark: Landmark | None = None
    absolute: AbsoluteSettings = field(default_factory=AbsoluteSettings)
    predict: PredictSettings = field(default_factory=PredictSettings)
    prognosis: PrognosisPlan | None = None


def parse_settings(cfg: DictConfig | Config) -> RunSettings:
    """Check a composed configuration and parse it into :class:`RunSettings`, once per run.

    Every key group is checked here, before any data are read and before PyMC is imported:
    unknown keys, ``sampler``/``seed``, ``prior``, ``report``, ``model``, ``data``,
    ``covariates``/``missing``/``reproduce``, ``simulation``, ``reinterpret``, ``absolute``,
    ``predict``.

    Parameters
    ----------
    cfg : DictConfig or Config
        A composed run configuration.

    Returns
    -------
    RunSettings

    Raises
    ------
    ConfigError
        Naming the first offending key, its value and what was expected.
    """
    c = as_dictconfig(cfg)
    check_keys(c)
    sampler = sampler_settings(c)
    prior = prior_spec(c)
    report = report_settings(c)
    card = data_card(c)
    model = ModelSettings(
        family=c.model.family.value,
        cuts=cut_spec(c, study=card.study),
        baseline_prior=c.model.baseline_prior.value,
        spline=spline_spec(c),
    )
    check_covariates(c, card)
    check_chunked_loo(c)
    return RunSettings(
        experiment_name=str(c.experiment_name),
        seed=int(c.seed),
        data=DataSettings(card, cohort_path(c), is_bundled_reconstruction(c)),
        covariates=CovariateSettings(
            mode=c.covariates.mode.value,
            names=tuple(c.covariates.names),
            reference=dict(c.covariates.reference),
            standardize=bool(c.covariates.standardize),
        ),
        missing=MissingSettings(
            c.missing.strategy.value, str(c.missing.covariate), tuple(c.missing.depends_on)
        ),
        model=model,
        prior=prior,
        sampler=sampler,
        strict=bool(c.sampler.strict),
        report=report,
        compare=CompareSettings(tuple(c.compare.variants), bool(c.compare.psense)),
        reinterpret=reinterpret_settings(c),
        reproduce_groups=tuple(c.reproduce.groups),
        simulation=_simulation(c.simulation),
        resolved_config=resolved_yaml(c),
        landmark=landmark_setting(c, card),
        absolute=absolute_settings(c, card),
        predict=predict_settings(c),
        prognosis=prognosis_plan(c, card),
    )


def _simulation(sim: DictConfig) -> SimulationSettings:
    """The checked ``simulation`` section (:func:`bayes_bcsm.config.check_simulation`)."""
    check_simulation(sim)
    return SimulationSettings(
        replicates=int(sim.replicates),
        n=tuple(int(n) for n in sim.n),
        scenarios=tuple(sim.scenarios),
        methods=tuple(sim.methods),
        shard_size=int(sim.shard_size),
        shard=None if sim.shard is None else int(sim.shard),
        run_dir=user_path(str(sim.run_dir)),
        aggregate_only=bool(sim.aggregate_only),
        workers=int(sim.workers),
        sbc_replicates=int(sim.sbc_replicates),
        selection_factors=tuple(sim.selection_factors),
        estimand_n=int(sim.estimand_n),
        estimand_seed=int(sim.estimand_seed),
        estimand_cohorts=int(sim.estimand_cohorts),
        estimand_redraws=int(sim.estimand_redraws),
        thresholds=diagnostic_thresholds(sim.diagnostics),
    )
