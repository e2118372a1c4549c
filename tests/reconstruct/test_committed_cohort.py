"""The committed reconstruction: bit-identical regeneration and Table 1 counts.

Expected values are the published counts of Hu et al. (2025), Table 1 (as transcribed in
``targets.yaml``); the generator assigns them exactly, so the tolerance is zero.
"""

from __future__ import annotations

import pytest

from bayes_bcsm.data.contract import REQUIRED_COLUMNS
from bayes_bcsm.reconstruct.generator import CALIBRATED_PARAMS, CALIBRATED_SEED
from bayes_bcsm.runs.calibrate import read_config, regenerate
from bayes_bcsm.study import load_targets

from .conftest import COHORT_CSV, CONFIG_YAML

T1 = load_targets().table1


def test_regeneration_is_bit_identical():
    assert regenerate(CONFIG_YAML) == COHORT_CSV.read_text()


def test_config_matches_package_constants():
    n, seed, params, _ = read_config(CONFIG_YAML)
    assert n == 78
    assert seed == CALIBRATED_SEED
    assert params == CALIBRATED_PARAMS


def test_shape_and_columns(committed):
    assert len(committed) == 78
    assert list(COHORT_CSV.read_text().splitlines()[0].split(",")) == list(REQUIRED_COLUMNS)


def test_deaths(committed):
    assert int(committed["event"].sum()) == 48


@pytest.mark.parametrize(
    ("column", "key"),
    [
        ("breast_surgery_history", "history_of_breast_surgery"),
        ("local_pain", "local_pain"),
        ("neurological_symptoms", "neurological_dysfunction"),
        ("solitary_spinal_lesion", "solitary_spinal_lesion"),
    ],
)
def test_binary_counts(committed, column, key):
    assert int(committed[column].sum()) == T1[key]


def test_segments_and_metastasis(committed):
    for segment, count in T1["segments"].items():
        assert int(committed[f"segment_{segment}"].sum()) == count
    assert int(committed["other_bone_metastasis"].sum()) == T1["metastasis"]["other_bones"]
    assert int(committed["visceral_metastasis"].sum()) == T1["metastasis"]["visceral"]
    spine_only = (committed["metastasis_spine_only"] == "yes").sum()
    assert spine_only == T1["metastasis"]["spine_only"]


def test_adjuvant_counts(committed):
    for column, count in T1["adjuvant"].items():
        assert int(committed[column].sum()) == count, column


def _counts(series):
    return {str(k): int(v) for k, v in series.value_counts().items() if v}


def test_categorical_counts(committed):
    assert _counts(committed["pathology"]) == T1["pathology"]
    assert _counts(committed["sins_group"]) == {"<=6": 3, "7-12": 45, ">=13": 30}
    assert _counts(committed["escc_group"]) == {"0-1": 35, "2-3": 43}
    assert _counts(committed["tomita_group"]) == T1["tomita"]
    assert _counts(committed["tokuhashi_group"]) == T1["tokuhashi"]
    assert _counts(committed["surgery_type"]) == {
        "tes": 5,
        "debulking": 48,
        "palliative_decompression": 20,
        "vertebroplasty": 5,
    }


def test_table2_group_sizes(committed):
    assert _counts(committed["age_group"]) == {"<=50": 38, ">50": 40}
    assert _counts(committed["preop_neuro_dysfunction"]) == {"A-C": 16, "D-E": 62}
    assert _counts(committed["postop_neuro_dysfunction"]) == {"A-C": 16, "D-E": 62}
    assert _counts(committed["pathology_group"]) == {"invasive": 69, "low-invasive": 9}
    assert _counts(committed["kps_post_group"]) == {">=70": 54, "<70": 24}
    assert _counts(committed["hormone_receptor"]) == {"positive": 48, "negative": 5}
    assert _counts(committed["her2"]) == {"positive": 41, "negative": 4}
    assert _counts(committed["ki67"]) == {">40": 16, "10-40": 17, "<10": 9}


def test_coherence(committed):
    # ASIA A-C before surgery only among the 30 with neurological symptoms
    abc_pre = committed["asia_pre"].isin(["A", "B", "C"])
    abc_post = committed["asia_post"].isin(["A", "B", "C"])
    assert (committed.loc[abc_pre, "neurological_symptoms"] == 1).all()
    assert (committed.loc[abc_post, "neurological_symptoms"] == 1).all()
    # endocrine therapy never for a tested receptor-negative patient
    c = committed
    assert not ((c["hormone_therapy"] == 1) & (c["hormone_receptor"] == "negative")).any()
    # visceral within other bone metastasis; solitary lesions have no extraspinal bone disease
    assert not ((c["visceral_metastasis"] == 1) & (c["other_bone_metastasis"] == 0)).any()
    assert not ((c["solitary_spinal_lesion"] == 1) & (c["other_bone_metastasis"] == 1)).any()
    # HER2 / Ki-67 only known where the receptor status is known (IHC done)
    assert committed.loc[committed["her2"].notna(), "hormone_receptor"].notna().all()
    assert committed.loc[committed["ki67"].notna(), "hormone_receptor"].notna().all()
    # blood loss ordered by surgery type (medians)
    med = committed.groupby("surgery_group", observed=True)["blood_loss_ml"].median()
    assert med["tes"] > med["debulking"] > med["palliative"]
