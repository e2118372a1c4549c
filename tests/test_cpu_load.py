"""Whether a core is free: other processes' CPU use measured from the kernel's figures."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bayes_bcsm import cpu_load
from bayes_bcsm.cpu_load import CpuSample, cpu_sample, others_cpu_use, spare_core

linux_only = pytest.mark.skipif(not cpu_load.PROC_STAT.exists(), reason="no /proc/stat")


def test_others_use_is_busy_time_less_own_over_the_interval():
    """2 s in which the CPUs were busy 3.0 s, 1.4 s of them this process's: 0.8 CPUs."""
    start, end = CpuSample(10.0, 100.0, 5.0), CpuSample(12.0, 103.0, 6.4)
    assert others_cpu_use(start, end) == pytest.approx(0.8)


def test_others_use_unmeasurable_without_kernel_figures_or_time():
    assert others_cpu_use(CpuSample(0.0, None, 0.0), CpuSample(5.0, None, 1.0)) is None
    assert others_cpu_use(CpuSample(0.0, 1.0, 0.0), CpuSample(0.2, 1.1, 0.1)) is None
    # ticks of 10 ms can put this process's time ahead of the CPUs': never below zero
    assert others_cpu_use(CpuSample(0.0, 1.0, 0.0), CpuSample(1.0, 1.99, 1.0)) == 0.0


def test_busy_time_read_from_proc_stat(tmp_path):
    """user + nice + system + irq + softirq + steal ticks (idle and iowait not) of the CPUs
    asked for, over the ticks per second; a file that cannot be read or parsed gives None."""
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  300 20 30 5000 70 1 2 3 0 0\n"
        "cpu0 100 20 30 2500 35 1 2 3 0 0\n"
        "cpu1 200 0 0 2500 35 0 0 0 0 0\n"
        "intr 12345 0 0\nctxt 999\n"
    )
    tick = os.sysconf("SC_CLK_TCK")
    assert cpu_load._busy_seconds(stat, {0}) == pytest.approx((100 + 20 + 30 + 1 + 2 + 3) / tick)
    assert cpu_load._busy_seconds(stat, {1}) == pytest.approx(200 / tick)
    assert cpu_load._busy_seconds(stat, {0, 1}) == pytest.approx(356 / tick)
    stat.write_text("cpu0 nonsense\n")
    assert cpu_load._busy_seconds(stat, {0}) is None
    assert cpu_load._busy_seconds(tmp_path / "missing", {0}) is None


@pytest.mark.parametrize(
    ("cpus", "others", "expected"),
    [
        (2, 0.0, True),
        (2, 0.5, True),
        (2, 0.7, False),
        (2, 1.6, False),
        (4, 2.4, True),
        (4, 2.6, False),
        (1, 0.0, False),
    ],
)
def test_spare_core_from_measured_use(monkeypatch, cpus, others, expected):
    """A worker when other work leaves a CPU beside the run's own, with half a CPU to spare."""
    monkeypatch.setattr(cpu_load, "usable_cpus", lambda: cpus)
    monkeypatch.setattr(cpu_load, "others_cpu_use", lambda start, end: others)
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))  # not consulted
    assert spare_core() is expected


@pytest.mark.parametrize(("load", "expected"), [(0.5, True), (1.0, True), (1.5, False)])
def test_spare_core_falls_back_on_the_load_average(monkeypatch, load, expected):
    """Unmeasurable (no /proc/stat, or too short an interval): the one-minute load average
    at most the CPUs minus one."""
    monkeypatch.setattr(cpu_load, "usable_cpus", lambda: 2)
    monkeypatch.setattr(cpu_load, "others_cpu_use", lambda start, end: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert spare_core() is expected


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


@linux_only
def test_a_busy_child_counts_and_this_process_does_not():
    """Measured on the real kernel: a child spinning for 1.5 s is close to one CPU of other
    work; this process spinning for 1.5 s is not other work."""
    start = cpu_sample()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import time\nt = time.perf_counter() + 1.5\nwhile time.perf_counter() < t: pass",
        ],
        check=True,
    )
    child = others_cpu_use(start, cpu_sample())
    start = cpu_sample()
    _spin(1.5)
    own = others_cpu_use(start, cpu_sample())
    assert child > 0.6
    assert own < child - 0.5
