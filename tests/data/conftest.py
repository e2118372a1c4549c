"""A small, hand-made valid cohort (not the reconstruction) for data-layer tests."""

from __future__ import annotations

import pandas as pd
import pytest


def valid_rows() -> pd.DataFrame:
    """Four patients that satisfy every contract rule, written as a CSV would hold them."""
    base = {
        "patient_id": ["P001", "P002", "P003", "P004"],
        "age_years": ["45.2", "61", "38.5", "50"],
        "breast_surgery_history": ["1", "0", "1", "1"],
        "interval_to_spinal_surgery_months": ["48", "12.5", "0", "100"],
        "local_pain": ["1", "1", "0", "1"],
        "vas_pre": ["6", "8", "3", "5"],
        "vas_post": ["1", "2", "0", "1"],
        "neurological_symptoms": ["0", "1", "1", "0"],
        "kps_pre": ["70", "40", "60", "80"],
        "kps_post": ["90", "60", "80", "90"],
        "asia_pre": ["E", "C", "D", "E"],
        "asia_post": ["E", "D", "D", "E"],
        "segment_cervical": ["0", "1", "0", "0"],
        "segment_thoracic": ["1", "1", "0", "1"],
        "segment_lumbar": ["0", "0", "1", "0"],
        "segment_sacrum": ["0", "0", "0", "1"],
        "solitary_spinal_lesion": ["1", "0", "0", "0"],
        "other_bone_metastasis": ["0", "1", "1", "1"],
        "visceral_metastasis": ["0", "1", "0", "0"],
        "pathology": ["idc", "ilc", "mucinous", "other"],
        "sins_score": ["8", "13", "6", "10"],
        "escc_grade": ["1a", "2", "0", "3"],
        "tomita_score": ["2", "7", "4", "3"],
        "tokuhashi_score": ["13", "7", "10", "12"],
        "surgery_type": ["debulking", "palliative_decompression", "tes", "vertebroplasty"],
        "operation_minutes": ["150", "95", "420", "45"],
        "blood_loss_ml": ["400", "100", "2100", "10"],
        "radiotherapy": ["1", "0", "1", "0"],
        "hormone_therapy": ["1", "0", "1", "1"],
        "chemo_or_targeted": ["0", "1", "1", "0"],
        "bone_agent": ["1", "1", "0", "1"],
        "hormone_receptor": ["positive", "", "positive", "negative"],
        "her2": ["positive", "", "negative", ""],
        "ki67": [">40", "", "10-40", ""],
        "time_months": ["50.5", "12", "80", "3.2"],
        "event": ["1", "1", "0", "0"],
    }
    return pd.DataFrame(base)


@pytest.fixture
def valid_frame() -> pd.DataFrame:
    return valid_rows()


@pytest.fixture
def write_csv(tmp_path):
    def _write(frame: pd.DataFrame, name: str = "cohort.csv"):
        path = tmp_path / name
        frame.to_csv(path, index=False)
        return path

    return _write
