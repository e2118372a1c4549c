"""Derived groupings the paper analyses, computed from the stored contract columns.

They are never stored in the cohort file (one fact, one place). Each grouping is an
ordered categorical whose first level is the reference used by the paper's tables
unless a caller names another one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def _cut(values: pd.Series, edges: list[float], labels: list[str]) -> pd.Series:
    return pd.Series(
        pd.cut(values.astype(float), bins=edges, labels=labels, right=True, ordered=True),
        index=values.index,
    )


def _binary_levels(flag: pd.Series, yes: str, no: str, reference: str) -> pd.Series:
    """A 0/1 (or boolean) series as a two-level categorical with ``reference`` first."""
    levels = [reference, yes if reference == no else no]
    labels = pd.Series(np.where(flag.astype("boolean").fillna(False), yes, no), index=flag.index)
    labels[flag.isna()] = None
    return pd.Series(pd.Categorical(labels, categories=levels, ordered=True), index=flag.index)


def _neuro(grade: pd.Series) -> pd.Series:
    abc = grade.isin(["A", "B", "C"]).astype(int).where(grade.notna())
    return _binary_levels(abc, "A-C", "D-E", reference="D-E")


DERIVED_GROUPINGS: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {
    "age_group": (
        "Age <=50 vs >50 years (Table 2).",
        lambda f: _cut(f["age_years"], [-np.inf, 50, np.inf], ["<=50", ">50"]),
    ),
    "preop_neuro_dysfunction": (
        "ASIA A-C before surgery = neurological dysfunction (paper's definition); reference D-E.",
        lambda f: _neuro(f["asia_pre"]),
    ),
    "postop_neuro_dysfunction": (
        "ASIA A-C six months after surgery; reference D-E.",
        lambda f: _neuro(f["asia_post"]),
    ),
    "metastasis_spine_only": (
        "No other-bone and no visceral metastasis (Table 1 'spine only').",
        lambda f: _binary_levels(
            1 - ((f["other_bone_metastasis"] == 1) | (f["visceral_metastasis"] == 1)).astype(int),
            "yes",
            "no",
            reference="no",
        ),
    ),
    "pathology_group": (
        "Invasive (IDC, ILC) vs low-invasive (papillary, mucinous, other): Table 2's 69 / 9 split.",
        lambda f: pd.Series(
            pd.Categorical(
                f["pathology"]
                .map(
                    {
                        "idc": "invasive",
                        "ilc": "invasive",
                        "papillary": "low-invasive",
                        "mucinous": "low-invasive",
                        "other": "low-invasive",
                    }
                )
                .astype(object),
                categories=["invasive", "low-invasive"],
                ordered=True,
            ),
            index=f.index,
        ),
    ),
    "sins_group": (
        "SINS stable (<=6), potentially unstable (7-12), unstable (>=13).",
        lambda f: _cut(f["sins_score"], [-np.inf, 6, 12, np.inf], ["<=6", "7-12", ">=13"]),
    ),
    "escc_group": (
        "ESCC no compression (grades 0-1c) vs cord compression (2-3).",
        lambda f: pd.Series(
            pd.Categorical(
                f["escc_grade"]
                .map({"0": "0-1", "1a": "0-1", "1b": "0-1", "1c": "0-1", "2": "2-3", "3": "2-3"})
                .astype(object),
                categories=["0-1", "2-3"],
                ordered=True,
            ),
            index=f.index,
        ),
    ),
    "tomita_group": (
        "Tomita score 2-3, 4-5, 6-7 (8-10 does not occur for a breast primary).",
        lambda f: _cut(
            f["tomita_score"], [-np.inf, 3, 5, 7, np.inf], ["2-3", "4-5", "6-7", "8-10"]
        ),
    ),
    "tokuhashi_group": (
        "Revised Tokuhashi score 0-8, 9-11, 12-15.",
        lambda f: _cut(f["tokuhashi_score"], [-np.inf, 8, 11, np.inf], ["0-8", "9-11", "12-15"]),
    ),
    "surgery_group": (
        "TES, debulking, palliative (decompression + vertebroplasty), as Table 2.",
        lambda f: pd.Series(
            pd.Categorical(
                f["surgery_type"]
                .map(
                    {
                        "tes": "tes",
                        "debulking": "debulking",
                        "palliative_decompression": "palliative",
                        "vertebroplasty": "palliative",
                    }
                )
                .astype(object),
                categories=["tes", "debulking", "palliative"],
                ordered=True,
            ),
            index=f.index,
        ),
    ),
    "tes_vs_non_tes": (
        "TES vs all other surgery (Fig. 2b); reference non-TES.",
        lambda f: _binary_levels(
            (f["surgery_type"] == "tes").astype(int), "tes", "non-tes", reference="non-tes"
        ),
    ),
    "excision_vs_palliative": (
        "Tumour excision (TES or debulking) vs palliative (Fig. 2c); reference excision.",
        lambda f: _binary_levels(
            f["surgery_type"].isin(["palliative_decompression", "vertebroplasty"]).astype(int),
            "palliative",
            "excision",
            reference="excision",
        ),
    ),
    "kps_post_group": (
        "KPS six months after surgery >=70 vs <70; reference >=70.",
        lambda f: _binary_levels((f["kps_post"] < 70).astype(int), "<70", ">=70", reference=">=70"),
    ),
}


def derive_groupings(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every derived grouping added as an ordered categorical column.

    Parameters
    ----------
    frame : DataFrame
        A validated cohort frame (see :func:`bayes_bcsm.data.load_cohort`).

    Returns
    -------
    DataFrame
        A copy with the columns of :data:`DERIVED_GROUPINGS` added.
    """
    out = frame.copy()
    for name, (_, rule) in DERIVED_GROUPINGS.items():
        out[name] = rule(frame)
    return out
