"""cox.zph: scaled Schoenfeld residual tests of proportional hazards against R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_lung

from bayes_bcsm.frequentist.cox import CoxError, cox_ph
from bayes_bcsm.frequentist.zph import cox_zph


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    return load_lung()


def test_zph_km_matches_r(lung):
    """R (survival >= 3.0): ``cox.zph(coxph(Surv(time, status) ~ age + sex, lung))``.

    age chisq 0.209 (p 0.65); sex 2.608 (p 0.11); GLOBAL 2.771 on 2 df (p 0.25). R prints
    three decimals, so the tolerance is half a unit in the last printed digit.
    """
    fit = cox_ph(lung, "time", "status", ["age", "sex"])
    zph = cox_zph(fit)
    table = zph.table.set_index("term")
    np.testing.assert_allclose(table["chisq"], [0.209, 2.608, 2.771], atol=5e-4)
    np.testing.assert_allclose(table["p"], [0.65, 0.11, 0.25], atol=5e-3)
    assert list(table["df"]) == [1, 1, 2]
    assert zph.global_test["term"] == "GLOBAL"
    assert zph.transform == "km"
    # one scaled residual per event, in increasing time, g within [0, 1] for "km"
    assert len(zph.residuals) == fit.n_events
    assert np.all(np.diff(zph.residuals["time"]) >= 0)
    assert zph.residuals["g"].between(0, 1).all()
    # scaled residuals average to the coefficient (Schoenfeld residuals sum to 0 at the MLE)
    np.testing.assert_allclose(zph.residuals[["age", "sex"]].mean(), fit.coef, atol=1e-8)


def test_zph_categorical_term_and_columns(lung):
    data = lung.assign(ecog=lung["ph.ecog"].map({0: "0", 1: "1", 2: "2+", 3: "2+"}))
    fit = cox_ph(data, "time", "status", ["age", "ecog"])
    by_term = cox_zph(fit).table
    assert list(by_term["term"]) == ["age", "ecog", "GLOBAL"]
    assert list(by_term["df"]) == [1, 2, 3]
    by_column = cox_zph(fit, terms=False).table
    assert list(by_column["term"]) == ["age", "ecog[1]", "ecog[2+]", "GLOBAL"]
    # the global test does not depend on the grouping
    assert by_term["chisq"].iloc[-1] == pytest.approx(by_column["chisq"].iloc[-1], rel=1e-12)


def test_zph_detects_non_proportional_hazards():
    """Simulated crossing hazards (x doubles the hazard early, halves it late): PH rejected."""
    rng = np.random.default_rng(7)
    n = 600
    x = rng.integers(0, 2, n)
    # piecewise hazard: before t=1 rate 0.5 * 3^x, after t=1 rate 0.5 / 3^x
    t1 = rng.exponential(1 / (0.5 * 3.0**x))
    late = 1 + rng.exponential(1 / (0.5 / 3.0**x))
    time = np.where(t1 < 1, t1, late)
    frame = pd.DataFrame({"time": time, "event": 1, "x": x, "z": rng.normal(size=n)})
    zph = cox_zph(cox_ph(frame, "time", "event", ["x", "z"]))
    table = zph.table.set_index("term")
    assert table.loc["x", "p"] < 1e-6
    assert table.loc["z", "p"] > 1e-3


def test_zph_rejects_firth_and_bad_transform(lung):
    fit = cox_ph(lung, "time", "status", ["age"])
    with pytest.raises(CoxError, match="transform"):
        cox_zph(fit, transform="sqrt")  # type: ignore[arg-type]
    firth = cox_ph(lung, "time", "status", ["age"], penalty="firth")
    with pytest.raises(CoxError, match="unpenalised"):
        cox_zph(firth)


def test_zph_when_the_earliest_time_is_a_censoring():
    """Regression: rows of a censored-only tie group after the last event group (in the
    engine's decreasing-time order) made the residual indexing run past the event groups."""
    rng = np.random.default_rng(1)
    n = 40
    df = pd.DataFrame(
        {
            "t": np.r_[0.5, rng.uniform(1, 10, n - 1)],
            "e": np.r_[0, rng.integers(0, 2, n - 1)],
            "x": rng.normal(size=n),
        }
    )
    z = cox_zph(cox_ph(df, "t", "e", ["x"]))
    assert len(z.residuals) == df["e"].sum()
    np.testing.assert_array_equal(z.residuals["time"], np.sort(df.loc[df["e"] == 1, "t"]))
    assert np.all(np.isfinite(z.residuals["x"]))
