"""Where a study's estimands come from: computed once per configuration, reused everywhere.

The estimands of the simulation study (:mod:`bayes_bcsm.simulation.estimands`: the scenario
effects and each method's pseudo-true log-HRs, averaged over a pool of large cohorts) depend
only on the generator and the study's design: the generator's parameters, the pool (patients
per cohort, seed, cohorts, survival redraws), the Table 3 covariates and their reference
levels, the piecewise cut points and the fixed scenario effects. That is the *key* of an entry
(built by :func:`bayes_bcsm.runs.simulate.estimand_key`). The default pool takes about 13
minutes on an idle 2-core machine, so an entry is looked up, in this order, in

1. the study folder's ``estimands.json``;
2. the entry shipped with the package (``data/simulation_estimands.json``, the estimands of
   the committed study ``docs/simulation``, i.e. of the default configuration);
3. the user cache: ``estimands/<sha256 of the key>.json`` in the folder of
   :func:`bayes_bcsm.inference.kernels.cache_dir` (``$BAYES_BCSM_CACHE_DIR`` or the platform's
   user cache folder);

and computed only when none holds it. Every entry stores its key and is used only when the
stored key equals the requested one, so a changed configuration never reuses stale estimands;
an unreadable or corrupt cache file is ignored with an :class:`EstimandCacheWarning`.
:data:`ESTIMANDS_ALGORITHM` is part of the comparison: raise it when the computation itself
changes (the likelihoods, the Cox engine, the generator's code), so that no earlier entry is
reused.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bayes_bcsm.atomic import write_text_atomic
from bayes_bcsm.inference.kernels import cache_dir
from bayes_bcsm.resources import bundled_file

__all__ = [
    "ESTIMANDS_ALGORITHM",
    "SHIPPED_ESTIMANDS",
    "EstimandCacheWarning",
    "FoundEstimands",
    "find_estimands",
    "read_entry",
    "shipped_path",
    "user_cache_path",
    "write_user_entry",
]

ESTIMANDS_ALGORITHM = 1
"""Version of the estimand computation; an entry written under another version is not used."""

SHIPPED_ESTIMANDS = "simulation_estimands.json"
"""The entry shipped with the package (the checkout's ``data/``)."""


class EstimandCacheWarning(UserWarning):
    """A cached estimand file was unreadable or corrupt and is ignored."""


@dataclass(frozen=True)
class FoundEstimands:
    """An entry found for a key, and where.

    Attributes
    ----------
    entry : dict
        ``{"key", "scenario_effects", "pseudo_true", "seconds", ...}``.
    source : str
        Where it came from, in words (for the log and the report).
    """

    entry: dict
    source: str


def _canonical(key: Mapping) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"), allow_nan=False)


def user_cache_path(key: Mapping) -> Path:
    """The user-cache file of a key: ``<cache_dir()>/estimands/<sha256>.json``."""
    text = f"{ESTIMANDS_ALGORITHM}:{_canonical(key)}"
    return cache_dir() / "estimands" / f"{hashlib.sha256(text.encode()).hexdigest()}.json"


def shipped_path() -> Path:
    """The shipped entry :data:`SHIPPED_ESTIMANDS`."""
    return bundled_file(SHIPPED_ESTIMANDS)


def read_entry(path: Path, key: Mapping, algorithm: bool = True) -> dict | None:
    """The entry stored at ``path`` if it holds ``key``, else ``None``.

    Parameters
    ----------
    path : Path
    key : mapping
        The requested key; compared with the stored ``key`` after a JSON round trip.
    algorithm : bool
        Also require the stored ``algorithm`` to be :data:`ESTIMANDS_ALGORITHM` (cache and
        shipped entries; a study folder's ``estimands.json`` records none).

    Returns
    -------
    dict or None
        ``None`` when the file is missing, holds another key, or is unreadable (then with an
        :class:`EstimandCacheWarning` naming the file).
    """
    if not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text())
        stored_key = entry["key"]
        missing = {"scenario_effects", "pseudo_true"} - set(entry)
        if missing:
            raise KeyError(", ".join(sorted(missing)))
    except (OSError, ValueError, KeyError, TypeError) as error:
        warnings.warn(
            f"ignoring the unreadable estimand file {path} ({type(error).__name__}: {error})",
            EstimandCacheWarning,
            stacklevel=2,
        )
        return None
    if _canonical(stored_key) != _canonical(json.loads(_canonical(key))):
        return None
    if algorithm and entry.get("algorithm") != ESTIMANDS_ALGORITHM:
        return None
    return entry


def find_estimands(key: Mapping) -> FoundEstimands | None:
    """The shipped entry or the user-cache entry of ``key`` (in that order), if any."""
    shipped = shipped_path()
    entry = read_entry(shipped, key)
    if entry is not None:
        where = f"shipped with the package ({shipped.name}: {entry.get('source', '')})"
        return FoundEstimands(entry, where)
    path = user_cache_path(key)
    entry = read_entry(path, key)
    if entry is not None:
        return FoundEstimands(entry, f"the user cache ({path})")
    return None


def write_user_entry(entry: Mapping) -> Path | None:
    """Store a computed entry in the user cache; a folder that cannot be written is skipped
    with an :class:`EstimandCacheWarning`.

    Parameters
    ----------
    entry : mapping
        With ``key``; written with ``algorithm`` = :data:`ESTIMANDS_ALGORITHM`.

    Returns
    -------
    Path or None
        The file written (``None`` when it could not be).
    """
    path = user_cache_path(entry["key"])
    record = {**entry, "algorithm": ESTIMANDS_ALGORITHM}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(record, indent=2, allow_nan=False) + "\n")
    except OSError as error:
        warnings.warn(
            f"could not store the estimands in the user cache {path} ({error})",
            EstimandCacheWarning,
            stacklevel=2,
        )
        return None
    return path
