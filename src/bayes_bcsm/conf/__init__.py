"""The Hydra configs, shipped as package data (``pkg://bayes_bcsm.conf``); no Python code."""
