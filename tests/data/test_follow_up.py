"""The follow-up statement and its plausibility thresholds (bayes_bcsm.data.follow_up)."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_bcsm.data.follow_up import (
    LONG_MAX_MONTHS,
    LONG_MEDIAN_MONTHS,
    SHORT_MAX_MONTHS,
    SHORT_MEDIAN_MONTHS,
    FollowUp,
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
