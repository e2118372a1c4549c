"""Issue 21's experiment immortal_time (Stanford heart: naive vs time-dependent vs landmark) and
the immortal-time paragraph of `make run`'s report (read from the committed simulation)."""

from __future__ import annotations

import pandas as pd
import pytest

from bayes_bcsm.report.sentences import naive_immortal_sentence
from bayes_bcsm.runs.compare import data_coding, planned_variants
from bayes_bcsm.runs.compare import run as compare_run
from bayes_bcsm.runs.immortal import committed_immortal_answer
from bayes_bcsm.settings import parse_settings
from tests.runs.conftest import compose_config


def test_the_experiment_plans_three_codings_of_the_stanford_data():
    cfg = compose_config(["experiment=immortal_time", "sampler=quick"])
    settings = parse_settings(cfg)
    specs = planned_variants(cfg, settings)
    codings = [data_coding(spec.settings) for spec in specs]
    assert (
        codings == ["naive: ever exposed", "time-dependent", "time-dependent, landmark 1 month"] * 2
    )
    assert {spec.settings.model.family for spec in specs} == {"weibull", "piecewise"}
    assert {spec.settings.data.card.name for spec in specs} == {"stanford_heart"}


def test_make_run_report_states_the_immortal_time_answer_under_endocrine_therapy(tmp_path):
    """The study's cohort with endocrine therapy among the covariates: the paragraph follows
    the printed-vs-patient-level bullets and carries the committed simulation's numbers."""
    cfg = compose_config(["compare.variants=['model=cox']", "report.plots=false"])
    comparison = compare_run(cfg, tmp_path)
    answer = committed_immortal_answer()
    assert comparison.immortal_time.naive_median_hr_null == answer.naive_median_hr_null
    report = (tmp_path / "report.md").read_text()
    bullets = report.index("- **hormone_therapy**: printed aHR 0.07")
    paragraph = report.index("**Endocrine therapy and immortal time.**")
    assert bullets < paragraph < report.index("## The printed hazard ratios re-read")
    expected = naive_immortal_sentence(answer.naive_median_hr_null, answer.threshold_delay_months)
    assert expected in report
    assert f"{answer.replicates} cohorts of 78 patients per setting" in report


@pytest.mark.slow
def test_the_immortal_time_experiment_runs_end_to_end(tmp_path):
    """`bayes-bcsm compare experiment=immortal_time` (quick sampler): posterior rows of the six
    variants, one Cox row per coding, each cohort stated, LOO refused across codings, and the
    simulation's answer."""
    cfg = compose_config(["experiment=immortal_time", "sampler=quick", "report.plots=false"])
    compare_run(cfg, tmp_path)
    table = pd.read_csv(tmp_path / "hazard_ratios.csv")
    models = set(table["model"])
    assert {
        "cox (naive: ever exposed)",
        "cox (time-dependent)",
        "cox (time-dependent, landmark 1 month)",
        "model=weibull data.exposure_coding=ever",
        "model=piecewise landmark_months=1",
    } <= models
    report = (tmp_path / "report.md").read_text()
    assert "**time-dependent**: 103 patients, 172 rows" in report
    assert "LOO comparison refused: the variants code the data differently" in report
    assert "## The paper's question, by simulation" in report
