"""Row labels of hazard-ratio tables and plots: what each design column compares, in card words.

A design column (``chemo``, ``stage[III]``, ``age``) is a name for joins and files; a reader needs
the comparison. For each covariate of the dataset card:

- binary: ``"chemotherapy: yes vs no"``, the level coded 1 against the reference (coded 0);
- categorical: ``"stage: III vs I"``, the level against the reference the design used;
- continuous: ``"age (per 10 years)"``, the unit its hazard ratio is per.

Columns the card does not describe (the study's contract) keep their design-column name.

Beyond the row label, :func:`covariate_contrasts` names each comparison's reference (the
``contrast`` column of ``hazard_ratios.csv``: ``"yes vs no (reference)"``, ``"III vs I
(reference)"``, ``"per 10 years"``) and :func:`reference_levels` says it in one sentence for
reports; both cover the study's contract too (binary ``1 vs 0``, a continuous covariate per
unit of its column).
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


def covariate_contrasts(terms: Sequence[CovariateTerm], card: DatasetCard) -> dict[str, str]:
    """Design column -> what its hazard ratio compares, the reference named.

    Binary: ``"yes vs no (reference)"`` (the card's levels; ``"1 vs 0 (reference)"`` for a
    column the card does not describe); categorical: ``"III vs I (reference)"``; continuous:
    the unit the HR is per (``"per 10 years"``; ``"per unit of <column>"`` undescribed).

    Parameters
    ----------
    terms : sequence of CovariateTerm
        How each covariate entered the design.
    card : DatasetCard
        The dataset card.
    """
    described = {spec.column: spec for spec in card.covariates}
    contrasts = {}
    for term in terms:
        spec = described.get(term.name)
        if term.kind == "binary":
            reference, present = spec.coded_levels if spec else ("0", "1")
            contrasts[term.columns[0]] = f"{present} vs {reference} (reference)"
        elif term.kind == "categorical":
            contrasts |= {
                column: f"{level} vs {term.reference} (reference)"
                for column, level in zip(term.columns, term.levels[1:], strict=True)
            }
        else:
            unit = spec.hr_unit if spec else f"per unit of {term.name}"
            contrasts[term.columns[0]] = unit
    return contrasts


def reference_levels(terms: Sequence[CovariateTerm], card: DatasetCard) -> str:
    """One sentence naming each covariate's reference, for the reports, e.g. ``"Reference
    levels (each HR compares a level with it): chemotherapy: no; stage: I. HRs of continuous
    covariates: age per 10 years."``

    Parameters
    ----------
    terms : sequence of CovariateTerm
    card : DatasetCard
    """
    described = {spec.column: spec for spec in card.covariates}
    levels, continuous = [], []
    for term in terms:
        spec = described.get(term.name)
        name = (spec.label or spec.column) if spec else term.name
        if term.kind == "binary":
            levels.append(f"{name}: {spec.coded_levels[0] if spec else '0'}")
        elif term.kind == "categorical":
            levels.append(f"{name}: {term.reference}")
        else:
            continuous.append(f"{name} {spec.hr_unit if spec else 'per unit of its column'}")
    parts = []
    if levels:
        parts.append("Reference levels (each HR compares a level with it): " + "; ".join(levels))
    if continuous:
        parts.append("HRs of continuous covariates: " + "; ".join(continuous))
    return ". ".join(parts) + "." if parts else ""


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
