"""A fit's plots drawn in a second process while the run goes on fitting (both cores busy).

The figures of one fit (:func:`bayes_bcsm.report.fit_report.write_fit_artefacts`: rank, trace,
predictive check, forest, survival, Pareto k) cost more than a second of one core, and a
comparison run would otherwise draw them between two fits. :class:`FitPlotter` hands them to
one worker process, which writes the same files the same way (each atomically), while the run
compiles and samples its next model; figures that need no fit (the printed results re-read)
and the comparison report's figures are figure jobs (:meth:`FitPlotter.draw`), and when the run
waits for them it draws itself, from the last one back, those the worker has not started. Each
job is claimed, in memory the two processes share, by whichever process starts it first, so
the run can also take a job already sent to the worker but not begun there.

The worker is started when the plotter is made (forked where the platform can, so that it
inherits the modules already imported, and then imports the rest of the plotting stack; the
objects alive at the fork are frozen out of the garbage collector's passes until the worker
is done, so that neither process copies the pages they share only to mark them), and every
plot is waited for when it is closed, also when the run fails, so nothing already computed is
lost. A worker that dies (killed, or, where workers are spawned, a caller's script
that cannot be re-imported) costs no plot: what it had not drawn is drawn in the run's own
process.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import multiprocessing
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xarray as xr

    from bayes_bcsm.results import VariantFit

__all__ = ["FitPlotter"]

log = logging.getLogger(__name__)


def _worker_context() -> multiprocessing.context.BaseContext:
    """How the worker is started: forked where the platform can (it inherits the modules
    this process has imported, numpy, pandas, SciPy, matplotlib and ArviZ among them, about
    1.5 s of a core that a spawned worker spends importing them again), spawned elsewhere."""
    fork = "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if fork else "spawn")


#: Jobs a plotter can hand over with a claim (more are handed over without one: the run then
#: takes them only when they have not been passed to the worker yet).
_CLAIM_SLOTS = 1 << 16

#: In the worker: the claims it shares with the run (set by :func:`_start_worker`).
_WORKER_CLAIMS: tuple[Any, Any] | None = None


def _start_worker(claims: Any, lock: Any) -> None:
    """The worker's initialiser: keep the shared claims (one byte a job, 1 = started)."""
    global _WORKER_CLAIMS
    _WORKER_CLAIMS = (claims, lock)


#: Seconds to wait for the claims' lock, held only for a few instructions: longer means the
#: other process died holding it, and the job is left to the dead worker's clean-up.
_LOCK_TIMEOUT_S = 10.0


def _claim(claims: Any, lock: Any, slot: int) -> bool:
    """Mark job ``slot`` started; False when a process had started it already (or the lock
    cannot be had: :meth:`FitPlotter.wait` then runs what a dead worker left)."""
    if not lock.acquire(timeout=_LOCK_TIMEOUT_S):
        return False
    try:
        if claims[slot]:
            return False
        claims[slot] = 1
        return True
    finally:
        lock.release()


def _claimed(slot: int, write: Callable[..., object], args: tuple) -> object:
    """In the worker: run ``write(*args)`` unless the run claimed job ``slot`` first (then
    nothing, None)."""
    if not _claim(*_WORKER_CLAIMS, slot):
        return None
    return write(*args)


def _start() -> None:
    """The worker's first job: import the plotting stack before the first fit is handed over."""
    import bayes_bcsm.report.fit_report  # noqa: F401


def _draw_chains(idata: xr.DataTree, folder: Path) -> dict[str, Path]:
    """:func:`bayes_bcsm.report.fit_report.write_chain_plots` (imported where it runs)."""
    from bayes_bcsm.report import fit_report

    return fit_report.write_chain_plots(idata, folder)


def _draw_results(variant: VariantFit, folder: Path) -> dict[str, Path]:
    """:func:`bayes_bcsm.report.fit_report.write_result_plots` (imported where it runs)."""
    from bayes_bcsm.report import fit_report

    return fit_report.write_result_plots(variant, folder)


#: The groups of a fit's DataTree its plots read: the draws, and the sampler's statistics (the
#: trace plot marks divergences).
_PLOTTED_GROUPS = ("posterior", "sample_stats")


def _plotted(idata: xr.DataTree) -> xr.DataTree:
    """``idata`` with only the groups the plots read (:data:`_PLOTTED_GROUPS`): what is sent
    to the worker, without the pointwise log-likelihood and the data."""
    import xarray as xr

    groups = [g for g in _PLOTTED_GROUPS if g in idata.children]
    return xr.DataTree.from_dict({f"/{g}": idata[g].dataset for g in groups})


