"""Run every benchmark script in this folder (``bench_*.py``), one after another.

Each script prints a Markdown table with the machine and library versions; copy the tables
into docs/benchmarks.md. Benchmarks are never part of the test suite (timings on a shared
machine are noisy: compare ratios measured side by side in one run).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    """Run the benchmarks; return the number that failed."""
    failed = 0
    for script in sorted(Path(__file__).parent.glob("bench_*.py")):
        print(f"\n### {script.name}\n", flush=True)
        failed += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
