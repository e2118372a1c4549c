"""The committed cohort against the published survival figures (Hu et al. 2025).

Tolerances are the issue's acceptance criteria: KM survival within 3 percentage points,
medians within 3 months, group medians within max(25 %, 6 months), >= 15 of 17 log-rank P
values on the published side of 0.05, and the paper's selection keeping endocrine therapy
with aHR < 0.5 and P < 0.05. All values are computed with bayes_bcsm.frequentist.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayes_bcsm.frequentist.km import kaplan_meier
from bayes_bcsm.reconstruct.calibrate import (
    FACTORS,
    SIDE_FACTORS,
    analysis_frame,
    group_median,
    logrank_p,
    selection_hormone_therapy,
)
from bayes_bcsm.study import load_targets

TARGETS = load_targets()


@pytest.fixture(scope="module")
def frame(committed):
    return analysis_frame(committed)


def test_km_points_and_median(frame):
    km = kaplan_meier(frame["time_months"], frame["event"])
    s = km.survival_at([6, 12, 36, 60])["survival"].to_numpy()
    expected = np.array([0.949, 0.923, 0.694, 0.470])
    assert np.all(np.abs(s - expected) <= 0.03), s
    assert abs(km.median - 50.0) <= 3.0


def test_median_followup(frame):
    # Table 1's "Follow-up (months), median (IQR)": median of the observed times of all patients
    assert abs(np.median(frame["time_months"]) - 32.0) <= 3.0


def test_logrank_sides(frame):
    same = [
        (logrank_p(frame, FACTORS[f][0]) < 0.05) == (TARGETS.logrank(f).p_value < 0.05)
        for f in SIDE_FACTORS
    ]
    assert len(same) == 17
    assert sum(same) >= 15, dict(zip(SIDE_FACTORS, same, strict=True))


#: Printed group medians the reconstruction is allowed to miss, by name, each with the reason
#: documented in data/README.md ("How close it is"). Empty: every printed median is met.
MEDIAN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _group_median_rows():
    for factor in SIDE_FACTORS:
        for level in TARGETS.logrank(factor).levels:
            yield factor, level


def test_every_printed_group_median_is_counted():
    assert sum(1 for _ in _group_median_rows()) == 32


@pytest.mark.parametrize(
    ("factor", "level"),
    [(f, lv.level) for f, lv in _group_median_rows()],
)
def test_group_median(frame, factor, level):
    """Issue 4: every printed group median within max(25 %, 6 months) of Table 2's."""
    if (factor, level) in MEDIAN_EXCEPTIONS:
        pytest.xfail(MEDIAN_EXCEPTIONS[(factor, level)])
    column, labels = FACTORS[factor]
    published = next(lv for lv in TARGETS.logrank(factor).levels if lv.level == level)
    med = group_median(frame, column, labels[level])
    tol = max(0.25 * published.median_months, 6.0)
    assert np.isfinite(med), f"{factor}={level}: median not reached"
    assert abs(med - published.median_months) <= tol, (med, published.median_months, tol)


def test_selection_keeps_hormone_therapy(frame):
    hr, p = selection_hormone_therapy(frame)
    assert hr < 0.5
    assert p < 0.05
