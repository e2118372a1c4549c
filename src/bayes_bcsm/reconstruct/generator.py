"""A seeded generative model of the cohort: covariates with exact published counts, PH survival.

The study's patient-level data are not public. This module draws cohorts that reproduce
the published aggregates of Hu et al. (2025), Table 1 counts exactly (for ``n = 78``) and
the survival figures approximately (the calibration in :mod:`bayes_bcsm.reconstruct.calibrate`
chooses the parameters and the seed).

How a cohort is drawn
---------------------
1. **Exact counts by constrained assignment.** Every categorical item of Table 1 is an
   exact-count vector (scaled by largest remainder when ``n != 78``). Which patients carry
   a level is decided by a Gumbel top-k draw on a clinical score, so the counts are exact
   while the dependence is clinically coherent (e.g. endocrine therapy goes to hormone-
   receptor-positive patients, TES to solitary lesions, vertebroplasty to patients without
   cord compression, chemotherapy / targeted therapy more often to HER2-positive ones).
2. **Nested sets.** ``visceral`` is a subset of ``other_bone`` (Table 1: spine only 30 +
   other bones 48 = 78); solitary lesions are a subset of spine-only patients; ASIA A-C
   before surgery (16) is a subset of the 30 with neurological symptoms; ASIA A-C after
   surgery (16) is a subset of the 30 symptomatic patients, ``postop_abc_overlap`` of them
   being the preoperative A-C patients who did not recover and the rest preoperative
   ASIA D patients who deteriorated (identical sets would make Table 3 singular).
3. **Continuous items** take the values of a quantile function through the published
   median / quartiles (or a normal matched to mean / SD) at plotting positions
   ``(i - 0.5) / m``, assigned to patients by the rank of a latent clinical score
   (a Gaussian-copula-like construction): the marginal matches by construction, the
   dependence comes from the score.
4. **Scores from components.** Tomita (primary growth 1-2, bone 1-2, visceral 0/2/4) and
   revised Tokuhashi (KPS, extraspinal bone, vertebral, visceral, primary = 5 for breast,
   palsy from ASIA) are sums of components: the ones the cohort records are fixed, the
   unrecorded ones are latent and chosen by a seeded local search so that the group
   counts are exact.
5. **Survival.** Event times from a proportional-hazards model with a piecewise-constant
   baseline hazard (knots in :attr:`GeneratorParams.baseline_knots_months`) and log hazard
   ratios :data:`TRUE_EFFECTS` acting on the (latent, complete) covariates; accrual
   staggered over July 2010 - December 2021 (Beta-distributed dates); the study closes when the
   target fraction of deaths (48 / 78) has been observed (event-driven close), which
   fixes the number of deaths exactly and sets administrative censoring.

References
----------
Hu P, Wu X, Li Y, et al. Survival outcomes and prognostic factors of breast cancer spinal
metastases: a retrospective study. Published online 20 May 2025.
Tomita K, et al. Spine 2001;26:298-306. Tokuhashi Y, et al. World J Orthop 2014;5:262-71.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
from scipy import stats

from bayes_bcsm.data.contract import REQUIRED_COLUMNS
from bayes_bcsm.data.io import validate_cohort

N_PUBLISHED = 78
ACCRUAL_MONTHS = 137.0  # July 2010 -> December 2021

#: Starting log hazard ratios (centre of the calibration search), per indicator = 1 vs 0.
#: Keys name the indicators the generator builds (see :func:`linear_predictor_columns`).
#: The calibrated truth is :data:`TRUE_EFFECTS`.
DEFAULT_EFFECTS: dict[str, float] = {
    "preop_neuro_abc": 1.0,
    "postop_neuro_abc": 0.45,
    "hormone_therapy": -0.85,
    "hormone_receptor_positive": -0.6,
    "visceral_metastasis": 0.2,
    "solitary_spinal_lesion": -0.3,
    "radiotherapy": -0.3,
    "chemo_or_targeted": -0.15,
    "age_over_50": 0.0,
    "breast_surgery_history": 0.1,
    "low_invasive_pathology": 0.15,
    "palliative_surgery": 0.1,
    "tes": 0.0,
    "kps_post_lt70": 0.0,
    "her2_positive": 0.0,
    "ki67_high": 0.2,
}


def _count_field(values: Mapping[str, int]):
    return field(default_factory=lambda: dict(values))


@dataclass(frozen=True)
class GeneratorParams:
    """Parameters of the generative model (the published counts are the defaults).

    Attributes
    ----------
    effects : dict of str to float
        Log hazard ratios (see :data:`TRUE_EFFECTS`).
    baseline_knots_months : tuple of float
        Right ends (months) of the intervals of the piecewise-constant baseline hazard.
    baseline_cumhaz : tuple of float
        Baseline cumulative hazard at each knot (reference patient, all indicators 0).
    tail_hazard_per_month : float
        Baseline hazard beyond the last knot (per month).
    accrual_beta : tuple of float
        Shape parameters ``(a, b)`` of the Beta distribution of surgery dates over the 137
        months from July 2010 to December 2021 (``(1, 1)`` = uniform; ``b < 1`` = more
        patients in recent years).
    event_fraction : float or None
        Study closes when this fraction of patients has died (event-driven close); ``None``
        uses ``close_months_after_accrual`` instead.
    close_months_after_accrual : float
        Fixed close (months after December 2021) when ``event_fraction`` is ``None``; also the
        earliest close allowed under the event-driven rule is ``min_followup_months`` after the
        last entry.
    min_followup_months : float
        Minimum follow-up of the last patient accrued (months).
    postop_abc_overlap : int
        Of the 16 patients ASIA A-C after surgery, how many were A-C before (for n = 78).
    hr_positive_untested : float
        Probability that an untested patient is (latently) hormone-receptor positive.
    ht_untested_weight : float
        Log-weight of untested vs tested receptor-positive patients for endocrine therapy.
    dependence : float
        Scale of the clinical scores relative to unit Gaussian / Gumbel noise (0 = independent
        columns, larger = stronger dependence).
    """

    effects: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EFFECTS))
    baseline_knots_months: tuple[float, ...] = (6.0, 12.0, 36.0, 50.0, 60.0)
    baseline_cumhaz: tuple[float, ...] = (0.0891, 0.1386, 0.7313, 1.5828, 1.7617)
    tail_hazard_per_month: float = 1.0
    accrual_beta: tuple[float, float] = (1.0, 0.7)
    event_fraction: float | None = 48 / 78
    close_months_after_accrual: float = 18.0
    min_followup_months: float = 6.0
    postop_abc_overlap: int = 11
    hr_positive_untested: float = 0.85
    ht_untested_weight: float = 0.0
    dependence: float = 1.0

    def with_effects(self, effects: Mapping[str, float] | None) -> GeneratorParams:
        """A copy with some log hazard ratios overridden (unknown names raise ``KeyError``)."""
        if not effects:
            return self
        unknown = sorted(set(effects) - set(self.effects))
        if unknown:
            raise KeyError(
                f"unknown effect(s) {unknown}; valid names: {', '.join(sorted(self.effects))}"
            )
        merged = dict(self.effects)
        merged.update({k: float(v) for k, v in effects.items()})
        return replace(self, effects=merged)

    def to_dict(self) -> dict:
        """Plain types (for YAML)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [float(v) for v in value]
            elif isinstance(value, dict):
                value = {k: float(v) for k, v in value.items()}
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, values: Mapping) -> GeneratorParams:
        """Inverse of :meth:`to_dict`; unknown keys raise ``KeyError`` naming the valid ones."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise KeyError(f"unknown generator parameter(s) {unknown}; valid: {sorted(names)}")
        kwargs = {}
        for key, value in values.items():
            if key in ("baseline_knots_months", "baseline_cumhaz", "accrual_beta"):
                value = tuple(float(v) for v in value)
            elif key == "effects":
                value = {**DEFAULT_EFFECTS, **{k: float(v) for k, v in value.items()}}
            kwargs[key] = value
        return cls(**kwargs)


# ---------------------------------------------------------------- published count vectors
PATHOLOGY = {"idc": 65, "ilc": 4, "papillary": 2, "mucinous": 6, "other": 1}
SURGERY = {"tes": 5, "debulking": 48, "palliative_decompression": 20, "vertebroplasty": 5}
SINS_BANDS = {"<=6": 3, "7-12": 45, ">=13": 30}
TOMITA_GROUPS = {"2-3": 51, "4-5": 9, "6-7": 18}
TOKUHASHI_GROUPS = {"0-8": 15, "9-11": 25, "12-15": 38}
KI67 = {">40": 16, "10-40": 17, "<10": 9}
SEGMENTS = {"cervical": 30, "thoracic": 52, "lumbar": 30, "sacrum": 8}
BINARY_COUNTS = {
    "breast_surgery_history": 57,
    "local_pain": 72,
    "neurological_symptoms": 30,
    "solitary_spinal_lesion": 18,
    "other_bone_metastasis": 48,
    "visceral_metastasis": 19,
    "escc_cord": 43,
    "radiotherapy": 42,
    "hormone_therapy": 47,
    "chemo_or_targeted": 48,
    "bone_agent": 48,
    "asia_pre_abc": 16,
    "asia_post_abc": 16,
    "ihc_tested": 53,
    "hr_positive": 48,
    "her2_known": 45,
    "her2_positive": 41,
    "ki67_known": 42,
    "age_le_50": 38,
    "kps_post_lt70": 24,
}
# Discrete distributions chosen to reproduce the printed median (IQR); counts per 78.
VAS_PRE_PAIN = {3: 3, 4: 7, 5: 12, 6: 19, 7: 16, 8: 10, 9: 4, 10: 1}  # 72 with pain
VAS_PRE_NO_PAIN = {0: 3, 1: 2, 2: 1}  # 6 without pain
VAS_POST = {0: 23, 1: 22, 2: 17, 3: 9, 4: 5, 5: 2}
KPS_PRE = {30: 3, 40: 6, 50: 11, 60: 13, 70: 15, 80: 17, 90: 11, 100: 2}
KPS_POST = {30: 2, 40: 4, 50: 7, 60: 11, 70: 6, 80: 8, 90: 22, 100: 18}
# Quantile functions (probability -> value) through the printed quartiles.
INTERVAL_Q = ((0.0, 0.25, 0.5, 0.75, 1.0), (0.0, 20.0, 48.0, 98.0, 260.0))
OPERATION_Q = ((0.0, 0.25, 0.5, 0.75, 1.0), (35.0, 107.0, 153.5, 220.0, 520.0))
BLOOD_LOSS_Q = {
    "tes": ((0.0, 0.25, 0.5, 0.75, 1.0), (900.0, 1300.0, 2100.0, 2975.0, 4200.0)),
    "debulking": ((0.0, 0.25, 0.5, 0.75, 1.0), (80.0, 200.0, 400.0, 838.0, 2600.0)),
    "palliative": ((0.0, 0.25, 0.5, 0.75, 1.0), (5.0, 30.0, 100.0, 380.0, 1200.0)),
}
AGE_MEAN, AGE_SD = 50.9, 11.9


# ---------------------------------------------------------------- small building blocks
def scaled_count(count: int, n: int, n_ref: int = N_PUBLISHED) -> int:
    """A published count out of ``n_ref`` scaled to ``n`` patients (rounded half up)."""
    if n == n_ref:
        return int(count)
    return int(np.floor(count * n / n_ref + 0.5))


def scaled_vector(counts: Mapping, n: int, n_ref: int = N_PUBLISHED) -> dict:
    """An exact-count partition of ``n_ref`` scaled to one of ``n`` (largest remainder)."""
    total = sum(counts.values())
    if n == n_ref and total == n_ref:
        return dict(counts)
    keys = list(counts)
    raw = np.array([counts[k] for k in keys], dtype=float) * n / total
    base = np.floor(raw).astype(int)
    order = np.argsort(-(raw - base), kind="stable")
    for i in order[: n - int(base.sum())]:
        base[i] += 1
    return dict(zip(keys, (int(b) for b in base), strict=True))


def _expand(counts: Mapping) -> np.ndarray:
    return np.concatenate([np.repeat(np.asarray([k], dtype=object), v) for k, v in counts.items()])


def choose_exact(
    k: int, score: np.ndarray, rng: np.random.Generator, eligible: np.ndarray | None = None
) -> np.ndarray:
    """Choose exactly ``k`` patients, with probabilities tilted by ``score`` (Gumbel top-k).

    Parameters
    ----------
    k : int
        Number to choose.
    score : ndarray
        Log-weights (one per patient); larger = more likely to be chosen.
    rng : numpy.random.Generator
    eligible : ndarray of bool, optional
        Patients that may be chosen first; if fewer than ``k`` are eligible, all of them are
        chosen and the rest are filled from the others.

    Returns
    -------
    ndarray of bool
        ``True`` for the chosen patients.
    """
    n = len(score)
    keys = np.asarray(score, dtype=float) + rng.gumbel(size=n)
    if eligible is not None:
        keys = keys + np.where(eligible, 1e6, 0.0)
    chosen = np.zeros(n, dtype=bool)
    k = int(min(max(k, 0), n))
    chosen[np.argsort(-keys, kind="stable")[:k]] = True
    return chosen


def assign_by_rank(values: np.ndarray, latent: np.ndarray) -> np.ndarray:
    """Give the smallest value to the patient with the smallest latent score, and so on."""
    out = np.empty(len(values), dtype=np.asarray(values).dtype)
    out[np.argsort(latent, kind="stable")] = np.sort(values, kind="stable")
    return out


def quantile_values(m: int, probs: Sequence[float], values: Sequence[float]) -> np.ndarray:
    """Values of a piecewise-linear quantile function at plotting positions ``(i - 0.5) / m``."""
    u = (np.arange(m) + 0.5) / m
    return np.interp(u, probs, values)


def matched_normal(
    m: int, mean: float, sd: float, threshold: float | None = None, count_le: int | None = None
) -> np.ndarray:
    """``m`` values with the given mean and SD, optionally ``count_le`` of them <= threshold.

    Normal quantiles at plotting positions, skewed by ``z + a (z^2 - 1)`` with ``a`` found by
    bisection when a count below ``threshold`` is required, then standardised.
    """
    if m < 2:
        return np.full(m, float(mean))
    z = stats.norm.ppf((np.arange(m) + 0.5) / m)

    def make(a: float) -> np.ndarray:
        x = z + a * (z**2 - 1.0)
        return mean + sd * (x - x.mean()) / x.std(ddof=1)

    if threshold is None or count_le is None or m < 3:
        return make(0.0)
    count_le = int(min(max(count_le, 1), m - 1))
    lo, hi = -0.4, 0.4
    for _ in range(60):
        a = 0.5 * (lo + hi)
        v = np.sort(make(a))
        # right skew (a > 0) lowers the median -> more values below the threshold
        if np.sum(v <= threshold) < count_le:
            lo = a
        else:
            hi = a
    v = np.sort(make(hi))
    # place the boundary exactly between the count_le-th and next value
    below, above = v[count_le - 1], v[count_le]
    if not (below <= threshold < above):
        v[:count_le] = np.minimum(v[:count_le], threshold - 0.05)
        v[count_le:] = np.maximum(v[count_le:], threshold + 0.05)
    return v


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(size=n)


def _local_search_groups(
    fixed: np.ndarray,
    options: list[np.ndarray],
    edges: Sequence[float],
    targets: Sequence[int],
    rng: np.random.Generator,
    max_iter: int = 40000,
) -> np.ndarray:
    """Choose one latent option per patient so that ``fixed + latent`` hits group counts.

    Parameters
    ----------
    fixed : ndarray of int
        Known part of each patient's score.
    options : list of ndarray
        For each patient the allowed values of the unrecorded part.
    edges : sequence of float
        Upper inclusive bounds of all but the last group.
    targets : sequence of int
        Wanted number of patients per group.

    Returns
    -------
    ndarray of int
        The latent part per patient (best effort when the counts are not reachable).
    """
    n = len(fixed)
    latent = np.array([o[rng.integers(len(o))] for o in options], dtype=int)
    free = np.flatnonzero([len(o) > 1 for o in options])
    targets = np.asarray(targets)

    def group(score):
        return np.searchsorted(np.asarray(edges), score, side="left")

    g = group(fixed + latent)
    counts = np.bincount(g, minlength=len(targets))
    dev = int(np.abs(counts - targets).sum())
    it = 0
    while dev > 0 and it < max_iter and len(free):
        it += 1
        i = free[rng.integers(len(free))]
        new = options[i][rng.integers(len(options[i]))]
        g_new = group(fixed[i] + new)
        if g_new == g[i]:
            latent[i] = new
            continue
        trial = counts.copy()
        trial[g[i]] -= 1
        trial[g_new] += 1
        d = int(np.abs(trial - targets).sum())
        if d <= dev:
            latent[i], g[i], counts, dev = new, g_new, trial, d
    del n
    return latent


# ---------------------------------------------------------------- covariates
def simulate_covariates(
    n: int, rng: np.random.Generator, params: GeneratorParams
) -> pd.DataFrame:
    """Draw the covariates of ``n`` patients (all contract columns except time/event).

    The frame also carries helper columns (prefixed ``_``): latent hormone-receptor status,
    whether IHC was done. They are dropped by :func:`simulate_cohort`.

    Parameters
    ----------
    n : int
        Number of patients (>= 1).
    rng : numpy.random.Generator
    params : GeneratorParams

    Returns
    -------
    DataFrame
    """
    c = {k: scaled_count(v, n) for k, v in BINARY_COUNTS.items()}
    dep = params.dependence
    out: dict[str, np.ndarray] = {}

    # pathology (exact vector, permuted)
    pathology = rng.permutation(_expand(scaled_vector(PATHOLOGY, n)))
    low_inv = np.isin(pathology, ["papillary", "mucinous", "other"])
    out["pathology"] = pathology

    # IHC / receptors: tested subset; observed HR exact among tested; latent for untested
    tested = choose_exact(c["ihc_tested"], np.zeros(n), rng)
    n_tested = int(tested.sum())
    hr_pos_k = min(c["hr_positive"], n_tested)
    hr_score = dep * (1.5 * low_inv)  # low-invasive special types are mostly receptor positive
    hr_pos_tested = choose_exact(hr_pos_k, np.where(tested, hr_score, -1e9), rng) & tested
    hr_latent = np.where(tested, hr_pos_tested, rng.random(n) < params.hr_positive_untested)
    hormone_receptor = np.where(tested, np.where(hr_pos_tested, "positive", "negative"), None)
    out["hormone_receptor"] = hormone_receptor
    her2_known = choose_exact(min(c["her2_known"], n_tested), np.where(tested, 0.0, -1e9), rng)
    her2_known &= tested
    her2_pos = choose_exact(
        min(c["her2_positive"], int(her2_known.sum())), np.where(her2_known, 0.0, -1e9), rng
    ) & her2_known
    out["her2"] = np.where(her2_known, np.where(her2_pos, "positive", "negative"), None)
    ki_known = choose_exact(min(c["ki67_known"], n_tested), np.where(tested, 0.0, -1e9), rng)
    ki_known &= tested
    ki_levels = rng.permutation(_expand(scaled_vector(KI67, int(ki_known.sum()))))
    ki67 = np.full(n, None, dtype=object)
    ki67[np.flatnonzero(ki_known)] = ki_levels
    out["ki67"] = ki67

    # metastasis: visceral within other bone; solitary within spine-only
    other_bone = choose_exact(c["other_bone_metastasis"], np.zeros(n), rng)
    visceral = choose_exact(
        min(c["visceral_metastasis"], int(other_bone.sum())), np.where(other_bone, 0.0, -1e9), rng
    ) & other_bone
    spine_only = ~other_bone & ~visceral
    solitary = choose_exact(
        min(c["solitary_spinal_lesion"], int(spine_only.sum())),
        np.where(spine_only, 0.0, -1e9),
        rng,
    ) & spine_only
    out["other_bone_metastasis"] = other_bone.astype(int)
    out["visceral_metastasis"] = visceral.astype(int)
    out["solitary_spinal_lesion"] = solitary.astype(int)

    # neurology: symptoms 30 ⊃ ASIA A-C pre 16; ESCC cord compression weighted to symptoms
    symptoms = choose_exact(c["neurological_symptoms"], dep * 0.5 * visceral, rng)
    abc_pre = choose_exact(
        min(c["asia_pre_abc"], int(symptoms.sum())), np.where(symptoms, 0.0, -1e9), rng
    ) & symptoms
    grade_pre = np.where(symptoms, "D", "E").astype(object)
    abc_idx = np.flatnonzero(abc_pre)
    abc_grades = _expand(scaled_vector({"A": 1, "B": 4, "C": 11}, len(abc_idx), 16))
    grade_pre[abc_idx] = rng.permutation(abc_grades) if len(abc_idx) else abc_grades
    escc_cord = choose_exact(c["escc_cord"], dep * (3.0 * abc_pre + 2.0 * symptoms), rng)
    escc = np.where(
        escc_cord,
        np.where(abc_pre | (rng.random(n) < 0.3), "3", "2"),
        rng.choice(np.array(["0", "1a", "1b", "1c"], dtype=object), size=n, p=[0.3, 0.3, 0.2, 0.2]),
    ).astype(object)
    out["neurological_symptoms"] = symptoms.astype(int)
    out["escc_grade"] = escc

    # postoperative ASIA: A-C after surgery is a subset of the symptomatic patients
    k_post = c["asia_post_abc"]
    k_overlap = min(scaled_count(params.postop_abc_overlap, n), int(abc_pre.sum()), k_post)
    stay = choose_exact(k_overlap, np.where(abc_pre, 0.0, -1e9), rng) & abc_pre
    pre_d = symptoms & ~abc_pre
    worse = choose_exact(
        min(k_post - int(stay.sum()), int(pre_d.sum())), np.where(pre_d, 0.0, -1e9), rng
    ) & pre_d
    grade_post = np.where(symptoms, "E", "E").astype(object)
    rank = {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}
    for i in range(n):
        if stay[i]:  # did not recover to D/E; may improve within A-C
            g = rank[grade_pre[i]] + int(rng.random() < 0.4)
            grade_post[i] = "ABC"[min(g, 2)]
        elif worse[i]:
            grade_post[i] = "C"
        elif abc_pre[i]:
            grade_post[i] = "D" if rng.random() < 0.5 else "E"
        elif pre_d[i]:
            grade_post[i] = "D" if rng.random() < 0.3 else "E"
    abc_post = stay | worse
    out["asia_pre"] = grade_pre
    out["asia_post"] = grade_post

    # KPS before surgery: worse with neurological deficit and visceral disease
    kps_latent = -dep * (1.5 * abc_pre + 0.8 * symptoms + 0.6 * visceral) + _noise(rng, n)
    kps_pre = assign_by_rank(_expand(scaled_vector(KPS_PRE, n)).astype(int), kps_latent)
    out["kps_pre"] = kps_pre

    # surgery type
    surg = np.full(n, "debulking", dtype=object)
    k = scaled_vector(SURGERY, n)
    tes = choose_exact(k["tes"], dep * (3.0 * solitary - 1.0 * visceral), rng)
    vp = choose_exact(
        k["vertebroplasty"], np.where(tes, -1e9, dep * (2.0 * ~escc_cord - 1.5 * symptoms)), rng
    ) & ~tes
    dec = choose_exact(
        k["palliative_decompression"],
        np.where(tes | vp, -1e9, dep * (1.0 * escc_cord + 0.8 * other_bone + 0.5 * visceral)),
        rng,
    ) & ~tes & ~vp
    surg[tes], surg[vp], surg[dec] = "tes", "vertebroplasty", "palliative_decompression"
    out["surgery_type"] = surg
    palliative = vp | dec

    # SINS bands, scores within band
    bands = assign_by_rank(
        np.repeat(np.arange(3), list(scaled_vector(SINS_BANDS, n).values())),
        dep * (0.5 * escc_cord + 0.5 * (surg == "debulking") - 0.8 * vp) + _noise(rng, n),
    )
    lo_hi = np.array([[3, 6], [7, 12], [13, 16]])
    out["sins_score"] = rng.integers(lo_hi[bands, 0], lo_hi[bands, 1] + 1)

    # spinal segments (not exclusive): solitary patients have one segment
    out.update(_segments(n, solitary, rng))
    n_segments = sum(out[f"segment_{s}"] for s in SEGMENTS)

    # Tomita: primary growth (1 slow / 2 moderate, latent), bone (1 solitary, 2 multiple),
    # visceral (0 none, 2 treatable / 4 untreatable, latent); score <= 7 for a breast primary
    bone_pts = np.where(solitary, 1, 2)
    options_tomita = []
    for i in range(n):
        if visceral[i]:
            opts = [1 + 2, 2 + 2, 1 + 4]  # primary + visceral combinations keeping score <= 7
        else:
            opts = [1, 2]
        options_tomita.append(np.array(opts))
    tom_latent = _local_search_groups(
        bone_pts, options_tomita, [3, 5], list(scaled_vector(TOMITA_GROUPS, n).values()), rng
    )
    out["tomita_score"] = bone_pts + tom_latent

    # revised Tokuhashi: KPS (0/1/2), extraspinal bone (0/1 latent, 2 none), vertebral
    # (2 single, else 0/1 latent), visceral (2 none, 0/1 latent), primary breast 5, palsy
    gc = np.where(kps_pre <= 40, 0, np.where(kps_pre <= 70, 1, 2))
    palsy = np.select([np.isin(grade_pre, ["A", "B"]), np.isin(grade_pre, ["C", "D"])], [0, 1], 2)
    fixed = gc + 5 + palsy + np.where(other_bone, 0, 2) + np.where(visceral, 0, 2)
    fixed = fixed + np.where(solitary, 2, 0)
    options_tok = []
    for i in range(n):
        bone_opts = [0, 1] if other_bone[i] else [0]
        vert_opts = [0] if solitary[i] else ([0, 1] if n_segments[i] >= 2 else [0, 1, 2])
        visc_opts = [0, 1] if visceral[i] else [0]
        options_tok.append(
            np.unique(np.add.outer(np.add.outer(bone_opts, vert_opts), visc_opts).ravel())
        )
    tok_latent = _local_search_groups(
        fixed, options_tok, [8, 11], list(scaled_vector(TOKUHASHI_GROUPS, n).values()), rng
    )
    out["tokuhashi_score"] = np.minimum(fixed + tok_latent, 15)

    # adjuvant therapies
    ht = choose_exact(
        c["hormone_therapy"],
        np.where(hr_latent, 0.0, -1e9) + params.ht_untested_weight * ~tested,
        rng,
    )
    out["hormone_therapy"] = ht.astype(int)
    her2_known_pos = her2_pos
    out["chemo_or_targeted"] = choose_exact(
        c["chemo_or_targeted"], dep * (1.0 * her2_known_pos + 1.0 * ~hr_latent - 0.5 * ht), rng
    ).astype(int)
    out["radiotherapy"] = choose_exact(
        c["radiotherapy"], dep * (0.5 * palliative + 0.3 * ~solitary - 0.8 * tes), rng
    ).astype(int)
    out["bone_agent"] = choose_exact(c["bone_agent"], dep * 0.5 * other_bone, rng).astype(int)

    # history of breast surgery, interval, age
    history = choose_exact(c["breast_surgery_history"], np.zeros(n), rng)
    out["breast_surgery_history"] = history.astype(int)
    interval = assign_by_rank(
        quantile_values(n, *INTERVAL_Q), dep * 2.0 * history + _noise(rng, n)
    )
    out["interval_to_spinal_surgery_months"] = np.round(interval, 1)
    age = assign_by_rank(
        matched_normal(n, AGE_MEAN, AGE_SD, 50.0, c["age_le_50"]),
        -dep * 0.3 * ht + _noise(rng, n),
    )
    out["age_years"] = np.round(age, 1)

    # pain
    pain = choose_exact(c["local_pain"], dep * 0.5 * (surg != "tes"), rng)
    out["local_pain"] = pain.astype(int)
    vas_pre = np.zeros(n, dtype=int)
    n_pain = int(pain.sum())
    vas_pre[pain] = rng.permutation(_expand(scaled_vector(VAS_PRE_PAIN, n_pain, 72)).astype(int))
    vas_pre[~pain] = rng.permutation(
        _expand(scaled_vector(VAS_PRE_NO_PAIN, n - n_pain, 6)).astype(int)
    )
    out["vas_pre"] = vas_pre
    out["vas_post"] = assign_by_rank(
        _expand(scaled_vector(VAS_POST, n)).astype(int),
        dep * (0.3 * vas_pre + 1.0 * abc_post) + _noise(rng, n),
    )

    # KPS six months after surgery
    kps_post = assign_by_rank(
        _expand(scaled_vector(KPS_POST, n)).astype(int),
        dep * (0.05 * kps_pre - 0.8 * abc_post - 0.3 * visceral) + _noise(rng, n),
    )
    out["kps_post"] = kps_post

    # operation time and blood loss by surgery type
    op_latent = dep * np.select(
        [tes, surg == "debulking", dec, vp], [3.0, 0.7, 0.0, -3.0], 0.0
    ) + _noise(rng, n)
    out["operation_minutes"] = np.round(assign_by_rank(quantile_values(n, *OPERATION_Q), op_latent))
    blood = np.zeros(n)
    groups = (("tes", tes), ("debulking", surg == "debulking"), ("palliative", palliative))
    for name, mask in groups:
        m = int(mask.sum())
        if m:
            latent = op_latent[mask] + (dep * -3.0 * vp[mask] if name == "palliative" else 0.0)
            blood[mask] = assign_by_rank(quantile_values(m, *BLOOD_LOSS_Q[name]), latent)
    out["blood_loss_ml"] = np.round(blood / 10.0) * 10.0

    frame = pd.DataFrame(out)
    frame["_hr_latent_positive"] = hr_latent.astype(int)
    frame["_ihc_tested"] = tested.astype(int)
    return frame


def _segments(n: int, solitary: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A 0/1 patient x segment matrix with the published column sums; solitary rows sum to 1."""
    col = np.array([min(scaled_count(v, n), n) for v in SEGMENTS.values()])
    total = int(col.sum())
    rows = np.ones(n, dtype=int)
    others = np.flatnonzero(~solitary)
    extra = max(total - n, 0)
    # spread the extra involvements over non-solitary patients (at most 4 segments each)
    capacity = 3 * len(others)
    extra = min(extra, capacity)
    while extra > 0:
        i = others[rng.integers(len(others))]
        if rows[i] < 4:
            rows[i] += 1
            extra -= 1
    # Ryser's construction: rows in decreasing order, each takes the columns with the largest
    # remaining sums (random tie-break)
    mat = np.zeros((n, 4), dtype=int)
    remaining = col.copy()
    for i in np.argsort(-rows + rng.random(n) * 0.1, kind="stable"):
        available = np.flatnonzero(remaining > 0)
        keys = remaining[available] + rng.random(len(available)) * 0.5
        pick = available[np.argsort(-keys, kind="stable")[: rows[i]]]
        if len(pick) == 0:  # only when the scaled sums cannot be met: give a segment anyway
            pick = np.array([int(rng.integers(4))])
        mat[i, pick] = 1
        remaining[pick] -= 1
    # random checkerboard swaps keep both margins and randomise the matrix
    for _ in range(20 * n):
        a, b = rng.integers(n, size=2)
        j, k = rng.integers(4, size=2)
        if mat[a, j] == 1 and mat[a, k] == 0 and mat[b, k] == 1 and mat[b, j] == 0:
            mat[a, j], mat[a, k], mat[b, k], mat[b, j] = 0, 1, 0, 1
    return {f"segment_{s}": mat[:, j] for j, s in enumerate(SEGMENTS)}


