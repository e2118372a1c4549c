"""Dataset cards: any file is read and checked from its card; every error names what to fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from bayes_bcsm.data.card import card_from_mapping, load_with_card, validate_with_card
from bayes_bcsm.data.io import CohortValidationError
from bayes_bcsm.frequentist.cox import cox_ph
from bayes_bcsm.resources import bundled_file

GBSG2 = bundled_file("gbsg2.csv")

CARD = {
    "time_column": "days",
    "time_unit": "days",
    "event_column": "status",
    "event_values": ["yes"],
    "censor_values": ["no"],
    "id_column": "pid",
    "covariates": {
        "hormones": {"kind": "binary", "levels": ["none", "given"]},
        "grade": {"kind": "categorical", "levels": ["1", "2", "3"], "reference": "1"},
        "age_years": {"kind": "continuous", "minimum": 18, "maximum": 100, "hr_per": 10},
        "nodes": {"kind": "continuous", "missing_codes": ["-9"]},
    },
}


def _frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pid": [f"p{i}" for i in range(n)],
            "days": [30.4375 * (i + 1) for i in range(n)],
            "status": ["yes", "no"] * (n // 2),
            "hormones": ["none", "given"] * (n // 2),
            "grade": ["1", "2", "3"] * (n // 3),
            "age_years": [40 + i for i in range(n)],
            "nodes": [1, 2, -9, 4, 5, 6][:n],
        }
    )


def _write(frame: pd.DataFrame, tmp_path) -> str:
    path = tmp_path / "cohort.csv"
    frame.to_csv(path, index=False)
    return path


def _problems(frame: pd.DataFrame, tmp_path, card: dict | None = None) -> str:
    with pytest.raises(CohortValidationError) as info:
        load_with_card(card_from_mapping("mine", card or CARD), _write(frame, tmp_path))
    return str(info.value)


def test_a_renamed_recoded_file_becomes_the_canonical_frame(tmp_path):
    cohort = load_with_card(card_from_mapping("mine", CARD), _write(_frame(), tmp_path))
    frame = cohort.frame
    np.testing.assert_allclose(frame["time_months"], 12 / 365.25 * 30.4375 * np.arange(1, 7))
    assert list(frame["event"]) == [1, 0, 1, 0, 1, 0]
    assert list(frame["hormones"]) == [0, 1, 0, 1, 0, 1]
    assert list(frame["grade"].cat.categories) == ["1", "2", "3"]
    np.testing.assert_allclose(frame["age_years"], np.arange(40, 46) / 10)  # per 10 years
    assert frame["nodes"].isna().sum() == 1  # "-9" is a missing code
    assert list(frame["patient_id"]) == [f"p{i}" for i in range(6)]
    assert "times converted from days to months" in cohort.accounting.describe()
    assert cohort.accounting.missing == {"nodes": 1}


def test_missing_columns_are_named_with_their_card_key(tmp_path):
    text = _problems(_frame().drop(columns=["status", "grade"]), tmp_path)
    assert "column 'status' named by data.event_column is not in the file" in text
    assert "column 'grade' named by data.covariates.grade is not in the file" in text


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("status", "maybe", "expected an event code ['yes'] or a censoring code ['no']"),
        ("days", "-3", "expected a time in days >= 0"),
        ("days", "1e308", "expected a time in days >= 0 and <= 36525"),
        ("hormones", "yes", "expected one of ['none', 'given']"),
        ("grade", "4", "expected one of ['1', '2', '3']"),
        ("age_years", "150", "expected a number in [18, 100]"),
        ("nodes", "many", "expected a number"),
    ],
)
def test_bad_cells_name_row_id_and_column(tmp_path, column, value, message):
    frame = _frame().astype(object)
    frame.loc[2, column] = value
    text = _problems(frame, tmp_path)
    assert f"row 4, patient_id 'p2', column '{column}'" in text
    assert message in text


def test_duplicate_ids_and_no_events(tmp_path):
    frame = _frame()
    frame.loc[3, "pid"] = "p1"
    assert "duplicate patient id 'p1'" in _problems(frame, tmp_path)
    assert "no row has an event" in _problems(_frame().assign(status="no"), tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_unit": "fortnights"}, "data.time_unit='fortnights'"),
        ({"covariates": {"x": {"kind": "ordinal"}}}, "data.covariates.x.kind='ordinal'"),
        ({"covariates": {"x": {"kind": "binary", "levels": ["a", "b", "c"]}}}, "2 levels"),
        (
            {"covariates": {"x": {"kind": "categorical", "levels": ["a", "b"], "reference": "c"}}},
            "data.covariates.x.reference='c'",
        ),
        ({"covariates": {"x": {"kind": "continuous", "hr_per": 0}}}, "data.covariates.x.hr_per"),
    ],
)
def test_impossible_cards_are_refused_by_key(change, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(".", r"\.")):
        card_from_mapping("mine", CARD | change)


def test_times_that_look_like_days_are_refused_with_a_hint(tmp_path):
    raw = pd.read_csv(GBSG2)
    card = {
        "time_column": "time",
        "time_unit": "months",
        "event_column": "cens",
        "covariates": {"age": {"kind": "continuous"}},
    }
    path = tmp_path / "gbsg2.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(CohortValidationError) as info:
        load_with_card(card_from_mapping("mine", card), path)
    assert "are the times in days? set data.time_unit=days" in str(info.value).splitlines()[1]


def _gbsg2_card(**changes) -> dict:
    return {"time_column": "time", "time_unit": "days", "event_column": "cens"} | changes


def test_a_binary_reference_is_the_level_coded_0_as_lifelines_on_the_recoded_data():
    """``levels=[yes, no] reference=no``: the hazard ratio is yes against no. Oracle: lifelines'
    ``CoxPHFitter`` (Efron ties, as ours) on GBSG2 with horTh recoded yes = 1, no = 0; the two
    partial-likelihood maxima agree to the solvers' convergence (1e-5 in the HR is far looser)."""
    covariates = {"horTh": {"kind": "binary", "levels": ["yes", "no"], "reference": "no"}}
    cohort = load_with_card(card_from_mapping("g", _gbsg2_card(covariates=covariates)), GBSG2)
    ours = cox_ph(cohort.frame, "time_months", "event", ["horTh"]).hazard_ratio[0]
    raw = pd.read_csv(GBSG2)
    recoded = pd.DataFrame(
        {"time": raw["time"], "cens": raw["cens"], "horTh": (raw["horTh"] == "yes").astype(float)}
    )
    oracle = CoxPHFitter().fit(recoded, "time", "cens").hazard_ratios_["horTh"]
    assert oracle < 1  # hormone therapy lowers the hazard: not the 1.44 of the reversed coding
    assert ours == pytest.approx(oracle, abs=1e-5)
    assert list(cohort.frame["horTh"].head(3)) == [0.0, 1.0, 1.0]  # file: no, yes, yes


