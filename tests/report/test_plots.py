"""Plots draw what they are given (checked on the artists, not just that a file exists)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_bcsm.report.plots import plot_forest, plot_km_curves, save_figure


def test_km_plot_draws_each_curve_and_published_points(tmp_path):
    table = pd.DataFrame(
        {"time": [1.0, 2.0], "survival": [0.8, 0.5], "lower": [0.6, 0.3], "upper": [0.9, 0.7]}
    )
    fig = plot_km_curves({"a": table, "b": table}, published_points={6: 0.9, 12: 0.8})
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["a", "b"] and "published (Hu 2025)" in labels
    x, y = ax.get_lines()[0].get_data()
    np.testing.assert_array_equal(x, [0, 1, 2])
    np.testing.assert_array_equal(y, [1, 0.8, 0.5])
    save_figure(fig, tmp_path / "km.png")
    assert (tmp_path / "km.png").stat().st_size > 1000


def test_forest_plot_one_series_per_model():
    frame = pd.DataFrame(
        {
            "covariate": ["x", "y", "x", "y"],
            "model": ["cox", "cox", "weibull", "weibull"],
            "estimate": [0.5, 2.0, 0.6, 1.8],
            "lower": [0.2, 1.0, 0.3, np.nan],
            "upper": [1.2, 4.0, 1.1, np.nan],
        }
    )
    fig = plot_forest(frame)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cox", "weibull"]


def test_forest_never_puts_time_ratios_on_a_hazard_ratio_axis():
    from bayes_bcsm.hazard_ratios import _frame
    from bayes_bcsm.report.plots import plot_forest

    table = _frame(
        [
            {"covariate": "x", "model": "cox", "estimate": 0.5, "lower": 0.3, "upper": 0.9},
            {
                "covariate": "x",
                "model": "lognormal",
                "estimate": 1.8,
                "lower": 1.2,
                "upper": 2.6,
                "measure": "time ratio",
            },
        ]
    )
    hr = plot_forest(table)
    tr = plot_forest(table, measure="time ratio")
    assert hr.axes[0].get_xlabel() == "Hazard ratio"
    assert [t.get_text() for t in hr.axes[0].get_legend().get_texts()] == ["cox"]
    assert tr.axes[0].get_xlabel() == "Time ratio"
    assert tr.axes[0].get_title() == "Time ratios (log scale)"
    assert [t.get_text() for t in tr.axes[0].get_legend().get_texts()] == ["lognormal"]


def test_prior_grid_panels_share_hazard_ratio_ticks():
    """Every panel of the prior-likelihood-posterior figure is labelled in hazard ratios on
    the log-HR axis: ticks at log(t), labelled t, within the plotted range."""
    import math

    import matplotlib.pyplot as plt

    from bayes_bcsm.reinterpret import PrintedEstimate, prior_grid, reinterpret
    from bayes_bcsm.report.reinterpret_plots import plot_prior_likelihood_posterior

    result = reinterpret([PrintedEstimate("therapy", 0.07, 0.007, 0.727)], prior_grid())
    fig = plot_prior_likelihood_posterior(result, "therapy")
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(result.priors)
    for ax in panels:
        lo, hi = ax.get_xlim()
        ticks = ax.get_xticks()
        formatter = ax.xaxis.get_major_formatter()  # labels of rows that show none too
        labels = [formatter(t, i) for i, t in enumerate(ticks)]
        assert labels == [f"{math.exp(t):g}" for t in ticks]
        assert "0.07" not in labels and {"0.1", "1", "10"} <= set(labels)
        assert all(lo <= t <= hi for t in ticks)
    plt.close(fig)


def test_arviz_collections_are_saved_with_nothing_cut_off(tmp_path):
    """ArviZ's LOO comparison puts its title above and its axis label below its fixed-size
    figure; the saved image holds all of it (cropped to what is drawn, plus a margin)."""
    import arviz as az
    import matplotlib.image as mpimg

    from bayes_bcsm.report.plots import save_collection

    loo = pd.DataFrame({"elpd_diff": [0.0, -2.1], "dse": [0.0, 1.9]}, index=["a", "b"])
    collection = az.plot_compare(loo, backend="matplotlib")
    fig = collection.viz["figure"].item()
    fig.canvas.draw()
    drawn = fig.get_tightbbox(fig.canvas.get_renderer())  # inches
    height_in = fig.bbox.height / fig.dpi
    assert drawn.y0 < 0 and drawn.y1 > height_in  # the case this guards against
    path = save_collection(collection, tmp_path / "loo.png")
    rows, columns = mpimg.imread(path).shape[:2]
    assert rows >= round(drawn.height * 100) and columns >= round(drawn.width * 100)


def test_rank_plot_rows_do_not_overlap():
    """Nine coefficients fill three rows of the rank plot: no panel's title overlaps another
    panel's tick labels or axis label (they did with ArviZ's fixed layout)."""
    import matplotlib.pyplot as plt
    import xarray as xr

    from bayes_bcsm.report.fit_report import rank_plot

    names = [f"covariate_{i}" for i in range(9)]
    draws = np.random.default_rng(1).normal(size=(4, 400, len(names)))
    posterior = xr.Dataset(
        {"beta": (("chain", "draw", "covariate"), draws)}, coords={"covariate": names}
    )
    collection = rank_plot(xr.DataTree.from_dict({"/posterior": posterior}), "beta")
    fig = collection.viz["figure"].item()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.has_data()]
    assert len(axes) == len(names)
    for ax in axes:
        title = ax.title.get_window_extent(renderer)
        for other in axes:
            if other is ax:
                continue
            labels = [t.get_window_extent(renderer) for t in other.get_xticklabels()]
            labels.append(other.xaxis.label.get_window_extent(renderer))
            assert not any(title.overlaps(box) for box in labels if box.width > 0)
    plt.close("all")
