"""The Cox and Firth baselines of variants that share a design are fitted once
(``runs.variant._baselines``): the same fits for the same content, new fits when anything the
fits read changes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from bayes_bcsm.data import build_design
from bayes_bcsm.frequentist import cox_ph_design
from bayes_bcsm.runs import variant


def _design(seed: int = 0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "time_months": rng.exponential(20.0, 60) + 0.5,
            "event": rng.integers(0, 2, 60),
            "a": rng.normal(size=60),
            "b": rng.integers(0, 2, 60).astype(float),
        }
    )
    return build_design(frame, ["a", "b"])


def test_equal_content_reuses_the_fits_and_the_fits_are_cox_and_firth(monkeypatch):
    calls = []
    real = variant.cox_ph_design
    monkeypatch.setattr(variant, "cox_ph_design", lambda d, **kw: calls.append(kw) or real(d, **kw))
    variant._LAST_BASELINES.clear()
    first = variant._baselines(_design())
    second = variant._baselines(_design())  # another object, the same content
    assert len(calls) == 2  # one Cox and one Firth fit, not four
    assert first[0] is second[0] and first[1] is second[1]
    np.testing.assert_array_equal(first[0].coef, cox_ph_design(_design()).coef)
    np.testing.assert_array_equal(first[1].coef, cox_ph_design(_design(), penalty="firth").coef)


def test_any_change_the_fits_read_gives_another_digest():
    design = _design()
    digest = variant._design_digest(design)
    assert variant._design_digest(_design()) == digest
    changed = [
        dataclasses.replace(design, time=design.time + 1e-9),
        dataclasses.replace(design, event=1 - design.event),
        dataclasses.replace(design, X=design.X[:, ::-1].copy()),
        dataclasses.replace(design, columns=design.columns[::-1]),
        dataclasses.replace(design, entry=np.zeros(design.n)),
        dataclasses.replace(design, patient=np.arange(design.n) // 2),
        _design(seed=1),
    ]
    digests = {variant._design_digest(d) for d in changed}
    assert digest not in digests and len(digests) == len(changed)