@pytest.mark.parametrize(
    ("spec", "key", "found"),
    [
        ({"kind": "binary", "levels": ["no", "yes"], "reference": "yes"}, "reference", "['no']"),
        ({"kind": "categorical", "levels": ["0", "1", "2"]}, "levels", "['1', '2']"),
    ],
)
def test_a_reference_level_no_row_holds_is_refused(tmp_path, spec, key, found):
    frame = _frame().assign(flag="no" if spec["kind"] == "binary" else ["1", "2"] * 3)
    text = _problems(frame, tmp_path, CARD | {"covariates": {"flag": spec}})
    assert "column 'flag': the reference level" in text
    assert f"(data.covariates.flag.{key}) is held by no row" in text
    assert f"levels found: {found}" in text


def test_a_card_range_with_minimum_above_maximum_is_refused_by_its_keys():
    card = CARD | {"covariates": {"age": {"kind": "continuous", "minimum": 100, "maximum": 18}}}
    with pytest.raises(ValueError) as info:
        card_from_mapping("mine", card)
    assert str(info.value).startswith(
        "data.covariates.age.minimum=100 is above data.covariates.age.maximum=18"
    )


@pytest.mark.parametrize(
    ("unit", "divisor", "expected"),
    [
        ("days", 1, "follow-up 8 to 2659 days (median 1084) = 0.263 to 87.4 months (median 35.6)"),
        (
            "weeks",
            1,
            "follow-up 8 to 2659 weeks (median 1084) = 1.84 to 612 months (median 249)\n"
            "  WARNING: the follow-up read as weeks is implausibly long for a survival study "
            "(follow-up 8 to 2659 weeks (median 1084) = 1.84 to 612 months (median 249)): if the "
            "file's times are in days, set data.time_unit=days",
        ),
        (
            "days",
            365.25 / 12,
            "= 0.00864 to 2.87 months (median 1.17)\n"
            "  WARNING: the follow-up read as days is implausibly short for a survival study "
            "(follow-up 0.263 to 87.4 days (median 35.6) = 0.00864 to 2.87 months "
            "(median 1.17)): if the file's times are in weeks or months, set data.time_unit=weeks "
            "or data.time_unit=months",
        ),
    ],
)
def test_the_follow_up_is_stated_in_both_units_and_implausible_scales_warned(
    unit, divisor, expected
):
    """GBSG2's times are days (8 to 2659): right as days; read as weeks they reach 612 months
    (51 years); converted to months and declared as days, the longest is 2.9 months. (Declared
    as months they are refused: ``test_times_that_look_like_days_are_refused_with_a_hint``.)"""
    frame = pd.read_csv(GBSG2).assign(time=lambda f: f["time"] / divisor)
    card = card_from_mapping("g", _gbsg2_card(time_unit=unit))
    text = validate_with_card(card, frame.astype(str), "gbsg2").accounting.describe()
    assert expected in text
    assert ("WARNING" in text) == ("WARNING" in expected)


