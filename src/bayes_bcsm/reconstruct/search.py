"""The calibration search: random search over the generator's parameters, hill-climb, final scoring.

Each candidate (seed, parameters) is scored by the vectorised loss of
:mod:`bayes_bcsm.reconstruct.fast_score` (survival figures, median CIs, the Table 3 model and
the paper's selection; a few milliseconds per cohort from one seed's cached draws); the
finalists are re-scored with the full loss of :mod:`bayes_bcsm.reconstruct.calibrate`.

The search stops on a **budget of evaluations**, never on the clock: the same ``seed``,
``budget`` and settings give the same parameters on any machine (the workers' shares are
fixed counts and their results are gathered in submission order).

The search
----------
1. **Random search** (half the budget). For each covariate setting (a small grid,
   :data:`COVARIATE_GRID`) and each draw of the survival parameters from
   :data:`SEARCH_SPACE` (uniform, effects rounded to 0.05), the baseline is re-solved so
   that the population-averaged survival passes through the published KM points, then
   every cached seed is scored; the best ``keep`` (seed, parameters) pairs are kept.
2. **Hill-climb** (the other half). The ``climbers`` best pairs are improved with their
   seed fixed: one to three parameters are moved by a random step, the baseline re-solved,
   and the move kept when the loss does not rise.
3. **Frontier.** Every evaluated cohort has a number of failed Table 1-2 acceptance criteria
   ``k`` and a Table 3 distance ``D3`` (the largest distance, in published SEs, of the four
   aHRs and the selection's endocrine-therapy aHR;
   :func:`bayes_bcsm.reconstruct.calibrate.table3_distance`). For each ``k`` the search
   keeps the cohorts with the smallest ``D3``: the trade-off frontier between the two
   tables.
4. **Final scoring.** The finalists and the frontier cohorts are scored with the full loss
   (:func:`bayes_bcsm.reconstruct.calibrate.check_targets`) and criteria
   (:func:`bayes_bcsm.reconstruct.calibrate.criteria_from_checks`); the chosen one meets
   every Table 1-2 criterion (or fails the fewest) with the smallest Table 3 distance.
"""

from __future__ import annotations

import heapq
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from bayes_bcsm.reconstruct.calibrate import (
    check_targets,
    criteria_from_checks,
    is_table3_criterion,
    table3_distance,
    total_loss,
)
from bayes_bcsm.reconstruct.covariates import N_PUBLISHED, simulate_covariates
from bayes_bcsm.reconstruct.fast_score import (
    EFFECT_NAMES,
    cohort_draws,
    fast_score,
    published_figures,
)
from bayes_bcsm.reconstruct.generator import (
    CALIBRATED_PARAMS,
    GeneratorParams,
    simulate_cohort,
)
from bayes_bcsm.reconstruct.survival import linear_predictor_columns, solve_baseline
from bayes_bcsm.study import Targets, bundled_targets, load_targets

__all__ = [
    "COVARIATE_GRID",
    "SEARCH_SPACE",
    "SearchResult",
    "minimum_budget",
    "params_to_vector",
    "reference_indicators",
    "search",
    "solved",
    "survival_points",
    "vector_to_params",
]


def survival_points(targets: Targets, knots_months: Sequence[float]) -> tuple[float, ...]:
    """The published population survival at each baseline knot.

    Each knot must be a time at which the paper prints the Kaplan-Meier survival, or its
    median overall survival (where the survival is 0.5).

    Raises
    ------
    ValueError
        For a knot with no published survival.
    """
    out = []
    for knot in knots_months:
        if float(knot) in targets.survival_at:
            out.append(targets.survival_at[float(knot)])
        elif float(knot) == targets.os_median_months:
            out.append(0.5)
        else:
            raise ValueError(
                f"no published survival at {knot:g} months; knots must be among "
                f"{sorted(targets.survival_at)} or the median {targets.os_median_months:g}"
            )
    return tuple(out)


