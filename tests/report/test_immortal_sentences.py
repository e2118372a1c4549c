"""The immortal-time sentences checked against their definitions, on both sides of each
boundary, and the report paragraph that carries them."""

from __future__ import annotations

import math

import pytest

from bayes_bcsm.report.compare_report import immortal_time_lines
from bayes_bcsm.report.sentences import naive_immortal_sentence, printed_reach_sentence
from bayes_bcsm.results import ImmortalTimeAnswer

MEDIANS = {0.5: 0.97, 1.0: 0.93, 3.0: 0.81, 6.0: 0.66, 12.0: 0.46}


def test_naive_sentence_states_the_shortest_and_longest_delay_and_the_crossing():
    text = naive_immortal_sentence(MEDIANS, 10.43)
    assert text == (
        "with a true HR of 1 the naive aHR's median is 0.97 at a median start delay of "
        "0.5 months and 0.46 at 12 months; it falls below 0.5 from a median delay of about "
        "10 months"
    )


def test_naive_sentence_without_a_crossing_says_no_delay_reaches_it():
    text = naive_immortal_sentence({1.0: 0.93, 12.0: 0.62}, math.nan)
    assert text.endswith("0.62 at 12 months; no delay up to 12 months brings it below 0.5")
    assert "1 month and" in text  # singular


@pytest.mark.parametrize(
    ("upper", "explains"),
    [(0.049, False), (0.05, True), (0.2, True)],
)
def test_printed_reach_verdict_on_both_sides_of_the_level(upper, explains):
    """Immortal time alone 'does not explain' the printed aHR exactly when the upper end of the
    exact 95 % interval of the largest share is below 5 %."""
    text = printed_reach_sentence(0.01, upper, 12.0, 0.5, 0.07)
    assert ("can produce an aHR this low" in text) is explains
    assert ("does not explain an aHR this low" in text) is not explains
    assert "(median delay 12 months, true HR 0.5; exact 95% CI up to" in text


def test_printed_reach_with_no_estimate_at_the_printed_value():
    text = printed_reach_sentence(0.0, 0.0074, 12.0, 0.5, 0.07)
    assert text.startswith("none of the naive aHRs was at or below the printed 0.07")
    assert "exact 95% upper limit 0.7% per setting" in text
    assert text.endswith("does not explain an aHR this low")


def test_report_paragraph_states_question_and_answer():
    answer = ImmortalTimeAnswer(
        n=78,
        replicates=500,
        naive_median_hr_null=MEDIANS,
        threshold_delay_months=10.43,
        max_p_at_most_printed=0.004,
        max_p_at_most_printed_upper=0.0144,
        max_p_cell=(12.0, 0.5),
        td_coverage_null=(0.934, 0.952),
        printed_hr=0.07,
    )
    question, _, text, _ = immortal_time_lines(answer)
    assert question.startswith("**Endocrine therapy and immortal time.** Endocrine therapy")
    assert "immortal time" in question and "Suissa 2008" in question
    assert text.startswith("The therapy's start times are not published")
    assert "500 cohorts of 78 patients per setting" in text
    assert "medians of 0.5, 1, 3, 6, 12 months" in text
    assert "at most 0.4% of the naive aHRs" in text
    assert "does not explain an aHR this low" in text
    assert "covers a true HR of 1 in 93-95% of cohorts" in text
