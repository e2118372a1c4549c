"""Benchmark: `make run`'s experiment part, warm, optionally side by side with another commit.

Plain script (not a test)::

    .venv/bin/python benchmarks/bench_make_run_paired.py [--against REV] [--rounds 6] [--pause 12]

Each run is a new process of this interpreter running ``python -m bayes_bcsm compare
experiment=bayes_vs_cox`` (``make run``'s command) with the compiled-model cache warm (one run
of each commit beforehand, which also compiles its bytecode). With ``--against REV`` that commit
is checked out in a temporary git worktree and its sources are put first on ``PYTHONPATH``; the
two commits then run alternately, ``--pause`` seconds apart, so that both meet the same state of
a shared machine (issue 25: compare ratios measured side by side, never absolute times taken at
different moments). The configs and the bundled data are this checkout's for both.

Printed: per run the one-minute load average before it, the wall time and the CPU time (user +
system, the plotting worker included); then the means and the ratio of the mean wall times.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ["-m", "bayes_bcsm", "compare", "experiment=bayes_vs_cox"]


def run_once(source: Path, out: Path) -> tuple[float, float]:
    """One run with ``source`` (a ``src`` folder) first on the path: wall and CPU seconds."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *COMMAND, f"hydra.run.dir={out}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"make run with {source} failed:\n{done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="another commit to run alternately with this one")
    parser.add_argument("--rounds", type=int, default=6, help="runs of each commit")
    parser.add_argument("--pause", type=float, default=12.0, help="seconds between runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sources = {"this checkout": ROOT / "src"}
        if args.against:
            tree = Path(tmp) / "against"
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(ROOT),
                    "worktree",
                    "add",
                    "-q",
                    "--detach",
                    str(tree),
                    args.against,
                ],
                check=True,
            )
            sources = {args.against: tree / "src", **sources}
        try:
            for label, source in sources.items():  # warm: kernels cached, bytecode compiled
                run_once(source, Path(tmp) / "warm" / label.replace(" ", "_"))
            results: dict[str, list[tuple[float, float]]] = {label: [] for label in sources}
            print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
            print(
                "\n| run | commit | load before | wall (s) | CPU (s) |\n|---:|---|---:|---:|---:|"
            )
            for round_ in range(1, args.rounds + 1):
                for label, source in sources.items():
                    time.sleep(args.pause)
                    load = os.getloadavg()[0]
                    out = Path(tmp) / f"{label.replace(' ', '_')}_{round_}"
                    wall, cpu = run_once(source, out)
                    results[label].append((wall, cpu))
                    print(
                        f"| {round_} | {label} | {load:.2f} | {wall:.2f} | {cpu:.1f} |", flush=True
                    )
        finally:
            if args.against:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    check=False,
                )
    means = {
        label: [sum(v) / len(v) for v in zip(*runs, strict=True)] for label, runs in results.items()
    }
    print()
    for label, (wall, cpu) in means.items():
        print(f"mean, {label}: wall {wall:.2f} s, CPU {cpu:.1f} s")
    if args.against:
        ratio = means["this checkout"][0] / means[args.against][0]
        print(f"this checkout against {args.against}: {ratio:.2f}x the mean wall time")


if __name__ == "__main__":
    main()
