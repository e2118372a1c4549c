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
    seed, number of cohorts and survival redraws, the covariates and cut points; taken from the
    entry shipped with the package or the user cache when one holds the key
    (:mod:`bayes_bcsm.simulation.estimand_cache`), else computed once (and cached) and reused
    by every call and every sweep job.
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

import contextlib
import dataclasses
import functools
import json
import logging
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from bayes_bcsm.atomic import write_csv_atomic, write_text_atomic
from bayes_bcsm.config import ConfigError
from bayes_bcsm.reconstruct import CALIBRATED_PARAMS
from bayes_bcsm.report.render import strict_json
from bayes_bcsm.report.simulation_report import write_simulation_report
from bayes_bcsm.resources import conf_dir
from bayes_bcsm.results import SimulationPlan, SimulationRun
from bayes_bcsm.runs.common import write_provenance
from bayes_bcsm.settings import RunSettings, SimulationSettings, parse_settings
from bayes_bcsm.simulation.methods import BAYESIAN_METHODS, NULL_SCENARIOS, SCENARIOS
from bayes_bcsm.simulation.metrics import (
    add_design_analysis,
    add_overall_rejection,
    aggregate_metrics,
    estimand_mcse_table,
)
from bayes_bcsm.simulation.settings import FIXED_SCENARIO_EFFECTS, StudySettings
from bayes_bcsm.simulation.shards import (
    ShardSpec,
    collect_shards,
    plan_shards,
    run_shards,
    worker_pool,
)

if TYPE_CHECKING:
    from bayes_bcsm.simulation.estimands import PseudoTrue

# The modelling stack (bayes_bcsm.simulation.study and .estimands, PyMC) is imported inside the
# functions that fit or simulate, so that ``run`` parses the config before it loads.

log = logging.getLogger(__name__)

STUDY_FILE = "study.json"
ESTIMANDS_FILE = "estimands.json"

#: Estimands used in this process and where they came from, by their key (a sweep's jobs and
#: the tests reuse them).
_ESTIMANDS_MEMO: dict[str, tuple[dict, str]] = {}


def selection_factors(sim: SimulationSettings) -> tuple[str, ...]:
    """Candidate factors of the selection procedure: ``simulation.selection_factors`` if set,
    else the Table 2 factors of ``conf/covariates/univariate.yaml``."""
    if sim.selection_factors:
        return sim.selection_factors
    return tuple(OmegaConf.load(conf_dir() / "covariates" / "univariate.yaml").names)


def study_settings(run: RunSettings) -> StudySettings:
    """Turn the parsed run settings into plain :class:`~bayes_bcsm.simulation.StudySettings`.

    The Bayesian methods take their priors and the piecewise baseline from the run's own
    config, so ``prior=...``, ``prior.*`` and ``model.*`` overrides given to the study take
    effect: ``*_default`` methods use the configured prior (``prior=default``, Normal(0, 1),
    unless overridden), ``*_sceptical`` methods the same prior with ``family=sceptical`` (so
    ``prior.sceptical_hr`` / ``prior.sceptical_tail`` apply), and the piecewise methods
    ``model.cuts_months`` / ``model.baseline_prior`` (fixed cuts; ``model.cut_method=quantile``
    is refused: the study's replicates need one fixed design). The sampler is ``sampler``
    without the per-patient log-likelihood.

    Raises
    ------
    ConfigError
        For ``model.cut_method=quantile``.
    """
    cuts = run.model.cuts
    if not cuts.fixed:
        raise ConfigError(
            "model.cut_method=quantile (or auto on a card other than the study's): the "
            "simulation study needs fixed cut points (model.cuts_months) shared by every replicate"
        )
    priors = {
        "default": run.prior,
        "sceptical": dataclasses.replace(run.prior, family="sceptical"),
    }
    return StudySettings(
        base_seed=run.seed,
        methods=run.simulation.methods,
        covariates=run.covariates.names,
        selection_factors=selection_factors(run.simulation),
        reference=dict(run.covariates.reference),
        standardize=run.covariates.standardize,
        priors=priors,
        piecewise_cuts_months=tuple(c for c in cuts.cuts_months if c > 0),
        baseline_prior=run.model.baseline_prior,
        sampler=dataclasses.replace(run.sampler, log_likelihood=False, progress_bar=False),
        thresholds=run.simulation.thresholds,
    )


