"""Issue 20: reference levels named beyond the row labels, in a foreign card's words.

Expected strings are written out by hand from the card below (levels, labels, reference,
``hr_per``), not produced by the code under test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from bayes_bcsm.data.card import card_from_mapping, load_with_card
from bayes_bcsm.data.design import build_design
from bayes_bcsm.data.labels import covariate_contrasts, covariate_labels, reference_levels
from bayes_bcsm.frequentist import cox_ph_design
from bayes_bcsm.frequentist.cox import SparseLevelWarning
from bayes_bcsm.hazard_ratios import HR_COLUMNS, cox_rows, with_labels

CARD = {
    "title": "A foreign cohort",
    "time_column": "weeks",
    "time_unit": "weeks",
    "event_column": "status",
    "covariates": {
        "horth": {"kind": "binary", "levels": ["no", "yes"], "label": "hormone therapy"},
        "grade": {"kind": "categorical", "levels": ["I", "II", "III"], "reference": "II"},
        "age": {"kind": "continuous", "unit": "years", "hr_per": 10},
    },
}


def _design(tmp_path):
    frame = pd.DataFrame(
        {
            "weeks": [5, 10, 20, 30, 40, 52, 60, 70, 80, 90],
            "status": [1, 1, 0, 1, 0, 1, 1, 0, 1, 1],
            "horth": ["no", "yes", "yes", "no", "no", "yes", "no", "yes", "no", "yes"],
            "grade": ["I", "II", "III", "I", "II", "III", "II", "I", "III", "II"],
            "age": [40, 55, 61, 38, 70, 52, 47, 66, 59, 44],
        }
    )
    frame.to_csv(tmp_path / "cohort.csv", index=False)
    card = card_from_mapping("foreign", CARD)
    cohort = load_with_card(card, tmp_path / "cohort.csv")
    return build_design(cohort.frame, ["horth", "grade", "age"]), card


def test_each_contrast_names_its_reference(tmp_path):
    design, card = _design(tmp_path)
    assert covariate_contrasts(design.terms, card) == {
        "horth": "yes vs no (reference)",
        "grade[I]": "I vs II (reference)",
        "grade[III]": "III vs II (reference)",
        "age": "per 10 years",
    }
    assert reference_levels(design.terms, card) == (
        "Reference levels (each HR compares a level with it): hormone therapy: no; grade: II. "
        "HRs of continuous covariates: age per 10 years."
    )


def test_hazard_ratio_rows_carry_the_contrast(tmp_path):
    """The ``contrast`` column of ``hazard_ratios.csv`` beside the row label."""
    design, card = _design(tmp_path)
    with pytest.warns(SparseLevelWarning):  # ten patients, three grades
        cox = cox_ph_design(design)
    rows = with_labels(
        cox_rows(cox, "cox", design.n_patients),
        covariate_labels(design.terms, card),
        covariate_contrasts(design.terms, card),
    )
    assert list(rows.columns) == list(HR_COLUMNS)
    named = dict(zip(rows["label"], rows["contrast"], strict=True))
    assert named == {
        "hormone therapy: yes vs no": "yes vs no (reference)",
        "grade: I vs II": "I vs II (reference)",
        "grade: III vs II": "III vs II (reference)",
        "age (per 10 years)": "per 10 years",
    }


def test_columns_the_card_does_not_describe_still_name_a_reference():
    """The study's contract has no card words: a 0/1 column compares 1 with 0, a continuous one
    is per unit of its column."""
    frame = pd.DataFrame(
        {
            "time_months": [1.0, 2.0, 3.0, 4.0, 5.0],
            "event": [1, 0, 1, 1, 1],
            "therapy": [0.0, 1.0, 1.0, 0.0, 1.0],
            "size_mm": [10.0, 20.0, 15.0, 30.0, 25.0],
        }
    )
    design = build_design(frame, ["therapy", "size_mm"])
    card = card_from_mapping("bcsm", {"title": "x", "study": True})
    assert covariate_contrasts(design.terms, card) == {
        "therapy": "1 vs 0 (reference)",
        "size_mm": "per unit of size_mm",
    }
    assert reference_levels(design.terms, card) == (
        "Reference levels (each HR compares a level with it): therapy: 0. "
        "HRs of continuous covariates: size_mm per unit of its column."
    )
