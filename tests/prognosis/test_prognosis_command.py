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
