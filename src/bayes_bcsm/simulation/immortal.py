"""The immortal-time simulation: how a post-operative therapy's start delay biases a naive aHR.

For each replicate a cohort of ``n`` patients is drawn once
(:func:`bayes_bcsm.reconstruct.delayed_exposure.draw_delay_inputs`, seed from (base seed,
"immortal_time", n, replicate)) and turned into one cohort per grid cell (median start delay x
true time-dependent HR of endocrine therapy) by
:func:`~bayes_bcsm.reconstruct.delayed_exposure.cohort_from_draws`: the cells share their random
numbers (common random numbers), so differences between cells are the settings', not noise.
Each cohort is analysed three ways with Cox (Efron ties, Wald 95 % interval) on one of the
covariate sets of :data:`COVARIATE_SETS`: the paper's Table 3 covariates (default), or every
covariate of the generator's survival model as the generator codes it (its 0/1 indicators,
the latent receptor status of untested patients included; :data:`GENERATOR_COVARIATES`), a
correctly specified model whose time-dependent estimate targets the true conditional HR:

``naive``
    Endocrine therapy as a baseline yes / no ("ever treated" during follow-up), time from
    surgery: what the paper did.
``time_dependent``
    (start, stop] episodes with the therapy switched on at its start
    (:func:`bayes_bcsm.data.episodes.build_episodes`).
``landmark``
    The patients alive and under follow-up at the landmark, therapy as known then, time from
    the landmark (:func:`bayes_bcsm.data.landmark.landmark_frame`).

The truth of every method is the generator's time-dependent log HR (``true_conditional`` and
``true_method`` of the replicate rows). A failed fit is recorded, never raised.
The rows feed :func:`bayes_bcsm.simulation.metrics.aggregate_metrics` (coverage with its MCSE,
bias, the share of estimates at or below the printed aHR 0.070); :func:`cell_summary` adds the
medians and the exact (Clopper-Pearson) interval of P(naive aHR <= 0.070), and
:func:`threshold_delay` the delay at which a true HR of 1 gives a naive median below 0.5.

References
----------
Suissa S (2008). Immortal time bias in pharmaco-epidemiology. Am J Epidemiol 167:492-499.
Lévesque LE, Hanley JA, Kezouh A, Suissa S (2010). Problem of immortal time bias in cohort
studies: example using statins for preventing progression of diabetes. BMJ 340:b5087.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from bayes_bcsm.data import Design, build_design, derive_groupings
from bayes_bcsm.data.card import ENTRY_COLUMN
from bayes_bcsm.data.episodes import build_episodes
from bayes_bcsm.data.landmark import Landmark, landmark_frame
from bayes_bcsm.errors import SettingError
from bayes_bcsm.frequentist import cox_ph_design
from bayes_bcsm.reconstruct.delayed_exposure import (
    EXPOSURE,
    START_COLUMN,
    DelayDraws,
    StartDelay,
    cohort_from_draws,
    draw_delay_inputs,
)
from bayes_bcsm.reconstruct.generator import CALIBRATED_PARAMS
from bayes_bcsm.reconstruct.survival import linear_predictor_columns
from bayes_bcsm.simulation.estimators import Estimates, cox_estimates, failure
from bayes_bcsm.simulation.metrics import PRINTED_AHR, REPLICATE_COLUMNS, aggregate_metrics
from bayes_bcsm.simulation.settings import TABLE3_COVARIATES
from bayes_bcsm.simulation.shards import ShardSpec, plan_shards, replicate_seed

__all__ = [
    "COVARIATE_SETS",
    "GENERATOR_COVARIATES",
    "GENERATOR_PREFIX",
    "IMMORTAL_COLUMNS",
    "IMMORTAL_METHODS",
    "SCENARIO",
    "ImmortalGrid",
    "analysed_cohort",
    "cell_name",
    "cell_summary",
    "covariate_set",
    "immortal_checks",
    "immortal_replicate",
    "plan_immortal_shards",
    "run_immortal_shard",
    "threshold_delay",
]

#: The three analyses of each cohort.
IMMORTAL_METHODS: tuple[str, ...] = ("naive", "time_dependent", "landmark")
#: Scenario key of the replicate seeds and shard files.
SCENARIO = "immortal_time"
#: Columns beside :data:`REPLICATE_COLUMNS`: the cell's settings, the cohort's accounting and
#: a note (failure reason, separation).
IMMORTAL_COLUMNS: tuple[str, ...] = (
    "delay_median_months",
    "true_hr",
    "n_patients",
    "n_events",
    "n_treated",
    "note",
)

#: Prefix of the generator's indicators in the analysed cohorts (beside the cohort's columns).
GENERATOR_PREFIX = "generator_"
#: The covariates of the generator's survival model, as it codes them: its indicators with a
#: non-zero calibrated effect (:data:`GENERATOR_PREFIX` + effect name), then the exposure.
GENERATOR_COVARIATES: tuple[str, ...] = (
    *(GENERATOR_PREFIX + k for k, b in CALIBRATED_PARAMS.effects.items() if b and k != EXPOSURE),
    EXPOSURE,
)
#: The analysis models by name: the paper's Table 3 covariates, and the generator's own.
COVARIATE_SETS: dict[str, tuple[str, ...]] = {
    "table3": TABLE3_COVARIATES,
    "generator": GENERATOR_COVARIATES,
}


def covariate_set(name: str) -> tuple[str, ...]:
    """The covariates of the analysis model ``name`` (a key of :data:`COVARIATE_SETS`).

    Raises
    ------
    SettingError
        For another name (naming ``covariates``).
    """
    if name not in COVARIATE_SETS:
        raise SettingError(f"expected one of {', '.join(COVARIATE_SETS)}", ("covariates",), (name,))
    return COVARIATE_SETS[name]


@dataclass(frozen=True)
class ImmortalGrid:
    """The settings of the immortal-time simulation.

    Attributes
    ----------
    base_seed : int
        Seed of the study (each replicate's seed derives from it, ``n`` and its index).
    n : int
        Patients per cohort (the paper: 78).
    replicates : int
        Replicates (each analysed in every cell).
    delays_months : tuple of float
        Median start delays of the grid, months after surgery.
    true_hrs : tuple of float
        True time-dependent HRs of endocrine therapy.
    shape : float
        Shape of the Gamma start-delay distribution.
    share : float
        Share of the intended patients (Table 1's endocrine-therapy count) who would start.
    landmark_months : float
        Landmark of the landmark analysis, months after surgery.
    covariates : tuple of str
        The Cox model's covariates: a value of :data:`COVARIATE_SETS` (default: the paper's
        Table 3 set).
    shard_size : int
        Replicates per shard file.

    Raises
    ------
    SettingError
        For a value outside its range (naming the field).
    """

    base_seed: int = 2026
    n: int = 78
    replicates: int = 200
    delays_months: tuple[float, ...] = (0.5, 1.0, 3.0, 6.0, 12.0)
    true_hrs: tuple[float, ...] = (1.0, 0.8, 0.5)
    shape: float = 2.0
    share: float = 1.0
    landmark_months: float = 12.0
    covariates: tuple[str, ...] = field(default=TABLE3_COVARIATES)
    shard_size: int = 25

    def __post_init__(self) -> None:
        for name in ("n", "replicates", "shard_size"):
            value = getattr(self, name)
            if not (isinstance(value, int | np.integer) and value >= 1):
                raise SettingError("expected an integer >= 1", (name,), (value,))
        for name in ("delays_months", "true_hrs"):
            values = getattr(self, name)
            if not values or not all(np.isfinite(v) and v > 0 for v in values):
                raise SettingError("expected a non-empty list of numbers > 0", (name,), (values,))
        StartDelay(self.delays_months[0], self.shape, self.share)  # shape and share rules
        Landmark(self.landmark_months)
        if tuple(self.covariates) not in COVARIATE_SETS.values():
            raise SettingError(
                f"expected the covariates of one of {', '.join(COVARIATE_SETS)}", ("covariates",)
            )

    @property
    def covariate_set(self) -> str:
        """The name of :attr:`covariates` in :data:`COVARIATE_SETS`."""
        return next(k for k, v in COVARIATE_SETS.items() if v == tuple(self.covariates))

    @property
    def cells(self) -> list[tuple[float, float]]:
        """(median delay in months, true HR) of every cell, delays outermost."""
        return [(float(d), float(h)) for d in self.delays_months for h in self.true_hrs]


def cell_name(delay_months: float, true_hr: float) -> str:
    """The scenario label of a cell, e.g. ``delay3_hr0.8``."""
    return f"delay{delay_months:g}_hr{true_hr:g}"


def _estimates(design_of: Callable[[], Design]) -> tuple[Estimates, int, int, int]:
    """Cox estimates on a design built by ``design_of()`` (failures recorded), with the
    design's patients, events and treated patients."""
    try:
        design = design_of()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # separation / convergence are recorded in the rows
            est = cox_estimates(cox_ph_design(design), "Cox")
    except Exception as error:  # recorded per method; the replicate goes on
        return failure(f"{type(error).__name__}: {error}"[:300]), 0, 0, 0
    treated = design.X[:, list(design.columns).index(EXPOSURE)] > 0
    codes, _ = design.patient_index()
    return est, design.n_patients, design.n_events, int(np.unique(codes[treated]).size)


def analysed_cohort(draws: DelayDraws, delay: StartDelay, log_hr: float) -> pd.DataFrame:
    """The cohort of one cell as analysed: the recorded cohort with its derived groupings,
    plus the generator's indicators (:data:`GENERATOR_PREFIX` + effect name, from the draws'
    covariates, latent columns included) except the intended therapy, which the cohort's
    exposure replaces.

    Parameters
    ----------
    draws : DelayDraws
    delay : StartDelay
    log_hr : float
        True time-dependent log HR of the therapy.
    """
    frame = derive_groupings(cohort_from_draws(draws, delay, log_hr))
    indicators = linear_predictor_columns(draws.covariates).drop(columns=EXPOSURE)
    frame[[GENERATOR_PREFIX + c for c in indicators]] = indicators.to_numpy()  # same order
    return frame


def _analyses(frame: pd.DataFrame, grid: ImmortalGrid) -> dict[str, Callable[[], Design]]:
    """The design builder of each analysis of one cohort."""
    covariates = list(grid.covariates)
    episodes = build_episodes(
        frame,
        "patient_id",
        "time_months",
        "event",
        {EXPOSURE: START_COLUMN},
        start_column=ENTRY_COLUMN,
    )
    naive = frame.drop(columns=[START_COLUMN])
    return {
        "naive": lambda: build_design(naive, covariates),
        "time_dependent": lambda: build_design(
            episodes, covariates, entry=ENTRY_COLUMN, id_column="patient_id"
        ),
        "landmark": lambda: build_design(
            landmark_frame(episodes, Landmark(grid.landmark_months))[0], covariates
        ),
    }


def immortal_replicate(grid: ImmortalGrid, replicate: int) -> pd.DataFrame:
    """One replicate: the cohort of every cell, each analysed three ways.

    Parameters
    ----------
    grid : ImmortalGrid
    replicate : int
        Replicate index (with ``grid.base_seed`` and ``grid.n`` it fixes every random number).

    Returns
    -------
    DataFrame
        Columns :data:`REPLICATE_COLUMNS` + :data:`IMMORTAL_COLUMNS`; one row per cell and
        method, covariate ``hormone_therapy`` only; log-HR scale, 95 % intervals.
    """
    seed = replicate_seed(grid.base_seed, SCENARIO, grid.n, replicate)
    draws = draw_delay_inputs(grid.n, np.random.default_rng(seed))
    rows = []
    for delay_months, true_hr in grid.cells:
        delay = StartDelay(delay_months, grid.shape, grid.share)
        truth = float(np.log(true_hr))
        frame = analysed_cohort(draws, delay, truth)
        for method, design_of in _analyses(frame, grid).items():
            est, n_patients, n_events, n_treated = _estimates(design_of)
            rows.append(
                {
                    "scenario": cell_name(delay_months, true_hr),
                    "n": grid.n,
                    "method": method,
                    "covariate": EXPOSURE,
                    "replicate": int(replicate),
                    "true_conditional": truth,
                    "true_method": truth,
                    "estimate": est.estimate.get(EXPOSURE, np.nan),
                    "lower": est.lower.get(EXPOSURE, np.nan),
                    "upper": est.upper.get(EXPOSURE, np.nan),
                    "selected": 1,
                    "failed": int(est.failed),
                    "delay_median_months": delay_months,
                    "true_hr": true_hr,
                    "n_patients": n_patients,
                    "n_events": n_events,
                    "n_treated": n_treated,
                    "note": est.note,
                }
            )
    return pd.DataFrame(rows, columns=[*REPLICATE_COLUMNS, *IMMORTAL_COLUMNS])


def plan_immortal_shards(grid: ImmortalGrid) -> list[ShardSpec]:
    """The shards of the study: blocks of ``grid.shard_size`` replicates."""
    return plan_shards([SCENARIO], [grid.n], grid.replicates, grid.shard_size)


def run_immortal_shard(grid: ImmortalGrid, spec: ShardSpec) -> pd.DataFrame:
    """All replicates of one shard (the ``work`` of
    :func:`bayes_bcsm.simulation.shards.run_shards`)."""
    return pd.concat([immortal_replicate(grid, r) for r in spec.replicates], ignore_index=True)


def cell_summary(replicates: pd.DataFrame) -> pd.DataFrame:
    """Per cell and method: the distribution of the HR estimates and coverage of the truth.

    Parameters
    ----------
    replicates : DataFrame
        Rows of :func:`immortal_replicate`.

    Returns
    -------
    DataFrame
        One row per (cell, method), failed fits excluded: ``delay_median_months``,
        ``true_hr``, ``method``, ``n_replicates``, ``n_failed``, ``median_hr``, ``hr_q25``,
        ``hr_q75`` (quartiles of exp(estimate)), ``bias`` and ``bias_mcse`` (log scale),
        ``coverage`` and ``coverage_mcse`` (95 % interval covering the true HR),
        ``n_at_most_printed`` and ``p_at_most_printed`` (estimates with HR <= the printed aHR
        0.070) with its exact Clopper-Pearson 95 % interval ``p_at_most_printed_lower`` /
        ``_upper``, ``median_treated``, ``median_events`` and ``median_patients`` (per
        replicate, in the analysed data).
    """
    metrics = aggregate_metrics(replicates)
    metrics = metrics[metrics["fits"] == "excluding_failed"].set_index(["scenario", "method"])
    rows = []
    for (scenario, method), group in replicates.groupby(["scenario", "method"], sort=False):
        ok = group[(group["failed"] == 0) & np.isfinite(group["estimate"])]
        hr = np.exp(ok["estimate"].to_numpy(float))
        k = int((hr <= PRINTED_AHR).sum())
        ci = stats.binomtest(k, len(hr)).proportion_ci(0.95, "exact") if len(hr) else None
        m = metrics.loc[(scenario, method)]
        rows.append(
            {
                "n": int(group["n"].iloc[0]),
                "delay_median_months": float(group["delay_median_months"].iloc[0]),
                "true_hr": float(group["true_hr"].iloc[0]),
                "method": method,
                "n_replicates": int(group["replicate"].nunique()),
                "n_failed": int(m["n_failed"]),
                "median_hr": float(np.median(hr)) if len(hr) else np.nan,
                "hr_q25": float(np.quantile(hr, 0.25)) if len(hr) else np.nan,
                "hr_q75": float(np.quantile(hr, 0.75)) if len(hr) else np.nan,
                "bias": float(m["bias"]),
                "bias_mcse": float(m["bias_mcse"]),
                "coverage": float(m["coverage"]),
                "coverage_mcse": float(m["coverage_mcse"]),
                "n_at_most_printed": k,
                "p_at_most_printed": k / len(hr) if len(hr) else np.nan,
                "p_at_most_printed_lower": ci.low if ci else np.nan,
                "p_at_most_printed_upper": ci.high if ci else np.nan,
                "median_treated": float(ok["n_treated"].median()),
                "median_events": float(ok["n_events"].median()),
                "median_patients": float(ok["n_patients"].median()),
            }
        )
    out = pd.DataFrame(rows)
    order = {m: i for i, m in enumerate(IMMORTAL_METHODS)}
    out = out.sort_values(
        ["true_hr", "delay_median_months", "method"],
        ascending=[False, True, True],
        key=lambda s: s.map(order) if s.name == "method" else s,
    )
    return out.reset_index(drop=True)


def threshold_delay(summary: pd.DataFrame, below: float = 0.5, true_hr: float = 1.0) -> float:
    """The median start delay (months) at which a true HR of ``true_hr`` gives a naive median
    aHR below ``below``: interpolated linearly in log delay and log HR between the first two
    grid delays that bracket it (the first grid delay when even it is below; NaN when no grid
    delay reaches it).

    Parameters
    ----------
    summary : DataFrame
        :func:`cell_summary`.
    below : float
        The naive median HR to reach.
    true_hr : float
        The cells' true HR.
    """
    naive = summary[(summary["method"] == "naive") & np.isclose(summary["true_hr"], true_hr)]
    naive = naive.sort_values("delay_median_months")
    delays = naive["delay_median_months"].to_numpy(float)
    medians = naive["median_hr"].to_numpy(float)
    hits = np.flatnonzero(medians < below)
    if not len(hits):
        return np.nan
    i = int(hits[0])
    if i == 0:
        return float(delays[0])
    x0, x1 = np.log(delays[i - 1 : i + 1])
    y0, y1 = np.log(medians[i - 1 : i + 1])
    return float(np.exp(x0 + (np.log(below) - y0) * (x1 - x0) / (y1 - y0)))


def immortal_checks(summary: pd.DataFrame) -> pd.DataFrame:
    """The issue's two checks on a grid's summary, and the paired form of the second.

    1. ``time_dependent_coverage_at_least_0.90``: with a true HR of 1, the time-dependent
       95 % interval covers 1 in at least 90 % of the replicates (each delay; MCSE beside it).
    2. ``naive_median_hr_below_1``: with a true HR of 1, the naive median HR is below 1
       whenever the median delay is at least 1 month.
    3. ``naive_median_below_time_dependent``: for every true HR and every median delay of at
       least 1 month, the naive median HR is below the time-dependent one on the same cohorts
       (the immortal-time shift itself; check 2 also carries the Table 3 model's own distance
       from the generator's conditional HR, which its left-out covariates cause).

    Returns
    -------
    DataFrame
        One row per check, delay and true HR: ``check``, ``delay_median_months``, ``true_hr``,
        ``value``, ``reference`` (check 3: the time-dependent median), ``mcse`` (check 1),
        ``passed``.
    """
    keyed = summary.set_index(["method", "delay_median_months", "true_hr"])
    rows = []
    for (method, delay, hr), row in keyed.iterrows():
        null = bool(np.isclose(hr, 1.0))
        if method == "time_dependent" and null:
            rows.append(
                (
                    "time_dependent_coverage_at_least_0.90",
                    delay,
                    hr,
                    row["coverage"],
                    np.nan,
                    row["coverage_mcse"],
                    bool(row["coverage"] >= 0.90),
                )
            )
        if method != "naive" or delay < 1:
            continue
        if null:
            rows.append(
                (
                    "naive_median_hr_below_1",
                    delay,
                    hr,
                    row["median_hr"],
                    1.0,
                    np.nan,
                    bool(row["median_hr"] < 1),
                )
            )
        td = keyed.loc[("time_dependent", delay, hr), "median_hr"]
        rows.append(
            (
                "naive_median_below_time_dependent",
                delay,
                hr,
                row["median_hr"],
                td,
                np.nan,
                bool(row["median_hr"] < td),
            )
        )
    columns = ["check", "delay_median_months", "true_hr", "value", "reference", "mcse", "passed"]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(
        ["check", "true_hr", "delay_median_months"], ascending=[False, False, True]
    ).reset_index(drop=True)