# ---------------------------------------------------------------- survival
def linear_predictor_columns(cov: pd.DataFrame) -> pd.DataFrame:
    """The 0/1 indicators the true effects act on (one column per key of ``TRUE_EFFECTS``)."""
    surg = cov["surgery_type"].astype(str)
    return pd.DataFrame(
        {
            "preop_neuro_abc": cov["asia_pre"].isin(["A", "B", "C"]).astype(int),
            "postop_neuro_abc": cov["asia_post"].isin(["A", "B", "C"]).astype(int),
            "hormone_therapy": cov["hormone_therapy"].astype(int),
            "hormone_receptor_positive": cov["_hr_latent_positive"].astype(int),
            "visceral_metastasis": cov["visceral_metastasis"].astype(int),
            "solitary_spinal_lesion": cov["solitary_spinal_lesion"].astype(int),
            "radiotherapy": cov["radiotherapy"].astype(int),
            "chemo_or_targeted": cov["chemo_or_targeted"].astype(int),
            "age_over_50": (cov["age_years"].astype(float) > 50).astype(int),
            "breast_surgery_history": cov["breast_surgery_history"].astype(int),
            "low_invasive_pathology": cov["pathology"].isin(["papillary", "mucinous", "other"])
            .astype(int),
            "palliative_surgery": surg.isin(["palliative_decompression", "vertebroplasty"])
            .astype(int),
            "tes": (surg == "tes").astype(int),
            "kps_post_lt70": (cov["kps_post"].astype(float) < 70).astype(int),
            "her2_positive": (cov["her2"] == "positive").astype(int),
            "ki67_high": (cov["ki67"] == ">40").astype(int),
        },
        index=cov.index,
    )