#: Survival parameters of the search: name -> (low, high) of a uniform draw. Effect names are
#: log hazard ratios (see ``TRUE_EFFECTS``); ``accrual_a`` / ``accrual_b`` the Beta shape of the
#: surgery dates; ``log10_tail_hazard`` the baseline hazard beyond 60 months (per month, log10).
#: The ranges keep every effect clinically plausible (|log HR| <= 1.8; endocrine therapy's
#: true HR between 0.2 and 0.8, so a Table 3 estimate near the printed 0.070 has to be a
#: realisation, not the truth).
SEARCH_SPACE: dict[str, tuple[float, float]] = {
    "preop_neuro_abc": (0.3, 1.8),
    "postop_neuro_abc": (0.0, 1.8),
    "hormone_therapy": (-1.6, -0.2),
    "hormone_receptor_positive": (-1.5, 0.0),
    "visceral_metastasis": (0.0, 0.8),
    "solitary_spinal_lesion": (-0.8, 0.2),
    "radiotherapy": (-0.8, 0.1),
    "chemo_or_targeted": (-1.0, 0.1),
    "age_over_50": (-0.3, 0.3),
    "breast_surgery_history": (-0.2, 0.5),
    "low_invasive_pathology": (0.0, 1.6),
    "palliative_surgery": (-0.2, 0.6),
    "tes": (0.0, 1.6),
    "kps_post_lt70": (-0.3, 0.3),
    "her2_positive": (0.0, 1.4),
    "ki67_high": (0.0, 0.9),
    "accrual_a": (0.6, 1.6),
    "accrual_b": (0.5, 1.4),
    "log10_tail_hazard": (-1.7, 0.0),
}
#: Covariate settings (they change the covariates, so each has its own cache):
#: (postop_abc_overlap, ht_untested_weight, hr_positive_untested). A negative
#: ``ht_untested_weight`` gives endocrine therapy preferably to patients whose receptor status
#: was tested (positive), the usual practice; a positive one to untested patients.
COVARIATE_GRID: tuple[tuple[int, float, float], ...] = tuple(
    (overlap, w, 0.9) for overlap in (6, 9, 12) for w in (-3.0, -1.5, 0.0, 2.0)
)
#: Frontier: the largest number of failed Table 1-2 criteria tracked, and cohorts kept per count.
FRONTIER_MAX_FAILED = 8
FRONTIER_KEEP = 3


# ---------------------------------------------------------------- parameter sets
def reference_indicators(
    params: GeneratorParams, n_reference: int = 3000, seed: int = 20250520
) -> np.ndarray:
    """Indicator matrix of a large reference cohort (for solving the baseline)."""
    cov = simulate_covariates(n_reference, np.random.default_rng(seed), params)
    return linear_predictor_columns(cov)[list(EFFECT_NAMES)].to_numpy(dtype=float)


def solved(params: GeneratorParams, x_reference: np.ndarray) -> GeneratorParams:
    """``params`` with the baseline solved through the published KM points (rounded to 1e-5)."""
    beta = np.array([params.effects[k] for k in EFFECT_NAMES])
    points = survival_points(bundled_targets(), params.baseline_knots_months)
    h = solve_baseline(x_reference @ beta, params.baseline_knots_months, points)
    return replace(params, baseline_cumhaz=tuple(round(v, 5) for v in h))


def vector_to_params(values: dict[str, float], base: GeneratorParams) -> GeneratorParams:
    """Search coordinates (see :data:`SEARCH_SPACE`) -> generator parameters (rounded)."""
    effects = dict(base.effects)
    for name in EFFECT_NAMES:
        if name in values:
            effects[name] = round(round(values[name] / 0.05) * 0.05, 2)
    return replace(
        base,
        effects=effects,
        accrual_beta=(round(values["accrual_a"], 2), round(values["accrual_b"], 2)),
        tail_hazard_per_month=float(f"{10 ** values['log10_tail_hazard']:.3g}"),
    )


def params_to_vector(params: GeneratorParams) -> dict[str, float]:
    """Inverse of :func:`vector_to_params` (for starting a hill-climb)."""
    out = {k: float(params.effects[k]) for k in EFFECT_NAMES}
    out["accrual_a"], out["accrual_b"] = (float(v) for v in params.accrual_beta)
    out["log10_tail_hazard"] = float(np.log10(params.tail_hazard_per_month))
    return out


def _clip(values: dict[str, float]) -> dict[str, float]:
    return {
        k: float(np.clip(v, *SEARCH_SPACE[k])) if k in SEARCH_SPACE else v
        for k, v in values.items()
    }


def _setting_params(setting: tuple[int, float, float], base: GeneratorParams) -> GeneratorParams:
    overlap, weight, hr_untested = setting
    return replace(
        base,
        postop_abc_overlap=int(overlap),
        ht_untested_weight=float(weight),
        hr_positive_untested=float(hr_untested),
    )


