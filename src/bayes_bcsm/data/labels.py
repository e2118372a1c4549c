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
