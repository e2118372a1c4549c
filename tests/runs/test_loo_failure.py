"""A family whose PSIS-LOO cannot be computed is left out of the comparison, not fatal.

ArviZ's Pareto smoothing raises ``ValueError("All tail values are the same")`` when the largest
importance ratios of a patient are all equal (a chain stuck on one value: met on a Gompertz
fit in the issue-23 stacking simulation). Such a fit keeps its other results, says why it has
no ELPD, and the comparison of the other families goes on.
"""

from __future__ import annotations

from types import SimpleNamespace

import arviz as az
import numpy as np
import pandas as pd
import pytest

from bayes_bcsm.inference.settings import SamplerSettings
from bayes_bcsm.models.base import OBSERVED
from bayes_bcsm.runs.comparison import _loo_table
from bayes_bcsm.runs.variant import loo_of

TIMES = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])


def _tree(rng: np.random.Generator, stuck: bool):
    log_lik = rng.normal(-1.5, 0.3, size=(2, 200, TIMES.size))
    if stuck:
        log_lik[:, :, 2] = -1.0  # every draw the same: no tail to smooth
    return az.from_dict(
        {"posterior": {"mu": rng.normal(size=(2, 200))}, "log_likelihood": {OBSERVED: log_lik}}
    )


def _fit(tree):
    model = SimpleNamespace(family="gompertz", data={"time_months": TIMES})
    return SimpleNamespace(idata=tree, model=model, settings=SamplerSettings(), n_used=TIMES.size)


def _variant(label: str, fit) -> SimpleNamespace:
    warned: list[str] = []
    loo, note = loo_of(fit, warned)
    return SimpleNamespace(
        label=label,
        fit=fit,
        loo=loo,
        loo_warnings=tuple(warned),
        notices={} if note is None else {"loo": note},
    )


def test_a_failed_psis_gives_a_notice_not_an_exception():
    with pytest.raises(ValueError, match="All tail values are the same"):
        az.loo(_tree(np.random.default_rng(0), stuck=True))  # the failure being handled
    loo, note = loo_of(_fit(_tree(np.random.default_rng(0), stuck=True)))
    assert loo is None
    assert note.startswith("PSIS-LOO failed (All tail values are the same)")
    assert "left out of LOO comparisons" in note


def test_the_comparison_goes_on_without_the_family_that_failed():
    rng = np.random.default_rng(1)
    variants = [
        _variant("weibull", _fit(_tree(rng, stuck=False))),
        _variant("gompertz", _fit(_tree(rng, stuck=True))),
        _variant("lognormal", _fit(_tree(rng, stuck=False))),
    ]
    table, note = _loo_table(variants)
    assert sorted(table.index) == ["lognormal", "weibull"]
    assert table["weight"].sum() == pytest.approx(1.0)
    assert "Left out (no ELPD): gompertz: PSIS-LOO failed" in note


def test_two_failures_out_of_three_leave_no_comparison_and_say_why():
    rng = np.random.default_rng(2)
    variants = [
        _variant("weibull", _fit(_tree(rng, stuck=False))),
        _variant("gompertz", _fit(_tree(rng, stuck=True))),
        _variant("mspline", _fit(_tree(rng, stuck=True))),
    ]
    table, note = _loo_table(variants)
    assert table is None
    assert note.startswith("LOO comparison needs at least two Bayesian variants with an ELPD.")
    assert "gompertz" in note and "mspline" in note


def test_the_table_is_arvizs_compare_of_the_trees_with_its_warnings_said_once():
    """The comparison reuses each fit's PSIS-LOO: the table is what ``arviz.compare`` gives on
    the fits' DataTrees, and ArviZ's warnings about them (large Pareto k) are in the note,
    each once."""
    rng = np.random.default_rng(3)
    trees = {"weibull": _tree(rng, stuck=False), "lognormal": _tree(rng, stuck=False)}
    trees["lognormal"]["log_likelihood"][OBSERVED].values[:, :7, 0] = -25.0  # huge ratios
    variants = [_variant(label, _fit(tree)) for label, tree in trees.items()]
    table, note = _loo_table(variants)

    with pytest.warns(UserWarning) as caught:
        expected = az.compare(trees, method="stacking", round_to="none")
    pseudo_bma = az.compare(trees, method="BB-pseudo-BMA", round_to="none")["weight"]
    pd.testing.assert_frame_equal(table.drop(columns="pseudo_bma_plus_weight"), expected)
    np.testing.assert_array_equal(table["pseudo_bma_plus_weight"], pseudo_bma[table.index])
    messages = {str(w.message) for w in caught}
    assert messages and all(note.count(f"ArviZ warned: {m}") == 1 for m in messages)
