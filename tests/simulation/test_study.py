"""The simulation study end to end: quick configuration, resume after a kill, crashed shards.

One module-scoped uninterrupted run (4 replicates, 2 shards per scenario, sampler=quick,
n = 78, all three scenarios, all seven methods) is the reference the other tests compare with.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.config import SIMULATION_METHODS, SIMULATION_SCENARIOS, ConfigError
from bayes_bcsm.data import build_design, derive_groupings
from bayes_bcsm.reconstruct import TRUE_EFFECTS, simulate_cohort
from bayes_bcsm.runs import simulate as simulate_run
from bayes_bcsm.simulation import estimators, study
from bayes_bcsm.simulation.metrics import REPLICATE_COLUMNS
from tests.runs.conftest import compose_config, parse_report

TABLE3 = [
    "preop_neuro_dysfunction[A-C]",
    "postop_neuro_dysfunction[A-C]",
    "hormone_receptor[positive]",
    "hormone_therapy",
]
METRICS = [
    "bias",
    "rmse",
    "coverage",
    "mean_width",
    "rejection_rate",
    "share_hr_below_0_1",
    "share_hr_above_10",
    "selected_share",
]
DETERMINISTIC = [*REPLICATE_COLUMNS, "note"]  # everything but the wall-clock seconds


def read_csv(path):
    """Read a study table; "null" is a scenario name, only empty fields are missing."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def quick_cfg(run_dir, overrides=(), sbc_replicates=0):
    """The quick study: 4 replicates in shards of 2, sampler=quick, run folder ``run_dir``."""
    cfg = compose_config(
        [
            "experiment=simulation_study",
            "sampler=quick",
            "simulation.replicates=4",
            "simulation.shard_size=2",
            f"simulation.run_dir={run_dir}",
            f"simulation.sbc_replicates={sbc_replicates}",
            "simulation.estimand_n=5000",
            "simulation.estimand_cohorts=2",  # the pool's plumbing, not its size
            "simulation.estimand_redraws=1",
            # one process: spawning workers (each compiling its models) costs more than this
            # tiny study (tests/simulation/test_metrics_shards.py runs shards in two)
            "simulation.workers=1",
            "report.plots=true",
            *overrides,
        ]
    )
    return cfg


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """An uninterrupted quick study, with 4 SBC replicates per Bayesian model (the plumbing;
    SBC itself is tested in test_sbc.py)."""
    root = tmp_path_factory.mktemp("sim")
    cfg = quick_cfg(root / "study", sbc_replicates=4)
    return cfg, simulate_run.run(cfg, root / "hydra_out")


def test_composed_experiment_matches_the_schema_defaults():
    cfg = compose_config(["experiment=simulation_study"])
    assert cfg.experiment_name == "simulation_study"
    assert cfg.simulation.replicates == 150
    assert cfg.simulation.estimand_n >= 100_000
    # issue 20: the endocrine estimand's MCSE about 0.001, a tenth of the smallest bias MCSE
    assert cfg.simulation.estimand_cohorts * cfg.simulation.estimand_n >= 3_000_000
    assert list(cfg.simulation.n) == [78]
    assert list(cfg.simulation.scenarios) == list(SIMULATION_SCENARIOS)
    assert list(cfg.simulation.methods) == list(SIMULATION_METHODS)
    assert study.METHODS == SIMULATION_METHODS and study.SCENARIOS == SIMULATION_SCENARIOS


