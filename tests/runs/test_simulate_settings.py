"""The simulation study honours prior=/prior.*/model.* overrides (they were silently ignored)."""

from __future__ import annotations

import dataclasses

import pytest

from bayes_bcsm.config import ConfigError, prior_spec
from bayes_bcsm.runs.simulate import study_settings as study_settings_of
from bayes_bcsm.settings import parse_settings
from tests.runs.conftest import compose_config

STUDY = "experiment=simulation_study"


def study_settings(cfg):
    return study_settings_of(parse_settings(cfg))


def test_default_study_uses_the_shipped_default_and_sceptical_options():
    settings = study_settings(compose_config([STUDY]))
    assert settings.priors["default"] == prior_spec(compose_config(["prior=default"]))
    assert settings.priors["sceptical"] == prior_spec(compose_config(["prior=sceptical"]))
    piecewise = parse_settings(compose_config(["model=piecewise"])).model
    assert settings.piecewise_cuts_months == tuple(c for c in piecewise.cuts.cuts_months if c > 0)
    assert settings.piecewise_cuts_months == (6.0, 12.0, 24.0, 36.0, 60.0)  # the study's cuts
    assert settings.baseline_prior == piecewise.baseline_prior


def test_prior_and_model_overrides_take_effect():
    settings = study_settings(
        compose_config(
            [STUDY, "prior=vague", "prior.sceptical_tail=0.1", "model.cuts_months=[0,12,24]"]
        )
    )
    vague = prior_spec(compose_config(["prior=vague"]))
    assert settings.priors["default"] == dataclasses.replace(vague, sceptical_tail=0.1)
    assert settings.priors["sceptical"].family == "sceptical"
    assert settings.priors["sceptical"].sceptical_tail == 0.1
    assert settings.piecewise_cuts_months == (12.0, 24.0)


def test_quantile_cuts_are_refused_with_the_key():
    with pytest.raises(ConfigError, match=r"model\.cut_method=quantile"):
        study_settings(compose_config([STUDY, "model.cut_method=quantile"]))
