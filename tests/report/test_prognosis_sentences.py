"""The prognosis report's sentences against their definitions, on both sides of each boundary
(a C interval against 1/2; a paired C difference's interval against 0)."""

from __future__ import annotations

import pytest

from bayes_bcsm.report.sentences import c_index_sentence, discrimination_comparison


@pytest.mark.parametrize(
    ("lower", "upper", "verdict"),
    [
        (0.501, 0.7, "better than chance"),
        (0.5, 0.7, "not distinguishable from chance"),
        (0.3, 0.5, "not distinguishable from chance"),
        (0.3, 0.499, "worse than chance"),
    ],
)
def test_c_index_is_read_against_one_half(lower, upper, verdict) -> None:
    text = c_index_sentence((lower + upper) / 2, lower, upper)
    assert text.endswith(verdict)
    assert f"{lower:.2f} to {upper:.2f}" in text


@pytest.mark.parametrize(
    ("lower", "upper", "words"),
    [
        (0.001, 0.2, "ranks patients better than"),
        (0.0, 0.2, "cannot be told apart from"),
        (-0.2, 0.0, "cannot be told apart from"),
        (-0.2, -0.001, "ranks patients worse than"),
    ],
)
def test_paired_difference_is_read_against_zero(lower, upper, words) -> None:
    text = discrimination_comparison("cox_table3", "tomita", (lower + upper) / 2, lower, upper)
    assert text.startswith(f"cox_table3 {words} tomita")
    assert ("includes 0" in text) == (lower <= 0 <= upper)
