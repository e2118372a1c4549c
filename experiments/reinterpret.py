"""Printed hazard ratios re-read the Bayesian way: ``python experiments/reinterpret.py``.

Re-reads the paper's Table 3 aHRs unless estimates are given, e.g.
``'reinterpret.estimates=[{name: x, hr: 0.75, lower: 0.55, upper: 1.02}]'``. The same as
``bayes-bcsm reinterpret ...`` (:mod:`bayes_bcsm.cli`).
"""

import sys

from bayes_bcsm.cli import main

if __name__ == "__main__":
    sys.exit(main(["reinterpret", *sys.argv[1:]]))
