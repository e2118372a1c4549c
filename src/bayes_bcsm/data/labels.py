"""Row labels of hazard-ratio tables and plots: what each design column compares, in card words.

A design column (``chemo``, ``stage[III]``, ``age``) is a name for joins and files; a reader needs
the comparison. For each covariate of the dataset card:

- binary: ``"chemotherapy: yes vs no"``, the level coded 1 against the reference (coded 0);
- categorical: ``"stage: III vs I"``, the level against the reference the design used;
- continuous: ``"age (per 10 years)"``, the unit its hazard ratio is per.

Columns the card does not describe (the study's contract) keep their design-column name.
"""

from __future__ import annotations

from collections.abc import Sequence

from bayes_bcsm.data.card import DatasetCard
from bayes_bcsm.data.design import CovariateTerm


def covariate_labels(terms: Sequence[CovariateTerm], card: DatasetCard) -> dict[str, str]:
    """Design column -> its row label (see the module docstring).

    Parameters
    ----------
    terms : sequence of CovariateTerm
        How each covariate entered the design (:attr:`bayes_bcsm.data.Design.terms`).
    card : DatasetCard
        The dataset card (labels, levels, units of its covariates).

    Returns
    -------
    dict of str to str
        One entry per design column of ``terms``.
    """
    described = {spec.column: spec for spec in card.covariates}
    labels = {}
    for term in terms:
        spec = described.get(term.name)
        if spec is None:
            labels |= {column: column for column in term.columns}
            continue
        name = spec.label or spec.column
        if term.kind == "binary":
            reference, present = spec.coded_levels
            labels[term.columns[0]] = f"{name}: {present} vs {reference}"
        elif term.kind == "categorical":
            others = term.levels[1:]
            labels |= {
                column: f"{name}: {level} vs {term.reference}"
                for column, level in zip(term.columns, others, strict=True)
            }
        else:
            labels[term.columns[0]] = f"{name} ({spec.hr_unit})"
    return labels


def profile_parts(terms: Sequence[CovariateTerm], card: DatasetCard) -> tuple[list[str], list[str]]:
    """What the survival profiles of a fit are, in card words.

    The ``reference`` profile has every design column at 0: binary and categorical covariates
    at their reference level, a continuous covariate at its design centre (its mean when
    standardised, else 0). Each other profile sets one design column to 1: a level against the
    reference, or a continuous covariate one design unit up (1 SD when standardised, else the
    unit its HR is per).

    Parameters
    ----------
    terms : sequence of CovariateTerm
    card : DatasetCard

    Returns
    -------
    reference : list of str
        The continuous covariates' values in the reference profile, e.g.
        ``["age 25.1 years (its mean)"]``.
    switched : list of str
        One entry per other profile, e.g. ``["age +6.2 years (1 SD; its HR is per year)",
        "fin: 1 vs 0"]``.
    """
    described = {spec.column: spec for spec in card.covariates}
    labels = covariate_labels(terms, card)
    reference, switched = [], []
    for term in terms:
        spec = described.get(term.name)
        if term.kind != "continuous" or spec is None:
            switched += [labels[column] for column in term.columns]
            continue
        name, unit = spec.label or spec.column, spec.unit or "units"
        standardised = term.scale != 1 or term.center != 0
        centre = f"{term.center * spec.hr_per:.3g} {unit}"
        reference.append(f"{name} {centre} (its mean)" if standardised else f"{name} 0 {unit}")
        step = f"{name} +{term.scale * spec.hr_per:.3g} {unit}"
        switched.append(f"{step} (1 SD; its HR is {spec.hr_unit})" if standardised else step)
    return reference, switched
