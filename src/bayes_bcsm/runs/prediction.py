"""The modelling half of ``bayes-bcsm predict`` (:mod:`bayes_bcsm.runs.predict` parses and checks
first): load the cohort, check the profiles against the card, load the saved posterior (or fit),
predict and write the results."""

from __future__ import annotations

import logging
from pathlib import Path

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bayes_bcsm.atomic import write_csv_atomic
from bayes_bcsm.config import ConfigError
from bayes_bcsm.data import check_estimable
from bayes_bcsm.data.profiles import design_profiles
from bayes_bcsm.inference.profile_prediction import profile_curves, profile_predictions
from bayes_bcsm.inference.sample import Fit
from bayes_bcsm.report.plots import save_figure
from bayes_bcsm.runs.common import prepare_run
from bayes_bcsm.runs.variant import complete_case_design, fit_variant, model_for, save_variant
from bayes_bcsm.settings import RunSettings

log = logging.getLogger(__name__)

__all__ = ["predict"]

#: Points of each profile's curve.
CURVE_POINTS = 100


def _saved_fit(model_settings: RunSettings, design, run_dir: Path) -> Fit:
    """The saved posterior with its model rebuilt (not compiled, not sampled)."""
    sm = model_for(model_settings, design)
    idata = az.from_netcdf(run_dir / "posterior.nc")
    post = idata["posterior"]
    saved = tuple(map(str, post["beta"]["covariate"].values)) if "beta" in post else ()
    if saved != tuple(sm.columns):
        raise ConfigError(
            f"predict.run_dir={run_dir}: posterior.nc holds covariates {list(saved)}, but its "
            f"resolved_config.yaml gives {list(sm.columns)}: the folder's files do not belong "
            "together"
        )
    return Fit(idata, sm, model_settings.sampler, 0.0, 0.0, False)


def _plot(curves: pd.DataFrame, last_months: float, time_label: str):
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for profile, rows in curves.groupby("profile", sort=False):
        t = rows["time_months"].to_numpy()
        (line,) = ax.plot(t, rows["estimate"], lw=1.8, label=str(profile))
        ax.fill_between(t, rows["lower"], rows["upper"], color=line.get_color(), alpha=0.15, lw=0)
        ax.fill_between(
            t, rows["lower_50"], rows["upper_50"], color=line.get_color(), alpha=0.3, lw=0
        )
    if t[-1] > last_months:
        ax.axvline(last_months, color="grey", lw=0.8, ls=":")
    ax.set_xlabel(time_label)
    ax.set_ylabel("Survival (posterior median, 50% and 95% bands)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def predict(settings: RunSettings, model_settings: RunSettings, output_dir: Path) -> pd.DataFrame:
    """Predict ``settings.predict.profiles`` under the model of ``model_settings``.

    Parameters
    ----------
    settings : RunSettings
        This run's settings (``predict``, ``absolute`` times, ``report``).
    model_settings : RunSettings
        The model's settings (the saved run's, or ``settings`` when fitting first).
    output_dir : Path
        The run folder.

    Returns
    -------
    pandas.DataFrame
        The rows of ``predictions.csv``.
    """
    inputs = prepare_run(model_settings, output_dir)
    design = complete_case_design(model_settings, inputs)
    prof = design_profiles(settings.predict.profiles, design.terms, inputs.card)
    last = float(np.max(design.time))
    wanted = settings.predict.times_for(model_settings.absolute)
    times = wanted.resolve(last, section="predict")
    run_dir = settings.predict.run_dir
    if run_dir is not None:
        fit = _saved_fit(model_settings, design, run_dir)
        log.info("predicting from %s (%s), no refit", run_dir / "posterior.nc", fit.model.family)
    else:
        check_estimable(design)
        family = model_settings.model.family
        variant = fit_variant(model_settings, inputs, family, folder=output_dir)
        save_variant(variant, output_dir, model_settings.report)
        fit = variant.fit
    table = profile_predictions(fit, prof, times.horizons_months, times.tau_months, last)
    end = max(last, times.tau_months, *times.horizons_months)
    curves = profile_curves(fit, prof, np.linspace(end / CURVE_POINTS, end, CURVE_POINTS))
    write_csv_atomic(table, output_dir / "predictions.csv", index=False)
    write_csv_atomic(curves, output_dir / "prediction_curves.csv", index=False)
    if settings.report.plots:
        figure = _plot(curves, last, inputs.card.time_label)
        save_figure(figure, output_dir / "prediction_curves.png")
    for row in table.itertuples():
        log.info(
            "%s %s: %.3g (95%% %.3g to %.3g)%s",
            row.profile,
            row.quantity,
            row.estimate,
            row.lower,
            row.upper,
            f" [{row.note}]" if row.note else "",
        )
    return table