def estimand_key(settings: StudySettings, n: int, seed: int, pool: tuple[int, int]) -> dict:
    """What the estimands depend on, as plain JSON types: the generator's parameters, the pool
    (``n`` patients per cohort, ``seed``, ``pool = (cohorts, redraws)``), the Table 3
    covariates and reference levels, the piecewise cut points and the fixed scenario effects
    (not the priors, sampler, replicates or methods)."""
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
    settings: StudySettings,
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
    from bayes_bcsm.simulation.estimands import draw_cohort_pool, null_table3_effect, pseudo_true

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
    settings: StudySettings,
    n: int,
    seed: int,
    run_dir: Path,
    pool: tuple[int, int] = (1, 1),
    workers: int = 1,
) -> tuple[StudySettings, dict[str, PseudoTrue], str]:
    """The settings with their scenario effects and estimands, computed once per configuration.

    The estimands are looked up by their key (:func:`estimand_key`: generator parameters,
    ``n``, ``seed``, ``pool = (cohorts, redraws)``, covariates, cut points) in ``run_dir``'s
    ``estimands.json``, this process's memo, the entry shipped with the package and the user
    cache (:mod:`bayes_bcsm.simulation.estimand_cache`), and computed
    (:func:`compute_estimands`) only when none holds them; a computed entry is stored in the
    user cache. ``run_dir/estimands.json`` is written either way.

    Returns
    -------
    (StudySettings, dict of str to PseudoTrue, str)
        Settings with ``scenario_effects`` and ``pseudo_true`` filled in, the full
        pseudo-true results (with their Monte Carlo SEs) per scenario, and where the
        estimands came from, in words.
    """
    from bayes_bcsm.simulation.estimand_cache import find_estimands, read_entry, write_user_entry
    from bayes_bcsm.simulation.estimands import PseudoTrue

    key = estimand_key(settings, n, seed, pool)
    memo_key = json.dumps(key, sort_keys=True)
    path = run_dir / ESTIMANDS_FILE
    stored = read_entry(path, key, algorithm=False)
    source = f"the study folder ({path})"
    if stored is None and memo_key in _ESTIMANDS_MEMO:
        stored, source = _ESTIMANDS_MEMO[memo_key]
    if stored is None and (found := find_estimands(key)) is not None:
        stored, source = found.entry, found.source
    if stored is None:
        log.info(
            "computing the estimands on %d x %d cohorts of %d (about 13 min on 2 idle cores for "
            "the default pool; stored in the user cache for every later study)",
            *pool,
            n,
        )
        stored = {"key": key, **compute_estimands(settings, n, seed, pool, workers)}
        written = write_user_entry(stored)
        source = f"computed in this run in {stored['seconds']:.0f} s" + (
            f" (stored in the user cache, {written})" if written else ""
        )
    _ESTIMANDS_MEMO.setdefault(memo_key, (stored, source))
    log.info("estimands: %s", source)
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {k: stored[k] for k in ("key", "scenario_effects", "pseudo_true", "seconds")}
    write_text_atomic(path, strict_json(record))
    truths = {s: PseudoTrue.from_dict(v) for s, v in stored["pseudo_true"].items()}
    settings = dataclasses.replace(
        settings,
        scenario_effects=stored["scenario_effects"],
        pseudo_true={s: t.values for s, t in truths.items()},
    )
    return settings, truths, source


