"""Levels held by too few rows for their hazard ratio to mean anything.

A categorical level or binary value held by one patient gives a Cox coefficient (and a posterior,
pulled by its prior) that the data barely inform; nothing fails, so the run says so instead.
"""

from __future__ import annotations

import numpy as np

from bayes_bcsm.data.design import Design

#: Fewest rows a level of a binary or categorical covariate should hold.
MIN_LEVEL_ROWS = 5


def sparse_levels(design: Design, minimum: int = MIN_LEVEL_ROWS) -> list[str]:
    """The levels of the design's binary and categorical covariates held by fewer than
    ``minimum`` rows, reference levels included.

    Parameters
    ----------
    design : Design
    minimum : int
        Fewest rows a level should hold.

    Returns
    -------
    list of str
        E.g. ``["race = b (1 row, 0 events)"]``, in design order; empty when none is sparse.
    """
    X = np.asarray(design.X, dtype=float)
    event = np.asarray(design.event, dtype=int)
    found, j = [], 0
    for term in design.terms:
        width = len(term.columns)
        block = X[:, j : j + width]
        j += width
        if term.kind == "continuous":
            continue
        if term.kind == "binary":
            masks = {"0": block[:, 0] == 0, "1": block[:, 0] == 1}
        else:
            masks = {term.reference: ~block.any(axis=1)}
            masks |= {lvl: block[:, k] == 1 for k, lvl in enumerate(term.levels[1:])}
        for level, mask in masks.items():
            rows = int(mask.sum())
            if rows < minimum:
                events = int(event[mask].sum())
                found.append(
                    f"{term.name} = {level} ({rows} row{'s' * (rows != 1)}, "
                    f"{events} event{'s' * (events != 1)})"
                )
    return found


def sparse_levels_warning(design: Design, minimum: int = MIN_LEVEL_ROWS) -> str | None:
    """A one-line warning naming the sparse levels (:func:`sparse_levels`), or None."""
    found = sparse_levels(design, minimum)
    if not found:
        return None
    return (
        f"sparse level(s) {'; '.join(found)}: fewer than {minimum} rows each, so their hazard "
        "ratios are barely informed by the data; merge them with another level or drop them"
    )