def linear_predictor(cov: pd.DataFrame, effects: Mapping[str, float]) -> np.ndarray:
    """``eta_i = sum_k beta_k x_ik`` (log relative hazard of each patient)."""
    x = linear_predictor_columns(cov)
    beta = np.array([effects.get(k, 0.0) for k in x.columns])
    return x.to_numpy(dtype=float) @ beta


def baseline_cumhaz(t: np.ndarray, params: GeneratorParams) -> np.ndarray:
    """Baseline cumulative hazard at ``t`` (months): piecewise linear, linear tail."""
    knots = np.concatenate([[0.0], params.baseline_knots_months])
    cum = np.concatenate([[0.0], params.baseline_cumhaz])
    t = np.asarray(t, dtype=float)
    inside = np.interp(t, knots, cum)
    return np.where(t > knots[-1], cum[-1] + params.tail_hazard_per_month * (t - knots[-1]), inside)


def inverse_baseline_cumhaz(h: np.ndarray, params: GeneratorParams) -> np.ndarray:
    """Inverse of :func:`baseline_cumhaz` (months at which the cumulative hazard reaches ``h``)."""
    knots = np.concatenate([[0.0], params.baseline_knots_months])
    cum = np.concatenate([[0.0], params.baseline_cumhaz])
    h = np.asarray(h, dtype=float)
    inside = np.interp(h, cum, knots)
    tail = knots[-1] + (h - cum[-1]) / max(params.tail_hazard_per_month, 1e-12)
    return np.where(h > cum[-1], tail, inside)


