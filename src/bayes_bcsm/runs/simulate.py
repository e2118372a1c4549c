"""The simulation study run: shards of replicates, aggregation, SBC and the report.

``run(cfg, output_dir)`` is what ``experiments/simulate.py`` calls. The study lives in
``simulation.run_dir`` (relative to the folder the command was run from unless absolute),
shared by every process of a sweep:

``shards/``
    One results file per shard (``calibrated_n78_shard0003.csv``), or a ``.failed.json``.
``estimands.json``
    Each method's estimand per scenario (pseudo-true log-HRs, averaged over a pool of large
    seeded cohorts with their Monte Carlo SEs, :mod:`bayes_bcsm.simulation.estimands`) and the
    ``null_table3`` endocrine effect, keyed by the generator's parameters, the cohort size,
    seed, number of cohorts and survival redraws, the covariates and cut points; computed once
    and reused by every call and every sweep job.
``study.json``
    The settings that fix the numbers (seed, replicates, shard size, methods, covariates,
    priors, sampler, the generator's parameters); a rerun with different settings in the
    same folder is refused.
``replicates.csv``, ``aggregate.csv``, ``shard_status.csv``
    The merged replicate rows, the operating characteristics and the state of every planned
    shard ("done", "failed" with its error, "missing").
``sbc_ranks.csv``, ``sbc_uniformity.csv``
    Simulation-based calibration of the Bayesian models (computed once, when a run covers
    every shard, i.e. ``simulation.shard=null``; ``simulation.sbc_replicates`` per model, 0 = off).
``report.md``, ``report.html``, ``*.png``
    The report (also written, with the tables, into the run's Hydra output folder).

``simulation.shard=k`` runs only the k-th planned shard (for a multirun sweep
``-m simulation.shard=range(0,16)``); ``null`` runs every shard not yet done;
``simulation.aggregate_only=true`` runs none. Every call then merges whatever shards exist.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import time
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from bayes_bcsm.config import (
    ConfigError,
    CutMethod,
    prior_spec,
    report_settings,
    sampler_settings,
    validate_config,
)
from bayes_bcsm.inference.diagnostics import DiagnosticThresholds
from bayes_bcsm.inference.sample import compile_cache_info
from bayes_bcsm.reconstruct import CALIBRATED_PARAMS
from bayes_bcsm.report.render import strict_json
from bayes_bcsm.report.simulation_report import write_simulation_report
from bayes_bcsm.resources import conf_dir, user_path
from bayes_bcsm.results import SimulationPlan, SimulationRun
from bayes_bcsm.runs.common import write_provenance
from bayes_bcsm.simulation import study
from bayes_bcsm.simulation.estimands import (
    PseudoTrue,
    draw_cohort_pool,
    null_table3_effect,
    pseudo_true,
)
from bayes_bcsm.simulation.methods import NULL_SCENARIOS, SCENARIOS
from bayes_bcsm.simulation.metrics import (
    add_design_analysis,
    add_overall_rejection,
    aggregate_metrics,
    estimand_mcse_table,
)
from bayes_bcsm.simulation.settings import FIXED_SCENARIO_EFFECTS
from bayes_bcsm.simulation.shards import ShardSpec, collect_shards, plan_shards, run_shards

log = logging.getLogger(__name__)

STUDY_FILE = "study.json"
ESTIMANDS_FILE = "estimands.json"

#: Estimands computed in this process, by their key (a sweep's jobs and the tests reuse them).
_ESTIMANDS_MEMO: dict[str, dict] = {}


def resolve_run_dir(cfg: DictConfig) -> Path:
    """``simulation.run_dir``, relative to the folder the command was run from unless absolute."""
    return user_path(str(cfg.simulation.run_dir))


def selection_factors(cfg: DictConfig) -> tuple[str, ...]:
    """Candidate factors of the selection procedure: ``simulation.selection_factors`` if set,
    else the Table 2 factors of ``conf/covariates/univariate.yaml``."""
    if cfg.simulation.selection_factors:
        return tuple(cfg.simulation.selection_factors)
    return tuple(OmegaConf.load(conf_dir() / "covariates" / "univariate.yaml").names)


def study_settings(cfg: DictConfig) -> study.StudySettings:
    """Turn the config into the plain :class:`~bayes_bcsm.simulation.study.StudySettings`.

    The Bayesian methods take their priors and the piecewise baseline from the run's own
    config, so ``prior=...``, ``prior.*`` and ``model.*`` overrides given to the study take
    effect: ``*_default`` methods use the configured prior (``prior=default``, Normal(0, 1),
    unless overridden), ``*_sceptical`` methods the same prior with ``family=sceptical`` (so
    ``prior.sceptical_hr`` / ``prior.sceptical_tail`` apply), and the piecewise methods
    ``model.cuts_months`` / ``model.baseline_prior`` (fixed cuts; ``model.cut_method=quantile``
    is refused: the study's replicates need one fixed design). The sampler is ``cfg.sampler``
    without the per-patient log-likelihood.

    Raises
    ------
    ConfigError
        For ``model.cut_method=quantile``.
    """
    if cfg.model.cut_method == CutMethod.quantile:
        raise ConfigError(
            "model.cut_method=quantile: the simulation study needs fixed cut points "
            "(model.cuts_months) shared by every replicate"
        )
    configured = prior_spec(cfg)
    priors = {
        "default": configured,
        "sceptical": dataclasses.replace(configured, family="sceptical"),
    }
    sampler = sampler_settings(cfg)
    thresholds = DiagnosticThresholds(
        **OmegaConf.to_container(cfg.simulation.diagnostics, resolve=True)
    )
    return study.StudySettings(
        base_seed=int(cfg.seed),
        methods=tuple(cfg.simulation.methods),
        covariates=tuple(cfg.covariates.names),
        selection_factors=selection_factors(cfg),
        reference=dict(cfg.covariates.reference),
        standardize=bool(cfg.covariates.standardize),
        priors=priors,
        piecewise_cuts_months=tuple(c for c in cfg.model.cuts_months if c > 0),
        baseline_prior=cfg.model.baseline_prior.value,
        sampler=dataclasses.replace(sampler, log_likelihood=False, progress_bar=False),
        thresholds=thresholds,
    )


def _estimand_key(settings: study.StudySettings, n: int, seed: int, pool: tuple[int, int]) -> dict:
    params = settings.generator_params or CALIBRATED_PARAMS
    return json.loads(
        strict_json(
            {
                "generator": params.to_dict(),
                "n": int(n),
                "seed": int(seed),
                "cohorts": int(pool[0]),
                "redraws": int(pool[1]),
                "covariates": list(settings.covariates),
                "reference": dict(settings.reference),
                "piecewise_cuts_months": list(settings.piecewise_cuts_months),
                "fixed_scenarios": FIXED_SCENARIO_EFFECTS,
            }
        )
    )


def compute_estimands(
    settings: study.StudySettings,
    n: int,
    seed: int,
    pool: tuple[int, int] = (1, 1),
    workers: int = 1,
) -> dict:
    """Each scenario's generator effects and each method's pseudo-true log-HRs.

    Draws a pool of ``pool = (cohorts, redraws)`` large cohorts of ``n`` patients from
    ``seed`` on (:func:`~bayes_bcsm.simulation.estimands.draw_cohort_pool`, ``workers``
    processes), finds the conditional endocrine effect of ``null_table3``
    (:func:`~bayes_bcsm.simulation.estimands.null_table3_effect`), then computes the pooled
    pseudo-true values of every target in every scenario.

    Returns
    -------
    dict
        ``{"scenario_effects": {scenario: {effect: value}}, "pseudo_true": {scenario:
        PseudoTrue.to_dict()}, "seconds": float}``.
    """
    start = time.perf_counter()
    cohort = draw_cohort_pool(
        n,
        seed,
        *pool,
        settings.covariates,
        settings.reference,
        settings.generator_params,
        workers=workers,
    )
    column, _ = NULL_SCENARIOS["null_table3"]
    effects = {name: dict(v) for name, v in FIXED_SCENARIO_EFFECTS.items()}
    effects["null_table3"] = {column: null_table3_effect(cohort, column, column)}
    truths = {
        scenario: pseudo_true(cohort, effects[scenario], settings.piecewise_cuts_months).to_dict()
        for scenario in SCENARIOS
    }
    return {
        "scenario_effects": effects,
        "pseudo_true": truths,
        "seconds": time.perf_counter() - start,
    }


def study_estimands(
    settings: study.StudySettings,
    n: int,
    seed: int,
    run_dir: Path,
    pool: tuple[int, int] = (1, 1),
    workers: int = 1,
) -> tuple[study.StudySettings, dict[str, PseudoTrue]]:
    """The settings with their scenario effects and estimands, from ``run_dir``'s cache.

    ``estimands.json`` is reused when its key (generator parameters, ``n``, ``seed``,
    ``pool = (cohorts, redraws)``, covariates, cut points) matches, else recomputed
    (:func:`compute_estimands`) and written.

    Returns
    -------
    (StudySettings, dict of str to PseudoTrue)
        Settings with ``scenario_effects`` and ``pseudo_true`` filled in, and the full
        pseudo-true results (with their Monte Carlo SEs) per scenario.
    """
    key = _estimand_key(settings, n, seed, pool)
    memo_key = json.dumps(key, sort_keys=True)
    path = run_dir / ESTIMANDS_FILE
    stored = None
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("key") == key:
            stored = saved
    if stored is None:
        stored = _ESTIMANDS_MEMO.get(memo_key)
        if stored is None:
            log.info(
                "computing the estimands on %d x %d cohorts of %d (cached in %s)", *pool, n, path
            )
            stored = {"key": key, **compute_estimands(settings, n, seed, pool, workers)}
            _ESTIMANDS_MEMO[memo_key] = stored
        run_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".json.{os.getpid()}.tmp")
        tmp.write_text(strict_json(stored))
        tmp.replace(path)
    truths = {s: PseudoTrue.from_dict(v) for s, v in stored["pseudo_true"].items()}
    settings = dataclasses.replace(
        settings,
        scenario_effects=stored["scenario_effects"],
        pseudo_true={s: t.values for s, t in truths.items()},
    )
    return settings, truths


def _fingerprint(cfg: DictConfig, settings: study.StudySettings) -> dict:
    s = settings.sampler
    return {
        "seed": settings.base_seed,
        "replicates": int(cfg.simulation.replicates),
        "shard_size": int(cfg.simulation.shard_size),
        "methods": list(settings.methods),
        "covariates": list(settings.covariates),
        "selection_factors": list(settings.selection_factors),
        "reference": dict(settings.reference),
        "priors": {k: repr(v) for k, v in settings.priors.items()},
        "piecewise_cuts_months": list(settings.piecewise_cuts_months),
        "estimand_n": int(cfg.simulation.estimand_n),
        "estimand_seed": int(cfg.simulation.estimand_seed),
        "estimand_cohorts": int(cfg.simulation.estimand_cohorts),
        "estimand_redraws": int(cfg.simulation.estimand_redraws),
        "diagnostics": dataclasses.asdict(settings.thresholds),
        # the generator's parameters (true effects, baseline): a recalibration invalidates shards
        "generator": json.loads(
            json.dumps((settings.generator_params or CALIBRATED_PARAMS).to_dict())
        ),
        "sampler": {
            "sampler": s.sampler,
            "chains": s.chains,
            "draws": s.draws,
            "tune": s.tune,
            "target_accept": s.target_accept,
        },
    }


def _check_study_file(run_dir: Path, fingerprint: dict) -> None:
    path = run_dir / STUDY_FILE
    if path.exists():
        saved = json.loads(path.read_text())
        fingerprint = json.loads(strict_json(fingerprint))  # compare as stored
        differ = sorted(
            k for k in set(saved) | set(fingerprint) if saved.get(k) != fingerprint.get(k)
        )
        if differ:
            raise ConfigError(
                f"simulation.run_dir={run_dir} holds a study with other settings "
                f"({', '.join(differ)} differ; see {path}); use a new simulation.run_dir "
                "or the same settings"
            )
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(strict_json(fingerprint))


def _shards_to_run(cfg: DictConfig, specs: list[ShardSpec]) -> list[ShardSpec]:
    sim = cfg.simulation
    if sim.aggregate_only:
        return []
    if sim.shard is None:
        return specs
    if sim.shard >= len(specs):
        raise ConfigError(
            f"simulation.shard={sim.shard}: the study has {len(specs)} shards "
            f"(0 .. {len(specs) - 1})"
        )
    return [specs[sim.shard]]


def _sbc(cfg: DictConfig, settings: study.StudySettings, run_dir: Path, compute: bool) -> dict:
    """Load the SBC results of ``run_dir``, computing them first when asked and missing."""
    ranks_path, unif_path = run_dir / "sbc_ranks.csv", run_dir / "sbc_uniformity.csv"
    n_rep = int(cfg.simulation.sbc_replicates)
    bayesian = [m for m in settings.methods if m in study.BAYESIAN_METHODS]
    stale = ranks_path.exists() and pd.read_csv(ranks_path)["replicate"].nunique() != n_rep
    if compute and n_rep > 0 and bayesian and (stale or not ranks_path.exists()):
        start = time.perf_counter()
        results = study.run_study_sbc(settings, int(cfg.simulation.n[0]), n_rep, int(cfg.seed))
        long, unif = [], []
        for method, res in results.items():
            frame = res.ranks.copy()
            frame.insert(0, "replicate", range(len(frame)))
            melted = frame.melt(id_vars="replicate", var_name="parameter", value_name="rank")
            melted.insert(0, "method", method)
            long.append(melted)
            u = res.uniformity.reset_index()
            u.insert(0, "method", method)
            u["n_rank_draws"] = res.n_rank_draws
            unif.append(u)
        pd.concat(unif, ignore_index=True).to_csv(unif_path, index=False)
        tmp = ranks_path.with_suffix(".csv.tmp")
        pd.concat(long, ignore_index=True).to_csv(tmp, index=False)
        tmp.replace(ranks_path)
        log.info(
            "SBC: %d replicates x %d models in %.1f s",
            n_rep,
            len(bayesian),
            time.perf_counter() - start,
        )
    if not (ranks_path.exists() and unif_path.exists()):
        return {}
    uniformity = pd.read_csv(unif_path)
    return {
        "ranks": pd.read_csv(ranks_path),
        "uniformity": uniformity,
        "n_rank_draws": int(uniformity["n_rank_draws"].iloc[0]),
    }


def run(cfg: DictConfig, output_dir: str | Path) -> SimulationRun:
    """Run the selected shards of the study, merge every finished shard, write the report.

    Parameters
    ----------
    cfg : DictConfig
        A composed configuration (``experiment=simulation_study``); validated here.
    output_dir : str or Path
        The run's Hydra output folder (provenance, and a copy of the tables and report).

    Returns
    -------
    SimulationRun

    Raises
    ------
    ConfigError
        Invalid configuration, a shard index beyond the plan, or a ``run_dir`` that holds a
        study with other settings.
    """
    start = time.perf_counter()
    validate_config(cfg)
    output_dir = Path(output_dir)
    write_provenance(cfg, output_dir)
    settings = study_settings(cfg)
    run_dir = resolve_run_dir(cfg)
    _check_study_file(run_dir, _fingerprint(cfg, settings))
    sim = cfg.simulation
    settings, truths = study_estimands(
        settings,
        int(sim.estimand_n),
        int(sim.estimand_seed),
        run_dir,
        (int(sim.estimand_cohorts), int(sim.estimand_redraws)),
        int(sim.workers),
    )
    specs = plan_shards(list(sim.scenarios), list(sim.n), int(sim.replicates), int(sim.shard_size))
    todo = _shards_to_run(cfg, specs)
    shards_dir = run_dir / "shards"
    work = functools.partial(study.run_shard, settings)
    run_status = run_shards(shards_dir, todo, work, workers=int(sim.workers))
    for row in run_status.itertuples():
        if row.state == "failed":
            log.error("shard %s failed: %s", row.shard, row.message)
    covers_all = sim.shard is None and not sim.aggregate_only
    sbc = _sbc(cfg, settings, run_dir, compute=covers_all)
    replicates, shard_status = collect_shards(shards_dir, specs)
    replicates = study.with_estimands(replicates, settings) if len(replicates) else replicates
    truth_mcse = estimand_mcse_table({s: t.mcse for s, t in truths.items()}, settings.methods)
    aggregate = (
        add_design_analysis(
            add_overall_rejection(aggregate_metrics(replicates, estimand_mcse=truth_mcse))
        )
        if len(replicates)
        else pd.DataFrame()
    )
    seconds = time.perf_counter() - start
    estimands = pd.concat(
        [t.summary.assign(scenario=s) for s, t in truths.items()], ignore_index=True
    )
    result = SimulationRun(
        run_dir,
        replicates,
        aggregate,
        shard_status,
        run_status,
        sbc,
        seconds,
        estimands=estimands,
        scenario_effects={s: dict(v) for s, v in settings.scenario_effects.items()},
    )
    cache = compile_cache_info()
    timing = {
        "seconds": seconds,
        "shards_run": int((run_status["state"] == "done").sum()) if len(run_status) else 0,
        "compile_cache": {"hits": cache.hits, "misses": cache.misses},
    }
    folders = [run_dir] + ([output_dir] if output_dir.resolve() != run_dir.resolve() else [])
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        replicates.to_csv(folder / "replicates.csv", index=False)
        aggregate.to_csv(folder / "aggregate.csv", index=False)
        shard_status.to_csv(folder / "shard_status.csv", index=False)
        estimands.to_csv(folder / "estimands.csv", index=False)
        plan = SimulationPlan(
            int(cfg.simulation.replicates),
            tuple(int(n) for n in cfg.simulation.n),
            tuple(cfg.simulation.scenarios),
        )
        write_simulation_report(report_settings(cfg), plan, settings, result, folder, timing)
    run_status.to_csv(output_dir / "run_status.csv", index=False)
    (output_dir / "timing.json").write_text(strict_json(timing))
    return result
