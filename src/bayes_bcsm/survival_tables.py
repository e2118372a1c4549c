"""Frequentist survival tables for any cohort: Kaplan-Meier by group, log-rank, Cox.

What ``bayes-bcsm reproduce`` computes for a dataset card that is not the paper's study (the
paper's own Tables 2-3 live in :mod:`bayes_bcsm.paper`). Computation only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_bcsm.data import build_design, check_estimable
from bayes_bcsm.data.card import DatasetCard, design_roles
from bayes_bcsm.data.labels import covariate_contrasts, covariate_labels
from bayes_bcsm.frequentist import cox_ph_design, kaplan_meier, logrank_test
from bayes_bcsm.hazard_ratios import cox_rows, with_labels
from bayes_bcsm.paper import KaplanMeierFigure


@dataclass(frozen=True)
class CohortTables:
    """Kaplan-Meier medians by group, log-rank tests and a Cox model on one cohort.

    Attributes
    ----------
    km : DataFrame
        One row per group column and level: ``group, level, n, events, median_months,
        median_lower, median_upper`` (R ``survfit``'s median CI, log transform).
    logrank : DataFrame
        One row per group column: ``group, chi2, df, p_value, n_used``.
    hazard_ratios : DataFrame
        Cox (Efron; Wald CI) rows of :data:`bayes_bcsm.hazard_ratios.HR_COLUMNS`.
    figures : tuple of KaplanMeierFigure
        The Kaplan-Meier curves of each group column with its log-rank P.
    cox_warnings : tuple of str
        What the Cox fit warned about.
    """

    km: pd.DataFrame
    logrank: pd.DataFrame
    hazard_ratios: pd.DataFrame
    figures: tuple[KaplanMeierFigure, ...]
    cox_warnings: tuple[str, ...] = ()


def cohort_tables(
    frame: pd.DataFrame,
    groups: Sequence[str],
    covariates: Sequence[str],
    reference: dict[str, str] | None = None,
    card: DatasetCard | None = None,
) -> CohortTables:
    """Kaplan-Meier and log-rank by each of ``groups``; Cox on ``covariates``.

    Parameters
    ----------
    frame : DataFrame
        Canonical cohort frame (``time_months``, ``event`` and the covariates).
    groups : sequence of str
        Binary or categorical columns to split the Kaplan-Meier curves by (rows with the
        group unknown are left out of that group's table and test, and counted in ``n_used``).
    covariates : sequence of str
        Covariates of the Cox model (complete cases).
    reference : dict, optional
        Reference levels of categorical covariates.
    card : DatasetCard, optional
        The dataset card: a binary group's curves are named by its levels (``chemo = yes``,
        not ``chemo = 1``) and the Cox rows labelled in its words
        (:func:`bayes_bcsm.data.labels.covariate_labels`).

    Raises
    ------
    bayes_bcsm.data.DesignError
        Before any table, when the Cox model cannot be estimated
        (:func:`bayes_bcsm.data.check_estimable`).
    """
    roles = design_roles(frame)
    design = build_design(frame, list(covariates), reference=reference, **roles)
    check_estimable(design)
    km_rows, tests, figures = [], [], []
    for column in groups:
        known = frame[frame[column].notna()]
        named = _named_levels(known[column], card)
        labels = named.astype(str)
        levels = list(dict.fromkeys(str(v) for v in _levels(named)))
        curves = {}
        for level in levels:
            part = known[labels == level]
            km = kaplan_meier(part["time_months"], part["event"], entry=_entry(part, roles))
            lower, upper = km.median_ci(method="r")
            curves[f"{column} = {level}"] = km.table
            km_rows.append(
                {
                    "group": column,
                    "level": level,
                    "n": _patients(part),
                    "events": int(part["event"].sum()),
                    "median_months": km.median,
                    "median_lower": lower,
                    "median_upper": upper,
                }
            )
        test = logrank_test(
            known["time_months"].to_numpy(float),
            known["event"].to_numpy(int),
            labels,
            entry=_entry(known, roles),
        )
        tests.append(
            {
                "group": column,
                "chi2": float(test.statistic),
                "df": int(test.df),
                "p_value": float(test.p_value),
                "n_used": _patients(known),
            }
        )
        figures.append(
            KaplanMeierFigure(
                f"km_{column}",
                f"Kaplan-Meier by {column}",
                curves,
                logrank_p=float(test.p_value),
                n_used=_patients(known),
            )
        )
    cox = cox_ph_design(design)
    hazard_ratios = cox_rows(cox, "cox", design.n_patients)
    if card is not None:
        hazard_ratios = with_labels(
            hazard_ratios,
            covariate_labels(design.terms, card),
            covariate_contrasts(design.terms, card),
        )
    return CohortTables(
        pd.DataFrame(km_rows),
        pd.DataFrame(tests),
        hazard_ratios,
        tuple(figures),
        tuple(cox.warnings),
    )


def _named_levels(values: pd.Series, card: DatasetCard | None) -> pd.Series:
    """A binary covariate of ``card`` (coded 0/1) as its level names, reference first; any
    other column as it is."""
    described = {spec.column: spec for spec in card.covariates} if card is not None else {}
    spec = described.get(str(values.name))
    if spec is None or spec.kind != "binary":
        return values
    names = values.map(lambda code: spec.coded_levels[int(code)])
    return pd.Series(pd.Categorical(names, categories=list(spec.coded_levels)), index=values.index)


def _entry(rows: pd.DataFrame, roles: dict) -> np.ndarray | None:
    """Entry times of the rows (a Kaplan-Meier curve or log-rank test with delayed entry: the
    Simon-Makuch curve of a time-varying group), None when everyone is at risk from 0."""
    return None if roles["entry"] is None else rows[roles["entry"]].to_numpy(float)


def _patients(rows: pd.DataFrame) -> int:
    """Patients among the rows (a patient with several (start, stop] rows counts once)."""
    return int(rows["patient_id"].nunique()) if "patient_id" in rows else len(rows)


def _levels(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [c for c in values.cat.categories if (values == c).any()]
    return sorted(np.unique(values.dropna()).tolist())
