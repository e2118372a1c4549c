"""Tables 2 and 3 and Figs 1-3 of the paper recomputed: ``python experiments/reproduce_paper.py``.

Runs the ``paper_reproduction`` experiment unless another is given on the command line.
"""

import sys

from bayes_bcsm.runs.entry import hydra_entry
from bayes_bcsm.runs.reproduce import run

if __name__ == "__main__":
    if not any(arg.startswith("experiment=") for arg in sys.argv[1:]):
        sys.argv.append("experiment=paper_reproduction")
    hydra_entry(run)()
