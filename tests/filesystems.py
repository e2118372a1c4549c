"""Small file systems for fault tests: a full disk and a read-only folder, for real.

Mounting a ``tmpfs`` needs root (as in the project's containers); where ``mount`` is refused,
the tests that need one skip and their injected-``errno`` twins still run.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(target: Path, size: str = "64k", read_only: bool = False) -> Iterator[Path]:
    """Mount a ``tmpfs`` of ``size`` on ``target`` (created) for the block; skip if refused."""
    target.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)
