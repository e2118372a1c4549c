"""Several variants of one experiment in one comparison report.

``python experiments/compare.py experiment=bayes_vs_cox`` (what ``make run`` does), or
``experiment=model_comparison`` / ``experiment=prior_sensitivity``, or your own variants:
``'compare.variants=["model=weibull","model=exponential prior=sceptical"]'``.
"""

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from bayes_bcsm.config import register_configs
from bayes_bcsm.runs.compare import run

register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    """Fit every variant; the comparison report lands in Hydra's output folder."""
    output_dir = HydraConfig.get().runtime.output_dir
    run(cfg, output_dir)
    print(f"report: {output_dir}/report.html")


if __name__ == "__main__":
    main()
