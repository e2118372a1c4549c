"""Every result file is written atomically: under a temporary name, then renamed.

A run killed mid-write (SIGKILL, a crash) therefore leaves either the previous file or none
under a result's real name, never a truncated one; at most a hidden ``.<name>.<pid>.tmp``
beside it, which :func:`atomic_path` removes whenever it can. A write the file system refuses —
a full disk (``ENOSPC``, ``EDQUOT``), a read-only mount (``EROFS``), no permission
(``EACCES``, ``EPERM``) — becomes an :class:`OutputWriteError` naming the file and the cause,
which the command line reports as one line with exit status 1.

Every writer of results in the package goes through :func:`atomic_path` (``savefig``:
anything that takes a path), :func:`write_text_atomic`, :func:`write_csv_atomic` or
:func:`write_netcdf_atomic`.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bayes_bcsm.errors import BayesBcsmUserError

__all__ = [
    "OutputWriteError",
    "atomic_path",
    "check_writable",
    "refused_write",
    "write_csv_atomic",
    "write_netcdf_atomic",
    "write_refusal",
    "write_text_atomic",
]

_FREE = "free some space or write elsewhere, then rerun"
_ELSEWHERE = "choose a folder you can write to, then rerun"
WRITE_REFUSALS = {
    errno.ENOSPC: ("the disk is full", _FREE),
    errno.EDQUOT: ("the disk quota is exceeded", _FREE),
    errno.EROFS: ("the file system is read-only", _ELSEWHERE),
    errno.EACCES: ("permission denied", _ELSEWHERE),
    errno.EPERM: ("operation not permitted", _ELSEWHERE),
}
"""The ``errno`` values of a write the file system refused (not a bug): the cause, the remedy."""


class OutputWriteError(BayesBcsmUserError):
    """A result file could not be written: the disk is full, read-only or not writable."""


def refused_write(error: BaseException) -> OSError | None:
    """The file-system refusal behind ``error`` (itself or a cause / context), else None.

    Libraries wrap the ``OSError`` of a failed write in their own exceptions (netCDF, HDF5,
    matplotlib); the chain of ``__cause__`` / ``__context__`` is searched for one whose
    ``errno`` is in :data:`WRITE_REFUSALS`.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in WRITE_REFUSALS:
            return current
        current = current.__cause__ or current.__context__
    return None


def write_refusal(error: BaseException, path: str | Path | None = None) -> OutputWriteError | None:
    """``error`` as an :class:`OutputWriteError` if a file-system refusal is behind it, else None.

    Parameters
    ----------
    error : BaseException
        What a write raised.
    path : str or Path, optional
        The file being written; the refused ``OSError``'s own ``filename`` by default.
    """
    cause = refused_write(error)
    if cause is None:
        return None
    where = path if path is not None else (cause.filename or "a result file")
    reason, remedy = WRITE_REFUSALS[cause.errno]
    return OutputWriteError(
        f"cannot write {where}: {reason} ({errno.errorcode[cause.errno]}); {remedy}"
    )


def check_writable(folder: str | Path) -> None:
    """Make sure files can be created in ``folder`` (creating it), before long work starts.

    Raises
    ------
    OutputWriteError
        Naming the folder and the cause (read-only, full, no permission, not a folder).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(dir=folder, prefix=".write_check.")
        os.close(descriptor)
        os.unlink(probe)
    except OSError as error:
        refusal = write_refusal(error, folder)
        if refusal is not None:
            raise refusal from error
        raise OutputWriteError(
            f"cannot write in {folder}: {error.strerror or error}; choose another folder"
        ) from error


def temporary_name(path: Path) -> Path:
    """The hidden sibling a result is written to before its rename: ``.<name>.<pid>.tmp``.

    It does not end in the result's extension, so no ``*.csv`` / ``*.nc`` pattern picks up
    one left by a killed process; writers that choose the format from the extension
    (``savefig``) are given it explicitly.
    """
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; rename it to ``path`` on success.

    The parent folder is created if missing. If the block raises, the temporary file is
    removed and nothing appears under ``path`` (a previous file there is kept).

    Parameters
    ----------
    path : str or Path
        The result's real name.

    Yields
    ------
    Path
        Where to write (same folder, so the rename is atomic).

    Raises
    ------
    OutputWriteError
        If the file system refused the write (full, read-only, no permission): names ``path``
        and the cause.

    Examples
    --------
    >>> with atomic_path(folder / "posterior.nc") as tmp:  # doctest: +SKIP
    ...     idata.to_netcdf(tmp)
    """
    path = Path(path)
    temporary = temporary_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield temporary
        os.replace(temporary, path)
    except BaseException as error:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass  # the original error is what the user must see
        refusal = None if isinstance(error, OutputWriteError) else write_refusal(error, path)
        if refusal is not None:
            raise refusal from error
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`atomic_path`); return ``path``."""
    path = Path(path)
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def write_netcdf_atomic(tree, path: str | Path) -> Path:
    """Write an ArviZ ``DataTree`` (or xarray ``Dataset``) as netCDF to ``path`` atomically.

    The file is serialised in memory first (``to_netcdf()`` with no path) and then written as
    bytes: HDF5 writing straight to a full disk fails inside its own clean-up and can end the
    process with a segmentation fault, while a plain write raises ``ENOSPC``.
    """
    path = Path(path)
    with tree.to_netcdf() as data, atomic_path(path) as temporary:  # data: a memoryview
        with open(temporary, "wb") as file:  # (write_bytes keeps a view alive in its traceback)
            file.write(data)
    return path


def write_csv_atomic(frame, path: str | Path, **to_csv) -> Path:
    """Write a DataFrame as CSV to ``path`` atomically; ``to_csv`` goes to ``frame.to_csv``."""
    path = Path(path)
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, **to_csv)
    return path
