"""The paper's own analyses recomputed with the frequentist baselines, beside the published values.

Table 2 (univariate Kaplan-Meier medians with SPSS-style 95 % CIs and log-rank P values),
Table 3 (the paper's selection procedure: log-rank screen at P < 0.05, then Cox backward
elimination) and the data of Figs 1-3 (Kaplan-Meier curves by group). Computation only: the
report module draws and writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_bcsm.frequentist import (
    KaplanMeierResult,
    SelectionResult,
    kaplan_meier,
    logrank_test,
    paper_selection,
)
from bayes_bcsm.hazard_ratios import cox_rows, published_rows
from bayes_bcsm.reconstruct.calibrate import FACTORS
from bayes_bcsm.study import Targets

#: The paper's figures: panel -> (cohort column or None for the whole cohort, target factor).
FIGURES: dict[str, tuple[str | None, str | None]] = {
    "fig1_overall": (None, None),
    "fig2a_surgical_method": ("surgery_group", "surgical_method"),
    "fig2b_tes_vs_non_tes": ("tes_vs_non_tes", "tes_vs_non_tes"),
    "fig2c_excision_vs_palliative": ("excision_vs_palliative", "excision_vs_palliative"),
    "fig3a_tomita": ("tomita_group", "tomita_group"),
    "fig3b_tokuhashi": ("tokuhashi_group", "tokuhashi_group"),
}


def _groups(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, list]:
    """Rows where ``column`` is known, and its observed levels in their natural order."""
    values = frame[column]
    known = values.notna().to_numpy()
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = [c for c in values.cat.categories if (values == c).any()]
    else:
        levels = sorted(values.dropna().unique().tolist())
    return known, levels


@dataclass(frozen=True)
class KaplanMeierFigure:
    """The data of one of the paper's Kaplan-Meier figures, recomputed on the cohort.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"fig2a_surgical_method"``.
    caption : str
        Caption for the report.
    curves : dict of str to DataFrame
        Kaplan-Meier table per group (``time``, ``survival``, ``lower``, ``upper``).
    published_points : dict of float to float or None
        Published survival proportions by time (months), for the overall curve.
    logrank_p, published_p : float or None
        Log-rank P on the cohort and as printed (grouped figures only).
    n_used : int or None
        Patients with the grouping known.
    """

    name: str
    caption: str
    curves: dict[str, pd.DataFrame]
    published_points: dict[float, float] | None = None
    logrank_p: float | None = None
    published_p: float | None = None
    n_used: int | None = None


def km_figures(frame: pd.DataFrame, targets: Targets) -> tuple[KaplanMeierFigure, ...]:
    """The data of Figs 1-3 (:data:`FIGURES`): KM curves by group, the log-rank P beside the
    printed one, and the published survival points for the overall curve."""
    figures = []
    for name, (column, factor) in FIGURES.items():
        curves = {label: km.table for label, km in km_by(frame, column).items()}
        if column is None:
            figures.append(
                KaplanMeierFigure(
                    name,
                    "Fig. 1: overall survival, with the published KM points",
                    curves,
                    published_points={float(t): s for t, s in targets.survival_at.items()},
                )
            )
            continue
        result, n_used = logrank_by(frame, column)
        figures.append(
            KaplanMeierFigure(
                name,
                f"{name.split('_', 1)[0].title()}: {column}",
                curves,
                logrank_p=float(result.p_value),
                published_p=targets.logrank(factor).p_value,
                n_used=n_used,
            )
        )
    return tuple(figures)


def logrank_by(frame: pd.DataFrame, column: str):
    """Log-rank test of ``column`` on the rows where it is known (result, rows used)."""
    known, _ = _groups(frame, column)
    rows = frame.loc[known]
    group = rows[column]
    if not isinstance(group.dtype, pd.CategoricalDtype):
        group = group.astype(str)
    result = logrank_test(rows["time_months"].to_numpy(float), rows["event"].to_numpy(int), group)
    return result, int(known.sum())


def km_by(frame: pd.DataFrame, column: str | None) -> dict[str, KaplanMeierResult]:
    """Kaplan-Meier fits per level of ``column`` (the whole cohort when None)."""
    if column is None:
        return {"all patients": kaplan_meier(frame["time_months"], frame["event"])}
    _, levels = _groups(frame, column)
    return {
        str(level): kaplan_meier(
            frame.loc[frame[column] == level, "time_months"],
            frame.loc[frame[column] == level, "event"],
        )
        for level in levels
    }


def table2(frame: pd.DataFrame, targets: Targets) -> pd.DataFrame:
    """Table 2 recomputed beside the published figures.

    One row per factor level (and one per text-only comparison): published n, median and CI
    and log-rank P; the cohort's n, KM median with the SPSS-style CI (estimate +/- 1.96 SE,
    as the paper's software printed) and log-rank P; whether P falls on the same side of
    0.05; the patients the factor's test used.
    """
    rows = []
    for factor, (column, labels) in FACTORS.items():
        target = targets.logrank(factor)
        result, n_used = logrank_by(frame, column)
        common = {
            "factor": factor,
            "column": column,
            "published_p": target.p_value,
            "p": float(result.p_value),
            "n_used": n_used,
            "same_side_of_0.05": bool((result.p_value < 0.05) == (target.p_value < 0.05)),
        }
        if not target.levels:
            rows.append({**common, "level": ""})
            continue
        for level in target.levels:
            value = labels[level.level]
            subset = frame[frame[column].astype(object) == value]
            km = kaplan_meier(subset["time_months"], subset["event"])
            lower, upper = km.median_ci(method="spss")
            rows.append(
                {
                    **common,
                    "level": level.level,
                    "published_n": level.n,
                    "n": len(subset),
                    "published_median": level.median_months,
                    "median": km.median,
                    "published_ci": (
                        f"{level.ci[0]:g}-{level.ci[1]:g}" if level.ci is not None else "-"
                    ),
                    "median_ci_spss": (
                        f"{lower:.1f}-{upper:.1f}" if np.isfinite([lower, upper]).all() else "-"
                    ),
                }
            )
    columns = [
        "factor",
        "level",
        "published_n",
        "n",
        "published_median",
        "median",
        "published_ci",
        "median_ci_spss",
        "published_p",
        "p",
        "same_side_of_0.05",
        "column",
        "n_used",
    ]
    table = pd.DataFrame(rows).reindex(columns=columns)
    return table.astype({"published_n": "Int64", "n": "Int64"})


@dataclass(frozen=True)
class Table3:
    """The paper's selection procedure on the cohort, beside the published Table 3."""

    selection: SelectionResult
    hazard_ratios: pd.DataFrame


def table3(
    frame: pd.DataFrame,
    targets: Targets,
    factors: Sequence[str],
    screen_p: float = 0.05,
    remove_p: float = 0.10,
) -> Table3:
    """Run the paper's procedure over ``factors`` and set its final model beside Table 3.

    Parameters
    ----------
    frame : DataFrame
        Cohort with derived groupings.
    targets : Targets
        Published figures.
    factors : sequence of str
        Candidate factors (cohort columns), screened by log-rank at ``screen_p``.
    screen_p, remove_p : float
        Screening and removal (likelihood-ratio) thresholds; the paper's 0.05 and SPSS's
        default 0.10.
    """
    selection = paper_selection(
        frame, "time_months", "event", list(factors), screen_p=screen_p, remove_p=remove_p
    )
    tables = [published_rows(targets)]
    if selection.final is not None:
        tables.append(cox_rows(selection.final, "cox after selection"))
    return Table3(selection, pd.concat(tables, ignore_index=True))