def test_truth_map_follows_the_generator_and_the_null_scenario():
    frame = derive_groupings(simulate_cohort(78, 1))
    design = build_design(
        frame,
        [
            "preop_neuro_dysfunction",
            "postop_neuro_dysfunction",
            "hormone_receptor",
            "hormone_therapy",
        ],
    )
    calibrated = study.true_log_hrs(design, "calibrated")
    assert calibrated == {
        "preop_neuro_dysfunction[A-C]": TRUE_EFFECTS["preop_neuro_abc"],
        "postop_neuro_dysfunction[A-C]": TRUE_EFFECTS["postop_neuro_abc"],
        "hormone_receptor[positive]": TRUE_EFFECTS["hormone_receptor_positive"],
        "hormone_therapy": TRUE_EFFECTS["hormone_therapy"],
    }
    null = study.true_log_hrs(design, "null_conditional")
    assert null["hormone_therapy"] == 0.0
    assert {k: v for k, v in null.items() if k != "hormone_therapy"} == {
        k: v for k, v in calibrated.items() if k != "hormone_therapy"
    }
    # a reversed reference level negates the effect
    flipped = build_design(frame, ["hormone_receptor"], reference={"hormone_receptor": "positive"})
    assert study.true_log_hrs(flipped, "calibrated") == {
        "hormone_receptor[negative]": -TRUE_EFFECTS["hormone_receptor_positive"]
    }
    with pytest.raises(ValueError, match="no true effect"):
        study.true_log_hrs(build_design(frame, ["tomita_group"]), "calibrated")
    # null_table3's effect is computed (root-finding), not fixed: without it, a clear error
    with pytest.raises(ValueError, match="null_table3_effect"):
        study.true_log_hrs(design, "null_table3")
    settings = study.StudySettings(
        base_seed=1,
        methods=("cox_table3",),
        scenario_effects={"null_table3": {"hormone_therapy": -0.1}},
    )
    assert study.true_log_hrs(design, "null_table3", settings=settings)["hormone_therapy"] == -0.1


def test_merged_shards_are_scored_against_the_folders_estimands():
    """Issue 20: the estimands are recomputed on a larger pool without refitting a replicate;
    each row's true_method is its method target's value in the study's estimands (Cox, Firth
    and the selection share the Cox target), whatever the shard file held, and NaN where the
    estimands have none."""
    rows = pd.DataFrame(
        {
            "scenario": ["calibrated"] * 4 + ["null_table3"],
            "method": [
                "cox_table3",
                "firth_table3",
                "weibull_default",
                "piecewise_default",
                "cox_table3",
            ],
            "covariate": ["x"] * 5,
            "true_method": [9.0, np.nan, 9.0, 9.0, 9.0],
            "estimate": [0.1, 0.2, 0.3, 0.4, 0.5],
        }
    )
    settings = study.StudySettings(
        base_seed=1,
        methods=("cox_table3",),
        pseudo_true={"calibrated": {"cox": {"x": -1.0}, "weibull": {"x": -0.9}}},
    )
    scored = study.with_estimands(rows, settings)
    np.testing.assert_array_equal(scored["true_method"], [-1.0, -1.0, -0.9, np.nan, np.nan])
    assert scored["estimate"].tolist() == rows["estimate"].tolist()
    assert rows["true_method"].iloc[0] == 9.0  # the input is not modified


def test_replicate_cohort_is_seeded_by_scenario_n_and_index():
    settings = study.StudySettings(base_seed=5, methods=("cox_table3",))
    a = study.replicate_cohort(settings, "null_conditional", 78, 3)
    pd.testing.assert_frame_equal(a, study.replicate_cohort(settings, "null_conditional", 78, 3))
    other = study.replicate_cohort(settings, "null_conditional", 78, 4)
    assert not a["time_months"].equals(other["time_months"])


def test_a_failing_method_is_recorded_not_raised(monkeypatch):
    settings = study.StudySettings(base_seed=1, methods=("cox_table3", "firth_table3"))

    def boom(*args, **kwargs):
        raise RuntimeError("singular information")

    monkeypatch.setattr(estimators, "cox_ph_design", boom)
    rows = study.simulate_replicate(settings, "calibrated", 78, 0)
    assert len(rows) == 2 * 4
    assert (rows["failed"] == 1).all() and rows["estimate"].isna().all()
    assert rows["note"].str.contains("singular information").all()


