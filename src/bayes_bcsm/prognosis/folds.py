"""Repeated, event-stratified K-fold splits and the settings that define them (PyMC-free).

Each repeat shuffles the patients with its own generator (``SeedSequence([seed, repeat])``),
deals the events and then the censored patients round-robin over the K folds, so every fold
holds (almost) the same number of events. Splits depend on the seed only, never on the number
of worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bayes_bcsm.errors import SettingError

__all__ = [
    "SMALL_COHORT",
    "CrossValidationSpec",
    "fold_labels",
    "task_seed",
]

#: Below this many patients the default is 20 repeats, from it on 5 (a larger cohort's
#: cross-validated figures vary less from one split to the next).
SMALL_COHORT = 200


@dataclass(frozen=True)
class CrossValidationSpec:
    """How out-of-sample figures are estimated.

    Attributes
    ----------
    folds : int
        K (>= 2; K = 1 would leave nobody to test on).
    repeats : int or None
        Independent K-fold splits; None: 20 below :data:`SMALL_COHORT` patients, else 5.
    seed : int
        Seed of the splits and of every refit's sampler.
    workers : int
        Processes fitting folds at once (>= 1); the figures do not depend on it.
    """

    folds: int = 5
    repeats: int | None = None
    seed: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        if int(self.folds) != self.folds or self.folds < 2:
            raise SettingError(
                "expected an integer >= 2 (K = 1 leaves no patient to test on)",
                ("folds",),
                (self.folds,),
            )
        if self.repeats is not None and (int(self.repeats) != self.repeats or self.repeats < 1):
            raise SettingError("expected an integer >= 1 or null", ("repeats",), (self.repeats,))
        if int(self.workers) != self.workers or self.workers < 1:
            raise SettingError("expected an integer >= 1", ("workers",), (self.workers,))

    def repeats_for(self, n: int) -> int:
        """Repeats used for a cohort of ``n`` patients."""
        if self.repeats is not None:
            return int(self.repeats)
        return 20 if n < SMALL_COHORT else 5


def fold_labels(event: npt.ArrayLike, spec: CrossValidationSpec) -> np.ndarray:
    """Fold of each patient in each repeat, stratified by the event indicator.

    Parameters
    ----------
    event : array, shape (n,)
        1 = event, 0 = censored.
    spec : CrossValidationSpec

    Returns
    -------
    ndarray of int, shape (repeats, n)
        Values 0 .. K-1.

    Raises
    ------
    SettingError
        When K exceeds the number of events (a fold's test set would hold no event, and
        its training set every event, in every repeat).
    """
    event = np.asarray(event)
    n_events = int((event == 1).sum())
    if spec.folds > n_events:
        raise SettingError(
            f"expected at most the {n_events} events of the cohort", ("folds",), (spec.folds,)
        )
    repeats = spec.repeats_for(len(event))
    labels = np.empty((repeats, len(event)), dtype=int)
    for r in range(repeats):
        rng = np.random.default_rng(np.random.SeedSequence([spec.seed, r]))
        order = np.concatenate(
            [
                rng.permutation(np.flatnonzero(event == 1)),
                rng.permutation(np.flatnonzero(event != 1)),
            ]
        )
        labels[r, order] = np.arange(len(event)) % spec.folds
    return labels


def task_seed(seed: int, repeat: int, fold: int) -> int:
    """Seed of one refit (fold ``fold`` of repeat ``repeat``; ``repeat = -1`` for the fit on
    everyone), the same whichever process runs it."""
    return int(np.random.SeedSequence([seed, repeat + 1, fold]).generate_state(1)[0])
