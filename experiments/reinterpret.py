"""Re-read printed hazard ratios the Bayesian way (no patient data needed).

``python experiments/reinterpret.py`` re-reads the paper's Table 3 aHRs; any published HR::

    python experiments/reinterpret.py \
        'reinterpret.estimates=[{name: x, hr: 0.75, lower: 0.55, upper: 1.02}]'
"""

from bayes_bcsm.runs.entry import hydra_entry
from bayes_bcsm.runs.reinterpret import run

if __name__ == "__main__":
    hydra_entry(run)()
