"""Tables 2 and 3 and Figs 1-3 of the paper recomputed: ``python experiments/reproduce_paper.py``.

Runs the ``paper_reproduction`` experiment unless another is given on the command line.
"""

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from bayes_bcsm.config import register_configs
from bayes_bcsm.runs.reproduce import run

register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    """Recompute the paper's analyses; the report lands in Hydra's output folder."""
    output_dir = HydraConfig.get().runtime.output_dir
    run(cfg, output_dir)
    print(f"report: {output_dir}/report.html")


if __name__ == "__main__":
    if not any(arg.startswith("experiment=") for arg in sys.argv[1:]):
        sys.argv.append("experiment=paper_reproduction")
    main()