# ---------------------------------------------------------------- frontier bookkeeping
@dataclass
class _Frontier:
    """Per number of failed Table 1-2 criteria, the cohorts with the smallest Table 3 distance."""

    best: dict[int, list[tuple[float, float, int, int, GeneratorParams]]]

    @classmethod
    def empty(cls) -> _Frontier:
        return cls({k: [] for k in range(FRONTIER_MAX_FAILED + 1)})

    def add(self, k: int, d3: float, loss: float, tag: int, seed: int, params) -> None:
        if k > FRONTIER_MAX_FAILED or not np.isfinite(d3):
            return
        row = self.best[k]
        item = (d3, loss, tag, seed, params)
        if len(row) < FRONTIER_KEEP:
            row.append(item)
        elif (d3, loss, tag) < max((r[0], r[1], r[2]) for r in row):
            row[max(range(len(row)), key=lambda i: (row[i][0], row[i][1], row[i][2]))] = item
        row.sort(key=lambda r: (r[0], r[1], r[2]))

    def merge(self, other: _Frontier) -> None:
        for k, rows in other.best.items():
            for d3, loss, tag, seed, params in rows:
                self.add(k, d3, loss, tag, seed, params)


def _record(front: _Frontier, score, tag: int, seed: int, params: GeneratorParams) -> None:
    front.add(score.n_failed_table12, score.table3_distance, score.loss, tag, seed, params)


# ---------------------------------------------------------------- workers
def _random_phase(args):
    index, setting, seeds, n_param_sets, keep, rng_seed, base = args
    targets = load_targets()
    pub = published_figures(targets)
    start_params = _setting_params(setting, base)
    x_ref = reference_indicators(start_params)
    draws = [cohort_draws(s, start_params, targets) for s in seeds]
    rng = np.random.default_rng(rng_seed)
    best: list[tuple[float, int, int, GeneratorParams]] = []
    front = _Frontier.empty()
    counter = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_param_sets):
            values = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in SEARCH_SPACE.items()}
            params = solved(vector_to_params(values, start_params), x_ref)
            for d in draws:
                score = fast_score(d, params, pub)
                counter += 1
                tag = index * 10**9 + counter
                _record(front, score, tag, d.seed, params)
                item = (-score.loss, -tag, d.seed, params)
                if len(best) < keep:
                    heapq.heappush(best, item)
                elif item[:2] > best[0][:2]:
                    heapq.heapreplace(best, item)
    found = [(-loss, -neg_tag, seed, p) for loss, neg_tag, seed, p in sorted(best, reverse=True)]
    return found, counter, front