def _gbsg2_with_zero_times() -> pd.DataFrame:
    """GBSG2 with the times of its first 5 rows set to 0 (as flchain's deaths at day 0)."""
    raw = pd.read_csv(GBSG2)
    raw.loc[:4, "time"] = 0
    return raw


def test_zero_times_are_shifted_below_every_other_time_and_stated():
    """``data.zero_time=shift`` (the default): times of 0 become half the shortest positive
    time (8 days in GBSG2, so 4 days), the statement gives the size, unit and the patients
    touched, and the Cox estimate is the one R's coxph / lifelines give on the file with its
    zeros (the order of the times is unchanged). Oracle: lifelines' ``CoxPHFitter`` (Efron ties,
    as ours) on the unshifted file; the two maxima agree to the solvers' convergence."""
    raw = _gbsg2_with_zero_times()
    events = int(raw.loc[:4, "cens"].sum())
    card = card_from_mapping("g", _gbsg2_card(covariates={"age": {"kind": "continuous"}}))
    cohort = validate_with_card(card, raw.astype(str), "gbsg2")
    months = cohort.frame["time_months"].to_numpy()
    np.testing.assert_allclose(months[:5], 4 * 12 / 365.25)
    assert months[:5].max() < months[5:].min()
    statement = (
        f"data.zero_time=shift: 5 patient(s) with a follow-up time of 0 days ({events} event(s)) "
        "moved to 4 days, half the shortest positive time (8 days)"
    )
    assert statement in cohort.accounting.describe()
    ours = cox_ph(cohort.frame, "time_months", "event", ["age"]).hazard_ratio[0]
    oracle = CoxPHFitter().fit(raw[["time", "cens", "age"]], "time", "cens").hazard_ratios_["age"]
    assert ours == pytest.approx(oracle, abs=1e-6)


def test_zero_times_are_refused_with_the_rule_named_when_the_card_says_refuse():
    raw = _gbsg2_with_zero_times()
    card = card_from_mapping(
        "g", _gbsg2_card(zero_time="refuse", covariates={"age": {"kind": "continuous"}})
    )
    with pytest.raises(CohortValidationError) as info:
        validate_with_card(card, raw.astype(str), "gbsg2", first_line=2)
    text = str(info.value)
    assert "5 problem(s)" in text
    assert (
        "row 2, patient_id 'row 2', column 'time': found a time of 0 days: data.zero_time=refuse "
        "refuses times of 0 (as R's survreg); data.zero_time=shift moves them to half the "
        "shortest positive time"
    ) in text


def test_a_negative_time_is_refused_under_either_rule(tmp_path):
    frame = _frame().astype(object)
    frame.loc[1, "days"] = "-1"
    for rule, expected in (("shift", ">= 0"), ("refuse", "> 0")):
        text = _problems(frame, tmp_path, CARD | {"zero_time": rule})
        assert f"found '-1', expected a time in days {expected} and <= 36525" in text


