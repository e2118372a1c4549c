"""Shared fixtures: the committed reconstructed cohort and its config."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bayes_bcsm.data import derive_groupings, load_cohort
from bayes_bcsm.resources import bundled_cohort, reconstruction_config

ROOT = Path(__file__).resolve().parents[2]
COHORT_CSV = bundled_cohort()
CONFIG_YAML = reconstruction_config()
SHARED_TARGETS = ROOT.parent / "shared" / "paper" / "targets.yaml"


@pytest.fixture(scope="session")
def committed():
    """The committed cohort (typed) with the derived groupings added."""
    return derive_groupings(load_cohort(COHORT_CSV).frame)


@pytest.fixture(scope="session")
def calibrate_script():
    """The experiments/calibrate.py module (a plain script, imported by path)."""
    sys.path.insert(0, str(ROOT / "experiments"))
    try:
        import calibrate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return calibrate
