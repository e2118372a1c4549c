"""Files shipped inside the package, and where a user's relative paths point.

The Hydra configs and the shipped data sets (the reconstructed cohort with its generating config,
GBSG2) live once, in the checkout's top-level ``conf/`` and ``data/``; the build maps them into the
package as ``bayes_bcsm.conf`` and ``bayes_bcsm.bundled`` (``pyproject.toml``,
``[tool.setuptools.package-dir]``). They are found through :mod:`importlib.resources`, never through
the layout of a checkout: an installed wheel finds its own copies from any folder, and an editable
install finds ``conf/`` and ``data/`` of the checkout itself (so ``bayes-bcsm calibrate`` rewrites
the committed cohort there). A path the user gives (``data.path``, ``simulation.run_dir``) is the
opposite: it is relative to the folder the command was run from (Hydra's original working
directory), never to the package.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

CONF_PACKAGE = "bayes_bcsm.conf"
"""The package holding the Hydra configs (``config.yaml`` and the config groups)."""

CONF_SEARCH_PATH = f"pkg://{CONF_PACKAGE}"
"""The same configs as a Hydra search-path entry (``@hydra.main(config_path=...)``)."""

BUNDLED_PACKAGE = "bayes_bcsm.bundled"
"""The package holding the shipped data sets (the checkout's top-level ``data/``)."""


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
        ``<site-packages>/bayes_bcsm/conf`` in a wheel install, the checkout's ``conf/`` in an
        editable one.
    """
    return _package_path(CONF_PACKAGE)


def bundled_cohort() -> Path:
    """The bundled reconstructed cohort ``bcsm_reconstructed.csv`` (not patient data).

    Returns
    -------
    Path
        ``bcsm_reconstructed.csv`` of :data:`BUNDLED_PACKAGE` (the checkout's ``data/``).
    """
    return _package_path(BUNDLED_PACKAGE, "bcsm_reconstructed.csv")


def bundled_file(name: str) -> Path:
    """A data file shipped in :data:`BUNDLED_PACKAGE` (the checkout's ``data/``): ``gbsg2.csv`` ...

    Raises
    ------
    FileNotFoundError
        Naming the file and the bundled files there are.
    """
    folder = _package_path(BUNDLED_PACKAGE)
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
        ``reconstruction.yaml`` of :data:`BUNDLED_PACKAGE` (the checkout's ``data/``).
    """
    return _package_path(BUNDLED_PACKAGE, "reconstruction.yaml")


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
