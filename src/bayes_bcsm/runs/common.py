"""What every run does first: validate the config, record provenance, load and account the cohort.

This is the edge where configuration stops: the functions here read a Hydra config and hand
plain objects (a validated cohort frame, a design) to the library.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from omegaconf import DictConfig

from bayes_bcsm.atomic import write_text_atomic
from bayes_bcsm.config import (
    STUDY_CONTRACT,
    ConfigError,
    cohort_path,
    dataset_card,
    is_bundled_reconstruction,
    prior_spec,
    resolved_yaml,
    uses_fixed_cuts,
    validate_config,
)
from bayes_bcsm.data import Design, derive_groupings, load_cohort
from bayes_bcsm.data.card import load_with_card
from bayes_bcsm.models import (
    FAMILIES,
    MissingDesign,
    SurvivalModel,
    model_family,
    piecewise_cuts,
)
from bayes_bcsm.report.render import strict_json
from bayes_bcsm.results import RunInputs

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


def write_provenance(cfg: DictConfig, output_dir: Path) -> None:
    """Save the resolved config and the library versions beside a run's results."""
    output_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(output_dir / "resolved_config.yaml", resolved_yaml(cfg))
    write_text_atomic(
        output_dir / "provenance.json",
        strict_json({"versions": package_versions(), "seed": int(cfg.seed)}),
    )


def prepare_run(cfg: DictConfig, output_dir: str | Path) -> RunInputs:
    """Validate ``cfg``, record provenance and load the cohort, before any long work.

    Parameters
    ----------
    cfg : DictConfig
        A composed run configuration.
    output_dir : str or Path
        The run's folder (Hydra's output directory when run from an entry point).

    Returns
    -------
    RunInputs

    Raises
    ------
    ConfigError, CohortValidationError, FileNotFoundError
        Before any model is compiled or sampled.
    """
    validate_config(cfg)
    output_dir = Path(output_dir)
    write_provenance(cfg, output_dir)
    card = dataset_card(cfg)
    if card.contract == STUDY_CONTRACT:
        cohort = load_cohort(cohort_path(cfg))
        frame = derive_groupings(cohort.frame)
    else:
        cohort = load_with_card(card, cohort_path(cfg))
        frame = cohort.frame
    return RunInputs(
        cohort=cohort,
        frame=frame,
        is_reconstruction=is_bundled_reconstruction(cfg),
        output_dir=output_dir,
        card=card,
    )


def model_for(cfg: DictConfig, design: Design | MissingDesign) -> SurvivalModel:
    """Build the configured Bayesian model on ``design`` (through the model-family registry).

    Raises
    ------
    ConfigError
        If the configured family is not a Bayesian model (``model=cox``).
    """
    family = cfg.model.family
    prior = prior_spec(cfg)
    if family.value not in FAMILIES:
        raise ConfigError(f"model.family={family.value} has no Bayesian model")
    entry = model_family(family.value)
    options = {}
    if "cuts" in entry.options:
        base = design.design if isinstance(design, MissingDesign) else design
        if uses_fixed_cuts(cfg):
            options["cuts"] = piecewise_cuts(cuts=list(cfg.model.cuts_months))
        else:
            options["cuts"] = piecewise_cuts(
                time=base.time, event=base.event, n_quantile_intervals=cfg.model.n_intervals
            )
    if "baseline_prior" in entry.options:
        options["baseline_prior"] = cfg.model.baseline_prior.value
    return entry.build(design, prior=prior, **options)
