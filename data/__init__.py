"""The shipped data sets, installed as ``bayes_bcsm.bundled`` (see README.md here); no Python code."""
