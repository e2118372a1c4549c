"""Hazard-ratio tables: each source's numbers arrive unchanged and per natural unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.data import build_design
from bayes_bcsm.frequentist import cox_ph_design
from bayes_bcsm.hazard_ratios import (
    HR_COLUMNS,
    HR_TABLE_NOTE,
    PUBLISHED,
    cox_rows,
    published_rows,
)
from bayes_bcsm.report.hazard_ratio_table import side_by_side
from bayes_bcsm.study import load_targets


@pytest.fixture
def frame():
    rng = np.random.default_rng(3)
    n = 300
    age = rng.normal(55, 10, n)
    treated = rng.integers(0, 2, n)
    time = rng.exponential(np.exp(-(0.03 * (age - 55) - 0.7 * treated)) * 20)
    return pd.DataFrame(
        {
            "time_months": time,
            "event": (rng.random(n) < 0.8).astype(int),
            "age_years": age,
            "treated": treated,
        }
    )


def test_cox_rows_are_per_natural_unit_whatever_the_design_scaling(frame):
    raw = cox_rows(cox_ph_design(build_design(frame, ["age_years", "treated"])))
    scaled = cox_rows(
        cox_ph_design(build_design(frame, ["age_years", "treated"], standardize=True))
    )
    assert list(raw.columns) == list(HR_COLUMNS)
    for column in ("estimate", "lower", "upper", "p_value"):
        np.testing.assert_allclose(raw[column], scaled[column], rtol=1e-6)
    # close to the simulated 0.03 per year and -0.7 for treatment
    assert np.log(raw["estimate"]).tolist() == pytest.approx([0.03, -0.7], abs=0.15)


def test_published_rows_are_table3_as_printed():
    rows = published_rows(load_targets()).set_index("covariate")
    assert rows.loc["hormone_therapy", ["estimate", "lower", "upper", "p_value"]].tolist() == [
        0.070,
        0.007,
        0.727,
        0.026,
    ]
    assert len(rows) == 4


def test_printed_rows_leave_the_unstated_sample_empty(frame, tmp_path):
    """Issue 20: the paper does not say which patients its Table 3 used, so the printed rows
    carry no n_used / n_events (not the cohort's 78 / 48), and the CSV leaves the cells empty;
    fitted rows keep their integer counts."""
    table = pd.concat(
        [
            published_rows(load_targets()),
            cox_rows(cox_ph_design(build_design(frame, ["treated"]))),
        ],
        ignore_index=True,
    )
    printed = table["model"] == PUBLISHED
    assert table.loc[printed, ["n_used", "n_events"]].isna().all().all()
    assert table.loc[~printed, "n_used"].tolist() == [300]
    table.to_csv(tmp_path / "hazard_ratios.csv", index=False)
    lines = (tmp_path / "hazard_ratios.csv").read_text().splitlines()
    assert lines[1].endswith(",,")  # a printed row: n_used and n_events empty
    assert lines[-1].split(",")[-2] == "300"  # the Cox row: an integer, not 300.0
    assert "does not say which patients" in HR_TABLE_NOTE


def test_side_by_side_puts_each_source_in_a_column(frame):
    table = pd.concat(
        [
            published_rows(load_targets(), ["hormone_therapy"]),
            cox_rows(cox_ph_design(build_design(frame, ["treated"]))),
        ],
        ignore_index=True,
    )
    wide = side_by_side(table)
    assert list(wide.columns) == ["covariate", "published (Hu 2025)", "cox"]
    assert wide.set_index("covariate").loc["hormone_therapy", "published (Hu 2025)"] == (
        "0.07 (0.01-0.73); P=0.026"
    )


def test_time_ratio_columns_are_headed_and_read_as_time_ratios():
    """An AFT variant's column is '<model> (time ratio)' with P(TR<1); HR columns unchanged."""
    from bayes_bcsm.hazard_ratios import _frame
    from bayes_bcsm.report.hazard_ratio_table import side_by_side

    rows = [
        {
            "covariate": "x",
            "model": "cox",
            "estimate": 0.5,
            "lower": 0.3,
            "upper": 0.9,
            "p_value": 0.01,
        },
        {
            "covariate": "x",
            "model": "lognormal",
            "estimate": 1.8,
            "lower": 1.2,
            "upper": 2.6,
            "p_hr_below_1": 0.004,
            "measure": "time ratio",
        },
        {
            "covariate": "x",
            "model": "weibull",
            "estimate": 0.6,
            "lower": 0.4,
            "upper": 0.9,
            "p_hr_below_1": 0.99,
        },
    ]
    wide = side_by_side(_frame(rows))
    assert list(wide.columns) == ["covariate", "cox", "lognormal (time ratio)", "weibull"]
    # shares of a fit's draws: none of them is a bound, not "0%"
    drawn = [{**row, "n_draws": 4000} for row in rows if row["model"] != "cox"]
    drawn[0]["p_hr_below_1"] = 0.0
    drawn_wide = side_by_side(_frame(drawn))
    assert drawn_wide.loc[0, "lognormal (time ratio)"] == "1.80 (1.20-2.60); P(TR<1) < 0.03%"
    assert drawn_wide.loc[0, "weibull"] == "0.60 (0.40-0.90); P(HR<1)=99%"
    assert wide.loc[0, "lognormal (time ratio)"] == "1.80 (1.20-2.60); P(TR<1)=0.4%"
    assert wide.loc[0, "weibull"] == "0.60 (0.40-0.90); P(HR<1)=99%"