def solve_baseline(
    eta: np.ndarray, knots_months: Sequence[float], survival: Sequence[float]
) -> tuple[float, ...]:
    """Baseline cumulative hazards at the knots so that mean_i S_i(t_k) equals ``survival[k]``.

    Solves ``mean_i exp(-H0(t_k) exp(eta_i)) = S_k`` by bisection on ``log H0`` for each knot
    (the left side is monotone in ``H0``), so the population-averaged survival of the
    covariate mix ``eta`` passes through the published Kaplan-Meier points.
    """
    w = np.exp(np.asarray(eta, dtype=float))
    target = np.asarray(survival, dtype=float)
    lo = np.full(target.shape, -15.0)
    hi = np.full(target.shape, 5.0)
    for _ in range(48):  # bisection on log H0, all knots at once (precision 20 / 2^48)
        mid = 0.5 * (lo + hi)
        above = np.mean(np.exp(-np.exp(mid)[:, None] * w[None, :]), axis=1) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    out = [float(v) for v in np.exp(0.5 * (lo + hi))]
    return tuple(np.maximum.accumulate(out))


def simulate_survival(
    cov: pd.DataFrame, rng: np.random.Generator, params: GeneratorParams
) -> tuple[np.ndarray, np.ndarray, float]:
    """Event times, censoring and status for the patients in ``cov``.

    Returns
    -------
    time_months : ndarray
        Observed time (months, rounded to 0.01, >= 0.01).
    event : ndarray of int
        1 = died before the close of the study.
    close_months : float
        Study close, months after July 2010.
    """
    n = len(cov)
    eta = linear_predictor(cov, params.effects)
    unit_exp = rng.exponential(size=n)
    # accrual dates: Beta(a, b) over July 2010 - December 2021
    a, b = params.accrual_beta
    entry = rng.beta(a, b, size=n) * ACCRUAL_MONTHS
    return survival_from_draws(eta, unit_exp, entry, params)


