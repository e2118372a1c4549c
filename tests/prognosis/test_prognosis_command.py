"""``bayes-bcsm compare experiment=prognosis`` from the command line: a small run writes the
metrics table and the report; horizons beyond the follow-up are refused before any fit."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.test_cli import run_cli

SMALL = [
    "compare",
    "experiment=prognosis",
    "prognosis.predictors=[tomita,tokuhashi_groups,cox_table3,cox_selection]",
    "prognosis.repeats=2",
    "prognosis.workers=1",
    "hydra.run.dir=out",
]


def test_a_small_prognosis_run_writes_metrics_and_report(tmp_path) -> None:
    result = run_cli(SMALL, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "out"
    metrics = pd.read_csv(out / "prognosis_metrics.csv")
    assert list(metrics.columns[:6]) == [
        "predictor",
        "metric",
        "evaluation",
        "estimate",
        "lower",
        "upper",
    ]
    assert metrics["predictor"].unique().tolist() == [
        "tomita",
        "tokuhashi_groups",
        "cox_table3",
        "cox_selection",
    ]
    assert set(metrics["evaluation"]) == {"apparent", "cv"}
    expected = {"harrell_c", "uno_c", "ibs", "calibration_slope"} | {
        f"{m}_{h}" for m in ("td_auc", "brier") for h in (12, 36, 60)
    }
    assert expected <= set(metrics["metric"])
    report = (out / "report.md").read_text()
    assert "*reconstruction*" in report
    assert "Do the models predict better than the scores?" in report
    assert (out / "calibration.png").stat().st_size > 0
    assert not list(out.glob("*.tmp*"))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "prognosis.horizons_months=[12,36,150]",
            "prognosis.horizons_months=[12.0, 36.0, 150.0]: expected times within the "
            "follow-up of the 53 patients used",
        ),
        ("prognosis.tau_months=200", "prognosis.tau_months=200.0: expected times within"),
    ],
)
def test_horizons_beyond_follow_up_are_refused_before_any_fit(tmp_path, override, message):
    result = run_cli([*SMALL, override], tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "out" / "prognosis_metrics.csv").exists()


def test_finished_predictors_survive_a_failure_of_a_later_one(tmp_path, monkeypatch) -> None:
    """Fault injection: the second predictor's cross-validation fails; the metrics of the
    first are already in prognosis_metrics.csv (rewritten atomically after each predictor)."""
    from hydra import compose, initialize_config_module

    from bayes_bcsm.config import register_configs
    from bayes_bcsm.resources import CONF_PACKAGE
    from bayes_bcsm.runs import compare, prognosis

    real = prognosis.cross_validate

    def failing(cohort, predictor, *args, **kwargs):
        if predictor.name == "cox_table3":
            raise RuntimeError("injected failure")
        return real(cohort, predictor, *args, **kwargs)

    monkeypatch.setattr(prognosis, "cross_validate", failing)
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        cfg = compose(
            config_name="compare",
            overrides=[
                "experiment=prognosis",
                "prognosis.predictors=[tomita,cox_table3]",
                "prognosis.repeats=1",
                "prognosis.workers=1",
            ],
        )
    with pytest.raises(RuntimeError, match="injected failure"):
        compare.run(cfg, tmp_path)
    metrics = pd.read_csv(tmp_path / "prognosis_metrics.csv")
    assert set(metrics["predictor"]) == {"tomita"}
    assert len(metrics) == 2 * 11  # 11 metrics, apparent and cv
    assert not (tmp_path / "report.md").exists()
