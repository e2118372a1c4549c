"""The hazard-ratio table as reports show it: one row per covariate, one column per source."""

from __future__ import annotations

import pandas as pd

from bayes_bcsm.hazard_ratios import row_labels
from bayes_bcsm.report.sentences import draw_percent, percent, probability_clause

__all__ = ["side_by_side"]

#: Short form of each ``measure`` in report cells.
_ABBREVIATION = {"hazard ratio": "HR", "time ratio": "TR"}


def side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """Wide view for reports: one row per covariate (its ``label``), ``HR (lower-upper)`` per
    source.

    Bayesian columns add ``P(HR<1)`` as a percentage that never rounds to certainty
    (:func:`bayes_bcsm.report.sentences.percent`; a share of none or all of a fit's
    posterior draws as a bound, :func:`bayes_bcsm.report.sentences.draw_percent`); frequentist
    ones add ``P``. An accelerated-failure-time model's column is headed ``<model> (time
    ratio)`` and gives ``P(TR<1)``: its ratios are time ratios, not hazard ratios.
    """

    def cell(row: pd.Series) -> str:
        text = f"{row.estimate:.2f} ({row.lower:.2f}-{row.upper:.2f})"
        if pd.notna(row.p_hr_below_1):
            share = (
                percent(row.p_hr_below_1)
                if pd.isna(row.n_draws)
                else draw_percent(row.p_hr_below_1, int(row.n_draws))
            )
            text += "; " + probability_clause(f"{_ABBREVIATION[row.measure]}<1", share)
        elif pd.notna(row.p_value):
            text += "; P<0.001" if row.p_value < 0.001 else f"; P={row.p_value:.3f}"
        return text

    time_ratio = table["measure"] == "time ratio"
    table = table.assign(model=table["model"].where(~time_ratio, table["model"] + " (time ratio)"))
    cells = table.assign(cell=table.apply(cell, axis=1))
    wide = cells.pivot(index="covariate", columns="model", values="cell")
    order = list(dict.fromkeys(table["model"]))
    wide = wide[[m for m in order if m in wide.columns]]
    wide = wide.reindex(list(dict.fromkeys(table["covariate"]))).fillna("")
    wide.columns.name = None
    return wide.rename(index=row_labels(table)).reset_index()
