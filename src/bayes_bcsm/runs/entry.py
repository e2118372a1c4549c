"""The one way experiments become command-line programs (thin ``@hydra.main`` wrappers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from bayes_bcsm.config import register_configs
from bayes_bcsm.resources import CONF_SEARCH_PATH


def hydra_entry(run: Callable[[DictConfig, Path], object]) -> Callable[[], None]:
    """Wrap ``run(cfg, output_dir)`` as a Hydra application over the packaged ``conf/config.yaml``.

    The returned function parses Hydra's command line (overrides, ``-m`` sweeps), calls
    ``run`` with Hydra's output folder, and prints where the report is.
    """
    register_configs()

    @hydra.main(version_base="1.3", config_path=CONF_SEARCH_PATH, config_name="config")
    def main(cfg: DictConfig) -> None:
        output_dir = Path(HydraConfig.get().runtime.output_dir)
        run(cfg, output_dir)
        print(f"report: {output_dir / 'report.html'}")

    return main
