"""Several variants of one experiment in one comparison report.

``python experiments/compare.py experiment=bayes_vs_cox`` (what ``make run`` does, and the
default without an experiment), or
``experiment=model_comparison`` / ``experiment=prior_sensitivity``, or your own variants:
``'compare.variants=["model=weibull","model=exponential prior=sceptical"]'``. The same as
``bayes-bcsm compare ...`` (:mod:`bayes_bcsm.cli`).
"""

import sys

from bayes_bcsm.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare", *sys.argv[1:]]))
