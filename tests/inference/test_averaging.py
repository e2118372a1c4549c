"""Model averaging by stacking: the mixture of draws checked exactly against one written by hand.

Expected values are written out by hand from the definitions in
:mod:`bayes_bcsm.inference.averaging` (largest-remainder counts; evenly spaced draws
``floor((j + 1/2) M / n)`` of each model's chain-major sequence), not computed by the code.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from bayes_bcsm.inference.averaging import (
    curve_table,
    mixture_counts,
    stacked_mixture,
    weighted_mean,
)


def _draws(values: np.ndarray, times=(1.0, 2.0)) -> xr.DataArray:
    """Draws of shape (chain, draw, time_months)."""
    return xr.DataArray(
        values,
        dims=("chain", "draw", "time_months"),
        coords={
            "chain": np.arange(values.shape[0]),
            "draw": np.arange(values.shape[1]),
            "time_months": list(times),
        },
    )


def test_mixture_counts_are_the_largest_remainder_rounding():
    # 10 x (0.62, 0.25, 0.13) = (6.2, 2.5, 1.3): floors 6, 2, 1 (9); the one left goes to 0.5
    assert mixture_counts({"a": 0.62, "b": 0.25, "c": 0.13}, 10) == {"a": 6, "b": 3, "c": 1}
    assert mixture_counts({"a": 1.0, "b": 0.0}, 7) == {"a": 7, "b": 0}
    with pytest.raises(ValueError, match="sum to 1"):
        mixture_counts({"a": 0.5, "b": 0.3}, 10)


def test_stacked_mixture_is_the_hand_computed_mixture():
    """Models a (2 chains x 4 draws) and b (2 x 4), weights 0.75 / 0.25, 8 draws: a gives 6 of
    its 8 draws, at positions floor((j + 0.5) 8 / 6) = 0, 2, 3, 4, 6, 7; b gives 2, at
    floor((j + 0.5) 8 / 2) = 2, 6 (chain-major: chain 0 draws 0-3, then chain 1)."""
    a = _draws(np.arange(16, dtype=float).reshape(2, 4, 2))  # draw k of chain c: 8c + 2k (+1)
    b = _draws(100 + np.arange(16, dtype=float).reshape(2, 4, 2))
    mixture = stacked_mixture({"a": a, "b": b}, {"a": 0.75, "b": 0.25})
    flat_a = a.values.reshape(8, 2)
    flat_b = b.values.reshape(8, 2)
    expected = np.concatenate([flat_a[[0, 2, 3, 4, 6, 7]], flat_b[[2, 6]]])
    np.testing.assert_array_equal(mixture.transpose("sample", "time_months").values, expected)
    assert list(mixture["model"].values) == ["a"] * 6 + ["b"] * 2
    # the exact weighted mean: 0.75 mean(a) + 0.25 mean(b), per time
    np.testing.assert_allclose(
        weighted_mean({"a": a, "b": b}, {"a": 0.75, "b": 0.25}).values,
        0.75 * flat_a.mean(0) + 0.25 * flat_b.mean(0),
        rtol=1e-15,
    )


def test_a_model_with_zero_weight_gives_no_draw():
    a = _draws(np.zeros((1, 5, 2)))
    b = _draws(np.ones((1, 5, 2)))
    mixture = stacked_mixture({"a": a, "b": b}, {"a": 1.0, "b": 0.0})
    assert mixture.sizes["sample"] == 5 and set(mixture["model"].values) == {"a"}
    assert float(mixture.max()) == 0.0


def test_curve_table_marks_extrapolation_and_carries_the_weights():
    a = _draws(np.full((1, 4, 2), 0.8), times=(10.0, 30.0))
    b = _draws(np.full((1, 4, 2), 0.4), times=(10.0, 30.0))
    table = curve_table({"a": a, "b": b}, {"a": 0.5, "b": 0.5}, 20.0, 0.9)
    avg = table[table["model"] == "stacked average"]
    np.testing.assert_allclose(avg["mean"], [0.6, 0.6])
    assert avg["lower"].tolist() == [0.4, 0.4] and avg["upper"].tolist() == [0.8, 0.8]
    assert table["extrapolated"].tolist() == [False, True] * 3
    assert table.loc[table["model"] == "b", "weight"].tolist() == [0.5, 0.5]


def _standardised(offset: float):
    """A Standardised of two levels (2 chains x 4 draws): RMST_k = offset + 8c + 2d + k, and each
    curve the RMST times the time, so a mixture that takes draws whole keeps curve = RMST x t."""
    from bayes_bcsm.data.exposure import Exposure, ExposureLevel
    from bayes_bcsm.inference.absolute import Standardised

    levels = (ExposureLevel("no", {"x": 0.0}), ExposureLevel("yes", {"x": 1.0}))
    c, d, k = np.meshgrid(np.arange(2), np.arange(4), np.arange(2), indexing="ij")
    rmst = xr.DataArray(
        offset + 8.0 * c + 2.0 * d + k,
        dims=("chain", "draw", "level"),
        coords={"chain": [0, 1], "draw": np.arange(4), "level": ["no", "yes"]},
    )
    times = xr.DataArray([1.0, 2.0], dims="time_months", coords={"time_months": [1.0, 2.0]})
    return Standardised(
        exposure=Exposure("x", "x", levels),
        tau_months=12.0,
        curves=(rmst * times).transpose("chain", "draw", "level", "time_months"),
        rmst=rmst,
        n_patients=5,
    )


def test_stacked_standardised_takes_each_draw_whole_with_the_hand_computed_positions():
    """Weights 0.75 / 0.25 over 8 draws: a's flattened draws 0, 2, 3, 4, 6, 7 and b's 2, 6 (as
    in the test above); every level and the curves come from the same draw."""
    from bayes_bcsm.inference.averaging import stacked_standardised

    a, b = _standardised(0.0), _standardised(100.0)
    mixed = stacked_standardised({"a": a, "b": b}, {"a": 0.75, "b": 0.25})
    flat = [8 * (i // 4) + 2 * (i % 4) for i in range(8)]  # RMST of level "no", chain-major
    expected_no = [flat[i] for i in (0, 2, 3, 4, 6, 7)] + [100 + flat[i] for i in (2, 6)]
    assert mixed.rmst.dims == ("chain", "draw", "level")
    np.testing.assert_array_equal(mixed.rmst.sel(level="no").values[0], expected_no)
    np.testing.assert_array_equal(
        mixed.rmst.sel(level="yes").values[0], np.array(expected_no) + 1.0
    )
    np.testing.assert_array_equal(
        mixed.curves.values, mixed.rmst.values[..., None] * np.array([1.0, 2.0])
    )
    assert mixed.n_patients == 5 and mixed.tau_months == 12.0


def test_stacked_standardised_refuses_different_truncation_times():
    import dataclasses

    from bayes_bcsm.inference.averaging import stacked_standardised

    a = _standardised(0.0)
    with pytest.raises(ValueError, match="one exposure, tau and time grid"):
        stacked_standardised(
            {"a": a, "b": dataclasses.replace(a, tau_months=24.0)}, {"a": 0.5, "b": 0.5}
        )


def test_marginal_survival_is_the_mean_over_patients_by_hand(monkeypatch):
    """Weibull PH draws written by hand (no sampling): per draw, the mean over the model's
    patients of ``exp(-lambda (t / 12) ** alpha exp(x_i beta))``; evaluating it in blocks of
    draws (a tiny block size) gives the same numbers to the bit, and ``max_draws`` keeps
    evenly spaced draws."""
    from bayes_bcsm.data.design import build_design
    from bayes_bcsm.inference import predictive
    from bayes_bcsm.inference.averaging import marginal_survival
    from bayes_bcsm.inference.sample import Fit, SamplerSettings
    from bayes_bcsm.models import weibull_model
    from bayes_bcsm.models.simulate import simulate_frame

    design = build_design(simulate_frame(np.random.default_rng(3), 30, [0.4, -0.2]), ["x1", "x2"])
    sm = weibull_model(design)
    rng = np.random.default_rng(8)
    chains, draws = 2, 7
    posterior = xr.Dataset(
        {
            "log_alpha": (("chain", "draw"), rng.normal(0.2, 0.1, (chains, draws))),
            "log_lambda": (("chain", "draw"), rng.normal(-1.0, 0.2, (chains, draws))),
            "beta": (("chain", "draw", "covariate"), rng.normal(0, 0.5, (chains, draws, 2))),
        },
        coords={"chain": [0, 1], "draw": np.arange(draws), "covariate": list(sm.columns)},
    )
    fit = Fit(xr.DataTree.from_dict({"posterior": posterior}), sm, SamplerSettings(), 0, 0, False)
    times = np.array([1.0, 12.0, 40.0])
    whole = marginal_survival(fit, times)
    assert whole.dims == ("chain", "draw", "time_months")
    for c, d in [(0, 0), (1, 5)]:
        alpha = np.exp(posterior["log_alpha"].values[c, d])
        lam = np.exp(posterior["log_lambda"].values[c, d])
        risk = np.exp(design.X @ posterior["beta"].values[c, d])  # (n,)
        expected = np.exp(-lam * (times[None, :] / 12.0) ** alpha * risk[:, None]).mean(axis=0)
        np.testing.assert_allclose(whole.values[c, d], expected, rtol=1e-12)
    monkeypatch.setattr(predictive, "_CHUNK_ELEMENTS", 100)  # blocks of one draw
    np.testing.assert_array_equal(marginal_survival(fit, times).values, whole.values)
    thinned = marginal_survival(fit, times, max_draws=3)  # draws 0, 3, 6 of each chain
    assert list(thinned["draw"].values) == [0, 3, 6]
    np.testing.assert_array_equal(thinned.values, whole.values[:, [0, 3, 6]])
