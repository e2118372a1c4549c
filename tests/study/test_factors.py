"""The factor records agree with targets.yaml, the generator and the design layer."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_bcsm.data import build_design, derive_groupings, load_cohort
from bayes_bcsm.reconstruct import CALIBRATED_PARAMS
from bayes_bcsm.reconstruct.covariates import simulate_covariates
from bayes_bcsm.reconstruct.generator import DEFAULT_EFFECTS
from bayes_bcsm.reconstruct.survival import linear_predictor_columns
from bayes_bcsm.study import (
    GENERATOR_FACTORS,
    TABLE2_FACTORS,
    TABLE3_FACTORS,
    load_targets,
    table2_factor,
    table3_factor,
)
from tests.reconstruct.conftest import COHORT_CSV

TARGETS = load_targets()


def test_table3_records_follow_targets_order():
    assert [f.table3 for f in TABLE3_FACTORS] == [t.factor for t in TARGETS.table3]


def test_table2_records_follow_targets_and_cover_every_printed_level():
    assert [f.target for f in TABLE2_FACTORS] == [t.factor for t in TARGETS.table2]
    for factor in TABLE2_FACTORS:
        printed = [level.level for level in TARGETS.logrank(factor.target).levels]
        assert list(factor.labels) == printed, factor.target


def test_generator_indicators_exist():
    cov = simulate_covariates(78, np.random.default_rng(0), CALIBRATED_PARAMS)
    columns = set(linear_predictor_columns(cov).columns)
    for factor in GENERATOR_FACTORS:
        assert factor.indicator in DEFAULT_EFFECTS
        assert factor.indicator in columns


def test_design_columns_match_the_design_layer():
    frame = derive_groupings(load_cohort(COHORT_CSV).frame)
    design = build_design(frame, [f.cohort_column for f in TABLE3_FACTORS])
    assert list(design.columns) == [f.design_column for f in TABLE3_FACTORS]


def test_lookups_list_valid_names():
    assert table3_factor("hormone_therapy").design_column == "hormone_therapy"
    assert table2_factor("ki67").cohort_column == "ki67"
    with pytest.raises(KeyError, match="valid"):
        table3_factor("age")
    with pytest.raises(KeyError, match="valid"):
        table2_factor("nope")