def test_quick_study_end_to_end(reference_run):
    cfg, result = reference_run
    assert cfg.experiment_name == "simulation_study"
    agg = read_csv(result.run_dir / "aggregate.csv")
    keys = agg[["scenario", "method", "covariate", "fits"]]
    assert len(agg) == 2 * len(SIMULATION_SCENARIOS) * len(SIMULATION_METHODS) * len(TABLE3)
    assert not keys.duplicated().any()
    assert set(agg["method"]) == set(SIMULATION_METHODS)
    assert set(agg["covariate"]) == set(TABLE3)
    assert set(agg["scenario"]) == set(SIMULATION_SCENARIOS)
    assert (agg["n"] == 78).all() and (agg["n_replicates"] == 4).all()
    for column in METRICS:
        assert column in agg.columns
    # metrics exist wherever the method estimated the covariate (selection may drop it)
    always = agg[(agg["method"] != "cox_selection") & (agg["fits"] == "excluding_failed")]
    assert always[["bias", "rmse", "coverage", "mean_width", "rejection_rate"]].notna().all().all()
    assert (always["selected_share"] == 1).all()
    assert agg[["coverage", "rejection_rate", "selected_share"]].stack().between(0, 1).all()
    # the null scenarios' endocrine rejection rates are type-I errors (two senses)
    primary = agg[agg["fits"] == "excluding_failed"]
    ht = primary[primary["covariate"] == "hormone_therapy"].set_index(["scenario", "method"])
    assert (ht.loc["null_table3", "rejection_kind"] == "type_I_table3").all()
    assert (ht.loc["null_conditional", "rejection_kind"] == "type_I_conditional").all()
    assert (ht.loc["calibrated", "rejection_kind"] == "power").all()
    assert np.allclose(ht.loc["calibrated", "true_conditional"], TRUE_EFFECTS["hormone_therapy"])
    # each method's estimand: the Table 3 target is far from the conditional effect, and
    # null_table3's Cox target is 0 within the root-finding tolerance
    assert (ht.loc["calibrated", "true_method"] > TRUE_EFFECTS["hormone_therapy"] + 0.2).all()
    assert abs(ht.loc[("null_table3", "cox_table3"), "true_method"]) < 0.01
    assert ht.loc[("null_conditional", "cox_table3"), "true_method"] > 0.02
    assert ht.loc[("null_table3", "cox_table3"), "true_conditional"] < 0
    estimands = read_csv(result.run_dir / "estimands.csv")
    assert set(estimands["target"]) == {"cox", "weibull", "piecewise"}
    assert (estimands["n"] == 5000).all()
    # the procedure's rejection rate counts a covariate dropped by selection as not rejected
    overall = ht["rejection_rate_overall"]
    assert np.allclose(overall, ht["rejection_rate"] * ht["selected_share"], equal_nan=True)
    assert np.allclose(
        overall.drop(index="cox_selection", level="method"),
        ht["rejection_rate"].drop(index="cox_selection", level="method"),
    )
    # almost every fit passes its convergence checks, even with sampler=quick
    rows = result.replicates
    assert (rows["failed"] == 0).mean() > 0.9
    status = read_csv(result.run_dir / "shard_status.csv")
    assert len(status) == 6 and (status["state"] == "done").all()
    # report: Markdown + self-contained HTML + PNGs, SBC included
    for folder in (result.run_dir, result.run_dir.parent / "hydra_out"):
        assert (folder / "report.md").exists() and (folder / "aggregate.csv").exists()
    report = parse_report(result.run_dir / "report.html")
    assert all(src.startswith("data:image/png;base64,") for src in report.images)
    assert len(report.images) == 5  # coverage, bias, estimates, design analysis, SBC ranks
    assert "Results in plain language" in report.headings
    assert "Simulation-based calibration" in report.headings
    assert "Design analysis: closed form against the replicates" in report.headings
    assert ht.loc["calibrated", "design_exaggeration"].notna().all()
    text = (result.run_dir / "report.md").read_text()
    assert "type-I error" in text and "selection procedure kept endocrine therapy" in text
    # where the estimands came from (issue 25): computed here, or a cache of an earlier test
    assert result.estimands_source in text and (
        result.estimands_source.startswith(("computed in this run", "the user cache ("))
    )
    assert "What each method estimates" in report.headings
    assert "Failed fits" in report.headings
    for name in ("coverage_n78.png", "bias_n78.png", "sbc_ranks.png"):
        assert (result.run_dir / name).stat().st_size > 0
    sbc = read_csv(result.run_dir / "sbc_ranks.csv")
    assert set(sbc["method"]) == set(study.BAYESIAN_METHODS)
    assert sbc["rank"].between(0, 99).all()


