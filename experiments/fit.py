"""One model fit and its report: ``python experiments/fit.py model=piecewise prior=sceptical``."""

from bayes_bcsm.runs.entry import hydra_entry
from bayes_bcsm.runs.fit import run

if __name__ == "__main__":
    hydra_entry(run)()
