"""Atomic result files: a kill, a full disk or a read-only folder never leaves a half file.

(Issue 19, "Atomic writes": a SIGKILL while ``posterior.nc`` was written left a truncated file
under the real name; a full disk gave a segfault and a truncated posterior; a read-only folder
an ``OSError`` traceback.)
"""

from __future__ import annotations

import errno
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bayes_bcsm.atomic import (
    OutputWriteError,
    atomic_path,
    check_writable,
    refused_write,
    write_text_atomic,
)
from bayes_bcsm.errors import BayesBcsmUserError
from tests.filesystems import tmpfs


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_sigkill_during_a_write_leaves_no_file_under_the_real_name(tmp_path):
    """A process killed in the middle of a large write: no partial file appears under the
    real name (only the hidden temporary ``.posterior.nc.<pid>.tmp``, matching no pattern)."""
    target = tmp_path / "posterior.nc"
    code = textwrap.dedent(
        f"""
        import sys, time
        from bayes_bcsm.atomic import atomic_path
        with atomic_path({str(target)!r}) as temporary:
            with open(temporary, "wb") as file:
                file.write(b"x" * 1_000_000)
                file.flush()
                print("writing", flush=True)
                time.sleep(60)  # killed here, mid-write
                file.write(b"y" * 1_000_000)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert process.stdout.readline().strip() == "writing"
    temporaries = [p for p in tmp_path.iterdir() if p.name.startswith(".posterior.nc.")]
    assert temporaries and temporaries[0].stat().st_size == 1_000_000  # really mid-write
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert not target.exists()
    assert not list(tmp_path.glob("*.nc")), "no partial file under a result's name or pattern"


def test_a_finished_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = write_text_atomic(tmp_path / "sub" / "loo.json", '{"elpd": 1}\n')
    assert target.read_text() == '{"elpd": 1}\n'
    assert _leftovers(tmp_path / "sub") == ["loo.json"]


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (errno.ENOSPC, "the disk is full (ENOSPC)"),
        (errno.EROFS, "the file system is read-only (EROFS)"),
        (errno.EACCES, "permission denied (EACCES)"),
    ],
)
def test_an_injected_refusal_is_one_user_error_and_leaves_nothing(tmp_path, code, cause):
    target = tmp_path / "posterior.nc"
    target.write_bytes(b"previous results")
    with pytest.raises(OutputWriteError) as caught:
        with atomic_path(target) as temporary:
            temporary.write_bytes(b"half a posterior")
            raise OSError(code, "injected")
    message = str(caught.value)
    assert isinstance(caught.value, BayesBcsmUserError)
    assert message.startswith(f"cannot write {target}: {cause}; ")
    assert "\n" not in message
    assert target.read_bytes() == b"previous results"
    assert _leftovers(tmp_path) == ["posterior.nc"]


def test_a_refusal_wrapped_by_a_library_is_found_in_the_chain():
    """HDF5 (h5py) reports ENOSPC as a RuntimeError raised while handling the OSError."""
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise RuntimeError("Can't decrement id ref count (file write failed)")  # noqa: B904
    except RuntimeError as wrapped:
        assert refused_write(wrapped).errno == errno.ENOSPC
    assert refused_write(ValueError("not a file system error")) is None


def test_other_errors_pass_through_unchanged_and_leave_nothing(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with atomic_path(tmp_path / "summary.csv") as temporary:
            temporary.write_text("a,b\n")
            raise ZeroDivisionError
    assert _leftovers(tmp_path) == []


def test_a_full_tmpfs_refuses_the_write_with_one_line_and_leaves_nothing(tmp_path):
    with tmpfs(tmp_path / "full", size="64k") as full:
        (full / "earlier.csv").write_text("kept\n")
        with pytest.raises(OutputWriteError, match=r"disk is full \(ENOSPC\)") as caught:
            write_text_atomic(full / "posterior.nc", "x" * 200_000)
        assert str(full / "posterior.nc") in str(caught.value)
        assert _leftovers(full) == ["earlier.csv"]
        assert (full / "earlier.csv").read_text() == "kept\n"


def test_a_posterior_larger_than_the_disk_is_refused_not_a_crash(tmp_path):
    """The netCDF writer on a full disk: one line and exit 1 (HDF5 writing straight to the
    full disk segfaulted, exit 139), no file under the real name. In a subprocess, so that a
    crash cannot take the test session with it."""
    with tmpfs(tmp_path / "full", size="64k") as full:
        code = textwrap.dedent(
            f"""
            import numpy as np, arviz as az
            from bayes_bcsm.atomic import write_netcdf_atomic
            from bayes_bcsm.errors import BayesBcsmUserError
            draws = np.random.default_rng(1).normal(size=(2, 10_000))
            tree = az.from_dict({{"posterior": {{"beta": draws}}}})
            try:
                write_netcdf_atomic(tree, {str(full / "posterior.nc")!r})
            except BayesBcsmUserError as error:
                print(error)
                raise SystemExit(1)
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 1, result.stderr[-2000:]
        assert "posterior.nc: the disk is full (ENOSPC)" in result.stdout
        assert result.stderr == ""
        assert _leftovers(full) == []


def test_a_read_only_folder_refuses_the_write_and_the_check(tmp_path):
    with tmpfs(tmp_path / "ro", read_only=True) as read_only:
        with pytest.raises(OutputWriteError, match=r"read-only \(EROFS\)"):
            write_text_atomic(read_only / "report.md", "# report\n")
        with pytest.raises(OutputWriteError, match=rf"cannot write {read_only / 'sub'}: .*EROFS"):
            check_writable(read_only / "sub")


def test_check_writable_with_an_injected_refusal(tmp_path, monkeypatch):
    """Where no tmpfs can be mounted: the refusal is injected at the probe file."""

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("bayes_bcsm.atomic.tempfile.mkstemp", refuse)
    with pytest.raises(OutputWriteError, match=r"report: permission denied \(EACCES\)"):
        check_writable(tmp_path / "report")
