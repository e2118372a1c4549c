"""The simulation report's result sentences come from the sentence functions, per scenario
(issue 20: bias direction per scenario; type-I error by the exact binomial test)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_bcsm.report.sentences import bias_direction, rejection_test
from bayes_bcsm.report.simulation_report import plain_language
from bayes_bcsm.simulation.metrics import (
    REPLICATE_COLUMNS,
    add_overall_rejection,
    aggregate_metrics,
)


def _rows(scenario, method, truth, estimates, half_width=0.5):
    k = len(estimates)
    return pd.DataFrame(
        {
            "scenario": scenario,
            "n": 78,
            "method": method,
            "covariate": "hormone_therapy",
            "replicate": np.arange(k),
            "true_conditional": truth,
            "true_method": truth,
            "estimate": estimates,
            "lower": np.asarray(estimates) - half_width,
            "upper": np.asarray(estimates) + half_width,
            "selected": 1,
            "failed": 0,
        }
    )[list(REPLICATE_COLUMNS)]


def test_bias_and_type_i_sentences_per_scenario():
    """A method biased towards benefit under the Table 3 null (mean -0.2 against 0) and unbiased
    in the calibrated scenario; 14 of 150 null replicates reject. The bullets carry exactly what
    the sentence functions say for those numbers, scenario by scenario."""
    rng = np.random.default_rng(4)
    null = np.r_[np.full(14, 0.8), rng.normal(-0.2, 0.05, 136)]  # 14 intervals exclude 0
    calibrated = rng.normal(-1.0, 0.3, 150)
    replicates = pd.concat(
        [
            _rows("null_table3", "weibull_default", 0.0, null),
            _rows("calibrated", "weibull_default", -1.0, calibrated),
        ],
        ignore_index=True,
    )
    aggregate = add_overall_rejection(aggregate_metrics(replicates))
    status = pd.DataFrame({"state": ["done"]})
    text = "\n".join(plain_language(aggregate, replicates, status, ["weibull_default"]))
    primary = aggregate[aggregate["fits"] == "excluding_failed"].set_index("scenario")
    for scenario in ("null_table3", "calibrated"):
        row = primary.loc[scenario]
        assert bias_direction(row["bias"], row["bias_mcse"], row["true_method"]) in text
    null_row = primary.loc["null_table3"]
    assert f"`weibull_default` {rejection_test(14, 150)}" in text
    assert "P = 0.023, above 5%" in text
    assert null_row["bias"] < -2 * null_row["bias_mcse"]  # the case is the one it claims
    assert "towards benefit" in text and "no bias detectable" in text
