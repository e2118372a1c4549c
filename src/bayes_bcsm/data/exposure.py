"""An exposure's levels as settings of its design columns (standardisation, g-computation).

Standardised survival sets an exposure to each of its levels for every analysed patient; this
module says what "each level" is on the design scale, in card words:

- binary: the reference (coded 0) and the other level (coded 1);
- categorical: the reference (every indicator 0) and each other level (its indicator 1);
- continuous: refused (it has no levels to set).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from bayes_bcsm.data.card import DatasetCard
from bayes_bcsm.data.design import CovariateTerm, Design, DesignError

__all__ = ["Exposure", "ExposureLevel", "exposure_levels"]


@dataclass(frozen=True)
class ExposureLevel:
    """One level of an exposure.

    Attributes
    ----------
    name : str
        The level as the card names it (``"yes"``, ``"III"``; ``"0"``/``"1"`` for an
        undescribed 0/1 column).
    values : mapping of str to float
        The value of each of the exposure's design columns at this level.
    """

    name: str
    values: Mapping[str, float]


@dataclass(frozen=True)
class Exposure:
    """A binary or categorical covariate whose levels a standardisation compares.

    Attributes
    ----------
    covariate : str
        The cohort column.
    label : str
        Its name in reports (the card's label, else the column with spaces).
    levels : tuple of ExposureLevel
        Reference first.
    """

    covariate: str
    label: str
    levels: tuple[ExposureLevel, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The exposure's design columns."""
        return tuple(self.levels[0].values)

    @property
    def reference(self) -> ExposureLevel:
        """The reference level (differences are each other level minus it)."""
        return self.levels[0]

    def level_of_rows(self, design: Design) -> np.ndarray:
        """The level name of each row of ``design`` (from its design columns)."""
        idx = [design.columns.index(c) for c in self.columns]
        x = design.X[:, idx]
        codes = np.zeros(len(x), dtype=int)
        for k, level in enumerate(self.levels[1:], start=1):
            target = np.array([level.values[c] for c in self.columns])
            codes[np.all(x == target, axis=1)] = k
        return np.array([lvl.name for lvl in self.levels], dtype=object)[codes]


def exposure_levels(term: CovariateTerm, card: DatasetCard, key: str) -> Exposure:
    """The levels of covariate ``term`` as settings of its design columns.

    Parameters
    ----------
    term : CovariateTerm
        How the exposure entered the design.
    card : DatasetCard
        Its labels and level names.
    key : str
        The config key that named the exposure (for the refusal).

    Returns
    -------
    Exposure

    Raises
    ------
    DesignError
        For a continuous covariate, naming ``key``.
    """
    spec = {s.column: s for s in card.covariates}.get(term.name)
    label = spec.label if spec is not None and spec.label else term.name.replace("_", " ")
    if term.kind == "continuous":
        raise DesignError(
            f"{key}={term.name}: a continuous covariate has no levels to set every patient to; "
            "expected a binary or categorical covariate of covariates.names"
        )
    if term.kind == "binary":
        names = spec.coded_levels if spec is not None else ("0", "1")
        column = term.columns[0]
        levels = (ExposureLevel(names[0], {column: 0.0}), ExposureLevel(names[1], {column: 1.0}))
        return Exposure(term.name, label, levels)
    reference = ExposureLevel(str(term.reference), dict.fromkeys(term.columns, 0.0))
    others = tuple(
        ExposureLevel(level, {c: float(c == column) for c in term.columns})
        for level, column in zip(term.levels[1:], term.columns, strict=True)
    )
    return Exposure(term.name, label, (reference, *others))
