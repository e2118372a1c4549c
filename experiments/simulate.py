"""The simulation study: ``python experiments/simulate.py experiment=simulation_study``.

Sharded over replicates: ``-m hydra/launcher=local experiment=simulation_study
simulation.shard=range(0,16)`` runs one shard per job; a final run without ``-m`` (or
``simulation.aggregate_only=true``) merges whatever shards exist and writes the report. The same
as ``bayes-bcsm simulate ...`` (:mod:`bayes_bcsm.cli`).
"""

import sys

from bayes_bcsm.cli import main

if __name__ == "__main__":
    sys.exit(main(["simulate", *sys.argv[1:]]))
