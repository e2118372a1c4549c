"""Several variants of one experiment in one comparison report.

``python experiments/compare.py experiment=bayes_vs_cox`` (what ``make run`` does), or
``experiment=model_comparison`` / ``experiment=prior_sensitivity``, or your own variants:
``'compare.variants=["model=weibull","model=exponential prior=sceptical"]'``.
"""

from bayes_bcsm.runs.compare import run
from bayes_bcsm.runs.entry import hydra_entry

if __name__ == "__main__":
    hydra_entry(run)()
