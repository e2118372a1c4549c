"""The study's estimands are computed once per configuration (issue 25): a default study takes
them from the entry shipped with the package, another configuration computes them once and
then reads them from the user cache, and a changed configuration never reuses stale ones."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from bayes_bcsm.runs import simulate as simulate_run
from bayes_bcsm.settings import parse_settings
from bayes_bcsm.simulation import estimand_cache
from bayes_bcsm.simulation.estimand_cache import EstimandCacheWarning
from tests.runs.conftest import compose_config

DOCS = Path(__file__).resolve().parents[2] / "docs" / "simulation" / "estimands.json"


def _settings(overrides=()):
    run = parse_settings(compose_config(["experiment=simulation_study", *overrides]))
    sim = run.simulation
    pool = (sim.estimand_cohorts, sim.estimand_redraws)
    return simulate_run.study_settings(run), sim.estimand_n, sim.estimand_seed, pool


@pytest.fixture
def calls(monkeypatch, tmp_path):
    """A private user cache and memo; ``compute_estimands`` replaced by a recorder returning a
    recognisable result (the real one takes 13 minutes at the default pool)."""
    monkeypatch.setenv("BAYES_BCSM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(simulate_run, "_ESTIMANDS_MEMO", {})
    made = []

    def fake(settings, n, seed, pool, workers):
        made.append((n, seed, pool))
        effect = -0.5 - len(made) / 100  # a different answer per computation
        truth = {
            "effects": {"hormone_therapy": effect},
            "values": {"cox": {"hormone_therapy": effect}},
            "mcse": {"cox": {"hormone_therapy": 0.001}},
            "n": n,
            "n_used": n,
            "n_events": n // 2,
        }
        return {
            "scenario_effects": {"null_table3": {"hormone_therapy": effect}},
            "pseudo_true": {"calibrated": truth},
            "seconds": 1.0,
        }

    monkeypatch.setattr(simulate_run, "compute_estimands", fake)
    return made


def _estimands(tmp_path, name, overrides=()):
    settings, n, seed, pool = _settings(overrides)
    return simulate_run.study_estimands(settings, n, seed, tmp_path / name, pool)


def test_default_study_takes_the_shipped_estimands(calls, tmp_path):
    settings, truths, source = _estimands(tmp_path, "study")
    assert calls == []  # nothing computed
    assert source.startswith("shipped with the package (simulation_estimands.json")
    docs = json.loads(DOCS.read_text())
    assert settings.scenario_effects == docs["scenario_effects"]
    assert {s: t.to_dict() for s, t in truths.items()} == docs["pseudo_true"]
    # the study folder gets its estimands.json, equal to the committed study's
    assert json.loads((tmp_path / "study" / "estimands.json").read_text()) == docs


def test_shipped_entry_is_the_committed_studys_estimands():
    shipped = json.loads(estimand_cache.shipped_path().read_text())
    docs = json.loads(DOCS.read_text())
    assert shipped["algorithm"] == estimand_cache.ESTIMANDS_ALGORITHM
    assert {k: shipped[k] for k in docs} == docs


@pytest.mark.parametrize(
    "change",
    [
        "simulation.estimand_seed=2",
        "simulation.estimand_redraws=3",
        "simulation.estimand_n=50000",
        "model.cuts_months=[0,6,12,36,60]",
        "covariates.names=[preop_neuro_dysfunction,hormone_receptor,hormone_therapy]",
    ],
)
def test_a_changed_configuration_never_reuses_stale_estimands(calls, tmp_path, change):
    first, _, source = _estimands(tmp_path, "a", [change])
    assert len(calls) == 1 and source.startswith("computed in this run")
    # a new folder and a new process (memo cleared): read back from the user cache
    simulate_run._ESTIMANDS_MEMO.clear()
    again, _, source = _estimands(tmp_path, "b", [change])
    assert len(calls) == 1 and source.startswith("the user cache (")
    assert again.scenario_effects == first.scenario_effects
    # the default configuration still gets the shipped values, not the cached ones
    default, _, source = _estimands(tmp_path, "c")
    assert source.startswith("shipped") and default.scenario_effects != first.scenario_effects
    # an old study folder holding the changed configuration's estimands is not reused either
    (tmp_path / "c" / "estimands.json").write_text((tmp_path / "a" / "estimands.json").read_text())
    _, _, source = _estimands(tmp_path, "c")
    assert source.startswith("shipped")


def test_changing_the_generator_recomputes(calls, tmp_path):
    import dataclasses

    from bayes_bcsm.reconstruct import CALIBRATED_PARAMS

    settings, n, seed, pool = _settings()
    moved = CALIBRATED_PARAMS.with_effects({"hormone_therapy": -1.0})
    settings = dataclasses.replace(settings, generator_params=moved)
    _, _, source = simulate_run.study_estimands(settings, n, seed, tmp_path / "g", pool)
    assert len(calls) == 1 and source.startswith("computed in this run")


def test_a_corrupt_or_foreign_cache_entry_is_ignored_with_a_warning(calls, tmp_path):
    change = ["simulation.estimand_seed=5"]
    _estimands(tmp_path, "a", change)
    settings, n, seed, pool = _settings(change)
    path = estimand_cache.user_cache_path(simulate_run.estimand_key(settings, n, seed, pool))
    assert path.is_file()
    path.write_text('{"key": ')  # truncated
    simulate_run._ESTIMANDS_MEMO.clear()
    with pytest.warns(EstimandCacheWarning, match=str(path)):
        _, _, source = _estimands(tmp_path, "b", change)
    assert len(calls) == 2 and source.startswith("computed in this run")
    # an entry written by another version of the computation is not used (no warning)
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({**entry, "algorithm": estimand_cache.ESTIMANDS_ALGORITHM + 1}))
    simulate_run._ESTIMANDS_MEMO.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, _, source = _estimands(tmp_path, "c", change)
    assert len(calls) == 3 and source.startswith("computed in this run")


def test_an_unwritable_cache_folder_does_not_stop_the_study(calls, tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    monkeypatch.setenv("BAYES_BCSM_CACHE_DIR", str(blocker))
    with pytest.warns(EstimandCacheWarning, match="could not store"):
        _, _, source = _estimands(tmp_path, "a", ["simulation.estimand_seed=9"])
    assert source == "computed in this run in 1 s" and len(calls) == 1
    assert (tmp_path / "a" / "estimands.json").is_file()
