"""Shared fixtures: the committed reconstructed cohort and its config."""

from __future__ import annotations

import pytest

from bayes_bcsm.data import derive_groupings, load_cohort
from bayes_bcsm.resources import bundled_cohort, reconstruction_config

COHORT_CSV = bundled_cohort()
CONFIG_YAML = reconstruction_config()


@pytest.fixture(scope="session")
def committed():
    """The committed cohort (typed) with the derived groupings added."""
    return derive_groupings(load_cohort(COHORT_CSV).frame)
