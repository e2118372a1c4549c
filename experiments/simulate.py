"""The simulation study: ``python experiments/simulate.py experiment=simulation_study``.

Sharded over replicates: ``-m hydra/launcher=local experiment=simulation_study
simulation.shard=range(0,16)`` runs one shard per job; a final run without ``-m`` (or
``simulation.aggregate_only=true``) merges whatever shards exist and writes the report.
"""

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from bayes_bcsm.config import register_configs
from bayes_bcsm.runs.simulate import run

register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    """Run the configured shards, aggregate, report (in ``simulation.run_dir``)."""
    output_dir = HydraConfig.get().runtime.output_dir
    result = run(cfg, output_dir)
    print(f"report: {result.run_dir}/report.html ({result.seconds:.1f} s)")


if __name__ == "__main__":
    main()
