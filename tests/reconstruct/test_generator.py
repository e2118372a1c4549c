"""simulate_cohort: validity at any n, reproducibility by seed, effect overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data import validate_cohort
from bayes_bcsm.data.contract import REQUIRED_COLUMNS
from bayes_bcsm.reconstruct.generator import (
    CALIBRATED_PARAMS,
    TRUE_EFFECTS,
    GeneratorParams,
    format_cohort_csv,
    simulate_cohort,
    true_effects,
)
from bayes_bcsm.reconstruct.sampling import choose_exact, scaled_vector


@pytest.fixture(scope="module")
def big():
    return simulate_cohort(1000, 7)


def test_large_cohort_is_contract_valid(big):
    assert len(big) == 1000
    assert list(big.columns) == list(REQUIRED_COLUMNS)
    validate_cohort(big.astype(object).where(big.notna(), None))
    # published proportions scaled: 48/78 deaths, 47/78 endocrine therapy
    assert int(big["event"].sum()) == round(48 / 78 * 1000)
    assert int(big["hormone_therapy"].sum()) == round(47 / 78 * 1000)


def test_reproducible_by_seed(big):
    again = simulate_cohort(1000, 7)
    pd.testing.assert_frame_equal(big, again)
    other = simulate_cohort(1000, 8)
    assert not big["time_months"].equals(other["time_months"])


def test_generator_argument_accepted():
    a = simulate_cohort(50, np.random.default_rng(3))
    b = simulate_cohort(50, np.random.default_rng(3))
    assert format_cohort_csv(a) == format_cohort_csv(b)


@pytest.mark.parametrize("n", [1, 5, 40, 200])
def test_any_n(n):
    frame = simulate_cohort(n, 1)
    assert len(frame) == n
    assert frame["time_months"].gt(0).all()


def test_effects_override():
    params = CALIBRATED_PARAMS.with_effects({"hormone_therapy": 0.0})
    assert params.effects["hormone_therapy"] == 0.0
    assert CALIBRATED_PARAMS.effects["hormone_therapy"] != 0.0
    null = simulate_cohort(400, 11, effects={"hormone_therapy": 0.0})
    base = simulate_cohort(400, 11)
    # same covariates (same seed), different survival
    assert null["hormone_therapy"].equals(base["hormone_therapy"])
    assert not null["time_months"].equals(base["time_months"])
    with pytest.raises(KeyError, match="valid names"):
        simulate_cohort(10, 0, effects={"no_such_effect": 1.0})


def test_effect_direction_recovered():
    """A strong protective effect shows as longer median time among the treated (n = 2000)."""
    frame = simulate_cohort(2000, 5, effects={"hormone_therapy": -1.5})
    treated = frame.loc[frame["hormone_therapy"] == 1, "time_months"].median()
    untreated = frame.loc[frame["hormone_therapy"] == 0, "time_months"].median()
    assert treated > untreated


def test_true_effects_exposed():
    assert set(true_effects()) == set(TRUE_EFFECTS)
    assert true_effects() == CALIBRATED_PARAMS.effects == TRUE_EFFECTS
    assert TRUE_EFFECTS["hormone_therapy"] < 0


def test_params_round_trip():
    p = CALIBRATED_PARAMS
    assert GeneratorParams.from_dict(p.to_dict()) == p
    with pytest.raises(KeyError, match="valid"):
        GeneratorParams.from_dict({"nope": 1})


def test_choose_exact_and_scaling():
    rng = np.random.default_rng(0)
    chosen = choose_exact(5, np.zeros(20), rng, eligible=np.arange(20) < 3)
    assert chosen.sum() == 5 and chosen[:3].all()
    assert sum(scaled_vector({"a": 65, "b": 4, "c": 9}, 1000).values()) == 1000