def _portable(variant: VariantFit) -> VariantFit:
    """The variant as the worker needs it: without its PyMC model (not picklable), its
    predictive draws and the groups of its DataTree that no plot reads."""
    if variant.fit is None:
        return variant
    fit = dataclasses.replace(variant.fit, model=None, idata=_plotted(variant.fit.idata))
    return dataclasses.replace(variant, fit=fit, predictive=None)


class FitPlotter:
    """Draws fits' plots in a worker process (``background=True``) or at once.

    Use as a context manager; leaving it waits for every plot and re-raises the first
    failure of the worker (unless the block itself failed: then its error is raised).

    Parameters
    ----------
    background : bool
        Draw in a worker process; False draws in this process, at :meth:`submit`.
    """

    def __init__(self, background: bool) -> None:
        self._pending: list[tuple[Future, tuple[Callable, tuple] | None, int | None]] = []
        self._chains: set[Path] = set()  # folders whose chain plots are handed over
        self._pool = None
        self._frozen = False
        if background:
            context = _worker_context()
            self._claims = context.RawArray("b", _CLAIM_SLOTS)
            self._lock = context.Lock()
            self._slots = iter(range(_CLAIM_SLOTS))
            self._pool = ProcessPoolExecutor(
                1,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self._claims, self._lock),
            )
            self._frozen = context.get_start_method() == "fork"
            if self._frozen:
                # the objects alive now are shared with the forked worker page by page: kept
                # out of the collector's passes, which write to every object they visit and so
                # copy its page in whichever process visits it, until the worker is done
                gc.freeze()
            with warnings.catch_warnings():
                # the first job starts the worker: forking a process whose only other threads
                # are idle BLAS or sampler pools is safe for a worker that only draws
                warnings.filterwarnings("ignore", "This process .* is multi-threaded")
                self._pending.append((self._pool.submit(_start), None, None))

    def submit_chains(self, idata: xr.DataTree, folder: Path) -> None:
        """Draw the rank and trace plots of a fit (``idata``: its DataTree) into ``folder`` (in
        the worker, or now): they need the draws and the sampler's statistics alone, so they
        can be handed over as soon as the draws exist."""
        if folder in self._chains:
            return
        self._chains.add(folder)
        self._hand_over((_draw_chains, (_plotted(idata), folder)), (_draw_chains, (idata, folder)))

    def submit(self, variant: VariantFit, folder: Path) -> None:
        """Draw ``variant``'s plots into ``folder`` (in the worker, or now), as two jobs, the
        chains' plots (unless :meth:`submit_chains` handed them over already) and the
        results': when the run waits, it can take either itself."""
        self.submit_chains(variant.fit.idata, folder)
        there = (_draw_results, (_portable(variant), folder))
        self._hand_over(there, (_draw_results, (variant, folder)))

    def draw(self, write: Callable[..., object], *args: object) -> None:
        """Run ``write(*args)``, a module-level function writing a figure from picklable
        tables (:func:`bayes_bcsm.report.plots.draw_figure`), in the worker or now."""
        self._hand_over((write, args), (write, args))

    def _hand_over(self, there: tuple[Callable, tuple], here: tuple[Callable, tuple]) -> None:
        """Queue ``there`` (function, arguments) for the worker, or run ``here`` now."""
        try:
            if self._pool is not None:
                slot = next(self._slots, None)
                if slot is None:
                    future = self._pool.submit(there[0], *there[1])
                else:
                    future = self._pool.submit(_claimed, slot, *there)
                self._pending.append((future, here, slot))
                return
        except BrokenProcessPool:
            log.warning("the plotting worker process ended early: plotting in this process")
        here[0](*here[1])

    def wait(self) -> None:
        """Wait for every plot handed over; re-raise the first failure.

        Meanwhile this process draws, from the last one back, the plots the worker has not
        started (each drawn once, by whichever process claims it first), and those a dead
        worker left."""
        pending, self._pending = self._pending, []
        done_here = set()
        for index in reversed(range(len(pending))):
            future, job, slot = pending[index]
            if job is None:
                continue
            if future.cancel() or (slot is not None and _claim(self._claims, self._lock, slot)):
                job[0](*job[1])
                done_here.add(index)
        errors = []
        for index, (future, job, _) in enumerate(pending):
            if future.cancelled():
                continue
            error = future.exception()
            if isinstance(error, BrokenProcessPool):
                if job is not None and index not in done_here:
                    job[0](*job[1])
            elif error is not None:
                errors.append(error)
        if errors:
            raise errors[0]

    def __enter__(self) -> FitPlotter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            if self._frozen:
                gc.unfreeze()