@pytest.mark.slow
def test_two_workers_run_shards_and_sbc_with_the_same_numbers(reference_run, tmp_path):
    """Issue 25: with ``simulation.workers=2`` the shards and then each Bayesian model's SBC
    run in the same two worker processes; the replicates and the SBC ranks are those of the
    one-process reference run (seeds do not depend on where a job runs)."""
    _, reference = reference_run
    cfg = quick_cfg(tmp_path / "study", ["simulation.workers=2"], sbc_replicates=4)
    result = simulate_run.run(cfg, tmp_path / "hydra_out")
    pd.testing.assert_frame_equal(
        result.replicates[DETERMINISTIC], reference.replicates[DETERMINISTIC]
    )
    for name in ("ranks", "uniformity"):
        pd.testing.assert_frame_equal(result.sbc[name], reference.sbc[name])


def test_rerun_after_a_kill_completes_only_missing_shards_and_matches(reference_run, tmp_path):
    _, reference = reference_run
    shards = sorted((reference.run_dir / "shards").glob("*.csv"))
    assert len(shards) == 6
    run_dir = tmp_path / "study"
    (run_dir / "shards").mkdir(parents=True)
    shutil.copy(reference.run_dir / "study.json", run_dir / "study.json")
    # two shards finished before the kill; a third was being written (temporary file only)
    for done in (shards[0], shards[3]):
        shutil.copy(done, run_dir / "shards" / done.name)
    (run_dir / "shards" / (shards[1].stem + ".csv.tmp")).write_text("scenario,n\ncalibr")
    cfg2 = quick_cfg(run_dir)
    partial = simulate_run.run(cfg2, tmp_path / "out")
    states = dict(zip(partial.run_status["shard"], partial.run_status["state"], strict=True))
    assert states == {
        shard.stem: "skipped" if i in (0, 3) else "done" for i, shard in enumerate(shards)
    }
    pd.testing.assert_frame_equal(
        partial.replicates[DETERMINISTIC], reference.replicates[DETERMINISTIC]
    )
    pd.testing.assert_frame_equal(
        read_csv(run_dir / "aggregate.csv"), read_csv(reference.run_dir / "aggregate.csv")
    )


def test_crashed_shard_is_reported_and_aggregation_goes_on(reference_run, tmp_path, monkeypatch):
    _, reference = reference_run
    run_dir = tmp_path / "study"
    (run_dir / "shards").mkdir(parents=True)
    shutil.copy(reference.run_dir / "study.json", run_dir / "study.json")
    shards = sorted((reference.run_dir / "shards").glob("*.csv"))
    for done in shards[1:]:
        shutil.copy(done, run_dir / "shards" / done.name)

    def crash(settings, spec):
        raise MemoryError(f"killed while running {spec.name}")

    monkeypatch.setattr(study, "run_shard", crash)
    result = simulate_run.run(quick_cfg(run_dir), tmp_path / "out")
    status = read_csv(run_dir / "shard_status.csv").set_index("shard")
    assert status.loc[shards[0].stem, "state"] == "failed"
    assert "killed while running" in status.loc[shards[0].stem, "message"]
    assert (status.drop(index=shards[0].stem)["state"] == "done").all()
    assert (run_dir / "shards" / f"{shards[0].stem}.failed.json").exists()
    # the other shards are aggregated; the report says the results are provisional
    assert len(result.aggregate) and (result.aggregate["n_replicates"] <= 4).all()
    assert "Provisional" in (run_dir / "report.md").read_text()


def test_run_dir_with_other_settings_is_refused(reference_run, tmp_path):
    _, reference = reference_run
    run_dir = tmp_path / "study"
    run_dir.mkdir()
    shutil.copy(reference.run_dir / "study.json", run_dir / "study.json")
    with pytest.raises(ConfigError, match="seed"):
        simulate_run.run(
            quick_cfg(run_dir, ["seed=7", "simulation.aggregate_only=true"]), tmp_path / "out"
        )


def test_shard_index_beyond_the_plan_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"simulation\.shard=9"):
        simulate_run.run(quick_cfg(tmp_path / "study", ["simulation.shard=9"]), tmp_path / "out")