def _fingerprint(sim: SimulationSettings, settings: StudySettings) -> dict:
    s = settings.sampler
    return {
        "seed": settings.base_seed,
        "replicates": sim.replicates,
        "shard_size": sim.shard_size,
        "methods": list(settings.methods),
        "covariates": list(settings.covariates),
        "selection_factors": list(settings.selection_factors),
        "reference": dict(settings.reference),
        "priors": {k: repr(v) for k, v in settings.priors.items()},
        "piecewise_cuts_months": list(settings.piecewise_cuts_months),
        "estimand_n": sim.estimand_n,
        "estimand_seed": sim.estimand_seed,
        "estimand_cohorts": sim.estimand_cohorts,
        "estimand_redraws": sim.estimand_redraws,
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
    write_text_atomic(path, strict_json(fingerprint))


def _shards_to_run(sim: SimulationSettings, specs: list[ShardSpec]) -> list[ShardSpec]:
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


def _sbc(
    sim: SimulationSettings,
    settings: StudySettings,
    seed: int,
    compute: bool,
    pool: Executor | None = None,
) -> dict:
    """Load the SBC results of the study folder, computing them first when asked and missing
    (one job per Bayesian method in ``pool``'s worker processes when given, else here)."""
    run_dir = sim.run_dir
    ranks_path, unif_path = run_dir / "sbc_ranks.csv", run_dir / "sbc_uniformity.csv"
    n_rep = sim.sbc_replicates
    bayesian = [m for m in settings.methods if m in BAYESIAN_METHODS]
    stale = ranks_path.exists() and pd.read_csv(ranks_path)["replicate"].nunique() != n_rep
    if compute and n_rep > 0 and bayesian and (stale or not ranks_path.exists()):
        from bayes_bcsm.simulation.study import run_study_sbc

        start = time.perf_counter()
        if pool is None:
            results = run_study_sbc(settings, sim.n[0], n_rep, seed)
        else:  # the same seeds, each method's SBC in whichever worker is free
            jobs = [
                pool.submit(run_study_sbc, settings, sim.n[0], n_rep, seed, [m]) for m in bayesian
            ]
            results = {m: r for job in jobs for m, r in job.result().items()}
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
        write_csv_atomic(pd.concat(unif, ignore_index=True), unif_path, index=False)
        write_csv_atomic(pd.concat(long, ignore_index=True), ranks_path, index=False)
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
        A composed configuration (``experiment=simulation_study``); parsed here, before the
        modelling stack is imported.
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
    run = parse_settings(cfg)
    from bayes_bcsm.inference.sample import compile_cache_info
    from bayes_bcsm.simulation.study import run_shard, with_estimands

    output_dir = Path(output_dir)
    write_provenance(run, output_dir)
    settings = study_settings(run)
    sim = run.simulation
    run_dir = sim.run_dir
    _check_study_file(run_dir, _fingerprint(sim, settings))
    settings, truths, estimands_source = study_estimands(
        settings,
        sim.estimand_n,
        sim.estimand_seed,
        run_dir,
        (sim.estimand_cohorts, sim.estimand_redraws),
        sim.workers,
    )
    specs = plan_shards(list(sim.scenarios), list(sim.n), sim.replicates, sim.shard_size)
    todo = _shards_to_run(sim, specs)
    shards_dir = run_dir / "shards"
    work = functools.partial(run_shard, settings)
    covers_all = sim.shard is None and not sim.aggregate_only
    with contextlib.ExitStack() as stack:
        # one set of worker processes for the shards and then the SBC (spawned on first use)
        pool = stack.enter_context(worker_pool(sim.workers)) if sim.workers > 1 else None
        run_status = run_shards(
            shards_dir, todo, work, workers=sim.workers, executor=pool if len(todo) > 1 else None
        )
        for row in run_status.itertuples():
            if row.state == "failed":
                log.error("shard %s failed: %s", row.shard, row.message)
        sbc = _sbc(sim, settings, run.seed, compute=covers_all, pool=pool)
    replicates, shard_status = collect_shards(shards_dir, specs)
    replicates = with_estimands(replicates, settings) if len(replicates) else replicates
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
        estimands_source=estimands_source,
    )
    cache = compile_cache_info()
    timing = {
        "seconds": seconds,
        "shards_run": int((run_status["state"] == "done").sum()) if len(run_status) else 0,
        "compile_cache": {"hits": cache.hits, "misses": cache.misses},
        "estimands": estimands_source,
    }
    folders = [run_dir] + ([output_dir] if output_dir.resolve() != run_dir.resolve() else [])
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(replicates, folder / "replicates.csv", index=False)
        write_csv_atomic(aggregate, folder / "aggregate.csv", index=False)
        write_csv_atomic(shard_status, folder / "shard_status.csv", index=False)
        write_csv_atomic(estimands, folder / "estimands.csv", index=False)
        plan = SimulationPlan(sim.replicates, sim.n, sim.scenarios)
        write_simulation_report(run.report, plan, settings, result, folder, timing)
    write_csv_atomic(run_status, output_dir / "run_status.csv", index=False)
    write_text_atomic(output_dir / "timing.json", strict_json(timing))
    return result
