"""``python -m bayes_bcsm <command> [overrides]``: see :mod:`bayes_bcsm.cli`."""

from bayes_bcsm.cli import console_main

if __name__ == "__main__":
    console_main()
