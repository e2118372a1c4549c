"""The Hydra configs, installed as ``bayes_bcsm.conf`` (``pkg://bayes_bcsm.conf``); no Python code."""
