"""Regenerate the reconstructed cohort from its config: ``python experiments/calibrate.py``.

``--search`` reruns the calibration search, ``--report DIR`` writes the calibration report. The
same as ``bayes-bcsm calibrate ...`` (:mod:`bayes_bcsm.runs.calibrate`).
"""

import sys

from bayes_bcsm.cli import run_calibrate

if __name__ == "__main__":
    sys.exit(run_calibrate(sys.argv[1:], prog="experiments/calibrate.py"))
