"""One model fit and its report: ``python experiments/fit.py model=piecewise prior=sceptical``.

The same as ``bayes-bcsm fit ...`` (:mod:`bayes_bcsm.cli`).
"""

import sys

from bayes_bcsm.cli import main

if __name__ == "__main__":
    sys.exit(main(["fit", *sys.argv[1:]]))
