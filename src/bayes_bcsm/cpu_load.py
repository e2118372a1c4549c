"""How much of the machine's CPU other work is using now, measured rather than averaged.

A run decides whether a second process (the plotting worker) would find a core of its own. The
one-minute load average answers late: right after a previous run it still counts that run's two
processes, so a second ``make run`` started at once would see no core free although the
machine is idle. Where the kernel reports its CPU time (Linux ``/proc/stat``), the CPU time
spent by other processes is measured instead, over the interval since this module was imported
(the command line imports it first, so the interval is the seconds the run spends importing
its modelling stack): the busy time of the CPUs this process may run on, less this process's
own CPU time. Elsewhere, and over intervals too short to measure, the load average is used.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuSample", "cpu_sample", "others_cpu_use", "spare_core", "usable_cpus"]

#: Where the kernel reports the CPUs' time since boot (Linux); see proc_stat(5).
PROC_STAT = Path("/proc/stat")

#: Shortest interval (s) over which the CPU time of other processes is measured: ``/proc/stat``
#: counts in ticks of 10 ms, and a shorter interval says little about the next seconds.
MIN_INTERVAL_S = 0.5

#: A second process finds a core of its own when other work uses at most this much less than
#: the CPUs left beside the run's own process (in CPUs): on 2 CPUs, half a CPU.
_MARGIN_CPUS = 0.5


@dataclass(frozen=True)
class CpuSample:
    """The CPUs' busy time and this process's CPU time at one moment.

    Attributes
    ----------
    wall : float
        :func:`time.monotonic` (s).
    busy : float or None
        CPU seconds the CPUs this process may run on spent busy since boot (user, nice,
        system, irq, softirq and steal time), or None where the kernel does not report it.
    own : float
        CPU seconds this process has used (user + system, all its threads).
    """

    wall: float
    busy: float | None
    own: float


def _affinity() -> set[int] | None:
    """The CPUs this process may run on, None where the platform does not say."""
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None


def usable_cpus() -> int:
    """The number of CPUs this process may run on (its affinity where the platform reports
    it)."""
    cpus = _affinity()
    return len(cpus) if cpus is not None else os.cpu_count() or 1


def _busy_seconds(stat: Path = PROC_STAT, cpus: set[int] | None = None) -> float | None:
    """Busy CPU seconds since boot of the CPUs ``cpus`` (default: those this process may run
    on) from ``stat``, None when it cannot be read.

    Time stolen by a hypervisor counts as busy: the CPU was not this machine's to use.
    """
    cpus = _affinity() if cpus is None else cpus
    ticks = 0
    try:
        with stat.open() as file:
            for line in file:
                name, *fields = line.split()
                if not name.startswith("cpu"):
                    break  # the per-CPU lines come first
                if name == "cpu" or (cpus is not None and int(name[3:]) not in cpus):
                    continue
                user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
                ticks += user + nice + system + irq + softirq + steal
    except (OSError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_sample() -> CpuSample:
    """The CPU times now (:class:`CpuSample`)."""
    return CpuSample(time.monotonic(), _busy_seconds(), time.process_time())


#: Taken when the module is first imported: the start of the interval :func:`spare_core` measures.
_START = cpu_sample()


def others_cpu_use(start: CpuSample, end: CpuSample) -> float | None:
    """CPUs other processes kept busy on average between ``start`` and ``end`` (in CPUs,
    0 = none), or None when it cannot be measured (no kernel figures, or an interval shorter
    than :data:`MIN_INTERVAL_S`)."""
    interval = end.wall - start.wall
    if start.busy is None or end.busy is None or interval < MIN_INTERVAL_S:
        return None
    others = (end.busy - start.busy) - (end.own - start.own)
    return max(others, 0.0) / interval


def spare_core(start: CpuSample | None = None) -> bool:
    """Whether a second process would find a core of its own beside this one.

    True when there is more than one usable CPU and other processes kept at most the CPUs
    left beside this process less half a CPU busy since ``start`` (default: when this module
    was imported); where that cannot be measured, when the one-minute load average is at most
    the CPUs minus one. On a machine whose cores are taken by other work a worker would only
    add its own start-up.

    Parameters
    ----------
    start : CpuSample, optional
        The start of the interval measured.
    """
    cpus = usable_cpus()
    if cpus < 2:
        return False
    others = others_cpu_use(_START if start is None else start, cpu_sample())
    if others is not None:
        return others <= cpus - 1 - _MARGIN_CPUS
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        load = 0.0
    return load <= cpus - 1
