"""The covariates of a reconstructed cohort: every Table 1 count exact, coherent dependence.

The published counts are read from the study's targets (:mod:`bayes_bcsm.study`), never
retyped: the count vectors below are built from ``targets.yaml`` at import. What the paper
does not print (how VAS / KPS values spread around their printed median and IQR, the extreme
values of the quantile functions, the split of ASIA A-C into A, B and C) is a choice of the
generator, written here.

See :mod:`bayes_bcsm.reconstruct.generator` for how a cohort is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayes_bcsm.reconstruct.sampling import (
    assign_by_rank,
    choose_exact,
    expand_counts,
    local_search_groups,
    matched_normal,
    quantile_values,
    scaled_count,
    scaled_vector,
    standard_noise,
)
from bayes_bcsm.study import TABLE2_FACTORS, bundled_targets

if TYPE_CHECKING:
    from bayes_bcsm.reconstruct.generator import GeneratorParams

__all__ = ["N_PUBLISHED", "simulate_covariates"]

_TARGETS = bundled_targets()
_T1 = _TARGETS.table1
_TABLE2_LABELS = {f.target: f.labels for f in TABLE2_FACTORS}

#: Patients of the published cohort (the counts below refer to it).
N_PUBLISHED: int = _TARGETS.n


def _table2_n(factor: str, *labels: str) -> int:
    """Patients in the printed levels ``labels`` of a Table 2 factor (all levels if none)."""
    levels = _TARGETS.logrank(factor).levels
    return sum(level.n for level in levels if not labels or level.level in labels)


def _quartile_knots(summary: Mapping, q1: float, low: float, high: float) -> tuple:
    """A quantile function through a printed median (IQR): ``(probs, values)``.

    The lower quartile ``q1`` and the extremes are the generator's choices; the median and
    the upper quartile ``q1 + IQR`` come from the printed figures.
    """
    q1 = float(q1)
    values = (float(low), q1, float(summary["median"]), q1 + float(summary["iqr"]), float(high))
    return (0.0, 0.25, 0.5, 0.75, 1.0), values


# ---------------------------------------------------------------- published count vectors
PATHOLOGY = dict(_T1["pathology"])
SURGERY = dict(_T1["surgery"])
#: SINS bands in the order of ``targets.yaml`` (stable, potentially unstable, unstable).
SINS_BANDS = dict(zip(("<=6", "7-12", ">=13"), _T1["sins"].values(), strict=True))
TOMITA_GROUPS = dict(_T1["tomita"])
TOKUHASHI_GROUPS = dict(_T1["tokuhashi"])
KI67 = {_TABLE2_LABELS["ki67"][lv.level]: lv.n for lv in _TARGETS.logrank("ki67").levels}
SEGMENTS = dict(_T1["segments"])
BINARY_COUNTS = {
    "breast_surgery_history": _T1["history_of_breast_surgery"],
    "local_pain": _T1["local_pain"],
    "neurological_symptoms": _T1["neurological_dysfunction"],
    "solitary_spinal_lesion": _T1["solitary_spinal_lesion"],
    "other_bone_metastasis": _T1["metastasis"]["other_bones"],
    "visceral_metastasis": _T1["metastasis"]["visceral"],
    "escc_cord": _T1["escc"]["cord_compression_2_3"],
    "radiotherapy": _T1["adjuvant"]["radiotherapy"],
    "hormone_therapy": _T1["adjuvant"]["hormone_therapy"],
    "chemo_or_targeted": _T1["adjuvant"]["chemo_or_targeted"],
    "bone_agent": _T1["adjuvant"]["bone_agent"],
    "asia_pre_abc": _table2_n("preop_neuro_dysfunction", "yes (ASIA A-C)"),
    "asia_post_abc": _table2_n("postop_neuro_dysfunction", "yes (ASIA A-C)"),
    "ihc_tested": _T1["ihc_tested"],
    "hr_positive": _table2_n("hormone_receptor", "positive"),
    "her2_known": _table2_n("her2"),
    "her2_positive": _table2_n("her2", "positive"),
    "ki67_known": _table2_n("ki67"),
    "age_le_50": _table2_n("age", "<=50"),
    "kps_post_lt70": _table2_n("kps_post", "<70"),
}
# Discrete distributions chosen to reproduce the printed median (IQR); counts per 78.
VAS_PRE_PAIN = {3: 3, 4: 7, 5: 12, 6: 19, 7: 16, 8: 10, 9: 4, 10: 1}  # 72 with pain
VAS_PRE_NO_PAIN = {0: 3, 1: 2, 2: 1}  # 6 without pain
VAS_POST = {0: 23, 1: 22, 2: 17, 3: 9, 4: 5, 5: 2}
KPS_PRE = {30: 3, 40: 6, 50: 11, 60: 13, 70: 15, 80: 17, 90: 11, 100: 2}
KPS_POST = {30: 2, 40: 4, 50: 7, 60: 11, 70: 6, 80: 8, 90: 22, 100: 18}
# ASIA grades of the preoperative A-C patients (the generator's choice; the paper prints 16)
ASIA_ABC_GRADES = {"A": 1, "B": 4, "C": 11}
# Quantile functions (probability -> value) through the printed median (IQR).
INTERVAL_Q = _quartile_knots(_T1["interval_to_spinal_surgery"], 20.0, 0.0, 260.0)
OPERATION_Q = _quartile_knots(_T1["operation_minutes"], 107.0, 35.0, 520.0)
BLOOD_LOSS_Q = {
    "tes": _quartile_knots(_T1["blood_loss_by_surgery"]["tes"], 1300.0, 900.0, 4200.0),
    "debulking": _quartile_knots(_T1["blood_loss_by_surgery"]["debulking"], 200.0, 80.0, 2600.0),
    "palliative": _quartile_knots(_T1["blood_loss_by_surgery"]["palliative"], 30.0, 5.0, 1200.0),
}
AGE_MEAN, AGE_SD = float(_T1["age"]["mean"]), float(_T1["age"]["sd"])


# ---------------------------------------------------------------- covariates
def simulate_covariates(n: int, rng: np.random.Generator, params: GeneratorParams) -> pd.DataFrame:
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
    c = {k: scaled_count(v, n, N_PUBLISHED) for k, v in BINARY_COUNTS.items()}
    dep = params.dependence
    out: dict[str, np.ndarray] = {}

    # pathology (exact vector, permuted)
    pathology = rng.permutation(expand_counts(scaled_vector(PATHOLOGY, n)))
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
    her2_pos = (
        choose_exact(
            min(c["her2_positive"], int(her2_known.sum())), np.where(her2_known, 0.0, -1e9), rng
        )
        & her2_known
    )
    out["her2"] = np.where(her2_known, np.where(her2_pos, "positive", "negative"), None)
    ki_known = choose_exact(min(c["ki67_known"], n_tested), np.where(tested, 0.0, -1e9), rng)
    ki_known &= tested
    ki_levels = rng.permutation(expand_counts(scaled_vector(KI67, int(ki_known.sum()))))
    ki67 = np.full(n, None, dtype=object)
    ki67[np.flatnonzero(ki_known)] = ki_levels
    out["ki67"] = ki67

    # metastasis: visceral within other bone; solitary within spine-only
    other_bone = choose_exact(c["other_bone_metastasis"], np.zeros(n), rng)
    visceral = (
        choose_exact(
            min(c["visceral_metastasis"], int(other_bone.sum())),
            np.where(other_bone, 0.0, -1e9),
            rng,
        )
        & other_bone
    )
    spine_only = ~other_bone & ~visceral
    solitary = (
        choose_exact(
            min(c["solitary_spinal_lesion"], int(spine_only.sum())),
            np.where(spine_only, 0.0, -1e9),
            rng,
        )
        & spine_only
    )
    out["other_bone_metastasis"] = other_bone.astype(int)
    out["visceral_metastasis"] = visceral.astype(int)
    out["solitary_spinal_lesion"] = solitary.astype(int)

    # neurology: symptoms 30 ⊃ ASIA A-C pre 16; ESCC cord compression weighted to symptoms
    symptoms = choose_exact(c["neurological_symptoms"], dep * 0.5 * visceral, rng)
    abc_pre = (
        choose_exact(
            min(c["asia_pre_abc"], int(symptoms.sum())), np.where(symptoms, 0.0, -1e9), rng
        )
        & symptoms
    )
    grade_pre = np.where(symptoms, "D", "E").astype(object)
    abc_idx = np.flatnonzero(abc_pre)
    abc_grades = expand_counts(scaled_vector(ASIA_ABC_GRADES, len(abc_idx)))
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
    overlap = scaled_count(params.postop_abc_overlap, n, N_PUBLISHED)
    k_overlap = min(overlap, int(abc_pre.sum()), k_post)
    stay = choose_exact(k_overlap, np.where(abc_pre, 0.0, -1e9), rng) & abc_pre
    pre_d = symptoms & ~abc_pre
    worse = (
        choose_exact(
            min(k_post - int(stay.sum()), int(pre_d.sum())), np.where(pre_d, 0.0, -1e9), rng
        )
        & pre_d
    )
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
    kps_latent = -dep * (1.5 * abc_pre + 0.8 * symptoms + 0.6 * visceral) + standard_noise(rng, n)
    kps_pre = assign_by_rank(expand_counts(scaled_vector(KPS_PRE, n)).astype(int), kps_latent)
    out["kps_pre"] = kps_pre

    # surgery type
    surg = np.full(n, "debulking", dtype=object)
    k = scaled_vector(SURGERY, n)
    tes = choose_exact(k["tes"], dep * (3.0 * solitary - 1.0 * visceral), rng)
    vp = (
        choose_exact(
            k["vertebroplasty"], np.where(tes, -1e9, dep * (2.0 * ~escc_cord - 1.5 * symptoms)), rng
        )
        & ~tes
    )
    dec = (
        choose_exact(
            k["palliative_decompression"],
            np.where(tes | vp, -1e9, dep * (1.0 * escc_cord + 0.8 * other_bone + 0.5 * visceral)),
            rng,
        )
        & ~tes
        & ~vp
    )
    surg[tes], surg[vp], surg[dec] = "tes", "vertebroplasty", "palliative_decompression"
    out["surgery_type"] = surg
    palliative = vp | dec

    # SINS bands, scores within band
    bands = assign_by_rank(
        np.repeat(np.arange(3), list(scaled_vector(SINS_BANDS, n).values())),
        dep * (0.5 * escc_cord + 0.5 * (surg == "debulking") - 0.8 * vp) + standard_noise(rng, n),
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
    tom_latent = local_search_groups(
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
    tok_latent = local_search_groups(
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
        quantile_values(n, *INTERVAL_Q), dep * 2.0 * history + standard_noise(rng, n)
    )
    out["interval_to_spinal_surgery_months"] = np.round(interval, 1)
    age = assign_by_rank(
        matched_normal(n, AGE_MEAN, AGE_SD, 50.0, c["age_le_50"]),
        -dep * 0.3 * ht + standard_noise(rng, n),
    )
    out["age_years"] = np.round(age, 1)

    # pain
    pain = choose_exact(c["local_pain"], dep * 0.5 * (surg != "tes"), rng)
    out["local_pain"] = pain.astype(int)
    vas_pre = np.zeros(n, dtype=int)
    n_pain = int(pain.sum())
    vas_pre[pain] = rng.permutation(expand_counts(scaled_vector(VAS_PRE_PAIN, n_pain)).astype(int))
    vas_pre[~pain] = rng.permutation(
        expand_counts(scaled_vector(VAS_PRE_NO_PAIN, n - n_pain)).astype(int)
    )
    out["vas_pre"] = vas_pre
    out["vas_post"] = assign_by_rank(
        expand_counts(scaled_vector(VAS_POST, n)).astype(int),
        dep * (0.3 * vas_pre + 1.0 * abc_post) + standard_noise(rng, n),
    )

    # KPS six months after surgery
    kps_post = assign_by_rank(
        expand_counts(scaled_vector(KPS_POST, n)).astype(int),
        dep * (0.05 * kps_pre - 0.8 * abc_post - 0.3 * visceral) + standard_noise(rng, n),
    )
    out["kps_post"] = kps_post

    # operation time and blood loss by surgery type
    op_latent = dep * np.select(
        [tes, surg == "debulking", dec, vp], [3.0, 0.7, 0.0, -3.0], 0.0
    ) + standard_noise(rng, n)
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
    col = np.array([min(scaled_count(v, n, N_PUBLISHED), n) for v in SEGMENTS.values()])
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
