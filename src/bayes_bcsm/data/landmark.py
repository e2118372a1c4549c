"""Landmark analysis: survival from a fixed time L, with exposures as they were known at L.

A landmark analysis (Anderson, Cain & Gelber 1983) is the simple answer to immortal time: it
keeps the patients alive and under follow-up at L, classifies each by her covariates at L
(an exposure that started after L counts as not exposed: it was not known at L), and measures
time from L. It works on the canonical cohort frame (one row per patient, or one row per
(start, stop] episode with ``entry_months``) and returns one row per patient, followed from L.

Pure pandas / numpy: no I/O.

References
----------
Anderson, J. R., Cain, K. C. & Gelber, R. D. (1983). Analysis of survival by tumor response.
*Journal of Clinical Oncology* 1, 710-719.
Dafni, U. (2011). Landmark analysis at the 25-year landmark point. *Circulation:
Cardiovascular Quality and Outcomes* 4, 363-371.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_bcsm.data.card import ENTRY_COLUMN
from bayes_bcsm.data.design import DesignError
from bayes_bcsm.errors import SettingError

__all__ = ["Landmark", "landmark_frame"]


@dataclass(frozen=True)
class Landmark:
    """The landmark time of an analysis.

    Attributes
    ----------
    months : float
        L, months from time zero (> 0).

    Raises
    ------
    SettingError
        For a landmark that is not a finite number of months > 0.
    """

    months: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.months) and self.months > 0):
            raise SettingError("expected a time in months > 0", ("months",), (self.months,))


def landmark_frame(frame: pd.DataFrame, landmark: Landmark) -> tuple[pd.DataFrame, str]:
    """The patients alive and under follow-up at L, their covariates at L, time from L.

    A patient is kept when one of her rows is at risk at L, i.e. ``entry <= L < time`` (entry 0
    without ``entry_months``): she entered by L, had not died or been censored by L, and was
    not in a gap of her follow-up. That row gives her covariates (an exposure starting at L is
    known at L; one starting later is not). Her time is her last stop minus L, her event that of
    her last row.

    Parameters
    ----------
    frame : DataFrame
        Canonical frame: ``patient_id``, ``time_months``, ``event``, covariates, and
        ``entry_months`` when rows start after 0.
    landmark : Landmark

    Returns
    -------
    (DataFrame, str)
        One row per kept patient (no ``entry_months``; ``time_months`` from L), and a one-line
        account of who was kept.

    Raises
    ------
    DesignError
        When no patient is at risk at L, naming ``landmark_months`` and the longest follow-up.
    """
    L = landmark.months
    ids = frame["patient_id"] if "patient_id" in frame else pd.Series(np.arange(len(frame)))
    ids = ids.reset_index(drop=True)
    rows = frame.reset_index(drop=True)
    entry = rows[ENTRY_COLUMN] if ENTRY_COLUMN in rows else pd.Series(0.0, index=rows.index)
    at_risk = ((entry <= L) & (rows["time_months"] > L)).to_numpy()
    n_patients = ids.nunique()
    if not at_risk.any():
        raise DesignError(
            f"landmark_months={L:g}: no patient is alive and under follow-up at {L:g} months "
            f"(the longest follow-up ends at {rows['time_months'].max():.3g} months); choose "
            "an earlier landmark"
        )
    last = rows.groupby(ids, sort=False)[["time_months", "event"]].agg(
        {"time_months": "max", "event": "max"}
    )
    kept = rows.loc[at_risk].drop(columns=[ENTRY_COLUMN], errors="ignore")
    kept_ids = ids[at_risk]
    kept["time_months"] = last.loc[kept_ids, "time_months"].to_numpy() - L
    kept["event"] = last.loc[kept_ids, "event"].to_numpy()
    kept = kept.reset_index(drop=True)
    note = (
        f"landmark at {L:g} months: {len(kept)} of {n_patients} patients alive and under "
        f"follow-up at {L:g} months, covariates as known then, time measured from {L:g} months"
    )
    return kept, note
