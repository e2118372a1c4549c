"""Labels of reports on a foreign cohort (issue 20, item 7): outcome axis, page title, units,
P values that underflow, sparse levels. A re-arrest cohort (Rossi-like) is the foreign card."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data.card import card_from_mapping, load_with_card
from bayes_bcsm.data.design import build_design
from bayes_bcsm.data.labels import covariate_labels, profile_parts
from bayes_bcsm.data.sparse import sparse_levels
from bayes_bcsm.frequentist import cox_ph_design
from bayes_bcsm.frequentist.cox import SparseLevelWarning
from bayes_bcsm.frequentist.km import kaplan_meier
from bayes_bcsm.hazard_ratios import prior_adjusted
from bayes_bcsm.report.plots import plot_km_curves
from bayes_bcsm.report.render import format_p_value, markdown_table, write_report
from bayes_bcsm.report.sentences import p_statement, prior_adjusted_sentence, profile_sentence
from bayes_bcsm.results import ReportSettings

ROSSI = {
    "title": "Rossi recidivism",
    "time_column": "week",
    "time_unit": "weeks",
    "event_column": "arrest",
    "covariates": {"age": {"kind": "continuous", "unit": "years"}},
}


def test_the_outcome_label_is_the_card_s():
    assert card_from_mapping("rossi", ROSSI).outcome_label == "Survival"
    named = card_from_mapping("rossi", {**ROSSI, "outcome_label": "Arrest-free"})
    assert named.outcome_label == "Arrest-free"
    assert card_from_mapping("bcsm", {"title": "x", "study": True}).outcome_label == (
        "Overall survival"
    )


def test_the_kaplan_meier_axis_says_the_outcome():
    km = kaplan_meier([1.0, 2.0, 3.0], [1, 0, 1])
    fig = plot_km_curves({"all": km.table}, title="t", outcome_label="Arrest-free")
    assert fig.axes[0].get_ylabel() == "Arrest-free"
    plt.close(fig)


@pytest.mark.parametrize(
    ("unit", "hr_per", "expected"),
    [
        ("years", 1, "per year"),
        ("years", 10, "per 10 years"),
        ("mm", 1, "per mm"),
        ("mass", 1, "per mass"),
        (None, 1, "per unit"),
    ],
)
def test_hr_unit_is_singular_for_one(unit, hr_per, expected):
    covariates = {"x": {"kind": "continuous", "unit": unit, "hr_per": hr_per}}
    card = card_from_mapping("c", {**ROSSI, "covariates": covariates})
    assert card.covariates[0].hr_unit == expected


def test_a_p_value_that_underflowed_never_prints_zero():
    assert format_p_value(0.0) == "<1e-300"
    assert format_p_value(5e-324) == "<1e-300"  # a denormal is no better a number
    assert format_p_value(2.5e-20) == "2.5e-20"
    assert format_p_value(0.0123) == "0.0123"
    table = markdown_table(pd.DataFrame({"estimate": [0.0], "p_value": [0.0]}))
    assert table.splitlines()[-1] == "| 0 | <1e-300 |"  # an estimate of exactly 0 is 0
    assert p_statement(0.0) == "P < 1e-300"
    assert p_statement(0.293) == "P = 0.293"


def test_the_html_title_is_the_report_s_heading(tmp_path):
    write_report(tmp_path, "# Rossi recidivism: weibull\n\ntext", "unused")
    assert "<title>Rossi recidivism: weibull</title>" in (tmp_path / "report.html").read_text()
    assert ReportSettings().heading("Rossi recidivism") == "Rossi recidivism"
    assert ReportSettings(title="Mine").heading("Rossi recidivism") == "Mine"


@pytest.fixture
def one_patient_level():
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame(
        {
            "time_months": rng.exponential(10, n),
            "event": rng.integers(0, 2, n),
            "race": ["white"] * (n - 1) + ["other"],
            "fin": [1] * 3 + [0] * (n - 3),
            "age": rng.normal(25, 5, n),
        }
    )
    frame["race"] = pd.Categorical(frame["race"], categories=["white", "other"])
    return build_design(frame, ["race", "fin", "age"])


def test_sparse_levels_are_named_with_their_rows_and_events(one_patient_level):
    design = one_patient_level
    found = sparse_levels(design)
    other = int(design.event[-1])
    assert found == [
        f"race = other (1 row, {other} event{'s' * (other != 1)})",
        f"fin = 1 (3 rows, {int(design.event[:3].sum())} event"
        f"{'s' * (int(design.event[:3].sum()) != 1)})",
    ]
    assert sparse_levels(design, minimum=1) == []


def test_cox_warns_of_a_sparse_level(one_patient_level):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cox_ph_design(one_patient_level)
    assert any(issubclass(w.category, SparseLevelWarning) for w in caught)
    assert any(m.startswith("sparse level(s) race = other (1 row") for m in result.warnings)


def test_binary_and_numeric_levels_exported_as_floats_read_as_their_levels(tmp_path):
    """A file written from float columns (R, pandas with missing values) holds 0.0/1.0: the
    binary covariate reads as 0 and 1 and its row label says "fin: 1 vs 0", not 1.0 vs 0.0; a
    numeric categorical level 2.0 reads as level 2."""
    frame = pd.DataFrame(
        {
            "week": [5, 10, 20, 30, 40, 52, 52, 52],
            "arrest": [1, 1, 0, 1, 0, 0, 1, 0],
            "fin": ["0.0", "1.0", "1.0", "0.0", "", "1.0", "0.0", "1.0"],
            "prio": ["1.0", "2.0", "3", "1", "2", "3.0", "1", "2"],
        }
    )
    path = tmp_path / "floats.csv"
    frame.to_csv(path, index=False)
    card = card_from_mapping(
        "rossi",
        {
            **ROSSI,
            "covariates": {
                "fin": {"kind": "binary"},
                "prio": {"kind": "categorical", "levels": ["1", "2", "3"]},
            },
        },
    )
    cohort = load_with_card(card, path)
    assert cohort.frame["fin"].tolist()[:4] == [0.0, 1.0, 1.0, 0.0]
    assert np.isnan(cohort.frame["fin"].iloc[4])
    assert cohort.frame["prio"].astype(str).tolist() == ["1", "2", "3", "1", "2", "3", "1", "2"]
    design = build_design(cohort.frame.dropna(), ["fin", "prio"])
    labels = covariate_labels(design.terms, card)
    assert labels == {"fin": "fin: 1 vs 0", "prio[2]": "prio: 2 vs 1", "prio[3]": "prio: 3 vs 1"}


def test_prior_adjusted_lists_posteriors_beyond_half_a_posterior_sd(one_patient_level):
    """Posterior log-HR means placed by hand 0.6 and 0.2 posterior SDs from Cox's estimate:
    only the first is prior-adjusted, with its shift."""
    with pytest.warns(SparseLevelWarning):
        cox = cox_ph_design(one_patient_level)
    coef = dict(zip(cox.columns, cox.coef, strict=True))
    sd = 0.3
    summary = pd.DataFrame(
        {
            "log_hr_mean": [coef["fin"] - 0.6 * sd, coef["age"] + 0.2 * sd],
            "log_hr_sd": [sd, sd],
            "hr_median": [np.exp(coef["fin"] - 0.6 * sd), np.exp(coef["age"])],
        },
        index=pd.Index(["fin", "age"], name="covariate"),
    )
    table = prior_adjusted(summary, cox)
    assert table["covariate"].tolist() == ["fin"]
    np.testing.assert_allclose(table["shift_sd"], [-0.6])
    np.testing.assert_allclose(table["cox_hr"], [np.exp(coef["fin"])])


@pytest.mark.parametrize(
    ("cox_hr", "posterior_hr", "where"),
    [
        (4.75, 3.46, "towards no effect"),  # AIDS Karnofsky 70 (issue 20)
        (0.2, 0.4, "towards no effect"),
        (1.5, 0.9, "across no effect"),
        (1.5, 2.0, "away from no effect"),
    ],
)
def test_prior_adjusted_sentence_direction(cox_hr, posterior_hr, where):
    text = prior_adjusted_sentence("karnofsky: 70 vs 100", cox_hr, posterior_hr, -1.2)
    assert f"1.2 posterior SDs {where}: prior-adjusted" in text
    assert text.startswith(
        f"karnofsky: 70 vs 100: posterior HR {posterior_hr:.3g} vs Cox {cox_hr:.3g}"
    )


def test_profiles_are_defined_in_card_words(tmp_path):
    """age standardised (mean 25, sample SD 5.77 by construction), HR per year; fin binary."""
    card = card_from_mapping(
        "rossi",
        {
            **ROSSI,
            "covariates": {
                "age": {"kind": "continuous", "unit": "years"},
                "fin": {"kind": "binary", "levels": ["no", "yes"]},
            },
        },
    )
    frame = pd.DataFrame(
        {
            "time_months": [1.0, 2.0, 3.0, 4.0],
            "event": [1, 0, 1, 1],
            "age": [20.0, 30.0, 20.0, 30.0],
            "fin": [0.0, 1.0, 1.0, 0.0],
        }
    )
    standardised = build_design(frame, ["age", "fin"], standardize=True)
    age_sd = 5.77  # sample SD (ddof=1) of 20, 30, 20, 30: sqrt(100 / 3)
    reference, switched = profile_parts(standardised.terms, card)
    assert reference == ["age 25 years (its mean)"]
    assert switched == [f"age +{age_sd:g} years (1 SD; its HR is per year)", "fin: yes vs no"]
    text = profile_sentence(reference, switched)
    assert text.startswith(
        "Profiles: `reference` has every binary and categorical covariate at its reference "
        "level, age 25 years (its mean); each other profile changes one thing from it: age +"
    )
    raw = build_design(frame, ["age", "fin"])
    assert profile_parts(raw.terms, card) == (["age 0 years"], ["age +1 years", "fin: yes vs no"])
