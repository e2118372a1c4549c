"""The simulation study: ``python experiments/simulate.py experiment=simulation_study``.

Sharded over replicates: ``-m hydra/launcher=local experiment=simulation_study
simulation.shard=range(0,16)`` runs one shard per job; a final run without ``-m`` (or
``simulation.aggregate_only=true``) merges whatever shards exist and writes the report.
"""

from bayes_bcsm.runs.entry import hydra_entry
from bayes_bcsm.runs.simulate import run

if __name__ == "__main__":
    hydra_entry(run)()
