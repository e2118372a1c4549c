"""The follow-up statement and its plausibility thresholds (bayes_bcsm.data.follow_up)."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_bcsm.data.follow_up import (
    CURVE_POINTS,
    LONG_MAX_MONTHS,
    LONG_MEDIAN_MONTHS,
    SHORT_MAX_MONTHS,
    SHORT_MEDIAN_MONTHS,
    FollowUp,
    curve_times_months,
    default_horizons_months,
    follow_up_range,
)


@pytest.mark.parametrize(
    ("median", "maximum", "verdict"),
    [
        (LONG_MEDIAN_MONTHS, LONG_MAX_MONTHS, None),  # the thresholds themselves pass
        (SHORT_MEDIAN_MONTHS, SHORT_MAX_MONTHS, None),
        (LONG_MEDIAN_MONTHS + 0.1, LONG_MAX_MONTHS, "long"),
        (30.0, LONG_MAX_MONTHS + 0.1, "long"),
        (SHORT_MEDIAN_MONTHS - 0.01, 30.0, "short"),
        (1.5, SHORT_MAX_MONTHS - 0.01, "short"),
    ],
)
def test_each_threshold_warns_beyond_it_and_not_at_it(median, maximum, verdict):
    warning = FollowUp("months", 0.1, median, maximum).warning()
    if verdict is None:
        assert warning is None
    else:
        assert warning.startswith(f"the follow-up read as months is implausibly {verdict}")


def test_the_warning_names_the_units_that_would_fit():
    """Days declared as months (median 274, longest 2000): as weeks the longest is 38 years,
    so only days give a plausible range."""
    warning = FollowUp("months", 5.0, 274.0, 2000.0).warning()
    assert "if the file's times are in days, set data.time_unit=days" in warning
    assert FollowUp("months", 5.0, 274.0, 2000.0).plausible_units() == ["days"]


def test_the_range_ignores_non_finite_times_and_refuses_unknown_units():
    stated = follow_up_range(np.array([np.nan, 3.0, 1.0, 2.0]), "years")
    assert stated == FollowUp("years", 1.0, 2.0, 3.0)
    assert stated.describe() == "follow-up 1 to 3 years (median 2) = 12 to 36 months (median 24)"
    with pytest.raises(ValueError, match="fortnights"):
        follow_up_range(np.array([1.0]), "fortnights")
    with pytest.raises(ValueError, match="no finite follow-up time"):
        follow_up_range(np.array([np.nan]), "days")


def test_horizons_keep_the_study_s_within_a_long_follow_up():
    """A cohort followed past 60 months keeps the study's 6/12/36/60 (its numbers unchanged);
    one followed 40 months keeps 6/12/36, none beyond the follow-up."""
    assert default_horizons_months(120.0) == (6.0, 12.0, 36.0, 60.0)
    assert default_horizons_months(40.0) == (6.0, 12.0, 36.0)


def test_horizons_of_a_short_follow_up_are_its_quarters_rounded_down():
    """Rossi: 52 weeks = 11.96 months; the study's horizons would leave only 6 months, so the
    quarters 2.99, 5.98, 8.97, 11.96 rounded down to two significant digits."""
    last = 52 * 7 * 12 / 365.25
    horizons = default_horizons_months(last)
    np.testing.assert_allclose(horizons, (2.9, 5.9, 8.9, 11.0))
    assert max(horizons) <= last


def test_curves_end_at_the_last_follow_up_or_the_last_horizon():
    times = curve_times_months(11.96)
    assert times[-1] == 11.96 and len(times) == CURVE_POINTS and times[0] > 0
    assert curve_times_months(11.96, (6.0, 60.0))[-1] == 60.0
