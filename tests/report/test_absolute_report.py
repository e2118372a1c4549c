"""The RMST-gain sentence against its definition, and the "Absolute effects" section's tables.

The sentence's claims are read back from its text: the verb from the sign of the posterior
median (after rounding to the 0.1 month shown), the stated size, and the interval of the months
gained (or, for "costs", lost), which must hold the stated size.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.report.absolute_report import absolute_lines
from bayes_bcsm.report.sentences import rmst_gain_sentence
from bayes_bcsm.results import AbsoluteEffects

PATTERN = re.compile(
    r"^Under the (?P<model>\w+) model, (?P<exposure>.+?) (?P<verb>adds|costs|changes by) "
    r"(?P<size>-?[\d.]+) months of (?P<outcome>.+?) \((?P<prob>[\d.]+)% CrI (?P<lo>-?[\d.]+) "
    r"to (?P<hi>-?[\d.]+)\) within the first (?P<tau>[\d.]+) months; P\(gain > "
    r"(?P<mcid>[\d.]+) months\) = (?P<p>[\d.]+)%\.(?P<rest>.*)$"
)


@pytest.mark.parametrize(
    ("estimate", "lower", "upper", "verb", "months"),
    [
        (5.8, -1.4, 11.6, "adds", 5.8),
        (0.06, -2.0, 2.0, "adds", 0.1),
        (0.04, -2.0, 2.0, "changes by", 0.0),
        (-0.04, -2.0, 2.0, "changes by", 0.0),
        (-0.06, -2.0, 2.0, "costs", 0.1),
        (-3.25, -6.5, -0.5, "costs", 3.2),
    ],
)
def test_rmst_gain_sentence_reads_back_as_defined(estimate, lower, upper, verb, months):
    text = rmst_gain_sentence(
        "weibull",
        "hormone therapy (yes vs no)",
        estimate,
        lower,
        upper,
        0.95,
        60,
        3,
        0.77,
        n_draws=4000,
    )
    m = PATTERN.match(text)
    assert m, text
    assert (m["model"], m["exposure"], m["verb"]) == (
        "weibull",
        "hormone therapy (yes vs no)",
        verb,
    )
    assert float(m["size"]) == pytest.approx(months)
    lo, hi = float(m["lo"]), float(m["hi"])
    # the interval is of the months the verb talks about: gained, or lost for "costs"
    sign = -1 if verb == "costs" else 1
    want = sorted((sign * lower, sign * upper))
    assert (lo, hi) == (pytest.approx(want[0], abs=0.05), pytest.approx(want[1], abs=0.05))
    assert lo <= hi
    if verb != "changes by":
        assert lo - 0.05 <= float(m["size"]) <= hi + 0.05
    assert (m["prob"], m["tau"], m["mcid"], m["p"]) == ("95", "60", "3", "77")
    assert m["outcome"] == "survival" and m["rest"] == ""


def test_rmst_gain_sentence_flags_model_dependence():
    text = rmst_gain_sentence(
        "piecewise", "x", 2.0, 1.0, 3.0, 0.9, 150, 1, 0.8, "overall survival", True, n_draws=4000
    )
    assert PATTERN.match(text)["rest"].startswith(
        " Model-dependent: the first 150 months reach beyond the last follow-up"
    )
    assert "90% CrI 1.0 to 3.0" in text


@pytest.mark.parametrize(("share", "stated"), [(0.0, "< 0.03%"), (1.0, "> 99.97%"), (0.5, "= 50%")])
def test_rmst_gain_probability_of_none_or_all_draws_is_a_bound(share, stated):
    """P(gain > MCID) is a share of the posterior draws: none or all of 4,000 draws is not a
    certainty (sentences.draw_percent)."""
    text = rmst_gain_sentence("weibull", "x", 5.0, 1.0, 9.0, 0.95, 60, 3, share, n_draws=4000)
    assert f"P(gain > 3 months) {stated}." in text


def _effects(tmp_path, model_dependent: bool) -> AbsoluteEffects:
    rows = []
    for method, p_value in (("weibull", np.nan), ("kaplan_meier (unadjusted)", 0.2)):
        bayes = np.isnan(p_value)
        for quantity, level, est in (
            ("rmst", "no", 40.0),
            ("rmst", "yes", 45.0),
            ("rmst_difference", "yes vs no", 5.0),
            ("rmst_ratio", "yes vs no", 1.125),
            ("survival_difference_12", "yes vs no", 0.03),
        ):
            contrast = "vs" in level
            rows.append(
                {
                    "method": method,
                    "quantity": quantity,
                    "level": level,
                    "estimate": est,
                    "lower": est - 1,
                    "upper": est + 1,
                    "tau_months": 60.0,
                    "time_months": 12.0 if quantity.startswith("survival") else 60.0,
                    "p_positive": 0.9 if bayes and contrast else np.nan,
                    "p_above_mcid": 0.6 if bayes and quantity == "rmst_difference" else np.nan,
                    "n_draws": 4000 if bayes else np.nan,
                    "se": np.nan if bayes else 1.0,
                    "p_value": p_value if contrast else np.nan,
                    "prob": 0.95,
                    "model_dependent": model_dependent and not quantity.startswith("survival"),
                    "exposure": "horTh",
                }
            )
    return AbsoluteEffects(
        exposure="horTh",
        label="hormone therapy",
        levels=("no", "yes"),
        table=pd.DataFrame(rows),
        curves=pd.DataFrame(),
        km_curves=pd.DataFrame(columns=["level", "time_months", "survival"]),
        tau_months=60.0,
        horizons_months=(12.0,),
        last_follow_up_months=50.0 if model_dependent else 80.0,
        mcid_months=3.0,
        prob=0.95,
    )


@pytest.mark.parametrize("model_dependent", [False, True])
def test_section_tables_and_sentences(tmp_path, model_dependent):
    lines = absolute_lines(
        _effects(tmp_path, model_dependent), tmp_path, False, "Months", "Recurrence-free survival"
    )
    text = "\n".join(lines)
    # one sentence per Bayesian method, none for the Kaplan-Meier rows
    assert text.count("- Under the ") == 1
    assert "hormone therapy (yes vs no) adds 5.0 months of recurrence-free survival" in text
    assert (
        "| weibull | yes vs no | 40.0 (39.0 to 41.0) | 45.0 (44.0 to 46.0) | 5.0 (4.0 to 6.0)"
        in text
    )
    assert "| 90% | 60% |" in text and "| 0.2 |" in text
    assert ("**Model-dependent figures.**" in text) is model_dependent
    assert ("Model-dependent: the first 60 months" in text) is model_dependent
