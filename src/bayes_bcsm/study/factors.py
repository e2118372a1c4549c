"""The study's factor vocabulary: one record per factor, naming it in every layer's terms.

A factor of Hu et al. (2025) is called different things by different parts of the package:
its key in ``targets.yaml`` (``hormone_receptor_positive``), the column of the cohort with its
derived groupings (``hormone_receptor``), the design column of a model
(``hormone_receptor[positive]``), and the 0/1 indicator through which the reconstruction's
generator gives it a true effect (``hormone_receptor_positive``). The records below write that
correspondence down once; the hazard-ratio tables, the calibration, the simulation study's
truth and its default covariate set all read it from here.

Table 2 (univariate log-rank comparisons) gets a record per factor too: its key in
``targets.yaml``, its cohort column and the map from each printed level label to the cohort's
value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "GENERATOR_FACTORS",
    "TABLE2_FACTORS",
    "TABLE3_FACTORS",
    "Factor",
    "LogrankFactor",
    "table2_factor",
    "table3_factor",
]


@dataclass(frozen=True)
class Factor:
    """One covariate with a true effect in the generator (and possibly a Table 3 row).

    Attributes
    ----------
    indicator : str
        Name of its 0/1 indicator: the generator's effect name (a key of
        :data:`bayes_bcsm.reconstruct.TRUE_EFFECTS`) and the column of the calibration's
        analysis frame (:func:`bayes_bcsm.reconstruct.calibrate.analysis_frame`).
    cohort_column : str
        Column of the cohort with its derived groupings (the covariate name a design takes).
    level : str or None
        The level of ``cohort_column`` the indicator marks; ``None`` when the column is
        itself 0/1.
    table3 : str or None
        Its row in ``targets.yaml``'s ``table3`` (``None``: not in the paper's Table 3).
    """

    indicator: str
    cohort_column: str
    level: str | None = None
    table3: str | None = None

    @property
    def design_column(self) -> str:
        """The design column of the indicator (``name[level]`` for a categorical covariate)."""
        return self.cohort_column if self.level is None else f"{self.cohort_column}[{self.level}]"


@dataclass(frozen=True)
class LogrankFactor:
    """One Table 2 factor (or a comparison printed in the text / figures only).

    Attributes
    ----------
    target : str
        Its key in ``targets.yaml``'s ``table2``.
    cohort_column : str
        Column of the cohort with its derived groupings.
    labels : mapping of str to object
        Printed level label -> value of ``cohort_column`` (empty when no level is printed).
    """

    target: str
    cohort_column: str
    labels: Mapping[str, object] = MappingProxyType({})


#: Covariates the generator gives a true effect, observable in the cohort. The first four are
#: the rows of Table 3, in the paper's order.
GENERATOR_FACTORS: tuple[Factor, ...] = (
    Factor("preop_neuro_abc", "preop_neuro_dysfunction", "A-C", "preop_neuro_dysfunction"),
    Factor("postop_neuro_abc", "postop_neuro_dysfunction", "A-C", "postop_neuro_dysfunction"),
    Factor(
        "hormone_receptor_positive", "hormone_receptor", "positive", "hormone_receptor_positive"
    ),
    Factor("hormone_therapy", "hormone_therapy", None, "hormone_therapy"),
    Factor("visceral_metastasis", "visceral_metastasis"),
    Factor("solitary_spinal_lesion", "solitary_spinal_lesion"),
    Factor("radiotherapy", "radiotherapy"),
    Factor("chemo_or_targeted", "chemo_or_targeted"),
    Factor("breast_surgery_history", "breast_surgery_history"),
    Factor("age_over_50", "age_group", ">50"),
    Factor("low_invasive_pathology", "pathology_group", "low-invasive"),
    Factor("kps_post_lt70", "kps_post_group", "<70"),
)

#: The rows of the paper's Table 3 (multivariable Cox), in its order.
TABLE3_FACTORS: tuple[Factor, ...] = tuple(f for f in GENERATOR_FACTORS if f.table3 is not None)

_YES_NO = MappingProxyType({"yes": 1, "no": 0})
_ASIA = MappingProxyType({"yes (ASIA A-C)": "A-C", "no (ASIA D-E)": "D-E"})


def _same(*labels: str) -> Mapping[str, object]:
    return MappingProxyType({label: label for label in labels})


#: Table 2's fifteen factors, then the four comparisons printed only in the text and figures
#: (Tomita, Tokuhashi, TES vs non-TES, excision vs palliative), in ``targets.yaml``'s order.
TABLE2_FACTORS: tuple[LogrankFactor, ...] = (
    LogrankFactor("age", "age_group", _same("<=50", ">50")),
    LogrankFactor("breast_surgery_history", "breast_surgery_history", _YES_NO),
    LogrankFactor("preop_neuro_dysfunction", "preop_neuro_dysfunction", _ASIA),
    LogrankFactor("solitary_lesion", "solitary_spinal_lesion", _YES_NO),
    LogrankFactor("visceral_metastasis", "visceral_metastasis", _YES_NO),
    LogrankFactor("surgical_method", "surgery_group", _same("tes", "debulking", "palliative")),
    LogrankFactor("postop_neuro_dysfunction", "postop_neuro_dysfunction", _ASIA),
    LogrankFactor("pathology_group", "pathology_group", _same("invasive", "low-invasive")),
    LogrankFactor("kps_post", "kps_post_group", _same(">=70", "<70")),
    LogrankFactor("radiotherapy", "radiotherapy", _YES_NO),
    LogrankFactor("hormone_therapy", "hormone_therapy", _YES_NO),
    LogrankFactor("chemo_or_targeted", "chemo_or_targeted", _YES_NO),
    LogrankFactor("hormone_receptor", "hormone_receptor", _same("positive", "negative")),
    LogrankFactor("her2", "her2", _same("positive", "negative")),
    LogrankFactor(
        "ki67", "ki67", MappingProxyType({">40%": ">40", "10-40%": "10-40", "<10%": "<10"})
    ),
    LogrankFactor("tomita_group", "tomita_group"),
    LogrankFactor("tokuhashi_group", "tokuhashi_group"),
    LogrankFactor("tes_vs_non_tes", "tes_vs_non_tes"),
    LogrankFactor("excision_vs_palliative", "excision_vs_palliative"),
)


_TABLE3_BY_TARGET: Mapping[str, Factor] = MappingProxyType({f.table3: f for f in TABLE3_FACTORS})
_TABLE2_BY_TARGET: Mapping[str, LogrankFactor] = MappingProxyType(
    {f.target: f for f in TABLE2_FACTORS}
)


def _lookup(records: Mapping, target: str, table: str):
    try:
        return records[target]
    except KeyError:
        raise KeyError(f"{target!r} is not a {table} factor; valid: {list(records)}") from None


def table3_factor(target: str) -> Factor:
    """The Table 3 record with key ``target`` in ``targets.yaml``.

    Raises
    ------
    KeyError
        For an unknown key (the message lists the valid ones).
    """
    return _lookup(_TABLE3_BY_TARGET, target, "Table 3")


def table2_factor(target: str) -> LogrankFactor:
    """The Table 2 record with key ``target`` in ``targets.yaml``.

    Raises
    ------
    KeyError
        For an unknown key (the message lists the valid ones).
    """
    return _lookup(_TABLE2_BY_TARGET, target, "Table 2")
