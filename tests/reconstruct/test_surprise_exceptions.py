"""Issue 20: a printed log-rank P whose side cohorts with the printed medians reach with a
probability below a threshold (default 1 %) is a documented exception, not a failed
calibration criterion.

Hand-made probabilities and checks for the rule; the shipped cohort's report tables for the
numbers docs/calibration/report.md quotes (the search chose that cohort with every side a
criterion: 6 criteria not met then, 5 with the exception).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bayes_bcsm.cli import run_calibrate
from bayes_bcsm.reconstruct.calibrate import (
    SURPRISE_THRESHOLD,
    TargetCheck,
    calibration_report_tables,
    criteria_from_checks,
    side_exceptions,
    surprising_sides,
)
from bayes_bcsm.reconstruct.generator import simulate_cohort
from bayes_bcsm.resources import reconstruction_config
from bayes_bcsm.runs.calibrate import read_config
from bayes_bcsm.study import load_targets

REPO = Path(__file__).resolve().parents[2]
CONSISTENCY = pd.DataFrame(
    {
        "factor": ["postop_neuro_dysfunction", "hormone_therapy", "hormone_receptor"],
        "p_printed_side_exponential": [0.004, 0.004, 0.35],
        "p_printed_side_weibull": [0.0, 0.02, 0.60],
    }
)


def test_surprising_sides_judge_the_larger_of_the_two_shapes():
    assert SURPRISE_THRESHOLD == 0.01
    assert surprising_sides(CONSISTENCY) == {"postop_neuro_dysfunction": 0.004}
    assert surprising_sides(CONSISTENCY, 0.05) == {
        "postop_neuro_dysfunction": 0.004,
        "hormone_therapy": 0.02,
    }
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match=f"surprise threshold {bad}: expected a probability"):
            surprising_sides(CONSISTENCY, bad)


def _side(factor: str, passed: bool) -> TargetCheck:
    return TargetCheck("table2_p", f"{factor}: log-rank P", 0.051, 0.001, 1.7, 0.5, passed, 1.0)


def test_an_excepted_side_is_listed_as_an_exception_not_a_failure():
    targets = load_targets()
    checks = [
        _side("postop_neuro_dysfunction", False),
        _side("hormone_receptor", False),
        _side("hormone_therapy", True),
    ]
    without = criteria_from_checks(checks, 78, targets)
    assert [f for f in without if f.startswith("log-rank side")] == [
        "log-rank side postop_neuro_dysfunction",
        "log-rank side hormone_receptor",
    ]
    exceptions = surprising_sides(CONSISTENCY)
    excepted = criteria_from_checks(checks, 78, targets, exceptions)
    assert excepted == [f for f in without if f != "log-rank side postop_neuro_dysfunction"]
    assert side_exceptions(checks, exceptions) == [
        "log-rank side postop_neuro_dysfunction (printed side in 0.4% of cohorts with the "
        "printed medians)"
    ]
    # a side the cohort reproduces is neither a failure nor an exception
    assert side_exceptions([_side("postop_neuro_dysfunction", True)], exceptions) == []


@pytest.mark.parametrize("value", ["0", "1", "-0.5"])
def test_a_threshold_outside_0_1_is_refused_before_any_work(capsys, value):
    with pytest.raises(SystemExit) as caught:
        run_calibrate(["--surprise-threshold", value, "--report", "unused"])
    assert caught.value.code == 1
    _, err = capsys.readouterr()
    assert err.strip() == (
        f"calibrate --surprise-threshold {float(value)}: expected a probability in (0, 1)"
    )


@pytest.mark.slow
def test_the_shipped_cohort_fails_one_criterion_fewer_with_the_exception():
    """The shipped cohort misses two printed log-rank sides: post-op ASIA (printed side in 0.5 %
    of exponential, none of Weibull cohorts: an exception) and receptor (35 % / 60 %: still a
    failure). 6 criteria not met under the search's rule, 5 with the exception; the committed
    calibration report says so."""
    n, seed, params, _ = read_config(reconstruction_config())
    tables = calibration_report_tables(simulate_cohort(n, seed, params=params))
    assert tables["criteria_exceptions"] == [
        "log-rank side postop_neuro_dysfunction (printed side in 0.5% of cohorts with the "
        "printed medians)"
    ]
    before, after = tables["criteria_failed_without_exceptions"], tables["criteria_failed"]
    assert len(before) == 6 and len(after) == 5
    assert set(before) - set(after) == {"log-rank side postop_neuro_dysfunction"}
    assert "log-rank side hormone_receptor" in after
    text = (REPO / "docs" / "calibration" / "report.md").read_text()
    assert "- acceptance criteria not met: " + "; ".join(after) in text
    assert (
        "the search chose this cohort with every log-rank side a criterion: 6 criteria not met "
        "under that rule, 5 with the exceptions" in text
    )
    readme = " ".join((REPO / "README.md").read_text().replace("\n>", "\n").split())
    assert (
        "so the acceptance criteria list it as a documented exception, not a failure: below "
        in (readme)
    )
    data_readme = " ".join((REPO / "data" / "README.md").read_text().split())
    assert "post-op ASIA is one, so the cohort fails 5 acceptance criteria under that rule" in (
        data_readme
    )
    assert "The search chose it with every printed side a criterion (6 failed then;" in data_readme
