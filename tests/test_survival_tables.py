"""Survival tables of a card's cohort (``reproduce`` on a card other than the study's)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data.card import card_from_mapping, load_with_card
from bayes_bcsm.resources import bundled_file
from bayes_bcsm.survival_tables import cohort_tables

GBSG2 = bundled_file("gbsg2.csv")
CARD = {
    "time_column": "time",
    "time_unit": "days",
    "event_column": "cens",
    "covariates": {
        "horTh": {"kind": "binary", "levels": ["no", "yes"], "label": "hormone therapy"},
        "tgrade": {"kind": "categorical", "levels": ["I", "II", "III"], "label": "grade"},
    },
}


def test_a_binary_group_is_named_by_its_levels_in_tables_and_curves():
    """GBSG2's horTh declared binary [no, yes]: the Kaplan-Meier rows and curves say no / yes
    (not 0 / 1), their medians are lifelines' on the file's own groups (same product-limit
    estimate, so equal to rounding), and the Cox rows name the comparison."""
    from lifelines import KaplanMeierFitter

    card = card_from_mapping("g", CARD)
    cohort = load_with_card(card, GBSG2)
    tables = cohort_tables(cohort.frame, ["horTh"], ["horTh", "tgrade"], card=card)
    km = tables.km.set_index("level")
    assert list(km.index) == ["no", "yes"]
    assert list(tables.figures[0].curves) == ["horTh = no", "horTh = yes"]
    raw = pd.read_csv(GBSG2)
    for level in ("no", "yes"):
        part = raw[raw["horTh"] == level]
        oracle = KaplanMeierFitter().fit(part["time"], part["cens"]).median_survival_time_
        assert km.loc[level, "median_months"] == pytest.approx(oracle * 12 / 365.25, rel=1e-12)
    assert list(tables.hazard_ratios["label"]) == [
        "hormone therapy: yes vs no",
        "grade: II vs I",
        "grade: III vs I",
    ]
    assert np.all(tables.hazard_ratios["covariate"] == ["horTh", "tgrade[II]", "tgrade[III]"])
    assert list(tables.hazard_ratios["contrast"]) == [
        "yes vs no (reference)",
        "II vs I (reference)",
        "III vs I (reference)",
    ]
