"""The simulation study: per-replicate fits of every method on cohorts with known true effects.

For each replicate a cohort of ``n`` patients is drawn from the reconstruction's calibrated
generator with a seed that depends only on (base seed, scenario, n, replicate)
(:func:`bayes_bcsm.simulation.scenarios.replicate_cohort`), and each method of
:mod:`bayes_bcsm.simulation.estimators` is fitted on it; the truth of each design column comes
from :func:`bayes_bcsm.simulation.scenarios.true_log_hrs` (``true_conditional``) and each
method's own estimand from ``StudySettings.pseudo_true`` (``true_method``, see
:mod:`bayes_bcsm.simulation.estimands`). This module is the runner: one
replicate (:func:`simulate_replicate`), one shard (:func:`run_shard`), and the
simulation-based calibration of the Bayesian methods (:func:`run_study_sbc`).

Each method's failure (an exception, a Cox fit that did not converge, a posterior failing a
convergence check of ``StudySettings.thresholds``) is *recorded* (``failed = 1``, the reason
in ``note``), never raised: one bad replicate does not lose a shard.

The names of the former single module (settings, scenarios, estimators, metrics) are
re-exported here.

References
----------
Morris TP, White IR, Crowther MJ (2019). Using simulation studies to evaluate statistical
methods. Stat Med 38:2074-2102.
"""

from __future__ import annotations

import dataclasses
import time
import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayes_bcsm.simulation.estimators import (
    bayesian_model,
    failure,
    fit_bayesian,
    fit_frequentist,
    method_seed,
    table3_design,
)
from bayes_bcsm.simulation.methods import BAYESIAN_METHODS, METHOD_TARGETS, METHODS, SCENARIOS
from bayes_bcsm.simulation.metrics import REPLICATE_COLUMNS
from bayes_bcsm.simulation.scenarios import (
    TRUTH_MAP,
    replicate_cohort,
    scenario_effects,
    true_log_hrs,
)
from bayes_bcsm.simulation.settings import StudySettings
from bayes_bcsm.simulation.shards import ShardSpec, replicate_seed

__all__ = [
    "BAYESIAN_METHODS",
    "EXTRA_COLUMNS",
    "METHODS",
    "SCENARIOS",
    "TRUTH_MAP",
    "StudySettings",
    "bayesian_model",
    "replicate_cohort",
    "run_shard",
    "run_study_sbc",
    "scenario_effects",
    "simulate_replicate",
    "table3_design",
    "true_log_hrs",
    "with_estimands",
]

#: Columns written beside :data:`REPLICATE_COLUMNS`: wall-clock seconds of the method's fit on
#: the replicate (shared by its covariate rows) and a short note (failure reason, separation).
EXTRA_COLUMNS: tuple[str, ...] = ("seconds", "note")


def simulate_replicate(
    settings: StudySettings, scenario: str, n: int, replicate: int
) -> pd.DataFrame:
    """Draw one cohort and fit every method; failures are recorded, not raised.

    Parameters
    ----------
    settings : StudySettings
    scenario : str
        One of :data:`SCENARIOS`.
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
        ``true_conditional`` is the generator's effect, ``true_method`` the method's
        pseudo-true log-HR (NaN when ``settings.pseudo_true`` lacks the scenario).
    """
    seed = replicate_seed(settings.base_seed, scenario, n, replicate)
    frame = replicate_cohort(settings, scenario, n, replicate)
    design = table3_design(settings, frame)
    truth = true_log_hrs(design, scenario, settings.generator_params, settings)
    pseudo = settings.pseudo_true.get(scenario, {})
    rows = []
    for method in settings.methods:
        start = time.perf_counter()
        try:
            if method in BAYESIAN_METHODS:
                est = fit_bayesian(method, settings, design, method_seed(seed, method))
            else:
                est = fit_frequentist(method, settings, frame, design)
        except Exception as error:  # recorded per method; the replicate goes on
            est = failure(f"{type(error).__name__}: {error}"[:300])
        seconds = time.perf_counter() - start
        target = pseudo.get(METHOD_TARGETS[method], {})
        for column in design.columns:
            rows.append(
                {
                    "scenario": scenario,
                    "n": int(n),
                    "method": method,
                    "covariate": column,
                    "replicate": int(replicate),
                    "true_conditional": truth[column],
                    "true_method": target.get(column, np.nan),
                    "estimate": est.estimate.get(column, np.nan),
                    "lower": est.lower.get(column, np.nan),
                    "upper": est.upper.get(column, np.nan),
                    "selected": int(est.selected.get(column, 0)),
                    "failed": int(est.failed),
                    "seconds": seconds,
                    "note": est.note,
                }
            )
    return pd.DataFrame(rows, columns=[*REPLICATE_COLUMNS, *EXTRA_COLUMNS])


def with_estimands(replicates: pd.DataFrame, settings: StudySettings) -> pd.DataFrame:
    """The replicate rows scored against the study's estimands (``settings.pseudo_true``).

    A replicate's estimates do not depend on the estimands (its seed depends on the scenario,
    n and replicate index only), so the estimands of the study folder are set here, when the
    shards are merged, whatever a shard file recorded when it was written (e.g. nothing, for a
    shard run before the estimands were known).

    Parameters
    ----------
    replicates : DataFrame
        Rows of :func:`simulate_replicate`.
    settings : StudySettings
        With ``pseudo_true`` filled in.

    Returns
    -------
    DataFrame
        A copy with ``true_method`` = the pseudo-true log-HR of the row's method target,
        scenario and covariate (NaN where ``settings.pseudo_true`` has none).
    """
    out = replicates.copy()
    out["true_method"] = [
        settings.pseudo_true.get(s, {}).get(METHOD_TARGETS[m], {}).get(c, np.nan)
        for s, m, c in zip(out["scenario"], out["method"], out["covariate"], strict=True)
    ]
    return out


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