def survival_from_draws(
    eta: np.ndarray, unit_exp: np.ndarray, entry_months: np.ndarray, params: GeneratorParams
) -> tuple[np.ndarray, np.ndarray, float]:
    """Observed times and events from the random draws of :func:`simulate_survival`.

    A pure function (no randomness), so the calibration can re-use one seed's draws for many
    parameter sets and get exactly what :func:`simulate_cohort` would produce.

    Parameters
    ----------
    eta : ndarray
        Log relative hazards (:func:`linear_predictor`).
    unit_exp : ndarray
        Unit exponential draws; the event time solves ``H0(t) exp(eta) = unit_exp``.
    entry_months : ndarray
        Surgery dates, months after July 2010.
    params : GeneratorParams

    Returns
    -------
    time_months, event, close_months
        As :func:`simulate_survival`.
    """
    n = len(eta)
    t_event = inverse_baseline_cumhaz(unit_exp * np.exp(-eta), params)
    entry = entry_months
    earliest_close = entry.max() + params.min_followup_months
    if params.event_fraction is None:
        close = ACCRUAL_MONTHS + params.close_months_after_accrual
    else:
        k = int(np.floor(params.event_fraction * n + 0.5))
        death_dates = np.sort(entry + t_event)
        if k <= 0:
            close = death_dates[0] - 1e-3
        elif k >= n:
            close = death_dates[-1] + 1.0
        else:
            close = 0.5 * (death_dates[k - 1] + death_dates[k])
        close = max(close, earliest_close)
    censor = close - entry
    event = (t_event <= censor).astype(int)
    time = np.where(event == 1, t_event, censor)
    time = np.maximum(np.round(time, 2), 0.01)
    return time, event, float(close)


