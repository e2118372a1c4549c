"""Immortal time on real data: ``python experiments/immortal_time.py``.

The Stanford heart transplants coded naively, time-dependently and by landmark, each with the
Bayesian Weibull and piecewise models beside Cox (``conf/experiment/immortal_time.yaml``), and
the paper's question answered by the committed simulation (``docs/immortal_time``; rerun that
with ``experiments/immortal_time_simulation.py``). The same as ``bayes-bcsm compare
experiment=immortal_time``; further overrides are passed on (e.g. ``sampler=quick``).
"""

import sys

from bayes_bcsm.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare", "experiment=immortal_time", *sys.argv[1:]]))