def test_an_unknown_zero_time_rule_is_refused_by_its_key():
    with pytest.raises(ValueError, match=r"data\.zero_time='drop': expected one of"):
        card_from_mapping("mine", CARD | {"zero_time": "drop"})


def test_event_codes_are_summarised_by_value_before_the_row_list(tmp_path):
    """R's lung data code status 1 = censored, 2 = dead; a card saying event 1, censored 0
    meets 165 rows of 2 (more than the 20 rows listed): the first line counts each value."""
    n = 228
    status = ["2"] * 165 + ["1"] * 63
    frame = pd.DataFrame({"time": np.arange(1, n + 1), "status": status, "age": 60})
    card = {
        "time_column": "time",
        "time_unit": "days",
        "event_column": "status",
        "covariates": {"age": {"kind": "continuous"}},
    }
    text = _problems(frame, tmp_path, card)
    lines = text.splitlines()
    assert lines[0].endswith(
        ": 166 problem(s) with the cohort data (see data/README.md for the contract):"
    )
    assert lines[1] == (
        "  - column 'status': status holds 2 (165 rows) and 1 (63 rows); the card says event 1 "
        "(data.event_values), censored 0 (data.censor_values): 165 row(s) hold neither; give "
        "the file's own codes, e.g. R survival's 1 = censored, 2 = event: "
        "'data.event_values=[2]' 'data.censor_values=[1]'"
    )
    assert lines[2] == (
        "  - row 2, patient_id 'row 2', column 'status': found '2', expected an event code ['1'] "
        "or a censoring code ['0']"
    )
    assert lines[-1] == "  ... and 146 more"


def test_a_yes_no_column_declared_binary_without_levels_says_how_to_declare_them(tmp_path):
    frame = _frame().assign(hormones=["no", "yes"] * 3)
    card = CARD | {"covariates": {"hormones": {"kind": "binary"}}}
    text = _problems(frame, tmp_path, card)
    assert (
        "column 'hormones': hormones holds no (3 rows) and yes (3 rows); a binary covariate "
        "without levels takes 0 and 1: declare its two values, reference (coded 0) first, e.g. "
        "data.covariates.hormones.levels=[no, yes]"
    ) in text.splitlines()[1]


def test_a_yes_no_binary_covariate_equals_lifelines_and_names_its_present_level():
    """``kind: binary, levels: [no, yes]`` on GBSG2's horTh: coded yes = 1, no = 0 (the first
    level is the reference), so the HR is lifelines' on that coding (Efron ties, as ours), and
    the row label names both levels."""
    from bayes_bcsm.data import build_design
    from bayes_bcsm.data.labels import covariate_labels

    covariates = {
        "horTh": {"kind": "binary", "levels": ["no", "yes"], "label": "hormone therapy"},
        "tgrade": {"kind": "categorical", "levels": ["I", "II", "III"], "label": "grade"},
        "age": {"kind": "continuous", "hr_per": 10, "unit": "years"},
    }
    card = card_from_mapping("g", _gbsg2_card(covariates=covariates))
    cohort = load_with_card(card, GBSG2)
    ours = cox_ph(cohort.frame, "time_months", "event", ["horTh"]).hazard_ratio[0]
    raw = pd.read_csv(GBSG2)
    recoded = pd.DataFrame(
        {"time": raw["time"], "cens": raw["cens"], "horTh": (raw["horTh"] == "yes").astype(float)}
    )
    oracle = CoxPHFitter().fit(recoded, "time", "cens").hazard_ratios_["horTh"]
    assert ours == pytest.approx(oracle, abs=1e-5)
    design = build_design(cohort.frame, ["horTh", "tgrade", "age"])
    assert covariate_labels(design.terms, card) == {
        "horTh": "hormone therapy: yes vs no",
        "tgrade[II]": "grade: II vs I",
        "tgrade[III]": "grade: III vs I",
        "age": "age (per 10 years)",
    }


def test_the_survival_coding_hint_is_given_only_for_1_and_2(tmp_path):
    frame = _frame().astype(object)
    frame.loc[1, "status"] = "dead"
    text = _problems(frame, tmp_path)
    assert "status holds yes (3 rows), no (2 rows) and dead (1 row)" in text
    assert "give the file's own codes\n" in text and "R survival" not in text
