"""Files shipped inside the package, and where a user's relative paths point.

The Hydra configs (``bayes_bcsm/conf``) and the bundled reconstructed cohort with its generating
config (``bayes_bcsm/data/bundled``) are package data: they are found through
:mod:`importlib.resources`, never through the layout of a checkout, so an installed wheel runs from
any folder. A path the user gives (``data.path``, ``simulation.run_dir``) is the opposite: it is
relative to the folder the command was run from (Hydra's original working directory), never to
the package.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

CONF_PACKAGE = "bayes_bcsm.conf"
"""The package holding the Hydra configs (``config.yaml`` and the config groups)."""

CONF_SEARCH_PATH = f"pkg://{CONF_PACKAGE}"
"""The same configs as a Hydra search-path entry (``@hydra.main(config_path=...)``)."""

BUNDLED_PACKAGE = "bayes_bcsm.data"
BUNDLED_FOLDER = "bundled"


def _package_path(package: str, *parts: str) -> Path:
    """A file or folder inside an installed package, as a file-system path.

    Raises
    ------
    RuntimeError
        If the package is not installed as plain files (e.g. imported from a zip archive), where
        Hydra and the CSV reader could not open its data.
    """
    root = resources.files(package)
    if not isinstance(root, Path):
        raise RuntimeError(
            f"{package} is not installed as plain files ({root!r}); install the wheel normally"
        )
    return root.joinpath(*parts)


def conf_dir() -> Path:
    """The folder of the packaged Hydra configs (``config.yaml``, ``model/``, ``experiment/`` ...).

    Returns
    -------
    Path
        ``<site-packages or src>/bayes_bcsm/conf``.
    """
    return _package_path(CONF_PACKAGE)


def bundled_cohort() -> Path:
    """The bundled reconstructed cohort ``bcsm_reconstructed.csv`` (not patient data).

    Returns
    -------
    Path
        ``bayes_bcsm/data/bundled/bcsm_reconstructed.csv`` inside the installed package.
    """
    return _package_path(BUNDLED_PACKAGE, BUNDLED_FOLDER, "bcsm_reconstructed.csv")


def bundled_file(name: str) -> Path:
    """A data file shipped in ``bayes_bcsm/data/bundled/`` (e.g. ``gbsg2.csv``).

    Raises
    ------
    FileNotFoundError
        Naming the file and the bundled files there are.
    """
    folder = _package_path(BUNDLED_PACKAGE, BUNDLED_FOLDER)
    path = folder / name
    if not path.is_file():
        shipped = sorted(p.name for p in folder.iterdir() if p.suffix in (".csv", ".parquet"))
        raise FileNotFoundError(f"no bundled data file {name!r}; shipped: {shipped}")
    return path


def reconstruction_config() -> Path:
    """The generating config of the bundled cohort, ``reconstruction.yaml`` (parameters, seed).

    Returns
    -------
    Path
        ``bayes_bcsm/data/bundled/reconstruction.yaml`` inside the installed package.
    """
    return _package_path(BUNDLED_PACKAGE, BUNDLED_FOLDER, "reconstruction.yaml")


def user_path(path: str | os.PathLike[str]) -> Path:
    """A path the user gave, made absolute against the folder the command was run from.

    Inside a Hydra run that folder is Hydra's original working directory
    (``hydra.runtime.cwd``, also in multirun jobs and launchers that change directory);
    outside one, it is the current working directory. Absolute paths are returned unchanged.

    Parameters
    ----------
    path : str or PathLike
        A user-supplied path, e.g. ``data.path`` or ``simulation.run_dir``.

    Returns
    -------
    Path
        An absolute path.
    """
    from hydra.utils import to_absolute_path

    return Path(to_absolute_path(os.fspath(path)))
