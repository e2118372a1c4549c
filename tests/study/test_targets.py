"""The packaged transcription of the paper's figures, ``targets.yaml``, parses."""

from __future__ import annotations

import pytest

from bayes_bcsm.study import load_targets


def test_parsed_values():
    t = load_targets()
    assert (t.n, t.deaths, t.alive) == (78, 48, 30)
    assert t.survival_at == {6.0: 0.949, 12.0: 0.923, 36.0: 0.694, 60.0: 0.470}
    assert t.logrank("hormone_therapy").p_value == 0.025
    assert t.hazard_ratio("hormone_therapy").hr == 0.070
    assert len([f for f in t.table2 if f.levels]) == 15
    assert len(t.table2) == 19
    with pytest.raises(KeyError, match="valid"):
        t.logrank("nope")


def test_load_from_path(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_targets(tmp_path / "missing.yaml")


def test_accrual_months():
    """2010-07 -> 2021-12 as printed in the abstract: 11 years and 5 months."""
    t = load_targets()
    assert t.accrual == ("2010-07", "2021-12")
    assert t.accrual_months == 137.0
