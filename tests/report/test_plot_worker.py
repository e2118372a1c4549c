"""A fit's plots drawn in a worker process (:mod:`bayes_bcsm.report.plot_worker`): the same
files, pixel for pixel, as drawn in the run's own process; a failure reaches the run; plots
handed over are written even when the run fails meanwhile."""

from __future__ import annotations

import gc
import multiprocessing
import os
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from bayes_bcsm.report.fit_report import write_fit_artefacts
from bayes_bcsm.report.plot_worker import FitPlotter
from bayes_bcsm.runs.common import prepare_run
from bayes_bcsm.runs.variant import fit_variant
from bayes_bcsm.settings import parse_settings
from tests.runs.conftest import compose_config

#: each test starts a worker process (its imports take several seconds)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    settings = parse_settings(compose_config(["sampler=quick", "seed=3"]))
    inputs = prepare_run(settings, tmp_path_factory.mktemp("run"))
    return fit_variant(settings, inputs, "model=weibull")


def _pngs(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: mpimg.imread(p) for p in sorted(folder.glob("*.png"))}


def test_worker_draws_the_same_plots_as_the_run_itself(variant, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    written = write_fit_artefacts(variant, here)
    with FitPlotter(background=True) as plotter:
        plotter.submit(variant, there)
    ours, theirs = _pngs(here), _pngs(there)
    assert set(ours) == {p.name for p in written.values()}
    assert set(theirs) == set(ours)
    for name, pixels in ours.items():
        np.testing.assert_array_equal(theirs[name], pixels, err_msg=name)
    assert not list(there.glob(".*"))  # no temporary file left behind


def test_a_failed_plot_reaches_the_run_and_the_others_are_written(variant, tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder is expected")
    with pytest.raises(OSError), FitPlotter(background=True) as plotter:
        plotter.submit(variant, blocked)
        plotter.submit(variant, good)
    assert (good / "rank.png").is_file() and (good / "survival.png").is_file()


def test_plots_handed_over_are_written_when_the_run_fails(variant, tmp_path):
    with pytest.raises(RuntimeError, match="a later variant failed"):
        with FitPlotter(background=True) as plotter:
            plotter.submit(variant, tmp_path)
            raise RuntimeError("a later variant failed")
    assert (tmp_path / "rank.png").is_file() and (tmp_path / "forest.png").is_file()


def test_plots_are_drawn_here_when_the_worker_dies(variant, tmp_path):

    early, late = tmp_path / "early", tmp_path / "late"
    early.mkdir(), late.mkdir()
    with FitPlotter(background=True) as plotter:
        plotter.submit(variant, early)
        plotter._pool.submit(os._exit, 1)  # the worker dies (e.g. killed)
        plotter.submit(variant, late)
    for folder in (early, late):
        assert {"rank.png", "trace.png", "forest.png", "survival.png"} <= {
            p.name for p in folder.iterdir()
        }


def _drawn_by(path: Path) -> None:
    """A figure job that records which process ran it (one line per run)."""
    with path.open("a") as file:
        file.write(f"{os.getpid()}\n")


def test_a_figure_job_is_drawn_by_the_worker_pixel_for_pixel(variant, tmp_path):
    from bayes_bcsm.report.plots import draw_figure, plot_forest, save_figure

    save_figure(plot_forest(variant.hazard_ratios), tmp_path / "here.png")
    with FitPlotter(background=True) as plotter:
        plotter.draw(draw_figure, tmp_path / "there.png", plot_forest, variant.hazard_ratios)
        plotter.draw(_drawn_by, tmp_path / "pid")
        for future, *_ in plotter._pending:  # the worker runs them (none left for this process)
            future.result(timeout=300)
    assert int((tmp_path / "pid").read_text()) != os.getpid()
    np.testing.assert_array_equal(
        mpimg.imread(tmp_path / "there.png"), mpimg.imread(tmp_path / "here.png")
    )


def test_waiting_draws_here_what_the_worker_has_not_started(tmp_path):
    """The worker is kept busy: the six jobs queued behind it, also those already passed to
    it, are run by the run's process when it waits, each job once (the worker skips them)."""
    import time

    with FitPlotter(background=True) as plotter:
        plotter._pool.submit(time.sleep, 5)
        for i in range(6):
            plotter.draw(_drawn_by, tmp_path / f"job{i}")
        plotter.wait()
    runs = [(tmp_path / f"job{i}").read_text().split() for i in range(6)]
    assert all(len(pid) == 1 for pid in runs)
    assert [int(pid[0]) for pid in runs] == [os.getpid()] * 6


def test_a_job_the_worker_started_is_not_run_again_here(tmp_path):
    """A job the worker has begun is left to it: the run waits for it, and it runs once."""
    with FitPlotter(background=True) as plotter:
        plotter.draw(_slow_drawn_by, tmp_path / "job")
        while not (tmp_path / "job").exists():  # the worker has claimed and begun it
            pass
        plotter.wait()
    assert [int(pid) for pid in (tmp_path / "job").read_text().split()] != [os.getpid()]
    assert len((tmp_path / "job").read_text().split()) == 1


def _slow_drawn_by(path: Path) -> None:
    """:func:`_drawn_by`, taking a second after it has begun (the file exists at once)."""
    import time

    path.touch()
    time.sleep(1)
    _drawn_by(path)


def test_chain_plots_handed_over_after_sampling_are_not_drawn_again(variant, tmp_path):
    """fit_variant hands the rank and trace plots over as soon as the draws exist; handing the
    whole variant over afterwards adds only the results' plots."""
    with FitPlotter(background=True) as plotter:
        plotter.submit_chains(variant.fit.idata, tmp_path)
        plotter.submit(variant, tmp_path)
        jobs = [job[0].__name__ for _, job, _ in plotter._pending if job is not None]
    assert jobs == ["_draw_chains", "_draw_results"]
    assert {"rank.png", "trace.png", "forest.png", "survival.png"} <= {
        p.name for p in tmp_path.iterdir()
    }


def test_a_claim_never_waits_for_a_lock_a_dead_process_holds(monkeypatch):
    """A worker killed while holding the claims' lock does not hang the run: the claim fails
    (the dead worker's jobs are then run here, as for any dead worker)."""
    import multiprocessing

    import bayes_bcsm.report.plot_worker as worker

    monkeypatch.setattr(worker, "_LOCK_TIMEOUT_S", 0.1)
    claims, lock = multiprocessing.RawArray("b", 4), multiprocessing.Lock()
    assert worker._claim(claims, lock, 0) and not worker._claim(claims, lock, 0)
    lock.acquire()  # as if held by a process that died
    assert not worker._claim(claims, lock, 1)
    assert claims[1] == 0


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="workers are spawned here"
)
def test_objects_shared_with_a_forked_worker_are_frozen_until_it_is_done():
    """Forked: the objects alive at the fork leave the collector's passes (gc.freeze) while
    the worker runs, and return to them when the plotter is closed."""
    before = gc.get_freeze_count()
    with FitPlotter(background=True) as plotter:
        assert plotter._pool is not None
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == before
    with FitPlotter(background=False):
        assert gc.get_freeze_count() == before


def test_the_worker_is_sent_only_what_the_plots_read(variant):
    """No PyMC model, predictive draws, pointwise log-likelihood or data go to the worker: the
    draws and the sampler's statistics (the plots drawn from them are compared pixel for
    pixel above)."""
    from bayes_bcsm.report.plot_worker import _portable

    sent = _portable(variant)
    assert set(sent.fit.idata.children) == {"posterior", "sample_stats"}
    assert {"log_likelihood", "observed_data"} <= set(variant.fit.idata.children)
    assert sent.fit.model is None and sent.predictive is None
    assert sent.fit.idata["posterior"].dataset.identical(variant.fit.idata["posterior"].dataset)
