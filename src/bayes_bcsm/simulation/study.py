"""The simulation study: per-replicate fits of every method on cohorts with known true effects.

For each replicate a cohort of ``n`` patients is drawn from the reconstruction's calibrated
generator (:func:`bayes_bcsm.reconstruct.simulate_cohort`) with a seed that depends only on
(base seed, scenario, n, replicate) (:func:`bayes_bcsm.simulation.shards.replicate_seed`), the
derived groupings are added, and each method is fitted:

``cox_table3``
    Cox PH (Efron ties) on the paper's Table 3 covariate set, complete cases, Wald 95 % CI.
``cox_selection``
    The paper's procedure (:func:`bayes_bcsm.frequentist.paper_selection`): log-rank screen of
    the Table 2 factors at P < 0.05, then Cox backward elimination by likelihood-ratio P > 0.10;
    a Table 3 covariate not in the final model has ``selected = 0`` and no estimate.
``firth_table3``
    Firth-penalised Cox on the Table 3 set, profile penalised-likelihood 95 % CI
    (Heinze & Schemper 2001, Biometrics 57:114).
``weibull_default``, ``weibull_sceptical``, ``piecewise_default``, ``piecewise_sceptical``
    The Bayesian Weibull and piecewise-exponential PH models with the default Normal(0, 1)
    or the sceptical log-HR prior; estimate = posterior median of the log-HR, interval = the
    95 % equal-tailed posterior interval. Models are compiled once per structure and refitted
    on every replicate (the compile cache of :func:`bayes_bcsm.inference.sample.sample`: at a
    fixed ``n`` the complete-case design always has the same shape, the generator's counts being
    exact).

Each method's failure (an exception, a Cox fit that did not converge, a posterior with
R-hat of a log-HR above ``rhat_max``) is *recorded* (``failed = 1``, the reason in ``note``),
never raised: one bad replicate does not lose a shard.

The truth
---------
``true_log_hr`` is the generator's log hazard ratio of the indicator behind each design column
(:data:`TRUTH_MAP`), e.g. ``hormone_therapy`` -> ``TRUE_EFFECTS["hormone_therapy"]`` and
``hormone_receptor[positive]`` -> ``TRUE_EFFECTS["hormone_receptor_positive"]`` (observed
status equals the latent one among tested patients; untested patients are excluded as
complete cases). The generator's effects are *conditional on all 16 indicators* of its linear
predictor; the Table 3 model leaves 12 of them out (e.g. visceral metastasis, log-HR 0.5), so
its target differs from the generator's effect by omitted-covariate confounding and by the
non-collapsibility of the hazard ratio. Bias is measured against the generator's effect
because that is the effect the paper's adjusted HR is meant to estimate.

Scenarios: ``calibrated`` uses the calibrated effects unchanged; ``null`` sets the endocrine
(``hormone_therapy``) effect to 0 (HR = 1), all other effects unchanged.

References
----------
Morris TP, White IR, Crowther MJ (2019). Using simulation studies to evaluate statistical
methods. Stat Med 38:2074-2102.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pandas as pd
from scipy import stats

from bayes_bcsm.data import Design, build_design, derive_groupings
from bayes_bcsm.frequentist import cox_ph_design, paper_selection
from bayes_bcsm.inference.sample import SamplerSettings, sample
from bayes_bcsm.models import PriorSpec, SurvivalModel, piecewise_model, weibull_model
from bayes_bcsm.reconstruct import GeneratorParams, simulate_cohort, true_effects
from bayes_bcsm.simulation.methods import BAYESIAN_METHODS, METHODS, SCENARIOS
from bayes_bcsm.simulation.metrics import REPLICATE_COLUMNS
from bayes_bcsm.simulation.shards import ShardSpec, replicate_seed

__all__ = [
    "BAYESIAN_METHODS",
    "EXTRA_COLUMNS",
    "METHODS",
    "SCENARIOS",
    "TRUTH_MAP",
    "StudySettings",
    "add_overall_rejection",
    "bayesian_model",
    "replicate_cohort",
    "run_shard",
    "run_study_sbc",
    "scenario_effects",
    "simulate_replicate",
    "table3_design",
    "true_log_hrs",
]

#: Columns written beside :data:`REPLICATE_COLUMNS`: wall-clock seconds of the method's fit on
#: the replicate (shared by its covariate rows) and a short note (failure reason, separation).
EXTRA_COLUMNS: tuple[str, ...] = ("seconds", "note")

#: Design column -> generator effect. Keys are ``(covariate, level)`` for categorical terms
#: (the level whose indicator the generator uses) or ``(covariate, None)`` for 0/1 columns.
TRUTH_MAP: dict[tuple[str, str | None], str] = {
    ("preop_neuro_dysfunction", "A-C"): "preop_neuro_abc",
    ("postop_neuro_dysfunction", "A-C"): "postop_neuro_abc",
    ("hormone_receptor", "positive"): "hormone_receptor_positive",
    ("hormone_therapy", None): "hormone_therapy",
    ("visceral_metastasis", None): "visceral_metastasis",
    ("solitary_spinal_lesion", None): "solitary_spinal_lesion",
    ("radiotherapy", None): "radiotherapy",
    ("chemo_or_targeted", None): "chemo_or_targeted",
    ("breast_surgery_history", None): "breast_surgery_history",
    ("age_group", ">50"): "age_over_50",
    ("pathology_group", "low-invasive"): "low_invasive_pathology",
    ("kps_post_group", "<70"): "kps_post_lt70",
}

_SCENARIO_EFFECTS: dict[str, dict[str, float]] = {
    "calibrated": {},
    "null": {"hormone_therapy": 0.0},
}


def _default_priors() -> dict[str, PriorSpec]:
    return {"default": PriorSpec(), "sceptical": PriorSpec(family="sceptical")}


@dataclass(frozen=True)
class StudySettings:
    """Everything a replicate needs, as plain objects (built from the config at the edge).

    Attributes
    ----------
    base_seed : int
        The run's seed; each replicate's seed is derived from it, the scenario, n and the
        replicate index.
    methods : tuple of str
        Subset of :data:`METHODS`.
    covariates : tuple of str
        The Table 3 covariate set (cohort / derived-grouping columns).
    selection_factors : tuple of str
        Candidate factors of the paper's selection procedure (the Table 2 factors).
    reference : mapping of str to str
        Reference levels of categorical covariates.
    standardize : bool
        Standardise continuous covariates in the design (binary ones are never scaled).
    priors : mapping of str to PriorSpec
        Log-HR priors by name (``"default"``, ``"sceptical"``).
    piecewise_cuts_months : tuple of float
        Interior cut points of the piecewise baseline, months.
    baseline_prior : {"random_walk", "independent"}
        Prior of the piecewise log baseline hazards.
    sampler : SamplerSettings
        Sampler settings; the seed is replaced per replicate and method.
    screen_p, remove_p : float
        Thresholds of the selection procedure (paper: 0.05 and SPSS's 0.10).
    rhat_max : float
        A Bayesian fit whose largest log-HR R-hat exceeds this is recorded as failed.
    generator_params : GeneratorParams or None
        Generator parameters (default: the calibrated ones).
    """

    base_seed: int
    methods: tuple[str, ...] = METHODS
    covariates: tuple[str, ...] = (
        "preop_neuro_dysfunction",
        "postop_neuro_dysfunction",
        "hormone_receptor",
        "hormone_therapy",
    )
    selection_factors: tuple[str, ...] = ()
    reference: Mapping[str, str] = field(default_factory=dict)
    standardize: bool = True
    priors: Mapping[str, PriorSpec] = field(default_factory=_default_priors)
    piecewise_cuts_months: tuple[float, ...] = (6.0, 12.0, 24.0, 36.0, 60.0)
    baseline_prior: str = "random_walk"
    sampler: SamplerSettings = field(default_factory=lambda: SamplerSettings(log_likelihood=False))
    screen_p: float = 0.05
    remove_p: float = 0.10
    rhat_max: float = 1.05
    generator_params: GeneratorParams | None = None

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise ValueError(f"methods {list(self.methods)}: expected a subset of {list(METHODS)}")
        if "cox_selection" in self.methods and not self.selection_factors:
            raise ValueError("method cox_selection needs selection_factors (the Table 2 factors)")
        needed = {BAYESIAN_METHODS[m][1] for m in self.methods if m in BAYESIAN_METHODS}
        missing = sorted(needed - set(self.priors))
        if missing:
            raise ValueError(f"priors {missing} are needed by the methods but not given")


def scenario_effects(scenario: str) -> dict[str, float]:
    """Generator effects (log-HRs) overridden in a scenario.

    Raises
    ------
    ValueError
        For an unknown scenario (the message lists the valid ones).
    """
    if scenario not in _SCENARIO_EFFECTS:
        raise ValueError(f"scenario {scenario!r} is unknown; valid: {', '.join(SCENARIOS)}")
    return dict(_SCENARIO_EFFECTS[scenario])


def true_log_hrs(
    design: Design, scenario: str, params: GeneratorParams | None = None
) -> dict[str, float]:
    """The generator's true log-HR of each design column (see :data:`TRUTH_MAP`).

    A two-level categorical coded the other way round (the generator's indicator level as the
    reference) gets the negated effect.

    Parameters
    ----------
    design : Design
    scenario : str
        ``"calibrated"`` or ``"null"``.
    params : GeneratorParams, optional
        Default: the calibrated parameters.

    Returns
    -------
    dict of str to float
        Log hazard ratio per design column, per natural unit (all mapped columns are 0/1).

    Raises
    ------
    ValueError
        For a design column without a generator counterpart.
    """
    effects = true_effects(params)
    effects.update(scenario_effects(scenario))
    out: dict[str, float] = {}
    for term in design.terms:
        if term.kind != "categorical":
            key = TRUTH_MAP.get((term.name, None))
            if key is None:
                raise ValueError(_no_truth(term.name))
            out[term.columns[0]] = effects[key]
            continue
        for column, level in zip(term.columns, term.levels[1:], strict=True):
            if (term.name, level) in TRUTH_MAP:
                out[column] = effects[TRUTH_MAP[(term.name, level)]]
            elif len(term.levels) == 2 and (term.name, term.reference) in TRUTH_MAP:
                out[column] = -effects[TRUTH_MAP[(term.name, term.reference)]]
            else:
                raise ValueError(_no_truth(column))
    return out


def _no_truth(column: str) -> str:
    valid = sorted({name for name, _ in TRUTH_MAP})
    return (
        f"design column {column!r} has no true effect in the generator; covariates with one: "
        + ", ".join(valid)
    )


def _method_seed(seed: np.random.SeedSequence, name: str) -> int:
    """A seed for one method on one replicate, independent of which other methods run."""
    child = np.random.SeedSequence(seed.entropy, spawn_key=(zlib.crc32(name.encode()),))
    return int(child.generate_state(1)[0])


def replicate_cohort(
    settings: StudySettings, scenario: str, n: int, replicate: int
) -> pd.DataFrame:
    """The cohort of one replicate, with derived groupings (deterministic in its arguments).

    Parameters
    ----------
    settings : StudySettings
    scenario : str
    n : int
        Patients.
    replicate : int
        Replicate index.

    Returns
    -------
    DataFrame
    """
    seed = replicate_seed(settings.base_seed, scenario, n, replicate)
    cohort = simulate_cohort(
        n,
        np.random.default_rng(seed),
        effects=scenario_effects(scenario),
        params=settings.generator_params,
    )
    return derive_groupings(cohort)


def table3_design(settings: StudySettings, frame: pd.DataFrame) -> Design:
    """The complete-case design of the Table 3 covariates (shared by Cox, Firth, Bayes)."""
    return build_design(
        frame,
        list(settings.covariates),
        reference=dict(settings.reference),
        standardize=settings.standardize,
    )


def bayesian_model(settings: StudySettings, method: str, design: Design) -> SurvivalModel:
    """Build the model of a Bayesian method on ``design``.

    Raises
    ------
    ValueError
        If ``method`` is not one of :data:`BAYESIAN_METHODS`.
    """
    if method not in BAYESIAN_METHODS:
        raise ValueError(f"{method!r} is not Bayesian; valid: {', '.join(BAYESIAN_METHODS)}")
    family, prior_name = BAYESIAN_METHODS[method]
    prior = settings.priors[prior_name]
    if family == "weibull":
        return weibull_model(design, prior=prior)
    return piecewise_model(
        design,
        cuts=settings.piecewise_cuts_months,
        prior=prior,
        baseline_prior=settings.baseline_prior,
    )


@dataclass(frozen=True)
class _Estimates:
    estimate: dict[str, float]
    lower: dict[str, float]
    upper: dict[str, float]
    selected: dict[str, int]
    failed: bool
    note: str


def _failure(note: str) -> _Estimates:
    return _Estimates({}, {}, {}, {}, True, note)


def _cox_estimates(result, penalty_name: str) -> _Estimates:
    if result.ci_method == "wald":  # on the log scale directly: finite even under separation
        z = stats.norm.ppf(0.5 + result.conf_level / 2)
        log_ci = np.column_stack([result.coef - z * result.se, result.coef + z * result.se])
    else:
        with np.errstate(divide="ignore"):
            log_ci = np.log(result.ci)
    notes = []
    if result.separated:
        notes.append("separation: " + ", ".join(result.separated))
    if not result.converged:
        notes.append(f"{penalty_name} did not converge")
    return _Estimates(
        dict(zip(result.columns, map(float, result.coef), strict=True)),
        dict(zip(result.columns, map(float, log_ci[:, 0]), strict=True)),
        dict(zip(result.columns, map(float, log_ci[:, 1]), strict=True)),
        dict.fromkeys(result.columns, 1),
        not result.converged,
        "; ".join(notes),
    )


def _fit_frequentist(
    method: str, settings: StudySettings, frame: pd.DataFrame, design: Design
) -> _Estimates:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation / convergence are recorded in the rows
        if method == "cox_table3":
            return _cox_estimates(cox_ph_design(design), "Cox")
        if method == "firth_table3":
            return _cox_estimates(cox_ph_design(design, penalty="firth"), "Firth Cox")
        selection = paper_selection(
            frame,
            "time_months",
            "event",
            list(settings.selection_factors),
            screen_p=settings.screen_p,
            remove_p=settings.remove_p,
            reference=dict(settings.reference),
        )
    if selection.final is None:
        return _Estimates({}, {}, {}, {}, False, "no factor selected")
    est = _cox_estimates(selection.final, "Cox after selection")
    note = "selected: " + ", ".join(selection.selected)
    return dataclasses.replace(est, note=f"{note}; {est.note}" if est.note else note)


def _fit_bayesian(method: str, settings: StudySettings, design: Design, seed: int) -> _Estimates:
    model = bayesian_model(settings, method, design)
    fit = sample(model, dataclasses.replace(settings.sampler, seed=seed))
    beta = fit.idata["posterior"]["beta"]
    rhat = az.rhat(fit.idata, var_names=["beta"], method="rank")
    rhat = rhat.dataset if hasattr(rhat, "dataset") else rhat
    worst = float(np.nanmax(np.asarray(rhat["beta"])))
    draws = beta.stack(sample=("chain", "draw")).transpose("covariate", "sample").values
    log_hr = draws * np.asarray(model.per_natural_unit)[:, None]
    lower, median, upper = np.quantile(log_hr, [0.025, 0.5, 0.975], axis=1)
    columns = list(model.columns)
    diverging = fit.idata["sample_stats"].dataset.get("diverging")
    n_div = int(diverging.sum()) if diverging is not None else 0
    failed = not worst <= settings.rhat_max
    notes = []
    if failed:
        notes.append(f"R-hat {worst:.3f} > {settings.rhat_max}")
    if n_div:
        notes.append(f"{n_div} divergences")
    return _Estimates(
        dict(zip(columns, map(float, median), strict=True)),
        dict(zip(columns, map(float, lower), strict=True)),
        dict(zip(columns, map(float, upper), strict=True)),
        dict.fromkeys(columns, 1),
        failed,
        "; ".join(notes),
    )


def simulate_replicate(
    settings: StudySettings, scenario: str, n: int, replicate: int
) -> pd.DataFrame:
    """Draw one cohort and fit every method; failures are recorded, not raised.

    Parameters
    ----------
    settings : StudySettings
    scenario : {"calibrated", "null"}
    n : int
        Patients per cohort.
    replicate : int
        Replicate index (with ``settings.base_seed``, ``scenario`` and ``n`` it fixes every
        random number of the replicate).

    Returns
    -------
    DataFrame
        Columns :data:`REPLICATE_COLUMNS` + :data:`EXTRA_COLUMNS`; one row per method and
        Table 3 design column. Log-HRs per natural unit; intervals are 95 %.
    """
    seed = replicate_seed(settings.base_seed, scenario, n, replicate)
    frame = replicate_cohort(settings, scenario, n, replicate)
    design = table3_design(settings, frame)
    truth = true_log_hrs(design, scenario, settings.generator_params)
    rows = []
    for method in settings.methods:
        start = time.perf_counter()
        try:
            if method in BAYESIAN_METHODS:
                est = _fit_bayesian(method, settings, design, _method_seed(seed, method))
            else:
                est = _fit_frequentist(method, settings, frame, design)
        except Exception as error:  # recorded per method; the replicate goes on
            est = _failure(f"{type(error).__name__}: {error}"[:300])
        seconds = time.perf_counter() - start
        for column in design.columns:
            rows.append(
                {
                    "scenario": scenario,
                    "n": int(n),
                    "method": method,
                    "covariate": column,
                    "replicate": int(replicate),
                    "true_log_hr": truth[column],
                    "estimate": est.estimate.get(column, np.nan),
                    "lower": est.lower.get(column, np.nan),
                    "upper": est.upper.get(column, np.nan),
                    "selected": int(est.selected.get(column, 0)) if not est.failed else 0,
                    "failed": int(est.failed),
                    "seconds": seconds,
                    "note": est.note,
                }
            )
    return pd.DataFrame(rows, columns=[*REPLICATE_COLUMNS, *EXTRA_COLUMNS])


def run_shard(settings: StudySettings, spec: ShardSpec) -> pd.DataFrame:
    """All replicates of one shard (the ``work`` of :func:`.shards.run_shards`).

    Returns
    -------
    DataFrame
        The rows of :func:`simulate_replicate` for each replicate of the shard.
    """
    frames = [simulate_replicate(settings, spec.scenario, spec.n, r) for r in spec.replicates]
    return pd.concat(frames, ignore_index=True)


def run_study_sbc(
    settings: StudySettings,
    n: int,
    n_replicates: int,
    seed: int,
    methods: Sequence[str] | None = None,
    n_rank_draws: int = 99,
) -> dict[str, object]:
    """Simulation-based calibration of each Bayesian method on a Table 3 design of size ``n``.

    The template design is the Table 3 design of replicate 0 of the calibrated scenario (so
    the compiled models of the study are reused); times are redrawn from each prior draw by
    :func:`bayes_bcsm.simulation.sbc.run_sbc`.

    Parameters
    ----------
    settings : StudySettings
    n : int
        Patients of the template cohort.
    n_replicates : int
        SBC replicates per method.
    seed : int
    methods : sequence of str, optional
        Default: the Bayesian methods among ``settings.methods``.
    n_rank_draws : int
        ``L``: posterior draws the truth is ranked among (``L + 1`` divisible by 10).

    Returns
    -------
    dict of str to SBCResult
        One per method (ranks of every log-HR and uniformity tests).
    """
    from bayes_bcsm.simulation.sbc import run_sbc

    methods = [m for m in (methods or settings.methods) if m in BAYESIAN_METHODS]
    template = table3_design(settings, replicate_cohort(settings, "calibrated", n, 0))
    out: dict[str, object] = {}
    for method in methods:
        out[method] = run_sbc(
            template,
            lambda design, m=method: bayesian_model(settings, m, design),
            n_replicates=n_replicates,
            seed=seed + zlib.crc32(method.encode()) % 10_000,
            settings=dataclasses.replace(settings.sampler, seed=seed, log_likelihood=False),
            n_rank_draws=n_rank_draws,
        )
    return out


def add_overall_rejection(aggregate: pd.DataFrame) -> pd.DataFrame:
    """Add the rejection rate of the whole procedure, selection included.

    :func:`~bayes_bcsm.simulation.metrics.aggregate_metrics` computes ``rejection_rate``
    among the replicates that *estimated* the covariate: for ``cox_selection`` that is
    conditional on the covariate having been selected. A covariate dropped by backward
    elimination was found "not significant", so the procedure's power / type-I error is
    ``rejection_rate x selected_share``; for methods without selection the two agree.

    Parameters
    ----------
    aggregate : DataFrame
        Output of :func:`~bayes_bcsm.simulation.metrics.aggregate_metrics`.

    Returns
    -------
    DataFrame
        A copy with ``rejection_rate_overall`` and ``rejection_overall_mcse`` (binomial MCSE
        over the replicates that did not fail).
    """
    out = aggregate.copy()
    p = out["rejection_rate"] * out["selected_share"]
    m = (out["n_replicates"] - out["n_failed"]).clip(lower=1)
    out["rejection_rate_overall"] = p
    out["rejection_overall_mcse"] = np.sqrt(p * (1 - p) / m)
    return out
