"""A prognostic score enters as given: as a single ordinal predictor its ranking of patients is
the score's own (the fitted Cox coefficient only orients it), as published risk groups the
groups' ranking; the study card's score columns are the ones the experiment names."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_bcsm.data import derive_groupings, load_cohort
from bayes_bcsm.frequentist import harrell_concordance
from bayes_bcsm.prognosis.predictors import Cohort, CoxPredictor
from bayes_bcsm.resources import bundled_file


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    frame = derive_groupings(load_cohort(bundled_file("bcsm_reconstructed.csv")).frame)
    columns = ["tomita_score", "tokuhashi_score", "tomita_group", "tokuhashi_group"]
    frame = frame[[*columns, "time_months", "event"]].reset_index(drop=True)
    horizons = np.array([12.0, 36.0, 60.0])
    grid = np.unique(np.r_[horizons, np.linspace(frame["time_months"].min(), 60, 10)])
    return Cohort(frame, "time_months", "event", grid, horizons)


@pytest.mark.parametrize(
    ("column", "codes"),
    [
        ("tomita_score", None),
        ("tokuhashi_score", None),
        ("tomita_group", ["2-3", "4-5", "6-7"]),
        ("tokuhashi_group", ["0-8", "9-11", "12-15"]),
    ],
)
def test_a_score_ranks_patients_as_given(cohort: Cohort, column: str, codes) -> None:
    everyone = np.arange(len(cohort.frame))
    prediction = CoxPredictor(column, (column,)).fit_predict(cohort, everyone, everyone, 0)
    values = cohort.frame[column]
    points = (
        values.to_numpy(float)
        if codes is None
        else values.astype(str).map({c: i for i, c in enumerate(codes)}).to_numpy(float)
    )
    c_model = harrell_concordance(cohort.time, cohort.events, prediction.risk).estimate
    c_score = harrell_concordance(cohort.time, cohort.events, points).estimate
    if codes is None:  # one coefficient: the model's ranking is the score's, either way round
        assert c_model == pytest.approx(max(c_score, 1 - c_score), abs=1e-12)
    else:  # one coefficient per group: patients in one group share one risk
        assert len(np.unique(np.round(prediction.risk, 12))) == len(codes)
    assert np.all(np.diff(prediction.survival, axis=1) <= 0)