def simulate_cohort(
    n: int = N_PUBLISHED,
    seed: int | np.random.Generator = 0,
    effects: Mapping[str, float] | None = None,
    params: GeneratorParams | None = None,
) -> pd.DataFrame:
    """Draw a contract-valid cohort of ``n`` patients.

    Parameters
    ----------
    n : int
        Number of patients; published counts are scaled as proportions when ``n != 78``.
    seed : int or numpy.random.Generator
        Seed (or generator) of every random choice.
    effects : mapping of str to float, optional
        Log hazard ratios overriding those of ``params`` (e.g. ``{"hormone_therapy": 0.0}``
        for a null scenario); valid names are the keys of :data:`TRUE_EFFECTS`.
    params : GeneratorParams, optional
        Default :data:`CALIBRATED_PARAMS` (the parameters chosen by the calibration).

    Returns
    -------
    DataFrame
        The typed frame of :func:`bayes_bcsm.data.validate_cohort`, columns in contract order.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    params = (params or CALIBRATED_PARAMS).with_effects(effects)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    cov = simulate_covariates(n, rng, params)
    time, event, _ = simulate_survival(cov, rng, params)
    cov["time_months"] = time
    cov["event"] = event
    width = max(3, len(str(n)))
    cov["patient_id"] = [f"R{i + 1:0{width}d}" for i in range(n)]
    raw = cov[list(REQUIRED_COLUMNS)]
    return validate_cohort(raw, source=f"simulate_cohort(n={n})").frame


def true_effects(params: GeneratorParams | None = None) -> dict[str, float]:
    """The log hazard ratios used as the truth in simulation studies."""
    return dict((params or CALIBRATED_PARAMS).effects)


# Parameters chosen by experiments/calibrate.py (also in data/reconstruction.yaml; a test
# checks that the two agree).
CALIBRATED_PARAMS = GeneratorParams(
    effects={
        "preop_neuro_abc": 0.55,
        "postop_neuro_abc": 1.35,
        "hormone_therapy": -1.35,
        "hormone_receptor_positive": -1.5,
        "visceral_metastasis": 0.65,
        "solitary_spinal_lesion": -0.75,
        "radiotherapy": -0.8,
        "chemo_or_targeted": -0.6,
        "age_over_50": -0.2,
        "breast_surgery_history": 0.5,
        "low_invasive_pathology": 0.05,
        "palliative_surgery": 0.2,
        "tes": 1.2,
        "kps_post_lt70": -0.2,
        "her2_positive": 0.5,
        "ki67_high": 0.45,
    },
    baseline_cumhaz=(0.14286, 0.23329, 1.66096, 4.39574, 5.04423),
    tail_hazard_per_month=0.246,
    accrual_beta=(0.92, 0.73),
    postop_abc_overlap=8,
    hr_positive_untested=0.9,
    ht_untested_weight=2.0,
)
CALIBRATED_SEED = 167
#: True log hazard ratios of the calibrated generator: the known truth for simulation studies.
TRUE_EFFECTS: dict[str, float] = dict(CALIBRATED_PARAMS.effects)


_CSV_DECIMALS = {
    "age_years": 1,
    "interval_to_spinal_surgery_months": 1,
    "operation_minutes": 0,
    "blood_loss_ml": 0,
    "time_months": 2,
}


def format_cohort_csv(frame: pd.DataFrame) -> str:
    """The cohort as CSV text with fixed formatting (bit-identical for identical data).

    Floats are written with a fixed number of decimals per column, integers and 0/1 as
    integers, missing values as empty cells, ``\\n`` line endings.
    """
    cols = []
    for name in REQUIRED_COLUMNS:
        s = frame[name]
        if name in _CSV_DECIMALS:
            d = _CSV_DECIMALS[name]
            text = s.astype(float).map(lambda v, d=d: "" if pd.isna(v) else f"{v:.{d}f}")
        elif pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(
            s.dtype, pd.CategoricalDtype
        ):
            text = s.map(lambda v: "" if pd.isna(v) else str(int(v)))
        else:
            text = s.astype(object).map(lambda v: "" if v is None or pd.isna(v) else str(v))
        cols.append(text.to_numpy(dtype=object))
    lines = [",".join(REQUIRED_COLUMNS)]
    for row in zip(*cols, strict=True):
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"
