"""Sharded, resumable execution of simulation replicates.

A study is cut into shards (scenario x sample size x a block of replicates). Each shard writes
its own results file atomically (temporary file, then rename), so a killed study leaves only
complete shard files behind; rerunning skips the shards already done. A shard whose work raises
leaves a ``.failed.json`` file with the error instead of results, and the status table reports
it: nothing goes missing silently. Seeds depend on (base seed, scenario, n, replicate) only, so
the shard layout, the order of execution and the number of worker processes never change the
numbers.
"""

from __future__ import annotations

import contextlib
import functools
import json
import multiprocessing
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_bcsm.atomic import write_csv_atomic, write_text_atomic


@dataclass(frozen=True)
class ShardSpec:
    """One unit of work: replicates ``start`` .. ``stop - 1`` of one scenario at one n."""

    scenario: str
    n: int
    index: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        """File stem, e.g. ``null_n78_shard0003``."""
        return f"{self.scenario}_n{self.n}_shard{self.index:04d}"

    @property
    def replicates(self) -> range:
        """Replicate indices in this shard."""
        return range(self.start, self.stop)


def plan_shards(
    scenarios: Sequence[str], sizes: Sequence[int], replicates: int, shard_size: int
) -> list[ShardSpec]:
    """Cut ``replicates`` per (scenario, n) into shards of at most ``shard_size``.

    Raises
    ------
    ValueError
        If ``replicates`` or ``shard_size`` is not positive, or a list is empty.
    """
    if replicates <= 0 or shard_size <= 0:
        raise ValueError(
            f"replicates={replicates} and shard_size={shard_size} must both be positive"
        )
    if not scenarios or not sizes:
        raise ValueError("at least one scenario and one sample size are needed")
    specs = []
    for scenario in scenarios:
        for n in sizes:
            for index, start in enumerate(range(0, replicates, shard_size)):
                specs.append(
                    ShardSpec(scenario, int(n), index, start, min(start + shard_size, replicates))
                )
    return specs


def replicate_seed(base_seed: int, scenario: str, n: int, replicate: int) -> np.random.SeedSequence:
    """The seed of one replicate, independent of how replicates are sharded or ordered."""
    scenario_key = int.from_bytes(scenario.encode("utf-8")[:16].ljust(16, b"\0"), "little")
    return np.random.SeedSequence([int(base_seed), scenario_key, int(n), int(replicate)])


def shard_paths(folder: Path, spec: ShardSpec) -> tuple[Path, Path]:
    """The results file and the failure file of a shard."""
    return folder / f"{spec.name}.csv", folder / f"{spec.name}.failed.json"


def run_shards(
    folder: str | Path,
    specs: Sequence[ShardSpec],
    work: Callable[[ShardSpec], pd.DataFrame],
    workers: int = 1,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Run every shard not yet done; return the status table.

    Parameters
    ----------
    folder : str or Path
        Where shard files live (shared by every process of a sweep).
    specs : sequence of ShardSpec
        Shards this call is responsible for.
    work : callable
        Computes one shard's replicate rows. With ``workers > 1`` it is sent to other
        processes, so it must be picklable (a module-level function or a
        ``functools.partial`` of one).
    workers : int
        Shards computed at once, each in a fresh (spawned) process. Each shard's file is
        written by this process as soon as that shard finishes.
    executor : Executor, optional
        Worker processes to use instead (:func:`worker_pool`; ``workers`` is then ignored), so
        that later work (the study's SBC) runs in the same processes, with their imports and
        compiled models already loaded.

    Returns
    -------
    DataFrame
        Columns ``shard``, ``state`` ("done", "skipped" — already done — or "failed"),
        ``message``; one row per spec, in the order given.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    status: dict[str, tuple[str, str, str]] = {}
    todo = []
    for spec in specs:
        if shard_paths(folder, spec)[0].exists():
            status[spec.name] = (spec.name, "skipped", "already done")
        else:
            todo.append(spec)
    if executor is not None or (workers > 1 and len(todo) > 1):
        with contextlib.ExitStack() as stack:
            pool = executor or stack.enter_context(worker_pool(workers))
            futures = {pool.submit(work, spec): spec for spec in todo}
            for future in as_completed(futures):
                spec = futures[future]
                status[spec.name] = _finish(folder, spec, future.result)
    else:
        for spec in todo:
            status[spec.name] = _finish(folder, spec, functools.partial(work, spec))
    rows = [status[spec.name] for spec in specs]
    return pd.DataFrame(rows, columns=["shard", "state", "message"])


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """``workers`` spawned worker processes (no fork of a process with threads), shut down on
    exit."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool


def _finish(
    folder: Path, spec: ShardSpec, rows_of_shard: Callable[[], pd.DataFrame]
) -> tuple[str, str, str]:
    """Write a shard's results atomically (or its failure file) and return its status row."""
    results, failure = shard_paths(folder, spec)
    try:
        rows = rows_of_shard()
    except Exception as error:  # a crashed shard is reported, the others go on
        write_text_atomic(
            failure,
            json.dumps(
                {"shard": spec.name, "error": repr(error), "traceback": traceback.format_exc()},
                indent=2,
            ),
        )
        return spec.name, "failed", repr(error)
    write_csv_atomic(rows, results, index=False)
    failure.unlink(missing_ok=True)
    return spec.name, "done", f"{len(rows)} rows"


def collect_shards(
    folder: str | Path, specs: Sequence[ShardSpec]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge whatever shard results exist.

    Returns
    -------
    (DataFrame, DataFrame)
        The concatenated replicate rows (sorted, so merge order never matters) and a status
        table with one row per planned shard: ``state`` is "done", "failed" (with its error)
        or "missing" (not run yet, or killed before it finished).
    """
    folder = Path(folder)
    frames, status = [], []
    for spec in specs:
        results, failure = shard_paths(folder, spec)
        if results.exists():
            # "null" is a scenario name, not a missing value: only empty fields are NaN
            frames.append(pd.read_csv(results, keep_default_na=False, na_values=[""]))
            status.append((spec.name, "done", ""))
        elif failure.exists():
            status.append((spec.name, "failed", json.loads(failure.read_text())["error"]))
        else:
            status.append((spec.name, "missing", "no results file"))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(rows):
        rows = rows.sort_values(["scenario", "n", "method", "covariate", "replicate"])
        rows = rows.reset_index(drop=True)
    return rows, pd.DataFrame(status, columns=["shard", "state", "message"])
