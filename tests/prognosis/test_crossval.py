"""Repeated K-fold cross-validation: splits, reproducibility across worker counts, and no
leakage (a predictor of pure noise looks good in-sample and no better than chance out of it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.errors import SettingError
from bayes_bcsm.prognosis.crossval import cross_validate
from bayes_bcsm.prognosis.folds import CrossValidationSpec, fold_labels
from bayes_bcsm.prognosis.predictors import Cohort, CoxPredictor, SelectionPredictor

HORIZONS = np.array([6.0, 12.0, 24.0])


def _noise_cohort(n: int, p: int, seed: int) -> tuple[Cohort, list[str]]:
    """Exponential survival (median ~14 months) independent of ``p`` noise covariates
    (normal ones and three-level categorical ones), uniform censoring on (0, 48)."""
    rng = np.random.default_rng(seed)
    latent = rng.exponential(20.0, n)
    censor = rng.uniform(0.0, 48.0, n)
    frame = pd.DataFrame(
        {"time_months": np.minimum(latent, censor), "event": (latent <= censor).astype(int)}
    )
    names = []
    for j in range(p):
        name = f"noise{j}"
        frame[name] = rng.normal(size=n) if j % 2 else rng.choice(["a", "b", "c"], size=n)
        names.append(name)
    grid = np.unique(np.r_[HORIZONS, np.linspace(frame["time_months"].min(), 24.0, 12)])
    return Cohort(frame, "time_months", "event", grid, HORIZONS), names


def _c(metrics: pd.DataFrame, evaluation: str) -> pd.Series:
    row = metrics[(metrics["metric"] == "harrell_c") & (metrics["evaluation"] == evaluation)]
    return row.iloc[0]


def test_k_equal_one_and_other_bad_settings_are_refused_naming_the_field() -> None:
    with pytest.raises(SettingError, match=r"^folds=1: expected an integer >= 2"):
        CrossValidationSpec(folds=1)
    with pytest.raises(SettingError, match=r"^repeats=0"):
        CrossValidationSpec(repeats=0)
    with pytest.raises(SettingError, match=r"^workers=0"):
        CrossValidationSpec(workers=0)
    with pytest.raises(SettingError, match=r"^folds=5: expected at most the 3 events"):
        fold_labels(np.array([1, 1, 1, 0, 0, 0, 0, 0]), CrossValidationSpec(folds=5))


def test_folds_are_seeded_stratified_and_sized_by_default() -> None:
    event = np.r_[np.ones(40, int), np.zeros(60, int)]
    labels = fold_labels(event, CrossValidationSpec(folds=5, seed=3))
    assert labels.shape == (20, 100)  # 20 repeats below 200 patients
    assert fold_labels(np.r_[event, event], CrossValidationSpec(folds=5)).shape == (5, 200)
    np.testing.assert_array_equal(labels, fold_labels(event, CrossValidationSpec(5, seed=3)))
    assert not np.array_equal(labels, fold_labels(event, CrossValidationSpec(5, seed=4)))
    for row in labels:  # 8 events and 12 censored patients per fold
        np.testing.assert_array_equal(np.bincount(row[event == 1]), [8] * 5)
        np.testing.assert_array_equal(np.bincount(row[event == 0]), [12] * 5)
    assert len({tuple(row) for row in labels}) == 20  # the repeats differ


@pytest.mark.parametrize("selection", [False, True])
def test_noise_looks_good_in_sample_and_like_chance_out_of_sample(selection: bool) -> None:
    """Twelve noise factors on 120 patients: the apparent C is well above 1/2 (overfitting);
    the cross-validated C, each fit (and each selection) made without the patients it
    predicts, is within 2 SE of 1/2. The selection procedure screens and removes at P = 0.5
    so that it keeps some noise factors."""
    cohort, names = _noise_cohort(120, 12, seed=11)
    predictor = (
        SelectionPredictor("selection", tuple(names), screen_p=0.5, remove_p=0.5)
        if selection
        else CoxPredictor("cox", tuple(names))
    )
    result = cross_validate(cohort, predictor, CrossValidationSpec(5, 4, seed=2), 24.0, 12.0)
    apparent, cv = _c(result.metrics, "apparent"), _c(result.metrics, "cv")
    assert apparent["estimate"] > max(0.6, 0.5 + 2 * apparent["se"])
    assert abs(cv["estimate"] - 0.5) < 2 * cv["se"]
    optimism = apparent["estimate"] - cv["estimate"]
    assert optimism > 0.09


def test_same_seed_same_figures_with_one_or_two_workers() -> None:
    cohort, names = _noise_cohort(60, 3, seed=5)
    predictor = SelectionPredictor("selection", tuple(names), screen_p=0.5, remove_p=0.5)
    one = cross_validate(cohort, predictor, CrossValidationSpec(3, 2, seed=9), 24.0, 12.0)
    two = cross_validate(
        cohort, predictor, CrossValidationSpec(3, 2, seed=9, workers=2), 24.0, 12.0
    )
    pd.testing.assert_frame_equal(one.metrics, two.metrics)
    np.testing.assert_array_equal(one.cross_validated.survival, two.cross_validated.survival)
    other = cross_validate(cohort, predictor, CrossValidationSpec(3, 2, seed=10), 24.0, 12.0)
    assert not other.metrics.equals(one.metrics)


def test_metrics_table_has_every_metric_for_both_evaluations() -> None:
    cohort, names = _noise_cohort(60, 2, seed=1)
    metrics = cross_validate(
        cohort, CoxPredictor("cox", tuple(names)), CrossValidationSpec(3, 1), 24.0, 12.0
    ).metrics
    expected = [
        "harrell_c",
        "uno_c",
        "td_auc_6",
        "td_auc_12",
        "td_auc_24",
        "brier_6",
        "brier_12",
        "brier_24",
        "ibs",
        "calibration_slope",
        "calibration_intercept",
    ]
    for evaluation in ("apparent", "cv"):
        assert metrics[metrics["evaluation"] == evaluation]["metric"].tolist() == expected
    assert (metrics["lower"] < metrics["estimate"]).all()
    assert (metrics["estimate"] < metrics["upper"]).all()