def _climb(args):
    index, seed, params, steps, rng_seed = args
    targets = load_targets()
    pub = published_figures(targets)
    x_ref = reference_indicators(params)
    draws = cohort_draws(seed, params, targets)
    rng = np.random.default_rng(rng_seed)
    current = params_to_vector(params)
    front = _Frontier.empty()
    names = list(SEARCH_SPACE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best_params = solved(vector_to_params(current, params), x_ref)
        score = fast_score(draws, best_params, pub)
        best = score.loss
        _record(front, score, index * 10**9, seed, best_params)
        for step in range(steps):
            trial = dict(current)
            for name in rng.choice(names, size=int(rng.integers(1, 4)), replace=False):
                lo, hi = SEARCH_SPACE[name]
                trial[name] += float(rng.normal(0.0, 0.08 * (hi - lo)))
            trial = _clip(trial)
            cand = solved(vector_to_params(trial, params), x_ref)
            score = fast_score(draws, cand, pub)
            _record(front, score, index * 10**9 + step + 1, seed, cand)
            if score.loss <= best:
                best, best_params, current = score.loss, cand, trial
    return best, seed, best_params, steps + 1, front


# ---------------------------------------------------------------- the search
@dataclass(frozen=True)
class SearchResult:
    """The chosen parameters and seed, their loss, the frontier, and what the search did.

    Attributes
    ----------
    params, seed : GeneratorParams, int
        The chosen cohort's generator parameters and seed.
    loss : float
        Its full calibration loss.
    n_evaluated : int
        Cohorts scored (the budget used).
    budget, search_seed : int
        The evaluation budget and the seed of the search's own draws.
    seconds : float
        Wall-clock time (informative only; nothing depends on it).
    criteria_failed : tuple of str
        Acceptance criteria the chosen cohort fails.
    table3_distance : float
        Its Table 3 distance (published SEs).
    finalists : DataFrame
        Every cohort scored with the full loss: seed, fast and full loss, failed Table 1-2
        criteria, Table 3 distance, failed criteria.
    frontier : DataFrame
        Best Table 3 distance with at most ``k`` failed Table 1-2 criteria, per ``k``
        (:func:`frontier_table`).
    start_seed : int, optional
        The warm start's seed, when the search had one.
    """

    params: GeneratorParams
    seed: int
    loss: float
    n_evaluated: int
    budget: int
    search_seed: int
    seconds: float
    criteria_failed: tuple[str, ...] = ()
    table3_distance: float = float("nan")
    finalists: pd.DataFrame | None = None
    frontier: pd.DataFrame | None = None
    start_seed: int | None = None

    def summary(self) -> dict:
        """Plain types for ``reconstruction.yaml`` (no clock time: the file is reproducible)."""
        frontier = [] if self.frontier is None else self.frontier.to_dict("records")
        return {
            "budget_evaluations": int(self.budget),
            "search_seed": int(self.search_seed),
            "cohorts_scored": int(self.n_evaluated),
            "start_seed": self.start_seed,
            "loss": round(float(self.loss), 4),
            "table3_distance_se": _plain(self.table3_distance),
            "criteria_failed": list(self.criteria_failed),
            "frontier": [{k: _plain(v) for k, v in row.items()} for row in frontier],
        }


def _plain(value):
    if isinstance(value, float | np.floating):
        return round(float(value), 4) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def frontier_table(finalists: pd.DataFrame) -> pd.DataFrame:
    """The trade-off frontier from fully scored cohorts.

    Parameters
    ----------
    finalists : DataFrame
        Columns ``n_failed_table12``, ``table3_distance``, ``seed``, ``failed_table12``.

    Returns
    -------
    DataFrame
        One row per allowed number ``k`` of failed Table 1-2 criteria (0, 1, ...): the
        smallest Table 3 distance among cohorts failing at most ``k``, that cohort's seed and
        the Table 1-2 criteria it fails. Reading it the other way gives the fewest Table 1-2
        failures at which a Table 3 distance is attainable.
    """
    rows = []
    top = int(finalists["n_failed_table12"].max()) if len(finalists) else -1
    for k in range(min(top, FRONTIER_MAX_FAILED) + 1):
        ok = finalists[finalists["n_failed_table12"] <= k]
        if ok.empty:
            continue
        best = ok.sort_values(["table3_distance", "loss"], kind="stable").iloc[0]
        rows.append(
            {
                "max_failed_table12": k,
                "table3_distance_se": float(best["table3_distance"]),
                "n_failed_table12": int(best["n_failed_table12"]),
                "seed": int(best["seed"]),
                "failed_table12": str(best["failed_table12"]),
                "failed_table3": str(best["failed_table3"]),
            }
        )
    return pd.DataFrame(rows)


def full_score(seed: int, params: GeneratorParams, targets: Targets) -> dict:
    """Score one (seed, parameters) with the full loss and criteria (for finalists)."""
    cohort = simulate_cohort(N_PUBLISHED, seed, params=params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comps = check_targets(cohort, targets)
    failed = criteria_from_checks(comps, len(cohort), targets)
    t12 = [f for f in failed if not is_table3_criterion(f)]
    t3 = [f for f in failed if is_table3_criterion(f)]
    return {
        "seed": int(seed),
        "loss": total_loss(comps),
        "n_failed_table12": len(t12),
        "table3_distance": table3_distance(comps),
        "failed_table12": "; ".join(t12),
        "failed_table3": "; ".join(t3),
    }


def minimum_budget(
    n_seeds: int = 120,
    settings: Sequence[tuple[int, float, float]] = COVARIATE_GRID,
    climbers: int = 32,
) -> int:
    """The smallest budget :func:`search` honours (evaluations).

    Half the budget must give the random phase one parameter draw per covariate setting and
    cached seed, and the rest the hill-climb two steps per climber; below that the phases
    would silently run their minimum instead (a budget of 0 scored 1,504 cohorts).

    Parameters
    ----------
    n_seeds : int
        Seeds cached per covariate setting.
    settings : sequence of (int, float, float)
        The covariate settings searched.
    climbers : int
        Pairs improved by the hill-climb.
    """
    random_phase = len(settings) * n_seeds
    return max(2 * random_phase, random_phase + 2 * climbers)


def search(
    budget: int = 160_000,
    workers: int = 2,
    n_seeds: int = 120,
    keep: int = 12,
    climbers: int = 32,
    n_final: int = 24,
    seed: int = 2025,
    base: GeneratorParams | None = None,
    settings: Sequence[tuple[int, float, float]] = COVARIATE_GRID,
    start: tuple[int, GeneratorParams] | None = None,
) -> SearchResult:
    """Random search, hill-climb, frontier and final scoring (see the module docstring).

    Parameters
    ----------
    budget : int
        Cohorts to score with the fast loss: half in the random phase (split evenly over the
        covariate settings and seeds), half in the hill-climb (split evenly over the
        climbers). About 2-4 ms each per core, plus ~0.2 s per cached seed and setting.
    workers : int
        Processes (the result does not depend on it).
    n_seeds : int
        Seeds cached per covariate setting (seeds ``0 .. n_seeds - 1``).
    keep : int
        (seed, parameters) pairs kept per covariate setting from the random phase.
    climbers : int
        Pairs improved by the hill-climb.
    n_final : int
        Best pairs (by fast loss) scored with the full loss at the end, besides the frontier.
    seed : int
        Seed of the search's own draws.
    base : GeneratorParams, optional
        Fixed parameters (knots, close rule, dependence); default :data:`CALIBRATED_PARAMS`.
    settings : sequence of (int, float, float)
        Covariate settings ``(postop_abc_overlap, ht_untested_weight, hr_positive_untested)``.
    start : (int, GeneratorParams), optional
        A warm start ``(seed, parameters)``, e.g. an earlier reconstruction: it takes the place
        of the last climber (the budget is unchanged) and is scored with the full loss, so the
        result is never worse than the start by the choice rule. The result depends on the
        start as on every other argument.

    Returns
    -------
    SearchResult

    Raises
    ------
    ValueError
        If ``budget`` is below :func:`minimum_budget` of these settings.
    """
    smallest = minimum_budget(n_seeds, settings, climbers)
    if budget < smallest:
        raise ValueError(f"budget={budget}: the search needs at least {smallest} evaluations")
    started = time.time()
    base = base or CALIBRATED_PARAMS
    seeds = list(range(n_seeds))
    n_param_sets = max(1, (budget // 2) // (len(settings) * n_seeds))
    steps = max(1, (budget - n_param_sets * len(settings) * n_seeds) // climbers - 1)
    front = _Frontier.empty()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        jobs = [
            pool.submit(_random_phase, (i, setting, seeds, n_param_sets, keep, seed + i, base))
            for i, setting in enumerate(settings)
        ]
        pooled, n_eval = [], 0
        for job in jobs:
            found, count, part = job.result()
            pooled += found
            n_eval += count
            front.merge(part)
        pooled.sort(key=lambda r: (r[0], r[1]))
        chosen = pooled[:climbers]
        if start is not None:
            chosen = [*chosen[: climbers - 1], (np.nan, 0, int(start[0]), start[1])]
        jobs = [
            pool.submit(_climb, (len(settings) + i, s, p, steps, seed + 1000 + i))
            for i, (_, _, s, p) in enumerate(chosen)
        ]
        climbed = []
        for i, job in enumerate(jobs):
            loss, s, p, count, part = job.result()
            climbed.append((loss, -(i + 1), s, p))
            n_eval += count
            front.merge(part)
    finalists = sorted(climbed + pooled[:n_final], key=lambda r: (r[0], r[1]))[:n_final]
    candidates = [(s, p) for _, _, s, p in finalists]
    if start is not None:
        candidates.append((int(start[0]), start[1]))
    for k in sorted(front.best):
        candidates += [(s, p) for _, _, _, s, p in front.best[k]]
    targets = load_targets()
    rows, scored, seen = [], [], set()
    for s, p in candidates:
        key = (s, repr(p.to_dict()))
        if key in seen:
            continue
        seen.add(key)
        row = full_score(s, p, targets)
        rows.append(row)
        scored.append((row["n_failed_table12"], row["table3_distance"], row["loss"], s, p, row))
    scored.sort(key=lambda r: r[:3])
    _, d3, loss, best_seed, best_params, row = scored[0]
    failed = [f for f in (row["failed_table12"] + "; " + row["failed_table3"]).split("; ") if f]
    table = pd.DataFrame(rows)
    return SearchResult(
        params=best_params,
        seed=best_seed,
        loss=loss,
        n_evaluated=n_eval,
        budget=int(budget),
        search_seed=int(seed),
        seconds=time.time() - started,
        criteria_failed=tuple(failed),
        table3_distance=d3,
        finalists=table,
        frontier=frontier_table(table),
        start_seed=None if start is None else int(start[0]),
    )
