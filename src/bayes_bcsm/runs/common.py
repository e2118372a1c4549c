"""What every run does once its config is parsed: record provenance, load and account the cohort.

The functions here take :class:`~bayes_bcsm.settings.RunSettings` (never the config) and hand
plain objects (a validated cohort frame) to the library; no PyMC is imported.
"""

from __future__ import annotations

import platform
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from bayes_bcsm.atomic import write_text_atomic
from bayes_bcsm.config import STUDY_CONTRACT
from bayes_bcsm.data import derive_groupings, load_cohort
from bayes_bcsm.data.card import load_with_card
from bayes_bcsm.data.landmark import landmark_frame
from bayes_bcsm.report.render import strict_json
from bayes_bcsm.results import RunInputs
from bayes_bcsm.settings import RunSettings

PROVENANCE_PACKAGES = (
    "bayes_bcsm",
    "pymc",
    "pytensor",
    "nutpie",
    "arviz",
    "arviz-base",
    "arviz-stats",
    "arviz-plots",
    "hydra-core",
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape a run's numbers."""
    versions = {"python": platform.python_version()}
    for name in PROVENANCE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_provenance(settings: RunSettings, output_dir: Path) -> None:
    """Save the resolved config and the library versions beside a run's results."""
    output_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output_dir / "resolved_config.yaml", settings.resolved_config)
    write_text_atomic(
        output_dir / "provenance.json",
        strict_json({"versions": package_versions(), "seed": settings.seed}),
    )


def prepare_run(settings: RunSettings, output_dir: str | Path) -> RunInputs:
    """Record provenance and load the cohort the (parsed) settings name, before any long work.

    Parameters
    ----------
    settings : RunSettings
        The run's parsed configuration (:func:`bayes_bcsm.settings.parse_settings`).
    output_dir : str or Path
        The run's folder (Hydra's output directory when run from an entry point).

    Returns
    -------
    RunInputs

    Raises
    ------
    CohortValidationError, FileNotFoundError, DesignError
        Before any model is compiled or sampled (a landmark no patient reaches included).
    """
    output_dir = Path(output_dir)
    write_provenance(settings, output_dir)
    return load_inputs(settings, output_dir)


def load_inputs(settings: RunSettings, output_dir: Path) -> RunInputs:
    """Load and account the cohort the settings name, coded as they say (exposure coding,
    landmark); :func:`prepare_run` without the provenance files.

    Parameters
    ----------
    settings : RunSettings
    output_dir : Path
        The run's folder (recorded in the inputs).

    Returns
    -------
    RunInputs
    """
    data = settings.data
    if data.card.contract == STUDY_CONTRACT:
        cohort = load_cohort(data.path)
        frame = derive_groupings(cohort.frame)
    else:
        cohort = load_with_card(data.card, data.path)
        frame = cohort.frame
    if settings.landmark is not None:
        frame, note = landmark_frame(frame, settings.landmark)
        accounting = replace(cohort.accounting, notes=(*cohort.accounting.notes, note))
        cohort = replace(cohort, frame=frame, accounting=accounting)
    return RunInputs(
        cohort=cohort,
        frame=frame,
        is_reconstruction=data.is_reconstruction,
        output_dir=output_dir,
        card=data.card,
    )
